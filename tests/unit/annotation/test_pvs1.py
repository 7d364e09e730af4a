"""PVS1 strength by the ClinGen decision tree, on the IL1RN model (4 coding exons; last junction at c.318/319).

Each case names the variant in c. terms, builds it on the synthetic reference and checks the strength, the
classification it leads to and that the branch text says why. Expected values come from the exon layout
(exon 2 = c.117-205, 89 nt; exon 3 = c.206-318, 113 nt; exon 4 = c.319-534) worked out by hand.
"""

from __future__ import annotations

import re

import pysam
import pytest

from dira_genotyper.annotation.classification import PopulationAf, classify, resolve_rules
from dira_genotyper.annotation.hgvs import describe_variant
from dira_genotyper.annotation.pvs1 import (
    MODERATE,
    STRONG,
    SUPPORTING,
    VERY_STRONG,
    assess,
    coding_exons,
    layout_of,
)
from dira_genotyper.interpretation.alleles import deletion_pvs1
from dira_genotyper.interpretation.gene_state import GeneModel


def _complement(base: str) -> str:
    return {"A": "C", "C": "G", "G": "T", "T": "A"}[base]


@pytest.fixture(scope="module")
def model(synth):
    fasta, tx, genome = synth
    handle = pysam.FastaFile(str(fasta))
    coding = tx.coding_and_3utr(handle.fetch)
    yield tx, genome, handle.fetch, coding
    handle.close()


def _stop_at(tx, genome, coding, codon: int):
    """An SNV that makes codon ``codon`` a stop (TAA/TAG/TGA reachable by one change), as (pos, ref, alt)."""
    triplet = coding[3 * codon - 3 : 3 * codon]
    for i in range(3):
        for base in "ACGT":
            new = triplet[:i] + base + triplet[i + 1 :]
            if new in ("TAA", "TAG", "TGA") and base != triplet[i]:
                g = tx.c_to_genomic(f"c.{3 * codon - 2 + i}")
                return g, genome[g - 1], base
    return None


def _effect(model, pos, ref, alt):
    tx, _genome, fetch, coding = model
    effect = describe_variant(tx, fetch, pos, ref, alt)
    return effect, assess(effect, tx, coding)


def test_coding_exons_of_il1rn(model):
    tx = model[0]
    assert [(e.number, e.c_first, e.c_last) for e in coding_exons(tx)] == [
        (1, 1, 116), (2, 117, 205), (3, 206, 318), (4, 319, 534)
    ]  # fmt: skip


def test_q54x_is_nmd_pvs1(model):
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic("c.160")
    effect, pvs1 = _effect(model, g, genome[g - 1], "T")
    assert effect.hgvs_p == "p.(Gln54*)"
    assert pvs1.strength == VERY_STRONG and "NMD predicted" in pvs1.branch


def test_deletion_named_intronic_keeps_the_frameshift_for_pvs1(model):
    """Exon 1 ends in G and intron 1 starts with GT: deleting that G is named c.116+1del (3' rule), p.?, but the
    sequence is that of c.116del, a frameshift with NMD: PVS1 reads the exonic placement's protein, not p.?."""
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic("c.116")
    assert genome[g - 1] == genome[g] == "G"
    effect, pvs1 = _effect(model, g - 1, genome[g - 2 : g], genome[g - 2])
    assert effect.hgvs_c == "c.116+1del" and effect.hgvs_p == "p.?"
    assert "frameshift_variant" in effect.consequences and effect.predicted_p.startswith("p.(")
    assert pvs1.strength == VERY_STRONG and "NMD predicted" in pvs1.branch


def test_stop_in_the_last_exon_escapes_nmd(model):
    tx, genome, _fetch, coding = model
    # codons 107-177 are in exon 4; the first codon there that one change makes a stop
    codon = next(c for c in range(108, 150) if _stop_at(tx, genome, coding, c))
    effect, pvs1 = _effect(model, *_stop_at(tx, genome, coding, codon))
    assert "stop_gained" in effect.consequences
    assert pvs1.strength == STRONG and "last exon" in pvs1.branch and "NMD not predicted" in pvs1.branch
    absent = PopulationAf()  # PVS1_Strong needs PM2: absent from the population data
    label, reason = classify(effect.consequences, None, absent, resolve_rules(), pvs1, disease="DIRA")
    assert label == "likely_pathogenic" and reason.startswith("PVS1_Strong")


def test_late_stop_removing_little_protein_is_only_moderate(model):
    tx, genome, _fetch, coding = model
    codon = next(c for c in range(177, 165, -1) if _stop_at(tx, genome, coding, c))
    effect, pvs1 = _effect(model, *_stop_at(tx, genome, coding, codon))
    assert pvs1.strength == MODERATE
    assert classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")[0] == "uncertain"


def test_stop_in_the_last_50_nt_of_the_penultimate_exon_escapes_nmd(model):
    tx, genome, _fetch, coding = model
    codon = next(c for c in range(91, 106) if _stop_at(tx, genome, coding, c))  # c.271-318
    _effect_, pvs1 = _effect(model, *_stop_at(tx, genome, coding, codon))
    assert pvs1.strength == STRONG and "penultimate" in pvs1.branch


def test_frameshift_through_the_stop_is_not_a_null_variant(model):
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic("c.532")  # first base of the stop codon deleted: the frame runs into the 3' UTR
    effect, pvs1 = _effect(model, g - 1, genome[g - 2 : g], genome[g - 2])
    assert "stop_lost" in effect.consequences or (effect.hgvs_p or "").endswith("fs*?)")
    assert pvs1.strength is None and "PM4" in pvs1.branch
    assert classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")[0] == "uncertain"


def test_stop_retained_is_likely_benign(model):
    tx, genome, _fetch, coding = model
    stop = coding[531:534]
    third = {"TAA": "G", "TAG": "A", "TGA": None}[stop]
    if third is None:  # TGA: TAA at the second base keeps the stop
        g = tx.c_to_genomic("c.533")
        alt = "A"
    else:
        g = tx.c_to_genomic("c.534")
        alt = third
    effect, pvs1 = _effect(model, g, genome[g - 1], alt)
    assert effect.hgvs_p == "p.(*178=)"
    label, reason = classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")
    assert label == "uncertain" and reason.startswith("BP7")  # BP7 alone is not likely benign


def test_last_residue_deleted_in_frame_is_uncertain(model):
    tx, genome, _fetch, _coding = model
    a, b = tx.c_to_genomic("c.529"), tx.c_to_genomic("c.531")
    while genome[a - 2] == genome[b - 1]:
        a, b = a - 1, b - 1
    effect, pvs1 = _effect(model, a - 1, genome[a - 2 : b], genome[a - 2])
    assert effect.hgvs_p == "p.(Glu177del)" and effect.consequences == ("inframe_deletion",)
    assert classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")[0] == "uncertain"


@pytest.mark.parametrize(
    ("c", "strength", "words"),
    [
        # exon 3 (113 nt) skipped: out of frame, but the new stop falls in the last exon, so no NMD
        ("c.318+2", STRONG, "exon 3 (c.206-318) predicted skipped, out of frame"),
        ("c.117-2", VERY_STRONG, "exon 2"),  # exon 2 (89 nt) skipped: out of frame
        ("c.116+1", VERY_STRONG, "start codon"),  # donor of the first coding exon
        ("c.319-1", STRONG, "last coding exon"),  # acceptor of exon 4: 40% of the protein
    ],
)
def test_canonical_splice_sites(model, c, strength, words):
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic(c)
    effect, pvs1 = _effect(model, g, genome[g - 1], _complement(genome[g - 1]))
    assert pvs1.strength == strength and words in pvs1.branch


def test_start_loss_is_supporting_without_a_known_pathogenic_variant_before_the_next_met(model):
    """ClinGen SVI initiation codon: PVS1_Moderate only when a pathogenic variant lies upstream of the closest
    in-frame Met (Met35 in IL1RN); the DIRA table's first is c.141del (codon 47), so start loss is Supporting."""
    tx, genome, _fetch, coding = model
    g = tx.c_to_genomic("c.2")
    effect, pvs1 = _effect(model, g, genome[g - 1], _complement(genome[g - 1]))
    assert pvs1.strength == SUPPORTING and "codon 35" in pvs1.branch  # MEICRG...KSSKM: Met35
    assert "no known pathogenic variant" in pvs1.branch
    assert assess(effect, tx, coding, pathogenic_c=(141, 156, 160)).strength == SUPPORTING
    upstream = assess(effect, tx, coding, pathogenic_c=(141, 28))
    assert upstream.strength == MODERATE and "c.28" in upstream.branch
    assert classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")[0] == "uncertain"


def _del(model, first: str, last: str):
    """The deletion of c.first..c.last (genomic order taken care of)."""
    tx, genome, _fetch, _coding = model
    a, b = sorted((tx.c_to_genomic(first), tx.c_to_genomic(last)))
    return _effect(model, a - 1, genome[a - 2 : b], genome[a - 2])


@pytest.mark.parametrize(
    ("first", "last", "strength", "words"),
    [
        ("c.116", "c.116+2", VERY_STRONG, "exon 1 holds the start codon"),
        ("c.205", "c.205+1", VERY_STRONG, "exon 2 (c.117-205) predicted skipped, out of frame"),
        ("c.117-1", "c.118", VERY_STRONG, "acceptor of intron 1: exon 2 (c.117-205) predicted skipped"),
        ("c.318", "c.318+1", STRONG, "exon 3 (c.206-318) predicted skipped, out of frame"),
        ("c.319-1", "c.319", STRONG, "the last coding exon 4"),
    ],
)
def test_deletions_across_an_exon_intron_junction_are_judged_as_the_splice_site_they_take(
    model, first, last, strength, words
):
    """The intron is not 'resolved' for an allele with bases in an exon and its intron; its canonical bases are
    lost all the same, so the splice branch applies (not a Moderate cap)."""
    effect, pvs1 = _del(model, first, last)
    assert effect.intron is None and {"splice_donor_variant", "splice_acceptor_variant"} & set(effect.consequences)
    assert pvs1.strength == strength and words in pvs1.branch


@pytest.mark.parametrize("c", ["c.338", "c.396", "c.479"])
def test_last_exon_frameshift_read_through_counts_the_altered_region(model, c):
    """c.396del (a published DIRA homozygote) shifts the frame at Thr133 and stops past the old stop: 25% of the
    protein is altered, so PVS1_Strong (not 'removes 0%')."""
    tx, genome, _fetch, _coding = model
    effect, pvs1 = _del(model, c, c)
    first = int(re.match(r"p\.\([A-Z][a-z]{2}(\d+)", effect.hgvs_p).group(1))
    assert "frameshift_variant" in effect.consequences and first >= 107  # in the last exon
    assert pvs1.strength == STRONG and f"from codon {first}" in pvs1.branch and "removes" not in pvs1.branch
    label = classify(effect.consequences, None, PopulationAf(), resolve_rules(), pvs1, disease="DIRA")[0]
    assert label == "likely_pathogenic"  # PVS1_Strong + PM2 (absent from the population data)


def test_frameshift_at_the_last_residue_stays_moderate(model):
    effect, pvs1 = _del(model, "c.530", "c.530")
    assert effect.hgvs_p.startswith("p.(Glu177") and pvs1.strength == MODERATE and "only 1%" in pvs1.branch


@pytest.mark.parametrize(("pos", "inserted"), [("c.532", "G"), ("c.533", "AA")])
def test_stop_retained_indel_is_bp7_not_a_frameshift(model, pos, inserted):
    """An insertion in the stop codon that keeps TAG (p.(*178=)) changes no residue: BP7, not a frameshift (BP7
    alone is uncertain: likely benign needs a second benign criterion)."""
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic(pos)
    effect, pvs1 = _effect(model, g, genome[g - 1], genome[g - 1] + inserted)
    assert effect.hgvs_p == "p.(*178=)", effect.hgvs_c
    assert effect.consequences == ("stop_retained_variant",) and pvs1.strength is None
    label, reason = classify(effect.consequences, None, None, resolve_rules(), pvs1, disease="DIRA")
    assert label == "uncertain" and reason.startswith("BP7")
    common = classify(effect.consequences, None, 0.01, resolve_rules(), pvs1, disease="DIRA")
    assert common[0] == "likely_benign"  # BS1 + BP7


def _gene(model, with_sequence: bool = True) -> GeneModel:
    """The genotype's model of the synthetic IL1RN (exons numbered 5'->3'), with its coding sequence."""
    tx, _genome, _fetch, coding = model
    numbered = tuple((n, s, e) for n, (s, e) in enumerate(tx.exons_5to3, start=1))
    cds = tuple((n, max(s, cs), min(e, ce)) for n, s, e in numbered for cs, ce in tx.cds if cs <= e and s <= ce)
    return GeneModel("IL1RN", tx.chrom, tx.strand, numbered, cds, coding if with_sequence else None)


def test_the_gene_model_reads_the_transcript_as_the_tree_does(model):
    tx, _genome, _fetch, coding = model
    assert _gene(model).layout() == layout_of(tx, coding)


def test_the_gene_model_reads_a_minus_strand_gene_the_same_way(model):
    """The same transcript mirrored onto the - strand: the same layout, c. ranges and deletion judgements."""
    tx = model[0]
    gene, top = _gene(model), 10**6

    def flip(rows):
        return tuple((n, top - e, top - s) for n, s, e in rows)

    mirrored = GeneModel(gene.gene, gene.chrom, "-", flip(gene.exons), flip(gene.cds), gene.coding)
    assert mirrored.layout() == gene.layout()
    a, b = tx.c_to_genomic("c.300"), tx.c_to_genomic("c.117-1")  # part of exon 3, the acceptor of intron 1
    assert mirrored.c_ranges(gene.chrom, top - a, top - a + 5) == gene.c_ranges(gene.chrom, a - 5, a)
    for start, end in ((b - 300, b), (a - 5, a + 200)):
        plus = deletion_pvs1(gene, {"chrom": gene.chrom, "start": start, "end": end})[0]
        minus = deletion_pvs1(mirrored, {"chrom": gene.chrom, "start": top - end, "end": top - start})[0]
        assert plus == minus and plus.strength is not None


@pytest.mark.parametrize(
    ("exons", "whole", "strength", "words"),
    [
        ([1, 2, 3, 4], True, VERY_STRONG, "full gene deletion"),
        ([1], False, VERY_STRONG, "start codon"),
        ([2], False, VERY_STRONG, "new stop (codon 47)"),  # 89 nt: out of frame, NMD
        # 113 nt out of frame, but the new stop (codon 71) is in the last exon: no NMD (not "NMD predicted")
        ([3], False, STRONG, "the new stop (codon 71) is in the last exon, NMD not predicted"),
        ([4], False, STRONG, "stop codon"),  # the stop and 40% of the protein
        ([], False, None, "intron only"),
    ],
)
def test_exon_deletions(model, exons, whole, strength, words):
    gene = _gene(model)
    spans = [(s, e) for n, s, e in gene.exons if n in exons]
    start, end = (
        (min(s for s, _ in spans) - 10, max(e for _, e in spans) + 10)
        if spans
        else (gene.exons[0][2] + 100, gene.exons[1][1] - 100)
    )  # intron 1 only
    pvs1, hit, whole_gene = deletion_pvs1(gene, {"chrom": gene.chrom, "start": start, "end": end})
    assert (pvs1.strength, whole_gene) == (strength, whole)
    assert hit == exons and words in pvs1.branch


def test_an_out_of_frame_exon_deletion_without_the_sequence_is_not_called_nmd(model):
    """Without the transcript sequence the new stop cannot be placed: the frame is altered from the exon's first
    codon (PVS1_Strong here), NMD is not assumed."""
    gene = _gene(model, with_sequence=False)
    _n, s, e = gene.exons[2]  # exon 3
    pvs1, _hit, _whole = deletion_pvs1(gene, {"chrom": gene.chrom, "start": s - 10, "end": e + 10})
    assert pvs1.strength == STRONG and "NMD is not assumed" in pvs1.branch and "codon 69" in pvs1.branch


@pytest.mark.parametrize(
    ("first", "last", "strength", "words"),
    [
        ("c.116+1", "c.116+400", VERY_STRONG, "takes the splice donor of intron 1 (exon 1 skipped)"),
        ("c.117-400", "c.117-1", VERY_STRONG, "takes the splice acceptor of intron 1 (exon 2 skipped)"),
        ("c.318+2", "c.318+300", STRONG, "exon 3 skipped"),
        ("c.319-300", "c.319-2", STRONG, "stop codon"),
    ],
)
def test_deletions_of_a_canonical_splice_site_go_through_the_splice_branch(model, first, last, strength, words):
    """An intronic deletion call that takes the +/-1,2 bases of an exon loses that exon like a splice variant."""
    tx = model[0]
    gene = _gene(model)
    a, b = sorted((tx.c_to_genomic(first), tx.c_to_genomic(last)))
    pvs1, hit, _whole = deletion_pvs1(gene, {"chrom": gene.chrom, "start": a, "end": b})
    assert hit == [] and pvs1.strength == strength and words in pvs1.branch


@pytest.mark.parametrize(("precise", "code"), [(False, "near_splice_site"), (True, "")])
def test_an_imprecise_deletion_ending_near_a_splice_site_is_not_cleared(model, precise, code):
    tx = model[0]
    gene = _gene(model)
    a, b = tx.c_to_genomic("c.117-1000"), tx.c_to_genomic("c.117-30")
    deletion = {"chrom": gene.chrom, "start": a, "end": b, "breakpoint_support": {"precise": precise}}
    pvs1, _hit, _whole = deletion_pvs1(gene, deletion)
    assert pvs1.strength is None and pvs1.code == code
    if not precise:
        assert "within 50 bp of the acceptor of intron 1 (exon 2)" in pvs1.branch and "NMD predicted" in pvs1.branch


def test_a_model_without_its_first_exon_keeps_the_published_numbers(model):
    """GFF3 exon_number 2.. (a 5' UTR exon not modelled): exons and introns keep their own numbers."""
    import dataclasses

    tx, genome, fetch, coding = model
    shifted = dataclasses.replace(tx, first_exon=2)
    assert [e.number for e in coding_exons(shifted)] == [2, 3, 4, 5]
    g = shifted.c_to_genomic("c.318+2")
    effect = describe_variant(shifted, fetch, g, genome[g - 1], _complement(genome[g - 1]))
    assert effect.intron == 4
    assert "exon 4 (c.206-318)" in assess(effect, shifted, coding).branch


def test_the_shipped_tables_decide_the_start_loss_branch():
    """known_dira_variants.tsv has no (likely) pathogenic IL1RN variant before Met35 (c.1-105): start loss is
    PVS1_Supporting for DIRA; the DITRA table's c.28C>T (p.Arg10*) lies before IL36RN's next Met."""
    from dira_genotyper.annotation.known_alleles import KnownAlleles, read_table
    from tests.unit.conftest import RESOURCES

    dira = KnownAlleles(read_table(RESOURCES / "known_dira_variants.tsv"), "chr2").pathogenic_c()
    assert dira == (141, 156, 160, 213, 229, 318) and min(dira) > 3 * 35
    ditra = KnownAlleles(read_table(RESOURCES / "known_ditra_variants.tsv"), "chr2").pathogenic_c()
    assert 28 in ditra and 141 not in ditra
