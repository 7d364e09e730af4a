"""Shared fixtures: the bundled test cohort (generated once, deterministic) and one workflow run over it.

The gate runs pytest with pytest-xdist workers (scripts/test.sh). A session fixture there is made once per worker,
so the expensive ones (the cohort, workflow runs) go through :func:`once_per_session`: the first worker that needs
one makes it under a file lock in the session's shared temporary folder, the others wait for it and reuse it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def shared_tmp(tmp_path_factory) -> Path:  # noqa: ANN001 - pytest's TempPathFactory
    """The session's temporary folder, the same for every pytest-xdist worker (each has its own folder below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def session_lock(tmp_path_factory, name: str):  # noqa: ANN001
    """An exclusive lock shared by the session's workers."""
    with open(shared_tmp(tmp_path_factory) / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once_per_session(tmp_path_factory, name: str, make) -> dict:  # noqa: ANN001
    """``make(folder)`` once per test session, whichever worker asks first; its JSON result for every worker.

    ``make`` gets a new folder ``name`` in the shared temporary folder and returns what the fixture needs as JSON
    (paths as strings, a failed run as its return code and output: a failure is recorded, not redone)."""
    root = shared_tmp(tmp_path_factory)
    record = root / f"{name}.json"
    with session_lock(tmp_path_factory, name):
        if not record.exists():
            folder = root / name
            folder.mkdir()
            record.write_text(json.dumps(make(folder)))
    return json.loads(record.read_text())


@pytest.fixture(scope="session")
def cohort_dir(tmp_path_factory) -> Path:
    """test-data/ in the project (what README command 1 uses); cheap when already generated."""
    from dira_devtools.simulate import make_test_cohort

    with session_lock(tmp_path_factory, "cohort"):
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


def _default_run(folder: Path) -> dict:
    workdir = make_workdir(folder)
    proc = run_snakemake(workdir, "--cores", "2")
    output = f"{proc.stdout[-5000:]}\n{proc.stderr[-8000:]}"
    return {"workdir": str(workdir), "returncode": proc.returncode, "output": output}


@pytest.fixture(scope="session")
def workflow_run(cohort_dir, tmp_path_factory) -> Path:
    """The default workflow over the bundled cohort, once per test session (shared by the xdist workers)."""
    run = once_per_session(tmp_path_factory, "run1", _default_run)
    if run["returncode"] != 0:
        pytest.fail(f"workflow failed:\n{run['output']}")
    return Path(run["workdir"])


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    """Modules of tests/workflow that need the default run (`workflow_run`) go after those that do not. Under xdist a
    worker that reached them while the other worker makes the run (tests/slurm, collected first, starts it) would only
    wait; this way it first does the bad-input runs and the module run."""
    waits = {item.module.__name__ for item in items if "workflow_run" in item.fixturenames}
    items.sort(key=lambda item: item.path.parent.name == "workflow" and item.module.__name__ in waits)
