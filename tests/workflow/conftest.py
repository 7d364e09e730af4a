"""Fixtures of the workflow tests: a second run of the workflow, as a Snakemake module from a bare folder, on three
samples of the bundled cohort given through hostile paths and a hostile family cell.

One run serves three properties (tests/workflow/test_deploy.py and test_cohort_truth.py): the workflow runs as a
module from another folder; sheet cells never reach a shell as code; and a second run on the same inputs writes
byte-identical reports (compared with the session's default run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SNAKEMAKE, once_per_session

MODULE_SAMPLES = ("DIRA-02", "DIRA-03", "DIRA-04")  # BAM, FASTQ, CRAM (30x; none with parents in the sheet)
HOSTILE_SAMPLE = "DIRA-04"  # gets the hostile family cell (its report's `family.family` shows it)


def hostile_family(marker: Path) -> str:
    """A family cell that runs `touch marker` wherever it reaches a shell unquoted or inside single quotes."""
    return f"F1'$(touch {marker})'`touch {marker}`;touch {marker}"


def hostile_inputs(cohort_dir: Path, folder: Path, sample: str, row: dict[str, str]) -> dict[str, str]:
    """The sample's input files under names with an apostrophe and spaces (symbolic links, indexes too)."""
    folder.mkdir(parents=True, exist_ok=True)
    new = dict(row)
    for column in ("fq1", "fq2", "bam"):
        if not row.get(column):
            continue
        src = ROOT / row[column]
        name = src.name.replace(sample, f"{sample} it's")
        (folder / name).symlink_to(src.resolve())
        for index in (".bai", ".crai"):
            if Path(f"{src}{index}").exists():
                (folder / f"{name}{index}").symlink_to(Path(f"{src}{index}").resolve())
        new[column] = str(folder / name)
    return new


def module_workdir(base: Path, cohort_dir: Path, marker: Path) -> Path:
    """A folder holding only a Snakefile that uses the workflow as a module, its config and a hostile sheet."""
    lines = (ROOT / "config" / "samples.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line.strip()]
    out = ["\t".join(header)]
    for row in rows:
        if row["sample"] not in MODULE_SAMPLES:
            continue
        new = hostile_inputs(cohort_dir, base / "it's inputs", row["sample"], row)
        if row["sample"] == HOSTILE_SAMPLE:
            new["family"] = hostile_family(marker)
        out.append("\t".join(new.get(c, "") for c in header))
    workdir = base / "analysis"
    workdir.mkdir()
    (workdir / "samples.tsv").write_text("\n".join(out) + "\n")
    config = {
        "samples": "samples.tsv",
        "reference": str(cohort_dir / "reference" / "synth.fa"),
        "population_vcf": str(cohort_dir / "population" / "population_af.vcf.gz"),
        # as config/config.yaml: the synthetic build's sample-check sites and its run-of-homozygosity length
        "sample_checks": {"sites": str(cohort_dir / "reference" / "sample_sites.tsv.gz"), "min_roh_length": 200000},
    }
    (workdir / "config.yaml").write_text(json.dumps(config))
    (workdir / "Snakefile").write_text(
        'configfile: "config.yaml"\n\n\n'
        f"module dira:\n    snakefile:\n        {str(ROOT / 'Snakefile')!r}\n    config:\n        config\n\n\n"
        "use rule * from dira\n"
    )
    return workdir


def snakemake_in(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake run in workdir with neither the project's venv on PATH nor PYTHONPATH set: rules must not rely on
    an installed `dira-genotyper` script or on the caller's environment to find the package."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != venv_bin)
    return subprocess.run([*SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, env=env, timeout=1800)


def _as_json(proc: subprocess.CompletedProcess) -> dict:
    return {"args": proc.args, "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.fixture(scope="session")
def module_run(cohort_dir, tmp_path_factory) -> dict:
    """The module run, once per test session (shared by the xdist workers)."""

    def make(base: Path) -> dict:
        marker = base / "INJECTED"
        workdir = module_workdir(base, cohort_dir, marker)
        dry = snakemake_in(workdir, "-n", "--printshellcmds", "--cores", "2")
        run = snakemake_in(workdir, "--cores", "2")
        return {"workdir": str(workdir), "marker": str(marker), "dry": _as_json(dry), "run": _as_json(run)}

    got = once_per_session(tmp_path_factory, "module", make)
    return {
        "workdir": Path(got["workdir"]),
        "marker": Path(got["marker"]),
        "dry": subprocess.CompletedProcess(**got["dry"]),
        "run": subprocess.CompletedProcess(**got["run"]),
        "base": Path(got["marker"]).parent,
    }
