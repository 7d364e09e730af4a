"""The sample-check statistics on simulated families (tests/unit/samplecheck/famsim.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dira_devtools.simulate.pedigrees import Population, layout
from dira_genotyper.samplecheck.models import (
    call_genotypes,
    contamination,
    fetal_genotype,
    infer_sex,
    kinship,
    runs_of_homozygosity,
)


@pytest.fixture(scope="module")
def pop():
    return Population(*layout(), seed=7)


def gts(c):
    return call_genotypes(c.ref_n, c.alt_n)


def test_genotype_calls_need_depth_and_a_clear_winner():
    gt = call_genotypes(np.array([30, 15, 0, 3, 12, 9]), np.array([0, 15, 30, 0, 8, 1]))
    # 3 reads: too shallow; 12/8: heterozygous; 9/1: one alternate read in ten is no clear genotype
    assert gt.tolist() == [0, 1, 2, -1, 1, -1]


def test_kinship_separates_parent_sibling_unrelated_and_duplicate(pop):
    father, mother, stranger = pop.founder(), pop.founder(), pop.founder()
    kid1, kid2 = pop.child(father, mother), pop.child(father, mother)
    g = {n: gts(pop.counts(p, male=False)) for n, p in
         {"f": father, "m": mother, "k1": kid1, "k2": kid2, "s": stranger}.items()}  # fmt: skip
    dup = gts(pop.counts(kid1, male=False))
    parent = kinship(g["k1"], g["f"])
    assert parent.degree() == "first" and parent.ibs0 < 0.005
    sibs = kinship(g["k1"], g["k2"])
    assert sibs.degree() == "first" and sibs.ibs0 > 0.01  # siblings share no allele at some sites
    assert kinship(g["k1"], g["s"]).degree() == "unrelated"
    assert kinship(g["f"], g["m"]).degree() == "unrelated"
    assert kinship(g["k1"], dup).degree() == "duplicate"


@pytest.mark.parametrize("alpha", [0.0, 0.02, 0.1, 0.3])
def test_contamination_is_estimated_without_allele_frequencies(pop, alpha):
    person, other = pop.founder(), pop.founder()
    c = pop.counts(person, male=False, depth=30, other=other, alpha=alpha)
    auto = c.kind == "A"
    est = contamination(c.ref_n[auto], c.alt_n[auto])
    assert abs(est.fraction - alpha) <= 0.015, est
    assert est.low <= alpha + 0.005 and est.high >= alpha - 0.005, est


def test_maternal_contamination_uses_the_mothers_genotypes(pop):
    father, mother = pop.founder(), pop.founder()
    fetus = pop.child(father, mother)
    c = pop.counts(fetus, male=True, other=mother, alpha=0.15)
    m = gts(pop.counts(mother, male=False))
    auto = c.kind == "A"
    est = contamination(c.ref_n[auto], c.alt_n[auto], mother=m[auto])
    assert est.model == "mother's genotypes"
    assert abs(est.fraction - 0.15) <= 0.01, est
    clean = pop.counts(fetus, male=True)
    assert contamination(clean.ref_n[auto], clean.alt_n[auto], mother=m[auto]).fraction <= 0.005


def test_fetal_genotype_separates_the_mothers_allele_from_the_fetus_own():
    # 15% maternal reads, mother heterozygous: the mother's allele alone gives ~7.5%, a fetal heterozygote ~50%
    assert fetal_genotype(alt=3, depth=40, alpha=0.15, mother=1)[0] == 0
    assert fetal_genotype(alt=20, depth=40, alpha=0.15, mother=1)[0] == 1
    # mother homozygous reference, fetal heterozygote (paternal allele): (1 - 0.15) / 2 = 42.5%
    assert fetal_genotype(alt=17, depth=40, alpha=0.15, mother=0)[0] == 1
    # without contamination the same 3 of 40 reads are no clear fetal genotype either way
    assert fetal_genotype(alt=3, depth=40, alpha=0.0, mother=1)[0] == 0


def test_sex_from_x_heterozygosity_and_x_y_depth(pop):
    person = pop.founder()
    male = pop.counts(person, male=True)
    female = pop.counts(person, male=False)
    assert infer_sex(male.kind, male.depth, gts(male)).call == "male"
    assert infer_sex(female.kind, female.depth, gts(female)).call == "female"


def test_runs_of_homozygosity_in_a_child_of_cousins_and_not_in_an_outbred_child():
    pop = Population(*layout(autosome_sites=6000, chromosomes=6), seed=11)
    g1, g2 = pop.founder(), pop.founder()
    s1, s2 = pop.child(g1, g2), pop.child(g1, g2)
    c1, c2 = pop.child(s1, pop.founder()), pop.child(s2, pop.founder())
    found = 0
    for _ in range(4):  # a first-cousin child is homozygous by descent over 1/16 of the genome on average
        kid = pop.child(c1, c2)
        c = pop.counts(kid, male=False)
        auto = c.kind == "A"
        found += bool(runs_of_homozygosity(c.chrom[auto], c.pos[auto], gts(c)[auto], 25, 5_000_000))
    assert found >= 2
    for _ in range(4):
        c = pop.counts(pop.child(pop.founder(), pop.founder()), male=False)
        auto = c.kind == "A"
        assert runs_of_homozygosity(c.chrom[auto], c.pos[auto], gts(c)[auto], 25, 5_000_000) == []
