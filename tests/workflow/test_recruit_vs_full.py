"""FASTQ samples: `alignment.mode: recruit` (the default run) and `full` give the same genotype reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pysam
import pytest

from tests.conftest import ROOT, make_workdir, run_snakemake

pytestmark = pytest.mark.workflow
# What must not depend on the mode: status, alleles, copy numbers, deletions (with their breakpoints).
COMPARED = ("status", "alleles", "copy_number", "exon_copy_number", "deletions", "phase")


def genotype(path: Path) -> dict:
    report = json.loads(path.read_text())
    out = {"DIRA": {key: report.get(key) for key in COMPARED}}
    for disease, section in (report.get("differential") or {}).items():
        out[disease] = {key: section.get(key) for key in COMPARED}
    return out


def fastq_sheet(out: Path) -> list[str]:
    """The FASTQ samples of the bundled sheet and the parents their family checks read."""
    with open(ROOT / "config" / "samples.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    fastq = {r["sample"] for r in rows if r["fq1"]}
    keep = fastq | {r[p] for r in rows if r["sample"] in fastq for p in ("father", "mother") if r[p]}
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(r for r in rows if r["sample"] in keep)
    return sorted(fastq)


@pytest.fixture(scope="module")
def full_run(workflow_run, tmp_path_factory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("full")
    sheet = folder / "sheet.tsv"
    samples = fastq_sheet(sheet)
    workdir = make_workdir(folder / "run", sheet)
    config = workdir / "config" / "config.yaml"
    text = config.read_text()
    assert "  mode: recruit" in text
    config.write_text(text.replace("  mode: recruit", "  mode: full"))
    proc = run_snakemake(workdir, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir, samples


def test_reports_equal_in_both_modes(workflow_run, full_run):
    full, samples = full_run
    assert len(samples) >= 8
    for sample in samples:
        name = f"{sample}.dira.json"
        assert genotype(workflow_run / "results" / "reports" / name) == genotype(full / "results" / "reports" / name)


def test_modes_really_differ(workflow_run, full_run):
    """Recruit mode aligned only the recruited pairs (its log says how many); full mode aligned every read."""
    full, samples = full_run
    for sample in samples:
        log = (workflow_run / "logs" / "mapping" / f"{sample}.align.log").read_text()
        assert "recruited" in log and "recruited" not in (full / "logs" / "mapping" / f"{sample}.align.log").read_text()
        with pysam.AlignmentFile(str(workflow_run / "results" / "mapping" / f"{sample}.bam")) as a:
            recruited = a.mapped + a.unmapped
        with pysam.AlignmentFile(str(full / "results" / "mapping" / f"{sample}.bam")) as b:
            everything = b.mapped + b.unmapped
        assert recruited < everything, sample
