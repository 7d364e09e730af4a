"""A failed run leaves nothing that looks current (the behaviour that depends on Snakemake's parse and hooks)."""

from __future__ import annotations

import pytest

from tests.conftest import make_workdir, run_snakemake

pytestmark = pytest.mark.workflow
EARLIER = {
    "cohort.tsv": "sample\tstatus\nS1\tnegative\n",
    "multiqc/multiqc_report.html": "<html>old statuses</html>",
    "multiqc/dira_mqc.tsv": "Sample\tstatus\nS1\tnegative\n",
    "reports/S1.dira.json": '{"sample": "S1"}',
    "reports/S1.dira.html": "<html>S1</html>",
}
MOVED = {
    "cohort.tsv": "stale/cohort.tsv",
    "multiqc/multiqc_report.html": "multiqc/stale/multiqc_report.html",
    "multiqc/dira_mqc.tsv": "multiqc/stale/dira_mqc.tsv",
    "reports/S1.dira.json": "reports/stale/S1.dira.json",
    "reports/S1.dira.html": "reports/stale/S1.dira.html",
}


def test_failure_before_any_job_moves_the_earlier_results_to_stale(cohort_dir, tmp_path):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("sample\tfq1\tfq2\tbam\nS1\t\t\ttest-data/bam/nothere.bam\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    results = workdir / "results"
    for name, text in EARLIER.items():
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_text(text)

    for no_jobs in (["-n"], ["--lint"], ["--summary"]):
        dry = run_snakemake(workdir, *no_jobs, "--cores", "1")
        assert dry.returncode != 0 and "nothere.bam does not exist" in dry.stdout + dry.stderr
        assert all((results / name).read_text() == text for name, text in EARLIER.items()), f"{no_jobs} moved files"

    proc = run_snakemake(workdir, "--cores", "1")
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "nothere.bam does not exist" in text and "moved to stale/" in text
    for name, text in EARLIER.items():
        assert not (results / name).exists(), f"{name} still looks current"
        assert (results / MOVED[name]).read_text() == text, f"{name} was not kept in stale/"
    assert "nothere.bam does not exist" in (results / "reports" / "stale" / "why.txt").read_text()
