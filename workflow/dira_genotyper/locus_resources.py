"""Build the per-build locus resources (GFF3, BEDs, gene/exon tables) from the audited source tables.

The source tables live in ``shared/locus`` (MANE v1.0 rows, GENCODE models, SpliceAI exon tables, FACTS.md).
Every coordinate the workflow uses is written by this module into ``resources/<build>/``; no other module
holds a coordinate. Re-run ``dira-genotyper build-resources`` to regenerate and diff the result to audit it.

Build parameters that are not in the tables (chromosome lengths, the GRCh37 offset, the synthetic test
build's offset) are stated in :data:`BUILD_PARAMETERS` with their source.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

#: Genes of the IL-1 cluster and its neighbours, in genomic order. Copy number is reported for each.
CLUSTER_GENES = ["IL1A", "IL1B", "IL37", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN", "PSD4", "PAX8"]
TARGET_GENE = "IL1RN"
FLANK_BP = 216_000  # extraction window flank around IL1A..IL1RN (issue: >= 200 kb each side)
CONTROL_EXCLUSION_BP = 20_000  # control regions stay this far from the first/last cluster gene
TARGET_PAD_BP = 20  # calling targets: exons +/- 20 bp
# Control regions (depth normalisation) are picked, per build, from the part of the extraction window that is
# >= CONTROL_EXCLUSION_BP from every cluster gene (IL1A..PAX8), outside the ENCODE blacklist (+ a margin), in
# tiles of CONTROL_TILE_BP whose RepeatMasker share is <= CONTROL_MAX_REPEAT_FRACTION. Why: the old right-hand
# flank (GRCh38 113.30-113.35 Mb) lies inside the blacklisted chr2:113,302,425-113,684,323 and a region with
# anomalous coverage is a poor depth control; about half of the window is repeat sequence, whose reads come
# with low MAPQ in real data and would pull the control depth down. Tiles that qualify are merged.
CONTROL_TILE_BP = 10_000
CONTROL_MAX_REPEAT_FRACTION = 0.5
BLACKLIST_MARGIN_BP = 5_000
REPEATMASKER = {
    "GRCh38": "repeatmasker_GRCh38_chr2_IL1_window.bed",
    "GRCh37": "repeatmasker_GRCh37_chr2_IL1_window.bed",
}
BLACKLIST_GRCH38 = "encode_blacklist_v2_GRCh38_chr2_112-114Mb.bed"

BUILD_PARAMETERS = {
    "GRCh38": {
        "chr2_length": 242_193_529,  # FACTS.md
        "source": "MANE v1.0 (GRCh38) + GENCODE models (hg38) + SpliceAI grch38 exon table",
    },
    "GRCh37": {
        "chr2_length": 243_199_373,  # FACTS.md
        "mane_offset_from_grch38": 757_577,  # FACTS.md: GRCh37 = GRCh38 + 757,577 on all four IL1RN exons
        "source": "GENCODE models (hg19) + SpliceAI grch37 exon table; IL1RN MANE = GRCh38 + 757,577",
    },
    "SYNTH": {
        # Synthetic test build: GRCh38 window shifted to start near 100 kb on a 1 Mb contig named chr2.
        "grch38_offset": 112_450_000,
        "chr2_length": 1_000_000,
        "control_contig": "ctrl",
        "control_length": 200_000,
        "source": "GRCh38 resources shifted by -112,450,000 (synthetic test reference only)",
    },
}


@dataclass(frozen=True)
class Interval:
    chrom: str
    start: int  # 1-based inclusive
    end: int  # 1-based inclusive
    name: str = ""

    def shifted(self, delta: int, chrom: str | None = None) -> Interval:
        return Interval(chrom or self.chrom, self.start + delta, self.end + delta, self.name)


@dataclass
class Gene:
    name: str
    chrom: str
    start: int
    end: int
    strand: str
    transcript: str
    exons: list[tuple[int, int]]  # 1-based inclusive, genomic order
    first_exon: int = 1  # number of the 5'-most exon held (a model may leave out an unverified first exon)

    def shifted(self, delta: int) -> Gene:
        return Gene(
            self.name,
            self.chrom,
            self.start + delta,
            self.end + delta,
            self.strand,
            self.transcript,
            [(s + delta, e + delta) for s, e in self.exons],
            self.first_exon,
        )


@dataclass
class ManeTranscript:
    gene: str
    refseq: str
    ensembl: str
    ensembl_gene: str
    protein_refseq: str
    protein_ensembl: str
    chrom: str
    strand: str
    exons: list[tuple[int, int]]
    cds: list[tuple[int, int]]
    first_exon: int = 1
    span: tuple[int, int] | None = None  # the MANE span, when the model leaves out a first exon

    def shifted(self, delta: int) -> ManeTranscript:
        return ManeTranscript(
            self.gene,
            self.refseq,
            self.ensembl,
            self.ensembl_gene,
            self.protein_refseq,
            self.protein_ensembl,
            self.chrom,
            self.strand,
            [(s + delta, e + delta) for s, e in self.exons],
            [(s + delta, e + delta) for s, e in self.cds],
            self.first_exon,
            (self.span[0] + delta, self.span[1] + delta) if self.span else None,
        )

    def as_gene(self) -> Gene:
        start, end = self.span or (self.exons[0][0], self.exons[-1][1])
        return Gene(self.gene, self.chrom, start, end, self.strand, self.refseq, self.exons, self.first_exon)


def _read_tsv(path: Path, comment_header: bool = False) -> list[dict[str, str]]:
    with open(path) as handle:
        lines = [line.rstrip("\n") for line in handle if line.strip()]
    if comment_header:
        lines = [line for line in lines if not line.startswith("#source")]
        lines[0] = lines[0].lstrip("#")
    return list(csv.DictReader(lines, delimiter="\t"))


def _group_runs(rows: list[dict[str, str]]) -> list[list[tuple[int, int]]]:
    """GENCODE rows list each transcript's features in genomic order; a start that goes back opens a new one."""
    groups: list[list[tuple[int, int]]] = []
    last = None
    for row in rows:
        start, end = int(row["start_1based"]), int(row["end"])
        if last is None or start < last:
            groups.append([])
        groups[-1].append((start, end))
        last = start
    return groups


def read_mane(source: Path) -> dict[str, dict[str, str]]:
    rows = _read_tsv(source / "data" / "MANE_v1.0_chr2_IL1_cluster.tsv")
    return {row["symbol"]: row for row in rows}


def _from_mane(
    mane: dict[str, str], exons: list[tuple[int, int]], cds: list[tuple[int, int]], **extra: object
) -> ManeTranscript:
    """A transcript model with the accessions and strand of its MANE row."""
    return ManeTranscript(
        gene=mane["symbol"],
        refseq=mane["RefSeq_nuc"],
        ensembl=mane["Ensembl_nuc"],
        ensembl_gene=mane["Ensembl_Gene"],
        protein_refseq=mane["RefSeq_prot"],
        protein_ensembl=mane["Ensembl_prot"],
        chrom="chr2",
        strand=mane["chr_strand"],
        exons=exons,
        cds=cds,
        **extra,
    )


def il1rn_mane_grch38(source: Path) -> ManeTranscript:
    """The MANE Select IL1RN model: span from MANE, exons and CDS from the GENCODE transcript of that span."""
    mane = read_mane(source)[TARGET_GENE]
    span = (int(mane["chr_start"]), int(mane["chr_end"]))
    models = _read_tsv(source / "data" / "IL1RN_GENCODE_models_hg38_noIDs.tsv")
    exon_groups = _group_runs([r for r in models if r["feature"] == "exons"])
    cds_groups = _group_runs([r for r in models if r["feature"] == "CDSs"])
    # GENCODE lists the coding groups in the order of the coding transcripts: walk both lists together.
    def fits(cds: list[tuple[int, int]], exons: list[tuple[int, int]]) -> bool:
        return all(any(es <= cs and ce <= ee for es, ee in exons) for cs, ce in cds)

    pending = iter(cds_groups)
    current = next(pending, None)
    for exons in exon_groups:
        cds = current if current is not None and fits(current, exons) else None
        if cds is not None:
            current = next(pending, None)
        if (exons[0][0], exons[-1][1]) == span:
            break
    else:
        raise ValueError(f"no GENCODE transcript spans the MANE IL1RN span {span}")
    if cds is None:
        raise ValueError("the MANE IL1RN transcript has no CDS in the GENCODE table")
    return _from_mane(mane, exons, cds)


#: The differential diagnoses (curated in the repository: resources/differential.tsv, sourced in its model docs).
DIFFERENTIAL_TABLE = Path(__file__).resolve().parents[2] / "resources" / "differential.tsv"


def read_differential(path: Path = DIFFERENTIAL_TABLE) -> list[dict[str, str]]:
    if not path.exists():
        return []
    rows = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(rows, delimiter="\t"))


def differential_mane_grch38(source: Path, row: dict[str, str]) -> ManeTranscript:
    """A differential gene's MANE model: span and accessions from MANE, exons from the SpliceAI table (the exons
    inside the MANE span, the last one ending at the span), the CDS from the curated row."""
    mane = read_mane(source)[row["gene"]]
    span = (int(mane["chr_start"]), int(mane["chr_end"]))
    strand, exons = _spliceai_exons(source, "GRCh38")[row["gene"]]
    inside = [(max(s, span[0]), min(e, span[1])) for s, e in exons if s >= span[0] and s <= span[1]]
    cds_start, cds_end = int(row["cds_start_grch38"]), int(row["cds_end_grch38"])
    cds = [(max(s, cds_start), min(e, cds_end)) for s, e in inside if e >= cds_start and s <= cds_end]
    if sum(e - s + 1 for s, e in cds) % 3:
        raise ValueError(f"{row['gene']}: the CDS of {row['model']} is not a whole number of codons")
    return _from_mane(mane, inside, cds, first_exon=int(row["first_exon"]), span=span)


def check_grch37_exons(source: Path, tx37: ManeTranscript) -> None:
    """The GRCh37 model (GRCh38 + offset) must put every exon boundary where the GRCh37 SpliceAI table does."""
    _strand, exons = _spliceai_exons(source, "GRCh37")[tx37.gene]
    starts = {s for s, _ in exons}
    ends = {e for _, e in exons}
    for s, e in tx37.exons[:-1]:
        if s not in starts or e not in ends:
            raise ValueError(f"{tx37.gene}: GRCh37 exon {s}-{e} (GRCh38 + offset) is not in the GRCh37 SpliceAI table")


def all_il1rn_exons(source: Path, build: str) -> list[tuple[int, int]]:
    name = "hg38" if build == "GRCh38" else "hg19"
    models = _read_tsv(source / "data" / f"IL1RN_GENCODE_models_{name}_noIDs.tsv")
    return sorted({(int(r["start_1based"]), int(r["end"])) for r in models if r["feature"] == "exons"})


def _spliceai_exons(source: Path, build: str) -> dict[str, tuple[str, list[tuple[int, int]]]]:
    rows = _read_tsv(source / "data" / "SpliceAI_annotations_chr2_IL1_cluster.tsv", comment_header=True)
    key = "grch38" if build == "GRCh38" else "grch37"
    out = {}
    for row in rows:
        if row["build"] != key:
            continue
        starts = [int(x) + 1 for x in row["EXON_START"].strip(",").split(",")]
        ends = [int(x) for x in row["EXON_END"].strip(",").split(",")]
        out[row["NAME"]] = (row["STRAND"], list(zip(starts, ends)))
    return out


def cluster_genes(source: Path, build: str, il1rn: ManeTranscript,
                  models: dict[str, ManeTranscript] | None = None) -> list[Gene]:
    """Gene spans (MANE on GRCh38, GENCODE on GRCh37) with exons from the SpliceAI tables; the genes in
    ``models`` (the differential) take their MANE model's span and exons."""
    exons = _spliceai_exons(source, build)
    mane = read_mane(source)
    gencode37 = {r["gene_name"]: r for r in _read_tsv(source / "data" / "IL1_cluster_genes_GENCODE_hg19.tsv")}
    genes = []
    for name in CLUSTER_GENES:
        if name == TARGET_GENE:
            genes.append(
                Gene(name, il1rn.chrom, il1rn.exons[0][0], il1rn.exons[-1][1], il1rn.strand, il1rn.refseq, il1rn.exons)
            )
            continue
        if models and name in models:
            genes.append(models[name].as_gene())
            continue
        strand, gene_exons = exons[name]
        if build == "GRCh38":
            row = mane[name]
            start, end, transcript = int(row["chr_start"]), int(row["chr_end"]), row["RefSeq_nuc"]
        else:
            row = gencode37[name]
            start, end, transcript = int(row["start_1based"]), int(row["end"]), "GENCODE-v19-gene-span"
        genes.append(Gene(name, "chr2", start, end, strand, transcript, gene_exons))
    return genes


def write_bed(path: Path, intervals: list[Interval]) -> None:
    with open(path, "w") as out:
        for iv in sorted(intervals, key=lambda i: (i.chrom, i.start)):
            out.write(f"{iv.chrom}\t{iv.start - 1}\t{iv.end}\t{iv.name}\n")


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: (i.chrom, i.start)):
        if merged and merged[-1].chrom == iv.chrom and iv.start <= merged[-1].end + 1:
            last = merged[-1]
            names = last.name if iv.name in last.name.split(",") else f"{last.name},{iv.name}"
            merged[-1] = Interval(last.chrom, last.start, max(last.end, iv.end), names)
        else:
            merged.append(iv)
    return merged


def read_bed0(path: Path) -> list[Interval]:
    """A BED file (0-based half-open) as 1-based inclusive intervals."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith(("#", "track", "browser")):
            f = line.split("\t")
            out.append(Interval(f[0], int(f[1]) + 1, int(f[2]), f[3] if len(f) > 3 else ""))
    return out


def problem_regions(source: Path, build: str) -> tuple[list[Interval], list[Interval]]:
    """(blacklist, RepeatMasker) intervals of a build, 1-based inclusive.

    GRCh37 has no blacklist table in the source: the GRCh38 ENCODE v2 intervals are moved by the constant
    GRCh37 offset, which holds for every RepeatMasker interval of chr2:112.4-113.5 Mb (FACTS.md) but is not
    verified beyond it (the blacklist interval reaches 113.68 Mb).
    """
    data = source / "data"
    blacklist = read_bed0(data / BLACKLIST_GRCH38)
    repeats = read_bed0(data / REPEATMASKER[build])
    if build == "GRCh37":
        blacklist = [iv.shifted(BUILD_PARAMETERS["GRCh37"]["mane_offset_from_grch38"]) for iv in blacklist]
    return (
        [Interval(iv.chrom, iv.start, iv.end, "blacklist") for iv in blacklist],
        [Interval(iv.chrom, iv.start, iv.end, "repeat") for iv in merge_intervals(repeats)],
    )


def _covered(intervals: list[Interval], chrom: str, start: int, end: int) -> int:
    """Bases of 1-based [start, end] covered by `intervals` (merged: non-overlapping)."""
    return sum(max(0, min(end, iv.end) - max(start, iv.start) + 1) for iv in intervals if iv.chrom == chrom)


def choose_controls(window: Interval, genes: list[Gene], blacklist: list[Interval], repeats: list[Interval],
                    ) -> tuple[list[Interval], list[dict]]:
    """Control regions of one build and a record of every tile considered (for build.json).

    Candidates: the window left of the first cluster gene and right of the last (each kept
    CONTROL_EXCLUSION_BP away, so a long deletion is not normalised away) minus the blacklist +/-
    BLACKLIST_MARGIN_BP; tiled from the side far from the cluster; a whole tile qualifies when at most
    CONTROL_MAX_REPEAT_FRACTION of it is RepeatMasker sequence. Qualifying neighbours are merged.
    """
    lo_gene, hi_gene = min(g.start for g in genes), max(g.end for g in genes)
    sides = [("flank_left", window.start, lo_gene - CONTROL_EXCLUSION_BP - 1),
             ("flank_right", hi_gene + CONTROL_EXCLUSION_BP, window.end)]
    bad = merge_intervals([Interval(b.chrom, b.start - BLACKLIST_MARGIN_BP, b.end + BLACKLIST_MARGIN_BP)
                           for b in blacklist if b.chrom == window.chrom])
    chosen: list[Interval] = []
    record: list[dict] = []
    for name, start, end in sides:
        pieces = [(start, end)]
        for b in bad:
            pieces = [p for s, e in pieces for p in ((s, min(e, b.start - 1)), (max(s, b.end + 1), e)) if p[1] >= p[0]]
        for s, e in pieces:
            for t in range(s, e - CONTROL_TILE_BP + 2, CONTROL_TILE_BP):
                tile = Interval(window.chrom, t, t + CONTROL_TILE_BP - 1, name)
                share = _covered(repeats, tile.chrom, tile.start, tile.end) / CONTROL_TILE_BP
                ok = share <= CONTROL_MAX_REPEAT_FRACTION
                record.append({"start": tile.start, "end": tile.end, "repeat_fraction": round(share, 3), "used": ok})
                if ok:
                    chosen.append(tile)
    return merge_intervals(chosen), record


def write_gff3(path: Path, tx: ManeTranscript) -> None:
    """Ensembl-style GFF3 as `bcftools csq` expects (ID=gene:..., ID=transcript:..., biotype, CDS phase)."""
    gene_id, tx_id = tx.ensembl_gene.split(".")[0], tx.ensembl.split(".")[0]
    lines = ["##gff-version 3"]
    start, end = tx.exons[0][0], tx.exons[-1][1]
    lines.append(
        f"{tx.chrom}\tdira-genotyper\tgene\t{start}\t{end}\t.\t{tx.strand}\t.\t"
        f"ID=gene:{gene_id};Name={tx.gene};biotype=protein_coding;gene_id={gene_id}"
    )
    lines.append(
        f"{tx.chrom}\tdira-genotyper\tmRNA\t{start}\t{end}\t.\t{tx.strand}\t.\t"
        f"ID=transcript:{tx_id};Parent=gene:{gene_id};Name={tx.gene}-MANE;biotype=protein_coding;"
        f"transcript_id={tx_id};refseq={tx.refseq};ensembl_version={tx.ensembl};"
        f"protein_refseq={tx.protein_refseq};protein_ensembl={tx.protein_ensembl};tag=MANE_Select"
    )
    for number, (s, e) in enumerate(_in_transcript_order(tx.exons, tx.strand), start=tx.first_exon):
        lines.append(
            f"{tx.chrom}\tdira-genotyper\texon\t{s}\t{e}\t.\t{tx.strand}\t.\t"
            f"Parent=transcript:{tx_id};Name={tx_id}.exon{number};exon_number={number}"
        )
    done = 0
    for s, e in _in_transcript_order(tx.cds, tx.strand):
        phase = (3 - done % 3) % 3
        lines.append(
            f"{tx.chrom}\tdira-genotyper\tCDS\t{s}\t{e}\t.\t{tx.strand}\t{phase}\t"
            f"ID=CDS:{tx_id};Parent=transcript:{tx_id}"
        )
        done += e - s + 1
    cds_start, cds_end = tx.cds[0][0], tx.cds[-1][1]
    for s, e in tx.exons:
        for utr_s, utr_e, kind in _utr_pieces(s, e, cds_start, cds_end, tx.strand):
            lines.append(
                f"{tx.chrom}\tdira-genotyper\t{kind}\t{utr_s}\t{utr_e}\t.\t{tx.strand}\t.\tParent=transcript:{tx_id}"
            )
    path.write_text("\n".join(lines) + "\n")


def _in_transcript_order(segments: list[tuple[int, int]], strand: str) -> list[tuple[int, int]]:
    return list(segments) if strand == "+" else list(reversed(segments))


def _utr_pieces(s: int, e: int, cds_start: int, cds_end: int, strand: str) -> list[tuple[int, int, str]]:
    left = "five_prime_UTR" if strand == "+" else "three_prime_UTR"
    right = "three_prime_UTR" if strand == "+" else "five_prime_UTR"
    pieces = []
    if s < cds_start:
        pieces.append((s, min(e, cds_start - 1), left))
    if e > cds_end:
        pieces.append((max(s, cds_end + 1), e, right))
    return pieces


def _write_tables(out: Path, build: str, chrom_len: int, tx: ManeTranscript, genes: list[Gene],
                  il1rn_exons: list[tuple[int, int]], extra_controls: list[Interval],
                  problems: tuple[list[Interval], list[Interval]],
                  differential: list[tuple[dict[str, str], ManeTranscript]] = ()) -> None:
    out.mkdir(parents=True, exist_ok=True)
    first, last = min(g.start for g in genes if g.name != "PSD4" and g.name != "PAX8"), tx.exons[-1][1]
    window = Interval("chr2", first - FLANK_BP, last + FLANK_BP, "extraction_window")
    write_bed(out / "window.bed", [window, *extra_controls])
    blacklist, repeats = problems
    # Controls stop short of PSD4/PAX8 too, so a long deletion running past IL1RN is not normalised away.
    flanks, tiles = choose_controls(window, genes, blacklist, repeats)
    write_bed(out / "controls.bed", [*flanks, *extra_controls])
    # Mask: blacklist + RepeatMasker intervals over the window (cnv.py keeps bins dominated by them out of
    # the copy-number evidence and the normalisation controls).
    near = [iv for iv in (*blacklist, *repeats)
            if iv.chrom == window.chrom and iv.end >= 1 and iv.start <= chrom_len]
    write_bed(out / "mask.bed", [Interval(iv.chrom, max(1, iv.start), min(chrom_len, iv.end), iv.name) for iv in near])
    numbered = _in_transcript_order(tx.exons, tx.strand)
    targets = [
        Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"IL1RN_MANE_exon{numbered.index((s, e)) + 1}")
        for s, e in tx.exons
    ]
    targets += [Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, "IL1RN_GENCODE_exon") for s, e in il1rn_exons]
    cds_rows = [Interval("chr2", s, e, f"IL1RN_CDS_exon{i}") for i, (s, e) in enumerate(tx.cds, start=1)]
    for _row, dtx in differential:
        numbered_d = _in_transcript_order(dtx.exons, dtx.strand)
        number = {ex: i for i, ex in enumerate(numbered_d, start=dtx.first_exon)}
        targets += [Interval(dtx.chrom, s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"{dtx.gene}_MANE_exon{number[(s, e)]}")
                    for s, e in dtx.exons]  # fmt: skip
        for cs, ce in dtx.cds:
            holder = next(ex for ex in dtx.exons if ex[0] <= cs and ce <= ex[1])
            cds_rows.append(Interval(dtx.chrom, cs, ce, f"{dtx.gene}_CDS_exon{number[holder]}"))
        write_gff3(out / f"{dtx.gene.lower()}.gff3", dtx)
    write_bed(out / "targets.bed", merge_intervals(targets))
    write_bed(out / "cds.bed", cds_rows)
    write_gff3(out / "il1rn.gff3", tx)
    with open(out / "genes.tsv", "w") as handle:
        handle.write("gene\tchrom\tstart\tend\tstrand\ttranscript\n")
        for g in genes:
            handle.write(f"{g.name}\t{g.chrom}\t{g.start}\t{g.end}\t{g.strand}\t{g.transcript}\n")
    with open(out / "exons.tsv", "w") as handle:
        handle.write("gene\texon\tchrom\tstart\tend\n")
        for g in genes:
            for number, (s, e) in enumerate(_in_transcript_order(g.exons, g.strand), start=g.first_exon):
                handle.write(f"{g.name}\t{number}\t{g.chrom}\t{s}\t{e}\n")
    meta = {
        "build": build,
        "locus_contig": "chr2",
        "locus_contig_length": chrom_len,
        "window": {"chrom": window.chrom, "start": window.start, "end": window.end},
        "transcript": {
            "gene": tx.gene,
            "refseq": tx.refseq,
            "ensembl": tx.ensembl,
            "protein_refseq": tx.protein_refseq,
            "protein_ensembl": tx.protein_ensembl,
        },
        "extra_contigs": {c.chrom: None for c in extra_controls},
        "differential": [
            {
                "disease": row["disease"],
                "gene": dtx.gene,
                "gff3": f"{dtx.gene.lower()}.gff3",
                "known": row["known"],
                "model": row["model"],
                "transcript": {
                    "gene": dtx.gene,
                    "refseq": dtx.refseq,
                    "ensembl": dtx.ensembl,
                    "protein_refseq": dtx.protein_refseq,
                    "protein_ensembl": dtx.protein_ensembl,
                },
            }
            for row, dtx in differential
        ],
        "parameters": BUILD_PARAMETERS[build],
        "controls": {
            "why": "outside the ENCODE blacklist and low in repeats: blacklisted or repeat-rich sequence has "
            "anomalous, low-MAPQ coverage in real data and is a poor depth control",
            "rule": f"window >= {CONTROL_EXCLUSION_BP} bp from every cluster gene, outside blacklist "
            f"+/- {BLACKLIST_MARGIN_BP} bp, {CONTROL_TILE_BP} bp tiles with RepeatMasker share <= "
            f"{CONTROL_MAX_REPEAT_FRACTION}",
            "regions": [{"chrom": c.chrom, "start": c.start, "end": c.end, "name": c.name} for c in flanks],
            "tiles": tiles,
            "repeat_fraction_of_window": round(_covered(repeats, window.chrom, window.start, window.end)
                                               / (window.end - window.start + 1), 3),
        },
        "mask": {
            "file": "mask.bed",
            "blacklist": "ENCODE blacklist v2 (GRCh38; GRCh37 moved by the GRCh37 offset, unverified)",
            "repeats": f"RepeatMasker ({REPEATMASKER[build] if build in REPEATMASKER else REPEATMASKER['GRCh38']})",
        },
    }
    (out / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def build_all(source: Path, out: Path, differential_table: Path = DIFFERENTIAL_TABLE) -> list[Path]:
    """Write resources/GRCh38, resources/GRCh37 and resources/SYNTH from the source tables."""
    tx38 = il1rn_mane_grch38(source)
    written = []
    diff38 = [(row, differential_mane_grch38(source, row)) for row in read_differential(differential_table)]
    # GRCh38
    genes38 = cluster_genes(source, "GRCh38", tx38, {d.gene: d for _, d in diff38})
    problems38 = problem_regions(source, "GRCh38")
    _write_tables(out / "GRCh38", "GRCh38", BUILD_PARAMETERS["GRCh38"]["chr2_length"], tx38, genes38,
                  all_il1rn_exons(source, "GRCh38"), [], problems38, diff38)
    written.append(out / "GRCh38")
    # GRCh37: IL1RN MANE by the documented offset; the cluster from the hg19 tables.
    offset37 = BUILD_PARAMETERS["GRCh37"]["mane_offset_from_grch38"]
    tx37 = tx38.shifted(offset37)
    diff37 = [(row, d.shifted(offset37)) for row, d in diff38]
    for _row, d in diff37:
        check_grch37_exons(source, d)
    genes37 = cluster_genes(source, "GRCh37", tx37, {d.gene: d for _, d in diff37})
    _write_tables(out / "GRCh37", "GRCh37", BUILD_PARAMETERS["GRCh37"]["chr2_length"], tx37, genes37,
                  all_il1rn_exons(source, "GRCh37"), [], problem_regions(source, "GRCh37"), diff37)
    written.append(out / "GRCh37")
    # SYNTH: GRCh38 shifted onto a 1 Mb contig, plus an unlinked control contig.
    synth = BUILD_PARAMETERS["SYNTH"]
    delta = -synth["grch38_offset"]
    ctrl = Interval(synth["control_contig"], 1_001, synth["control_length"] - 1_000, "unlinked_control")
    _write_tables(out / "SYNTH", "SYNTH", synth["chr2_length"], tx38.shifted(delta),
                  [g.shifted(delta) for g in genes38],
                  [(s + delta, e + delta) for s, e in all_il1rn_exons(source, "GRCh38")], [ctrl],
                  tuple([iv.shifted(delta) for iv in ivs] for ivs in problems38),
                  [(row, d.shifted(delta)) for row, d in diff38])
    meta = json.loads((out / "SYNTH" / "build.json").read_text())
    meta["extra_contigs"] = {synth["control_contig"]: synth["control_length"]}
    (out / "SYNTH" / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(source / "data" / "il1rn-cds-for-synthetic-test-references.fa",
                    out / "SYNTH" / "il1rn_cds_synthetic.fa")
    for row, d in diff38:
        target = out / "SYNTH" / f"{d.gene.lower()}_cds_synthetic.fa"
        shutil.copyfile(differential_table.parent / row["synthetic_cds"], target)
    written.append(out / "SYNTH")
    return written
