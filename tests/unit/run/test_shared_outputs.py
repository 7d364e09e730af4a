"""What leaves the lab on shared pages (issue 22, part 3, item 5): the bam_sm override in the report, and a
MultiQC page that runs no script, names no server folders and calls no external service."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from dira_genotyper.interpretation.request import GenotypeRequest
from dira_genotyper.report import render_html
from dira_genotyper.run import provenance
from dira_genotyper.run.cohort import cohort_rows, portable_text, write_cohort_tsv, write_multiqc

try:  # tests/unit as a package or as a plain folder on sys.path
    from .. import dira_report_examples as ex
except ImportError:
    import dira_report_examples as ex

ROOT = Path(__file__).resolve().parents[3]
EVIL = "/tmp/run/<img src=x onerror=alert(1)>.bam"


def _args(sample: dict) -> GenotypeRequest:
    x = Path("x")
    return GenotypeRequest(sample, x, x, x, x, x, x, x, x, x, x)


def test_a_bam_sm_override_is_recorded_in_the_report_and_shown():
    sample = {"sample": "S1", "kind": "bam", "bam": "x.bam", "bam_sm": "NA12878"}
    prov = provenance.provenance_of(_args(sample), {"read_groups": ["NA12878"]}, "SYNTH:x", {})
    assert prov["bam_sm_override"] == {"bam_sm": "NA12878", "read_group_samples": ["NA12878"]}
    report = ex.report("negative")
    report["provenance"] = prov
    schema = json.loads(ex.SCHEMA_PATH.read_text())
    jsonschema.validate(prov, {**schema["properties"]["provenance"], "$defs": schema.get("$defs", {})})
    page = render_html(report, ex.bins("negative"), ex.genes(), ex.exons())
    assert "File&#39;s sample (@RG SM)" in page or "File's sample (@RG SM)" in page
    assert "NA12878 (accepted as" in page and "bam_sm NA12878" in page


def test_no_override_no_field():
    sample = {"sample": "S1", "kind": "bam", "bam": "x.bam"}
    assert "bam_sm_override" not in provenance.provenance_of(_args(sample), {"read_groups": ["S1"]}, "SYNTH:x", {})


def test_multiqc_cells_are_escaped_and_carry_no_absolute_paths(tmp_path):
    reason = f"ERROR: {tmp_path}/results/cnv/S1.counts.tsv is truncated; input {EVIL} & /data/lab/S1.bam"
    rows = cohort_rows([], {"S1": reason})
    mqc = write_multiqc(tmp_path / "dira_mqc.tsv", rows).read_text()
    line = mqc.splitlines()[-1]
    assert "<img" not in line and "&lt;img src=x onerror=alert(1)&gt;.bam" in line and "&amp;" in line
    assert str(tmp_path) not in mqc and "/data/lab" not in mqc and "/tmp/run" not in mqc
    assert "S1.counts.tsv" in line and "S1.bam" in line
    tsv = write_cohort_tsv(tmp_path / "cohort.tsv", rows).read_text()  # the lab's own table keeps the text
    assert EVIL in tsv and str(tmp_path) in tsv


def test_portable_text_makes_paths_under_the_working_directory_relative(tmp_path):
    assert portable_text(f"see {tmp_path}/logs/cnv/S.call.log", tmp_path) == "see logs/cnv/S.call.log"
    assert portable_text("no space left on /scratch/u/results/x.bam (df -h)", tmp_path) == (
        "no space left on x.bam (df -h)"
    )


def test_multiqc_module_dois_are_plain_text_not_links():
    """A module DOI is a link whose hover asks api.crossref.org: every module the rule feeds has it blanked and
    its DOI in the comment as plain text."""
    config = yaml.safe_load((ROOT / "workflow" / "multiqc_config.yaml").read_text())
    modules = {k: v for m in config["module_order"] if isinstance(m, dict) for k, v in m.items()}
    assert set(modules) >= {"samtools", "bcftools"}
    for name, settings in modules.items():
        assert settings["doi"] == "" and settings["href"] == "", name
        assert "DOI 10." in settings["comment"], name
