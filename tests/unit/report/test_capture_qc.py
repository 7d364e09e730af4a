"""Capture QC of exome/panel samples (issue #20) in the report JSON (qc.capture, additive), the HTML page and
the cohort/MultiQC tables; absent for whole-genome samples."""

from __future__ import annotations

import json

import jsonschema

from dira_genotyper.interpretation.genotype import capture_qc
from dira_genotyper.report import render_html
from dira_genotyper.run.cohort import cohort_rows, columns, multiqc_config, write_multiqc

try:  # tests/unit as a package or as a plain folder on sys.path (pytest's default import mode)
    from .. import dira_report_examples as ex
except ImportError:
    import dira_report_examples as ex

CNV = {
    "mode": "targeted",
    "status": "called",
    "capture": {
        "on_target_depth": 160.0,
        "off_target_depth": 1.2,
        "ratio": 133.3,
        "capture": True,
        "design": "bed",
        "n_targets": 178,
        "reads": 52000,
        "on_target_fraction": 0.8123,
        "duplicate_fraction": 0.0712,
        "fold_80_base_penalty": 1.61,
        "mean_target_depth": 104.2,
        "pct_targets_ge_20x": 98.3,
    },
    "reference": {"samples": ["s3", "s7", "s9"], "correlation": [0.97, 0.96, 0.95], "pool": 9, "log_ratio_sd": 0.1},
}


def targeted_report() -> dict:
    report, _ = ex.all_examples()["negative"]
    report = json.loads(json.dumps(report))
    report["qc"].update(capture_qc(CNV))
    report["qc"]["cnv_mode"] = "targeted"
    return report


def test_report_json_carries_capture_qc_and_validates():
    qc = capture_qc(CNV)["capture"]
    assert qc["on_target_fraction"] == 0.8123 and qc["fold_80_base_penalty"] == 1.61
    assert qc["duplicate_fraction"] == 0.0712 and qc["design"] == "bed"
    assert qc["reference_samples"] == ["s3", "s7", "s9"] and qc["reference_correlation"][0] == 0.97
    assert capture_qc({"mode": "single", "status": "called"}) == {}  # whole-genome: no capture section
    schema = json.loads(ex.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(targeted_report())


def test_html_shows_capture_qc():
    _, bins = ex.all_examples()["negative"]
    page = render_html(targeted_report(), bins, ex.genes(), ex.exons())
    for text in ("On-target reads", "81.2%", "Fold-80 base penalty", "1.61", "Duplicates", "7.1%", "3 samples"):
        assert text in page
    plain, _ = ex.all_examples()["negative"]
    assert "Fold-80" not in render_html(plain, bins, ex.genes(), ex.exons())


def test_cohort_and_multiqc_columns(tmp_path):
    rows = cohort_rows([targeted_report()], {"X": "failed"})
    row = next(r for r in rows if r["sample"] != "X")
    assert row["on_target_fraction"] == 0.8123 and row["fold_80_base_penalty"] == 1.61
    assert next(r for r in rows if r["sample"] == "X")["duplicate_fraction"] is None
    assert {"on_target_fraction", "fold_80_base_penalty", "duplicate_fraction"} <= set(multiqc_config()["headers"])
    lines = write_multiqc(tmp_path / "dira_mqc.tsv", rows).read_text().splitlines()
    header = next(line for line in lines if line.startswith("Sample")).split("\t")
    body = next(line for line in lines if line.startswith(row["sample"])).split("\t")
    assert body[header.index("on_target_fraction")] == "81.23" and body[header.index("duplicate_fraction")] == "7.12"
    assert header[1:] == columns(rows)[1:]
