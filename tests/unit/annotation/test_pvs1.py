"""PVS1 strength by the ClinGen decision tree, on the IL1RN model (4 coding exons; last junction at c.318/319).

Each case names the variant in c. terms, builds it on the synthetic reference and checks the strength, the
classification it leads to and that the branch text says why. Expected values come from the exon layout
(exon 2 = c.117-205, 89 nt; exon 3 = c.206-318, 113 nt; exon 4 = c.319-534) worked out by hand.
"""

from __future__ import annotations

import pysam
import pytest

from dira_genotyper.annotation.classification import PopulationAf, classify, resolve_rules
from dira_genotyper.annotation.hgvs import describe_variant
from dira_genotyper.annotation.pvs1 import (
    MODERATE,
    STRONG,
    VERY_STRONG,
    assess,
    coding_exons,
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


def test_start_loss_is_moderate_and_names_the_next_met(model):
    tx, genome, _fetch, _coding = model
    g = tx.c_to_genomic("c.2")
    effect, pvs1 = _effect(model, g, genome[g - 1], _complement(genome[g - 1]))
    assert pvs1.strength == MODERATE and "codon 35" in pvs1.branch  # MEICRG...KSSKM: Met35


@pytest.mark.parametrize(
    ("exons", "whole", "strength"),
    [
        ([1, 2, 3, 4], True, VERY_STRONG),
        ([1], False, VERY_STRONG),
        ([2], False, VERY_STRONG),  # 89 nt: out of frame
        ([3], False, VERY_STRONG),  # 113 nt: out of frame
        ([4], False, STRONG),  # the stop and 40% of the protein
        ([], False, None),  # intron only
    ],
)
def test_exon_deletions(model, exons, whole, strength):
    tx = model[0]
    numbered = tuple((n, s, e) for n, (s, e) in enumerate(tx.exons_5to3, start=1))
    cds = tuple((n, max(s, cs), min(e, ce)) for n, s, e in numbered for cs, ce in tx.cds if cs <= e and s <= ce)
    gene = GeneModel("IL1RN", tx.chrom, tx.strand, numbered, cds)
    spans = [(s, e) for n, s, e in numbered if n in exons]
    start, end = (
        (min(s for s, _ in spans) - 10, max(e for _, e in spans) + 10)
        if spans
        else (numbered[0][2] + 100, numbered[1][1] - 100)
    )  # intron 1 only
    pvs1, hit, whole_gene = deletion_pvs1(gene, {"chrom": tx.chrom, "start": start, "end": end})
    assert (pvs1.strength, whole_gene) == (strength, whole)
    assert hit == exons


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
