"""Background genomes of a cohort, inherited consistently in families.

:func:`family_genomes` gives every sample of a design a :class:`~.background.Genome` over a
:class:`~.background.Population`: samples whose parents are not in the design are founders; a child takes, from
each parent, the copy whose planted alleles match its own haplotype (haplotype 1 from the father, 2 from the
mother, as the design writes them), with a crossover now and then (:meth:`~.background.Population.child`), so
every background allele of a child comes from a parent (Mendelian). In a consanguineous family the mother's
transmitted copy is made identical by descent to the father's over a long stretch around the planted alleles
before the children are drawn, as in the families where DIRA's founder alleles are homozygous.

Inheritance follows each sample's biological parents (``genetic_father`` / ``genetic_mother``), which may differ
from the sheet's (a listed parent who is not the parent); each person's sex (``male``) decides the sex chromosomes:
a son takes his father's Y, a daughter his X, and both one of their mother's two X (own random stream per child,
so adding the sex chromosomes left the rest of every genome as it was).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from dira_devtools.simulate.background import Genome, Population, SampleGenome
from dira_devtools.simulate.edits import Edit
from dira_devtools.simulate.sequence import _seed_for


class FamilyMember(Protocol):
    name: str
    haplotypes: tuple[Sequence[Edit], Sequence[Edit]]
    family: str
    genetic_father: str
    genetic_mother: str
    male: bool


def _copy_from(rng: np.random.Generator, child: FamilyMember, parent: FamilyMember, h: int) -> int:
    """Which copy (0/1) of ``parent`` gave the child's haplotype ``h``: the one with the same planted edits."""
    want = frozenset(child.haplotypes[h])
    match = [i for i in (0, 1) if frozenset(parent.haplotypes[i]) == want]
    if not match:
        raise ValueError(f"{child.name}: haplotype {h + 1} carries none of {parent.name}'s planted haplotypes")
    return match[0] if len(match) == 1 else int(rng.integers(2))


def _anchor(child: FamilyMember) -> tuple[str, int] | None:
    planted = [e for hap in child.haplotypes for e in hap]
    return (planted[0].chrom, planted[0].start) if planted else None


def family_genomes(
    population: Population, samples: Sequence[FamilyMember], seed: int, consanguineous: Collection[str] = ()
) -> dict[str, SampleGenome]:
    """Every sample's haplotype edits (planted + background + VNTR), parents before children; deterministic
    from ``seed`` (one random stream per sample). ``consanguineous``: family IDs whose parents share a copy."""
    by_name = {s.name: s for s in samples}
    rng = {s.name: np.random.default_rng(_seed_for(seed, "genome", s.name)) for s in samples}
    has_parents = {s.name for s in samples if s.genetic_father in by_name and s.genetic_mother in by_name}
    genomes: dict[str, Genome] = {
        s.name: population.founder(rng[s.name], s.male) for s in samples if s.name not in has_parents
    }
    origins = {}
    for s in samples:
        if s.name in has_parents:
            father, mother = by_name[s.genetic_father], by_name[s.genetic_mother]
            origins[s.name] = (_copy_from(rng[s.name], s, father, 0), _copy_from(rng[s.name], s, mother, 1))
    shared: set[tuple[str, str]] = set()
    for s in samples:
        couple = (s.genetic_father, s.genetic_mother)
        if (
            s.name in has_parents
            and s.family in consanguineous
            and couple not in shared
            and all(p in genomes for p in couple)
        ):
            shared.add(couple)
            f, m = origins[s.name]
            around = _anchor(s) or ((population.vntr.chrom, population.vntr.start) if population.vntr else None)
            if around is not None:
                father, mother = genomes[s.genetic_father], genomes[s.genetic_mother]
                genomes[s.genetic_mother] = population.share_stretch(rng[s.name], father, f, mother, m, around)
    pending = [s for s in samples if s.name in has_parents]
    while pending:
        ready = [s for s in pending if s.genetic_father in genomes and s.genetic_mother in genomes]
        if not ready:
            raise ValueError(f"pedigree loop among {[s.name for s in pending]}")
        for s in ready:
            f, m = origins[s.name]
            x_copy = int(np.random.default_rng(_seed_for(seed, "x chromosome", s.name)).integers(2))
            father, mother = genomes[s.genetic_father], genomes[s.genetic_mother]
            genomes[s.name] = population.child(rng[s.name], father, mother, f, m, _anchor(s), s.male, x_copy)
        pending = [s for s in pending if s.name not in genomes]
    return {s.name: population.haplotype_edits(genomes[s.name], s.haplotypes) for s in samples}
