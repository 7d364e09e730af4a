"""Deployment: the workflow as a Snakemake module from another folder, and hostile sample-sheet cells.

The run (fixture `module_run`, tests/workflow/conftest.py): three samples whose input paths hold an apostrophe and
spaces, one with a family cell that is a shell command substitution, through a Snakefile of three statements in a
folder that has neither the project's config, resources nor test data (`module dira: snakefile: <project>/Snakefile;
config: config; use rule * from dira`).
"""

from __future__ import annotations

import json
import shlex

import pytest

from tests.workflow.conftest import HOSTILE_SAMPLE, MODULE_SAMPLES, hostile_family

pytestmark = pytest.mark.workflow


def shell_lines(text: str) -> list[str]:
    """The commands of `snakemake -n --printshellcmds` output (Snakemake prints each on one line)."""
    return [line.split("Shell command: ", 1)[1] for line in text.splitlines() if "Shell command: " in line]


def sheet(workdir) -> dict[str, dict[str, str]]:
    lines = (workdir / "samples.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return {row["sample"]: row for row in (dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:])}


def test_hostile_cells_stay_data_in_every_shell_line(module_run):
    """Each shell line, split as bash splits it, gives the sample JSON and the paths back exactly."""
    dry = module_run["dry"]
    assert dry.returncode == 0, dry.stderr[-3000:]
    rows = sheet(module_run["workdir"])
    assert "it's" in rows["DIRA-02"]["bam"] and " " in rows["DIRA-03"]["fq1"]
    lines = shell_lines(dry.stdout + dry.stderr)
    with_sample = [shlex.split(line) for line in lines if "--sample-json" in line]
    assert len(with_sample) == 2 * len(MODULE_SAMPLES), lines  # validate_input and genotype
    for words in with_sample:
        sample = json.loads(words[words.index("--sample-json") + 1])
        row = rows[sample["sample"]]
        assert (sample["family"] or "") == row["family"]
        assert (sample["bam"], sample.get("fq1") or "") == (row["bam"], row["fq1"])
    assert (
        sum(
            json.loads(w[w.index("--sample-json") + 1])["family"] == hostile_family(module_run["marker"])
            for w in with_sample
        )
        == 2
    )
    extracts = [shlex.split(line) for line in lines if " extract " in line]
    assert {w[w.index("--input") + 1] for w in extracts} >= {rows["DIRA-02"]["bam"], rows["DIRA-04"]["bam"]}
    aligns = [shlex.split(line) for line in lines if " align " in line]
    assert [w[w.index("--fq1") + 1] for w in aligns] == [rows["DIRA-03"]["fq1"]]
    assert not module_run["marker"].exists()


def test_module_run_from_another_folder(module_run):
    """The workflow runs as a module: the package, schemas, resources and report templates are found from the
    workflow's own folder (the run folder has only Snakefile, config.yaml and samples.tsv), every sample gets its
    report and the MultiQC page, and no sheet cell was executed."""
    run, workdir = module_run["run"], module_run["workdir"]
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert not module_run["marker"].exists(), "a sample-sheet cell was executed by the shell"
    assert not list(module_run["base"].rglob("INJECTED*"))
    assert not (workdir / "resources").exists() and not (workdir / "config").exists()
    for sample in MODULE_SAMPLES:
        assert (workdir / "results" / "reports" / f"{sample}.dira.html").exists()
    report = json.loads((workdir / "results" / "reports" / f"{HOSTILE_SAMPLE}.dira.json").read_text())
    assert report["family"]["family"] == hostile_family(module_run["marker"])
    html = (workdir / "results" / "multiqc" / "multiqc_report.html").read_text()
    assert all(sample in html for sample in MODULE_SAMPLES)
    cohort = (workdir / "results" / "cohort.tsv").read_text()
    assert all(sample in cohort for sample in MODULE_SAMPLES)
