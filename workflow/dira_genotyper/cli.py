"""Command-line entry point: `dira-genotyper <command>`. Each Snakemake rule calls one command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dira_genotyper import __version__


def _build_resources(args: argparse.Namespace) -> int:
    from dira_devtools.resources.build import build_all

    for path in build_all(Path(args.source), Path(args.out)):
        print(f"wrote {path}")
    return 0


COMMANDS: dict[str, tuple[str, callable]] = {}


def _command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv``: its first word that is no option."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser; ``command`` (see :func:`_command`): only what that command needs is imported."""
    parser = argparse.ArgumentParser(
        prog="dira-genotyper",
        description="IL1RN genotyping for DIRA. The Snakemake workflow calls these commands; "
        "they can also be run by hand. Run `snakemake --cores 2` in the project folder for the whole workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build-resources", help="regenerate resources/<build>/ from the audited locus tables")
    p.add_argument("--source", default="../shared/locus", help="folder with FACTS.md and data/ (default: %(default)s)")
    p.add_argument("--out", default="resources", help="output folder (default: %(default)s)")
    p.set_defaults(func=_build_resources)

    from dira_genotyper import commands

    commands.register(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(_command(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except Exception as exc:  # user-facing errors are printed without a traceback
        from dira_genotyper.errors import InputError

        if isinstance(exc, InputError):
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
        from dira_genotyper.inputs.diagnose import diagnose

        message = diagnose(exc, args)
        if message is None:
            raise
        import traceback

        try:  # the traceback for developers, then the plain reason as the last ERROR line (cohort.tsv shows it)
            traceback.print_exc()
            print(f"ERROR: {message}", file=sys.stderr)
        except OSError:
            pass  # the log itself may be on the full disk
        return 2


if __name__ == "__main__":
    sys.exit(main())
