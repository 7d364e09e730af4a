"""Issue #19, names and words of the report: deletion names, the founder deletion, genes outside the IL-1 cluster,
calls that must not be dropped, limitations in their place, a fetal sample (allele-fraction checks: rows 21 and
21b of test_genotype.py)."""

from __future__ import annotations

from dira_genotyper.interpretation.decision import RESEARCH_USE
from dira_genotyper.interpretation.genotype import POPULATION_MISSING, PRENATAL, load_known_deletions, note_run

try:  # tests/unit as a package or as a plain folder on sys.path (pytest's default import mode)
    from .test_genotype import CLUSTER, FOUNDER_HOM, KNOWN, Q54X, cnv, deletion, exons, run, var
except ImportError:
    from test_genotype import CLUSTER, FOUNDER_HOM, KNOWN, Q54X, cnv, deletion, exons, run, var


# ---- deletion names -----------------------------------------------------------------------------------------
def test_deletion_gets_a_genomic_name_with_uncertain_or_exact_breakpoints():
    """A depth call brackets its breakpoints: g.(?_start)_(end_?)del; split reads make them exact."""
    precise = run([], cnv(0, [FOUNDER_HOM], exon_cn=exons(0)), genomic_accession="NC_000002.12")
    assert precise.alleles[0]["hgvs_g"] == "NC_000002.12:g.1_200000del"
    depth_only = dict(FOUNDER_HOM, breakpoint_support={"split_reads": 0, "discordant_pairs": 0, "precise": False})
    fuzzy = run([], cnv(0, [depth_only], exon_cn=exons(0)), genomic_accession="NC_000002.12")
    assert fuzzy.alleles[0]["hgvs_g"] == "NC_000002.12:g.(?_1)_(200000_?)del"
    ranged = dict(depth_only, start_range=[1, 900], end_range=[199_500, 200_000])
    assert run([], cnv(0, [ranged], exon_cn=exons(0))).alleles[0]["hgvs_g"] == "chr2:g.(1_900)_(199500_200000)del"


def test_deletion_does_not_claim_pm2():
    """No population data is read for deletions: the reason must not claim PM2."""
    exon2 = deletion(2900, 3200, 0)  # exon 2 (c.117-205), out of frame
    allele = run([], cnv(2, [exon2], exon_cn=exons(e2=0))).alleles[0]
    assert allele["classification"] == "likely_pathogenic"
    assert "with PM2" not in allele["classification_reason"] and "PM2 not assessed" in allele["classification_reason"]


def test_founder_deletion_is_named_only_when_consistent_and_other_genes_are_findings():
    """A 700 kb deletion that holds the six founder genes and PAX8 is not 'the published ~175 kb Puerto Rican
    deletion'; its PAX8 loss is a finding of its own. A 200 kb deletion of the six genes is consistent with it."""
    known = load_known_deletions(str(KNOWN))
    founder = run([], cnv(0, [FOUNDER_HOM], exon_cn=exons(0)), known_deletion=known)
    assert founder.alleles[0]["known_as"] and "Puerto Rican" in founder.alleles[0]["known_as"]
    assert "consistent with the published" in founder.summary
    assert founder.alleles[0]["classification_reason"].startswith("Consistent with the published")
    big = deletion(1, 700_000, 0, genes=("IL37", *CLUSTER, "PSD4", "PAX8"))
    result = run([], cnv(0, [big], exon_cn=exons(0)), known_deletion=known)
    assert result.status == "affected"
    assert result.alleles[0]["known_as"] is None and "Puerto Rican" not in result.summary
    outside = [r for r in result.reasons if getattr(r, "code", "") == "deletion_outside_cluster"]
    assert len(outside) == 1 and outside[0].params["genes"] == ("PSD4", "PAX8")
    assert "PAX8" in outside[0] and "thyroid" in outside[0]


# ---- nothing dropped, limitations in their place ----------------------------------------------------------
def test_filtered_benign_call_is_listed_not_dropped():
    benign = var(3050, "A", "G", cls="likely_benign", hgvs="c.167A>G", known=None, flt="LowQual")
    result = run([Q54X, benign])
    listed = [o for o in result.other_variants if o["hgvs_c"] == "NM_173842.3:c.167A>G"]
    assert listed and listed[0]["filter"] == "LowQual"


def test_research_use_comes_first():
    assert run([]).limitations[0] == RESEARCH_USE


def test_run_without_population_data_says_so():
    result = run([Q54X])
    note_run(result, {"sample": "S"}, False, "IL1RN", "DIRA")
    assert result.limitations[:2] == [RESEARCH_USE, POPULATION_MISSING]
    read = run([Q54X])
    note_run(read, {"sample": "S"}, True, "IL1RN", "DIRA")
    assert POPULATION_MISSING not in read.limitations


def test_fetal_sample_called_affected_gets_prenatal_words():
    result = run([var(3043, "C", "T", gt="1/1")])
    note_run(result, {"sample": "F", "prenatal": True}, True, "IL1RN", "DIRA")
    assert result.status == "affected"
    assert result.summary.startswith("Fetal genotype: two loss-of-function IL1RN alleles")
    assert "consistent with DIRA if confirmed" in result.summary and "maternal cell contamination" in result.summary
    assert PRENATAL in result.limitations
    postnatal = run([var(3043, "C", "T", gt="1/1")])
    note_run(postnatal, {"sample": "P"}, True, "IL1RN", "DIRA")
    assert postnatal.summary.startswith("Affected") and PRENATAL not in postnatal.limitations
