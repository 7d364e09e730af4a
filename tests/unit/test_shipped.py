"""The files the package ships (dira_genotyper.shipped): what a workflow run from a URL or a git host reads."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from dira_genotyper import __version__, shipped
from dira_genotyper.inputs import config_check
from dira_genotyper.interpretation import genotype

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_files_are_the_projects_own():
    """resources/, workflow/schemas/ and the MultiQC settings, byte for byte (the links are intact)."""
    for name, project in (
        ("resources", ROOT / "resources"),
        ("schemas", ROOT / "workflow" / "schemas"),
        ("multiqc_config.yaml", ROOT / "workflow" / "multiqc_config.yaml"),
    ):
        files = [project] if project.is_file() else sorted(p for p in project.rglob("*") if p.is_file())
        assert files, name
        for path in files:
            rel = path.relative_to(project.parent)
            assert shipped.shipped(*rel.parts).read_bytes() == path.read_bytes(), rel


def test_package_data_carries_the_shipped_folder():
    """A wheel (`pip install .`, the container images) holds the shipped files, not only an editable install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "_shipped/**/*" in project["tool"]["setuptools"]["package-data"]["dira_genotyper"]


def test_the_package_reads_its_schemas_from_the_shipped_folder():
    """Not from a path above the package, which a wheel installed in site-packages does not have."""
    assert config_check.CONFIG_SCHEMA == shipped.shipped("schemas", "config.schema.yaml")
    assert genotype.SCHEMA == shipped.shipped("schemas", "dira_report.schema.json")
    assert shipped.SHIPPED.parent == Path(genotype.__file__).resolve().parents[1]


def test_shipped_or_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shipped.shipped_or_given("resources") == str(shipped.shipped("resources"))
    assert shipped.shipped_or_given("resources/known_dira_variants.tsv") == str(
        shipped.shipped("resources", "known_dira_variants.tsv")
    )
    assert shipped.shipped_or_given("resources/nonexistent.tsv") == "resources/nonexistent.tsv"
    assert shipped.shipped_or_given("") == ""
    (tmp_path / "resources").mkdir()  # the user's own folder of that name wins
    assert shipped.shipped_or_given("resources") == "resources"
    assert shipped.shipped_or_given("/abs/resources") == "/abs/resources"


def test_check_version():
    shipped.check_version(__version__)
    with pytest.raises(RuntimeError, match=r"dira-genotyper 2\.0\.0 .* version 1\.0\.0"):
        shipped.check_version("2.0.0", installed="1.0.0")


def test_stage_package_copies_once_and_renews_a_changed_copy(tmp_path):
    dest = shipped.stage_package(tmp_path / "stage")
    staged = dest / "dira_genotyper"
    assert (staged / "__init__.py").read_text() == (shipped.PACKAGE / "__init__.py").read_text()
    schema = staged / "_shipped" / "schemas" / "dira_report.schema.json"
    assert schema.is_file() and not schema.is_symlink() and not (staged / "_shipped" / "schemas").is_symlink()
    assert not list(staged.rglob("__pycache__"))
    os.utime(schema, (1, 1))
    shipped.stage_package(dest)  # unchanged: left as it is
    assert schema.stat().st_mtime == 1
    (staged / "__init__.py").write_text("stale")
    shipped.stage_package(dest)
    assert (staged / "__init__.py").read_text() == (shipped.PACKAGE / "__init__.py").read_text()
    assert not list(dest.glob(".*new"))


def test_differs_from(tmp_path):
    assert not shipped.differs_from(shipped.PACKAGE)
    copy = shipped.stage_package(tmp_path) / "dira_genotyper"
    assert not shipped.differs_from(copy)  # the same code elsewhere (a wheel install next to a clone)
    (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# edited\n")
    assert shipped.differs_from(copy)
    (copy / "cli.py").unlink()
    assert shipped.differs_from(copy)
