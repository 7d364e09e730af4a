"""Runs on an HPC cluster: the workflow through a real single-node Slurm, and a crashed local run that resumes.

Both tests use a 2-sample subset of the bundled cohort to keep the suite short: the CRAM sample (DIRA-04) and the
low-depth FASTQ sample (DIRA-09, so the `align` group job runs too, cheaply), which between them go through every
group job of the Slurm profile (align, locus, report). They compare with the session's default local run
(`workflow_run`): both samples have no parents and are normalised on their own (single-sample copy number, the
mode file says so), so their reports do not depend on the rest of the sheet.
Set ``DIRA_SLURM_FULL=1`` to submit the whole bundled cohort instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SNAKEMAKE, make_workdir, run_snakemake
from tests.slurm.slurm_cluster import SlurmCluster, SlurmUnavailable, slurm_cluster

SUBSET = ("DIRA-04", "DIRA-09")
SLURM_TIMEOUT = int(os.environ.get("DIRA_SLURM_TIMEOUT", "1200"))
PROGRESS = re.compile(r"(\d+) of (\d+) steps")


def subset_sheet(path: Path, samples=SUBSET) -> Path:
    lines = (ROOT / "config" / "samples.tsv").read_text().splitlines(keepends=True)
    keep = [lines[0]] + [line for line in lines[1:] if line.split("\t", 1)[0] in samples]
    assert len(keep) == len(samples) + 1, f"samples {samples} not all in config/samples.tsv"
    path.write_text("".join(keep))
    return path


def sheet_samples(workdir: Path) -> list[str]:
    lines = (workdir / "config" / "samples.tsv").read_text().splitlines()
    return [line.split("\t", 1)[0] for line in lines[1:] if line.strip() and not line.startswith("#")]


def assert_same_reports(run: Path, reference: Path) -> None:
    samples = sheet_samples(run)
    assert samples
    for sample in samples:
        mode = run / "results" / "cnv" / f"{sample}.mode.txt"
        assert mode.read_text().strip() == "single", f"{sample}: the report depends on the sheet ({mode})"
        got = run / "results" / "reports" / f"{sample}.dira.json"
        want = reference / "results" / "reports" / f"{sample}.dira.json"
        assert got.exists(), f"{got} missing"
        assert got.read_bytes() == want.read_bytes(), f"{sample}: report differs from the local run ({got} vs {want})"


def report_targets(workdir: Path) -> list[str]:
    """The per-sample reports: what these tests compare (the cohort table and the MultiQC page are left out to
    keep them short; the session's default run makes those)."""
    return [f"results/reports/{sample}.dira.json" for sample in sheet_samples(workdir)]


def job_total(text: str) -> int:
    """The `total` row of Snakemake's job-stats table (the number of jobs the run had to do)."""
    totals = re.findall(r"^total\s+(\d+)\s*$", text, flags=re.M)
    assert totals, f"no job stats in output:\n{text[-3000:]}"
    return int(totals[0])


def processes_in(workdir: Path) -> list[int]:
    """Live processes whose working directory is workdir (what a local run's jobs look like)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit() and int(entry) != os.getpid():
            with contextlib.suppress(OSError):
                if Path(os.readlink(f"/proc/{entry}/cwd")) == workdir.resolve():
                    if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                        found.append(int(entry))
    return found


@pytest.fixture
def slurm(tmp_path_factory):
    base = tmp_path_factory.mktemp("slurm")
    if len(str(base)) > 70:  # munge's Unix socket path must stay short (108 bytes)
        base = Path(tempfile.mkdtemp(prefix="dira-slurm-"))
    try:
        with slurm_cluster(base) as cluster:
            yield cluster
    except SlurmUnavailable as exc:
        pytest.skip(f"no test Slurm cluster: {exc}")


def slurm_profile_args(cluster: SlurmCluster) -> list[str]:
    """Command-line settings on top of profiles/slurm for this one-node cluster.

    A resource option on the command line replaces the profile's whole table, so the profile's tables are
    repeated here with only the partition set and CPU/memory requests capped at what the node has.
    """
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())

    def value(key, val):
        if key == "cpus_per_task":
            val = min(int(val), cluster.cpus)
        elif key == "mem_mb":
            val = min(int(val), cluster.mem_mb)
        return f"{key}={val!r}" if isinstance(val, str) else f"{key}={val}"

    defaults = dict(profile.get("default-resources") or {}, slurm_partition=cluster.partition)
    args = ["--default-resources", *(value(k, v) for k, v in defaults.items())]
    per_rule = [
        f"{rule}:{value(k, v)}" for rule, res in (profile.get("set-resources") or {}).items() for k, v in res.items()
    ]
    if per_rule:
        args += ["--set-resources", *per_rule]
    threads = [f"{rule}={min(int(n), cluster.cpus)}" for rule, n in (profile.get("set-threads") or {}).items()]
    if threads:
        args += ["--set-threads", *threads]
    # No accounting database on the test cluster: poll with squeue; short first poll to keep the test quick.
    return args + ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]


@pytest.mark.slurm
@pytest.mark.workflow
def test_slurm_run_matches_local(slurm, cohort_dir, request, tmp_path):
    full = os.environ.get("DIRA_SLURM_FULL") == "1"
    sheet = None if full else subset_sheet(tmp_path / "samples.tsv")
    workdir = make_workdir(tmp_path / "run", sheet)
    cmd = [
        "timeout",
        "-s",
        "INT",
        "-k",
        "30",
        str(SLURM_TIMEOUT),
        *SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        *slurm_profile_args(slurm),
        *report_targets(workdir),
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=slurm.env, timeout=SLURM_TIMEOUT + 60)
    elapsed = time.monotonic() - started
    (tmp_path / "snakemake.log").write_text(proc.stdout + proc.stderr)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"Slurm run failed (exit {proc.returncode}, {elapsed:.0f} s):\n{text[-6000:]}\n{slurm.logs()}"
    )
    assert "has been submitted with SLURM jobid" in text, "jobs did not go through Slurm"
    jobs = len(re.findall(r"has been submitted with SLURM jobid", text))
    groups = len(re.findall(r"Group job \w+ \(jobs in lexicogr\. order\)", text))
    print(f"Slurm run of {len(sheet_samples(workdir))} samples: {elapsed:.0f} s, {jobs} Slurm jobs, {groups} grouped")
    assert groups >= 3, "the profile's group jobs (align, locus, report) were not submitted as groups"
    assert jobs < job_total(text), "grouped rules were submitted one job each"
    # the session's local run is asked for only now: while the other worker makes it, this one runs Slurm
    assert_same_reports(workdir, request.getfixturevalue("workflow_run"))


@pytest.mark.workflow
def test_killed_run_resumes(request, tmp_path):
    """SIGKILL a local run mid-way (a crash: lock and incomplete markers left behind), unlock, rerun with
    --rerun-incomplete: only the unfinished part runs and the reports equal the uninterrupted run's."""
    workdir = make_workdir(tmp_path / "run", subset_sheet(tmp_path / "samples.tsv"))
    targets = report_targets(workdir)
    planned = run_snakemake(workdir, "-n", "--cores", "2", *targets)
    assert planned.returncode == 0, planned.stderr[-3000:]
    full_jobs = job_total(planned.stdout + planned.stderr)
    log_path = tmp_path / "killed.log"
    env = dict(os.environ, PATH=f"{Path(SNAKEMAKE[0]).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2", *targets],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 900
            done = 0
            while time.monotonic() < deadline and proc.poll() is None:
                steps = PROGRESS.findall(log_path.read_text())
                done = int(steps[-1][0]) if steps else 0
                if done >= full_jobs * 0.4:
                    break
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            # Killed children of the group can take a moment to exit; a job that left the group would not.
            stray = processes_in(workdir)
            settle = time.monotonic() + 15
            while stray and time.monotonic() < settle:
                time.sleep(0.5)
                stray = processes_in(workdir)
            for pid in stray:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert not stray, f"job processes survived the kill of the run's process group: {stray}"
    killed_log = log_path.read_text()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed:\n{killed_log[-3000:]}"
    assert not all((workdir / "results" / "reports" / f"{s}.dira.json").exists() for s in SUBSET)

    unlock = run_snakemake(workdir, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    resumed = run_snakemake(workdir, "--cores", "2", "--rerun-incomplete", *targets)
    assert resumed.returncode == 0, f"{resumed.stdout[-3000:]}\n{resumed.stderr[-6000:]}"
    resumed_jobs = job_total(resumed.stderr + resumed.stdout)
    print(f"killed after {done} of {full_jobs} jobs; the rerun did {resumed_jobs} jobs")
    assert 0 < resumed_jobs < full_jobs
    assert_same_reports(workdir, request.getfixturevalue("workflow_run"))  # asked for last, as above
    again = run_snakemake(workdir, "-n", "--cores", "2", *targets)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
