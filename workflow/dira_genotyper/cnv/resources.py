"""The CNV caller's view of a build's resources: windows, controls, targets, genes, exons and the mask.

BED intervals are kept 0-based half-open (`Region`); genes and exons are the locus model's records
(`locus.Gene`, `locus.Exon`: 1-based inclusive, as in genes.tsv and exons.tsv). Reading the files and merging
intervals are the locus model's (`dira_genotyper.locus`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dira_genotyper.errors import InputError
from dira_genotyper.locus import Exon, Gene, Interval, contig_order, merge, read_bed, read_genes


@dataclass(frozen=True)
class Region:
    """A BED interval (0-based half-open)."""

    chrom: str
    start: int
    end: int
    name: str = ""


@dataclass(frozen=True)
class LocusResources:
    windows: tuple[Region, ...]
    controls: tuple[Region, ...]
    targets: tuple[Region, ...]
    genes: tuple[Gene, ...]
    exons: tuple[Exon, ...]  # every gene's, in genes.tsv order
    target_gene: str
    mask: tuple[Region, ...] = ()  # mask.bed: blacklist and RepeatMasker intervals (name = kind)

    @property
    def contigs(self) -> list[str]:
        """Contigs in the order the window and control files name them."""
        return contig_order((*self.windows, *self.controls))


def _read_bed(path: Path) -> tuple[Region, ...]:
    """A BED file as 0-based half-open regions (the locus model's reader); empty when the file is absent."""
    if not path.exists():
        return ()
    return tuple(Region(iv.chrom, iv.start0, iv.end, iv.name) for iv in read_bed(path))


def load_resources(resources_dir: str | os.PathLike) -> LocusResources:
    """Read window, control and target BEDs, gene and exon tables of one build folder."""
    folder = Path(resources_dir)
    for name in ("window.bed", "controls.bed", "genes.tsv", "exons.tsv"):
        if not (folder / name).exists():
            raise InputError(f"resources folder {folder} has no {name}: run `dira-genotyper build-resources`")
    genes = read_genes(folder)
    exons = tuple(e for g in genes for e in g.exons)
    # The transcript of record's gene (build.json); a folder without build.json (a test's) names it first.
    target_gene = genes[0].name if genes else ""
    build_json = folder / "build.json"
    if build_json.exists():
        target_gene = json.loads(build_json.read_text()).get("transcript", {}).get("gene", target_gene)
    return LocusResources(
        _read_bed(folder / "window.bed"),
        _read_bed(folder / "controls.bed"),
        _read_bed(folder / "targets.bed"),
        genes,
        exons,
        target_gene,
        _load_mask(folder),
    )


def _load_mask(folder: Path) -> tuple[Region, ...]:
    """mask.bed of a resources folder; for the workflow's prepared copy (contigs renamed to the reference's
    naming, no mask.bed), the source folder's mask with the same renaming. Empty when there is none."""
    if (folder / "mask.bed").exists():
        return _read_bed(folder / "mask.bed")
    build_json = folder / "build.json"
    if not build_json.exists():
        return ()
    meta = json.loads(build_json.read_text())
    source = meta.get("resources_source")
    if not source:
        return ()
    source_path = Path(source)
    if not source_path.is_absolute() and not source_path.exists():
        source_path = folder.parent / source_path
    naming = meta.get("naming") or {}
    return tuple(replace(r, chrom=naming.get(r.chrom, r.chrom)) for r in _read_bed(source_path / "mask.bed"))


def mask_fractions(counts: pd.DataFrame, res: LocusResources) -> dict[str, np.ndarray]:
    """Per bin, the share of its bases in mask intervals of each kind (mask.bed name: blacklist, repeat)."""
    chroms = counts["chrom"].to_numpy()
    starts0 = counts["start"].to_numpy(dtype=np.int64) - 1
    ends = counts["end"].to_numpy(dtype=np.int64)
    lengths = np.maximum(ends - starts0, 1)
    out: dict[str, np.ndarray] = {}
    for kind in sorted({r.name or "mask" for r in res.mask}):
        covered = np.zeros(len(counts))
        for chrom in set(chroms):
            merged = merged_spans(r for r in res.mask if r.chrom == chrom and (r.name or "mask") == kind)
            if not merged:
                continue
            ms = np.array([a for a, _ in merged], dtype=np.int64)
            me = np.array([b for _, b in merged], dtype=np.int64)
            before = np.concatenate([[0], np.cumsum(me - ms)])

            def covered_below(
                x: np.ndarray, ms: np.ndarray = ms, me: np.ndarray = me, before: np.ndarray = before
            ) -> np.ndarray:
                i = np.searchsorted(ms, x, side="right")  # intervals starting before x
                last = np.maximum(i - 1, 0)
                partial = np.where(i > 0, np.clip(x - ms[last], 0, me[last] - ms[last]), 0)
                return before[last] * (i > 0) + partial

            on = chroms == chrom
            covered[on] = covered_below(ends[on]) - covered_below(starts0[on])
        out[kind] = covered / lengths
    return out


def merged_spans(regions: Iterable[Region]) -> list[tuple[int, int]]:
    """0-based half-open (start, end) of the regions (of one contig) joined where they overlap or touch."""
    return [(iv.start0, iv.end) for iv in merge(Interval(r.chrom, r.start + 1, r.end) for r in regions)]


def _overlap_names(res: LocusResources, chrom: str, start: int, end: int) -> tuple[list[str], list[int]]:
    genes = [g.name for g in res.genes if g.chrom == chrom and g.start <= end and g.end >= start]
    exons = sorted(
        e.number
        for e in res.exons
        if e.gene == res.target_gene and e.chrom == chrom and e.start <= end and e.end >= start
    )
    return genes, exons
