"""Direct tests of the CNV model's parts: the GC loess against an independent lowess, and the two-copy
evidence (`evidence_against_loss`) on constructed emissions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dira_genotyper import cnv
from dira_genotyper.cnv.hmm import _log_emissions
from dira_genotyper.cnv.normalise import _gc_expected, _loess


# ------------------------------------------------------------------------------------------- the GC loess
def lowess(x: np.ndarray, y: np.ndarray, at: np.ndarray, frac: float, iterations: int) -> np.ndarray:
    """Cleveland's lowess written out: at every point a straight line fitted by weighted least squares, the
    weights tricube in the distance scaled by the k-th nearest neighbour's (k = frac * n, at least 5), then
    `iterations` rounds of bisquare robustness weights from the residuals (6 x their median absolute size).
    Residuals are those of the fit at every data point (no grid)."""
    n = len(x)
    k = max(5, math.ceil(frac * n))
    robust = np.ones(n)

    def fit(x0: float) -> float:
        d = np.abs(x - x0)
        h = np.sort(d)[k - 1]
        w = np.where(d < h, (1 - (d / h) ** 3) ** 3, 0.0) * robust
        design = np.column_stack([np.ones(n), x - x0])
        coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
        return float(coef[0])

    for _ in range(iterations):
        resid = y - np.array([fit(v) for v in x])
        s = np.median(np.abs(resid))
        robust = np.where(np.abs(resid) < 6 * s, (1 - (resid / (6 * s)) ** 2) ** 2, 0.0)
    return np.array([fit(v) for v in at])


def _gc_data(n: int = 400, outliers: float = 0.0, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin GC and depth with a smooth GC bias (peak near 45 % GC), Poisson-like noise, optional outliers."""
    rng = np.random.default_rng(seed)
    gc = rng.uniform(0.32, 0.62, n)
    truth = 30.0 * (1.0 + 0.6 * (gc - 0.45) - 6.0 * (gc - 0.45) ** 2)
    depth = truth + rng.normal(0, 1.5, n)
    bad = rng.random(n) < outliers
    depth[bad] *= rng.choice([0.3, 2.5], bad.sum())
    return gc, depth, truth


def test_loess_is_a_tricube_local_linear_fit():
    """Without robustness rounds the caller's loess at its 41 grid points is the textbook local-linear fit."""
    gc, depth, _ = _gc_data()
    grid = np.linspace(gc.min(), gc.max(), 41)
    ours = _loess(gc, depth, grid, frac=0.4, iterations=0)
    theirs = lowess(gc, depth, grid, frac=0.4, iterations=0)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)  # depth ~30; only the 1.0001 bandwidth margin differs


@pytest.mark.parametrize("frac", [0.2, 0.4, 0.7])
def test_robust_loess_matches_an_independent_lowess_with_outliers(frac):
    """With 10 % outlier bins, the robust loess (grid + interpolation) agrees with lowess computed at every
    point to within a fraction of the noise, and both follow the true GC curve where lowess without the
    robustness rounds is pulled off it."""
    gc, depth, truth = _gc_data(outliers=0.1)
    at = np.linspace(0.35, 0.6, 60)
    true_at = 30.0 * (1.0 + 0.6 * (at - 0.45) - 6.0 * (at - 0.45) ** 2)
    ours = _loess(gc, depth, at, frac=frac, iterations=2)
    theirs = lowess(gc, depth, at, frac=frac, iterations=2)
    assert np.max(np.abs(ours - theirs)) < 0.3  # noise sd 1.5
    assert np.max(np.abs(ours - true_at)) < 1.0
    plain = lowess(gc, depth, at, frac=frac, iterations=0)
    assert np.mean(np.abs(plain - true_at)) > np.mean(np.abs(ours - true_at))


def test_gc_expected_follows_the_gc_curve_and_can_be_switched_off():
    gc, depth, truth = _gc_data()
    fit_on = np.ones(len(gc), dtype=bool)
    expected = _gc_expected(depth, gc, fit_on, gc_correct=True)
    assert np.max(np.abs(expected / truth - 1)) < 0.05
    # Bins without GC get the expectation at the median GC; without correction every bin gets the median.
    gc_missing = gc.copy()
    gc_missing[:3] = np.nan
    with_nan = _gc_expected(depth, gc_missing, np.isfinite(gc_missing), gc_correct=True)
    assert np.all(np.isfinite(with_nan))
    flat = _gc_expected(depth, gc, fit_on, gc_correct=False)
    assert np.all(flat == np.median(depth))


# ------------------------------------------------------------------------------ the two-copy evidence test
N_BINS = 21
STARTS = np.arange(N_BINS) * 1000 + 1
ENDS = STARTS + 999


def nats(ratio: np.ndarray, reads: float, junction: tuple[float, float] = (0.0, 0.0)) -> float:
    """evidence_against_loss over bins 5..15 of 1 kb bins with `reads` expected reads each (two copies)."""
    log_em = _log_emissions(np.asarray(ratio, dtype=float), np.full(N_BINS, float(reads)), 1.0, cnv.CnvParams())
    return cnv.evidence_against_loss(log_em, STARTS, ENDS, 5, 15, 1000, junction_loglik=junction)


def _with_loss(ratio: float, first: int = 9, last: int = 11) -> np.ndarray:
    r = np.ones(N_BINS)
    r[first : last + 1] = ratio
    return r


MIN_QUALITY_NATS = 20 / (10 * math.log10(math.e))  # Phred 20 in nats: what a call needs


def test_strong_two_copy_data_rule_a_deletion_out():
    assert nats(np.ones(N_BINS), 2000) > 3 * MIN_QUALITY_NATS


def test_a_clear_loss_is_evidence_against_two_copies():
    assert nats(_with_loss(0.5), 2000) < -MIN_QUALITY_NATS  # one copy lost over 3 kb
    assert nats(_with_loss(0.02), 2000) < -MIN_QUALITY_NATS  # both copies
    assert nats(_with_loss(0.5), 2000) < nats(_with_loss(0.8), 2000) < nats(np.ones(N_BINS), 2000)


def test_shallow_data_give_little_either_way():
    """At a few reads per bin neither two copies nor a loss reaches a callable quality."""
    for ratio in (np.ones(N_BINS), _with_loss(0.5)):
        assert abs(nats(ratio, 4)) < MIN_QUALITY_NATS


def test_evidence_grows_with_depth():
    values = [nats(np.ones(N_BINS), reads) for reads in (4, 50, 200, 2000)]
    assert values == sorted(values) and values[0] < MIN_QUALITY_NATS < values[-1]


def test_junction_reads_multiply_into_every_alternative():
    """A junction log-likelihood ratio c for both CN 1 and CN 0 deletions shifts the evidence by exactly -c."""
    flat = nats(np.ones(N_BINS), 200)
    assert nats(np.ones(N_BINS), 200, junction=(-5.0, -5.0)) == pytest.approx(flat + 5.0, abs=1e-9)
    # Junction reads seen (a deletion more likely) lower it; absent ones where a CN 0 deletion would show
    # many raise it more than for CN 1 alone.
    assert nats(np.ones(N_BINS), 200, junction=(3.0, 3.0)) < flat
    assert flat < nats(np.ones(N_BINS), 200, junction=(-1.0, -8.0)) < flat + 8.0


def test_the_deletion_must_contain_the_exon_bins():
    """With `contain`, only deletions covering the exon's bins are alternatives: a loss elsewhere in the
    tested stretch does not count against the exon's two copies."""
    log_em = _log_emissions(_with_loss(0.5, 5, 7), np.full(N_BINS, 2000.0), 1.0, cnv.CnvParams())
    anywhere = cnv.evidence_against_loss(log_em, STARTS, ENDS, 5, 15, 1000)
    around_exon = cnv.evidence_against_loss(log_em, STARTS, ENDS, 5, 15, 1000, contain=(12, 12))
    assert anywhere < 0 < MIN_QUALITY_NATS < around_exon
