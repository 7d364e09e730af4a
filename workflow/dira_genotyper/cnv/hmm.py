"""Emissions and the hidden Markov model over copy numbers 0..max_cn."""

from __future__ import annotations

import math

import numpy as np

from dira_genotyper.cnv.params import CnvParams


def _log_emissions(
    ratio: np.ndarray,
    expected_reads: np.ndarray,
    kappa: float,
    params: CnvParams,
    extra_sd: np.ndarray | None = None,
) -> np.ndarray:
    """log P(ratio | CN) per bin and CN: a Gaussian (Poisson + systematic variance) mixed with a 5x wider one.

    The wide component stands for bins that follow no model (mapping artefacts, GC outliers): it caps how
    much one bin can weigh but, unlike a flat floor, still prefers the copy number nearest the ratio.
    """
    means = np.array([params.cn0_ratio] + [k / 2 for k in range(1, params.max_cn + 1)])
    poisson_mean = np.maximum(means, 0.05)
    sd = np.full(len(ratio), params.systematic_sd)
    if extra_sd is not None:
        sd = np.sqrt(sd**2 + np.asarray(extra_sd, dtype=float) ** 2)
    var = kappa * (poisson_mean[None, :] / expected_reads[:, None] + (means[None, :] * sd[:, None]) ** 2)
    var = np.maximum(var, 1e-6)
    # No reads at all is two-copy-like for none and CN 0 for every depth: without a floor on the CN 0 spread,
    # a deep target's ratio of 0.0001 lies many sd from the mismapped-read mean `cn0_ratio` and every state
    # falls to the floor below, leaving the call to the prior (targeted data at panel depth).
    var[:, 0] = np.maximum(var[:, 0], params.cn0_min_sd**2)
    r = np.clip(ratio, 0, None)[:, None]

    def gauss(v: np.ndarray) -> np.ndarray:
        return -0.5 * (r - means[None, :]) ** 2 / v - 0.5 * np.log(2 * math.pi * v)

    core = math.log1p(-params.outlier_weight) + gauss(var)
    wide = math.log(params.outlier_weight) + gauss(var * params.outlier_scale**2)
    floor = math.log(1e-6 / max(3.0, (params.max_cn + 2) / 2))
    return np.logaddexp(np.logaddexp(core, wide), floor)


class CopyNumberHmm:
    """Scaled forward-backward and Viterbi over one contig's bins; states are copy numbers 0..K."""

    def __init__(self, log_emissions: np.ndarray, transition_prob: float, normal_state: int = 2):
        self.n, self.k = log_emissions.shape
        off = transition_prob / (self.k - 1)
        self.trans = np.full((self.k, self.k), off)
        np.fill_diagonal(self.trans, 1.0 - transition_prob)
        self.start = np.full(self.k, off)
        self.start[normal_state] = 1.0 - off * (self.k - 1)
        self.log_em = log_emissions
        self.em = np.exp(log_emissions - log_emissions.max(axis=1, keepdims=True))
        self._forward()
        self._backward()

    def _forward(self) -> None:
        alpha = np.empty((self.n, self.k))
        logc = np.empty(self.n)
        v = self.start * self.em[0]
        for i in range(self.n):
            if i:
                v = (alpha[i - 1] @ self.trans) * self.em[i]
            c = v.sum()
            alpha[i] = v / c
            logc[i] = math.log(c)
        self.alpha, self.logc = alpha, logc

    def _backward(self) -> None:
        beta = np.empty((self.n, self.k))
        beta[-1] = 1.0
        for i in range(self.n - 2, -1, -1):
            v = self.trans @ (self.em[i + 1] * beta[i + 1])
            beta[i] = v / v.sum()
        self.beta = beta
        post = self.alpha * beta
        self.posterior = post / post.sum(axis=1, keepdims=True)

    def viterbi(self) -> np.ndarray:
        log_t = np.log(self.trans)
        score = np.log(self.start) + self.log_em[0]
        back = np.zeros((self.n, self.k), dtype=np.int64)
        for i in range(1, self.n):
            cand = score[:, None] + log_t
            back[i] = np.argmax(cand, axis=0)
            score = cand[back[i], np.arange(self.k)] + self.log_em[i]
        path = np.empty(self.n, dtype=np.int64)
        path[-1] = int(np.argmax(score))
        for i in range(self.n - 1, 0, -1):
            path[i - 1] = back[i, path[i]]
        return path

    def prob_all_in(self, first: int, last: int, allowed: np.ndarray) -> float:
        """Posterior probability that every bin first..last (inclusive) has a state in `allowed`."""
        mask = allowed.astype(float)
        v_all = self.start.copy() if first == 0 else self.alpha[first - 1] @ self.trans
        v_sub = v_all.copy()
        log_ratio = 0.0
        for i in range(first, last + 1):
            if i > first:
                v_all = v_all @ self.trans
                v_sub = v_sub @ self.trans
            v_all = v_all * self.em[i]
            v_sub = v_sub * self.em[i] * mask
            s_all, s_sub = v_all.sum(), v_sub.sum()
            if s_sub <= 0:
                return 0.0
            log_ratio += math.log(s_sub) - math.log(s_all)
            v_all, v_sub = v_all / s_all, v_sub / s_sub
        tail_sub = float(v_sub @ self.beta[last])
        tail_all = float(v_all @ self.beta[last])
        return float(min(1.0, math.exp(log_ratio) * tail_sub / tail_all))

    def prob_min_equals(self, first: int, last: int) -> np.ndarray:
        """P(min state over first..last == k) for each k, from P(all >= k)."""
        at_least = [1.0]
        for k in range(1, self.k):
            allowed = np.arange(self.k) >= k
            at_least.append(self.prob_all_in(first, last, allowed))
        at_least.append(0.0)
        probs = np.array([at_least[k] - at_least[k + 1] for k in range(self.k)])
        return np.clip(probs, 0.0, 1.0)
