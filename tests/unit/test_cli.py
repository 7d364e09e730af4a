"""The command line: every command is there, and a job imports only what its own command needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dira_genotyper import commands
from dira_genotyper.cli import _command, _parser

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"
ALL_COMMANDS = {"build-resources", *commands.CORE_COMMANDS, *(c for cs in commands.PLUGIN_MODULES.values() for c in cs)}


def subcommands(parser) -> set[str]:  # noqa: ANN001
    [action] = [a for a in parser._actions if a.dest == "command"]
    return set(action.choices)


def test_help_and_unknown_words_list_every_command():
    assert subcommands(_parser(None)) == ALL_COMMANDS
    assert _command(["-v", "genotype", "--out", "x"]) == "genotype"
    assert _command(["--help"]) is None
    # a word that is no command gets the whole parser, so argparse's error lists every choice
    assert subcommands(_parser("genotpye")) == ALL_COMMANDS


@pytest.mark.parametrize("command", sorted(ALL_COMMANDS - {"build-resources"}))
def test_each_command_is_registered_for_its_own_run(command):
    assert command in subcommands(_parser(command))


def imported_by(argv: list[str]) -> set[str]:
    """The modules imported by parsing ``argv`` in a fresh interpreter (the cost every Snakemake job pays)."""
    code = (
        "import sys; from dira_genotyper.cli import _command, _parser; "
        f"_parser(_command({argv!r})).parse_args({argv!r}); print(' '.join(sorted(sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(WORKFLOW)}, check=True
    )
    return set(proc.stdout.split())


def test_a_job_does_not_import_the_other_commands_modules():
    """`genotype` and `cohort` run once per sample and once per run: they must not pay for pandas (the CNV commands)
    or the test-cohort simulator; a CNV command still gets its module."""
    argv = ["genotype", *[f"--{k}=x" for k in ("sample-json", "checked", "variants", "cnv", "bins", "callable")]]
    argv += [f"--{k}=x" for k in ("bam", "resources", "out-json", "out-html", "out-meta")]
    for light in (imported_by(argv), imported_by(["cohort", "--out-tsv=x", "--out-mqc=x"])):
        assert not {"pandas", "dira_devtools.simulate", "dira_genotyper.cnv"} & light
    cnv = imported_by(["cnv-mode", "--counts=x", "--resources=x", "--out=x"])
    assert "dira_genotyper.cnv" in cnv and "dira_devtools.simulate" not in cnv
