"""The independent HGVS checker of tests/benchmark/bench_snv.py (class Tx, expected_names) on a - strand gene.

A 2-exon toy transcript is written as a - strand gene (hand-derived names below) and as its mirror on the + strand;
every SNV, 1-2 bp deletion and 1 bp insertion must get the same c./p. names on both strands.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pysam
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmark" / "bench_snv.py"

# transcript sense: exon 1 = c.-2..c.7, intron 1 (14 bp), exon 2 = c.8..c.*2; CDS ATG AAA GCT TTT GGG CCC TAA
EXON1, INTRON, EXON2 = "CCATGAAAG", "GTACGTCCCCCCAG", "CTTTTGGGCCCTAAGG"
FLANK_L, FLANK_R = "ACGTTGCAAC", "GATCCTAGCA"


def _rc(seq: str) -> str:
    return seq.translate(str.maketrans("ACGT", "TGCA"))[::-1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_snv_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _write(tmp: Path, strand: str):
    """Genome and GFF3 of the toy gene on ``strand`` (- strand: forward = flank, rc(exon 2), rc(intron), rc(exon 1),
    flank: exon 2 at 11-26 (CDS 13-26), intron 27-40, exon 1 at 41-49 (CDS 41-47)); + strand: its reverse
    complement, so base g of the - genome is base 60 - g of the + genome."""
    minus = FLANK_L + _rc(EXON2) + _rc(INTRON) + _rc(EXON1) + FLANK_R
    exons, cds = [(11, 26), (41, 49)], [(13, 26), (41, 47)]
    genome = minus
    if strand == "+":
        genome = _rc(minus)
        exons = [(60 - e, 60 - s) for s, e in exons]
        cds = [(60 - e, 60 - s) for s, e in cds]
    fasta = tmp / f"toy{strand}.fa"
    fasta.write_text(f">chrT\n{genome}\n")
    pysam.faidx(str(fasta))
    tid = "transcript:T1"
    rows = [f"chrT\tt\tmRNA\t11\t49\t.\t{strand}\t.\tID={tid};tag=MANE_Select"]
    rows += [f"chrT\tt\texon\t{s}\t{e}\t.\t{strand}\t.\tParent={tid}" for s, e in exons]
    rows += [f"chrT\tt\tCDS\t{s}\t{e}\t.\t{strand}\t0\tParent={tid}" for s, e in cds]
    gff3 = tmp / f"toy{strand}.gff3"
    gff3.write_text("##gff-version 3\n" + "\n".join(rows) + "\n")
    return gff3, fasta


@pytest.fixture(scope="module")
def txs(bench, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    out = {}
    for strand in "+-":
        gff3, fasta = _write(tmp, strand)
        with pysam.FastaFile(str(fasta)) as fa:
            out[strand] = bench.Tx(gff3, fa)
    return out


def _names(bench, tx, edit):
    p = bench.Planted(edit, "het", "test", "TOY")
    bench.expected_names(tx, p)
    return p.exp_c, p.exp_p, p.why_unchecked


def test_minus_strand_positions(txs) -> None:
    tx = txs["-"]
    assert tx.protein == "MKAFGP*"
    expected = {47: "1", 49: "-2", 41: "7", 26: "8", 13: "21", 12: "*1", 11: "*2", 40: "7+1", 34: "7+7", 33: "8-7",
                27: "8-1", 50: "-3", 10: "*3"}  # fmt: skip
    assert {g: tx.cpos(g) for g in expected} == expected
    assert [tx.feature(g) for g in (48, 45, 30, 20, 12, 55, 5)] == [
        "utr5", "cds", "intron1", "cds", "utr3", "upstream", "downstream"
    ]  # fmt: skip


def test_minus_strand_names(bench, txs) -> None:
    tx, sim = txs["-"], bench.sim
    cases = [
        (sim.snv("chrT", 43, "A"), ("c.5A>T", "p.(Lys2Ile)")),  # AAA -> ATA; the genome has T at c.5
        (sim.snv("chrT", 39, "G"), ("c.7+2T>C", None)),  # intronic offsets counted from exon 1's last base (41)
        (sim.deletion("chrT", 43, 43), ("c.6del", "p.(Ala3Leufs*?)")),  # AAA: 3'-most on the transcript = 5' genomic
        (sim.insertion("chrT", 20, "C"), ("c.15dup", "p.(Pro6Alafs*?)")),  # GGG + G: a dup, 3'-most copy
        (sim.insertion("chrT", 18, "A"), ("c.15_16insT", "p.(Pro6Serfs*?)")),  # flanks in transcript order
        (sim.deletion("chrT", 33, 34), ("c.8-4_8-3del", None)),  # CCCCCC in the intron, 3'-shifted on the transcript
    ]
    assert [_names(bench, tx, e)[:2] for e, _ in cases] == [want for _, want in cases]
    # the deleted C at c.7+1 can be read as c.7 (also C on the genome): the placements cross exon/intron
    assert _names(bench, tx, sim.deletion("chrT", 40, 40))[0] is None
    # 5' of the modelled transcript (c.-5 by continued numbering): not checked, as annotate_vcf names none there
    assert _names(bench, tx, sim.snv("chrT", 52, "A")) == (None, None, "upstream of the transcript model")


def test_both_strands_agree(bench, txs) -> None:
    """Each edit of the - strand gene and its mirror on the + strand (g -> 60 - g) get the same names."""
    sim, minus, plus = bench.sim, txs["-"], txs["+"]
    compared = 0
    for g in range(14, 47):
        base = minus.base(g)
        pairs = [(sim.snv("chrT", g, alt), sim.snv("chrT", 60 - g, _rc(alt))) for alt in "ACGT" if alt != base]
        pairs += [(sim.deletion("chrT", g, g + n - 1), sim.deletion("chrT", 60 - g - n + 1, 60 - g)) for n in (1, 2)]
        pairs += [(sim.insertion("chrT", g, s), sim.insertion("chrT", 59 - g, _rc(s))) for s in ("A", "G", "TC")]
        for e_minus, e_plus in pairs:
            assert _names(bench, minus, e_minus)[:2] == _names(bench, plus, e_plus)[:2], (e_minus, e_plus)
            compared += 1
    assert compared > 250
