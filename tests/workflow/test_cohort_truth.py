"""The default workflow on the bundled cohort: every sample's JSON report against the generator's truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pysam
import pytest

from tests.conftest import ROOT, run_snakemake
from tests.workflow.conftest import HOSTILE_SAMPLE, MODULE_SAMPLES, hostile_family

pytestmark = pytest.mark.workflow
REPORT_GENES = ["IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10"]
SCHEMA = json.loads((ROOT / "workflow" / "schemas" / "dira_report.schema.json").read_text())


def truth(cohort_dir: Path) -> dict:
    return json.loads((cohort_dir / "truth.json").read_text())


def report(workdir: Path, sample: str) -> dict:
    return json.loads((workdir / "results" / "reports" / f"{sample}.dira.json").read_text())


def samples() -> list[str]:
    with open(ROOT / "config" / "samples.tsv") as handle:
        return [row["sample"] for row in csv.DictReader(handle, delimiter="\t")]


ZYGOSITY = {"1|1": "homozygous", "0|1": "heterozygous", "1|0": "heterozygous", "1|-": "hemizygous", "-|1": "hemizygous"}


def background_genotypes(expected: dict) -> dict[tuple[str, int, str, str], str]:
    """The sample's common background variants (truth ``background``: ``chrom:pos:ref:alt:GT``) by VCF key."""
    out = {}
    for row in expected.get("background", []):
        chrom, pos, ref, alt, gt = row.rsplit(":", 4)
        out[(chrom, int(pos), ref, alt)] = gt
    return out


def c_name(name: str | None) -> str | None:
    return name.split(":", 1)[1] if name and ":" in name else name


def mixed_in(cohort_dir: Path, expected: dict) -> dict | None:
    """The truth of the person whose DNA is mixed into a contaminated sample (a prenatal sample's mother)."""
    source = expected.get("sample_checks", {}).get("contamination", {}).get("source")
    return truth(cohort_dir)[source] if source else None


@pytest.mark.parametrize("sample", samples())
def test_report_matches_truth(workflow_run, cohort_dir, sample):
    expected = truth(cohort_dir)[sample]
    contaminant = mixed_in(cohort_dir, expected)
    got = report(workflow_run, sample)
    jsonschema.validate(got, SCHEMA)
    assert got["status"] == expected["status"], got["reasons"]
    assert got.get("presumed_biallelic", False) == expected.get("presumed_biallelic", False), got["reasons"]
    for disease, status in expected.get("differential", {}).items():
        section = got["differential"][disease]
        assert section["status"] == status, (disease, section["reasons"])

    reported = [*got["alleles"], *(a for section in got["differential"].values() for a in section["alleles"])]
    small = {(c_name(a["hgvs_c"]), a["zygosity"]) for a in reported if a["kind"] != "deletion"}
    for allele in expected["alleles"]:
        if allele["kind"] == "deletion":
            continue
        key = (allele["hgvs_c"], allele["zygosity"])
        named_benign = any(allele["hgvs_c"] in r and "benign" in r for r in got["reasons"])
        assert key in small or named_benign, f"{key} not reported: {small}"
    expected_small = {(a["hgvs_c"], a["zygosity"]) for a in expected["alleles"] if a["kind"] != "deletion"}
    if contaminant is not None:  # the other person's alleles may show (at their share of the reads)
        expected_small |= {(a["hgvs_c"], z) for a in contaminant["alleles"] for z in ("heterozygous", "homozygous")}
    assert small <= expected_small, f"unexpected alleles {small - expected_small}"

    background = background_genotypes(expected)
    if contaminant is not None:
        background = {**background_genotypes(contaminant), **background}
    planted = {(a["chrom"], a["pos"], a["ref"], a["alt"]) for a in expected["alleles"] if a["kind"] != "deletion"}
    others = [
        *got["other_variants"],
        *(v for section in got["differential"].values() for v in section["other_variants"]),
    ]
    for call in others:  # every PASS call not reported as an allele is a planted allele or a background variant
        key = (call["chrom"], call["pos"], call.get("ref"), call.get("alt"))
        if call.get("alt") in (None, "<DEL>") or key in planted or call.get("filter") != "PASS":
            continue  # a filtered call is listed so nothing is hidden; at 5x it may be one read's error
        assert key in background, (
            f"{call['name']} ({call['classification']}) is in neither the truth nor the background"
        )
        # a filtered call (LowDepth at 6x) may miss an allele, a contaminated sample's fractions are mixtures
        if call.get("filter") in (None, "PASS") and contaminant is None:
            assert call["zygosity"] == ZYGOSITY[background[key]], (call["name"], call["zygosity"], background[key])
        assert call["classification"] in ("benign", "likely_benign"), (call["name"], call["classification"])

    for deletion in expected["deletions"]:
        match = [
            d
            for d in got["deletions"]
            if abs(d["start"] - deletion["start"]) <= 10 and abs(d["end"] - deletion["end"]) <= 10
        ]
        assert match, f"deletion {deletion['start']}-{deletion['end']} not found in {got['deletions']}"
        assert match[0]["zygosity"] == deletion["zygosity"]
        assert set(match[0]["genes"]) >= set(deletion["genes"]) & set(REPORT_GENES)
    assert len(got["deletions"]) == len(expected["deletions"])

    if got["qc"]["cnv_status"] == "called":
        for gene in REPORT_GENES:
            assert got["copy_number"][gene] == expected["copy_number"][gene], (gene, got["copy_number"])
    else:
        assert got["status"] == "inconclusive"
        assert all(got["copy_number"][g] is None for g in REPORT_GENES)


@pytest.mark.parametrize("sample", samples())
def test_sample_checks_match_truth(workflow_run, cohort_dir, sample):
    """Each row's sample-check failures are the truth's (none for a true row), a failure withholds the answer
    (docs/sample-checks.md), and the inferred sex is the sex of the DNA in the file, for FASTQ (recruit mode keeps
    the reads over the X/Y sites) as for BAM/CRAM."""
    expected = truth(cohort_dir)[sample]
    got = report(workflow_run, sample)
    checks = got["sample_checks"]
    want = expected["sample_checks"]
    failures = sorted({f["code"] for f in checks["findings"] if f["level"] == "fail"})
    assert (checks["verdict"], failures) == (want["verdict"], want["failures"]), checks["findings"]
    if failures:
        assert got["status"] == "inconclusive"
        assert got["reasons"][0].startswith("sample check failed, the answer is withheld")
        assert got["summary"].startswith("Inconclusive: the sample checks failed")
    sex = checks["sex_inferred"]
    if "contamination" not in want:  # a mixture with a woman's DNA blurs a male's X
        assert sex == expected["sex"], checks["sex_evidence"]
    rows = {r["sample"]: r for r in csv.DictReader(open(workflow_run / "results" / "cohort.tsv"), delimiter="\t")}
    assert (rows[sample]["sample_checks"], rows[sample]["sex_inferred"]) == (checks["verdict"], sex)


def test_sample_check_cases_of_the_bundled_family(workflow_run, cohort_dir):
    """F2 and DIRA-11 (docs/sample-checks.md): the swap of the father's file with DIRA-11's is caught on both rows
    (the sheet's father is not the girl's parent; both files are the other sex), the prenatal sample's maternal
    contamination is estimated within 3 points and its answer withheld with the estimate, and the mother's answer,
    whose checks pass, is her own."""
    t = truth(cohort_dir)
    swapped = sorted(n for n, e in t.items() if e["sample_checks"].get("file_holds"))
    assert swapped == ["DIRA-10-F", "DIRA-11"] and t["DIRA-10-F"]["sample_checks"]["file_holds"] == "DIRA-11"
    for name in swapped:
        checks = report(workflow_run, name)["sample_checks"]
        assert checks["sex_sheet"] != checks["sex_inferred"] == t[name]["sex"], checks
    girl = report(workflow_run, "DIRA-10")["sample_checks"]
    [finding] = [f for f in girl["findings"] if f["code"] == "not_parent"]
    assert "the listed father DIRA-10-F is not a parent of DIRA-10" in finding["text"]
    assert not [f for f in girl["findings"] if "mother" in f["text"]]  # the mother is her mother
    fetus = report(workflow_run, "DIRA-10-FETUS")
    mcc = fetus["sample_checks"]["maternal_contamination"]
    fraction = t["DIRA-10-FETUS"]["sample_checks"]["contamination"]["fraction"]
    assert abs(mcc["fraction"] - fraction) <= 0.03 and mcc["low"] > 0.20, mcc
    assert fetus["status"] == "inconclusive" and f"maternal contamination {mcc['fraction']:.1%}" in fetus["reasons"][0]
    mother = report(workflow_run, "DIRA-10-M")  # her own answer (a carrier), not withheld
    assert mother["sample_checks"]["verdict"] == "pass" and mother["status"] == t["DIRA-10-M"]["status"]
    assert not any("sample check" in r for r in mother["reasons"]) and "E77X" in mother["summary"]
    rows = {r["sample"]: r for r in csv.DictReader(open(workflow_run / "results" / "cohort.tsv"), delimiter="\t")}
    assert float(rows["DIRA-10-FETUS"]["contamination"]) == pytest.approx(mcc["fraction"])


def test_ditra_differential_from_the_same_reads(workflow_run):
    """DITRA-01: homozygous IL36RN c.80T>C p.(Leu27Pro) with normal IL1RN: DIRA negative, DITRA affected, named
    as the published Tunisian founder; the homozygous 175 kb deletion removes both antagonists."""
    ditra = report(workflow_run, "DITRA-01")
    assert ditra["status"] == "negative"
    section = ditra["differential"]["DITRA"]
    assert section["status"] == "affected" and section["gene"] == "IL36RN"
    assert section["transcript"]["refseq"] == "NM_012275.3"
    [allele] = section["alleles"]
    assert (c_name(allele["hgvs_c"]), allele["zygosity"], allele["classification"]) == (
        "c.80T>C",
        "homozygous",
        "pathogenic",
    )
    assert allele["hgvs_p"].endswith("p.(Leu27Pro)")
    both = report(workflow_run, "DIRA-05")
    assert both["status"] == "affected" and both["differential"]["DITRA"]["status"] == "affected"
    html = (workflow_run / "results" / "reports" / "DITRA-01.dira.html").read_text()
    assert "Differential: DITRA (IL36RN, NM_012275.3)" in html
    rows = {r["sample"]: r for r in csv.DictReader(open(workflow_run / "results" / "cohort.tsv"), delimiter="\t")}
    assert rows["DITRA-01"]["ditra_status"] == "affected" and rows["DIRA-05"]["ditra_status"] == "affected"


def test_majeed_differential_on_another_chromosome(workflow_run):
    """Issue #23, MAJEED-01: homozygous LPIN2 c.1157C>G p.(Ser386*) (chr18, a published Majeed allele) with normal
    IL1RN: DIRA negative, Majeed affected, in the JSON, the HTML, cohort.tsv and MultiQC; every report carries a
    Majeed status, and the limitations no longer call Majeed not covered."""
    got = report(workflow_run, "MAJEED-01")
    assert got["status"] == "negative", got["reasons"]
    section = got["differential"]["Majeed"]
    assert section["status"] == "affected" and section["gene"] == "LPIN2", section["reasons"]
    assert section["transcript"]["refseq"] == "NM_001375808.2"
    [allele] = section["alleles"]
    assert (c_name(allele["hgvs_c"]), allele["zygosity"]) == ("c.1157C>G", "homozygous")
    assert allele["hgvs_p"].endswith("p.(Ser386*)") and allele["genomic"]["chrom"] == "chr18"
    assert allele["classification"] in ("pathogenic", "likely_pathogenic")
    assert section["copy_number"] == 2
    assert not any("Majeed syndrome (LPIN2)" in text and "not covered" in text for text in got["limitations"])
    for path in sorted((workflow_run / "results" / "reports").glob("*.dira.json")):
        assert json.loads(path.read_text())["differential"]["Majeed"]["status"], path.name
    html = (workflow_run / "results" / "reports" / "MAJEED-01.dira.html").read_text()
    assert "Differential: Majeed (LPIN2, NM_001375808.2)" in html
    rows = {r["sample"]: r for r in csv.DictReader(open(workflow_run / "results" / "cohort.tsv"), delimiter="\t")}
    assert rows["MAJEED-01"]["majeed_status"] == "affected" and rows["DIRA-01"]["majeed_status"] == "negative"
    mqc = (workflow_run / "results" / "multiqc" / "dira_mqc.tsv").read_text()
    assert "majeed_status" in mqc and "title: Majeed status" in mqc


def test_low_coverage_is_no_call_not_negative(workflow_run):
    got = report(workflow_run, "DIRA-09")
    assert got["status"] == "inconclusive"
    assert got["qc"]["callable_fraction_cds"] < 0.5
    assert any("not callable" in r or "not called" in r for r in got["reasons"])


def test_family_trio_is_consistent_and_names_origins(workflow_run):
    child = report(workflow_run, "DIRA-01")
    assert child["family"]["mendelian_consistent"] is True
    fetus = report(workflow_run, "DIRA-01-FETUS")
    assert fetus["status"] == "carrier" and fetus["family"]["mendelian_consistent"] is True


def test_outputs_are_real_files(workflow_run):
    results = workflow_run / "results"
    for sample in samples():
        vcf = results / "calls" / f"{sample}.vcf.gz"
        assert (results / "calls" / f"{sample}.vcf.gz.tbi").exists()
        with pysam.VariantFile(str(vcf)) as handle:
            assert "LowDepth" in handle.header.filters
        assert (results / "locus" / f"{sample}.bam.bai").exists()
        assert (results / "cnv" / f"{sample}.vcf.gz.tbi").exists()
        html = (results / "reports" / f"{sample}.dira.html").read_text()
        assert report(workflow_run, sample)["status"] in html
        assert "http://" not in html and "https://" not in html and "<svg" in html
        for rule_log in ("calls", "callable", "cnv", "annotation", "reports"):
            assert any((workflow_run / "logs" / rule_log).glob(f"{sample}*.log"))
    rows = list(csv.DictReader(open(results / "cohort.tsv"), delimiter="\t"))
    assert [r["sample"] for r in rows] == sorted(samples())
    assert (results / "multiqc" / "dira_mqc.tsv").read_text().startswith("#")
    multiqc = (results / "multiqc" / "multiqc_report.html").read_text()
    assert all(sample in multiqc for sample in samples())
    for sample in samples():
        stats = results / "qc" / "locus" / f"{sample}.samtools_stats.txt"
        assert "This file was produced by samtools stats" in stats.read_text()


def test_json_reports_are_reproducible(workflow_run, module_run):
    """A second run on the same inputs writes byte-identical JSON (run metadata lives apart). The second run is the
    module run (tests/workflow/conftest.py): another folder, other input paths, three samples (BAM, FASTQ, CRAM,
    none with parents: their reports do not depend on the rest of the sheet, single-sample copy-number
    normalisation). The one cell changed on purpose, the hostile family of HOSTILE_SAMPLE, is put back before the
    comparison."""
    again = module_run["workdir"]
    assert module_run["run"].returncode == 0, module_run["run"].stderr[-5000:]
    for sample in MODULE_SAMPLES:
        first = (workflow_run / "results" / "reports" / f"{sample}.dira.json").read_bytes()
        second = (again / "results" / "reports" / f"{sample}.dira.json").read_bytes()
        relatives = json.loads(first)["sample_checks"].get("relatives")
        if relatives:  # the sample checks name the family's other members, who are not in the module run
            got, want = json.loads(second), json.loads(first)
            assert got["sample_checks"]["relatives"] == [] and got["sample_checks"]["verdict"] == "pass"
            got["sample_checks"]["relatives"] = relatives
            first, second = json.dumps(want).encode(), json.dumps(got).encode()
        if sample == HOSTILE_SAMPLE:
            got = json.loads(second)
            assert got["family"]["family"] == hostile_family(module_run["marker"])
            got["family"]["family"] = json.loads(first)["family"]["family"]
            assert got == json.loads(first), sample
            second = json.dumps(got).encode()
        else:
            assert first == second, sample
        assert str(again.parent) not in second.decode()


def test_snakemake_report_has_cohort_and_sample_pages(workflow_run):
    proc = run_snakemake(workflow_run, "--report", "results/report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (workflow_run / "results" / "report.html").read_text()
    assert "cohort.tsv" in text
    for sample in samples():
        assert f"{sample}.dira.html" in text
