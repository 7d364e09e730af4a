"""Unit tests for the simulator's background genomes: common sites, families, the IL1RN intron-2 VNTR."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pysam
import pytest

from dira_devtools import simulate as S
from dira_devtools.simulate import background as B

ROOT = Path(__file__).resolve().parents[3]
RES = ROOT / "resources" / "SYNTH"
SEED = 7


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return S.make_reference(RES, tmp_path_factory.mktemp("ref") / "synth.fa", seed=SEED)


@pytest.fixture(scope="module")
def population(reference) -> S.Population:
    return S.make_population(S.load_reference(reference), RES, SEED)


def _build_bp(ref) -> int:
    return sum(ref[c].size for c in S.read_build(RES).contigs)


def _genotypes(population: S.Population, genome: S.SampleGenome) -> dict[int, str]:
    """Site index -> two-character genotype (absent sites "00")."""
    return {i: genome.calls.get(i, "00") for i in range(len(population.sites))}


def test_background_density_gives_one_het_snv_per_1_to_1_5_kb(reference, population):
    ref = S.load_reference(reference)
    kb = (_build_bp(ref) + ref["chrX"].size) / 1000  # founders are female: two X, no Y
    rng = np.random.default_rng(1)
    per_kb = []
    for _ in range(5):
        genome = population.haplotype_edits(population.founder(rng), [[], []])
        het_snv = [
            i for i, gt in genome.calls.items() if sorted(gt) == ["0", "1"] and population.sites[i].kind == "snv"
        ]
        per_kb.append(len(het_snv) / kb)
        hom = sum(gt == "11" for gt in genome.calls.values())
        assert 0.3 * len(het_snv) < hom < len(het_snv)  # fewer homozygous than heterozygous, as in real genomes
    assert all(1 / 1.5 <= x <= 1 / 1.0 for x in per_kb), per_kb
    kinds = [s.kind for s in population.sites]
    assert 0.08 < kinds.count("indel") / len(kinds) < 0.2
    indels = [s for s in population.sites if s.kind == "indel"]
    assert {max(len(s.vcf[1]), len(s.vcf[2])) - 1 for s in indels} == {1, 2, 3, 4}
    # some indels lengthen or shorten a homopolymer: the bases after the anchor repeat the indel's base
    in_runs = 0
    for s in indels:
        pos, r, a = s.vcf
        longer = r if len(r) > len(a) else a
        if len(longer) == 2:
            following = S._BASES[ref[s.edit.chrom][pos : pos + 3]].tobytes().decode()
            in_runs += following == longer[1] * 3
    assert in_runs > 0.2 * len(indels)
    assert all(0 < s.af < 1 for s in population.sites) and np.mean(population.af > 0.5) > 0.1


def test_background_sites_are_shared_spaced_and_deterministic(reference, population):
    ref = S.load_reference(reference)
    again = S.make_population(ref, RES, SEED)
    other = S.make_population(ref, RES, SEED + 1)
    assert [s.vcf for s in again.sites] == [s.vcf for s in population.sites]
    assert [s.vcf for s in other.sites] != [s.vcf for s in population.sites]
    rng = np.random.default_rng(3)
    a, b = (population.founder(rng) for _ in range(2))
    shared = np.flatnonzero(a.alt[0] & b.alt[0])
    assert shared.size > 100  # two unrelated samples carry many of the same common alleles
    chroms = {s.edit.chrom for s in population.sites}
    assert chroms == set(S.read_build(RES).contigs) | set(S.SEX_CONTIGS) and S.DECOY_CONTIG not in chroms
    for x, y in zip(population.sites, population.sites[1:], strict=False):
        if x.edit.chrom == y.edit.chrom:
            assert y.vcf[0] - max(x.edit.end, x.vcf[0] + len(x.vcf[1]) - 1) >= B.SITE_SPACING


def test_background_stays_out_of_cds_and_splice_regions(population):
    """No site in the truth genes' CDS or within SPLICE_PAD of a CDS end or a splice boundary, nor in the VNTR;
    UTRs and introns of the same genes do get sites."""
    blocked, region = set(), {}  # (contig, position)
    for gene in ("IL1RN", *S.differential_genes(RES)):
        tx = S.read_transcript(RES, gene)
        for s, e in tx.cds:
            blocked |= {(tx.chrom, p) for p in range(s - B.SPLICE_PAD, e + B.SPLICE_PAD + 1)}
        exons = sorted(tx.exons)  # splice boundaries: the inner ends (the transcript's own ends are not spliced)
        for (_, e), (s, _) in zip(exons, exons[1:], strict=False):
            blocked |= {(tx.chrom, p) for p in range(s - B.SPLICE_PAD, s + B.SPLICE_PAD + 1)}
            blocked |= {(tx.chrom, p) for p in range(e - B.SPLICE_PAD, e + B.SPLICE_PAD + 1)}
        region[gene] = (min(s for s, _ in tx.exons), max(e for _, e in tx.exons), tx)
    vntr = S.vntr_locus(RES)
    blocked |= {(vntr.chrom, p) for p in range(vntr.start, vntr.end + 1)}
    inside = {"intron": 0, "utr": 0}
    for site in population.sites:
        span = {(site.edit.chrom, p) for p in range(site.vcf[0], site.vcf[0] + len(site.vcf[1]) + 1)}
        assert not span & blocked, site
        for lo, hi, tx in region.values():
            if site.edit.chrom == tx.chrom and lo <= site.vcf[0] <= hi:
                feature = tx.model.region(site.vcf[0]).feature
                inside["intron" if feature == "intron" else "utr"] += feature != "cds"
    assert inside["intron"] >= 5 and inside["utr"] >= 1, inside


def test_families_inherit_background_mendelian(population, monkeypatch):
    """Every background allele of a child comes from its parents: haplotype 1 from one of the father's two
    copies, haplotype 2 from one of the mother's, site by site, with crossovers forced on every meiosis."""
    monkeypatch.setattr(B, "RECOMBINATION_PER_MB", 1e6)
    design = S.cohort_design(RES)
    genomes = S.family_genomes(population, design.samples, SEED)
    by = {s.name: s for s in design.samples}
    children = [s for s in design.samples if s.genetic_father in by and s.genetic_mother in by]
    assert {s.name for s in children} == {"DIRA-01", "DIRA-01-FETUS", "DIRA-10", "DIRA-10-FETUS"}
    switched = 0
    for child in children:
        c = _genotypes(population, genomes[child.name])
        f, m = (_genotypes(population, genomes[p]) for p in (child.genetic_father, child.genetic_mother))
        for i in range(population.n_autosomal):  # the sex chromosomes: test_sex_chromosomes_are_inherited
            assert c[i][0] in f[i] and c[i][1] in m[i], (child.name, population.sites[i].record(c[i]))
        # a crossover: the child's paternal copy matches one of the father's copies on one side, the other on the
        # other side (on each contig with informative sites)
        chr2 = [i for i in c if population.sites[i].edit.chrom == "chr2" and f[i][0] != f[i][1]]
        same_as_first = [c[i][0] == f[i][0] for i in chr2]
        switched += 0 < sum(same_as_first) < len(same_as_first)
        # the planted alleles stay on the copy the design gives the child
        assert genomes[child.name].edits[0][: len(child.haplotypes[0])] == list(child.haplotypes[0])
    assert switched == len(children)
    # an unrelated sample shares no copy: many sites carry an allele neither "parent" has
    c, f, m = (_genotypes(population, genomes[n]) for n in ("DIRA-02", "DIRA-01-F", "DIRA-01-M"))
    assert sum(not (c[i][0] in f[i] and c[i][1] in m[i]) for i in c) > 50


def _longest_homozygous_stretch(population: S.Population, genome: S.SampleGenome, chrom: str) -> int:
    """Longest distance between consecutive heterozygous sites on ``chrom``."""
    het = [
        population.sites[i].vcf[0]
        for i, gt in sorted(genome.calls.items())
        if sorted(gt) == ["0", "1"] and population.sites[i].edit.chrom == chrom
    ]
    edges = [1, *het, len(population.reference[chrom])]
    return max(b - a for a, b in zip(edges, edges[1:], strict=False))


def test_consanguineous_family_gives_long_homozygous_stretches(population):
    design = S.cohort_design(RES)
    assert design.consanguineous == frozenset({"F1"})
    inbred = S.family_genomes(population, design.samples, SEED, design.consanguineous)
    outbred = S.family_genomes(population, design.samples, SEED)
    chr2 = len(population.reference["chr2"])
    assert _longest_homozygous_stretch(population, inbred["DIRA-01"], "chr2") >= chr2 // 2
    assert _longest_homozygous_stretch(population, outbred["DIRA-01"], "chr2") < 50_000
    assert _longest_homozygous_stretch(population, inbred["DIRA-08"], "chr2") < 50_000


def test_vntr_in_reference_and_haplotypes(reference, population):
    """The reference carries 4 near-identical 86-bp copies at IL1RN c.205+865_206-173 (GRCh38
    chr2:113,130,529-113,130,872 shifted onto SYNTH); haplotypes carry 2-6 copies as length polymorphisms."""
    ref = S.load_reference(reference)
    vntr = S.vntr_locus(RES)
    offset = json.loads((RES / "build.json").read_text())["parameters"]["grch38_offset"]
    assert (vntr.start + offset, vntr.end + offset) == (113_130_529, 113_130_872)
    tx = S.read_transcript(RES)
    assert tx.model.region(vntr.start).feature == "intron" and tx.model.region(vntr.start).intron == 2
    units = ref[vntr.chrom][vntr.start - 1 : vntr.end].reshape(S.VNTR_REFERENCE_COPIES, S.VNTR_UNIT)
    assert all((units[0] != u).mean() < 0.05 for u in units[1:])
    flank = ref[vntr.chrom][vntr.end : vntr.end + S.VNTR_UNIT]
    assert (flank != units[-1]).mean() > 0.5  # the repeat ends there
    for copies in (2, 3, 4, 5, 6):
        edit = vntr.edit(copies, ref)
        hap = S.apply_edits(ref, [] if edit is None else [edit])[vntr.chrom]
        assert hap.seq.size - ref[vntr.chrom].size == (copies - 4) * S.VNTR_UNIT
        start = vntr.start - 1
        got = hap.seq[start : start + copies * S.VNTR_UNIT].reshape(copies, S.VNTR_UNIT)
        assert all((units[0] != u).mean() < 0.05 for u in got), copies
        after = hap.seq[start + copies * S.VNTR_UNIT : start + copies * S.VNTR_UNIT + S.VNTR_UNIT]
        assert (after == flank).all()
    drawn = [population.founder(np.random.default_rng(i)).vntr for i in range(400)]
    counts = {c: sum(c in d for d in drawn) for c in range(1, 8)}
    assert set(c for c, n in counts.items() if n) == {2, 3, 4, 5, 6}
    assert counts[4] > counts[2] > counts[3]


def test_planted_deletions_remove_background_and_vntr(population):
    design = S.cohort_design(RES)
    by = {s.name: s for s in design.samples}
    genomes = S.family_genomes(population, design.samples, SEED)
    big = design.whole_deletion
    for name in ("DIRA-05", "DIRA-07"):
        assert genomes[name].vntr == (None, None)
    assert genomes["DIRA-06"].vntr[0] is None and genomes["DIRA-06"].vntr[1] in S.VNTR_COPY_FREQUENCIES
    for name in ("DIRA-05", "DIRA-06"):
        edits = genomes[name].edits[0]
        near = [e for e in edits if e is not big and e.chrom == big.chrom and big.start - 10 <= e.start <= big.end + 10]
        assert big in edits and not near
        for i, gt in genomes[name].calls.items():
            site = population.sites[i].edit
            if site.chrom == big.chrom and big.start <= site.start <= big.end:
                assert gt[0] == "-", (name, gt)
    assert genomes["DIRA-08"].edits[0][0] == by["DIRA-08"].haplotypes[0][0]


def test_truth_records_background_and_rebuilds_haplotypes(reference, population, tmp_path):
    ref = S.load_reference(reference)
    design = S.cohort_design(RES)
    genomes = S.family_genomes(population, design.samples, SEED, design.consanguineous)
    genes = S.read_genes(RES)
    for smp in design.samples:
        truth = json.loads(json.dumps(S._sample_truth(smp, ref, genes, 30, (), population, genomes[smp.name])))
        assert truth["vntr"]["alleles"] == list(genomes[smp.name].vntr)
        assert truth["background_heterozygous"] == sum(
            sorted(g) == ["0", "1"] for g in genomes[smp.name].calls.values()
        )
        rebuilt = S.edits_from_truth(truth, ref)
        for h in (0, 1):  # the same sequence (an indel may be rebuilt at its left-normalised place)
            a, b = S.apply_edits(ref, genomes[smp.name].edits[h]), S.apply_edits(ref, rebuilt[h])
            assert all(np.array_equal(a[c].seq, b[c].seq) for c in ref), smp.name
    vcf = S.write_population_vcf(tmp_path / "pop.vcf.gz", reference, design.alleles, S.POPULATION_AF, population.sites)
    with pysam.VariantFile(str(vcf)) as handle:
        recs = {(r.chrom, r.pos, r.ref, r.alts[0]): r.info["AF"][0] for r in handle}
    assert len(recs) == len(population.sites) + len(design.alleles)
    for site in population.sites[::50]:
        assert recs[(site.edit.chrom, *site.vcf)] == pytest.approx(site.af, rel=5e-3)


def test_sex_chromosomes_are_inherited(reference, population):
    """chrX and chrY come after the build's contigs and the decoy; their sites last in the population. A male lacks
    an X on haplotype 1 and a Y on haplotype 2 (whole-contig deletions: no reads), a female lacks the Y; a son's Y
    is his father's and his X one of his mother's, a daughter's first X her father's."""
    ref = S.load_reference(reference)
    assert list(ref)[-2:] == ["chrX", "chrY"] and ref["chrX"].size == S.SEX_CONTIGS["chrX"]
    n = population.n_autosomal
    assert {s.edit.chrom for s in population.sites[n:]} == {"chrX", "chrY"}
    autosomes = set(S.read_build(RES).contigs)  # the locus contig, the further windows' (chr18) and ctrl
    assert {s.edit.chrom for s in population.sites[:n]} == autosomes
    design = S.cohort_design(RES)
    genomes = S.family_genomes(population, design.samples, SEED, design.consanguineous)
    by = {s.name: s for s in design.samples}
    for name, genome in genomes.items():
        haps = [S.apply_edits(ref, e) for e in genome.edits]
        present = [{c for c in ("chrX", "chrY") if h[c].seq.size > 0} for h in haps]  # (background indels)
        if by[name].male:
            assert genome.sex == "male" and present == [{"chrY"}, {"chrX"}]
        else:
            assert genome.sex == "female" and present == [{"chrX"}, {"chrX"}]
    x = [i for i in range(n, len(population.sites)) if population.sites[i].edit.chrom == "chrX"]
    y = [i for i in range(n, len(population.sites)) if population.sites[i].edit.chrom == "chrY"]

    def allele(name: str, h: int, i: int) -> str:
        return genomes[name].calls.get(i, "00")[h]

    son, daughter, father, mother = "DIRA-01-FETUS", "DIRA-01", "DIRA-01-F", "DIRA-01-M"
    assert by[son].male and not by[daughter].male
    assert all(allele(son, 0, i) == allele(father, 0, i) for i in y)  # his father's Y
    assert all(genomes[p].calls.get(i, "-")[0] == "-" for p in (son, father) for i in x)  # no X on haplotype 1
    assert all(allele(daughter, 0, i) == allele(father, 1, i) for i in x)  # her father's X
    for child in (son, daughter):  # one of the mother's two X, the same copy at every site (no crossover)
        same = [[allele(child, 1, i) == allele(mother, k, i) for i in x] for k in (0, 1)]
        assert all(same[0]) or all(same[1]), child
    # the draw of everything else is as without sex chromosomes
    plain = S.make_population(ref, RES, SEED, contigs=list(S.read_build(RES).contigs))
    assert plain.sites == population.sites[:n]
    before = S.family_genomes(plain, design.samples, SEED, design.consanguineous)
    for name in genomes:
        assert {i: g for i, g in genomes[name].calls.items() if i < n} == before[name].calls, name
