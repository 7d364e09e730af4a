"""Targeted copy number: a reference from the run's other samples (leave-one-out), per-target ratios, calls.

Capture efficiency differs from target to target by several fold but is the same for every sample of one kit,
so each target's depth is compared with the same target in other samples (ExomeDepth, CNVkit). Here:

1. **Size factors** per sample: the median over targets of log depth minus the pool's per-target median
   (median-of-ratios), over the control regions' targets when there are enough (never deleted in DIRA), so a
   large deletion of the sample does not shift its scale.
2. **Reference choice** (as ExomeDepth's ``select.reference.set``): the other samples ranked by the correlation
   of their per-target log depth with the sample's; the reference is the top k, k chosen to minimise the
   robust variance of the sample's log ratio to it (at least :attr:`CnvParams.min_reference` samples).
3. **Robust reference**: per target the mean log depth of the chosen samples, leaving out a sample whose value
   there is an outlier against the whole pool (a carrier of a deletion in the run must not pull the reference
   down: ``reference_outlier``).
4. **Ratio** of the sample to the reference per target; every sample's trend with target GC and length
   against the pool's median is removed first (loess), so a sample's own GC bias is not read as copy number.
5. **Dispersion** per target: the spread of the pool's own log ratios there beyond counting noise (an
   outlier-trimmed sd),
   shrunk toward the median over targets (empirical Bayes), so a target that is noisy in every sample is
   trusted less; calibrated on the sample's own residuals.

The ratios, expected reads and dispersion go to the copy-number HMM of :mod:`.segments` with targets as bins
(one region per contig: a deletion is a run of contiguous targets), so exon, gene and deletion calls, their
Phred qualities and the two-copy test are the whole-genome caller's. When the reference is not good enough
(too few samples, poor correlation) there is no call, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dira_genotyper.cnv.bins import bin_mask
from dira_genotyper.cnv.exon_test import apply_exon_tests
from dira_genotyper.cnv.normalise import _loess, _Normalised, require_same_layout
from dira_genotyper.cnv.params import CnvParams
from dira_genotyper.cnv.resources import LocusResources, load_resources
from dira_genotyper.cnv.result import CnvResult
from dira_genotyper.cnv.segments import _decide, _no_call_result
from dira_genotyper.reasons import Reason

MIN_TARGET_READS = 20  # a target is copy-number evidence when the pool's median count reaches this
MIN_SIZE_TARGETS = 10  # control-region targets needed to scale samples on them alone


@dataclass
class Reference:
    """The chosen reference and how good it is."""

    chosen: list[int]  # indices into the pool, best-correlated first
    correlations: list[float]  # every pool sample's, pool order
    robust_sd: float  # of the sample's log ratio to the chosen reference
    log_ref: np.ndarray  # per target, mean log depth (size-normalised) of the chosen samples
    n_used: np.ndarray  # per target, chosen samples not left out as outliers
    tau: np.ndarray  # per target dispersion (sd of log ratio beyond counting noise)
    names: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        chosen = [self.names[i] if i < len(self.names) else str(i) for i in self.chosen]
        return {
            "samples": chosen,
            "correlation": [round(self.correlations[i], 4) for i in self.chosen],
            "pool": len(self.correlations),
            "log_ratio_sd": round(self.robust_sd, 4),
        }


def _mad_sd(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    med = np.median(x, axis=axis, keepdims=True)
    return 1.4826 * np.median(np.abs(x - med), axis=axis)


def _scale_mask(counts: pd.DataFrame, res: LocusResources, usable: np.ndarray) -> np.ndarray:
    """Targets that scale a sample: those in control regions when there are enough, else every usable one."""
    chroms, starts, ends = counts["chrom"].to_numpy(), counts["start"].to_numpy(), counts["end"].to_numpy()
    in_ctrl = np.zeros(len(counts), dtype=bool)
    for r in res.controls:
        in_ctrl |= (chroms == r.chrom) & (starts > r.start) & (ends <= r.end)
    return usable & in_ctrl if (usable & in_ctrl).sum() >= MIN_SIZE_TARGETS else usable


def _robust_reference(logs: np.ndarray, anchor: np.ndarray, outlier: float) -> tuple[np.ndarray, np.ndarray]:
    """Per target the mean of `logs` (k, n) leaving out values more than `outlier` from the pool's `anchor`
    (after each sample's own median offset); all of them where every value is an outlier."""
    dev = logs - anchor[None, :]
    dev -= np.median(dev, axis=1, keepdims=True)
    keep = np.abs(dev) <= outlier
    none = ~keep.any(axis=0)
    keep[:, none] = True
    n_used = keep.sum(axis=0)
    return (np.where(keep, logs, 0.0).sum(axis=0) / n_used), n_used


def _robust_sd(dev: np.ndarray, clip: float) -> np.ndarray:
    """Per column, the sd of `dev` (samples x log ratio per target) leaving out values more than `clip` from the
    median: a deletion a pool sample carries (log 0.5 = -0.69 at one copy) is not dispersion. A fixed clip, not a
    multiple of the MAD: with ten samples one carrier inflates the MAD enough to keep itself in."""
    med = np.median(dev, axis=0, keepdims=True)
    keep = np.abs(dev - med) <= clip
    n = np.maximum(keep.sum(axis=0), 2)
    mean = np.where(keep, dev, 0.0).sum(axis=0) / n
    return np.sqrt(np.where(keep, (dev - mean) ** 2, 0.0).sum(axis=0) / (n - 1))


def corrected_logs(
    reads: np.ndarray, n_test: int, gc: np.ndarray, lengths: np.ndarray, scale: np.ndarray, gc_correct: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Size-normalised log counts (samples x targets), each sample's trend with target GC and length against
    the pool's per-target median removed; and that median (the pool = rows from `n_test` on)."""
    logs = np.log(reads + 0.5)
    anchor = np.median(logs[n_test:], axis=0)
    logs -= np.median(logs[:, scale] - anchor[None, scale], axis=1, keepdims=True)
    if gc_correct:
        for row in range(len(logs)):
            dev = _detrend(logs[row] - anchor, gc, scale)
            dev = _detrend(dev, np.log(lengths), scale)
            logs[row] = anchor + dev - np.median(dev[scale])
    return logs, np.median(logs[n_test:], axis=0)


def shared_losses(pool_logs: np.ndarray, params: CnvParams) -> np.ndarray:
    """Targets where `max_shared_loss` or more of the samples (rows: the run's samples of the design) lie
    `shared_loss_drop` (log) or more below the highest one: a deletion many samples of the run share (a family,
    a founder allele). There the pool's median may be one copy, and no reference can say which level is two
    copies: a carrier would look like two copies. Such targets give no ratio (no call), never a guess. (The
    highest, not a quantile: with four carriers in five any quantile but the top is a carrier's.)"""
    top = pool_logs.max(axis=0)
    low = pool_logs < top[None, :] - params.shared_loss_drop
    return low.mean(axis=0) >= params.max_shared_loss


def choose_reference(
    logs: np.ndarray, pool_reads: np.ndarray, usable: np.ndarray, scale: np.ndarray, params: CnvParams
) -> Reference:
    """The best-correlated pool samples that minimise the variance of the test's log ratio (see module doc).

    `logs` are :func:`corrected_logs` (row 0 the test, then the pool), `pool_reads` the pool's read counts per
    target; `usable` the targets that are evidence, `scale` those that set each sample's size factor.
    """
    t, p = logs[0], logs[1:]
    anchor = np.median(p, axis=0)
    # Correlation over the scaling targets (the control regions' when there are enough): a large deletion of
    # the sample must not make its reference look poor.
    corr = [float(np.corrcoef(t[scale], row[scale])[0, 1]) for row in p]
    order = [int(i) for i in np.argsort(-np.nan_to_num(np.asarray(corr), nan=-1.0), kind="stable")]
    k_min = min(params.min_reference, len(order))
    best: tuple[float, int] | None = None
    for k in range(k_min, min(len(order), params.max_reference) + 1):
        log_ref, _ = _robust_reference(p[order[:k]], anchor, params.reference_outlier)
        lr = t - log_ref
        sd = float(_mad_sd(lr[usable] - np.median(lr[scale])))
        if best is None or sd < best[0] - 1e-9:
            best = (sd, k)
    sd, k = best if best is not None else (float("nan"), 0)
    chosen = order[:k]
    log_ref, n_used = _robust_reference(p[chosen], anchor, params.reference_outlier)
    # Dispersion: the pool's log ratios to its own median, beyond their counting noise, per target.
    dev = p - anchor[None, :]
    poisson = np.mean(1.0 / (pool_reads + 0.5), axis=0)
    raw = np.maximum(_robust_sd(dev, params.dispersion_clip) ** 2 - poisson, 0.0) if len(p) >= 3 else np.zeros(len(t))
    prior = float(np.median(raw[usable])) if usable.any() else 0.0
    weight = max(len(p) - 1, 0)
    tau = np.sqrt((weight * raw + params.dispersion_prior_weight * prior) / (weight + params.dispersion_prior_weight))
    return Reference(chosen, corr, sd, log_ref, n_used, tau)


def _detrend(log_ratio: np.ndarray, x: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """`log_ratio` minus its loess trend in `x` (fitted on `fit` targets), when there are enough to fit."""
    ok = fit & np.isfinite(x)
    if ok.sum() < 30 or np.ptp(x[ok]) <= 0:
        return log_ratio
    trend = _loess(x[ok], log_ratio[ok], np.where(np.isfinite(x), x, np.median(x[ok])))
    return log_ratio - (trend - np.median(trend[ok]))


def normalise_targeted(
    counts: pd.DataFrame,
    cohort: list[pd.DataFrame],
    res: LocusResources,
    params: CnvParams,
    names: list[str] | None = None,
    notes: list[Reason] | None = None,
) -> tuple[_Normalised, Reference | None]:
    """Per-target ratio to the chosen reference, expected reads and dispersion (see the module doc). Targets
    left out for a loss the run shares are named in `notes` (appended)."""
    notes = notes if notes is not None else []
    n = len(counts)
    norm = _Normalised("targeted", np.full(n, np.nan), np.full(n, np.nan), n_cohort=len(cohort))
    require_same_layout(
        counts,
        cohort,
        "reference sample {i} was counted over other targets: count every sample with the same targets BED "
        "(config `targets`)",
    )
    if len(cohort) < params.min_reference:
        norm.reasons.append(Reason("cnv_reference_too_few", samples=len(cohort), needed=params.min_reference))
        return norm, None
    reads = counts["reads"].to_numpy(dtype=float)
    pool = np.vstack([o["reads"].to_numpy(dtype=float) for o in cohort])
    mask = bin_mask(counts, res, params)
    gc = counts["gc"].to_numpy(dtype=float)
    usable = mask.usable & np.isfinite(gc) & (np.median(pool, axis=0) >= MIN_TARGET_READS)
    if usable.sum() < params.min_targets:
        norm.reasons.append(Reason("cnv_too_few_targets", targets=int(usable.sum()), needed=params.min_targets))
        return norm, None
    scale = _scale_mask(counts, res, usable)
    lengths = (counts["end"] - counts["start"] + 1).to_numpy(dtype=float)
    logs, _ = corrected_logs(np.vstack([reads[None, :], pool]), 1, gc, lengths, scale, params.gc_correct)
    ref = choose_reference(logs, pool, usable, scale, params)
    # Judged over the whole pool of the same design (correlated samples: a sample of another kit deviates
    # everywhere), not the chosen few: three carriers chosen together agree with each other.
    peers = [j for j, c in enumerate(ref.correlations) if c >= params.min_reference_correlation]
    enough = len(peers) >= params.min_reference
    shared = shared_losses(logs[1:][peers], params) & usable if enough else np.zeros_like(usable)
    if shared.any():
        exons = tuple(n for n in counts["name"].to_numpy()[shared] if n != ".")
        notes.append(
            Reason("cnv_reference_shared_loss", targets=int(shared.sum()), exons=exons, samples=len(ref.chosen))
        )
        usable &= ~shared
        scale &= ~shared
        logs, _ = corrected_logs(np.vstack([reads[None, :], pool]), 1, gc, lengths, scale, params.gc_correct)
        ref = choose_reference(logs, pool, usable, scale, params)
    ref.names = list(names or [])
    norm.n_cohort = len(ref.chosen)
    best = float(np.mean([ref.correlations[i] for i in ref.chosen]))
    if not best >= params.min_reference_correlation:
        norm.reasons.append(
            Reason("cnv_reference_poor_correlation", correlation=best, min_correlation=params.min_reference_correlation)
        )
        return norm, ref
    log_ratio = logs[0] - ref.log_ref
    log_ratio -= np.median(log_ratio[scale])
    ratio = np.exp(log_ratio)
    expected = (reads + 0.5) / ratio  # the sample's reads at two copies (the ratio used reads + 0.5)
    effective = 1.0 / (1.0 / expected + 1.0 / (expected * ref.n_used))  # the reference's own counting noise
    norm.ratio = np.where(usable, ratio, np.nan)
    norm.expected_reads = np.where(usable, effective, np.nan)
    norm.extra_sd = ref.tau
    depth = counts["depth"].to_numpy(dtype=float)
    norm.control_median_depth = float(np.median(depth[scale]))
    norm.mad = float(np.median(np.abs(ratio[scale] - np.median(ratio[scale]))))
    sd = np.sqrt(1.0 / effective + params.systematic_sd**2 + ref.tau**2)
    z = ((ratio - 1.0) / sd)[scale]
    norm.kappa = float(max(_mad_sd(z) ** 2, params.min_kappa))
    return norm, ref


def call_targeted(
    counts_df: pd.DataFrame,
    cohort: list[pd.DataFrame],
    resources_dir: str,
    params: CnvParams | None = None,
    sample: str | None = None,
    names: list[str] | None = None,
    notes: list[Reason] | None = None,
) -> CnvResult:
    """Copy number per target, exon, gene and deletion of a capture sample against the run's other samples."""
    params = params or CnvParams()
    res = load_resources(resources_dir)
    counts = counts_df.reset_index(drop=True)
    notes = list(notes or [])
    norm, ref = normalise_targeted(counts, cohort, res, params, names, notes)
    if not norm.reasons and norm.control_median_depth is not None:
        if norm.control_median_depth < params.min_control_depth:
            norm.reasons.append(
                Reason("cnv_shallow_controls", depth=norm.control_median_depth, min_depth=params.min_control_depth)
            )
        if norm.mad is not None and norm.mad > params.max_mad:
            norm.reasons.append(Reason("cnv_noisy", mad=norm.mad, max_mad=params.max_mad))
    mask = bin_mask(counts, res, params)
    if norm.reasons:
        result = _no_call_result(counts, res, norm, sample, mask)
    else:
        hmm_params = replace(
            params,
            transition_prob=params.targeted_transition_prob,
            outlier_weight=params.targeted_outlier_weight,
            cn0_min_sd=params.targeted_cn0_min_sd,
            min_test_bp=1,
        )
        result = _decide(counts, res, norm, hmm_params, sample, mask, region_gap=params.targeted_region_gap)
        apply_exon_tests(result, norm, res, hmm_params)
        _add_z_scores(result, norm, res, params)
    result.reasons = notes + result.reasons
    result.extra["reference"] = ref.to_json() if ref is not None else None
    return result


def _add_z_scores(result: CnvResult, norm: _Normalised, res: LocusResources, params: CnvParams) -> None:
    """Each called exon's confidence on the scale labs read: the z-score of its lowest target's ratio against
    two copies (counting noise, the reference's dispersion there, the sample's calibration). A heterozygous
    single-exon deletion at 100x sits near -5 to -10; the copy-number call itself is the HMM's."""
    starts, ends = result.bins["start"].to_numpy(), result.bins["end"].to_numpy()
    chroms = result.bins["chrom"].to_numpy()
    tau = norm.extra_sd if norm.extra_sd is not None else np.zeros(len(starts))
    for entry, exon in zip(result.exons, res.exons, strict=True):
        rows = np.flatnonzero((chroms == exon.chrom) & (starts <= exon.end) & (ends >= exon.start))
        rows = rows[np.isfinite(norm.ratio[rows])]
        if len(rows):
            z = [z_score(norm.ratio[i], norm.expected_reads[i], tau[i], norm.kappa, params) for i in rows]
            entry["z"] = round(float(min(z)), 2)


def z_score(ratio: float, expected_reads: float, tau: float, kappa: float, params: CnvParams) -> float:
    """(ratio - 1) / its standard deviation under two copies (counting noise, dispersion, calibration)."""
    return (ratio - 1.0) / math.sqrt(kappa * (1.0 / expected_reads + params.systematic_sd**2 + tau**2))
