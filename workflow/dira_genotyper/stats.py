"""Small probability helpers shared by the stages (exact at panel and amplicon depths)."""

from __future__ import annotations

import math

import numpy as np


def binomial_logcdf(k: int, n: int, p: float) -> float:
    """log P(X <= k) for X ~ Binomial(n, p), summed in log space.

    The terms comb(n, i) p^i (1-p)^(n-i) are added as logs (lgamma + log-sum-exp): the plain sum overflows
    (``math.comb`` beyond 1e308 cannot become a float: depth ~1,030 and more) or underflows (0.5^n for n > 1074)
    at the depth of a gene panel, where allele fractions and detection power are judged on 500-10,000 reads.
    """
    if k < 0:
        return -math.inf
    if k >= n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return -math.inf
    i = np.arange(int(k) + 1, dtype=np.float64)
    # log C(n, i) by the recurrence C(n, i + 1) = C(n, i) (n - i) / (i + 1): one vectorised pass
    log_comb = np.concatenate([[0.0], np.cumsum(np.log(n - i[:-1]) - np.log(i[:-1] + 1.0))])
    log_terms = log_comb + i * math.log(p) + (n - i) * math.log1p(-p)
    top = float(log_terms.max())
    return min(0.0, top + math.log(float(np.exp(log_terms - top).sum())))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p) (see :func:`binomial_logcdf`)."""
    return math.exp(binomial_logcdf(k, n, p))
