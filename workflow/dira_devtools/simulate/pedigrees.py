"""Families at common SNP sites, for the sample checks (tests, benchmark).

A person is two haplotypes of founder-haplotype ids (2 x sites): founders get new ids, a child one recombined
haplotype from each parent (crossovers at 1 cM/Mb, per chromosome), so that autozygosity (both copies from one
founder haplotype) is known at every site. Alleles come from each founder haplotype drawn at the site's allele
frequency. Read counts are drawn with over-dispersed depth (gamma-Poisson), a per-base error and a small
reference bias; a male has one X (half depth) and a Y; another person's DNA can be mixed in at a fraction.
"""

from __future__ import annotations

import numpy as np

from dira_genotyper.samplecheck.sites import SiteCounts


class Population:
    def __init__(self, chrom, pos, kind, seed: int = 1, af=None):
        self.rng = np.random.default_rng(seed)
        self.chrom, self.pos, self.kind = np.asarray(chrom), np.asarray(pos), np.asarray(kind)
        self.af = np.asarray(af) if af is not None else self.rng.uniform(0.05, 0.95, len(self.pos))
        self.haplotypes: list[np.ndarray] = []  # founder haplotype id -> 0/1 alleles
        self._blocks = [np.flatnonzero(self.chrom == c) for c in dict.fromkeys(self.chrom)]

    def founder(self) -> np.ndarray:
        ids = []
        for _ in range(2):
            self.haplotypes.append((self.rng.random(len(self.af)) < self.af).astype(np.int8))
            ids.append(len(self.haplotypes) - 1)
        return np.stack([np.full(len(self.af), i) for i in ids])

    def gamete(self, person: np.ndarray, morgans_per_bp: float = 1e-8) -> np.ndarray:
        out = np.empty(person.shape[1], person.dtype)
        for idx in self._blocks:
            p = self.pos[idx]
            switches = self.rng.random(len(idx)) < np.diff(np.concatenate([[p[0]], p])) * morgans_per_bp
            strand = (self.rng.integers(2) + np.cumsum(switches)) % 2
            out[idx] = person[strand, idx]
        return out

    def child(self, father: np.ndarray, mother: np.ndarray) -> np.ndarray:
        return np.stack([self.gamete(father), self.gamete(mother)])

    def alleles(self, person: np.ndarray) -> np.ndarray:
        """0/1 alleles (2 x sites) of a person."""
        table = np.stack(self.haplotypes)
        return np.stack([table[person[0], np.arange(person.shape[1])], table[person[1], np.arange(person.shape[1])]])

    @staticmethod
    def autozygous(person: np.ndarray) -> np.ndarray:
        return person[0] == person[1]

    def counts(
        self,
        person: np.ndarray,
        male: bool,
        depth: float | np.ndarray = 30,
        other: np.ndarray | None = None,
        alpha: float = 0.0,
        dispersion: float = 0.5,
        error: float = 0.005,
        ref_bias: float = 0.06,
    ) -> SiteCounts:
        """Read counts at every site; ``depth`` per site or one figure (two-copy depth)."""
        hap = self.alleles(person).astype(float)
        frac = hap.sum(axis=0) / 2
        copies = np.full(len(frac), 2.0)
        x, y = self.kind == "X", self.kind == "Y"
        if male:  # his X is his mother's (haplotype 2), his Y his father's (haplotype 1)
            frac[x], copies[x], frac[y] = hap[1, x], 1.0, hap[0, y]
            copies[y] = 1.0
        else:
            copies[y], frac[y] = 0.0, 0.0
        if other is not None:  # a female contaminant (the mother, or another woman)
            frac = (1 - alpha) * frac + alpha * self.alleles(other).sum(axis=0) / 2
            copies = (1 - alpha) * copies + alpha * np.where(y, 0.0, 2.0)
        # reference bias: a read carrying the alternate allele maps a little less often (a heterozygote ~0.485)
        frac = frac * (1 - ref_bias) / (frac * (1 - ref_bias) + 1 - frac)
        frac = frac * (1 - error) + (1 - frac) * error
        mean = np.broadcast_to(np.asarray(depth, float), frac.shape) * copies / 2
        shape = 1 / dispersion
        d = self.rng.poisson(self.rng.gamma(shape, np.maximum(mean, 1e-9) / shape))
        alt = self.rng.binomial(d, frac)
        n = len(frac)
        return SiteCounts(self.chrom, self.pos, np.array(["A"] * n), np.array(["C"] * n), self.kind, d - alt, alt)


def layout(autosome_sites: int = 3000, chromosomes: int = 6, x_sites: int = 200, y_sites: int = 40):
    """Sites spread over ``chromosomes`` autosomes of 100 Mb, plus X and Y."""
    chrom, pos, kind = [], [], []
    per = autosome_sites // chromosomes
    for c in range(1, chromosomes + 1):
        chrom += [f"chr{c}"] * per
        pos += list(np.linspace(1_000_000, 100_000_000, per).astype(int))
        kind += ["A"] * per
    for name, n in (("chrX", x_sites), ("chrY", y_sites)):
        chrom += [name] * n
        pos += list(np.linspace(3_000_000, 50_000_000, n).astype(int))
        kind += [name[-1]] * n
    return np.array(chrom), np.array(pos), np.array(kind)
