"""The audited source tables of ``shared/locus/data`` read into transcript and gene models, for
:mod:`dira_devtools.resources.build` to write: MANE v1.0 rows, GENCODE models, the SpliceAI exon tables and
the curated differential table (``resources/differential.tsv``). Coordinates 1-based inclusive.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dira_genotyper.locus import Exon, Gene

#: Genes of the IL-1 cluster and its neighbours, in genomic order. Copy number is reported for each.
CLUSTER_GENES = ["IL1A", "IL1B", "IL37", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN", "PSD4", "PAX8"]


TARGET_GENE = "IL1RN"


def gene_record(
    name: str,
    chrom: str,
    start: int,
    end: int,
    strand: str,
    transcript: str,
    exons: list[tuple[int, int]],
    first_exon: int = 1,
) -> Gene:
    """A gene of the locus model from a source-table span and its exons in genomic order; the exons are
    numbered 5'->3' from ``first_exon`` (a model may leave out an unverified first exon)."""
    ordered = list(exons) if strand == "+" else list(reversed(exons))
    numbered = (Exon(name, n, chrom, s, e) for n, (s, e) in enumerate(ordered, start=first_exon))
    return Gene(name, chrom, start, end, strand, transcript, tuple(numbered))


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
        return gene_record(self.gene, self.chrom, start, end, self.strand, self.refseq, self.exons, self.first_exon)


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
DIFFERENTIAL_TABLE = Path(__file__).resolve().parents[3] / "resources" / "differential.tsv"


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


def cluster_genes(
    source: Path, build: str, il1rn: ManeTranscript, models: dict[str, ManeTranscript] | None = None
) -> list[Gene]:
    """Gene spans (MANE on GRCh38, GENCODE on GRCh37) with exons from the SpliceAI tables; the genes in
    ``models`` (the differential) take their MANE model's span and exons."""
    exons = _spliceai_exons(source, build)
    mane = read_mane(source)
    gencode37 = {r["gene_name"]: r for r in _read_tsv(source / "data" / "IL1_cluster_genes_GENCODE_hg19.tsv")}
    genes = []
    for name in CLUSTER_GENES:
        if name == TARGET_GENE:
            genes.append(
                gene_record(
                    name, il1rn.chrom, il1rn.exons[0][0], il1rn.exons[-1][1], il1rn.strand, il1rn.refseq, il1rn.exons
                )
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
        genes.append(gene_record(name, "chr2", start, end, strand, transcript, gene_exons))
    return genes
