"""Thresholds of the copy-number decision and the Phred scale of its qualities."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_QUALITY = 99.0


@dataclass
class CnvParams:
    """Thresholds of the copy-number decision. Defaults suit 30x WGS with 1 kb bins."""

    max_cn: int = 4
    transition_prob: float = 1e-4  # per bin, of leaving a copy-number state
    outlier_weight: float = 1e-3  # share of bins whose depth follows no copy number (mapping artefacts)
    outlier_scale: float = 5.0  # their spread, in units of the model's standard deviation
    cn0_ratio: float = 0.02  # depth ratio left in a homozygous deletion by mismapped reads
    cn0_min_sd: float = 0.0  # floor of the CN 0 ratio's sd (targeted data: `targeted_cn0_min_sd`)
    systematic_sd: float = 0.02  # depth noise that does not shrink with more reads
    # Below this median control-bin depth the count model itself is unsafe: a 1 kb bin at one copy then
    # expects < 30 reads (0.5 * depth * (1000 + 150) / 150), where the Gaussian approximation of the
    # Poisson count behind every emission and quality is poor. Loss of power at low depth is not handled
    # here but by each call's own quality (bench_cnv with this floor at 4: no wrong call at 12/10/8/6x).
    min_control_depth: float = 8.0
    max_mad: float = 0.15  # of the control bins' depth ratio
    min_control_bins: int = 20
    min_quality: float = 20.0  # Phred; below it a gene/exon/deletion call is null
    min_cohort: int = 3
    targeted_off_target_fraction: float = 0.5  # share of off-target bins near zero that marks targeted data
    gc_correct: bool = True
    breakpoint_slack: int | None = None  # bases searched around a segment end; default 1.5 bins
    min_clip: int = 10
    min_split_support: int = 2
    min_mapq: int = 20
    min_test_bp: int = 1000  # a two-copy call must exclude a deletion of this size with its own data
    # Junction reads (given a BAM): a deletion of >= min_test_bp leaves split/clipped reads and long-insert
    # pairs at its junction. Share of the templates expected in theory that are assumed to be seen: in
    # bench_cnv the templates found per simulated deletion average 1.04-1.10x theory at 10-60x (10th
    # percentile 0.5-0.8, Poisson noise included) and the scanned statistic, which counts a split template
    # at both ends, 2.0x; 0.7 leaves a margin for real data (shorter or worse reads, other aligners).
    junction_efficiency: float = 0.7
    # Chance that a deletion in uniquely mappable sequence shows no junction read at all whatever the depth
    # (pipeline losses); raised by the share of low-MAPQ reads around, where a junction can hide in a
    # repeat. It caps what absent junction reads can add to a two-copy call at 40 Phred.
    hidden_junction_prob: float = 1e-4
    # Mask (resources mask.bed + the sample's own MAPQ): a bin is no copy-number evidence when at least
    # `max_blacklist_fraction` of it is ENCODE-blacklisted or `max_low_mapq` of its reads have MAPQ <
    # min_mapq (young repeats, segmental duplications: the depth counted there says little about copy
    # number, and a homozygous deletion can be filled by mismapped reads). RepeatMasker sequence alone is
    # not masked (old repeats map uniquely) but down-weighted: a bin more than half repeat gets up to
    # `repeat_sd` more systematic noise (linear in the share above half). Control bins (normalisation) must
    # be cleaner: repeat share <= `control_max_repeat`, low-MAPQ share <= `control_max_low_mapq`, no
    # blacklist. Exon bins of the target gene are never masked. In single-sample mode the MAPQ-filtered
    # depth of a bin is divided by (1 - its low-MAPQ share), its expected read count multiplied by it, and
    # `low_mapq_sd` * share is added to its systematic noise.
    max_blacklist_fraction: float = 0.5
    repeat_sd: float = 0.1
    max_low_mapq: float = 0.5
    control_max_repeat: float = 0.5
    control_max_low_mapq: float = 0.2
    low_mapq_sd: float = 0.5
    # Targeted data (exome/panel; cnv/reference.py): the reference is the run's other samples of the same
    # design. At least `min_reference` of them (fewer leaves a carrier in the reference able to hide a
    # deletion), at most `max_reference` chosen, their mean correlation of per-target log depth with the
    # sample at least `min_reference_correlation`. A reference sample's value at a target more than
    # `reference_outlier` (log) from the pool's is left out there (a deletion it carries); pool values more
    # than `dispersion_clip` from the median are no dispersion. Per-target dispersion is shrunk toward the
    # median target's with the weight of `dispersion_prior_weight` samples; the calibration factor is at least
    # `min_kappa`. The HMM's chance of a copy-number change between two targets is
    # `targeted_transition_prob` (ExomeDepth's 1e-4): it finds runs of targets, and one discordant target
    # inside a run does not break it; single exons of IL1RN/IL36RN are the per-exon test's (cnv/exon_test.py).
    # A target's dispersion is its own, so the share of targets following no copy number
    # (`targeted_outlier_weight`) is small: the genome bins' 1e-3 would cap one target's evidence near 7 nats.
    # Targets of one contig closer than `targeted_region_gap` form one region (a deletion is a run of them).
    # The two-copy test of an exon excludes a deletion of its own target(s) (min_test_bp 1): a deletion inside
    # a target is not excludable on depth.
    min_reference: int = 3
    max_reference: int = 15
    min_reference_correlation: float = 0.9
    reference_outlier: float = 0.35
    dispersion_prior_weight: float = 10.0
    dispersion_clip: float = 0.5  # log ratio from the pool's median beyond which a value is no dispersion
    # A loss the run shares: at a target where `max_shared_loss` or more of the reference samples lie
    # `shared_loss_drop` (log; 0.5 ~ a ratio of 0.6) below the pool's top, the pool's median may be one copy
    # and a carrier would look like two copies: no ratio there (cnv_reference_shared_loss).
    shared_loss_drop: float = 0.5
    max_shared_loss: float = 0.4
    min_kappa: float = 0.8
    min_targets: int = 10
    targeted_transition_prob: float = 1e-4
    targeted_outlier_weight: float = 1e-8
    targeted_cn0_min_sd: float = 0.02  # an empty target at 1,000x is CN 0, not "no state fits" (hmm.py)
    targeted_region_gap: int = 1_000_000


def phred(p_wrong: float) -> float:
    if p_wrong <= 10 ** (-MAX_QUALITY / 10):
        return MAX_QUALITY
    return float(min(MAX_QUALITY, -10.0 * math.log10(p_wrong)))


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)
