"""Cohort table and MultiQC custom content from the per-sample reports."""

from __future__ import annotations

import csv

import pytest
import yaml

from dira_genotyper.run.cohort import (
    COLUMNS,
    cohort_rows,
    columns,
    differential_headers,
    multiqc_config,
    write_cohort_tsv,
    write_multiqc,
)

try:  # tests/unit as a package or as a plain folder on sys.path (pytest's default import mode)
    from . import dira_report_examples as ex
except ImportError:
    import dira_report_examples as ex


@pytest.fixture(scope="module")
def reports() -> list[dict]:
    return [report for report, _ in ex.all_examples().values()]


def test_rows_one_per_sample_sorted_with_failures(reports):
    rows = cohort_rows(reports, {"ZZ-9": "FASTQ truncated", "CTRL-42": "MultiQC step failed"})
    assert [r["sample"] for r in rows] == sorted([r["sample"] for r in reports] + ["ZZ-9"])
    by = {r["sample"]: r for r in rows}
    assert by["ZZ-9"]["status"] == "failed" and by["ZZ-9"]["failed_reason"] == "FASTQ truncated"
    assert by["ZZ-9"]["il1rn_copy_number"] is None
    # A sample with a report keeps it; the reason is shown beside it.
    assert by["CTRL-42"]["status"] == "negative" and by["CTRL-42"]["failed_reason"] == "MultiQC step failed"
    assert by["NF-017"]["alleles"] == "NM_173842.3:c.229G>T NP_776214.1:p.(Glu77*) heterozygous"
    assert by["PAL-2"]["alleles"] == (
        "NM_173842.3:c.160C>T NP_776214.1:p.(Gln54*) hemizygous; deletion chr2:640001-700000 heterozygous"
    )
    assert by["PR-001"]["deletions"].startswith("chr2:520001-690000 170.0kb CN0 homozygous (IL36G,")
    assert by["PR-001"]["il1rn_copy_number"] == 0
    assert by["LOWQ-3"]["il1rn_copy_number"] is None and by["LOWQ-3"]["cnv_status"] == "no_call"


def test_failed_without_reason_is_not_silent():
    (row,) = cohort_rows([], {"S1": ""})
    assert row["status"] == "failed" and row["failed_reason"]


def test_cohort_tsv(tmp_path, reports):
    rows = cohort_rows(reports, {"ZZ-9": "bad\tinput\nfile"})
    path = write_cohort_tsv(tmp_path / "results" / "cohort.tsv", rows)
    with open(path, newline="") as fh:
        table = list(csv.DictReader(fh, delimiter="\t"))
    assert list(table[0]) == columns(rows)
    by = {r["sample"]: r for r in table}
    assert by["ZZ-9"]["failed_reason"] == "bad input file"  # no tab or newline can break the table
    assert by["LOWQ-3"]["il1rn_copy_number"] == ""
    assert by["PR-001"]["il1rn_copy_number"] == "0"
    assert by["CTRL-42"]["callable_fraction_cds"] == "1"
    assert by["LOWQ-3"]["callable_fraction_cds"] == "0.79"
    assert by["CTRL-42"]["mean_depth"] == "46.3"
    assert path.read_text() == write_cohort_tsv(tmp_path / "again.tsv", rows).read_text()


def test_multiqc_custom_content(tmp_path, reports):
    rows = cohort_rows(reports, {"ZZ-9": "FASTQ truncated"})
    path = write_multiqc(tmp_path / "dira_mqc.tsv", rows, differential_headers(reports))
    text = path.read_text()
    cols = columns(rows)
    # MultiQC strips the leading '#' of each comment line and reads the rest as YAML.
    header = "\n".join(line[1:] for line in text.splitlines() if line.startswith("#"))
    config = yaml.safe_load(header)
    assert config == multiqc_config(differential_headers(reports))
    assert config["id"] == "dira_genotyper"
    assert config["plot_type"] == "table"
    assert config["section_name"]
    assert set(config["headers"]) == set(cols[1:])
    assert "# plot_type: table" in text.splitlines()  # written by yaml.safe_dump, one key per line
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[0].split("\t") == ["Sample", *cols[1:]]
    assert len(body) == len(rows) + 1
    by = {line.split("\t")[0]: line.split("\t") for line in body[1:]}
    # MultiQC shows the callable fraction as a percentage.
    assert by["LOWQ-3"][cols.index("callable_fraction_cds")] == "79"
    assert by["ZZ-9"][cols.index("status")] == "failed"


def test_each_differential_of_the_reports_gets_its_columns(tmp_path, reports):
    """Issue #23: a differential is a resources entry; its status and alleles columns follow from the reports (DITRA
    and Majeed here), after cnv_status, with MultiQC headers naming the disease and gene."""
    section = {"status": "affected", "gene": "LPIN2", "transcript": {"refseq": "NM_001375808.2"}, "alleles": []}
    ditra = {"status": "negative", "gene": "IL36RN", "transcript": {"refseq": "NM_012275.3"}, "alleles": []}
    both = dict(reports[0], sample="MJ-1", differential={"DITRA": ditra, "Majeed": section})
    rows = cohort_rows([both], {"ZZ-9": "failed"})
    cols = columns(rows)
    at = cols.index("cnv_status")
    assert cols[at + 1 : at + 5] == ["ditra_status", "ditra_alleles", "majeed_status", "majeed_alleles"]
    headers = differential_headers([both])
    assert headers["majeed_status"]["title"] == "Majeed status" and "LPIN2" in headers["majeed_alleles"]["title"]
    with open(write_cohort_tsv(tmp_path / "cohort.tsv", rows), newline="") as fh:
        by = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert (by["MJ-1"]["majeed_status"], by["ZZ-9"]["majeed_status"]) == ("affected", "")


def test_multiqc_file_name_must_end_in_mqc(tmp_path):
    with pytest.raises(ValueError, match="_mqc.tsv"):
        write_multiqc(tmp_path / "dira.tsv", [])


def test_presumed_biallelic_has_its_own_column(tmp_path, reports):
    """Two heterozygous LoF alleles of unknown phase are `inconclusive` with presumed_biallelic: the table says so
    beside the status, so that no one reads the row as a plain no-call or as a diagnosis."""
    presumed = dict(reports[0], sample="CH-5", status="inconclusive", presumed_biallelic=True)
    rows = cohort_rows([presumed, *reports], {"ZZ-9": "failed"})
    assert COLUMNS[COLUMNS.index("status") + 1] == "presumed_biallelic"
    with open(write_cohort_tsv(tmp_path / "cohort.tsv", rows), newline="") as fh:
        by = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert (by["CH-5"]["status"], by["CH-5"]["presumed_biallelic"]) == ("inconclusive", "true")
    assert by["LOWQ-3"]["presumed_biallelic"] == "false" and by["ZZ-9"]["presumed_biallelic"] == ""
    assert "parental testing needed" in multiqc_config()["headers"]["presumed_biallelic"]["description"]
