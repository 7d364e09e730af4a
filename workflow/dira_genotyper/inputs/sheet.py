"""Sample sheet and input-file checks that run before any expensive work.

Every error names the sample, the file and the fix. Checks that need to read whole files (FASTQ read counts)
run in the per-sample `validate_input` rule; everything cheap (headers, EOF markers, names) runs at parse time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from dira_genotyper.errors import InputError
from dira_genotyper.inputs.file_kinds import alignment_kind, check_bam_bytes, check_cram_reference

SAMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KNOWN_COLUMNS = ["sample", "fq1", "fq2", "bam", "family", "father", "mother", "sex", "bam_sm", "prenatal"]
#: Optional sheet column `prenatal`: yes for a fetal sample (the report then words the result as a fetal genotype).
PRENATAL_VALUES = {"": False, "no": False, "n": False, "yes": True, "y": True}
#: `bam_sm` value that accepts whatever SM (one or several) the BAM/CRAM read groups name.
ANY_SM = "*"
SEX_VALUES = {"": "unknown", "unknown": "unknown", "u": "unknown", "0": "unknown", "m": "male", "male": "male",
              "1": "male", "f": "female", "female": "female", "2": "female"}  # fmt: skip
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
CRAM3_EOF = bytes.fromhex(  # the CRAM 3.x end-of-file container (CRAM specification, section 9)
    "0f000000ffffffff0fe0454f4600000000010005bdd94f0001000606010001000100ee63014b"
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
    bam_sm: str = ""  # sheet column `bam_sm`: the @RG SM expected in the BAM/CRAM when not the sample name
    prenatal: bool = False  # sheet column `prenatal`: a fetal sample (chorionic villi, amniocytes)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {
            "sample": self.name,
            "kind": self.kind,
            "fq1": self.fq1,
            "fq2": self.fq2,
            "bam": self.bam,
            "family": self.family or None,
            "father": self.father or None,
            "mother": self.mother or None,
            "sex": self.sex,
        }
        if self.bam_sm:
            data["bam_sm"] = self.bam_sm
        if self.prenatal:
            data["prenatal"] = True
        return data


def read_sheet_rows(path: str | os.PathLike) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The one parser of the sample sheet: (header, [(line number, {column: cell})]).

    Tab-separated, UTF-8 (a byte-order mark is ignored), Windows line ends accepted; blank lines and lines that
    *start* with ``#`` are comments (a ``#`` inside a cell, e.g. in a path, is kept); every cell is stripped of
    surrounding whitespace. The workflow validates these rows against the samples schema and builds the samples
    from them, so both see the same cells.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"sample sheet {path} does not exist: set `samples:` in config/config.yaml to your sheet")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"sample sheet {path} is not UTF-8 text ({exc}); save it as UTF-8 tab-separated text") from exc
    numbered = [
        (n, ln.rstrip("\r\n"))
        for n, ln in enumerate(text.splitlines(), start=1)
        if ln.strip() and not ln.startswith("#")
    ]
    if not numbered:
        raise InputError(f"sample sheet {path} is empty: add a header row `sample<TAB>fq1<TAB>fq2<TAB>bam` and rows")
    header = [c.strip() for c in numbered[0][1].split("\t")]
    unknown = [c for c in header if c not in KNOWN_COLUMNS]
    if unknown:
        raise InputError(
            f"sample sheet {path}: unknown column(s) {', '.join(unknown)}; allowed columns are "
            f"{', '.join(KNOWN_COLUMNS)} (tab-separated). Rename or remove the column."
        )
    if "sample" not in header:
        raise InputError(f"sample sheet {path}: the header has no `sample` column")
    rows = []
    for lineno, line in numbered[1:]:
        cells = line.split("\t")
        if len(cells) > len(header):
            raise InputError(f"sample sheet {path} line {lineno}: {len(cells)} cells but {len(header)} columns")
        rows.append((lineno, {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(header)}))
    return header, rows


def read_sample_sheet(path: str | os.PathLike) -> list[Sample]:
    """Parse and check the sample sheet (tab-separated, header row, '#' comment lines allowed)."""
    from dira_genotyper.interpretation.pedigree import check_pedigree

    path = Path(path)
    _header, rows = read_sheet_rows(path)
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for lineno, row in rows:
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
        prenatal = PRENATAL_VALUES.get(row.get("prenatal", "").lower())
        if prenatal is None:
            raise InputError(f"sample {name} (sheet line {lineno}): prenatal {row['prenatal']!r} is not yes/no/empty")
        if row.get("bam_sm") and not has_bam:
            raise InputError(
                f"sample {name} (sheet line {lineno}): bam_sm {row['bam_sm']!r} is set but the sample has no bam; "
                "bam_sm only applies to BAM/CRAM rows: empty the cell"
            )
        kind = alignment_kind(row["bam"], f"sample {name} (sheet line {lineno})") if has_bam else "fastq"
        samples.append(
            Sample(
                name,
                kind,
                row.get("fq1", ""),
                row.get("fq2", ""),
                row.get("bam", ""),
                row.get("family", ""),
                row.get("father", ""),
                row.get("mother", ""),
                sex,
                row.get("bam_sm", ""),
                prenatal,
            )
        )
    if not samples:
        raise InputError(f"sample sheet {path} has a header but no samples")
    check_pedigree(samples, {s.name: seen[s.name] for s in samples})
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
        raise InputError(
            f"no resources for build {build!r} in {resources_dir}; known builds: "
            f"{', '.join(known_builds(resources_dir))}"
        )
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
    candidates = [
        f"{path}.bai",
        f"{path}.csi",
        re.sub(r"\.bam$", ".bai", path),
        f"{path}.crai",
        re.sub(r"\.cram$", ".crai", path),
    ]
    return next((c for c in candidates if c != path and os.path.exists(c)), None)


def check_alignment_header(sample: Sample, reference: str, build: str, resources_dir: str, ref_naming: Naming) -> dict:
    """Cheap checks of a BAM/CRAM: exists, not truncated, readable header, build and contig naming."""
    path = sample.bam
    label = f"sample {sample.name}: {sample.kind.upper()} {path}"
    if not os.path.exists(path):
        raise InputError(f"{label} does not exist; fix the `bam` path in the sample sheet")
    if os.path.getsize(path) == 0:
        raise InputError(f"{label} is empty (0 bytes); re-export it from your aligner")
    if sample.kind == "bam":
        check_bam_bytes(path, label)
    if sample.kind == "bam" and not _ends_with(path, BGZF_EOF):
        raise InputError(
            f"{label} is truncated or corrupt (no BGZF end-of-file marker); copy it again or "
            "re-create it, then check it with `samtools quickcheck`"
        )
    if sample.kind == "cram" and not _ends_with(path, CRAM3_EOF):
        raise InputError(f"{label} is truncated or corrupt (no CRAM end-of-file container); copy it again")
    try:
        handle = pysam.AlignmentFile(
            path, "rc" if sample.kind == "cram" else "rb", reference_filename=reference, check_sq=False
        )
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{label} cannot be opened ({exc}); check it with `samtools quickcheck -v`") from exc
    with handle:
        lengths = dict(zip(handle.references, handle.lengths))
        header = handle.header.to_dict()
        read_groups = header.get("RG", [])
        check_sort_order(handle, header, label, path)
    read_group_samples = check_read_group_samples(sample, read_groups, label)
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
        check_cram_reference(sample, header, reference, ref_naming, label)
    index = find_index(path)
    if index and os.path.getmtime(index) + 1 >= os.path.getmtime(path):  # an older index is rebuilt at extraction
        check_index(path, index, sample.kind, reference, contig, label)
    return {
        "sample": sample.name,
        "kind": sample.kind,
        "path": path,
        "index": index,
        "contig": contig,
        "renamed_from": contig if naming_differs else None,
        "read_groups": read_group_samples,
    }


def check_read_group_samples(sample: Sample, read_groups: list[dict], label: str) -> list[str]:
    """The SM names of the file's read groups, which must be the sheet's sample (or the row's `bam_sm`).

    A file of another patient, or a merged file with several samples' read groups, would otherwise be reported
    under the sheet's name. `bam_sm` = a name expects that SM instead; `bam_sm` = ``*`` accepts any (the reads of
    every read group are genotyped as this one sample). A file without SM tags is accepted unless `bam_sm` names
    one.
    """
    names = sorted({rg["SM"] for rg in read_groups if rg.get("SM")})
    if sample.bam_sm == ANY_SM:
        return names
    expected = sample.bam_sm or sample.name
    fix = (
        f"check that this is the right patient's file; if it is, set the `bam_sm` cell of {sample.name} in the "
        "sample sheet to the file's SM name"
    )
    if len(names) > 1:
        raise InputError(
            f"{label} holds read groups of {len(names)} different samples (@RG SM: {', '.join(names)}), but the "
            f"sheet row is one sample, {expected}: split the file per sample (`samtools split`) and give one row "
            f"each, or, if all read groups are really {sample.name}, set its `bam_sm` cell to {ANY_SM}"
        )
    if names and names[0] != expected:
        raise InputError(
            f"{label}: its read groups name sample (@RG SM) {names[0]!r} but the sheet says {expected!r}; {fix}"
        )
    if not names and sample.bam_sm:
        raise InputError(
            f"{label} has no @RG SM tag but the sheet's `bam_sm` says {sample.bam_sm!r}; empty the `bam_sm` cell"
        )
    return names


#: How many records are read to check the order of a file whose header does not say it is coordinate-sorted.
ORDER_CHECK_RECORDS = 10_000


def check_sort_order(handle: pysam.AlignmentFile, header: dict, label: str, path: str) -> None:
    """The file must be coordinate-sorted: the locus is read through an index. `@HD SO:queryname` or `unsorted`
    fails here; otherwise the first records are checked (a header can claim SO:coordinate for unsorted records,
    which then failed at extraction as a missing index)."""
    order = header.get("HD", {}).get("SO", "")
    fix = (
        f"sort it by coordinate and index it (`samtools sort -o sorted.bam {path}` then `samtools index "
        "sorted.bam`) and give the sorted file in the sample sheet"
    )
    if order in ("queryname", "unsorted"):
        raise InputError(f"{label} is not sorted by coordinate (its header says @HD SO:{order}); {fix}")
    if order == "coordinate" and handle.is_cram:
        return  # decoding needs the right reference, checked later (check_cram_reference)
    last = (-1, -1)
    try:
        for _, read in zip(range(ORDER_CHECK_RECORDS // (10 if order else 1)), handle.fetch(until_eof=True)):
            if read.is_unmapped and read.reference_id < 0:
                break  # unplaced reads come last in a sorted file
            key = (read.reference_id, read.reference_start)
            if key < last:
                raise InputError(
                    f"{label} is not sorted by coordinate (record {read.query_name} at "
                    f"{read.reference_name}:{read.reference_start + 1} comes after a later position"
                    f"{', although its header says @HD SO:coordinate' if order else ''}); {fix}"
                )
            last = key
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pysam raises several types
        raise InputError(f"{label} cannot be read ({exc}); check it with `samtools quickcheck -v`") from exc


def check_index(path: str, index: str, kind: str, reference: str, contig: str, label: str) -> None:
    """The index beside the file must be this file's: an index of another file (same name pattern, newer) gives
    pysam's 'Closing failed: Success' at extraction. A BAI must list as many contigs as the header and point
    inside the file; then a fetch over the locus contig must read records of that contig."""
    fix = (
        f"the index {index} does not belong to {path} (it was made for another file, or the file was replaced "
        f"after indexing): delete it (or run `samtools index {path}`) and rerun; without an index the workflow "
        "indexes the file itself into results/inputs/"
    )
    if index.endswith(".bai"):
        problem = _bai_problem(index, path)
        if problem:
            raise InputError(f"{label}: {problem}; {fix}")
    try:
        with pysam.AlignmentFile(
            path, "rc" if kind == "cram" else "rb", reference_filename=reference, index_filename=index
        ) as handle:
            for _, read in zip(range(100), handle.fetch(contig)):
                if read.reference_name != contig:
                    raise InputError(
                        f"{label}: a fetch of {contig} through the index returned a read of "
                        f"{read.reference_name}; {fix}"
                    )
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pysam raises OSError/ValueError for a stale index
        raise InputError(f"{label}: reading {contig} through its index failed ({exc}); {fix}") from exc


def _bai_problem(index: str, path: str) -> str | None:
    """Why a BAI cannot be the index of ``path`` (contig count, offsets beyond the file), or None."""
    import struct

    data = Path(index).read_bytes()
    if data[:4] != b"BAI\x01":
        return f"{index} is not a BAI index (bad magic)"
    size = os.path.getsize(path)
    with pysam.AlignmentFile(path, "rb", check_sq=False) as handle:
        n_contigs = handle.nreferences
    try:
        (n_ref,) = struct.unpack_from("<i", data, 4)
        offset, furthest = 8, 0
        for _ in range(n_ref):
            (n_bin,) = struct.unpack_from("<i", data, offset)
            offset += 4
            for _ in range(n_bin):
                bin_id, n_chunk = struct.unpack_from("<Ii", data, offset)
                offset += 8
                for _ in range(n_chunk):
                    beg, end = struct.unpack_from("<QQ", data, offset)
                    offset += 16
                    if bin_id != 37450:  # the pseudo-bin holds counts, not offsets
                        furthest = max(furthest, beg >> 16, end >> 16)
            (n_intv,) = struct.unpack_from("<i", data, offset)
            offset += 4 + 8 * n_intv
    except struct.error:
        return f"{index} is truncated"
    if n_ref != n_contigs:
        return f"{index} lists {n_ref} contigs but the file's header has {n_contigs}"
    if furthest > size:
        return f"{index} points to byte {furthest:,} but the file has {size:,} bytes"
    return None
