"""Capture (exome/panel) read counts per target, simulated fragment by fragment without alignment.

For the targeted copy-number benchmark and tests: what ``cnv-count`` would count on a capture BAM of perfectly
mapped reads, thousands of samples a minute. Modelled, as the issue asks of an honest capture simulation:

- **per-target capture efficiency** shared by every sample of the design (log-uniform over a
  ``efficiency_fold``-fold range, 3.5 by default), plus a small per-sample, per-target wobble
  (``target_noise``, log-normal sd);
- **GC bias** per sample (:func:`dira_devtools.simulate.reads.gc_acceptance` with a random peak and width);
- **fragments overhanging targets**: each captured fragment (length ~ N(350, 40), 200-600) overlaps its target
  anywhere, and its two 150 bp reads are counted where they overlap the target, as the counter does;
- **off-target reads**: a uniform ``off_target`` share of the on-target depth everywhere (the window bins);
- **deletions** on one haplotype (het) or both (hom): reads lose the deleted part of their overlap with a
  target, so a deletion of part of a target lowers its count only as much as it removes.

Not modelled: mapping (no reads are aligned), duplicates, reads of other loci.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dira_devtools.simulate.reads import (
    FRAGMENT_MAX,
    FRAGMENT_MEAN,
    FRAGMENT_MIN,
    FRAGMENT_SD,
    GC_PEAK,
    GC_WIDTH,
    gc_acceptance,
)
from dira_devtools.simulate.sequence import _seed_for

READ = 150


@dataclass
class CaptureDesign:
    """Targets (the counter's layout with GC) and window bins, and each target's shared capture efficiency."""

    targets: pd.DataFrame  # chrom, start, end, kind, name, gc (1-based inclusive)
    bins: pd.DataFrame  # chrom, start, end, kind, name, gc: the window/control bins (capture detection)
    efficiency: np.ndarray


def make_design(targets: pd.DataFrame, bins: pd.DataFrame, seed: int, efficiency_fold: float = 3.5) -> CaptureDesign:
    """A design: per-target efficiency log-uniform over `efficiency_fold` (mean 1), shared by all samples."""
    rng = np.random.default_rng(_seed_for(seed, "capture", "design"))
    eff = np.exp(rng.uniform(-0.5, 0.5, len(targets)) * np.log(efficiency_fold))
    return CaptureDesign(targets.reset_index(drop=True), bins.reset_index(drop=True), eff / eff.mean())


def copy_numbers(frame: pd.DataFrame, deletions: list[tuple[str, int, int, int]]) -> np.ndarray:
    """Copy number per row of `frame` given deletions (chrom, start, end 1-based, haplotypes 1 or 2); a row
    counts as deleted on a haplotype when the deletion covers at least half of it (off-target depth, truth)."""
    cn = np.full(len(frame), 2)
    starts, ends = frame["start"].to_numpy(), frame["end"].to_numpy()
    chroms = frame["chrom"].to_numpy()
    for chrom, s, e, haps in deletions:
        overlap = np.clip(np.minimum(ends, e) - np.maximum(starts, s) + 1, 0, None)
        cn -= haps * ((chroms == chrom) & (overlap >= 0.5 * (ends - starts + 1)))
    return np.clip(cn, 0, 2)


def _fragment_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    f = np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, n)).astype(np.int64)
    return np.clip(f, FRAGMENT_MIN, FRAGMENT_MAX)


def simulate_counts(
    design: CaptureDesign,
    depth: float,
    sample: str,
    seed: int,
    deletions: list[tuple[str, int, int, int]] | None = None,
    off_target: float = 0.01,
    target_noise: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(target counts, bin counts) of one sample at `depth` mean on-target depth (the ``cnv-count`` columns)."""
    rng = np.random.default_rng(_seed_for(seed, "capture", sample))
    deletions = deletions or []
    t = design.targets
    gc = np.nan_to_num(t["gc"].to_numpy(dtype=float), nan=0.45)
    peak = GC_PEAK + rng.normal(0, 0.03)
    width = GC_WIDTH * float(np.exp(rng.normal(0, 0.15)))
    factor = design.efficiency * gc_acceptance(gc, peak, width) / gc_acceptance(np.array([0.45]), peak, width)
    factor *= np.exp(rng.normal(0, target_noise, len(t)))
    rho = depth / (2 * 2 * READ)
    starts0 = t["start"].to_numpy(dtype=np.int64) - 1
    ends = t["end"].to_numpy(dtype=np.int64)
    chroms = t["chrom"].to_numpy()
    reads = np.zeros(len(t), dtype=np.int64)
    bases = np.zeros(len(t))
    for i in range(len(t)):
        s0, e, length = starts0[i], ends[i], ends[i] - starts0[i]
        for hap in (1, 2):
            # A deletion on this copy: the target's bases inside it give no reads (0-based half-open).
            gone = [(ds - 1, de) for c, ds, de, haps in deletions if c == chroms[i] and (haps == 2 or hap == 1)]
            n = rng.poisson(rho * factor[i] * (length + FRAGMENT_MEAN - 1))
            flen = _fragment_lengths(rng, n)
            fs = s0 - flen + 1 + (rng.random(n) * (length + flen - 1)).astype(np.int64)
            for rs in (fs, fs + flen - READ):
                lo, hi = np.maximum(rs, s0), np.minimum(rs + READ, e)
                ov = np.clip(hi - lo, 0, None)
                for ds, de in gone:  # reads lose the deleted part of their overlap; a read inside it is gone
                    ov = ov - np.clip(np.minimum(hi, de) - np.maximum(lo, ds), 0, None)
                reads[i] += int((ov > 0).sum())
                bases[i] += float(ov.sum())
    cn = copy_numbers(t, deletions)
    off = rng.poisson(depth * off_target * (ends - starts0 + READ) / READ * cn / 2)
    reads += off
    mean_depth = (bases + off * READ * (ends - starts0) / (ends - starts0 + READ)) / (ends - starts0)
    targets = t[["chrom", "start", "end", "kind", "name", "gc"]].copy()
    targets["reads"], targets["depth"], targets["low_mapq"] = reads, np.round(mean_depth, 3), 0.0
    return targets, _bin_counts(design, depth * off_target, targets, deletions, rng)


def _bin_counts(
    design: CaptureDesign, off_depth: float, targets: pd.DataFrame, deletions: list, rng: np.random.Generator
) -> pd.DataFrame:
    """Window/control bins: off-target depth everywhere plus the depth of the targets they overlap."""
    b = design.bins[["chrom", "start", "end", "kind", "name", "gc"]].copy()
    length = (b["end"] - b["start"] + 1).to_numpy(dtype=float)
    cn = copy_numbers(b, deletions)
    off_reads = rng.poisson(off_depth * (length + READ) / READ * cn / 2)
    depth = off_reads * READ / (length + READ)
    reads = off_reads.astype(np.int64)
    for row in targets.itertuples(index=False):
        on = (
            (b["chrom"].to_numpy() == row.chrom)
            & (b["start"].to_numpy() <= row.end)
            & (b["end"].to_numpy() >= row.start)
        )
        for j in np.flatnonzero(on):
            overlap = min(row.end, b["end"].iat[j]) - max(row.start, b["start"].iat[j]) + 1
            share = (overlap + FRAGMENT_MEAN / 2) / (row.end - row.start + 1 + FRAGMENT_MEAN)
            depth[j] += row.depth * (overlap + FRAGMENT_MEAN / 2) / length[j]
            reads[j] += int(round(row.reads * share))
    b["reads"], b["depth"], b["low_mapq"] = reads, np.round(depth, 3), 0.0
    return b


def wgs_counts(frame: pd.DataFrame, depth: float, sample: str, seed: int) -> pd.DataFrame:
    """Whole-genome-like counts over any layout: Poisson reads at `depth`, no capture (detection tests)."""
    rng = np.random.default_rng(_seed_for(seed, "wgs", sample))
    out = frame[["chrom", "start", "end", "kind", "name", "gc"]].copy()
    length = (out["end"] - out["start"] + 1).to_numpy(dtype=float)
    reads = rng.poisson(depth * (length + READ) / READ)
    out["reads"], out["depth"], out["low_mapq"] = reads, np.round(reads * READ / (length + READ), 3), 0.0
    return out
