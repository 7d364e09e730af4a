"""Shared fixtures: the bundled test cohort (generated once, deterministic) and one workflow run over it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


@pytest.fixture(scope="session")
def cohort_dir() -> Path:
    """test-data/ in the project (what README command 1 uses); cheap when already generated."""
    from dira_genotyper.simulate import make_test_cohort

    make_test_cohort(str(ROOT / "test-data"), seed=20261125, depth=30, threads=2)
    return ROOT / "test-data"


def make_workdir(path: Path, sheet: Path | None = None) -> Path:
    """A run folder that sees the project's config, resources and test data, with its own results/."""
    path.mkdir(parents=True, exist_ok=True)
    for name in ("resources", "test-data"):
        link = path / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    (path / "config").mkdir(exist_ok=True)
    shutil.copyfile(ROOT / "config" / "config.yaml", path / "config" / "config.yaml")
    shutil.copyfile(sheet or ROOT / "config" / "samples.tsv", path / "config" / "samples.tsv")
    return path


def run_snakemake(workdir: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="session")
def workflow_run(cohort_dir, tmp_path_factory) -> Path:
    """The default workflow over the bundled cohort, once per test session."""
    workdir = make_workdir(tmp_path_factory.mktemp("run1"))
    proc = run_snakemake(workdir, "--cores", "2")
    if proc.returncode != 0:
        pytest.fail(f"workflow failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-8000:]}")
    return workdir
