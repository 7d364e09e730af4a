"""The locus model: one build's resources (``resources/<build>/``) read once into typed records.

Every coordinate the workflow uses comes from these files; nothing about a gene is written in code. A second
gene of interest is a second row of ``resources/differential.tsv`` (``build.json``'s ``differential``; its
exons in ``exons.tsv``, its CDS in ``cds.bed``), not new code.

Files: ``build.json`` (build, contigs, transcript of record, differential genes), ``window.bed``,
``controls.bed``, ``targets.bed``, ``cds.bed``, ``mask.bed`` (optional), ``genes.tsv``, ``exons.tsv``.
BED files are 0-based half-open; :class:`Interval` stores them 1-based inclusive (as ``genes.tsv`` and
``exons.tsv`` are), so one type serves all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dira_genotyper.errors import InputError

TARGET_DISEASE = "DIRA"  # the headline diagnosis, named in the reports (build.json `disease`)
REQUIRED_FILES = ("build.json", "window.bed", "controls.bed", "targets.bed", "cds.bed", "genes.tsv", "exons.tsv")


@dataclass(frozen=True, order=True)
class Interval:
    """A genomic interval, 1-based inclusive (``start0`` gives the BED start)."""

    chrom: str
    start: int
    end: int
    name: str = field(default="", compare=False)

    @property
    def start0(self) -> int:
        return self.start - 1

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def overlaps(self, chrom: str, start: int, end: int) -> bool:
        """Overlap with ``chrom:start-end`` (1-based inclusive)."""
        return chrom == self.chrom and start <= self.end and self.start <= end

    def contains(self, chrom: str, pos: int) -> bool:
        return chrom == self.chrom and self.start <= pos <= self.end

    def bed(self) -> tuple[str, int, int]:
        return (self.chrom, self.start0, self.end)

    def shifted(self, delta: int, chrom: str | None = None) -> Interval:
        """The same interval ``delta`` bases along (on ``chrom`` when given)."""
        return Interval(chrom or self.chrom, self.start + delta, self.end + delta, self.name)


def merge(intervals: Iterable[Interval], gap: int = 0, join_names: bool = False) -> list[Interval]:
    """Overlapping (or closer than ``gap`` + 1) intervals of one contig joined; sorted by contig and start
    (intervals that start together stay in the order given).

    The joined interval keeps the first one's name, or with ``join_names`` every distinct name, comma-separated
    (as the resource builder writes targets.bed)."""
    out: list[Interval] = []
    for iv in sorted(intervals, key=lambda x: (x.chrom, x.start)):
        if out and out[-1].chrom == iv.chrom and iv.start <= out[-1].end + 1 + gap:
            last = out[-1]
            name = last.name
            if join_names and iv.name not in last.name.split(","):
                name = f"{last.name},{iv.name}"
            out[-1] = Interval(iv.chrom, last.start, max(last.end, iv.end), name)
        else:
            out.append(Interval(iv.chrom, iv.start, iv.end, iv.name))
    return out


def contig_order(regions: Iterable) -> list[str]:  # noqa: ANN001 - anything with .chrom
    """Contigs in the order the regions name them (window first, then controls)."""
    return list(dict.fromkeys(region.chrom for region in regions))


def read_bed(path: str | Path) -> list[Interval]:
    """The one BED reader: ``chrom start0 end [name]`` lines; comment, track and browser lines skipped."""
    out = []
    try:
        with open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                f = line.rstrip("\n").split("\t")
                try:
                    out.append(Interval(f[0], int(f[1]) + 1, int(f[2]), f[3] if len(f) > 3 else ""))
                except (IndexError, ValueError) as exc:
                    raise InputError(f"{path} line {number}: not a BED line (chrom, start, end): {line!r}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    return out


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@dataclass(frozen=True)
class Exon:
    gene: str
    number: int  # 5'->3' on the gene's transcript of record
    chrom: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{self.gene}_exon{self.number}"

    @property
    def interval(self) -> Interval:
        return Interval(self.chrom, self.start, self.end, self.label)

    def shifted(self, delta: int) -> Exon:
        return Exon(self.gene, self.number, self.chrom, self.start + delta, self.end + delta)


@dataclass(frozen=True)
class Gene:
    name: str
    chrom: str
    start: int
    end: int
    strand: str
    transcript: str  # RefSeq accession of the transcript of record (genes.tsv)
    exons: tuple[Exon, ...] = ()
    cds: tuple[Interval, ...] = ()  # coding part of each exon (name = exon label), from cds.bed

    @property
    def interval(self) -> Interval:
        return Interval(self.chrom, self.start, self.end, self.name)

    def shifted(self, delta: int) -> Gene:
        """The same gene ``delta`` bases along (a build moved by a constant offset)."""
        return Gene(
            self.name, self.chrom, self.start + delta, self.end + delta, self.strand, self.transcript,
            tuple(e.shifted(delta) for e in self.exons), tuple(iv.shifted(delta) for iv in self.cds),
        )  # fmt: skip


@dataclass(frozen=True)
class Locus:
    """One build's resources. ``genes`` in genes.tsv order; ``target`` is the transcript of record's gene."""

    folder: Path
    build: str
    meta: dict = field(compare=False, hash=False, repr=False)
    windows: tuple[Interval, ...] = ()
    controls: tuple[Interval, ...] = ()
    targets: tuple[Interval, ...] = ()
    cds: tuple[Interval, ...] = ()
    mask: tuple[Interval, ...] = ()
    genes: tuple[Gene, ...] = ()

    @property
    def target(self) -> str:
        return self.meta.get("transcript", {}).get("gene", "")

    @property
    def transcript(self) -> dict:
        return dict(self.meta.get("transcript", {}))

    @property
    def disease(self) -> str:
        """The headline diagnosis (build.json ``disease``): the one a loss of ``target`` causes."""
        if not self.meta.get("disease"):
            raise InputError(
                f"{self.folder / 'build.json'} names no `disease` (the headline diagnosis): regenerate the resources "
                "with `dira-genotyper build-resources --source ../shared/locus`"
            )
        return self.meta["disease"]

    @property
    def genomic_accession(self) -> str:
        """What HGVS g. names of the locus contig start with: its versioned RefSeq accession (build.json
        ``locus_contig_accession``: NC_000002.12 on GRCh38, NC_000002.11 on GRCh37), or the contig's name where it
        has none (the synthetic build, older resources)."""
        return self.meta.get("locus_contig_accession") or self.meta.get("locus_contig", "")

    def accession(self, chrom: str) -> str:
        """What HGVS g. names on ``chrom`` start with: its versioned RefSeq accession (build.json ``contigs``, e.g.
        NC_000018.10 for a further window's chr18), else the contig's own name. ``chrom`` may be the reference's
        name of a resources contig (``2`` for ``chr2``: build.json ``naming`` of a run's resources)."""
        contigs = self.meta.get("contigs") or {
            self.meta.get("locus_contig", ""): {"accession": self.meta.get("locus_contig_accession")}
        }
        inverse = {ref: res for res, ref in (self.meta.get("naming") or {}).items()}
        entry = contigs.get(inverse.get(chrom, chrom)) or {}
        return entry.get("accession") or chrom

    @property
    def contigs(self) -> list[str]:
        return contig_order((*self.windows, *self.controls))

    def gene(self, name: str) -> Gene:
        for gene in self.genes:
            if gene.name == name:
                return gene
        raise InputError(f"{self.folder}: no gene {name} in genes.tsv (genes: {', '.join(g.name for g in self.genes)})")

    @property
    def exons(self) -> tuple[Exon, ...]:
        return tuple(e for g in self.genes for e in g.exons)

    def gene_rows(self) -> list[dict]:
        """genes.tsv as plain rows (gene, chrom, start, end, strand) for the report's drawings."""
        return [{"gene": g.name, "chrom": g.chrom, "start": g.start, "end": g.end, "strand": g.strand}
                for g in self.genes]  # fmt: skip

    def exon_rows(self) -> list[dict]:
        """exons.tsv as plain rows (gene, exon, chrom, start, end) for the report's drawings."""
        return [{"gene": e.gene, "exon": e.number, "chrom": e.chrom, "start": e.start, "end": e.end}
                for e in self.exons]  # fmt: skip

    def path(self, name: str) -> Path:
        return self.folder / name

    @classmethod
    def load(cls, folder: str | Path) -> Locus:
        return _load(str(Path(folder).resolve()))


@lru_cache(maxsize=8)
def _load(folder_text: str) -> Locus:
    folder = Path(folder_text)
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    if missing:
        raise InputError(
            f"resources folder {folder} lacks {', '.join(missing)}: regenerate it with `dira-genotyper "
            "build-resources --source ../shared/locus` (or point `resources_dir` at the shipped resources)"
        )
    meta = json.loads((folder / "build.json").read_text())
    cds = read_bed(folder / "cds.bed")
    mask_path = folder / "mask.bed"
    return Locus(
        folder,
        meta.get("build", folder.name),
        meta,
        tuple(read_bed(folder / "window.bed")),
        tuple(read_bed(folder / "controls.bed")),
        tuple(read_bed(folder / "targets.bed")),
        tuple(cds),
        tuple(read_bed(mask_path)) if mask_path.exists() else (),
        read_genes(folder, cds),
    )


def read_genes(folder: str | Path, cds: Iterable[Interval] = ()) -> tuple[Gene, ...]:
    """The one reader of genes.tsv and exons.tsv: genes in file order, each with its exons (by number) and, given
    cds.bed's intervals, the coding part of each exon."""
    folder = Path(folder)
    exon_rows = _read_tsv(folder / "exons.tsv")
    cds = list(cds)
    genes = []
    for row in _read_tsv(folder / "genes.tsv"):
        name = row["gene"]
        exons = tuple(
            sorted(
                (
                    Exon(name, int(r["exon"]), r["chrom"], int(r["start"]), int(r["end"]))
                    for r in exon_rows
                    if r["gene"] == name
                ),
                key=lambda e: e.number,
            )
        )
        coding = []
        for exon in exons:
            for iv in cds:
                if iv.chrom == exon.chrom and exon.start <= iv.start and iv.end <= exon.end:
                    coding.append(Interval(iv.chrom, iv.start, iv.end, exon.label))
        genes.append(
            Gene(name, row["chrom"], int(row["start"]), int(row["end"]), row.get("strand", "."),
                 row.get("transcript", ""), exons, tuple(coding))
        )  # fmt: skip
    return tuple(genes)
