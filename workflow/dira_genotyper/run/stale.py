"""Nothing an earlier run wrote passes for the outcome of a failed run, and nothing is deleted.

Results that a failed run did not renew are moved to a ``stale/`` folder beside them, with a line in
``stale/why.txt`` saying when and why (a later move of the same file replaces the older stale copy):

- **A failure in a job** (``onerror``): :mod:`dira_genotyper.run.recovery` moves each sample report it cannot
  vouch for to ``results/reports/stale/``, and :func:`stale_multiqc` the MultiQC page when this run did not
  write it (MultiQC needs every sample's QC, so after a failed sample it never reruns and would show the old
  statuses). ``cohort.tsv`` and ``dira_mqc.tsv`` are rewritten with every failure.
- **A failure before any job** (a sheet, config or input-file check at parse time): :func:`mark_run_failed`
  moves ``cohort.tsv``, the MultiQC page and table and every sample report to their ``stale/`` folders: the
  sheet or the configuration that the run was asked to use could not be read, so no earlier result can be
  said to be its result. The next successful run remakes the reports from the kept intermediates (the
  genotype step only, seconds per sample). Not on a dry run (``snakemake -n``), a lint, a DAG or a summary: only
  a run that would have executed jobs moves anything.
- **A report deleted by Snakemake before its job reran** (a changed or damaged input of the genotype step):
  :func:`keep_previous_reports` (``onstart``) hard-links every report into ``results/reports/.previous/``
  before any job; when the job then fails, :func:`stale_from_previous` moves the previous copy to ``stale/``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

REPORT_SUFFIXES = (".dira.json", ".dira.html", ".run.json")
STALE = "stale"
PREVIOUS = ".previous"
MULTIQC_PAGE = "multiqc/multiqc_report.html"
MULTIQC_TABLE = "multiqc/dira_mqc.tsv"


def move_to_stale(path: str | Path, why: str, stale: str | Path | None = None) -> Path | None:
    """Move ``path`` to ``stale`` (default: ``stale/`` beside it; an older stale copy is replaced), noting why in
    its ``why.txt``; the new path, or None when there is no such file."""
    path = Path(path)
    if not path.is_file():
        return None
    stale = Path(stale) if stale else path.parent / STALE
    stale.mkdir(parents=True, exist_ok=True)
    target = stale / path.name
    os.replace(path, target)
    with open(stale / "why.txt", "a", encoding="utf-8") as note:
        note.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\t{path.name}\t{' '.join(why.split())}\n")
    return target


def report_files(sample: str, reports: str | Path) -> list[Path]:
    return [Path(reports) / f"{sample}{suffix}" for suffix in REPORT_SUFFIXES]


def move_report_stale(sample: str, reports: str | Path, why: str = "not renewed by a failed run") -> Path:
    """Move a sample's report files to ``<reports>/stale/``; the stale folder."""
    for path in report_files(sample, reports):
        move_to_stale(path, why)
    return Path(reports) / STALE


def keep_previous_reports(reports: str | Path) -> int:
    """``onstart``: hard-link (else copy) every report into ``<reports>/.previous/`` (replacing the last run's
    links), so a report that Snakemake deletes before rerunning its job is not lost if the job fails."""
    reports = Path(reports)
    previous = reports / PREVIOUS
    if previous.exists():
        for kept in sorted(previous.iterdir()):  # a run killed before its recovery: its deleted reports
            if not (reports / kept.name).exists():
                move_to_stale(kept, "an earlier run deleted it to remake it and did not finish", reports / STALE)
        shutil.rmtree(previous)  # the rest are links of reports that are current or were renewed
    kept = 0
    for path in sorted(p for suffix in REPORT_SUFFIXES for p in reports.glob(f"*{suffix}")):
        previous.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, previous / path.name)
        except OSError:
            shutil.copy2(path, previous / path.name)
        kept += 1
    return kept


def stale_from_previous(sample: str, reports: str | Path, why: str) -> Path | None:
    """The report of ``sample`` that was there when the run started but is gone now (deleted by Snakemake before
    its job, which then failed): moved from ``.previous/`` to ``stale/``; the stale JSON path or None."""
    reports = Path(reports)
    if (reports / f"{sample}.dira.json").exists():
        return None
    moved = [move_to_stale(reports / PREVIOUS / p.name, why, reports / STALE) for p in report_files(sample, reports)]
    return moved[0]


def stale_multiqc(results: str | Path, started: float | None, why: str) -> Path | None:
    """``onerror``: the MultiQC page, when this run (started at ``started``, epoch seconds) did not write it."""
    page = Path(results) / MULTIQC_PAGE
    if started is None or not page.is_file() or os.path.getmtime(page) >= started:
        return None
    return move_to_stale(page, why)


def mark_run_failed(results: str | Path, reason: str) -> list[Path]:
    """A failure before any job: every cohort summary and sample report of an earlier run to ``stale/``."""
    results = Path(results)
    why = f"a later run failed before any job: {reason}"
    moved = [move_to_stale(results / name, why) for name in ("cohort.tsv", MULTIQC_TABLE, MULTIQC_PAGE)]
    reports = results / "reports"
    for path in sorted(p for suffix in REPORT_SUFFIXES for p in reports.glob(f"*{suffix}")):
        moved.append(move_to_stale(path, why))
    return [p for p in moved if p]


#: Options of the ``snakemake`` command line under which it parses the Snakefile but runs no job (snakemake.cli's
#: ``args_to_api``: the branches before the one that calls ``execute_workflow``).
NO_JOB_OPTIONS = (
    "dryrun",
    "touch",
    "lint",
    "list_target_rules",
    "list_rules",
    "print_compilation",
    "containerize",
    "generate_unit_tests",
    "dag",
    "rulegraph",
    "filegraph",
    "d3dag",
    "unlock",
    "cleanup_metadata",
    "conda_cleanup_envs",
    "conda_create_envs_only",
    "list_conda_envs",
    "cleanup_shadow",
    "container_cleanup_images",
    "list_changes",
    "list_input_changes",
    "list_params_changes",
    "list_untracked",
    "summary",
    "detailed_summary",
    "archive",
    "delete_all_output",
    "delete_temp_output",
)


def executes_jobs(workflow) -> bool:
    """Whether Snakemake parses the Snakefile for a run that would execute jobs: the main process of the
    ``snakemake`` command, with none of :data:`NO_JOB_OPTIONS` (a dry run, a lint, ``--dag``, ``--summary``,
    ``--unlock``, ...) nor ``--report`` without ``--report-after-run``. Snakemake parses the Snakefile before it
    picks the action, so the action is read from the command line's parsed arguments; a parse from the Python
    API or an unknown caller counts as no run (nothing is moved)."""
    if not workflow.is_main_process or workflow.output_settings.dryrun:
        return False
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_code.co_name == "args_to_api" and Path(frame.f_code.co_filename).name == "cli.py"
    ):
        frame = frame.f_back
    args = frame.f_locals.get("args") if frame is not None else None
    if args is None:
        return False
    if getattr(args, "report", None) and not getattr(args, "report_after_run", False):
        return False
    return not any(getattr(args, option, None) for option in NO_JOB_OPTIONS)
