"""The build's resource files as the simulator reads them, and c. <-> genome positions.

Coordinates are read from ``build.json``, ``il1rn.gff3`` (and ``<gene>.gff3`` of the differential genes),
``genes.tsv``, ``exons.tsv`` and the BED files; nothing in the simulator holds a genomic coordinate. Parsing
is production's: :meth:`dira_genotyper.locus.Locus.load` (genes, exons, build.json) and
:func:`dira_genotyper.annotation.transcript.load_transcript` (GFF3); c. positions map through the production
:class:`dira_genotyper.annotation.transcript.Transcript` (``c_to_genomic`` / ``genomic_to_c``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from dira_genotyper.annotation.transcript import CPos, load_transcript
from dira_genotyper.annotation.transcript import Transcript as TranscriptModel
from dira_genotyper.locus import Locus


def default_resources_dir() -> Path:
    """``resources/SYNTH`` of the project this package is installed from (editable install)."""
    return Path(__file__).resolve().parents[3] / "resources" / "SYNTH"


@dataclass(frozen=True)
class BuildInfo:
    build: str
    locus_contig: str
    contigs: dict[str, int]  # in FASTA order: locus contig first, then the extra contigs


def read_build(resources_dir: str | Path) -> BuildInfo:
    data = Locus.load(resources_dir).meta
    contigs = {data["locus_contig"]: int(data["locus_contig_length"])}
    contigs.update({name: int(length) for name, length in data.get("extra_contigs", {}).items()})
    return BuildInfo(data.get("build", ""), data["locus_contig"], contigs)


@dataclass(frozen=True)
class GeneRecord:
    name: str
    chrom: str
    start: int
    end: int
    strand: str
    exons: tuple[tuple[int, int], ...]  # 1-based inclusive, in exon-number (transcript) order


def read_genes(resources_dir: str | Path) -> dict[str, GeneRecord]:
    """Genes of ``genes.tsv`` (in file order) with their exons from ``exons.tsv`` (via :class:`Locus`)."""
    return {
        g.name: GeneRecord(g.name, g.chrom, g.start, g.end, g.strand, tuple((e.start, e.end) for e in g.exons))
        for g in Locus.load(resources_dir).genes
    }


@dataclass(frozen=True)
class Transcript:
    """The MANE transcript of ``il1rn.gff3`` as the simulator lays it out: exons and CDS pieces in transcript
    (5'->3') order, 1-based inclusive. ``model`` is the production transcript it was read as."""

    gene: str
    chrom: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...]
    model: TranscriptModel

    @property
    def cds_length(self) -> int:
        return self.model.cds_length


@functools.lru_cache(maxsize=16)
def _read_transcript_cached(path: str, mtime: float) -> Transcript:
    model = load_transcript(path)
    reverse = model.strand == "-"
    cds = tuple(sorted(model.cds, reverse=reverse))
    return Transcript(model.gene_name or "", model.chrom, model.strand, model.exons_5to3, cds, model)


def read_transcript(resources_dir: str | Path, gene: str | None = None) -> Transcript:
    """The MANE transcript of the target gene (``il1rn.gff3``) or of a differential ``gene`` (``<gene>.gff3``)."""
    path = Path(resources_dir) / f"{(gene or 'IL1RN').lower()}.gff3"
    return _read_transcript_cached(str(path), path.stat().st_mtime)


def read_synthetic_cds(resources_dir: str | Path, gene: str | None = None) -> str:
    lines = (Path(resources_dir) / f"{(gene or 'IL1RN').lower()}_cds_synthetic.fa").read_text().splitlines()
    return "".join(line.strip() for line in lines if line and not line.startswith(">")).upper()


def differential_diseases(resources_dir: str | Path) -> list[str]:
    return [d["disease"] for d in Locus.load(resources_dir).meta.get("differential", [])]


def differential_genes(resources_dir: str | Path) -> list[str]:
    """Genes of the build's differential diagnoses (build.json ``differential``)."""
    return [d["gene"] for d in Locus.load(resources_dir).meta.get("differential", [])]


# ---------------------------------------------------------------------------------------------------------
# CDS <-> genome
# ---------------------------------------------------------------------------------------------------------


def cds_to_genomic(resources_dir: str | Path, c_pos: int, gene: str | None = None) -> int:
    """Genomic position (1-based) of CDS position ``c.<c_pos>`` of the MANE transcript in ``il1rn.gff3`` (or
    ``<gene>.gff3``); positions outside the CDS are an error."""
    tx = read_transcript(resources_dir, gene)
    if not 1 <= c_pos <= tx.cds_length:
        raise ValueError(f"c.{c_pos} is outside the CDS (1..{tx.cds_length})")
    return tx.model.c_to_genomic(CPos(c_pos))


def genomic_to_hgvs_c(resources_dir: str | Path, pos: int) -> str | None:
    """HGVS c. position (without ``c.``) of a genomic position, e.g. ``160``, ``206-800``, ``-5``, ``*12``.

    Exonic, intronic (offset from the nearest exon end) and UTR positions are named; positions outside the
    transcript give None.
    """
    model = read_transcript(resources_dir).model
    if not model.start <= pos <= model.end:
        return None
    return str(model.genomic_to_c(pos))
