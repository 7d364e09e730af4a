"""The files the workflow ships with the package, found from the installed package wherever the Snakefile is.

`_shipped/` inside the package holds the locus resources (`resources/`), the JSON schemas (`schemas/`) and the
MultiQC settings: in the source tree they are symbolic links to the project's own `resources/`,
`workflow/schemas/` and `workflow/multiqc_config.yaml`, and a wheel (`pip install .`) carries copies of them. A
workflow run as a module from a URL or a git host therefore reads the same files as a local clone: those of the
installed package, whose version the Snakefile checks against its own (`check_version`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dira_genotyper import __version__

SHIPPED = Path(__file__).resolve().parent / "_shipped"
PACKAGE = Path(__file__).resolve().parent


def shipped(*parts: str) -> Path:
    """A shipped file or folder, e.g. shipped("resources", "GRCh38", "build.json")."""
    return SHIPPED.joinpath(*parts)


def shipped_or_given(path: str) -> str:
    """A relative config path that does not exist from the working directory but is shipped (e.g. the default
    `resources` or `resources/known_dira_variants.tsv`): the shipped one; anything else as given."""
    if not path or os.path.isabs(path) or os.path.exists(path):
        return path
    candidate = shipped(path)
    return str(candidate) if candidate.exists() else path


def check_version(workflow_version: str, installed: str = __version__) -> None:
    """The package the jobs import is the workflow's own version, or a plain error saying how to install it."""
    if installed != workflow_version:
        raise RuntimeError(
            f"the workflow is dira-genotyper {workflow_version} but the Python environment running Snakemake has "
            f"the package at version {installed}: install the workflow's version into that environment "
            f"(`pip install <clone of the workflow at v{workflow_version}>` or `pip install -e .` in the clone)"
        )


def differs_from(folder: str | Path) -> bool:
    """Whether another copy of the package's code (e.g. the one next to a local clone's Snakefile) is not this one:
    a different set of Python files or a different byte in one of them."""
    other = Path(folder)
    if other.resolve() == PACKAGE:
        return False
    return not _same_tree(PACKAGE, other, "*.py")


def stage_package(dest: str | Path) -> Path:
    """A copy of this package (shipped files as real files) under dest/dira_genotyper, for jobs whose
    environment has the dependencies but not the package (`--sdm conda`); rewritten only when it differs, so
    an unchanged copy keeps its timestamps. Returns dest, the folder to put on PYTHONPATH."""
    dest = Path(dest)
    target = dest / PACKAGE.name
    fresh = dest / f".{PACKAGE.name}.new"
    if fresh.exists():
        shutil.rmtree(fresh)
    shutil.copytree(PACKAGE, fresh, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if target.exists() and _same_tree(fresh, target):
        shutil.rmtree(fresh)
        return dest
    if target.exists():
        shutil.rmtree(target)
    fresh.rename(target)
    return dest


def _same_tree(a: Path, b: Path, pattern: str = "*") -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    files_b = sorted(p.relative_to(b) for p in b.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return files_a == files_b and all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)
