"""Scaling benchmark: DAG build and Slurm job count for 1,000 samples, local wall time for 10, 25 and 50 samples.

    python tests/benchmark/bench_scale.py            # all parts (the local runs take ~10-20 min on 2 cores)
    python tests/benchmark/bench_scale.py --quick    # only the 1,000-sample dry runs (a few minutes)
    python tests/benchmark/bench_scale.py --jobs-only   # only the Slurm job count (one dry run)
    python tests/benchmark/bench_scale.py --parse-only  # only one cluster job's parse time at 1,000 samples

Part 1 writes a 1,000-sample sheet whose rows reuse the bundled cohort's FASTQ/BAM/CRAM files under new sample
names (families renamed consistently), and times ``snakemake -n`` on it under ``/usr/bin/time -v``: wall time and
peak memory (goals: <= 60 s, <= 2 GiB). It also times ``snakemake --list-rules`` (start-up + Snakefile parsing,
which includes the parse-time input checks of workflow/rules/common.smk but no DAG) and, with --profile-parse,
runs the dry run under cProfile to attribute the time to ``_check_inputs`` and to DAG building.

Part 1b counts the cluster jobs of the same 1,000-sample sheet from a dry run through profiles/slurm (the DAG only,
no cluster needed): before = one Slurm job per rule job (the workflow without `group:`), after = the group jobs
(`align`: a FASTQ sample's input check + alignment; `locus`: extraction up to the copy-number mode; `report`:
copy-number call + genotype, one per family) plus the ungrouped cohort jobs. Rule `all` runs no job.

Part 2 generates a low-depth copy of the cohort and runs the whole workflow locally (--cores 2) on 10, 25 and 50
samples (rows of that cohort repeated under new names), printing wall time per sample: a flat per-sample cost
(and a constant marginal cost between sizes) means the cost grows linearly.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import SNAKEMAKE, make_workdir  # noqa: E402

GOAL_SECONDS = 60
GOAL_BYTES = 2 * 1024**3


def scaled_sheet(source: Path, n: int, out: Path) -> Path:
    """n rows built from source's rows, replicate k named S{k}-{sample}; trios stay trios (parents renamed with
    their child); a parent cut off by the n-row limit is dropped from its child's row."""
    text = source.read_text()
    rows = list(
        csv.DictReader(
            io.StringIO("".join(ln for ln in text.splitlines(True) if not ln.startswith("#"))), delimiter="\t"
        )
    )
    fields = list(rows[0].keys()) + ([] if "bam_sm" in rows[0] else ["bam_sm"])
    out_rows: list[dict[str, str]] = []
    k = 0
    while len(out_rows) < n:
        k += 1
        for row in rows:
            new = dict(row)
            new["sample"] = f"S{k:04d}-{row['sample']}"
            if row.get("bam"):  # the file's @RG SM is the bundled sample's name
                new["bam_sm"] = row.get("bam_sm") or row["sample"]
            for key in ("father", "mother"):
                if row.get(key):
                    new[key] = f"S{k:04d}-{row[key]}"
            if row.get("family"):
                new["family"] = f"{row['family']}-{k:04d}"
            out_rows.append(new)
    out_rows = out_rows[:n]
    names = {r["sample"] for r in out_rows}
    for r in out_rows:
        for key in ("father", "mother"):
            if r.get(key) and r[key] not in names:
                r[key] = ""
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(out_rows)
    return out


def env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def timed(cmd: list[str], log: Path) -> tuple[float, int, int, str]:
    """Run cmd; return (wall s, peak RSS bytes, exit code, output). Peak RSS from /usr/bin/time -v when present,
    else from getrusage of this process's children (a maximum over every child so far)."""
    time_v = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    full = [time_v, "-v", *cmd] if time_v else cmd
    started = time.monotonic()
    proc = subprocess.run(full, capture_output=True, text=True, env=env())
    wall = time.monotonic() - started
    log.write_text(proc.stdout + "\n" + proc.stderr)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    peak = int(m.group(1)) * 1024 if m else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return wall, peak, proc.returncode, proc.stdout + proc.stderr


def job_total(text: str) -> int | None:
    m = re.search(r"^total\s+(\d+)\s*$", text, flags=re.M)
    return int(m.group(1)) if m else None


def gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB"


RULE_JOB = re.compile(r"^(?:rule|checkpoint) (\w+):$", re.M)  # a job of its own (grouped jobs are indented)
GROUP_JOB = re.compile(r"Group job (\w+) \(jobs in lexicogr\. order\):")


def cluster_jobs(text: str) -> tuple[int, dict[str, int]]:
    """From `snakemake -n` output through the Slurm profile: (rule jobs, cluster jobs per group or rule).

    Rule jobs are the job-stats total without `all`; cluster jobs count each group job once and each ungrouped
    job once (`all` submits nothing)."""
    total = job_total(text) or 0
    stats = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", text.split("Job stats:", 1)[-1], flags=re.M))
    rule_jobs = total - int(stats.get("all", 0))
    per: dict[str, int] = {}
    for group in GROUP_JOB.findall(text):
        per[f"group {group}"] = per.get(f"group {group}", 0) + 1
    for rule in RULE_JOB.findall(text):
        if rule != "all":
            per[rule] = per.get(rule, 0) + 1
    return rule_jobs, per


def job_count_part(n: int, base: Path) -> bool:
    from dira_devtools.simulate import make_test_cohort

    make_test_cohort(str(ROOT / "test-data"), seed=20261125, depth=30, threads=2)
    sheet = scaled_sheet(ROOT / "config" / "samples.tsv", n, base / f"samples-{n}.tsv")
    workdir = make_workdir(base / f"jobs-{n}", sheet)
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "-n",
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        "--default-resources",
        "slurm_partition=bench",
        "mem_mb=2000",
        "runtime=60",
        "cpus_per_task=1",
    ]
    wall, _peak, rc, out = timed(cmd, base / f"jobs-{n}.log")
    if rc != 0:
        print(f"Slurm-profile dry run on {n} samples failed:\n{out[-3000:]}")
        return False
    rule_jobs, per = cluster_jobs(out)
    after = sum(per.values())
    fastq = sum(1 for line in sheet.read_text().splitlines()[1:] if line.split("\t")[1])
    print(
        f"\n== Part 1b: Slurm jobs for {n} samples ({fastq} FASTQ, {n - fastq} BAM/CRAM), dry run through "
        f"profiles/slurm ({wall:.0f} s)"
    )
    print(f"   before (one cluster job per rule job): {rule_jobs} jobs, {rule_jobs / n:.2f} per sample")
    print(
        f"   after (group jobs + ungrouped jobs):   {after} jobs, {after / n:.2f} per sample "
        f"({rule_jobs / after:.1f}x fewer)"
    )
    for name, count in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"     {count:6d}  {name}")
    print("   (a checkpoint may add cnv_cohort, one job, when some sample needs cohort normalisation)")
    return after < rule_jobs


JOB_PARSE_GOAL = 2.0


def job_parse_part(n: int, base: Path) -> bool:
    """Part 0: the parse time of one cluster job at ``n`` samples. Every Slurm (group) job parses the Snakefile
    again; the input checks (BAM/CRAM headers, FASTQ heads, the population VCF) run in the main process only
    (``workflow.is_main_process``). A job's parse is ``snakemake --mode remote --list-rules``; the main process's
    ``--list-rules`` is what every job paid before."""
    from dira_devtools.simulate import make_test_cohort

    make_test_cohort(str(ROOT / "test-data"), seed=20261125, depth=30, threads=2)
    sheet = scaled_sheet(ROOT / "config" / "samples.tsv", n, base / f"samples-{n}.tsv")
    workdir = make_workdir(base / f"parse-{n}", sheet)
    snake = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--list-rules"]
    main_wall, _, rc_main, out_main = timed(snake, base / "parse-main.log")
    job_wall, _, rc_job, out_job = timed([*snake, "--mode", "remote"], base / "parse-job.log")
    if rc_main or rc_job:
        print(f"--list-rules failed:\n{(out_main if rc_main else out_job)[-3000:]}")
        return False
    print(
        f"== Part 0: parse time at {n} samples: main process (input checks) {main_wall:.1f} s; one cluster job "
        f"{job_wall:.1f} s (goal < {JOB_PARSE_GOAL:g} s; before, every job paid the main process's time)"
    )
    return job_wall < JOB_PARSE_GOAL


def dry_run_part(n: int, base: Path, profile: bool) -> bool:
    from dira_devtools.simulate import make_test_cohort

    make_test_cohort(str(ROOT / "test-data"), seed=20261125, depth=30, threads=2)
    sheet = scaled_sheet(ROOT / "config" / "samples.tsv", n, base / f"samples-{n}.tsv")
    small = scaled_sheet(ROOT / "config" / "samples.tsv", 12, base / "samples-12.tsv")
    ok = True
    print(f"== Part 1: snakemake -n on {n} samples (sheet {sheet})")
    results = {}
    for label, sh in (("12", small), (str(n), sheet)):
        workdir = make_workdir(base / f"dry-{label}", sh)
        snake = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
        wall_p, peak_p, rc_p, out_p = timed([*snake, "--list-rules"], base / f"list-rules-{label}.log")
        if rc_p != 0:
            print(f"--list-rules on {label} samples failed:\n{out_p[-3000:]}")
            return False
        wall, peak, rc, out = timed([*snake, "-n"], base / f"dry-run-{label}.log")
        if rc != 0:
            print(f"dry run on {label} samples failed:\n{out[-3000:]}")
            return False
        results[label] = (wall, peak, wall_p, peak_p, job_total(out))
        print(
            f"{label:>5} samples: dry run {wall:6.1f} s, peak RSS {gib(peak)}, {job_total(out)} jobs; "
            f"start-up + parse (--list-rules) {wall_p:5.1f} s, peak RSS {gib(peak_p)}"
        )
    wall, peak, wall_p, _, _ = results[str(n)]
    print(
        f"   parse share of the {n}-sample dry run: {wall_p:.1f} of {wall:.1f} s ({100 * wall_p / wall:.0f} %); "
        f"DAG build + job listing: {wall - wall_p:.1f} s"
    )
    if profile:
        prof = base / "dry-run.prof"
        workdir = base / f"dry-{n}"
        cmd = [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(prof),
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            "-n",
        ]
        wall_prof, _, rc, out = timed(cmd, base / "dry-run-profile.log")
        if rc == 0 and prof.exists():
            stats = pstats.Stats(str(prof))
            rows = []
            for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
                if func in (
                    "_check_inputs",
                    "check_alignment_header",
                    "check_fastq_quick",
                    "build_dag",
                    "init",
                    "update",
                    "update_",
                ) or (func == "<module>" and filename.endswith("common.smk")):
                    rows.append((ct, func, filename))
            print(f"   cProfile of the dry run ({wall_prof:.1f} s with profiling overhead), cumulative seconds:")
            for ct, func, filename in sorted(rows, reverse=True)[:10]:
                print(f"     {ct:7.1f} s  {func}  ({Path(filename).name})")
        else:
            print(f"   (profiled run failed: {out[-500:]})")
    verdict_t = "OK" if wall <= GOAL_SECONDS else "OVER GOAL"
    verdict_m = "OK" if peak <= GOAL_BYTES else "OVER GOAL"
    print(
        f"RESULT dry run {n} samples: {wall:.1f} s (goal <= {GOAL_SECONDS} s: {verdict_t}), "
        f"peak {gib(peak)} (goal <= 2 GiB: {verdict_m})"
    )
    ok = wall <= GOAL_SECONDS and peak <= GOAL_BYTES
    return ok


def scaling_part(sizes: list[int], depth: float, cores: int, base: Path) -> bool:
    from dira_devtools.simulate import make_test_cohort

    print(f"\n== Part 2: local runs (--cores {cores}) on {', '.join(map(str, sizes))} samples at {depth}x")
    started = time.monotonic()
    cohort = base / "lowdepth-data"
    sheet_src = Path(make_test_cohort(str(cohort), seed=20261125, depth=depth, threads=cores))
    print(f"low-depth cohort generated in {time.monotonic() - started:.0f} s: {cohort}")
    rows = []
    for n in sizes:
        sheet = scaled_sheet(sheet_src, n, base / f"local-{n}.tsv")
        workdir = base / f"local-{n}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "test-data").symlink_to(cohort)
        make_workdir(workdir, sheet)
        cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", str(cores)]
        wall, peak, rc, out = timed(cmd, base / f"local-{n}.log")
        if rc != 0:
            print(f"local run on {n} samples failed:\n{out[-3000:]}")
            return False
        jobs = job_total(out)
        rows.append((n, wall, jobs))
        print(f"{n:>4} samples: {wall:7.1f} s wall, {wall / n:5.2f} s per sample, {jobs} jobs, peak RSS {gib(peak)}")
    if len(rows) >= 2:
        (n0, w0, _), (n1, w1, _) = rows[0], rows[-1]
        marginal = (w1 - w0) / (n1 - n0)
        print(
            f"marginal cost {n0} -> {n1} samples: {marginal:.2f} s per sample; per-sample wall "
            f"{w0 / n0:.2f} s at {n0} vs {w1 / n1:.2f} s at {n1} (ratio {(w1 / n1) / (w0 / n0):.2f}; ~1 = linear)"
        )
        for (na, wa, _), (nb, wb, _) in zip(rows, rows[1:]):
            print(f"  {na} -> {nb}: {(wb - wa) / (nb - na):.2f} s per added sample")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the dry runs (skip the 10/25/50-sample runs)")
    parser.add_argument("--jobs-only", action="store_true", help="only the Slurm job count of part 1b")
    parser.add_argument("--parse-only", action="store_true", help="only part 0: one cluster job's parse time")
    parser.add_argument("--samples", type=int, default=1000, help="samples in the dry run (default 1000)")
    parser.add_argument("--sizes", default="10,25,50", help="sample counts of the local runs (default 10,25,50)")
    parser.add_argument("--depth", type=float, default=5, help="read depth of the local-run cohort (default 5)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--profile-parse", action="store_true", help="also run the dry run under cProfile and show where the time goes"
    )
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir, removed)")
    args = parser.parse_args(argv)

    base = args.workdir or Path(tempfile.mkdtemp(prefix="dira-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        ok = job_parse_part(args.samples, base)
        if args.parse_only:
            return 0 if ok else 1
        ok = job_count_part(args.samples, base) and ok
        if args.jobs_only:
            return 0 if ok else 1
        ok = dry_run_part(args.samples, base, args.profile_parse) and ok
        if not args.quick:
            ok = scaling_part([int(s) for s in args.sizes.split(",")], args.depth, args.cores, base) and ok
    finally:
        if not args.workdir:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
