"""Sub-commands that the Snakemake rules call (registered into the CLI)."""

from __future__ import annotations


def register(sub) -> None:  # noqa: ANN001 - argparse's private subparsers type
    pass
