"""Deployment: the workflow as a Snakemake module from another folder, and hostile sample-sheet cells.

One real run serves both: a one-sample sheet whose BAM path holds an apostrophe and a space and whose family cell
is a shell command substitution, run through a three-line Snakefile in a folder that has neither the project's
config, resources nor test data (`module dira: snakefile: <project>/Snakefile; config: config; use rule * from
dira`). The dry run with --printshellcmds checks every shell line that gets the family or the path.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SNAKEMAKE

pytestmark = pytest.mark.workflow
HEADER = "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"


def hostile_family(marker: Path) -> str:
    """A family cell that runs `touch marker` wherever it reaches a shell unquoted or inside single quotes."""
    return f"F1'$(touch {marker})'`touch {marker}`;touch {marker}"


def module_workdir(base: Path, cohort_dir: Path, marker: Path) -> Path:
    """A folder with only a Snakefile that uses the workflow as a module, its config and a hostile sheet."""
    inputs = base / "it's inputs"
    inputs.mkdir(parents=True)
    bam = inputs / "DIRA 02.bam"
    shutil.copyfile(cohort_dir / "bam" / "DIRA-02.bam", bam)
    shutil.copyfile(cohort_dir / "bam" / "DIRA-02.bam.bai", f"{bam}.bai")
    workdir = base / "analysis"
    workdir.mkdir()
    (workdir / "samples.tsv").write_text(HEADER + f"DIRA-02\t\t\t{bam}\t{hostile_family(marker)}\t\t\tF\n")
    (workdir / "config.yaml").write_text(
        json.dumps(
            {
                "samples": "samples.tsv",
                "reference": str(cohort_dir / "reference" / "synth.fa"),
                "population_vcf": str(cohort_dir / "population" / "population_af.vcf.gz"),
            }
        )
    )
    (workdir / "Snakefile").write_text(
        'configfile: "config.yaml"\n\n\n'
        f"module dira:\n    snakefile:\n        {str(ROOT / 'Snakefile')!r}\n    config:\n        config\n\n\n"
        "use rule * from dira\n"
    )
    return workdir


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # no PATH to the project's venv: rules must not rely on an installed `dira-genotyper` script
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if Path(sys.executable).parent != Path(p)
    )
    return subprocess.run([*SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, env=env, timeout=1800)


@pytest.fixture(scope="module")
def module_run(cohort_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("module")
    marker = base / "INJECTED"
    workdir = module_workdir(base, cohort_dir, marker)
    dry = snakemake(workdir, "-n", "--printshellcmds", "--cores", "2")
    run = snakemake(workdir, "--cores", "2")
    return {"workdir": workdir, "marker": marker, "dry": dry, "run": run}


def shell_lines(text: str) -> list[str]:
    """The commands of `snakemake -n --printshellcmds` output (one per job; Snakemake prints each on one line)."""
    return [line.split("Shell command: ", 1)[1] for line in text.splitlines() if "Shell command: " in line]


def test_hostile_cells_stay_data_in_every_shell_line(module_run):
    dry = module_run["dry"]
    assert dry.returncode == 0, dry.stderr[-3000:]
    family = hostile_family(module_run["marker"])
    bam = str(module_run["workdir"].parent / "it's inputs" / "DIRA 02.bam")
    lines = shell_lines(dry.stdout + dry.stderr)
    with_sample = [line for line in lines if "--sample-json" in line]
    assert len(with_sample) == 2, lines  # validate_input and genotype
    for line in with_sample:
        words = shlex.split(line)  # what bash gets as argument words
        sample = json.loads(words[words.index("--sample-json") + 1])
        assert sample["family"] == family and sample["bam"] == bam
    extract = next(line for line in lines if " extract " in line)
    words = shlex.split(extract)
    assert words[words.index("--input") + 1] == bam
    assert not module_run["marker"].exists()


def test_module_run_from_another_folder(module_run):
    """The workflow runs as a module: the package, schemas, resources and report template are found from the
    workflow's own folder (the run folder has only Snakefile, config.yaml and samples.tsv), the hostile sample is
    genotyped, and no injected command ran."""
    run, workdir = module_run["run"], module_run["workdir"]
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert not module_run["marker"].exists(), "a sample-sheet cell was executed by the shell"
    assert not (workdir / "resources").exists()
    report = json.loads((workdir / "results" / "reports" / "DIRA-02.dira.json").read_text())
    assert report["status"] == "affected"
    assert report["family"]["family"] == hostile_family(module_run["marker"])
    assert (workdir / "results" / "multiqc" / "multiqc_report.html").stat().st_size > 100_000
    assert "DIRA-02" in (workdir / "results" / "cohort.tsv").read_text()
