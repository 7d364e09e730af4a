"""Deployment from elsewhere: the workflow as a Snakemake module whose Snakefile is a URL, and as snakedeploy
deploys it from a git repository.

- HTTP: a copy of the project (its git-tracked files) served by Python's http.server on 127.0.0.1; a bare folder's
  Snakefile says `module dira: snakefile: "http://127.0.0.1:<port>/Snakefile"`. Snakemake reads the rules, schemas,
  scripts and environment files over HTTP; the package (and the resources and schemas it ships) comes from the
  Python environment running Snakemake, at the version the served pyproject.toml names (else a plain error).
- snakedeploy: the copy committed and tagged in a local git repository, reached as
  https://github.com/dira-genotyper/dira-genotyper through git's `url.<base>.insteadOf` (no network): exactly what a
  user runs against the real host, `snakedeploy deploy-workflow <url> <dest> --tag v<version>`, which writes
  `module ...: snakefile: github(..., tag=...)`, a config/ and profiles/; Snakemake then clones that repository
  (through the same redirection) and runs from it.
Both run one sample of the bundled cohort end to end (a BAM and a CRAM sample, no parents).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SNAKEMAKE
from tests.workflow.conftest import snakemake_in

pytestmark = pytest.mark.workflow

HOST_REPO = "dira-genotyper/dira-genotyper"  # the repository name the snakedeploy test pretends to clone
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def project_copy(dest: Path) -> Path:
    """The project's git-tracked (and new, not ignored) files under dest, symbolic links kept as links."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src, out = ROOT / name, dest / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet committed
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)
    return dest


def one_sample_sheet(sample: str) -> str:
    """The bundled sheet's header and one row, its paths made absolute (the cohort lives in the project)."""
    lines = (ROOT / "config" / "samples.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t"), strict=False))
        if row["sample"] == sample:
            for column in ("fq1", "fq2", "bam"):
                if row.get(column):
                    row[column] = str(ROOT / row[column])
            return "\t".join(header) + "\n" + "\t".join(row.get(c, "") for c in header) + "\n"
    raise AssertionError(f"{sample} not in config/samples.tsv")


def run_config(cohort_dir: Path, sheet: str) -> dict:
    return {
        "samples": sheet,
        "reference": str(cohort_dir / "reference" / "synth.fa"),
        "population_vcf": str(cohort_dir / "population" / "population_af.vcf.gz"),
        "sample_checks": {"sites": str(cohort_dir / "reference" / "sample_sites.tsv.gz"), "min_roh_length": 200000},
    }


class _Served(http.server.SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        self.requested.append(self.path)


@pytest.fixture
def serve():
    """serve(folder) -> (base URL on 127.0.0.1, the list of paths requested so far); servers stop after the test."""
    servers = []

    def start(folder: Path) -> tuple[str, list[str]]:
        requested: list[str] = []
        handler = type("Handler", (_Served,), {"requested": requested})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", requested

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def http_module_workdir(base: Path, url: str, cohort_dir: Path, sample: str) -> Path:
    workdir = base / "analysis"
    workdir.mkdir(parents=True)
    (workdir / "samples.tsv").write_text(one_sample_sheet(sample))
    (workdir / "config.yaml").write_text(json.dumps(run_config(cohort_dir, "samples.tsv")))
    (workdir / "Snakefile").write_text(
        'configfile: "config.yaml"\n\n\n'
        f'module dira:\n    snakefile:\n        "{url}/Snakefile"\n    config:\n        config\n\n\n'
        "use rule * from dira\n"
    )
    return workdir


def test_module_served_over_http_runs(tmp_path, serve, cohort_dir):
    """The workflow runs from a Snakefile served over HTTP (before: refused, `runs from a local copy only`)."""
    url, requested = serve(project_copy(tmp_path / "served"))
    workdir = http_module_workdir(tmp_path, url, cohort_dir, "DIRA-09")
    dry = snakemake_in(workdir, "-n", "--cores", "2")
    assert dry.returncode == 0, dry.stderr[-4000:]
    run = snakemake_in(workdir, "--cores", "2")
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    # the workflow came over HTTP: its Snakefile, rules, version and the config schema
    assert {"/Snakefile", "/workflow/rules/common.smk", "/pyproject.toml", "/workflow/schemas/config.schema.yaml"} <= {
        p.split("?")[0] for p in requested
    }, requested
    report = json.loads((workdir / "results" / "reports" / "DIRA-09.dira.json").read_text())
    assert report["sample"] == "DIRA-09" and report["status"]
    assert (workdir / "results" / "multiqc" / "multiqc_report.html").exists()
    assert not (workdir / "resources").exists() and not (workdir / ".snakemake" / "dira-genotyper").exists()


def test_served_workflow_of_another_version_is_a_plain_error(tmp_path, serve, cohort_dir):
    """A Snakefile of another release than the installed package stops before any job, naming both versions."""
    served = project_copy(tmp_path / "served")
    pyproject = served / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'version = "{VERSION}"', 'version = "99.0.0"', 1))
    url, _ = serve(served)
    workdir = http_module_workdir(tmp_path, url, cohort_dir, "DIRA-09")
    dry = snakemake_in(workdir, "-n", "--cores", "1")
    out = dry.stdout + dry.stderr
    assert dry.returncode != 0
    assert "dira-genotyper 99.0.0" in out and f"the package at version {VERSION}" in out, out[-3000:]
    assert not (workdir / "results").exists()


def git_redirect_env(repos: Path, cache: Path) -> dict[str, str]:
    """https://github.com/<owner>/<repo> answered by repos/<owner>/<repo> (git's insteadOf; no network), and
    Snakemake's source cache in a folder of the test."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.file://{repos}/.insteadOf",
        GIT_CONFIG_VALUE_0="https://github.com/",
        XDG_CACHE_HOME=str(cache),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.org",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.org",
    )
    return env


def test_snakedeploy_deploy_workflow_from_git_runs(tmp_path, cohort_dir):
    """`snakedeploy deploy-workflow <repository> <dest> --tag v<version>`, then the deployed folder runs."""
    repo = project_copy(tmp_path / "repos" / HOST_REPO)
    env = git_redirect_env(tmp_path / "repos", tmp_path / "cache")
    release = (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "release"], ["tag", f"v{VERSION}"])
    for args in release:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    dest = tmp_path / "deployed"
    snakedeploy = Path(sys.executable).parent / "snakedeploy"
    deployed = subprocess.run(
        [str(snakedeploy), "deploy-workflow", f"https://github.com/{HOST_REPO}", str(dest), "--tag", f"v{VERSION}"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    snakefile = (dest / "workflow" / "Snakefile").read_text()
    assert f'github("{HOST_REPO}", path="Snakefile", tag="v{VERSION}")' in snakefile, snakefile
    assert (dest / "config" / "config.yaml").exists() and (dest / "profiles").is_dir()
    # the user's edits after deployment: their sheet (one CRAM sample) and their reference and data
    (dest / "config" / "samples.tsv").write_text(one_sample_sheet("DIRA-04"))
    config = yaml.safe_load((dest / "config" / "config.yaml").read_text())
    config.update(run_config(cohort_dir, "config/samples.tsv"))
    (dest / "config" / "config.yaml").write_text(yaml.safe_dump(config))

    def snakemake(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*SNAKEMAKE, *args], cwd=dest, env=env, capture_output=True, text=True, timeout=1200)

    dry = snakemake("-n", "--cores", "2")
    assert dry.returncode == 0, dry.stderr[-4000:]
    run = snakemake("--cores", "2")
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    report = json.loads((dest / "results" / "reports" / "DIRA-04.dira.json").read_text())
    assert report["sample"] == "DIRA-04" and report["status"]
    # the workflow's files came from the git repository through Snakemake's clone of it
    assert list((tmp_path / "cache").rglob(f"github.com/{HOST_REPO}"))
    assert not (dest / "resources").exists() and not (dest / "workflow" / "rules").exists()
