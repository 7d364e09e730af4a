"""Depth normalisation: GC loess, single-sample (control regions) and cohort (other samples) references."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dira_genotyper.cnv.bins import _BinMask
from dira_genotyper.cnv.params import CnvParams
from dira_genotyper.cnv.resources import LocusResources, Region
from dira_genotyper.errors import InputError
from dira_genotyper.reasons import Reason


@dataclass
class _Normalised:
    mode: str
    ratio: np.ndarray
    expected_reads: np.ndarray
    kappa: float = 1.0
    mad: float | None = None
    control_median_depth: float | None = None
    reasons: list[Reason] = field(default_factory=list)
    n_cohort: int = 0
    expected_depth: np.ndarray | None = None
    read_length: float = 150.0
    extra_sd: np.ndarray | None = None  # per-bin systematic noise added to `systematic_sd` (low-MAPQ bins)


def _loess(x: np.ndarray, y: np.ndarray, x_eval: np.ndarray, frac: float = 0.4, iterations: int = 2) -> np.ndarray:
    """Robust local-linear regression (tricube weights, bisquare reweighting) evaluated at `x_eval`."""
    n = len(x)
    k = max(5, int(math.ceil(frac * n)))
    robust = np.ones(n)

    def fit_at(points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for i, x0 in enumerate(points):
            dist = np.abs(x - x0)
            h = max(np.partition(dist, min(k, n) - 1)[min(k, n) - 1], 1e-9)
            w = np.clip(1 - (dist / (h * 1.0001)) ** 3, 0, None) ** 3 * robust
            sw = w.sum()
            if sw <= 0:
                out[i] = np.median(y)
                continue
            mx = (w * x).sum() / sw
            my = (w * y).sum() / sw
            var = (w * (x - mx) ** 2).sum()
            slope = (w * (x - mx) * (y - my)).sum() / var if var > 1e-12 else 0.0
            out[i] = my + slope * (x0 - mx)
        return out

    grid = np.linspace(x.min(), x.max(), 41) if x.max() > x.min() else np.array([x.min()])
    for _ in range(iterations):
        fitted = np.interp(x, grid, fit_at(grid))
        resid = y - fitted
        s = np.median(np.abs(resid))
        if s <= 0:
            break
        robust = np.clip(1 - (resid / (6 * s)) ** 2, 0, None) ** 2
    return np.interp(np.clip(x_eval, x.min(), x.max()), grid, fit_at(grid))


def _gc_expected(depth: np.ndarray, gc: np.ndarray, fit_mask: np.ndarray, gc_correct: bool) -> np.ndarray:
    """Depth expected at each bin's GC, fitted on `fit_mask` bins (loess when there are enough)."""
    level = float(np.median(depth[fit_mask]))
    expected = np.full(len(depth), level)
    x, y = gc[fit_mask], depth[fit_mask]
    if gc_correct and fit_mask.sum() >= 30 and np.ptp(x) >= 0.05 and level > 0:
        lo, hi = np.quantile(x, [0.01, 0.99])
        fitted = _loess(x, y, np.clip(np.where(np.isfinite(gc), gc, np.median(x)), lo, hi))
        expected = np.clip(fitted, 0.3 * level, 3 * level)
    return expected


def _read_length(depth: np.ndarray, reads: np.ndarray, lengths: np.ndarray, mask: np.ndarray) -> float:
    """Mean aligned read length from bins: reads = rate*(L+R), depth = rate*R => R = depth*L/(reads-depth)."""
    m = mask & (reads > depth + 1) & (depth > 0)
    if m.sum() < 5:
        return 150.0
    est = depth[m] * lengths[m] / (reads[m] - depth[m])
    return float(np.clip(np.median(est), 30.0, 100000.0))


def _calibrate(ratio: np.ndarray, expected_reads: np.ndarray, mask: np.ndarray, tau: float, by_diff: bool) -> float:
    """Scale of the variance model so standardised residuals of normal bins have unit robust spread."""
    z = (ratio[mask] - 1.0) / np.sqrt(1.0 / expected_reads[mask] + tau**2)
    if len(z) < 5:
        return 1.0
    if by_diff:
        spread = 1.4826 * np.median(np.abs(np.diff(z))) / math.sqrt(2)
    else:
        spread = 1.4826 * np.median(np.abs(z - np.median(z)))
    return float(max(spread**2, 0.5))


def looks_targeted(counts: pd.DataFrame, res: LocusResources, params: CnvParams | None = None) -> bool:
    """True for exome/panel data: most window bins away from targets and exons have almost no reads."""
    params = params or CnvParams()
    on = np.zeros(len(counts), dtype=bool)
    chroms = counts["chrom"].to_numpy()
    starts, ends = counts["start"].to_numpy(), counts["end"].to_numpy()
    for r in (*res.targets, *(Region(e.chrom, e.start - 1, e.end) for e in res.exons)):
        on |= (chroms == r.chrom) & (starts <= r.end) & (ends > r.start)
    depth = counts["depth"].to_numpy(dtype=float)
    on_level = np.median(depth[on]) if on.any() else 0.0
    off = ~on & (counts["kind"].to_numpy() != "exon")
    if on_level <= 0 or off.sum() < 10:
        return False
    return bool(np.mean(depth[off] < 0.05 * on_level) >= params.targeted_off_target_fraction)


def _normalise_single(counts: pd.DataFrame, params: CnvParams, mask: _BinMask | None = None) -> _Normalised:
    n = len(counts)
    mask = mask or _BinMask(np.ones(n, bool), np.ones(n, bool), np.full(n, "."), np.zeros(n), np.zeros(n))
    mappable = 1.0 - np.clip(mask.low_mapq, 0.0, 0.95)
    depth = counts["depth"].to_numpy(dtype=float) / mappable
    reads = counts["reads"].to_numpy(dtype=float)
    gc = counts["gc"].to_numpy(dtype=float)
    lengths = (counts["end"] - counts["start"] + 1).to_numpy(dtype=float)
    ctrl = (counts["kind"].to_numpy() == "control") & np.isfinite(gc) & mask.control_ok
    norm = _Normalised("single", np.full(len(counts), np.nan), np.full(len(counts), np.nan))
    if ctrl.sum() < params.min_control_bins:
        norm.reasons.append(Reason("cnv_too_few_control_bins", bins=int(ctrl.sum()), needed=params.min_control_bins))
        return norm
    norm.control_median_depth = float(np.median(depth[ctrl]))
    if norm.control_median_depth <= 0:
        norm.reasons.append(Reason("cnv_no_control_reads"))
        return norm
    expected = _gc_expected(depth, gc, ctrl, params.gc_correct)
    read_len = _read_length(depth * mappable, reads, lengths, ctrl)
    has_expectation = np.isfinite(gc) & (expected > 0)
    valid = has_expectation & mask.usable
    norm.ratio = np.where(valid, depth / expected, np.nan)
    norm.expected_reads = np.where(valid, mappable * expected * (lengths + read_len) / read_len, np.nan)
    # Masked bins keep an expected depth (what junction reads around them should number) but no ratio.
    norm.expected_depth = np.where(has_expectation, expected * mappable, np.nan)
    norm.extra_sd = mask.extra_sd(params)
    norm.read_length = read_len
    r_ctrl = norm.ratio[ctrl]
    norm.mad = float(np.median(np.abs(r_ctrl - np.median(r_ctrl))))
    norm.kappa = _calibrate(norm.ratio, norm.expected_reads, ctrl, params.systematic_sd, by_diff=False)
    return norm


def require_same_layout(counts: pd.DataFrame, others: list[pd.DataFrame], message: str) -> None:
    """An InputError (``message`` with ``{i}``, the 1-based position) for the first of ``others`` counted over
    other bins or targets than ``counts``."""
    for i, other in enumerate(others):
        if not _same_layout(counts, other):
            raise InputError(message.format(i=i + 1))


def _same_layout(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and all((a[c].to_numpy() == b[c].to_numpy()).all() for c in ("chrom", "start", "end"))


def _normalise_cohort(
    counts: pd.DataFrame, cohort: list[pd.DataFrame], params: CnvParams, mask: _BinMask | None = None
) -> _Normalised:
    """Ratio to the median of the other samples' normalised depth per bin (ExomeDepth/CNVkit-style).

    The cohort has the same mappability as the sample, so low-MAPQ bins need no correction, only the mask.
    """
    n = len(counts)
    mask = mask or _BinMask(np.ones(n, bool), np.ones(n, bool), np.full(n, "."), np.zeros(n), np.zeros(n))
    norm = _Normalised("cohort", np.full(n, np.nan), np.full(n, np.nan), n_cohort=len(cohort))
    require_same_layout(
        counts,
        cohort,
        "cohort sample {i} was counted with other bins (different --bin-size or resources): count every sample "
        "with the same settings",
    )
    depth = counts["depth"].to_numpy(dtype=float)
    reads = counts["reads"].to_numpy(dtype=float)
    gc = counts["gc"].to_numpy(dtype=float)
    lengths = (counts["end"] - counts["start"] + 1).to_numpy(dtype=float)
    others = np.vstack([o["depth"].to_numpy(dtype=float) for o in cohort])
    totals = (others * lengths).sum(axis=1) / lengths.sum()
    others = others[totals > 0]
    if len(others) < params.min_cohort:
        norm.reasons.append(Reason("cnv_too_few_cohort_with_reads", samples=len(others), needed=params.min_cohort))
        return norm
    ref0 = np.median(others / (others * lengths).sum(axis=1, keepdims=True), axis=0)
    weights = ref0 * lengths
    order = np.argsort(ref0)
    level = ref0[order][np.searchsorted(np.cumsum(weights[order]), 0.5 * weights.sum())]
    covered = (ref0 >= 0.1 * level) & np.isfinite(gc) & mask.usable
    if covered.sum() < params.min_control_bins:
        norm.reasons.append(Reason("cnv_too_few_cohort_bins", bins=int(covered.sum()), needed=params.min_control_bins))
        return norm
    scaled = others / np.median(others[:, covered] / ref0[covered], axis=1, keepdims=True)
    ref = np.median(scaled, axis=0)
    covered &= ref > 0
    scale = float(np.median(depth[covered] / ref[covered]))
    # Masked bins keep an expected depth (junction evidence around them) but give no ratio.
    covered_all = ((ref0 >= 0.1 * level) & np.isfinite(gc) & (ref > 0)) | covered
    if scale <= 0:
        norm.reasons.append(Reason("cnv_no_cohort_reads"))
        norm.control_median_depth = 0.0
        return norm
    expected_depth = np.where(covered_all, scale * ref, np.nan)
    ratio = np.where(covered, depth / np.where(covered, expected_depth, 1.0), np.nan)
    if params.gc_correct and covered.sum() >= 50 and np.ptp(gc[covered]) >= 0.05:
        trend = _loess(gc[covered], ratio[covered], np.where(np.isfinite(gc), gc, 0.5))
        factor = np.clip(trend / np.median(trend[covered]), 0.5, 2.0)
        factor = np.where(np.isfinite(factor), factor, 1.0)
        ratio = np.where(covered, ratio / factor, np.nan)
        expected_depth = expected_depth * factor
    ctrl = covered & (counts["kind"].to_numpy() == "control") & mask.control_ok
    qc_bins = ctrl if ctrl.sum() >= params.min_control_bins else covered
    norm.control_median_depth = float(np.median(depth[qc_bins]))
    read_len = _read_length(depth, reads, lengths, qc_bins)
    # The reference is a median of n samples: its noise adds about 1.57/n of one sample's Poisson noise.
    inflation = 1.0 + 1.57 / len(others)
    expected_reads = scale * ref * (lengths + read_len) / read_len / inflation
    norm.ratio = ratio
    norm.expected_reads = np.where(covered, expected_reads, np.nan)
    norm.expected_depth = expected_depth
    norm.read_length = read_len
    # The cohort shares the sample's mappability: only the repeat share down-weights here.
    norm.extra_sd = params.repeat_sd * np.clip(2.0 * mask.repeat - 1.0, 0.0, 1.0)
    ordered = ratio[qc_bins]
    norm.mad = float(np.median(np.abs(np.diff(ordered))) / math.sqrt(2))
    norm.kappa = _calibrate(ratio, norm.expected_reads, qc_bins, params.systematic_sd, by_diff=True)
    return norm
