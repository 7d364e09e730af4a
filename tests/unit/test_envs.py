"""The conda environments (envs/*.yaml) and the containers pin the same versions as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(==?|>=|<=|~=|!=|<|>)?\s*([^\s;=<>!~]*)")


def normalise(name: str) -> str:
    """PEP 503 name normalisation (conda names are lower-case with dashes too)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_spec(spec: str, conda: bool) -> tuple[str, str | None]:
    """'pkg==1.2' / 'pkg=1.2' / 'pkg=1.2=build' -> (name, '1.2'); None when not pinned to one version."""
    if conda and "::" in spec:  # channel::package
        spec = spec.split("::", 1)[1]
    m = PIN.match(spec)
    assert m, f"cannot parse requirement {spec!r}"
    name, op, version = m.groups()
    if op == "==" or (conda and op == "="):
        return normalise(name), version.rstrip("*").rstrip(".")
    return normalise(name), None


def pyproject_pins() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return dict(parse_spec(s, conda=False) for s in specs)


def env_pins(path: Path) -> dict[str, str | None]:
    """Every package of a conda environment file: conda dependencies and its pip: section."""
    env = yaml.safe_load(path.read_text())
    pins: dict[str, str | None] = {}
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict):
            for spec in dep.get("pip", []):
                name, version = parse_spec(spec, conda=False)
                pins[name] = version
        else:
            name, version = parse_spec(str(dep), conda=True)
            pins.setdefault(name, version)
    return pins


def test_there_are_envs():
    assert ENVS, "no envs/*.yaml"


def test_pyproject_runtime_dependencies_are_pinned():
    loose = [name for name, version in pyproject_pins().items() if not version]
    assert not loose, f"pyproject.toml dependencies without an exact == pin: {loose}"


@pytest.mark.parametrize("env_file", ENVS, ids=lambda p: p.name)
def test_env_pins_match_pyproject(env_file):
    project = pyproject_pins()
    env = env_pins(env_file)
    shared = sorted(set(project) & set(env))
    assert shared, f"{env_file.name} names none of pyproject.toml's packages"
    mismatched = [f"{name}: {env_file.name} has {env[name]!r}, pyproject.toml has {project[name]!r}"
                  for name in shared if env[name] != project[name]]
    assert not mismatched, "\n".join(mismatched)


@pytest.mark.parametrize("env_file", ENVS, ids=lambda p: p.name)
def test_env_pins_every_package(env_file):
    loose = [name for name, version in env_pins(env_file).items() if name != "pip" and not version]
    assert not loose, f"{env_file.name}: packages without a version pin: {loose}"


@pytest.mark.parametrize("env_file", ENVS, ids=lambda p: p.name)
def test_env_python_within_requires_python(env_file):
    python = env_pins(env_file).get("python")
    if python is None:
        pytest.skip(f"{env_file.name} does not pin python")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    version = tuple(int(x) for x in python.split(".")[:2])
    for clause in requires.split(","):
        op, bound = re.match(r"\s*(>=|<=|==|<|>)\s*([\d.]+)", clause).groups()
        bound_v = tuple(int(x) for x in bound.split(".")[:2])
        ok = {">=": version >= bound_v, "<=": version <= bound_v, "<": version < bound_v,
              ">": version > bound_v, "==": version == bound_v}[op]
        assert ok, f"{env_file.name} pins python={python}, outside requires-python {requires!r}"


def test_containers_install_the_pinned_stack():
    """Both container recipes: Debian 12, BWA from apt (the envs' bwa pin is Debian 12's 0.7.17), pip install of
    the project itself (so its pins apply), and no second, unpinned pip install of a pyproject package."""
    bwa_pins = {env_pins(p).get("bwa") for p in ENVS} - {None}
    project = pyproject_pins()
    for name in ("Dockerfile", "Apptainer.def"):
        text = (ROOT / "containers" / name).read_text()
        assert re.search(r"debian:12|debian:bookworm", text), f"{name}: base image is not Debian 12"
        assert re.search(r"apt-get install[^\n]*\bbwa\b", text), f"{name}: bwa is not installed from apt"
        assert re.search(r"pip install \S*/opt/dira-genotyper", text), f"{name}: does not pip install the project"
        for line in re.findall(r"pip install ([^\n]*)", text):
            for word in line.split():
                word = word.strip("\"'")
                if not re.match(r"[A-Za-z][\w.-]*($|[=<>!~\[])", word) or "dira-genotyper" in word:
                    continue  # options, paths, shell syntax
                pkg, version = parse_spec(word, conda=False)
                if pkg in project:
                    assert version == project[pkg], f"{name}: {word} disagrees with pyproject.toml"
        for pin in bwa_pins:
            assert pin.startswith("0.7.17"), f"envs pin bwa={pin}, but Debian 12 ships bwa 0.7.17"
