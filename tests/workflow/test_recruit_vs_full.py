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


# Three FASTQ samples without parents, one per kind of evidence the alignment mode could change: SNVs/indels in
# trans (DIRA-03), the ~175 kb founder deletion with its breakpoints (DIRA-05) and an exon-level deletion
# (DIRA-07). Single-sample copy-number normalisation makes their reports independent of the rest of the sheet.
# (All eight bundled FASTQ samples in `full` mode would add a 9-sample run to CI's time budget.)
SUBSET = ("DIRA-03", "DIRA-05", "DIRA-07")


def fastq_sheet(out: Path) -> list[str]:
    """The sheet of SUBSET (FASTQ samples of the bundled sheet, none with parents)."""
    with open(ROOT / "config" / "samples.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    keep = [r for r in rows if r["sample"] in SUBSET]
    assert all(r["fq1"] and not r["father"] and not r["mother"] for r in keep)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(keep)
    return sorted(r["sample"] for r in keep)


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
    proc = run_snakemake(workdir, "--cores", "2", *[f"results/reports/{s}.dira.json" for s in samples])
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir, samples


def test_reports_equal_in_both_modes(workflow_run, full_run):
    full, samples = full_run
    assert samples == sorted(SUBSET)
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


def test_sample_checks_agree_in_both_modes(workflow_run, full_run):
    """Recruit mode recruits the reads at the sample-check sites too (issue #21): about as many sites are
    genotyped as in full mode (a read with an error next to a site can be lost: 2-3% of the site reads), with
    the same verdict and contamination estimate. Before, the sites outside the locus regions had no reads."""
    full, samples = full_run
    for sample in samples:
        name = f"{sample}.checks.json"
        a = json.loads((workflow_run / "results" / "checks" / name).read_text())["samples"][sample]
        b = json.loads((full / "results" / "checks" / name).read_text())["samples"][sample]
        assert a["sites_called"] >= 0.98 * b["sites_called"] > 0, sample
        assert a["verdict"] == b["verdict"] and [f["code"] for f in a["findings"]] == [f["code"] for f in b["findings"]]
        assert abs(a["contamination"]["fraction"] - b["contamination"]["fraction"]) <= 0.01, sample
