"""The DIRA interpretation, case by case, on hand-made calls and copy numbers."""

from __future__ import annotations

import pytest

from dira_genotyper.genotype import copy_number_at, interpret

SAMPLE = {"sample": "S", "father": None, "mother": None, "family": None, "sex": "unknown"}
FULL = {"callable_fraction_cds": 1.0, "uncallable_exons": [], "mean_depth_cds": 30.0, "exons": []}
IL1RN_EXONS = [{"gene": "IL1RN", "exon": i, "start": s, "end": e, "copy_number": 2, "quality": 50.0}
               for i, (s, e) in enumerate([(1000, 1100), (3000, 3090), (4400, 4510), (6000, 7400)], start=1)]


def cnv(genes_cn: int | None = 2, deletions=(), status="called", exons=None):
    genes = {g: {"copy_number": genes_cn, "quality": 50.0} for g in
             ("IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10")}
    return {"status": status, "mode": "single", "mad": 0.05, "reasons": [] if status == "called" else ["too shallow"],
            "genes": genes, "exons": exons if exons is not None else IL1RN_EXONS, "deletions": list(deletions)}


def var(pos, ref, alt, gt="0/1", cls="pathogenic", hgvs="c.160C>T", known="Q54X", flt="PASS", af=None):
    return {"chrom": "chr2", "pos": pos, "ref": ref, "alt": alt, "genotype": gt,
            "zygosity": "homozygous" if gt == "1/1" else "heterozygous", "classification": cls,
            "classification_reason": "test", "hgvs_c": f"NM_173842.3:{hgvs}", "hgvs_p": "NP_776214.1:p.(Gln54*)",
            "hgvs_c_ensembl": None, "consequence": "stop_gained", "known_as": known, "filter": flt, "depth": 30,
            "alt_depth": 15 if gt == "0/1" else 30, "allele_fraction": 0.5 if gt == "0/1" else 1.0, "qual": 200.0,
            "genotype_quality": 99, "kind": "snv" if len(ref) == len(alt) else "indel", "population_af": af}


def deletion(start, end, cn, genes=("IL1RN",), exons=(1, 2, 3, 4)):
    return {"chrom": "chr2", "start": start, "end": end, "size": end - start + 1, "copy_number": cn,
            "quality": 60.0, "genes": list(genes), "il1rn_exons": list(exons),
            "breakpoint_support": {"split_reads": 5, "discordant_pairs": 7, "precise": True}}


Q54X = var(3043, "C", "T")
E77X = var(4422, "G", "T", hgvs="c.229G>T", known="E77X")


def test_homozygous_known_allele_is_affected():
    result = interpret(SAMPLE, [var(3043, "C", "T", gt="1/1")], cnv(), FULL)
    assert result.status == "affected"
    assert result.alleles[0]["zygosity"] == "homozygous" and result.alleles[0]["copy_number"] == 2
    assert "Q54X" in result.summary


def test_heterozygous_is_carrier_when_rest_is_complete():
    result = interpret(SAMPLE, [Q54X], cnv(), FULL)
    assert result.status == "carrier"
    assert result.phase["status"] == "not_applicable"


def test_carrier_with_uncallable_exon_is_inconclusive():
    cov = dict(FULL, uncallable_exons=[3], callable_fraction_cds=0.8)
    result = interpret(SAMPLE, [Q54X], cnv(), cov)
    assert result.status == "inconclusive"
    assert any("exon(s) 3 not callable" in r for r in result.reasons)


def test_homozygous_deletion_is_affected_and_explains_uncallable_exons():
    cov = dict(FULL, uncallable_exons=[1, 2, 3, 4], callable_fraction_cds=0.0)
    big = deletion(1, 200_000, 0, genes=("IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"))
    result = interpret(SAMPLE, [], cnv(0, [big]), cov)
    assert result.status == "affected"
    assert result.alleles[0]["kind"] == "deletion" and result.alleles[0]["zygosity"] == "homozygous"
    assert result.alleles[0]["known_as"].startswith("IL-1 cluster deletion")


def test_het_deletion_plus_apparently_homozygous_snv_is_hemizygous_affected():
    big = deletion(1, 200_000, 1, genes=("IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"))
    result = interpret(SAMPLE, [var(4422, "G", "T", gt="1/1", hgvs="c.229G>T", known="E77X")], cnv(1, [big]), FULL)
    assert result.status == "affected"
    snv = next(a for a in result.alleles if a["kind"] == "snv")
    assert snv["zygosity"] == "hemizygous" and snv["copy_number"] == 1
    assert result.phase["status"] == "in_trans" and result.phase["method"] == "zygosity"


def test_compound_het_phase_unknown_is_affected_by_default_and_inconclusive_when_strict():
    relaxed = interpret(SAMPLE, [Q54X, E77X], cnv(), FULL)
    assert relaxed.status == "affected" and relaxed.phase["status"] == "unknown"
    assert any("confirm by testing the parents" in r for r in relaxed.reasons)
    strict = interpret(SAMPLE, [Q54X, E77X], cnv(), FULL, strict_phase=True)
    assert strict.status == "inconclusive"


def parent(variants, cn=None):
    return {"variants": variants, "cnv": cn or cnv()}


def test_compound_het_in_trans_by_parents():
    child = dict(SAMPLE, father="D", mother="M")
    result = interpret(child, [Q54X, E77X], cnv(), FULL, parents={"father": parent([Q54X]), "mother": parent([E77X])})
    assert result.status == "affected" and result.phase == {
        "status": "in_trans", "method": "parents", "detail": "each parent carries one of the two alleles"}
    origins = {a["hgvs_c"]: a["origin"] for a in result.alleles}
    assert origins == {"NM_173842.3:c.160C>T": "paternal", "NM_173842.3:c.229G>T": "maternal"}


def test_compound_het_in_cis_by_parents_is_carrier():
    child = dict(SAMPLE, father="D", mother="M")
    result = interpret(child, [Q54X, E77X], cnv(), FULL, parents={"father": parent([Q54X, E77X]), "mother": parent([])})
    assert result.status == "carrier" and result.phase["status"] == "in_cis"


def test_fetus_with_one_parental_allele_is_carrier_and_consistent():
    fetus = dict(SAMPLE, father="D", mother="M")
    result = interpret(fetus, [Q54X], cnv(), FULL, parents={"father": parent([Q54X]), "mother": parent([Q54X])})
    assert result.status == "carrier"
    assert result.family["mendelian_consistent"] is True


def test_homozygous_child_of_non_carrier_parent_is_flagged():
    child = dict(SAMPLE, father="D", mother="M")
    result = interpret(child, [var(3043, "C", "T", gt="1/1")], cnv(), FULL,
                       parents={"father": parent([Q54X]), "mother": parent([])})
    assert result.status == "affected"
    assert result.family["mendelian_consistent"] is False
    assert any("mother does not carry it" in r for r in result.reasons)


def test_negative_requires_callable_cds_and_copy_number():
    assert interpret(SAMPLE, [], cnv(), FULL).status == "negative"
    shallow = interpret(SAMPLE, [], cnv(None, status="no_call"), FULL)
    assert shallow.status == "inconclusive"
    assert any("copy number not called" in r for r in shallow.reasons)
    uncovered = interpret(SAMPLE, [], cnv(), dict(FULL, uncallable_exons=[1, 2, 3, 4], callable_fraction_cds=0.1))
    assert uncovered.status == "inconclusive"


def test_uncertain_only_is_inconclusive_and_benign_is_ignored():
    vus = var(3100, "G", "T", cls="uncertain", hgvs="c.281G>T", known="C94F")
    assert interpret(SAMPLE, [vus], cnv(), FULL).status == "inconclusive"
    common = var(6100, "A", "G", cls="benign", hgvs="c.400A>G", known=None, af=0.25)
    result = interpret(SAMPLE, [common], cnv(), FULL)
    assert result.status == "negative" and result.alleles == []
    assert any("benign (population AF 0.25)" in r for r in result.reasons)


def test_filtered_lof_call_is_not_an_allele_but_is_mentioned():
    result = interpret(SAMPLE, [var(3043, "C", "T", flt=["LowDepth"])], cnv(), FULL)
    assert result.alleles == [] and result.status == "inconclusive"
    assert any("failed filters" in r for r in result.reasons)


def test_exon_level_homozygous_deletion():
    exon3 = deletion(4000, 5800, 0, genes=("IL1RN",), exons=(3,))
    cov = dict(FULL, uncallable_exons=[3], callable_fraction_cds=0.8)
    result = interpret(SAMPLE, [], cnv(2, [exon3]), cov)
    assert result.status == "affected"
    assert result.alleles[0]["classification"] == "likely_pathogenic"
    assert "exon(s) 3" in result.alleles[0]["classification_reason"]


@pytest.mark.parametrize(("pos", "expected"), [(3043, 2), (100, 1), (4450, 2)])
def test_copy_number_at(pos, expected):
    result = cnv(2, [deletion(1, 500, 1, genes=(), exons=())])
    assert copy_number_at(result, "chr2", pos) == expected
    assert copy_number_at(cnv(status="no_call"), "chr2", pos) is None
