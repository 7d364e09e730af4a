"""The DIRA interpretation, one test per row of the clinical decision table (docs/interpretation.md) (hand-made calls).

The gene model has IL1RN's real coding layout (exon 1: 27 nt 5' UTR + c.1-116; exon 2: c.117-205 (89 nt);
exon 3: c.206-318 (113 nt); exon 4: c.319-534 + 3' UTR), placed at small test coordinates.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dira_genotyper.interpretation.alleles import judge_small
from dira_genotyper.interpretation.decision import copy_number_at, interpret
from dira_genotyper.interpretation.gene_state import Callability, GeneModel
from dira_genotyper.interpretation.genotype import load_known_deletions

KNOWN = Path(__file__).resolve().parents[3] / "resources" / "known_dira_variants.tsv"
MODEL = GeneModel(
    "IL1RN", "chr2", "+",
    exons=((1, 1000, 1142), (2, 3000, 3088), (3, 4400, 4512), (4, 6000, 7400)),
    cds=((1, 1027, 1142), (2, 3000, 3088), (3, 4400, 4512), (4, 6000, 6215)),
)  # fmt: skip
SAMPLE = {"sample": "S", "father": None, "mother": None, "family": None, "sex": "unknown"}
CDS_EXONS = [{"exon": n, "start": s, "end": e} for n, s, e in MODEL.cds]
FULL = {
    "callable_fraction_cds": 1.0,
    "mean_depth_cds": 30.0,
    "exons": CDS_EXONS,
    "uncallable_exons": [],
    "min_depth": 10,
    "min_depth_hemizygous": 5,
    "splice_bp": 2,
    "uncallable_intervals": [],
    "uncallable_intervals_hemizygous": [],
}
CLUSTER = ("IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN")


def exons(cn=2, **override):
    return [
        {"gene": "IL1RN", "exon": n, "start": s, "end": e, "copy_number": override.get(f"e{n}", cn), "quality": 50.0}
        for n, s, e in MODEL.exons
    ]


def cnv(gene_cn: int | None = 2, deletions=(), status="called", exon_cn=None):
    genes = {g: {"copy_number": gene_cn, "quality": 50.0} for g in CLUSTER}
    return {
        "status": status,
        "mode": "single",
        "mad": 0.05,
        "reasons": [] if status == "called" else ["too shallow"],
        "genes": genes,
        "exons": exon_cn if exon_cn is not None else exons(),
        "deletions": list(deletions),
    }


def var(
    pos,
    ref,
    alt,
    gt="0/1",
    cls="pathogenic",
    hgvs="c.160C>T",
    known="Q54X",
    flt="PASS",
    af=None,
    depth=30,
    alt_depth=None,
    consequence="stop_gained",
):
    hom = gt == "1/1"
    fraction = 1.0 if hom else 0.5
    if alt_depth is not None:
        fraction = round(alt_depth / depth, 4)
    zyg = "homozygous" if hom else "unknown" if "." in gt else "heterozygous"
    return {
        "chrom": "chr2",
        "pos": pos,
        "ref": ref,
        "alt": alt,
        "genotype": gt,
        "zygosity": zyg,
        "classification": cls,
        "classification_reason": "test.",
        "hgvs_c": f"NM_173842.3:{hgvs}",
        "hgvs_p": "NP_776214.1:p.(Gln54*)",
        "hgvs_c_ensembl": None,
        "consequence": consequence,
        "known_as": known,
        "filter": flt,
        "depth": depth,
        "alt_depth": alt_depth if alt_depth is not None else round(depth * fraction),
        "allele_fraction": fraction,
        "qual": 200.0,
        "genotype_quality": 99,
        "kind": "snv" if len(ref) == len(alt) else "indel",
        "population_af": af,
    }


def deletion(start, end, cn, genes=("IL1RN",)):
    return {
        "chrom": "chr2",
        "start": start,
        "end": end,
        "size": end - start + 1,
        "copy_number": cn,
        "quality": 60.0,
        "genes": list(genes),
        "il1rn_exons": [],
        "breakpoint_support": {"split_reads": 5, "discordant_pairs": 7, "precise": True},
    }


def run(variants, copy_number=None, coverage=None, **kw):
    return interpret(SAMPLE, variants, copy_number or cnv(), coverage or FULL, model=MODEL, disease="DIRA", **kw)


def parent(*variants, coverage=FULL, copy_number=None):
    """A parent as the genotype step loads it: every call (filtered ones too), copy number, callable regions."""
    return {"variants": list(variants), "cnv": copy_number or cnv(), "callable": coverage}


def trio(child_variants, father, mother, copy_number=None):
    child = dict(SAMPLE, father="D", mother="M")
    parents = {"father": father, "mother": mother}
    return interpret(child, child_variants, copy_number or cnv(), FULL, parents=parents, model=MODEL, disease="DIRA")


Q54X = var(3043, "C", "T")  # c.160 (exon 2)
E77X = var(4423, "G", "T", hgvs="c.229G>T", known="E77X")  # c.229 (exon 3)
FOUNDER_HET = deletion(1, 200_000, 1, genes=CLUSTER)
FOUNDER_HOM = deletion(1, 200_000, 0, genes=CLUSTER)
ONE_COPY = exons(1)


# ---- affected ------------------------------------------------------------------------------------------------
def test_row01_homozygous_lof_variant_is_affected():
    result = run([var(3043, "C", "T", gt="1/1")])
    assert result.status == "affected"
    assert result.alleles[0]["zygosity"] == "homozygous" and result.alleles[0]["copy_number"] == 2


def test_row02_homozygous_whole_gene_deletion_is_affected_and_matches_the_founder_by_gene_content():
    cov = dict(FULL, uncallable_intervals=[["chr2", 0, 10_000]], uncallable_intervals_hemizygous=[["chr2", 0, 10_000]])
    result = run([], cnv(0, [FOUNDER_HOM], exon_cn=exons(0)), cov, known_deletion=load_known_deletions(KNOWN))
    assert result.status == "affected"
    allele = result.alleles[0]
    assert (allele["kind"], allele["zygosity"], allele["consequence"]) == (
        "deletion",
        "homozygous",
        "transcript_ablation",
    )
    assert "Puerto Rican" in allele["known_as"] and allele["classification"] == "pathogenic"
    assert all(row["callable"] for row in result.exon_callability)  # its own bases never count against it


def test_row03_homozygous_deletion_of_a_coding_exon_is_affected():
    exon3 = deletion(4000, 5800, 0)
    result = run([], cnv(0, [exon3], exon_cn=exons(e3=0)))
    assert result.status == "affected"
    assert result.alleles[0]["classification"] == "likely_pathogenic"
    assert "out of frame" in result.alleles[0]["classification_reason"]


def test_row03b_out_of_frame_exon_deletion_is_followed_to_its_stop():
    """Exon 3 (113 nt) out of frame: the new stop falls in the last exon, so NMD is not predicted (PVS1_Strong by
    the protein altered), as the splice branch says for c.318+2; annotate hands the genotype the sequence."""
    cds = "".join(
        line.strip() for line in (KNOWN.parent / "SYNTH" / "il1rn_cds_synthetic.fa").read_text().splitlines()[1:]
    )
    model = dataclasses.replace(MODEL, coding=cds)
    exon3 = deletion(4000, 5800, 0)
    result = interpret(SAMPLE, [], cnv(0, [exon3], exon_cn=exons(e3=0)), FULL, model=model, disease="DIRA")
    assert result.status == "affected"
    reason = result.alleles[0]["classification_reason"]
    assert reason.startswith("PVS1_Strong") and "in the last exon, NMD not predicted" in reason, reason


def test_row04_het_founder_deletion_and_a_lof_on_the_other_copy_is_affected_by_zygosity():
    result = run(
        [var(4423, "G", "T", gt="1/1", hgvs="c.229G>T", known="E77X", depth=14)],
        cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY),
    )
    assert result.status == "affected"
    snv = next(a for a in result.alleles if a["kind"] == "snv")
    assert snv["zygosity"] == "hemizygous" and snv["copy_number"] == 1
    assert result.phase["status"] == "in_trans" and result.phase["method"] == "zygosity"


def test_row05_a_hemizygous_deletion_is_not_failed_for_its_own_missing_reads():
    """c.213_227del on the only copy left: its deleted bases have no reads, and LowDepth/LowGQ/Uncallable were
    written by the two-copy caller; at copy number 1 they do not stand."""
    small = var(
        4405,
        "CAGATGTGGTACCCAT",
        "C",
        gt="1/1",
        hgvs="c.213_227del",
        known="213-228del",
        depth=9,
        flt=["LowDepth", "LowGQ", "Uncallable"],
        consequence="inframe_deletion",
    )
    cov = dict(
        FULL, uncallable_intervals=[["chr2", 4400, 4420]], uncallable_intervals_hemizygous=[["chr2", 4405, 4420]]
    )
    result = run([small], cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY), cov)
    assert result.status == "affected", result.reasons
    assert next(a for a in result.alleles if a["kind"] == "indel")["evidence"]["filter"] == "PASS"


def test_row06_compound_heterozygote_in_trans_by_parents_is_affected():
    result = trio([Q54X, E77X], parent(Q54X), parent(E77X))
    assert result.status == "affected" and result.phase["status"] == "in_trans"
    assert not result.presumed_biallelic
    assert {a["hgvs_c"]: a["origin"] for a in result.alleles} == {
        "NM_173842.3:c.160C>T": "paternal",
        "NM_173842.3:c.229G>T": "maternal",
    }


def test_row07_two_het_lof_of_unknown_phase_are_presumed_biallelic_not_affected():
    """Exons 2 and 3 are > 800 bp apart (read pairs cannot phase them) and no parents are in the run: the two
    alleles may be on one copy (a carrier), so the result is no diagnosis."""
    result = run([Q54X, E77X])
    assert result.status == "inconclusive" and result.presumed_biallelic is True
    assert result.phase["status"] == "unknown"
    assert [r.code for r in result.reasons].count("presumed_biallelic") == 1
    reason = next(r for r in result.reasons if r.code == "presumed_biallelic")
    assert "not a confirmed diagnosis" in reason and "Parental testing needed" in reason
    assert result.summary.startswith("Inconclusive (presumed biallelic, parental testing needed)")
    assert "Affected" not in result.summary
    assert any(text.startswith("Phase unknown") for text in result.limitations)


def test_row08_two_lof_in_cis_is_carrier():
    result = trio([Q54X, E77X], parent(Q54X, E77X), parent())
    assert result.status == "carrier" and result.phase["status"] == "in_cis"
    assert "the mother is reference at both sites" in result.phase["detail"]


def test_three_het_lof_two_in_cis_and_the_third_in_trans_is_affected():
    """Every event is phased against the first: c.160 and c.229 come from the father, c.400 from the mother, so both
    copies are hit (the first two pairs alone said "in cis": a carrier)."""
    third = var(6100, "C", "T", hgvs="c.400C>T", known=None)
    result = trio([Q54X, E77X, third], parent(Q54X, E77X), parent(third))
    assert result.status == "affected" and result.phase["status"] == "in_trans"
    unknown = trio([Q54X, E77X, third], parent(Q54X, E77X), parent(third, coverage=None))
    assert unknown.status == "inconclusive" and unknown.presumed_biallelic
    assert trio([Q54X, E77X, third], parent(Q54X, E77X, third), parent()).status == "carrier"


def test_row09_exon_deletion_on_one_copy_and_a_lof_in_another_exon_are_presumed_biallelic():
    """The exon-4 deletion and c.160C>T (exon 2) are not phased by zygosity (c.160 is on two copies), reads or
    parents: inconclusive, presumed biallelic (row 7's rule)."""
    exon4 = deletion(5800, 6500, 1)
    result = run([Q54X], cnv(1, [exon4], exon_cn=exons(e4=1)))
    assert result.status == "inconclusive" and result.presumed_biallelic
    assert {a["kind"] for a in result.alleles} == {"snv", "deletion"}


def test_row09_exon_deletion_and_a_lof_in_trans_by_the_parents_is_affected():
    exon4 = deletion(5800, 6500, 1)
    with_deletion = cnv(1, [exon4], exon_cn=exons(e4=1))
    result = trio([Q54X], parent(copy_number=with_deletion), parent(Q54X), copy_number=with_deletion)
    assert result.status == "affected" and result.phase == {
        "status": "in_trans",
        "method": "parents",
        "detail": "each parent carries one of the two alleles and is reference at the other",
    }
    assert {a["kind"]: a["origin"] for a in result.alleles} == {"deletion": "paternal", "snv": "maternal"}


# ---- carrier ---------------------------------------------------------------------------------------------------
def test_row10_one_het_lof_with_the_rest_complete_is_carrier():
    result = run([Q54X])
    assert result.status == "carrier" and "a working copy remains" in result.summary


def test_row11_carrier_of_the_founder_deletion_at_shallow_depth_is_carrier():
    """One copy left at ~15x: bases under the two-copy depth (10) but over the one-copy depth (5) are callable."""
    cov = dict(FULL, uncallable_intervals=[["chr2", 3010, 3030], ["chr2", 6100, 6120]])
    result = run([], cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY), cov)
    assert result.status == "carrier", result.reasons
    assert {row["required_depth"] for row in result.exon_callability} == {5}


def test_row12_founder_carrier_with_an_exon_below_the_one_copy_depth_is_inconclusive():
    cov = dict(
        FULL, uncallable_intervals=[["chr2", 3010, 3030]], uncallable_intervals_hemizygous=[["chr2", 3010, 3030]]
    )
    result = run([], cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY), cov)
    assert result.status == "inconclusive"
    assert any("exon(s) 2 not callable" in r for r in result.reasons)


# ---- inconclusive ----------------------------------------------------------------------------------------------
def test_row13_lof_plus_het_vus_is_a_possible_compound_heterozygote():
    vus = var(4470, "G", "T", cls="uncertain", hgvs="c.276G>T", known=None, consequence="missense_variant")
    result = run([Q54X, vus])
    assert result.status == "inconclusive"
    assert any("possible compound heterozygote" in r and "parental testing" in r for r in result.reasons)


def test_row14_lof_plus_uncallable_exon_is_inconclusive():
    cov = dict(FULL, uncallable_intervals=[["chr2", 4450, 4460]])
    result = run([Q54X], coverage=cov)
    assert result.status == "inconclusive"
    assert any("exon(s) 3 not callable" in r for r in result.reasons)


def test_row15_nothing_found_with_everything_checked_is_negative():
    assert run([]).status == "negative"


def test_row16_copy_number_not_called_is_inconclusive():
    result = run([], cnv(None, status="no_call", exon_cn=exons(None)))
    assert result.status == "inconclusive" and any("copy number not called" in r for r in result.reasons)


def test_row17_exon_at_one_copy_that_no_deletion_explains_is_inconclusive_even_with_a_homozygous_looking_lof():
    result = run([var(3043, "C", "T", gt="1/1")], cnv(2, exon_cn=exons(e2=1)))
    assert result.status == "inconclusive"
    assert any("no called deletion explains it" in r for r in result.reasons)
    assert result.alleles[0]["zygosity"] == "hemizygous"
    assert run([], cnv(2, exon_cn=exons(e2=1))).status == "inconclusive"


@pytest.mark.parametrize("gene_cn", [1, 3])
def test_row18_gene_copy_number_other_than_two_without_a_segment_is_inconclusive(gene_cn):
    result = run([], cnv(gene_cn))
    assert result.status == "inconclusive"


def test_row19_duplication_is_reported_not_ignored():
    result = run([Q54X], cnv(2, exon_cn=exons(e3=3)))
    assert result.status == "inconclusive"
    assert any("duplication" in r and "exon 3 at copy number 3" in r for r in result.reasons)


def test_row20_heterozygous_snv_inside_a_one_copy_region_is_a_conflict():
    result = run(
        [var(4423, "G", "T", gt="0/1", hgvs="c.229G>T", known="E77X", depth=14)],
        cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY),
    )
    assert result.status == "inconclusive"
    assert any("where only one copy is present" in r for r in result.reasons)


def test_row21_lof_in_a_minority_of_reads_flags_mosaicism():
    low = var(3043, "C", "T", depth=50, alt_depth=10)
    result = run([low])
    assert result.status == "inconclusive"
    assert any("mosaicism or sample contamination" in r for r in result.reasons)


def test_row21_allele_fraction_025_at_40_reads_is_flagged_as_the_limitation_says():
    """AF 0.25 at 40 reads (P = 0.0011 against 0.5) was not flagged although the limitation said it would be."""
    result = run([var(3043, "C", "T", depth=40, alt_depth=10)])
    assert result.status == "inconclusive"
    assert any("mosaicism or sample contamination" in r for r in result.reasons)
    text = next(t for t in result.limitations if t.startswith("Mosaicism"))
    assert "at 40 reads: 11 or fewer ALT reads" in text
    assert run([var(3043, "C", "T", depth=40, alt_depth=12)]).status == "carrier"  # AF 0.3: not flagged


def test_row21b_homozygous_call_with_ref_reads_is_not_a_clean_homozygote():
    """A 1/1 call with AF 0.7 at copy number 2 (or 3) is not a clean homozygote: flagged, so not 'affected'."""
    result = run([var(3043, "C", "T", gt="1/1", depth=30, alt_depth=21)])
    assert result.status == "inconclusive"
    assert any("not a clean homozygote" in r for r in result.reasons)
    assert run([var(3043, "C", "T", gt="1/1", depth=30, alt_depth=29)]).status == "affected"
    at_three = judge_small(var(3043, "C", "T", gt="1/1", depth=30, alt_depth=21), 3, Callability.from_json(FULL))
    assert [f.code for f in at_three.flags] == ["homozygous_low_fraction"]


def test_row22_incomplete_genotype_is_not_homozygous():
    result = run([var(3043, "C", "T", gt="./1")])
    assert result.status == "inconclusive"
    assert result.alleles[0]["zygosity"] == "unknown"
    assert any("incomplete" in r for r in result.reasons)


def test_row23_intron_only_deletion_is_not_lof():
    intronic = deletion(1500, 2800, 1)  # intron 1 only, 200 bp and more from the splice sites
    alone = run([], cnv(1, [intronic]))
    assert alone.status == "negative", alone.reasons
    assert alone.other_variants[0]["classification"] == "likely_benign"
    assert "normal IL1RN copy number" not in alone.summary  # the gene call is 1: say what is true
    assert "no IL1RN deletion of coding sequence or splice site" in alone.summary
    with_q54x = run([Q54X], cnv(1, [intronic]))
    assert with_q54x.status == "carrier"


C116_PLUS_1, C117_MINUS_1 = 1143, 2999  # MODEL: exon 1 ends at c.116 (1142), exon 2 starts at c.117 (3000)


def test_row23c_deletion_taking_a_canonical_splice_site_is_lof():
    """No coding base, but the +/-1,2 bases of an exon: the exon is lost as with a splice variant (PVS1 branch)."""
    hom = run([], cnv(0, [deletion(C116_PLUS_1, 2000, 0)]))  # from c.116+1 into intron 1, both copies
    assert hom.status == "affected", hom.reasons
    allele = hom.alleles[0]
    assert (allele["consequence"], allele["classification"]) == ("splice_donor_variant", "likely_pathogenic")
    assert "takes the splice donor of intron 1 (exon 1 skipped)" in allele["classification_reason"]
    assert "canonical splice site" in hom.summary
    # a 1.2 kb intron-1 deletion ending at c.117-1 with Q54X (c.160C>T): two LoF alleles, never a carrier; without
    # parents the two are not phased (presumed biallelic, row 9)
    het = run([Q54X], cnv(1, [deletion(C117_MINUS_1 - 1200, C117_MINUS_1, 1)]))
    assert het.status == "inconclusive" and het.presumed_biallelic, het.reasons
    assert sum(a["classification"] in ("pathogenic", "likely_pathogenic") for a in het.alleles) == 2
    assert not any("all coding exons and splice sites" in r for r in het.reasons)


@pytest.mark.parametrize(("precise", "status"), [(False, "inconclusive"), (True, "negative")])
def test_row23d_imprecise_deletion_ending_near_an_exon_is_not_cleared(precise, status):
    """Depth-only ends are approximate: a deletion called 40 bp short of exon 2 may take its acceptor."""
    near = deletion(1500, C117_MINUS_1 - 40, 1)
    near["breakpoint_support"] = {"split_reads": 0, "discordant_pairs": 3, "precise": precise}
    result = run([], cnv(1, [near]))
    assert result.status == status, result.reasons
    if not precise:
        assert result.alleles[0]["classification"] == "uncertain"
        assert "within 50 bp of the acceptor of intron 1" in result.alleles[0]["classification_reason"]


def test_row18b_gene_copy_number_that_contradicts_the_deletion_is_not_explained():
    """The gene call is the lowest copy number in the gene: a homozygous deletion cannot explain a gene at 1."""
    result = run([], cnv(1, [deletion(1500, 2800, 0)]))
    assert result.status == "inconclusive"
    assert any("IL1RN is at copy number 1 but no called deletion explains it" in r for r in result.reasons)


def test_row23e_gene_at_zero_with_every_exon_at_two_is_not_called_normal():
    """A homozygous deletion between the exons: the gene call is 0, every exon two copies; the report says so."""
    result = run([], cnv(0, [deletion(1500, 2800, 0)]))
    assert result.status == "negative", result.reasons
    assert "normal IL1RN copy number" not in result.summary
    assert not any("copy number is 0 with every exon at two copies" in r for r in result.reasons)
    assert any("copy number is 0 only where the called deletion(s) listed lie" in r for r in result.reasons)


@pytest.mark.parametrize("precise", [True, False])
def test_row23b_exon_beside_an_intron_deletion(precise):
    """Depth alone leaves the exon next to a real intron deletion uncalled; precise breakpoints that spare it (and
    the exon's own two-copy depth) settle it, imprecise ones do not."""
    intronic = deletion(1200, 2800, 1)
    intronic["breakpoint_support"]["precise"] = precise
    cn = exons(e1=None, e2=None)
    for row in cn:
        row["ratio"] = 0.95
    result = run([], cnv(1, [intronic], exon_cn=cn))
    if precise:
        assert result.status == "negative", result.reasons
        assert any("precise breakpoints that spare it" in r for r in result.reasons)
    else:
        assert result.status == "inconclusive"
        assert any("exon 1: copy number not called" in r for r in result.reasons)


def test_row24_three_prime_utr_only_deletion_is_not_lof():
    utr = deletion(6600, 7000, 1)
    result = run([Q54X], cnv(2, [utr], exon_cn=exons(e4=1)))
    assert result.status == "carrier", result.reasons


def test_row25_uncertain_only_is_inconclusive():
    vus = var(4470, "G", "T", cls="uncertain", hgvs="c.276G>T", known=None, consequence="missense_variant")
    assert run([vus]).status == "inconclusive"


def test_row26_benign_and_likely_benign_are_listed_not_dropped():
    common = var(6100, "A", "G", cls="benign", hgvs="c.400A>G", known=None, af=0.25)
    isoform = var(900, "G", "A", cls="likely_benign", hgvs="c.-40G>A", known=None, consequence="upstream_gene_variant")
    result = run([common, isoform])
    assert result.status == "negative" and result.alleles == []
    assert {o["classification"] for o in result.other_variants} == {"benign", "likely_benign"}
    assert any("classified benign" in r for r in result.reasons)


def test_row27_filtered_lof_is_not_an_allele_but_blocks():
    result = run([var(3043, "C", "T", flt=["LowDepth"], depth=6)])
    assert result.alleles == [] and result.status == "inconclusive"
    assert any("failed filters" in r for r in result.reasons)


def test_homozygous_child_of_non_carrier_parent_is_flagged_with_deletion_and_upd():
    """A homozygous call the mother does not carry: the other copy may be deleted in the child (the variant is then
    hemizygous) or both copies may come from the father (uniparental disomy); not only a sample mix-up."""
    result = trio([var(3043, "C", "T", gt="1/1")], parent(Q54X), parent())
    assert result.status == "affected" and result.family["mendelian_consistent"] is False
    detail = result.family["detail"]
    assert "homozygous but the mother does not carry it" in detail
    assert "deletion of the other copy in the child" in detail and "hemizygous" in detail
    assert "uniparental disomy" in detail and "sample mix-up" in detail
    assert any(r.code == "family_check" and "uniparental disomy" in r for r in result.reasons)


def test_a_parent_whose_call_is_filtered_or_missing_is_unknown_not_reference(tmp_path):
    """Issue #19: the father carries both alleles and the mother's c.229G>T call was filtered. A filtered call is
    not "reference": the father may carry them on different copies, so nothing shows cis; the genotype step
    loads every call of a parent and its callable regions."""
    from dira_genotyper.interpretation.genotype import load_relative

    for folder, name, data in (
        ("annotation", "D.variants.json", {"variants": [Q54X, E77X]}),
        ("annotation", "M.variants.json", {"variants": [dict(E77X, filter=["LowGQ"], genotype_quality=9)]}),
        ("cnv", "D.cnv.json", cnv()),
        ("cnv", "M.cnv.json", cnv()),
        ("callable", "D.callable.json", FULL),
        ("callable", "M.callable.json", FULL),
    ):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(json.dumps(data))
    paths = [str(tmp_path / f / "C.json") for f in ("annotation", "cnv", "callable")]
    father, mother = load_relative("D", *paths), load_relative("M", *paths)
    result = trio([Q54X, E77X], father, mother)
    assert result.phase["status"] == "unknown" and result.status == "inconclusive" and result.presumed_biallelic
    assert "the mother's genotype at NM_173842.3:c.229G>T" in result.phase["detail"]

    uncallable = dict(FULL, uncallable_intervals=[["chr2", 4400, 4430]])  # the mother's reads miss c.229
    missing = trio([Q54X, E77X], parent(Q54X, E77X), parent(coverage=uncallable))
    assert missing.phase["status"] == "unknown" and missing.status == "inconclusive"
    no_regions = trio([Q54X, E77X], parent(Q54X, E77X), parent(coverage=None))
    assert no_regions.phase["status"] == "unknown"
    assert trio([Q54X, E77X], parent(Q54X, E77X), parent()).status == "carrier"  # callable and reference: cis


def test_an_origin_needs_both_parents():
    """With only the father in the run, his carrying an allele does not make it paternal (the mother may carry it
    too), and a heterozygous allele carried by neither parent is named only when both are confidently reference."""
    child = dict(SAMPLE, father="D", mother="M")
    only_father = interpret(child, [Q54X], cnv(), FULL, parents={"father": parent(Q54X)}, model=MODEL, disease="DIRA")
    assert only_father.alleles[0]["origin"] is None and only_father.family["mendelian_consistent"] is True
    unknown_mother = trio([Q54X], parent(), parent(dict(Q54X, filter=["LowDepth"])))
    assert unknown_mother.family["mendelian_consistent"] is True and unknown_mother.alleles[0]["origin"] is None
    de_novo = trio([Q54X], parent(), parent())
    assert de_novo.family["mendelian_consistent"] is False and de_novo.alleles[0]["origin"] == "de_novo_or_unknown"


def test_a_hemizygous_vus_over_a_deletion_is_worded_hemizygous_and_in_trans():
    """A VUS on the only copy a founder deletion leaves is hemizygous and in trans with the deletion by zygosity,
    not "heterozygous, phase unknown"."""
    vus = var(4470, "G", "T", gt="1/1", cls="uncertain", hgvs="c.276G>T", known=None, consequence="missense_variant")
    result = run([dict(vus, depth=14, alt_depth=14)], cnv(1, [FOUNDER_HET], exon_cn=ONE_COPY))
    assert result.status == "inconclusive"
    assert next(a for a in result.alleles if a["kind"] == "snv")["zygosity"] == "hemizygous"
    [text] = [r for r in result.reasons if "uncertain significance" in r]
    assert "a hemizygous variant of uncertain significance" in text and "other copy is deleted" in text
    assert "phase in trans" in text and "heterozygous variant" not in text and "phase unknown" not in text


def test_limitations_follow_the_evidence():
    deleted = run([], cnv(0, [FOUNDER_HOM], exon_cn=exons(0)))
    assert any("deleted on both copies" in text for text in deleted.limitations)
    low = run(
        [], cnv(None, status="no_call", exon_cn=exons(None)), dict(FULL, uncallable_intervals=[["chr2", 4450, 4460]])
    )
    assert any("exon(s) 3 did not reach the depth" in text for text in low.limitations)
    assert any("Copy number could not be called" in text for text in low.limitations)
    assert not any("did not reach" in text for text in run([]).limitations)


def test_limitations_travel_with_the_answer():
    result = run([])
    assert any(text.startswith("Tested:") for text in result.limitations)
    assert any(text.startswith("Not tested:") for text in result.limitations)
    assert any("research use" in text for text in result.limitations)


@pytest.mark.parametrize(("pos", "expected"), [(3043, 2), (100, 1), (4450, 2)])
def test_copy_number_at(pos, expected):
    result = cnv(2, [deletion(1, 500, 1, genes=())])
    assert copy_number_at(result, "chr2", pos, MODEL) == expected
    assert copy_number_at(cnv(status="no_call"), "chr2", pos, MODEL) is None
    no_entry = cnv(2, exon_cn=[])  # a missing exon call is never two copies
    assert copy_number_at(no_entry, "chr2", 3043, MODEL) is None


def test_a_report_that_breaks_its_contract_is_an_error_not_a_file():
    from dira_genotyper.interpretation.genotype import validate_report

    try:
        import dira_report_examples as ex
    except ImportError:  # tests/unit imported as a package
        from . import dira_report_examples as ex
    report, _bins = ex.all_examples()["carrier"]
    validate_report(report)  # a good one passes
    report["status"] = "probably fine"
    with pytest.raises(ValueError, match="breaks its schema.*status"):
        validate_report(report)


def test_an_intronic_call_beside_an_intron_deletion_has_two_copies():
    """The gene call is the lowest copy number in the gene; a base outside every called deletion (and outside
    every exon) is at two copies when the deletions explain the gene call, not at the gene's one copy (bench_status
    intron_del: a background c.205+77 het call beside a 1.5 kb intron-1 deletion was a 'one-copy conflict')."""
    intronic = deletion(1500, 2800, 1)
    background = var(3300, "T", "C", cls="likely_benign", hgvs="c.88+212T>C", known=None, consequence="intron_variant")
    result = run([background], cnv(1, [intronic]))
    assert result.status == "negative", result.reasons
    assert result.other_variants[0]["zygosity"] == "heterozygous"
    hom = dict(background, genotype="1/1", zygosity="homozygous", allele_fraction=1.0, alt_depth=30)
    result = run([hom], cnv(1, [intronic]))
    assert result.other_variants[0]["zygosity"] == "homozygous"  # not 'hemizygous': both copies are there
    inside = var(2000, "T", "C", cls="likely_benign", hgvs="c.116+858T>C", known=None, consequence="intron_variant")
    inside.update(genotype="1/1", zygosity="homozygous", allele_fraction=1.0, alt_depth=30)
    result = run([inside], cnv(1, [intronic]))
    assert result.other_variants[0]["zygosity"] == "hemizygous"  # inside the deletion: one copy left


def test_the_genotype_command_hands_a_typed_request_to_the_domain_code():
    """Issue #22: `cmd_genotype` builds a GenotypeRequest (paths, ints, the parsed failed parents); run_genotype and
    provenance read nothing from argparse."""
    import argparse

    from dira_genotyper.commands import register
    from dira_genotyper.interpretation.request import DEFAULT_MIN_ALT_READS, GenotypeRequest

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"), "genotype")
    files = ["--checked", "c", "--variants", "v", "--cnv", "n", "--bins", "b", "--callable", "k", "--bam", "x.bam"]
    out = ["--resources", "r", "--out-json", "o.json", "--out-html", "o.html", "--out-meta", "o.run.json"]
    args = parser.parse_args(
        ["genotype", "--sample-json", '{"sample": "S"}', *files, *out, "--failed-parent", "father=job failed"]
    )
    req = GenotypeRequest.from_args(args)
    assert req.sample == {"sample": "S"} and req.bam == Path("x.bam") and req.known is None
    assert req.min_alt_reads == DEFAULT_MIN_ALT_READS and req.failed_parents == {"father": "job failed"}
    assert req.parents == () and req.run_config is None
