"""Faults after which the run must stay truthful (issue 13, items 2, 5, 7, 8): stale reports, a parent's failure,
damaged intermediates, a full disk."""

from __future__ import annotations

import argparse
import errno
import gzip
import json
import os
import sys
import time
from pathlib import Path

import pysam
import pytest

from dira_genotyper import cli
from dira_genotyper.alignment import locus_bam
from dira_genotyper.inputs import diagnose
from dira_genotyper.interpretation.parent_failure import note_failed_parents, parse_failed_parents
from dira_genotyper.run import provenance, recovery
from dira_genotyper.run.cohort import write_cohort_tsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interpretation"))  # the genotype tests' fixtures
import test_genotype as tg  # noqa: E402

# --- provenance -------------------------------------------------------------------------------------------------


def test_file_digest_full_and_quick(tmp_path, monkeypatch):
    path = tmp_path / "x.bam"
    path.write_bytes(b"a" * 5000)
    full = provenance.file_digest(str(path))
    assert full["method"] == "sha256" and full["size"] == 5000 and len(full["sha256"]) == 64
    monkeypatch.setattr(provenance, "FULL_DIGEST_LIMIT", 1000)
    monkeypatch.setattr(provenance, "EDGE", 100)
    quick = provenance.file_digest(str(path))
    assert quick["method"] == "quick" and quick["sha256"] != full["sha256"]
    os.utime(path, ns=(1, 1))  # a rewritten/replaced big file (other mtime) gets another quick digest
    assert provenance.file_digest(str(path))["sha256"] != quick["sha256"]


def _sheet_sample(tmp_path: Path) -> tuple[dict, str]:
    bam = tmp_path / "s.bam"
    bam.write_bytes(b"bam-1")
    ref = tmp_path / "ref.fa"
    ref.write_text(">chr2\nACGT\n")
    return {"sample": "S", "kind": "bam", "bam": str(bam), "fq1": "", "fq2": ""}, str(ref)


def test_stale_reasons_follow_inputs_reference_and_config(tmp_path):
    sample, ref = _sheet_sample(tmp_path)
    config = {"calling": {"min_depth": 10}}
    checked = {"digests": provenance.input_digests(sample, ref)}
    report = {"provenance": provenance.report_provenance(checked, config, "SYNTH:x", [])}
    assert provenance.stale_reasons(report, sample, ref, config) == []
    assert provenance.stale_reasons(report, sample, ref, {"calling": {"min_depth": 5}}) == [
        "the configuration changed since the report was made"
    ]
    Path(sample["bam"]).write_bytes(b"bam-2: another patient's file at the same path")
    Path(ref).write_text(">chr2\nACGA\n")
    reasons = provenance.stale_reasons(report, sample, ref, config)
    assert reasons == [
        f"its bam file {sample['bam']} changed since the report was made",
        f"the reference {ref} changed since the report was made",
    ]
    assert provenance.stale_reasons({}, sample, ref, config) == [
        "the report records no provenance (made by an older version)"
    ]


def test_provenance_holds_contents_not_locations(tmp_path):
    """The same files and settings in another folder give the same provenance (the JSON report stays byte-identical
    across runs); a changed analysis setting or file content does not."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sample_a, ref_a = _sheet_sample(tmp_path / "a")
    sample_b, ref_b = _sheet_sample(tmp_path / "b")
    config_a = {"samples": "a/sheet.tsv", "reference": ref_a, "calling": {"min_depth": 10}}
    config_b = {"samples": "/elsewhere/sheet.tsv", "reference": ref_b, "calling": {"min_depth": 10}}

    def prov(sample, ref, config):
        checked = {"digests": provenance.input_digests(sample, ref)}
        return provenance.report_provenance(checked, config, "SYNTH:x", [])

    first, second = prov(sample_a, ref_a, config_a), prov(sample_b, ref_b, config_b)
    assert first == second
    assert str(tmp_path) not in json.dumps(first)
    assert first["config"] == {"calling": {"min_depth": 10}}
    assert prov(sample_b, ref_b, {**config_b, "calling": {"min_depth": 5}})["config_sha256"] != first["config_sha256"]
    Path(sample_b["bam"]).write_bytes(b"bam-2")
    assert prov(sample_b, ref_b, config_b)["inputs"] != first["inputs"]


# --- stale reports and the cohort table after a failed run ---------------------------------------------------


def _layout(tmp_path: Path, sample: dict, ref: str, config: dict) -> Path:
    """A results/ folder with a current report of ``sample`` (its provenance) and the logs of its jobs."""
    logs = tmp_path / "logs"
    for stage in ("locus", "reports"):
        (logs / stage).mkdir(parents=True)
    (logs / "locus" / f"{sample['sample']}.extract.log").write_text("INFO extracted\n")
    time.sleep(0.02)
    reports = tmp_path / "results" / "reports"
    reports.mkdir(parents=True)
    checked = {"digests": provenance.input_digests(sample, ref)}
    report = {
        "sample": sample["sample"],
        "status": "negative",
        "qc": {},
        "provenance": provenance.report_provenance(checked, config, "SYNTH:x", []),
    }
    for suffix in recovery.REPORT_SUFFIXES:
        (reports / f"{sample['sample']}{suffix}").write_text(json.dumps(report))
    return tmp_path


def _cohort(tmp_path: Path) -> dict[str, dict]:
    lines = (tmp_path / "results" / "cohort.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return {row.split("\t")[0]: dict(zip(header, row.split("\t"))) for row in lines[1:]}


def test_a_current_report_is_kept(tmp_path, monkeypatch):
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    recovery.recover([sample], ref, {"a": 1})
    assert _cohort(tmp_path)["S"]["status"] == "negative"
    assert (tmp_path / "results" / "reports" / "S.dira.json").exists()


def test_a_report_not_renewed_by_a_failed_rerun_is_moved_and_marked_failed(tmp_path, monkeypatch):
    """The probe's case: the rerun fails at extraction (another BAM at the same path); the old report and its
    old status must not be presented as current."""
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    time.sleep(0.02)
    Path(sample["bam"]).write_bytes(b"a different BAM")
    (tmp_path / "logs" / "locus" / "S.extract.log").write_text("ERROR: sample S: BAM s.bam cannot be opened\n")
    recovery.recover([sample], ref, {"a": 1})
    row = _cohort(tmp_path)["S"]
    assert row["status"] == "failed"
    assert "this run could not renew the report" in row["failed_reason"]
    assert "its bam file" in row["failed_reason"] and "changed since the report was made" in row["failed_reason"]
    assert "results/reports/stale/" in row["failed_reason"] and "cannot be opened" in row["failed_reason"]
    for suffix in recovery.REPORT_SUFFIXES:
        assert not (tmp_path / "results" / "reports" / f"S{suffix}").exists()
        assert (tmp_path / "results" / "reports" / "stale" / f"S{suffix}").exists()


def test_a_newer_log_alone_makes_the_report_stale(tmp_path, monkeypatch):
    """A damaged intermediate: inputs unchanged, but a job of the sample ran (and failed) after the report."""
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    time.sleep(0.02)
    (tmp_path / "logs" / "annotation").mkdir()
    (tmp_path / "logs" / "annotation" / "S.log").write_text("ERROR: results/calls/S.vcf.gz is truncated\n")
    recovery.recover([sample], ref, {"a": 1})
    row = _cohort(tmp_path)["S"]
    assert row["status"] == "failed" and "logs/annotation/S.log" in row["failed_reason"]


def test_a_parent_in_failed_parents_does_not_make_the_report_stale(tmp_path, monkeypatch):
    """A proband reported without its father (`failed_parents`): the father's jobs failing again after the report
    was written do not concern it; without the setting they do (the report read his data)."""
    sample, ref = _sheet_sample(tmp_path)
    sample["father"] = "DAD"
    dad = {"sample": "DAD", "kind": "bam", "bam": sample["bam"], "father": None, "mother": None}
    monkeypatch.chdir(tmp_path)
    config = {"a": 1, "failed_parents": ["DAD"]}
    _layout(tmp_path, sample, ref, config)
    time.sleep(0.02)
    (tmp_path / "logs" / "locus" / "DAD.extract.log").write_text("ERROR: sample DAD: BAM cannot be opened\n")
    recovery.recover([sample, dad], ref, config)
    assert _cohort(tmp_path)["S"]["status"] == "negative"
    assert _cohort(tmp_path)["DAD"]["status"] == "failed"
    recovery.recover([sample, dad], ref, {**config, "failed_parents": []})
    assert _cohort(tmp_path)["S"]["status"] == "failed"


def test_empty_log_is_named_as_a_full_disk_or_kill(tmp_path):
    (tmp_path / "locus").mkdir()
    (tmp_path / "locus" / "S.extract.log").write_text("")
    assert "0-byte log" in recovery.failure_reason("S", tmp_path)


# --- a parent's failure -----------------------------------------------------------------------------------------


def test_failed_parent_is_named_and_phase_is_missing():
    child = dict(tg.SAMPLE, father="DAD", mother="MUM", family="F1")
    interp = tg.interpret(child, [tg.Q54X, tg.E77X], tg.cnv(), tg.FULL, model=tg.MODEL, disease="DIRA")
    assert interp.phase["status"] == "unknown"
    failed = parse_failed_parents(["father=DAD (validate_input failed)"])
    note_failed_parents(interp, failed, child)
    assert any("reported without parental phase: the analysis of the father DAD" in r for r in interp.reasons)
    assert interp.limitations[0].startswith("Parental phase missing: the analysis of the father DAD")
    assert "parental data missing (failed: father DAD" in interp.phase["detail"]
    assert interp.family["failed_parents"] == [
        {"role": "father", "sample": "DAD", "reason": "DAD (validate_input failed)"}
    ]
    with pytest.raises(ValueError, match="father or mother"):
        parse_failed_parents(["uncle=X"])


def test_recover_does_not_genotype_the_proband_of_a_failed_parent(tmp_path, monkeypatch):
    """The error handler makes no clinical output: the proband of a failed parent, whose own evidence is complete,
    is not genotyped there; its row names the failed parent and the rerun (`failed_parents`) that reports it
    without that parent through the genotype rule."""
    monkeypatch.chdir(tmp_path)
    res = tmp_path / "results"
    for pattern in recovery.OWN_EVIDENCE.values():
        (res / pattern.format(s="KID")).parent.mkdir(parents=True, exist_ok=True)
        (res / pattern.format(s="KID")).write_text("{}")
    (tmp_path / "logs" / "qc").mkdir(parents=True)
    (tmp_path / "logs" / "qc" / "DAD.validate_input.log").write_text("ERROR: sample DAD: fq1 has 9 reads\n")
    kid = {"sample": "KID", "kind": "bam", "bam": "k.bam", "father": "DAD", "mother": "MUM"}
    dad = {"sample": "DAD", "kind": "fastq", "fq1": "d1", "fq2": "d2", "father": None, "mother": None}
    mum = {"sample": "MUM", "kind": "bam", "bam": "m.bam", "father": None, "mother": None}
    (res / "reports").mkdir(parents=True)
    (res / "reports" / "MUM.dira.json").write_text(json.dumps({"sample": "MUM", "status": "negative", "qc": {}}))
    for pattern in recovery.PARENT_EVIDENCE:
        (res / pattern.format(s="MUM")).write_text("{}")
    monkeypatch.setattr(recovery, "stale_reasons", lambda *a: [])
    recovery.recover([kid, dad, mum], "ref.fa", None)
    assert not (res / "reports" / "KID.dira.json").exists()
    rows = _cohort(tmp_path)
    assert rows["DAD"]["status"] == "failed" and "fq1 has 9 reads" in rows["DAD"]["failed_reason"]
    assert rows["KID"]["status"] == "failed"
    assert rows["KID"]["failed_reason"] == (
        "not genotyped because its father DAD failed (DAD: ERROR: sample DAD: fq1 has 9 reads (see "
        "logs/qc/DAD.validate_input.log)); to report it without parental phase, fix the parent's data or rerun "
        "with --config failed_parents=[DAD]"
    )
    assert rows["MUM"]["status"] == "negative"


def test_proband_without_own_evidence_names_the_failed_parent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs" / "qc").mkdir(parents=True)
    (tmp_path / "logs" / "qc" / "DAD.validate_input.log").write_text("ERROR: sample DAD: fq1 has 9 reads\n")
    kid = {"sample": "KID", "kind": "bam", "bam": "k.bam", "father": "DAD", "mother": None}
    dad = {"sample": "DAD", "kind": "fastq", "fq1": "d1", "fq2": "d2", "father": None, "mother": None}
    recovery.recover([kid, dad], "ref.fa", None)
    reason = _cohort(tmp_path)["KID"]["failed_reason"]
    assert reason.startswith("not genotyped because its father DAD failed (DAD: ERROR: sample DAD: fq1 has 9 reads")


# --- damaged intermediates and a full disk ----------------------------------------------------------------------


def _small_bam(tmp_path: Path) -> tuple[str, str]:
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": 100_000}]}
    bam = str(tmp_path / "in.bam")
    with pysam.AlignmentFile(bam, "wb", header=header) as out:
        for i in range(200):
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_id, read.reference_start = f"r{i}", 0, 1000 + 10 * i
            read.query_sequence, read.cigarstring, read.mapping_quality = "A" * 50, "50M", 60
            read.query_qualities = pysam.qualitystring_to_array("I" * 50)
            out.write(read)
    pysam.index(bam)
    bed = tmp_path / "r.bed"
    bed.write_text("chr2\t0\t50000\n")
    return bam, str(bed)


def test_full_disk_during_extraction_leaves_no_partial_files(tmp_path, monkeypatch, capsys):
    bam, bed = _small_bam(tmp_path)
    out = tmp_path / "locus" / "S.bam"
    out.parent.mkdir()

    def full_disk(*args, save_stdout, **kwargs):
        Path(save_stdout).write_bytes(b"partial")  # the locus BAM half written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(locus_bam.pysam.samtools, "reheader", full_disk)
    with pytest.raises(OSError):
        locus_bam.extract_locus(bam, None, [bed], str(out), str(tmp_path / "fb.bai"), "chr2")
    assert sorted(p.name for p in out.parent.iterdir()) == []  # no .tmp.bam, no partial BAM

    res = tmp_path / "res"
    res.mkdir()
    (res / "build.json").write_text(json.dumps({"locus_contig_in_reference": "chr2"}))
    code = cli.main(
        [
            "extract",
            "--input",
            bam,
            "--reference",
            bam,
            "--regions",
            bed,
            "--index-fallback",
            str(tmp_path / "fb.bai"),
            "--resources",
            str(res),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    last_error = [ln for ln in err.splitlines() if "ERROR" in ln][-1]
    assert last_error.startswith("ERROR: no space left on device") and "df -h" in last_error
    assert list(out.parent.iterdir()) == []


def test_cohort_table_write_is_atomic_on_a_full_disk(tmp_path, monkeypatch):
    path = tmp_path / "cohort.tsv"
    write_cohort_tsv(path, [{"sample": "A", "status": "negative"}])
    before = path.read_text()
    real = Path.write_text

    def full(self, *args, **kwargs):
        real(self, "half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError):
        write_cohort_tsv(path, [{"sample": "B", "status": "failed"}])
    monkeypatch.undo()
    assert path.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["cohort.tsv"]


def test_truncated_json_intermediate_is_named_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results" / "cnv"
    results.mkdir(parents=True)
    (results / "S.cnv.json").write_text('{"status": "called", "genes": {"IL1')
    good = tmp_path / "results" / "ok.json"
    good.write_text("{}")
    code = cli.main(
        ["cohort", "--reports", "results/cnv/S.cnv.json", str(good), "--out-tsv", "c.tsv", "--out-mqc", "c_mqc.tsv"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "ERROR: results/cnv/S.cnv.json is not valid JSON" in err
    assert "delete it (`rm results/cnv/S.cnv.json`) and rerun the workflow" in err


def test_truncated_bgzf_intermediate_gets_the_delete_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bam, _ = _small_bam(tmp_path)
    (tmp_path / "results").mkdir()
    cut = tmp_path / "results" / "S.vcf.gz"
    data = gzip.compress(b"##fileformat=VCFv4.2\n")
    cut.write_bytes(data[: len(data) // 2])
    assert diagnose.truncated_files([bam, str(cut)]) == [str(cut)]

    message = diagnose.diagnose(OSError("invalid BGZF header"), argparse.Namespace(vcf=str(cut), n=3))
    assert "is truncated (no end-of-file marker)" in message and f"rm {cut}" in message
    outside = tmp_path / "input.vcf.gz"
    outside.write_bytes(data[:10])
    message = diagnose.diagnose(OSError("x"), argparse.Namespace(vcf=[str(outside)]))
    assert "it is an input: copy or re-create it" in message


def test_truncated_parent_json_is_found_beside_the_named_files(tmp_path, monkeypatch):
    """genotype reads a parent's evidence by a derived path; the damaged file is still named."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "results" / "annotation"
    folder.mkdir(parents=True)
    (folder / "KID.variants.json").write_text('{"variants": []}')
    (folder / "DAD.variants.json").write_text('{"variants": [')
    try:
        json.loads((folder / "DAD.variants.json").read_text())
    except json.JSONDecodeError as exc:
        message = diagnose.diagnose(exc, argparse.Namespace(variants="results/annotation/KID.variants.json"))
    assert message.startswith("results/annotation/DAD.variants.json is not valid JSON")
    assert "rm results/annotation/DAD.variants.json" in message


def test_a_parent_whose_sample_checks_failed_is_not_used(tmp_path):
    """A listed father who is not the father (or a contaminated mother's file) gives no phase, no family check and
    no maternal alleles: the child's report says so; a parent whose checks passed stays."""
    from dira_genotyper.interpretation.genotype import untrusted_parents

    checks = tmp_path / "sample_checks.json"
    failed = {"level": "fail", "code": "not_parent", "text": "DAD is not a parent of KID"}
    checks.write_text(
        json.dumps(
            {
                "samples": {
                    "DAD": {"verdict": "fail", "findings": [failed, {"level": "warn", "code": "sex_unchecked"}]},
                    "MUM": {"verdict": "pass", "findings": []},
                },
                "pairs": [],
            }
        )
    )
    child = dict(tg.SAMPLE, father="DAD", mother="MUM", family="F1")
    untrusted = untrusted_parents(child, ["father", "mother"], str(checks))
    assert untrusted == {"father": "not_parent"} and "mother" not in untrusted  # her checks passed: she is used
    assert untrusted_parents(child, ["father"], None) == {}  # no checks run: nobody left out

    interp = tg.interpret(child, [tg.Q54X, tg.E77X], tg.cnv(), tg.FULL, model=tg.MODEL, disease="DIRA")
    note_failed_parents(interp, untrusted, child, cause="checks")
    assert any("the sample checks of the father DAD (not_parent) failed" in r for r in interp.reasons)
    assert interp.limitations[0].startswith("Parental phase missing: the sample checks of the father DAD")
    assert interp.family["failed_parents"] == [{"role": "father", "sample": "DAD", "reason": "not_parent"}]
