"""After a failed run (the workflow's ``onerror``): no stale report passes for current, a proband whose parent
failed is still reported, and the cohort table is written with every failure and its reason.

1. **Stale reports.** A sample's report is stale when this run did not renew it although it should have: a job
   of the sample (or of its parents) ran after the report was written (its log is newer: a changed input, a
   damaged intermediate, a changed setting), or the report's ``provenance`` no longer matches the sample's
   input files, the reference or the configuration. The report (``.dira.json``, ``.dira.html``, ``.run.json``)
   is moved to ``results/reports/stale/`` and the sample is ``failed`` in ``cohort.tsv`` with the reason; the
   next successful run writes a new report.
2. **A parent's failure.** A proband whose father or mother failed is not genotyped here (no clinical output from
   the error handler: it would be made outside any rule, log, environment or resource limit). Its row says which
   parent failed and the setting that reports it without that parent, by the genotype rule, in a rerun:
   ``--config failed_parents=[DAD]`` (:mod:`dira_genotyper.interpretation.parent_failure` says so in the report).
3. **The cohort table** is written (atomically) with one row per sample; a MultiQC page this run did not write
   goes to ``results/multiqc/stale/`` (:mod:`dira_genotyper.run.stale`).

A sample's logs are found by exact name (``logs/<stage>/{sample}.log`` or ``{sample}.{rule}.log``, the rule part
without a dot): sample ``DIRA-02``'s logs are never those of ``DIRA-02.b``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from dira_genotyper.run.cohort import cohort_rows, differential_headers, write_cohort_tsv, write_multiqc
from dira_genotyper.run.provenance import stale_reasons
from dira_genotyper.run.stale import REPORT_SUFFIXES, move_report_stale, stale_from_previous, stale_multiqc  # noqa: F401

log = logging.getLogger(__name__)

#: The proband's own evidence that the genotype step reads (paths under results/).
OWN_EVIDENCE = {
    "checked": "qc/{s}.input.json",
    "variants": "annotation/{s}.variants.json",
    "cnv": "cnv/{s}.cnv.json",
    "bins": "cnv/{s}.bins.tsv",
    "callable": "callable/{s}.callable.json",
    "bam": "locus/{s}.bam",
}
#: A parent's evidence that a proband's genotype step reads.
PARENT_EVIDENCE = ("annotation/{s}.variants.json", "cnv/{s}.cnv.json", "callable/{s}.callable.json")
GENERIC = "a job of this sample failed or did not run (see logs/)"
#: Longest error line quoted in cohort.tsv: a damaged-file error with its `rm` fix is ~400 characters.
REASON_CHARS = 800


def is_log_of(name: str, sample: str) -> bool:
    """Whether a log file name is ``{sample}.log`` or ``{sample}.{rule}.log`` (a rule part without a dot)."""
    if not name.endswith(".log"):
        return False
    stem = name[: -len(".log")]
    return stem == sample or (stem.startswith(f"{sample}.") and "." not in stem[len(sample) + 1 :])


def sample_logs(sample: str, logs: str | Path = "logs", samples: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """The rule logs of one sample, newest first, matched by exact name (no glob on the sample name).

    A name that fits two samples of the run (``DIRA-02.b.log``: ``DIRA-02.b``'s log, or ``DIRA-02``'s of a rule
    ``b``) belongs to the longer name in ``samples``: no rule's log is named with a bare word after the sample.
    """
    longer = [o for o in samples if len(o) > len(sample) and o.startswith(f"{sample}.")]
    found = [
        p
        for p in Path(logs).glob("*/*.log")
        if is_log_of(p.name, sample) and not any(is_log_of(p.name, o) for o in longer) and p.is_file()
    ]
    return sorted(found, key=os.path.getmtime, reverse=True)


def failure_reason(sample: str, logs: str | Path = "logs", samples: tuple[str, ...] | list[str] = ()) -> str:
    """The last error line from the sample's rule logs; an empty newest log is named (a full disk or a kill)."""
    found = sample_logs(sample, logs, samples)
    for path in found:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if "ERROR" in ln or "Error" in ln]
        if lines:
            return f"{lines[-1].strip()[:REASON_CHARS]} (see {path})"
    if found and found[0].stat().st_size == 0:
        return (
            f"the job that writes {found[0]} failed without writing a line (0-byte log): a full disk or a killed "
            "job; check free space (`df -h .`) and rerun"
        )
    return GENERIC


def newer_logs(sample: str, than: float, logs: str | Path = "logs", samples: tuple[str, ...] | list[str] = ()):
    """Logs of ``sample`` written after ``than`` (a report's mtime), except the report step's own log."""
    own = Path(logs) / "reports" / f"{sample}.log"
    return [p for p in sample_logs(sample, logs, samples) if p != own and os.path.getmtime(p) > than]


def has_evidence(sample: str, results: str | Path, patterns) -> bool:
    return all((Path(results) / p.format(s=sample)).exists() for p in patterns)


def rerun_without(parents: list[str]) -> str:
    """What reports a proband without its failed parents: a rerun with them in the config's failed_parents."""
    listed = ",".join(parents)
    return (
        f"to report it without parental phase, fix the parent's data or rerun with --config failed_parents=[{listed}]"
    )


def recover(
    samples: list[dict],
    reference: str,
    config: dict | None,
    results: str | Path = "results",
    logs: str | Path = "logs",
    started: float | None = None,
) -> list[dict]:
    """Mark stale reports, name the probands of failed parents, write cohort.tsv + the MultiQC table; the rows.

    ``samples`` are sheet dicts (:meth:`Sample.to_dict`); ``reference`` and ``config`` are the run's (a report
    made from another is stale); ``started``: when the run started (epoch seconds), to tell a MultiQC page this
    run did not write.
    """
    reports_dir = Path(results) / "reports"
    by_name = {s["sample"]: s for s in samples}
    names = sorted(by_name)
    failed: dict[str, str] = {}
    reports: dict[str, dict] = {}
    excluded = set((config or {}).get("failed_parents") or [])
    for name, sample in by_name.items():
        path = reports_dir / f"{name}.dira.json"
        if not path.exists():
            failed[name] = failure_reason(name, logs, names)
            kept = stale_from_previous(
                name, reports_dir, f"this run deleted it to remake it and failed: {failed[name]}"
            )
            if kept:
                failed[name] = f"{failed[name]}; the previous report was moved to {kept.parent}/"
            continue
        try:
            report = json.loads(path.read_text())
        except ValueError:
            report, why = None, [f"{path} is not valid JSON (truncated)"]
        else:
            # the parents whose data the report used (not those in failed_parents: genotyped without them)
            relatives = [name, *(p for p in (sample.get("father"), sample.get("mother")) if p and p not in excluded)]
            mtime = os.path.getmtime(path)
            renewed = [str(p) for rel in relatives for p in newer_logs(rel, mtime, logs, names)]
            why = [f"jobs ran after it was made ({', '.join(renewed[:3])}) but it was not renewed"] if renewed else []
            why += stale_reasons(report, sample, reference, config)
        if why:
            stale = move_report_stale(name, reports_dir, "; ".join(why))
            own = failure_reason(name, logs, names)
            failed[name] = (
                f"this run could not renew the report ({'; '.join(why)}); the previous report was moved to {stale}/"
                + (f"; {own}" if own != GENERIC else "")
            )
            log.warning("sample %s: stale report moved to %s: %s", name, stale, "; ".join(why))
            continue
        reports[name] = report

    for name in sorted(failed):
        sample = by_name[name]
        broken = {}
        for role in ("father", "mother"):
            parent = sample.get(role)
            if parent and (parent in failed or not has_evidence(parent, results, PARENT_EVIDENCE)):
                reason = failed.get(parent, GENERIC)
                broken[role] = (
                    f"{parent}: {reason}" if reason != GENERIC else f"{parent}: its jobs failed or did not run"
                )
        if not broken or failure_reason(name, logs, names) != GENERIC:
            continue  # no failed parent, or a failure of the sample's own, named by its own log
        who = ", ".join(f"its {role} {sample.get(role)} failed" for role in sorted(broken))
        rerun = rerun_without(sorted(sample[r] for r in broken))
        failed[name] = f"not genotyped because {who} ({'; '.join(broken.values())}); {rerun}"
        log.warning("sample %s: not genotyped because %s; %s", name, who, rerun)

    ordered = [reports[n] for n in sorted(reports)]
    rows = cohort_rows(ordered, failed)
    write_cohort_tsv(Path(results) / "cohort.tsv", rows)
    write_multiqc(Path(results) / "multiqc" / "dira_mqc.tsv", rows, differential_headers(ordered))
    page = stale_multiqc(results, started, "the run failed before MultiQC could be rerun; see cohort.tsv")
    if page:
        log.warning("MultiQC page of an earlier run moved to %s (see results/cohort.tsv for this run)", page)
    return rows
