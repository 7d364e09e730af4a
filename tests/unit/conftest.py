"""Fixtures shared by the unit tests: a synthetic IL1RN reference on the SYNTH transcript model."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from dira_genotyper.annotation.transcript import load_transcript

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SYNTH_GFF3 = RESOURCES / "SYNTH" / "il1rn.gff3"


def _read_cds() -> str:
    lines = (RESOURCES / "SYNTH" / "il1rn_cds_synthetic.fa").read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">"))


def write_synthetic_reference(tx, cds: str, fasta: Path, seed: int, pad: int = 2000, edit=None) -> str:  # noqa: ANN001
    """A random genome holding ``cds`` at the CDS rows of ``tx`` and GT..AG at its introns; ``edit(genome)`` may set
    more bases. Writes ``fasta`` (+ .fai) and returns the genome."""
    rng = random.Random(seed)
    genome = [rng.choice("ACGT") for _ in range(tx.end + pad)]
    offset = 0
    for start, end in tx.cds:
        genome[start - 1 : end] = cds[offset : offset + end - start + 1]
        offset += end - start + 1
    for start, end in tx.introns_5to3:
        genome[start - 1 : start + 1] = "GT"
        genome[end - 2 : end] = "AG"
    if edit is not None:
        edit(genome)
    text = "".join(genome)
    with open(fasta, "w") as out:
        out.write(">chr2\n")
        for i in range(0, len(text), 80):
            out.write(text[i : i + 80] + "\n")
    pysam.faidx(str(fasta))
    return text


@pytest.fixture(scope="session")
def synthetic_reference():
    """The writer of synthetic references (see :func:`write_synthetic_reference`)."""
    return write_synthetic_reference


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """(fasta path, transcript, genome string): the CDS placed at the SYNTH GFF3 coordinates."""
    tx = load_transcript(SYNTH_GFF3)
    fasta = tmp_path_factory.mktemp("synth") / "synth.fa"
    text = write_synthetic_reference(tx, _read_cds(), fasta, 20261125)
    return fasta, tx, text
