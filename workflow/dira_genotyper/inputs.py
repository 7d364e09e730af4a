"""Sample sheet and input-file checks that run before any expensive work.

Every error names the sample, the file and the fix. Checks that need to read whole files (FASTQ read counts)
run in the per-sample `validate_input` rule; everything cheap (headers, EOF markers, names) runs at parse time.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from .errors import InputError

SAMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KNOWN_COLUMNS = ["sample", "fq1", "fq2", "bam", "family", "father", "mother", "sex"]
SEX_VALUES = {"": "unknown", "unknown": "unknown", "u": "unknown", "0": "unknown", "m": "male", "male": "male",
              "1": "male", "f": "female", "female": "female", "2": "female"}
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
CRAM3_EOF = bytes.fromhex(  # the CRAM 3.x end-of-file container (CRAM specification, section 9)
    "0f000000ffffffff0fe0454f46000000000100" "05bdd94f0001000606010001000100ee63014b"
)


@dataclass
class Sample:
    name: str
    kind: str  # fastq | bam | cram
    fq1: str = ""
    fq2: str = ""
    bam: str = ""
    family: str = ""
    father: str = ""
    mother: str = ""
    sex: str = "unknown"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "sample": self.name, "kind": self.kind, "fq1": self.fq1, "fq2": self.fq2, "bam": self.bam,
            "family": self.family or None, "father": self.father or None, "mother": self.mother or None,
            "sex": self.sex,
        }


def read_sample_sheet(path: str | os.PathLike) -> list[Sample]:
    """Parse and check the sample sheet (tab-separated, header row, '#' comments allowed)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"sample sheet {path} does not exist: set `samples:` in config/config.yaml to your sheet")
    lines = [ln.rstrip("\r\n") for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputError(f"sample sheet {path} is empty: add a header row `sample<TAB>fq1<TAB>fq2<TAB>bam` and rows")
    header = lines[0].split("\t")
    unknown = [c for c in header if c not in KNOWN_COLUMNS]
    if unknown:
        raise InputError(
            f"sample sheet {path}: unknown column(s) {', '.join(unknown)}; allowed columns are "
            f"{', '.join(KNOWN_COLUMNS)} (tab-separated). Rename or remove the column."
        )
    if "sample" not in header:
        raise InputError(f"sample sheet {path}: the header has no `sample` column")
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) > len(header):
            raise InputError(f"sample sheet {path} line {lineno}: {len(cells)} cells but {len(header)} columns")
        row = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(header)}
        name = row["sample"]
        if not SAMPLE_NAME.match(name):
            raise InputError(
                f"sample sheet {path} line {lineno}: sample name {name!r} is not allowed; use letters, digits, "
                "'.', '_' or '-', starting with a letter or digit"
            )
        if name in seen:
            raise InputError(
                f"sample sheet {path}: sample {name!r} appears twice (lines {seen[name]} and {lineno}); "
                "sample names must be unique"
            )
        seen[name] = lineno
        has_fq = bool(row.get("fq1") or row.get("fq2"))
        has_bam = bool(row.get("bam"))
        if has_fq and has_bam:
            raise InputError(
                f"sample {name} (sheet line {lineno}): both FASTQ (fq1/fq2) and bam are given; give exactly one "
                "input kind per row"
            )
        if not has_fq and not has_bam:
            raise InputError(f"sample {name} (sheet line {lineno}): no input; give fq1+fq2 or bam")
        if has_fq and not (row.get("fq1") and row.get("fq2")):
            raise InputError(f"sample {name} (sheet line {lineno}): paired FASTQ needs both fq1 and fq2")
        sex = SEX_VALUES.get(row.get("sex", "").lower())
        if sex is None:
            raise InputError(f"sample {name} (sheet line {lineno}): sex {row['sex']!r} is not one of M, F or empty")
        if has_bam:
            kind = "cram" if row["bam"].lower().endswith(".cram") else "bam"
        else:
            kind = "fastq"
        samples.append(Sample(name, kind, row.get("fq1", ""), row.get("fq2", ""), row.get("bam", ""),
                              row.get("family", ""), row.get("father", ""), row.get("mother", ""), sex))
    if not samples:
        raise InputError(f"sample sheet {path} has a header but no samples")
    names = {s.name for s in samples}
    for s in samples:
        for role in ("father", "mother"):
            parent = getattr(s, role)
            if parent and parent not in names:
                raise InputError(
                    f"sample {s.name}: {role} {parent!r} is not a sample in the sheet; add the parent's row or "
                    f"leave the {role} cell empty"
                )
            if parent == s.name:
                raise InputError(f"sample {s.name} is named as its own {role}")
    return samples


# --- reference and builds -------------------------------------------------------------------------------


@dataclass
class Naming:
    """How the reference names the resources' contigs (resources always say `chr2`)."""

    mapping: dict[str, str]  # resource contig -> reference contig

    def to_ref(self, contig: str) -> str:
        return self.mapping.get(contig, contig)

    def to_resource(self, contig: str) -> str:
        inverse = {v: k for k, v in self.mapping.items()}
        return inverse.get(contig, contig)


def contig_candidates(name: str) -> list[str]:
    return [name, name[3:]] if name.startswith("chr") else [name, f"chr{name}"]


def read_fai(reference: str) -> dict[str, int]:
    fai = f"{reference}.fai"
    if not os.path.exists(reference):
        raise InputError(f"reference FASTA {reference} does not exist: set `reference:` in config/config.yaml")
    if not os.path.exists(fai):
        try:
            pysam.faidx(reference)
        except Exception as exc:  # noqa: BLE001 - pysam raises several types
            raise InputError(
                f"reference {reference} has no .fai index and it could not be made ({exc}); run "
                f"`samtools faidx {reference}` (bgzipped FASTA also needs .gzi)"
            ) from exc
    lengths = {}
    with open(fai) as handle:
        for line in handle:
            name, length, *_ = line.split("\t")
            lengths[name] = int(length)
    return lengths


def load_build_meta(resources_dir: str, build: str) -> dict:
    path = Path(resources_dir) / build / "build.json"
    if not path.exists():
        raise InputError(f"no resources for build {build!r} in {resources_dir}; known builds: "
                         f"{', '.join(known_builds(resources_dir))}")
    return json.loads(path.read_text())


def known_builds(resources_dir: str) -> list[str]:
    return sorted(p.parent.name for p in Path(resources_dir).glob("*/build.json"))


def detect_build(contig_lengths: dict[str, int], resources_dir: str) -> tuple[str | None, str | None]:
    """Which build's locus contig (by name, with or without `chr`, and length) this header or FASTA has."""
    for build in known_builds(resources_dir):
        meta = load_build_meta(resources_dir, build)
        for candidate in contig_candidates(meta["locus_contig"]):
            if contig_lengths.get(candidate) == meta["locus_contig_length"]:
                return build, candidate
    return None, None


def describe_locus_contig(contig_lengths: dict[str, int]) -> str:
    found = [f"{n} ({contig_lengths[n]:,} bp)" for n in ("chr2", "2") if n in contig_lengths]
    return ", ".join(found) if found else "no chr2/2 contig"


def resolve_reference(reference: str, build: str, resources_dir: str) -> tuple[str, Naming]:
    """Check the reference has the locus contig of the build (auto-detected if `auto`) and learn its naming."""
    lengths = read_fai(reference)
    detected, contig = detect_build(lengths, resources_dir)
    if detected is None:
        raise InputError(
            f"reference {reference} does not contain the IL1RN locus contig of any known build "
            f"({', '.join(known_builds(resources_dir))}): it has {describe_locus_contig(lengths)}. "
            "Point `reference:` at a GRCh38 or GRCh37 FASTA (or the synthetic test reference)."
        )
    if build not in ("auto", detected):
        raise InputError(
            f"config says build {build} but reference {reference} is {detected} (chr2 length "
            f"{lengths[contig]:,}); set `build: {detected}` or `build: auto`, or use a {build} reference"
        )
    meta = load_build_meta(resources_dir, detected)
    mapping = {meta["locus_contig"]: contig}
    for extra in meta.get("extra_contigs", {}):
        name = next((c for c in contig_candidates(extra) if c in lengths), None)
        if name is None:
            raise InputError(f"reference {reference} lacks control contig {extra!r} required by build {detected}")
        mapping[extra] = name
    return detected, Naming(mapping)


# --- per-sample file checks ------------------------------------------------------------------------------


def _ends_with(path: str, marker: bytes) -> bool:
    """Whether the file ends with an end-of-file marker (BGZF EOF block, CRAM EOF container)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size < len(marker):
            return False
        handle.seek(size - len(marker))
        return handle.read() == marker


def find_index(path: str) -> str | None:
    candidates = [f"{path}.bai", f"{path}.csi", re.sub(r"\.bam$", ".bai", path), f"{path}.crai",
                  re.sub(r"\.cram$", ".crai", path)]
    return next((c for c in candidates if c != path and os.path.exists(c)), None)


def check_alignment_header(sample: Sample, reference: str, build: str, resources_dir: str,
                           ref_naming: Naming) -> dict:
    """Cheap checks of a BAM/CRAM: exists, not truncated, readable header, build and contig naming."""
    path = sample.bam
    label = f"sample {sample.name}: {sample.kind.upper()} {path}"
    if not os.path.exists(path):
        raise InputError(f"{label} does not exist; fix the `bam` path in the sample sheet")
    if os.path.getsize(path) == 0:
        raise InputError(f"{label} is empty (0 bytes); re-export it from your aligner")
    if sample.kind == "bam" and not _ends_with(path, BGZF_EOF):
        raise InputError(f"{label} is truncated or corrupt (no BGZF end-of-file marker); copy it again or "
                         "re-create it, then check it with `samtools quickcheck`")
    if sample.kind == "cram" and not _ends_with(path, CRAM3_EOF):
        raise InputError(f"{label} is truncated or corrupt (no CRAM end-of-file container); copy it again")
    try:
        handle = pysam.AlignmentFile(path, "rc" if sample.kind == "cram" else "rb", reference_filename=reference,
                                     check_sq=False)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{label} cannot be opened ({exc}); check it with `samtools quickcheck -v`") from exc
    with handle:
        lengths = dict(zip(handle.references, handle.lengths))
        read_groups = handle.header.to_dict().get("RG", [])
    detected, contig = detect_build(lengths, resources_dir)
    if detected is None:
        raise InputError(
            f"{label}: its header has {describe_locus_contig(lengths)}, which matches no known build "
            f"({', '.join(known_builds(resources_dir))}). Re-align to the configured reference {reference}."
        )
    if detected != build:
        raise InputError(
            f"{label} is aligned to {detected} but the run uses {build} (reference {reference}); re-align the "
            f"sample to {build}, or run this sample with a {detected} reference and `build: {detected}`"
        )
    naming_differs = contig != ref_naming.to_ref("chr2")
    if sample.kind == "cram" and naming_differs:
        raise InputError(
            f"{label} names the locus contig {contig!r} but the reference names it "
            f"{ref_naming.to_ref('chr2')!r}; a CRAM can only be decoded with the reference it was written "
            "against. Set `reference:` to that FASTA, or convert the CRAM to BAM with its own reference first."
        )
    if sample.kind == "cram":
        _check_cram_reference(sample, reference, label)
    index = find_index(path)
    return {
        "sample": sample.name,
        "kind": sample.kind,
        "path": path,
        "index": index,
        "contig": contig,
        "renamed_from": contig if naming_differs else None,
        "read_groups": [rg.get("SM") for rg in read_groups],
    }


def _check_cram_reference(sample: Sample, reference: str, label: str) -> None:
    """Decode one record against the configured reference so a wrong/missing reference fails now, clearly."""
    try:
        with pysam.AlignmentFile(sample.bam, "rc", reference_filename=reference) as handle:
            for _ in zip(range(1), handle.fetch(until_eof=True)):
                pass
    except Exception as exc:  # noqa: BLE001
        raise InputError(
            f"{label} cannot be decoded with reference {reference} ({exc}); a CRAM needs the exact FASTA it was "
            "written against: set `reference:` in config/config.yaml to it"
        ) from exc


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
    if read_pair_name(names[0]) != read_pair_name(names[1]):
        raise InputError(
            f"sample {sample.name}: fq1 and fq2 are not mates (first reads {names[0]!r} vs {names[1]!r}); "
            "give the R1 and R2 files of the same run, in the same order"
        )
    return {"sample": sample.name, "kind": "fastq", "fq1": sample.fq1, "fq2": sample.fq2}


def count_fastq(path: str) -> tuple[int, int]:
    """Reads and bases in a (gzipped) FASTQ; raises InputError on a truncated or malformed file."""
    opener = gzip.open if path.endswith(".gz") else open
    reads = bases = 0
    try:
        with opener(path, "rb") as handle:
            while True:
                header = handle.readline()
                if not header:
                    break
                seq, plus, qual = handle.readline(), handle.readline(), handle.readline()
                if not header.startswith(b"@") or not plus.startswith(b"+") or len(seq) != len(qual):
                    raise InputError(f"{path}: malformed FASTQ record {reads + 1}")
                reads += 1
                bases += len(seq) - 1
    except (OSError, EOFError) as exc:
        raise InputError(f"{path} is truncated or not gzip ({exc}) after {reads} reads; copy it again") from exc
    return reads, bases


def validate_fastq_pair(sample: Sample) -> dict:
    """Full check of a FASTQ pair: both readable to the end, same read count, not empty."""
    info = check_fastq_quick(sample)
    r1, b1 = count_fastq(sample.fq1)
    r2, b2 = count_fastq(sample.fq2)
    if r1 != r2:
        raise InputError(
            f"sample {sample.name}: fq1 {sample.fq1} has {r1:,} reads but fq2 {sample.fq2} has {r2:,}; the pair "
            "is incomplete or mismatched: re-export both files of the pair"
        )
    if r1 == 0:
        raise InputError(f"sample {sample.name}: FASTQ files have no reads")
    info.update({"read_pairs": r1, "bases": b1 + b2})
    return info
