"""How strongly the data rule out a deletion: depth (evidence_against_loss) and junction reads."""

from __future__ import annotations

import math

import numpy as np

from dira_genotyper.cnv import breakpoints as bp
from dira_genotyper.cnv import junctions as jn
from dira_genotyper.cnv.params import CnvParams


def evidence_against_loss(
    log_em: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    first: int,
    last: int,
    min_span: int,
    contain: tuple[int, int] | None = None,
    junction_loglik: tuple[float, float] = (0.0, 0.0),
) -> float:
    """The data's own evidence (nats) for two copies against a deletion somewhere in bins first..last.

    The HMM's prior makes short deletions rare, so a two-copy posterior can be high with no data behind it
    (shallow coverage, a short exon). Here the alternative is one deletion (CN 1 or CN 0) equally likely to
    be any shortest run of bins spanning >= `min_span` bp (containing bins `contain`, if given): the result
    is -log of the mean likelihood ratio alternative/two-copies, i.e. the posterior log-odds of two copies
    when a deletion and no deletion are a priori equally likely. A two-copy call is never more confident
    than that.

    `junction_loglik` is the log-likelihood ratio (deletion of CN 1, of CN 0 against two copies) of the
    junction reads seen around the bins (see `junction_loglik`), an independent observation multiplied
    into every alternative of that copy number; (0, 0) = depth alone.
    """
    diff = np.stack([log_em[first : last + 1, 2] - log_em[first : last + 1, k] for k in (1, 0)])
    cum = np.concatenate([np.zeros((2, 1)), np.cumsum(diff, axis=1)], axis=1)
    s, e = starts[first : last + 1], ends[first : last + 1]
    span_needed = min(min_span, int(e[-1] - s[0] + 1))
    n = last - first + 1
    ratios: list[np.ndarray] = []
    for a in range(n):
        if contain is not None and a > contain[0] - first:
            break
        lo = a if contain is None else max(a, contain[1] - first)
        ok = np.flatnonzero((np.arange(n) >= lo) & (e - s[a] + 1 >= span_needed))
        if len(ok):
            ratios.append(cum[:, ok[0] + 1] - cum[:, a])
    if not ratios:
        ratios.append(cum[:, -1] - cum[:, 0])
    lr = np.stack(ratios) - np.asarray(junction_loglik, dtype=float)[None, :]
    neg = -lr.ravel()
    top = neg.max()
    return float(-(top + math.log(np.mean(np.exp(neg - top)))))


def _poisson_logcdf(k: int, lam: float) -> float:
    """log P(X <= k) for X ~ Poisson(lam), computed in log space.

    The terms exp(-lam) lam^i / i! are summed as logs (lgamma + log-sum-exp), so the result stays exact at
    panel/amplicon depths where exp(-lam) underflows (lam >= ~745). Summing from the largest term keeps
    the relative error at rounding level for any k and lam.
    """
    if k < 0:
        return -math.inf
    if lam <= 0:
        return 0.0
    i = np.arange(int(k) + 1, dtype=np.float64)
    log_terms = -lam + i * math.log(lam) - np.array([math.lgamma(x + 1.0) for x in i])
    top = float(log_terms.max())
    return min(0.0, top + math.log(float(np.exp(log_terms - top).sum())))


def _poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam) (from the log-space value; may be 0.0 only when truly < 1e-308)."""
    return math.exp(_poisson_logcdf(k, lam))


def _log_mix(log_hidden: float, hidden: float, log_p: float) -> float:
    """log(hidden + (1 - hidden) * exp(log_p)) without leaving log space."""
    seen = math.log1p(-hidden) + log_p if hidden < 1.0 else -math.inf
    return float(np.logaddexp(log_hidden, seen))


def junction_loglik(
    scan: jn.JunctionScan,
    depth: float,
    read_length: float,
    isize: bp.InsertSizeModel | None,
    params: CnvParams,
) -> tuple[float, float]:
    """Log-likelihood ratio (deletion of CN 1, of CN 0 against two copies) of the junction reads in a scan.

    A deletion of >= `min_test_bp` inside the scanned region joins two distant bases: each lost copy gives
    reads crossing the junction with >= `min_clip` bases on both sides (split or clipped there) and read
    pairs whose insert spans it. At two-copy depth `depth` that is, per lost copy, about
    depth/2/L * (L - 2*min_clip + 1) reads plus depth/4/L * (insert - 2L) pairs (L = read length), scaled by
    `junction_efficiency`. At most `scan.most` of them were seen, so P(seen | deletion) <= P(X <= most), X
    Poisson; with probability `hidden` (`hidden_junction_prob`, raised by the share of reads of the region
    that do not map uniquely) the junction could not have been seen at all. The probability of the same
    reads under two copies is taken as 1, which can only understate the evidence for two copies.
    """
    per_base = max(0.0, depth) / 2.0 / read_length
    split = per_base * max(0.0, read_length - 2 * params.min_clip + 1)
    pairs = per_base / 2.0 * max(0.0, isize.median - 2 * read_length) if isize else 0.0
    lam = params.junction_efficiency * (split + pairs)
    hidden = params.hidden_junction_prob + (1.0 - params.hidden_junction_prob) * (1.0 - scan.mappable)
    log_hidden = math.log(hidden) if hidden > 0 else -math.inf
    out = [_log_mix(log_hidden, hidden, _poisson_logcdf(scan.most, lost * lam)) for lost in (1, 2)]
    return out[0], out[1]
