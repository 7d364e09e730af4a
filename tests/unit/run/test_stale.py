"""A failed run leaves nothing that looks current and loses nothing (issue 22, part 3, items 1 and 3)."""

from __future__ import annotations

import os
import time

from dira_genotyper.run import recovery, stale

try:  # tests/unit as a package or as a plain folder on sys.path
    from .test_recovery import _cohort, _layout, _sheet_sample
except ImportError:
    from test_recovery import _cohort, _layout, _sheet_sample


# --- logs matched by exact name ---------------------------------------------------------------------------------


def test_a_dotted_sample_name_does_not_claim_another_samples_logs(tmp_path):
    """DIRA-02.b's failure is not DIRA-02's: `*/DIRA-02.*log` matched both."""
    (tmp_path / "cnv").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "cnv" / "DIRA-02.b.call.log").write_text("ERROR: DIRA-02.b broke\n")
    (tmp_path / "reports" / "DIRA-02.b.log").write_text("ERROR: DIRA-02.b report broke\n")
    (tmp_path / "cnv" / "DIRA-02.call.log").write_text("INFO fine\n")
    (tmp_path / "cnv" / "DIRA-02.catalog").write_text("ERROR: not a log\n")
    names = ["DIRA-02", "DIRA-02.b"]
    assert recovery.sample_logs("DIRA-02", tmp_path, names) == [tmp_path / "cnv" / "DIRA-02.call.log"]
    assert {p.name for p in recovery.sample_logs("DIRA-02.b", tmp_path, names)} == {
        "DIRA-02.b.call.log",
        "DIRA-02.b.log",
    }
    assert recovery.failure_reason("DIRA-02", tmp_path, names) == recovery.GENERIC


def test_glob_characters_in_a_name_are_literal(tmp_path):
    (tmp_path / "cnv").mkdir()
    (tmp_path / "cnv" / "S1.call.log").write_text("ERROR: S1\n")
    assert recovery.sample_logs("S[12]", tmp_path) == [] and recovery.sample_logs("S?", tmp_path) == []
    assert not recovery.is_log_of("S1.call.extra.log", "S1") and recovery.is_log_of("S1.log", "S1")


def test_a_dotted_samples_failure_leaves_the_other_samples_report(tmp_path, monkeypatch):
    """The probe's case end to end: DIRA-02.b fails after DIRA-02's report was made."""
    sample, ref = _sheet_sample(tmp_path)
    sample["sample"] = "DIRA-02"
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    time.sleep(0.02)
    (tmp_path / "logs" / "locus" / "DIRA-02.b.extract.log").write_text("ERROR: DIRA-02.b cannot be opened\n")
    other = dict(sample, sample="DIRA-02.b")
    recovery.recover([sample, other], ref, {"a": 1})
    rows = _cohort(tmp_path)
    assert rows["DIRA-02"]["status"] == "negative" and rows["DIRA-02"]["failed_reason"] == ""
    assert (
        rows["DIRA-02.b"]["status"] == "failed" and "DIRA-02.b cannot be opened" in rows["DIRA-02.b"]["failed_reason"]
    )
    assert (tmp_path / "results" / "reports" / "DIRA-02.dira.json").exists()


# --- a report deleted by Snakemake before its job reran ---------------------------------------------------------


def test_a_report_deleted_before_a_failed_rerun_goes_to_stale(tmp_path, monkeypatch):
    """A truncated variants.json: Snakemake deletes the genotype job's old report, the job fails; the report
    kept at onstart is moved to stale/ (it was lost before)."""
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    reports = tmp_path / "results" / "reports"
    old = (reports / "S.dira.json").read_text()
    assert stale.keep_previous_reports(reports) == 3
    for path in stale.report_files("S", reports):  # what Snakemake does before it reruns the job
        path.unlink()
    (tmp_path / "logs" / "reports" / "S.log").write_text(
        "ERROR: results/annotation/S.variants.json is not valid JSON: it is truncated or damaged\n"
    )
    recovery.recover([sample], ref, {"a": 1})
    row = _cohort(tmp_path)["S"]
    assert row["status"] == "failed" and "variants.json is not valid JSON" in row["failed_reason"]
    assert "previous report was moved to results/reports/stale/" in row["failed_reason"]
    assert (reports / "stale" / "S.dira.json").read_text() == old
    assert all((reports / "stale" / p.name).exists() for p in stale.report_files("S", reports))
    assert not list((reports / ".previous").glob("S.*"))


def test_keep_previous_reports_hard_links_and_keeps_what_a_killed_run_deleted(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "A.dira.json").write_text("{}")
    (reports / ".previous").mkdir()
    (reports / ".previous" / "GONE.dira.json").write_text("{}")
    stale.keep_previous_reports(reports)
    assert sorted(p.name for p in (reports / ".previous").iterdir()) == ["A.dira.json"]
    assert (reports / "stale" / "GONE.dira.json").exists(), "a report of a killed run's deleted job is kept"
    assert os.path.samefile(reports / "A.dira.json", reports / ".previous" / "A.dira.json")


# --- the MultiQC page --------------------------------------------------------------------------------------------


def test_a_multiqc_page_not_renewed_by_a_failed_run_goes_to_stale(tmp_path, monkeypatch):
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    page = tmp_path / "results" / "multiqc" / "multiqc_report.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>old</html>")
    os.utime(page, (time.time() - 60, time.time() - 60))
    recovery.recover([sample], ref, {"a": 1}, started=time.time())
    assert not page.exists()
    assert (page.parent / "stale" / page.name).read_text() == "<html>old</html>"
    assert "MultiQC" in (page.parent / "stale" / "why.txt").read_text()


def test_a_multiqc_page_written_by_this_run_stays(tmp_path, monkeypatch):
    sample, ref = _sheet_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path, sample, ref, {"a": 1})
    started = time.time() - 5
    page = tmp_path / "results" / "multiqc" / "multiqc_report.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>new</html>")
    recovery.recover([sample], ref, {"a": 1}, started=started)
    assert page.exists()


def test_mark_run_failed_moves_every_summary_and_report_and_notes_why(tmp_path):
    results = tmp_path / "results"
    files = ["cohort.tsv", "multiqc/dira_mqc.tsv", "multiqc/multiqc_report.html", "reports/A.dira.json"]
    for name in files:
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_text(name)
    moved = stale.mark_run_failed(results, "sample X: BAM x.bam does not exist")
    assert len(moved) == 4 and not any((results / name).exists() for name in files)
    assert (results / "stale" / "cohort.tsv").read_text() == "cohort.tsv"
    assert (results / "reports" / "stale" / "A.dira.json").read_text() == "reports/A.dira.json"
    assert "x.bam does not exist" in (results / "multiqc" / "stale" / "why.txt").read_text()
    assert stale.mark_run_failed(results, "again") == []  # nothing left to move, nothing overwritten


def test_the_fix_of_a_long_error_line_is_quoted_whole(tmp_path):
    """A damaged-file error names the file and the `rm` command; cohort.tsv cut it at 300 characters."""
    (tmp_path / "reports").mkdir()
    line = (
        "ERROR: results/annotation/DIRA-04.variants.json is not valid JSON (Unterminated string starting at: line 21 "
        "column 7 (char 494)): it is truncated or damaged; it is an intermediate of this workflow, which Snakemake "
        "does not regenerate while it exists: delete it (`rm results/annotation/DIRA-04.variants.json`) and rerun "
        "the workflow"
    )
    (tmp_path / "reports" / "DIRA-04.log").write_text(f"Traceback ...\n{line}\n")
    assert recovery.failure_reason("DIRA-04", tmp_path).startswith(f"{line} (see ")
