"""Families at common SNP sites, for the sample checks (tests, benchmark): haplotypes drawn from allele
frequencies, children made of one recombined haplotype from each parent, and read counts drawn at a depth,
with a sex (one X and a Y for a male) and an optional contaminating person."""

from __future__ import annotations

import numpy as np

from dira_genotyper.samplecheck.sites import SiteCounts


class Population:
    def __init__(self, chrom, pos, kind, seed: int = 1):
        self.rng = np.random.default_rng(seed)
        self.chrom, self.pos, self.kind = np.asarray(chrom), np.asarray(pos), np.asarray(kind)
        self.af = self.rng.uniform(0.05, 0.95, len(self.pos))

    def founder(self) -> np.ndarray:
        """Two haplotypes (2 x sites) of 0/1 alleles."""
        return (self.rng.random((2, len(self.af))) < self.af).astype(int)

    def gamete(self, person: np.ndarray, morgans_per_bp: float = 1e-8) -> np.ndarray:
        """One haplotype passed on: the parent's two, switched at crossovers (1 cM/Mb), per chromosome."""
        out = np.empty(person.shape[1], int)
        for c in np.unique(self.chrom):
            idx = np.flatnonzero(self.chrom == c)
            p = self.pos[idx]
            switches = self.rng.random(len(idx)) < np.diff(np.concatenate([[p[0]], p])) * morgans_per_bp
            strand = (self.rng.integers(2) + np.cumsum(switches)) % 2
            out[idx] = person[strand, idx]
        return out

    def child(self, father: np.ndarray, mother: np.ndarray) -> np.ndarray:
        return np.stack([self.gamete(father), self.gamete(mother)])

    def counts(
        self, person: np.ndarray, male: bool, depth: float = 30, other: np.ndarray | None = None, alpha: float = 0.0
    ) -> SiteCounts:
        """Read counts; a male has one X (the first haplotype, half depth) and a Y (half depth); ``other``
        contributes a fraction ``alpha`` of the reads (a female contaminant, e.g. the mother)."""
        g = person.sum(axis=0).astype(float)
        copies = np.full(len(g), 2.0)
        if male:
            x = self.kind == "X"
            g[x] = 2 * person[0, x]
            copies[x] = 1.0
        else:
            copies[self.kind == "Y"] = 0.0
            g[self.kind == "Y"] = 0
        frac = g / 2
        if other is not None:
            frac = (1 - alpha) * frac + alpha * other.sum(axis=0) / 2
        frac = frac * 0.99 + (1 - frac) * 0.01
        d = self.rng.poisson(depth * copies / 2)
        alt = self.rng.binomial(d, frac)
        n = len(g)
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
