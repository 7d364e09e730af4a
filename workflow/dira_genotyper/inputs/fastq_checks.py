"""FASTQ pair checks: the parse-time look at the first record, the head check of `validate_input` in recruit
mode (the recruiter checks every record as it aligns), the full pass of `full` mode, and the error texts both
share (each names the sample, the file, the record and the fix).
"""

from __future__ import annotations

import gzip
import itertools
import os

from dira_genotyper.errors import InputError
from dira_genotyper.inputs.file_kinds import check_distinct_pair, check_fastq_content
from dira_genotyper.inputs.sheet import Sample


def _first_record(path: str, label: str) -> tuple[str, int]:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt") as handle:
            lines = [handle.readline() for _ in range(4)]
    except (OSError, EOFError) as exc:
        raise InputError(f"{label} is not a readable (gzip) FASTQ: {exc}") from exc
    if not lines[0]:
        raise InputError(f"{label} is empty (no reads); check the sequencing export")
    if not lines[0].startswith("@") or not lines[2].startswith("+") or len(lines[1]) != len(lines[3]):
        raise InputError(f"{label} is not FASTQ (first record malformed)")
    return lines[0][1:].split()[0], len(lines[1].strip())


def read_pair_name(name: str) -> str:
    return name[:-2] if name.endswith(("/1", "/2")) else name


def check_fastq_quick(sample: Sample) -> dict:
    """Exists, non-empty, FASTQ-shaped, R1/R2 first names agree (full counts are checked in a rule)."""
    names = []
    for key in ("fq1", "fq2"):
        path = getattr(sample, key)
        label = f"sample {sample.name}: {key} {path}"
        if not os.path.exists(path):
            raise InputError(f"{label} does not exist; fix the path in the sample sheet")
        if os.path.getsize(path) == 0:
            raise InputError(f"{label} is empty (0 bytes); check the sequencing export")
        names.append(_first_record(path, label)[0])
        check_fastq_content(path, label)
    check_distinct_pair(sample.fq1, sample.fq2, f"sample {sample.name}")
    if read_pair_name(names[0]) != read_pair_name(names[1]):
        raise InputError(
            f"sample {sample.name}: fq1 and fq2 are not mates (first reads {names[0]!r} vs {names[1]!r}); "
            "give the R1 and R2 files of the same run, in the same order"
        )
    return {"sample": sample.name, "kind": "fastq", "fq1": sample.fq1, "fq2": sample.fq2}


def count_fastq(path: str) -> tuple[int, int]:
    """Reads and bases in a (gzipped) FASTQ; raises InputError on a truncated or malformed file."""
    reads = bases = 0
    for _name, length in _fastq_records(path, path):
        reads += 1
        bases += length
    return reads, bases


def _fastq_records(path: str, label: str):
    """(read name, sequence length) of each record; InputError on a truncated or malformed file."""
    opener = gzip.open if path.endswith(".gz") else open
    reads = 0
    try:
        with opener(path, "rb") as handle:
            while True:
                header = handle.readline()
                if not header:
                    return
                seq, plus, qual = handle.readline(), handle.readline(), handle.readline()
                if not header.startswith(b"@") or not plus.startswith(b"+") or len(seq) != len(qual):
                    raise InputError(malformed_record_error(label, reads + 1))
                reads += 1
                name = header[1:].split(maxsplit=1)[0].decode(errors="replace") if header[1:].strip() else ""
                yield name, len(seq) - 1
    except (OSError, EOFError) as exc:
        raise InputError(f"{label} is truncated or not gzip ({exc}) after {reads} reads; copy it again") from exc


def malformed_record_error(label: str, record: int) -> str:
    return (
        f"{label}: malformed FASTQ record {record:,} (a record is 4 lines: @name, bases, '+', one quality per "
        "base); the file is damaged or not FASTQ: copy or re-export it"
    )


def pair_count_error(prefix: str, fq1: str, reads1: int, fq2: str, reads2: int) -> str:
    """`prefix`: "sample NAME: " or ""."""
    return (
        f"{prefix}fq1 {fq1} has {reads1:,} reads but fq2 {fq2} has {reads2:,}; the pair is incomplete or "
        "mismatched: re-export both files of the pair"
    )


def mate_order_error(prefix: str, fq1: str, fq2: str, record: int, name1: str, name2: str) -> str:
    return (
        f"{prefix}read {record:,} of fq1 {fq1} is {name1!r} but read {record:,} of fq2 {fq2} is {name2!r}; mates "
        "must be in the same order in both files (sort both by name, e.g. re-export them, or repair the pair with "
        "`bbmap repair.sh` or `seqkit pair`)"
    )


HEAD_RECORDS = 10_000  # records of each file read by the quick check (~0.1 s)
DEFERRED_CHECKS = (
    "read counts, record format, truncation and mate order of every pair: checked by the align rule's recruitment pass"
)


def check_fastq_head(sample: Sample, records: int = HEAD_RECORDS) -> dict:
    """The quick check for `alignment.mode: recruit`: both files readable, not empty, and their first `records`
    records well formed with mates in step. The recruiter checks every record in its own pass over the pair,
    so reading both files here as well would double the FASTQ work (~12 s CPU per million pairs in Python).
    """
    info = check_fastq_quick(sample)
    prefix = f"sample {sample.name}: "
    label1, label2 = f"{prefix}fq1 {sample.fq1}", f"{prefix}fq2 {sample.fq2}"
    first = itertools.islice(_fastq_records(sample.fq1, label1), records)
    second = itertools.islice(_fastq_records(sample.fq2, label2), records)
    n = 0
    for rec1, rec2 in itertools.zip_longest(first, second):
        if rec1 is None or rec2 is None:  # one file ends within the head: count the other's head
            n1 = n + (rec1 is not None) + sum(1 for _ in first)
            n2 = n + (rec2 is not None) + sum(1 for _ in second)
            raise InputError(pair_count_error(prefix, sample.fq1, n1, sample.fq2, n2))
        n += 1
        if read_pair_name(rec1[0]) != read_pair_name(rec2[0]):
            raise InputError(mate_order_error(prefix, sample.fq1, sample.fq2, n, rec1[0], rec2[0]))
    info.update({"checked_records": n, "full_check": DEFERRED_CHECKS})
    return info


def validate_fastq_pair(sample: Sample) -> dict:
    """Full check of a FASTQ pair: both readable to the end, same read count, mates in the same order, not empty.

    R1 and R2 are read in step: the n-th read of R1 must have the name of the n-th read of R2 (a `/1`, `/2`
    suffix aside), else BWA pairs reads of different fragments.
    """
    info = check_fastq_quick(sample)
    prefix = f"sample {sample.name}: "
    label1, label2 = f"{prefix}fq1 {sample.fq1}", f"{prefix}fq2 {sample.fq2}"
    r1 = r2 = bases = 0
    first = _fastq_records(sample.fq1, label1)
    second = _fastq_records(sample.fq2, label2)
    for rec1, rec2 in itertools.zip_longest(first, second):
        if rec1 is None or rec2 is None:
            r1 += rec1 is not None
            r2 += rec2 is not None
            bases += (rec1 or rec2)[1]
            continue
        r1 += 1
        r2 += 1
        bases += rec1[1] + rec2[1]
        if read_pair_name(rec1[0]) != read_pair_name(rec2[0]):
            raise InputError(mate_order_error(prefix, sample.fq1, sample.fq2, r1, rec1[0], rec2[0]))
    if r1 != r2:
        raise InputError(pair_count_error(prefix, sample.fq1, r1, sample.fq2, r2))
    if r1 == 0:
        raise InputError(f"sample {sample.name}: FASTQ files have no reads")
    info.update({"read_pairs": r1, "bases": bases})
    return info
