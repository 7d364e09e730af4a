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

    def shifted(self, delta: int) -> Gene:
        return Gene(
            self.name,
            self.chrom,
            self.start + delta,
            self.end + delta,
            self.strand,
            self.transcript,
            [(s + delta, e + delta) for s, e in self.exons],
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
        )


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
    return ManeTranscript(
        gene=TARGET_GENE,
        refseq=mane["RefSeq_nuc"],
        ensembl=mane["Ensembl_nuc"],
        ensembl_gene=mane["Ensembl_Gene"],
        protein_refseq=mane["RefSeq_prot"],
        protein_ensembl=mane["Ensembl_prot"],
        chrom="chr2",
        strand=mane["chr_strand"],
        exons=exons,
        cds=cds,
    )


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


def cluster_genes(source: Path, build: str, il1rn: ManeTranscript) -> list[Gene]:
    """Gene spans (MANE on GRCh38, GENCODE on GRCh37) with exons from the SpliceAI tables."""
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
    for number, (s, e) in enumerate(_in_transcript_order(tx.exons, tx.strand), start=1):
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
                  il1rn_exons: list[tuple[int, int]], extra_controls: list[Interval]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    first, last = min(g.start for g in genes if g.name != "PSD4" and g.name != "PAX8"), tx.exons[-1][1]
    window = Interval("chr2", first - FLANK_BP, last + FLANK_BP, "extraction_window")
    write_bed(out / "window.bed", [window, *extra_controls])
    cluster_lo = first - CONTROL_EXCLUSION_BP
    # Right-hand control stops short of PSD4/PAX8 too, so a long deletion running past IL1RN is not normalised away.
    controls = [
        Interval("chr2", window.start, cluster_lo - 1, "flank_left"),
        Interval("chr2", max(g.end for g in genes) + CONTROL_EXCLUSION_BP, window.end, "flank_right"),
        *extra_controls,
    ]
    write_bed(out / "controls.bed", [c for c in controls if c.end > c.start])
    numbered = _in_transcript_order(tx.exons, tx.strand)
    targets = [
        Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"IL1RN_MANE_exon{numbered.index((s, e)) + 1}")
        for s, e in tx.exons
    ]
    targets += [Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, "IL1RN_GENCODE_exon") for s, e in il1rn_exons]
    write_bed(out / "targets.bed", merge_intervals(targets))
    write_bed(
        out / "cds.bed",
        [Interval("chr2", s, e, f"IL1RN_CDS_exon{i}") for i, (s, e) in enumerate(tx.cds, start=1)],
    )
    write_gff3(out / "il1rn.gff3", tx)
    with open(out / "genes.tsv", "w") as handle:
        handle.write("gene\tchrom\tstart\tend\tstrand\ttranscript\n")
        for g in genes:
            handle.write(f"{g.name}\t{g.chrom}\t{g.start}\t{g.end}\t{g.strand}\t{g.transcript}\n")
    with open(out / "exons.tsv", "w") as handle:
        handle.write("gene\texon\tchrom\tstart\tend\n")
        for g in genes:
            for number, (s, e) in enumerate(_in_transcript_order(g.exons, g.strand), start=1):
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
        "parameters": BUILD_PARAMETERS[build],
    }
    (out / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def build_all(source: Path, out: Path) -> list[Path]:
    """Write resources/GRCh38, resources/GRCh37 and resources/SYNTH from the source tables."""
    tx38 = il1rn_mane_grch38(source)
    written = []
    # GRCh38
    genes38 = cluster_genes(source, "GRCh38", tx38)
    _write_tables(out / "GRCh38", "GRCh38", BUILD_PARAMETERS["GRCh38"]["chr2_length"], tx38, genes38,
                  all_il1rn_exons(source, "GRCh38"), [])
    written.append(out / "GRCh38")
    # GRCh37: IL1RN MANE by the documented offset; the cluster from the hg19 tables.
    offset37 = BUILD_PARAMETERS["GRCh37"]["mane_offset_from_grch38"]
    tx37 = tx38.shifted(offset37)
    genes37 = cluster_genes(source, "GRCh37", tx37)
    _write_tables(out / "GRCh37", "GRCh37", BUILD_PARAMETERS["GRCh37"]["chr2_length"], tx37, genes37,
                  all_il1rn_exons(source, "GRCh37"), [])
    written.append(out / "GRCh37")
    # SYNTH: GRCh38 shifted onto a 1 Mb contig, plus an unlinked control contig.
    synth = BUILD_PARAMETERS["SYNTH"]
    delta = -synth["grch38_offset"]
    ctrl = Interval(synth["control_contig"], 1_001, synth["control_length"] - 1_000, "unlinked_control")
    _write_tables(out / "SYNTH", "SYNTH", synth["chr2_length"], tx38.shifted(delta),
                  [g.shifted(delta) for g in genes38],
                  [(s + delta, e + delta) for s, e in all_il1rn_exons(source, "GRCh38")], [ctrl])
    meta = json.loads((out / "SYNTH" / "build.json").read_text())
    meta["extra_contigs"] = {synth["control_contig"]: synth["control_length"]}
    (out / "SYNTH" / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(source / "data" / "il1rn-cds-for-synthetic-test-references.fa",
                    out / "SYNTH" / "il1rn_cds_synthetic.fa")
    written.append(out / "SYNTH")
    return written
