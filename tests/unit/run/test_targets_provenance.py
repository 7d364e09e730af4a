"""The capture design BED (config `targets`) and the panel of normals in the report's provenance: their
content, not their path; a changed design or panel makes the report stale."""

from __future__ import annotations

from dira_genotyper.run.provenance import analysis_settings, report_provenance, stale_reasons


def test_design_is_digested_and_a_change_is_stale(tmp_path):
    bed = tmp_path / "design.bed"
    bed.write_text("chr2\t100\t200\n")
    config = {"targets": str(bed), "cnv": {"mode": "auto"}}
    prov = report_provenance({}, config, "SYNTH:x", [])
    assert len(prov["targets_bed"]["sha256"]) == 64 and "path" not in prov["targets_bed"]
    assert "targets" not in analysis_settings(config)  # where it sits is no setting
    assert report_provenance({}, {"targets": ""}, "SYNTH:x", [])["targets_bed"] is None
    report = {"provenance": prov}
    sample = {"sample": "S", "bam": str(bed)}  # any existing file stands in for the input
    before = [r for r in stale_reasons(report, sample, str(bed), config) if "capture design" in r]
    bed.write_text("chr2\t100\t300\n")
    after = [r for r in stale_reasons(report, sample, str(bed), config) if "capture design" in r]
    assert before == [] and len(after) == 1


def test_panel_of_normals_is_digested_and_a_change_is_stale(tmp_path):
    panel = tmp_path / "pon.tsv"
    panel.write_text("# dira-genotyper panel of normals\n")
    config = {"panel_of_normals": str(panel)}
    prov = report_provenance({}, config, "SYNTH:x", [])
    assert len(prov["panel_of_normals"]["sha256"]) == 64 and "panel_of_normals" not in analysis_settings(config)
    sample = {"sample": "S", "bam": str(panel)}
    assert not any(r.startswith("the panel ") for r in stale_reasons({"provenance": prov}, sample, str(panel), config))
    panel.write_text("# dira-genotyper panel of normals\nchanged\n")
    assert any(r.startswith("the panel ") for r in stale_reasons({"provenance": prov}, sample, str(panel), config))
