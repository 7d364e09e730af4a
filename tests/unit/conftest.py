"""Fixtures shared by the unit tests: a synthetic IL1RN reference on the SYNTH transcript model."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from dira_genotyper.transcript import load_transcript

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SYNTH_GFF3 = RESOURCES / "SYNTH" / "il1rn.gff3"


def _read_cds() -> str:
    lines = (RESOURCES / "SYNTH" / "il1rn_cds_synthetic.fa").read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """(fasta path, transcript, genome string): the CDS placed at the SYNTH GFF3 coordinates."""
    tx = load_transcript(SYNTH_GFF3)
    cds = _read_cds()
    rng = random.Random(20261125)
    genome = [rng.choice("ACGT") for _ in range(tx.end + 2000)]
    offset = 0
    for start, end in tx.cds:
        genome[start - 1 : end] = cds[offset : offset + end - start + 1]
        offset += end - start + 1
    for start, end in tx.introns_5to3:
        genome[start - 1 : start + 1] = "GT"
        genome[end - 2 : end] = "AG"
    text = "".join(genome)
    fasta = tmp_path_factory.mktemp("synth") / "synth.fa"
    with open(fasta, "w") as out:
        out.write(">chr2\n")
        for i in range(0, len(text), 80):
            out.write(text[i : i + 80] + "\n")
    pysam.faidx(str(fasta))
    return fasta, tx, text
