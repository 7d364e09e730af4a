"""The conda environments (envs/*.yaml) and the containers pin the same versions as pyproject.toml."""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(==?|>=|<=|~=|!=|<|>)?\s*([^\s;=<>!~]*)")


# conda-forge/bioconda names of PyPI distributions where they differ
CONDA_NAMES = {"python-isal": "isal", "python-edlib": "edlib"}
# distributions the environments install with pip: their pinned release is not a conda package
PIP_ONLY = {"edlib"}  # 1.3.9.post1 is a PyPI post-release


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
            pins.setdefault(CONDA_NAMES.get(name, name), version)
    return pins


def pip_section(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    return {
        parse_spec(spec, conda=False)[0]
        for dep in env.get("dependencies", [])
        if isinstance(dep, dict)
        for spec in dep.get("pip", [])
    }


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
    assert shared or "python" not in env, f"{env_file.name} names none of pyproject.toml's packages"
    mismatched = [
        f"{name}: {env_file.name} has {env[name]!r}, pyproject.toml has {project[name]!r}"
        for name in shared
        if env[name] != project[name]
    ]
    assert not mismatched, "\n".join(mismatched)


@pytest.mark.parametrize("env_file", ENVS, ids=lambda p: p.name)
def test_envs_take_from_pip_only_what_conda_does_not_carry(env_file):
    """Conda packages wherever conda-forge/bioconda carry the package at the pin (the anchors' practice)."""
    assert pip_section(env_file) <= PIP_ONLY, f"{env_file.name}: pip installs {pip_section(env_file) - PIP_ONLY}"


def test_rules_have_an_environment_per_tool():
    """The rules that run one tool have that tool's environment, not the package's: bwa_index only BWA, the QC
    scripts Python and pysam, MultiQC its own."""
    expected = {"bwa_index": "bwa.yaml", "locus_qc": "pysam.yaml", "exon_coverage_mqc": "pysam.yaml"}
    expected["multiqc"] = "multiqc.yaml"
    assert {name: Path(RULES[name]["conda"]).name for name in expected} == expected
    assert set(env_pins(ROOT / "envs" / "bwa.yaml")) == {"bwa"}


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
        ok = {
            ">=": version >= bound_v,
            "<=": version <= bound_v,
            "<": version < bound_v,
            ">": version > bound_v,
            "==": version == bound_v,
        }[op]
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


# ------------------------------------------------------------------------------------------------------------
# Every rule's environment is complete: what its shell or script runs and imports is in its conda env, statically
# (no conda channel is reachable where the tests run, so the envs are never solved here).

RULES_DIR = ROOT / "workflow" / "rules"
PACKAGE = ROOT / "workflow" / "dira_genotyper"
RULE_HEAD = re.compile(r"^(?:rule|checkpoint) (\w+):\n", re.M)
DIRECTIVE = re.compile(r"^    (\w+):(.*)\n((?:(?:        .*)?\n)*)", re.M)
# Import name -> distribution name where they differ.
DISTRIBUTION = {"yaml": "pyyaml"}
# Shell words that are not programs from an environment.
SHELL_BUILTINS = {"printf", "echo", "set", "cd", "true", "test", "mkdir", "cat"}
# Command-line programs the package runs itself (shutil.which), and the package commands that run them.
PACKAGE_PROGRAMS = {"bwa": {"align"}}


def smk_rules() -> dict[str, dict[str, str]]:
    """name -> {directive: text} of every rule in workflow/rules/*.smk (shell: the joined string literal)."""
    rules = {}
    for path in sorted(RULES_DIR.glob("*.smk")):
        text = path.read_text()
        heads = list(RULE_HEAD.finditer(text))
        for i, head in enumerate(heads):
            body = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
            body = body.split("\n\n\n")[0] + "\n"  # the rule ends at the next top-level statement
            directives = {}
            for m in DIRECTIVE.finditer(body):
                directives[m.group(1)] = (m.group(2).strip() + "\n" + m.group(3)).strip()
            if "shell" in directives:
                directives["shell"] = ast.literal_eval("(" + directives["shell"] + ")")
            if "script" in directives:
                directives["script"] = ast.literal_eval(directives["script"])
            if "conda" in directives:
                directives["conda"] = ast.literal_eval(directives["conda"])
            directives["file"] = path.name
            rules[head.group(1)] = directives
    return rules


RULES = smk_rules()
JOB_RULES = sorted(name for name, d in RULES.items() if "shell" in d or "script" in d)


def third_party_imports(paths) -> set[str]:
    """Top-level modules imported by these Python files that are neither the standard library nor the package."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {
        n
        for n in names
        if n not in sys.stdlib_module_names and n not in ("dira_genotyper", "dira_devtools", "__future__")
    }


def package_imports() -> set[str]:
    """What `python -m dira_genotyper` may import: every module of the runtime package (the developer tools, in
    ``dira_devtools``, are no rule's)."""
    return third_party_imports(PACKAGE.rglob("*.py"))


def shell_commands(shell: str) -> list[list[str]]:
    """The simple commands of a rule's shell line, as words (Snakemake placeholders kept as words)."""
    commands = []
    for part in re.split(r"\|\||&&|[|;]", shell):
        words = shlex.split(re.sub(r"\d*>>?\s*\S+|<\s*\S+|2>&1", " ", part))
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):  # VAR=value prefixes
            words.pop(0)
        if words:
            commands.append(words)
    return commands


def needs(rule: dict) -> tuple[set[str], set[str]]:
    """(programs, Python distributions) a rule runs: from its shell commands or its script's imports."""
    programs: set[str] = set()
    modules: set[str] = set()
    if "script" in rule:
        programs.add("python")
        modules |= third_party_imports([RULES_DIR / rule["script"]])
    for words in shell_commands(rule.get("shell", "")):
        exe = words[0]
        if exe in SHELL_BUILTINS:
            continue
        if exe == "{params.python:q}":
            programs.add("python")
            assert words[1] == "-m", f"python is run without -m: {words}"
            module = words[2]
            if module == "dira_genotyper":
                modules |= package_imports()
                for program, commands in PACKAGE_PROGRAMS.items():
                    if words[3] in commands:
                        programs.add(program)
            else:
                modules.add(module)
        else:
            programs.add(exe)
    return programs, {normalise(DISTRIBUTION.get(m, m)) for m in modules}


def test_rules_are_found():
    assert {"genotype", "align", "annotate", "multiqc", "locus_qc", "cnv_mode"} <= set(JOB_RULES)


def test_package_programs_are_known():
    """The programs the package looks up itself are the ones PACKAGE_PROGRAMS maps to rules (a new one fails
    here until it is mapped and added to the environments)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "simulate" not in path.parts:
            found |= set(re.findall(r"shutil\.which\(\"([^\"]+)\"\)", path.read_text()))
    assert found == set(PACKAGE_PROGRAMS)


def test_package_imports_are_pyproject_dependencies():
    runtime = {
        parse_spec(s, conda=False)[0]
        for s in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    missing = {normalise(DISTRIBUTION.get(m, m)) for m in package_imports()} - runtime
    assert not missing, f"the package imports {missing}, which pyproject.toml's dependencies do not list"


@pytest.mark.parametrize("name", JOB_RULES)
def test_rule_env_has_what_the_rule_runs(name):
    rule = RULES[name]
    assert "conda" in rule, f"rule {name} ({rule['file']}) has no conda: environment"
    env_file = (RULES_DIR / rule["conda"]).resolve()
    assert env_file.parent == ROOT / "envs" and env_file.exists(), f"rule {name}: {rule['conda']} is not in envs/"
    pins = env_pins(env_file)
    programs, distributions = needs(rule)
    assert programs or shell_commands(rule.get("shell", "")), f"rule {name}: no command found"
    program_package = {"python": "python"}
    missing = sorted({program_package.get(p, p) for p in programs} - set(pins))
    missing += sorted(distributions - set(pins))
    assert not missing, f"rule {name} runs/imports {missing}, which {env_file.name} does not provide"
    assert pins.get("python") or "python" not in programs, f"{env_file.name} does not pin python"


@pytest.mark.parametrize("name", sorted(n for n in JOB_RULES if "shell" in RULES[n]))
def test_rule_calls_programs_through_the_workflow(name):
    """The package is run as `python -m dira_genotyper` with common.smk's PACKAGE_DIR on PYTHONPATH (the folder the
    controller imported the version-checked package from, or its copy staged for --sdm conda; never an installed
    `dira-genotyper` script found on PATH); Python is the environment's (common.smk's PYTHON)."""
    rule = RULES[name]
    shell = rule["shell"]
    assert "dira-genotyper" not in shell, f"rule {name} runs the installed dira-genotyper script: {shell}"
    if "dira_genotyper" in shell:
        assert shell.startswith("PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper "), shell
        assert re.search(r"^\s*pythonpath=PACKAGE_DIR,$", rule["params"], re.M), rule["params"]
    if "{params.python:q}" in shell:
        assert re.search(r"^\s*python=PYTHON,$", rule["params"], re.M), rule["params"]


def test_common_does_not_rewrite_path():
    text = (RULES_DIR / "common.smk").read_text() + (ROOT / "Snakefile").read_text()
    assert not re.search(r"os\.environ\[[\"']PATH[\"']\]\s*=", text)
    assert 'os.environ.setdefault("PATH"' not in text


PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")


@pytest.mark.parametrize("name", sorted(n for n in JOB_RULES if "shell" in RULES[n]))
def test_shell_values_are_quoted(name):
    """No rule interpolates a value into its shell line unquoted: every {placeholder} is formatted with :q
    (shlex.quote, per item for lists), and none sits inside hand-written quotes, where a quote in the value (a
    family cell `F1'$(touch /tmp/x)'`, a path with an apostrophe) would end the quoting."""
    shell = RULES[name]["shell"]
    unquoted = [m.group(0) for m in PLACEHOLDER.finditer(shell) if not m.group(1).endswith(":q")]
    assert not unquoted, f"rule {name} interpolates {unquoted} without :q: {shell}"
    outside = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: "" if PLACEHOLDER.search(m.group(0)) is None else "!", shell)
    assert "!" not in outside, f"rule {name} puts a placeholder inside quotes: {shell}"


def test_every_rule_has_the_container_of_the_workflow_version():
    """The Snakefile's global `container:` (config `container`, else docker://dira-genotyper:<version>) comes before
    the first rule, and the image recipes carry the version of pyproject.toml."""
    snakefile = (ROOT / "Snakefile").read_text()
    assert re.search(r"^container: CONTAINER$", snakefile, re.M)
    assert snakefile.index("container: CONTAINER") < snakefile.index('include: "workflow/rules/inputs.smk"')
    common = (RULES_DIR / "common.smk").read_text()
    assert 'CONTAINER = config.get("container") or f"docker://dira-genotyper:{WORKFLOW_VERSION}"' in common
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["container"]["default"] == ""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"org.opencontainers.image.version {version}" in (ROOT / "containers" / "Apptainer.def").read_text()
    assert f"dira-genotyper:{version}" in (ROOT / "containers" / "Dockerfile").read_text()
