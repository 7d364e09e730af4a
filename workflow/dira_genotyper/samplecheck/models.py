"""The statistics of the sample checks, on read counts at common biallelic SNP sites (numpy only, no I/O).

* :func:`call_genotypes`: 0/1/2 alternate alleles, or -1 where the depth or the likelihood ratio is too low.
* :func:`contamination`: the fraction of another person's DNA, by an allele-balance mixture model (as
  VerifyBamID's), with a 95 % profile-likelihood interval. The site allele frequencies are not needed: the
  weights of the nine (sample genotype, contaminant genotype) classes are estimated with the fraction (EM), so
  the fractions each class gives, ``(1 - a) g / 2 + a h / 2``, carry the information. With the mother's
  genotypes (a prenatal sample), the contaminant's genotype at each site is known and only the fetal genotype
  classes are free, per maternal genotype.
* :func:`kinship`: KING-robust kinship, the IBS0 fraction and genotype concordance of two samples (no allele
  frequencies needed).
* :func:`infer_sex`: X heterozygosity and X/Y depth relative to the autosomes.
* :func:`runs_of_homozygosity`: runs of consecutive homozygous calls (PLINK-style: a run is broken by a
  heterozygous call, and must span ``min_sites`` sites and ``min_length`` bp).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: Per-base error rate folded into every expected allele fraction (bases at Q >= 20, mapping errors).
ERROR = 0.01
#: Genotype concordance of two files of one person (genotyping errors aside); a parent and child agree at ~0.5-0.8
#: of common sites (more in a consanguineous family), siblings less.
SAME_PERSON = 0.95
#: Per-base error rates the contamination model chooses from (profiled with the fraction).
ERRORS = (0.002, 0.005, 0.01, 0.02)
#: KING kinship boundaries between degrees (Manichaikul et al. 2010): 2^-2.5, 2^-3.5, 2^-4.5.
KING_FIRST, KING_SECOND, KING_THIRD = 0.177, 0.0884, 0.0442


def _observed(fraction: np.ndarray, error: float = ERROR) -> np.ndarray:
    return fraction * (1 - error) + (1 - fraction) * error


def _log_binom(alt: np.ndarray, depth: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """log P(alt | depth, fraction) without the binomial coefficient (the same for every class of a site)."""
    f = np.clip(fraction, 1e-9, 1 - 1e-9)
    return alt[:, None] * np.log(f) + (depth - alt)[:, None] * np.log1p(-f)


def call_genotypes(ref: np.ndarray, alt: np.ndarray, min_depth: int = 10, min_lod: float = 2.0) -> np.ndarray:
    """Alternate-allele count per site (0, 1, 2), or -1 where depth < ``min_depth`` or the best genotype is less
    than 10**``min_lod`` times as likely as the next."""
    ref, alt = np.asarray(ref, float), np.asarray(alt, float)
    depth = ref + alt
    ll = _log_binom(alt, depth, _observed(np.array([0.0, 0.5, 1.0]))) / np.log(10)
    order = np.sort(ll, axis=1)
    gt = np.argmax(ll, axis=1)
    confident = (order[:, -1] - order[:, -2] >= min_lod) & (depth >= min_depth)
    return np.where(confident, gt, -1)


@dataclass(frozen=True)
class Contamination:
    fraction: float
    low: float  # 95 % profile-likelihood interval
    high: float
    sites: int
    model: str  # "allele balance" or "mother's genotypes"

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _depth_window(depth: np.ndarray, min_depth: int) -> np.ndarray:
    """Sites usable for contamination: at least ``min_depth`` reads and at most 2.5x the median (collapsed
    repeats and copy-number gains distort the allele fractions)."""
    ok = depth >= min_depth
    if not ok.any():
        return ok
    return ok & (depth <= 2.5 * np.median(depth[ok]))


def _classes(
    alpha: float, mother: np.ndarray | None, balance: float = 0.5, error: float = ERROR
) -> tuple[np.ndarray, np.ndarray]:
    """(fractions, class ids) for each site: nine (g, h) classes, or three g classes per known h. A heterozygote
    gives ``balance`` of the reads (reference bias makes it a little under 0.5)."""
    share = np.array([0.0, balance, 1.0])  # alternate-read share of genotype 0, 1, 2
    if mother is None:
        gg, hh = np.meshgrid(share, share, indexing="ij")
        return _observed((1 - alpha) * gg.ravel() + alpha * hh.ravel(), error), None
    frac = (1 - alpha) * share[None, :] + alpha * share[mother.astype(int)][:, None]
    return _observed(frac, error), mother.astype(int)


def allele_balance(alt: np.ndarray, depth: np.ndarray, min_depth: int = 15) -> float:
    """The alternate-read share of heterozygous sites (clear ones: 0.3-0.7 at >= ``min_depth`` reads; contamination
    moves single sites both ways about equally), 0.5 with fewer than 50 such sites."""
    af = alt / np.maximum(depth, 1)
    het = (depth >= min_depth) & (af > 0.3) & (af < 0.7)
    return float(np.clip(alt[het].sum() / depth[het].sum(), 0.4, 0.6)) if het.sum() >= 50 else 0.5


#: The allele-frequency spectrum is a mixture over these frequencies (weights estimated per sample, EM): it keeps
#: the sample and the contaminant two unrelated people of one population (Hardy-Weinberg at each frequency).
#: Free class weights instead would let a 50 % mixture of one person with himself mimic a clean sample.
SPECTRUM = np.round(np.arange(0.025, 1.0, 0.05), 3)


def _hw(p: np.ndarray) -> np.ndarray:
    return np.stack([(1 - p) ** 2, 2 * p * (1 - p), p**2], axis=-1)


def _em(log_lik: np.ndarray, prior: np.ndarray, iterations: int) -> float:
    """Maximised log-likelihood of sites (rows of ``log_lik`` over classes) whose class prior is a mixture of
    the rows of ``prior`` (components x classes), the mixture weights estimated by EM."""
    top = log_lik.max(axis=1, keepdims=True)
    per = np.exp(log_lik - top) @ prior.T  # sites x components
    per_t = np.ascontiguousarray(per.T)  # the update as one matrix-vector product
    weights = np.full(prior.shape[0], 1.0 / prior.shape[0])
    for _ in range(iterations):
        mix = per @ weights
        new = weights * (per_t @ (1.0 / mix)) / len(mix)  # = mean over sites of per * weights / mix
        done = np.abs(new - weights).max() < 1e-5
        weights = new
        if done:
            break
    return float((top[:, 0] + np.log(per @ weights + 1e-300)).sum())


def _profile(alt, depth, alpha, mother, balance: float = 0.5, error: float = ERROR, iterations: int = 40) -> float:
    """Log-likelihood at ``alpha``, with the frequency-spectrum weights at their maximum (EM)."""
    frac, groups = _classes(alpha, mother, balance, error)
    hw = _hw(SPECTRUM)  # components x 3
    if groups is None:  # classes (g, h): unrelated people, independent given the site's frequency
        prior = (hw[:, :, None] * hw[:, None, :]).reshape(len(SPECTRUM), 9)
        return _em(_log_binom(alt, depth, frac), prior, iterations)
    # the mother's genotype h is known: the fetus carries one of her alleles and one from the population
    ll = _log_binom(alt, depth, frac)
    result = 0.0
    p = SPECTRUM
    for h in (0, 1, 2):
        rows = ll[groups == h]
        if len(rows):
            from_mother = h / 2
            prior = np.stack(
                [(1 - from_mother) * (1 - p), from_mother * (1 - p) + (1 - from_mother) * p, from_mother * p], axis=1
            )
            result += _em(rows, prior, iterations)
    return result


def contamination(
    ref: np.ndarray, alt: np.ndarray, mother: np.ndarray | None = None, min_depth: int = 8, max_sites: int = 5000
) -> Contamination | None:
    """Contamination fraction in [0, 0.5] with its 95 % interval; None with fewer than 100 usable sites.

    ``mother``: the mother's genotypes (0/1/2, -1 = no call) at the same sites, for a prenatal sample: the
    contaminating DNA is then the mother's, and sites where she has no call are left out. At most
    ``max_sites`` usable sites are used (evenly spaced): 5,000 give +/-0.5 percentage points at 30x.
    """
    ref, alt = np.asarray(ref, float), np.asarray(alt, float)
    depth = ref + alt
    use = _depth_window(depth, min_depth)
    if mother is not None:
        mother = np.asarray(mother)
        use &= mother >= 0
    n_use = int(use.sum())
    if n_use < 100:
        return None
    keep = np.flatnonzero(use)
    keep = keep[np.linspace(0, len(keep) - 1, min(len(keep), max_sites)).astype(int)]  # evenly, deterministic
    a, d = alt[keep], depth[keep]
    m = None if mother is None else mother[keep].astype(float)
    grid = np.round(np.arange(0.0, 0.5001, 0.025), 4)
    balance = allele_balance(a, d)
    # the error rate is profiled too: too high a rate hides low contamination, too low a rate invents it
    coarse = np.array([[_profile(a, d, x, m, balance, e) for x in grid] for e in ERRORS])
    at = np.unravel_index(int(np.argmax(coarse)), coarse.shape)
    error, best = ERRORS[at[0]], grid[at[1]]
    fine = np.round(np.arange(max(0.0, best - 0.025), min(0.5, best + 0.025) + 1e-9, 0.0025), 4)
    grid = np.unique(np.concatenate([grid, fine]))
    prof = np.array([_profile(a, d, x, m, balance, error) for x in grid])
    top = int(np.argmax(prof))
    inside = grid[prof >= prof[top] - 1.92]  # chi-square(1) 95 %: 3.84 / 2
    model = "allele balance" if mother is None else "mother's genotypes"
    return Contamination(float(grid[top]), float(inside.min()), float(inside.max()), len(keep), model)


@dataclass(frozen=True)
class Kinship:
    kinship: float | None
    ibs0: float | None  # fraction of sites called in both where the two are opposite homozygotes
    sites: int
    concordance: float | None = None  # fraction of sites called in both with the same genotype

    def degree(self) -> str:
        """``duplicate``, ``first``, ``second``, ``third``, ``unrelated`` or ``unknown``. One person twice is told
        by genotype concordance (>= ``SAME_PERSON``), the rest by the KING boundaries: in a consanguineous family a
        parent and child share more than one allele's worth (KING-robust kinship above 0.354) and are not one
        person; an inbred child's kinship to a parent falls below 0.25 (KING-robust assumes no inbreeding)."""
        if self.kinship is None:
            return "unknown"
        if self.concordance is not None and self.concordance >= SAME_PERSON:
            return "duplicate"
        if self.kinship > KING_FIRST:
            return "first"
        if self.kinship > KING_SECOND:
            return "second"
        return "third" if self.kinship > KING_THIRD else "unrelated"


def kinship(gt1: np.ndarray, gt2: np.ndarray, min_sites: int = 200) -> Kinship:
    """KING-robust kinship (Manichaikul 2010, between-family estimator) from 0/1/2 calls (-1 = none)."""
    both = (gt1 >= 0) & (gt2 >= 0)
    a, b = gt1[both], gt2[both]
    n = int(both.sum())
    het_a, het_b = int((a == 1).sum()), int((b == 1).sum())
    if n < min_sites or het_a + het_b == 0:
        return Kinship(None, None, n)
    hethet = int(((a == 1) & (b == 1)).sum())
    opposite = int((np.abs(a - b) == 2).sum())
    same = round(float((a == b).mean()), 4)
    return Kinship(round((hethet - 2 * opposite) / (het_a + het_b), 4), round(opposite / n, 4), n, same)


@dataclass(frozen=True)
class Sex:
    call: str  # "male", "female" or "unknown"
    x_het: float | None  # heterozygous fraction of called non-PAR X sites
    x_ratio: float | None  # median depth at X sites / median autosomal depth
    y_ratio: float | None  # mean depth at Y sites / median autosomal depth
    x_sites: int


def infer_sex(kind: np.ndarray, depth: np.ndarray, gt: np.ndarray, min_x_sites: int = 30) -> Sex:
    """Sex from the non-PAR X and Y sites (``kind`` "X"/"Y"; autosomes "A"): a male has one X (depth ratio
    ~0.5, no heterozygous calls beyond errors) and a Y (ratio ~0.5); a female two X (~1.0, heterozygous calls)
    and no Y."""
    auto = depth[kind == "A"]
    base = float(np.median(auto)) if len(auto) else 0.0
    x_called = gt[(kind == "X") & (gt >= 0)]
    x_depth, y_depth = depth[kind == "X"], depth[kind == "Y"]
    if base <= 0 or len(x_depth) < min_x_sites:
        return Sex("unknown", None, None, None, int(len(x_called)))
    x_ratio = float(np.median(x_depth)) / base
    y_ratio = float(np.mean(y_depth)) / base if len(y_depth) else None
    x_het = float((x_called == 1).mean()) if len(x_called) else None
    male = x_ratio < 0.75 and (x_het is None or x_het < 0.05) and (y_ratio is None or y_ratio > 0.2)
    female = x_ratio >= 0.75 and (x_het is None or x_het >= 0.05) and (y_ratio is None or y_ratio < 0.1)
    call = "male" if male else "female" if female else "unknown"
    r = lambda v: None if v is None else round(v, 4)  # noqa: E731
    return Sex(call, r(x_het), r(x_ratio), r(y_ratio), int(len(x_called)))


@dataclass(frozen=True)
class Run:
    chrom: str
    start: int
    end: int
    sites: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def runs_of_homozygosity(
    chrom: np.ndarray, pos: np.ndarray, gt: np.ndarray, min_sites: int = 25, min_length: int = 1_000_000
) -> list[Run]:
    """Runs of consecutive homozygous called sites, broken by a heterozygous call or a new chromosome."""
    runs: list[Run] = []
    called = gt >= 0
    chrom, pos, gt = np.asarray(chrom)[called], np.asarray(pos)[called], np.asarray(gt)[called]
    order = np.lexsort((pos, chrom))
    chrom, pos, gt = chrom[order], pos[order], gt[order]
    start = 0
    for i in range(len(gt) + 1):
        broken = i == len(gt) or gt[i] == 1 or chrom[i] != chrom[start]
        if not broken:
            continue
        n = i - start
        if n >= min_sites and pos[i - 1] - pos[start] + 1 >= min_length:
            runs.append(Run(str(chrom[start]), int(pos[start]), int(pos[i - 1]), n))
        start = i + 1 if i < len(gt) and gt[i] == 1 else i
    return runs


def froh(runs: list[Run], chrom: np.ndarray, pos: np.ndarray) -> float:
    """Fraction of the autosomal span of the sites that lies in runs of homozygosity (F_ROH)."""
    span = 0
    for c in np.unique(chrom):
        p = pos[chrom == c]
        span += int(p.max() - p.min() + 1) if len(p) else 0
    return round(sum(r.length for r in runs) / span, 4) if span else 0.0


def fetal_genotype(alt: int, depth: int, alpha: float, mother: int) -> tuple[int, float]:
    """The fetal genotype (0/1/2 alternate alleles) at one variant of a sample with maternal contamination
    ``alpha`` whose mother has ``mother`` copies, and its log10 likelihood ratio over the next best genotype.
    The mother's reads make ``alpha * mother / 2`` of the fraction whatever the fetus carries."""
    g = np.array([0.0, 1.0, 2.0])
    frac = _observed((1 - alpha) * g / 2 + alpha * mother / 2)
    ll = _log_binom(np.array([float(alt)]), np.array([float(depth)]), frac[None, :] * np.ones((1, 3)))[0]
    ll = ll / np.log(10)
    order = np.argsort(ll)
    return int(order[-1]), round(float(ll[order[-1]] - ll[order[-2]]), 2)
