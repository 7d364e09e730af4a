"""What a file given in the sample sheet really is, told from its name and first bytes before any tool opens it.

Each check turns a tool's puzzling message into the cause and the fix: an index in the `bam` column (the schema
said "Error validating row 0 of data frame"), SAM text named `.bam` ("truncated or corrupt"), the same file as
fq1 and fq2 (the run ended as "depth below 10"), Phred+64 qualities (accepted silently, so every base quality
was read 31 too high) and reads too short to place at the locus (the run ended as "too shallow").
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os

import pysam

from dira_genotyper.errors import InputError

INDEX_ENDINGS = (".bai", ".csi", ".crai")
#: Shortest read the workflow aligns: BWA-MEM seeds of 19 bp place shorter reads ambiguously in the IL-1 cluster's
#: paralogous sequence, and the copy-number and split-read evidence assume reads of at least this length.
MIN_READ_LENGTH = 50
#: FASTQ records whose qualities are looked at to tell the encoding.
QUALITY_RECORDS = 200


def alignment_kind(path: str, label: str) -> str:
    """`bam` or `cram` from the `bam` cell; an index file there is named as such, with the fix."""
    lower = path.lower()
    if lower.endswith(INDEX_ENDINGS):
        data = path[: -len(os.path.splitext(path)[1])]
        raise InputError(
            f"{label}: the `bam` column holds {path}, an index ({os.path.splitext(path)[1]}), not the alignments; "
            f"give the BAM/CRAM itself (e.g. {data if data.lower().endswith(('.bam', '.cram')) else data + '.bam'}) "
            "and keep the index beside it"
        )
    return "cram" if lower.endswith(".cram") else "bam"


def check_bam_bytes(path: str, label: str) -> None:
    """A `.bam` must be BGZF-compressed BAM: SAM text (or a plain file) is named, with the conversion."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head[:2] == b"\x1f\x8b":
        return
    text = head.decode("ascii", errors="replace")
    what = "SAM text" if text.startswith(("@HD", "@SQ", "@RG", "@PG", "@CO")) or "\t" in text else "not BAM"
    raise InputError(
        f"{label} is {what}, not a BAM (a BAM starts with the gzip bytes 1f 8b); convert it with "
        f"`samtools sort -o {os.path.splitext(path)[0]}.sorted.bam {path}` (or `samtools view -b`), index it "
        "(`samtools index`) and give the BAM in the sample sheet"
    )


def check_distinct_pair(fq1: str, fq2: str, label: str) -> None:
    """fq1 and fq2 must be two files: the same file twice pairs every read with itself."""
    if os.path.exists(fq1) and os.path.exists(fq2) and os.path.samefile(fq1, fq2):
        raise InputError(
            f"{label}: fq1 and fq2 are the same file ({fq1}); give the R1 file in fq1 and the R2 file in fq2"
        )


def _records(path: str, n: int) -> list[tuple[str, str]]:
    """(sequence, qualities) of the first ``n`` records."""
    opener = gzip.open if path.endswith(".gz") else open
    records = []
    with opener(path, "rt", errors="replace") as handle:
        while len(records) < n:
            lines = [handle.readline() for _ in range(4)]
            if not lines[3]:
                break
            records.append((lines[1].strip(), lines[3].strip()))
    return records


def check_fastq_content(path: str, label: str, records: int = QUALITY_RECORDS) -> None:
    """Phred+33 qualities and reads of at least :data:`MIN_READ_LENGTH` in the first records."""
    head = _records(path, records)
    quals = "".join(q for _, q in head)
    if quals and min(quals) >= "@" and max(quals) > "J":  # no byte below 64 and one above Phred+33's range
        raise InputError(
            f"{label} has Phred+64 base qualities (lowest quality character {min(quals)!r}, highest "
            f"{max(quals)!r}; Phred+33 uses '!' to 'J'); convert it to Phred+33, e.g. "
            "`seqtk seq -Q64 -V in.fastq.gz | gzip > out.fastq.gz`, and give the converted files"
        )
    lengths = sorted(len(s) for s, _ in head)
    if lengths and lengths[len(lengths) // 2] < MIN_READ_LENGTH:
        raise InputError(
            f"{label} has reads of {lengths[len(lengths) // 2]} bp (median of the first {len(lengths)}); "
            f"dira-genotyper needs reads of at least {MIN_READ_LENGTH} bp to place them in the IL-1 cluster: "
            "use the untrimmed reads, or another test for this sample"
        )


@functools.lru_cache(maxsize=64)
def reference_md5(reference: str, contig: str) -> str:
    """MD5 of a reference contig as the SAM/CRAM @SQ M5 tag defines it (upper case, no line breaks)."""
    md5 = hashlib.md5()
    with pysam.FastaFile(reference) as fasta:
        length = fasta.get_reference_length(contig)
        for start in range(0, length, 1 << 22):  # 4 Mb at a time: a human chr2 is 242 Mb
            md5.update(fasta.fetch(contig, start, min(start + (1 << 22), length)).upper().encode())
    return md5.hexdigest()


def check_cram_reference(sample, header: dict, reference: str, naming, label: str) -> None:
    """A CRAM decodes only against the exact FASTA it was written with. The @SQ M5 of each contig the workflow
    reads (the locus contig and the controls) must match the configured reference's (a one-base difference
    otherwise ended as "OSError: truncated file"); then one record is decoded, for CRAMs without M5 tags."""
    fix = (
        "a CRAM needs the exact FASTA it was written against: set `reference:` in config/config.yaml to it "
        "(the @SQ M5 tags name its contigs' MD5), or convert the CRAM to BAM with that FASTA first "
        "(`samtools view -b -T <its FASTA>`)"
    )
    wanted = set(naming.mapping.values())
    for sq in header.get("SQ", []):
        if sq.get("SN") in wanted and sq.get("M5") and sq["M5"].lower() != reference_md5(reference, sq["SN"]):
            raise InputError(
                f"{label} was written against another reference: its contig {sq['SN']} has MD5 {sq['M5']} but "
                f"{sq['SN']} of {reference} has {reference_md5(reference, sq['SN'])}; {fix}"
            )
    try:
        with pysam.AlignmentFile(sample.bam, "rc", reference_filename=reference) as handle:
            for _ in zip(range(1), handle.fetch(until_eof=True)):
                pass
    except Exception as exc:  # noqa: BLE001 - pysam raises several types
        raise InputError(f"{label} cannot be decoded with reference {reference} ({exc}); {fix}") from exc
