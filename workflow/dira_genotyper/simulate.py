"""Deterministic simulator: synthetic reference, haplotypes, Illumina-like paired-end reads, test cohort.

Everything here is seeded and byte-reproducible: the same seed gives the same reference, the same FASTQ bytes
(gzip with mtime 0) and, through ``bwa mem -K`` with a fixed batch size, the same BAM records.

Coordinates are read from the build's resource files (``build.json``, ``il1rn.gff3``, ``genes.tsv``,
``exons.tsv``, ``targets.bed``, ``controls.bed``); nothing here holds a genomic coordinate. Positions in
this module are 1-based inclusive unless a name says ``0`` / ``bed`` (0-based half-open).

Public entry points
-------------------
- :func:`make_reference` writes the synthetic reference (random sequence with regional GC variation, the
  IL1RN MANE CDS at its CDS coordinates, canonical splice motifs, diverged repeat copies at the RepeatMasker
  positions of ``mask.bed`` with young copies' siblings and a segmental duplication on a ``decoy`` contig).
- :class:`Edit` and its helpers (:func:`snv`, :func:`deletion`, :func:`insertion`, :func:`edit_from_hgvs`,
  :func:`cds_to_genomic`) describe haplotypes; :func:`apply_edits` builds a haplotype's sequence.
- :func:`simulate_reads` / :func:`simulate_sample` write paired-end FASTQ (WGS-like or exome-like).
- :func:`align_to_bam` aligns with bwa mem and sorts/indexes with pysam (optionally writes CRAM).
- :func:`make_test_cohort` writes the bundled cohort (``dira-genotyper test-cohort``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from . import __version__
from .locus import read_bed

#: Bumped whenever the simulator's output for a given seed changes (invalidates test-data stamps).
SIM_VERSION = "3"
DITRA_FOUNDER = "c.80T>C"  # IL36RN p.(Leu27Pro), the Tunisian founder allele (resources/known_ditra_variants.tsv)
DEFAULT_SEED = 20261125
READ_LENGTH = 150
MAX_INDEL = 50  # edits removing more reference bases than this are "deletion" (structural), else "indel"

# Fragment sizes and errors -------------------------------------------------------------------------------
FRAGMENT_MEAN = 350.0
FRAGMENT_SD = 40.0
FRAGMENT_MIN = 200
FRAGMENT_MAX = 600
SUB_RATE_FIRST = 0.001  # substitution error rate at cycle 1 of read 1
SUB_RATE_LAST = 0.010  # ... at the last cycle of read 1
READ2_FACTOR = 1.5  # read 2 is worse
INDEL_RATE = 1e-5  # 1-bp indel errors per base
N_RATE_FIRST = 2e-4  # no-calls (N, Q2) in the first two cycles
N_RATE = 2e-5  # ... elsewhere
Q_HIGH = (30, 40)  # quality of "good" bases (inclusive range)
Q_LOW = (5, 20)  # quality of "poor" bases; the poor fraction per cycle is solved to give the error rate
Q_NOCALL = 2

# GC bias: acceptance = exp(-0.5 ((gc - peak) / width)^2); 0.16 gives ~35% loss at GC 0.30 and 0.60
GC_PEAK = 0.45
GC_WIDTH = 0.16

# Reference ---------------------------------------------------------------------------------------------
GC_BLOCK_BP = (2000, 8000)
GC_RANGE = (0.35, 0.58)
MAX_HOMOPOLYMER = 8

# Exome-like capture ------------------------------------------------------------------------------------
# Repeats of the synthetic reference (:func:`lay_repeats`). Each RepeatMasker interval of the build's
# ``mask.bed`` (real positions, shifted onto SYNTH) gets a diverged copy of a made-up family consensus: short
# intervals simple repeats, mid-size Alu-like, long L1-like. A share of the copies is "young" (little
# divergence) and has a near-identical sibling on an unlinked decoy contig, as recent insertions have in real
# genomes, so reads there come with MAPQ ~0; the decoy also carries more copies of every family and one
# segmental duplication of the window. Exons (+/- REPEAT_EXON_PAD) are never overwritten.
DECOY_CONTIG = "decoy"
DECOY_LENGTH = 150_000  # minimum; grows with the inserts
ALU_LENGTH = 300
L1_LENGTH = 6_000
OLD_FAMILY_LENGTH = 260  # MIR/DNA-transposon-like, only old copies
SIMPLE_MAX_BP = 80  # intervals up to this long become simple repeats
ALU_MAX_BP = 420  # ... up to this long Alu-like; longer L1-like (old ones alternate with the old family)
SIMPLE_UNITS = ("CA", "GAA", "TTTC", "AATG", "GGGAGA", "TG", "CCT")
YOUNG_SHARE = {"alu": 0.05, "l1": 0.20, "simple": 0.0, "old": 0.0}  # more made bwa mem > 2x slower
YOUNG_DIVERGENCE = (0.005, 0.03)  # from the consensus
OLD_DIVERGENCE = (0.12, 0.25)
# Subfamilies per family, each its master diverged by SUBFAMILY_DIVERGENCE: as in real genomes, and it keeps
# the copy number of any one seed k-mer low enough for bwa mem to stay fast (one consensus for ~1,500 copies
# made alignment 3x slower).
SUBFAMILIES = {"alu": 8, "l1": 4, "old": 8}
SUBFAMILY_DIVERGENCE = 0.15
SIBLING_DIVERGENCE = (0.002, 0.012)  # a young copy's decoy sibling, from the copy itself
DECOY_COPIES = {"alu": 60, "l1": 8, "old": 20, "simple": 20}
DECOY_DIVERGENCE = (0.01, 0.06)
SEGDUP_BP = 5_000
SEGDUP_DIVERGENCE = 0.015
REPEAT_EXON_PAD = 20

CAPTURE_PAD = 150  # fragments must overlap a bait +/- this many bp
CONTROL_BAIT_EVERY = 3000  # pseudo-exon baits laid in the controls.bed regions (for normalisation)
CONTROL_BAIT_LEN = 200

_BASES = np.frombuffer(b"ACGTN", dtype=np.uint8)
_ENCODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _ENCODE[_b] = _i
    _ENCODE[_b + 32] = _i  # lower case
_COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)
_COMP_STR = str.maketrans("ACGTNacgtn", "TGCANtgcan")

_CODON_TABLE = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        ((x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}


def translate(seq: str) -> str:
    """Translate a coding sequence (standard code; ``*`` for stops)."""
    seq = seq.upper()
    return "".join(_CODON_TABLE.get(seq[i : i + 3], "X") for i in range(0, len(seq) - 2, 3))


def revcomp(seq: str) -> str:
    return seq.translate(_COMP_STR)[::-1]


def _seed_for(seed: int, *labels: str) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed)] + [zlib.crc32(label.encode()) for label in labels])


# ---------------------------------------------------------------------------------------------------------
# Resource files
# ---------------------------------------------------------------------------------------------------------


def default_resources_dir() -> Path:
    """``resources/SYNTH`` of the project this package is installed from (editable install)."""
    return Path(__file__).resolve().parents[2] / "resources" / "SYNTH"


@dataclass(frozen=True)
class BuildInfo:
    build: str
    locus_contig: str
    contigs: dict[str, int]  # in FASTA order: locus contig first, then the extra contigs


def read_build(resources_dir: str | Path) -> BuildInfo:
    data = json.loads((Path(resources_dir) / "build.json").read_text())
    contigs = {data["locus_contig"]: int(data["locus_contig_length"])}
    contigs.update({name: int(length) for name, length in data.get("extra_contigs", {}).items()})
    return BuildInfo(data.get("build", ""), data["locus_contig"], contigs)


@dataclass(frozen=True)
class GeneRecord:
    name: str
    chrom: str
    start: int
    end: int
    strand: str
    exons: tuple[tuple[int, int], ...]  # 1-based inclusive, in exon-number (transcript) order


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_genes(resources_dir: str | Path) -> dict[str, GeneRecord]:
    """Genes of ``genes.tsv`` (in file order) with their exons from ``exons.tsv``."""
    resources_dir = Path(resources_dir)
    exons: dict[str, list[tuple[int, int, int]]] = {}
    for row in _read_tsv(resources_dir / "exons.tsv"):
        exons.setdefault(row["gene"], []).append((int(row["exon"]), int(row["start"]), int(row["end"])))
    genes = {}
    for row in _read_tsv(resources_dir / "genes.tsv"):
        ex = tuple((s, e) for _, s, e in sorted(exons.get(row["gene"], [])))
        genes[row["gene"]] = GeneRecord(
            row["gene"], row["chrom"], int(row["start"]), int(row["end"]), row["strand"], ex
        )
    return genes


@dataclass(frozen=True)
class Transcript:
    """The MANE transcript of ``il1rn.gff3``; exons and CDS pieces in transcript order, 1-based inclusive."""

    gene: str
    chrom: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...]

    @property
    def cds_length(self) -> int:
        return sum(e - s + 1 for s, e in self.cds)


def _gff_attributes(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.strip().split(";") if "=" in item)


@functools.lru_cache(maxsize=16)
def _read_transcript_cached(path: str, mtime: float) -> Transcript:
    mrna_ids: dict[str, dict[str, str]] = {}
    rows = []
    with open(path) as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            attrs = _gff_attributes(f[8])
            rows.append((f[0], f[2], int(f[3]), int(f[4]), f[6], attrs))
            if f[2] in ("mRNA", "transcript"):
                mrna_ids[attrs.get("ID", "")] = attrs
    mane = [tid for tid, a in mrna_ids.items() if "MANE_Select" in a.get("tag", "")] or list(mrna_ids)
    if not mane:
        raise ValueError(f"{path}: no mRNA row")
    tid = mane[0]
    exon_rows = [r for r in rows if r[1] == "exon" and r[5].get("Parent") == tid]
    cds_rows = [r for r in rows if r[1] == "CDS" and r[5].get("Parent") == tid]
    strand = exon_rows[0][4]
    chrom = exon_rows[0][0]
    reverse = strand == "-"
    exons = tuple(sorted(((r[2], r[3]) for r in exon_rows), reverse=reverse))
    cds = tuple(sorted(((r[2], r[3]) for r in cds_rows), reverse=reverse))
    gene = ""
    for r in rows:
        if r[1] == "gene":
            gene = r[5].get("Name", "")
    return Transcript(gene, chrom, strand, exons, cds)


def read_transcript(resources_dir: str | Path, gene: str | None = None) -> Transcript:
    """The MANE transcript of the target gene (``il1rn.gff3``) or of a differential ``gene`` (``<gene>.gff3``)."""
    path = Path(resources_dir) / f"{(gene or 'IL1RN').lower()}.gff3"
    return _read_transcript_cached(str(path), path.stat().st_mtime)


def read_synthetic_cds(resources_dir: str | Path, gene: str | None = None) -> str:
    lines = (Path(resources_dir) / f"{(gene or 'IL1RN').lower()}_cds_synthetic.fa").read_text().splitlines()
    return "".join(line.strip() for line in lines if line and not line.startswith(">")).upper()


def differential_diseases(resources_dir: str | Path) -> list[str]:
    meta = json.loads((Path(resources_dir) / "build.json").read_text())
    return [d["disease"] for d in meta.get("differential", [])]


def differential_genes(resources_dir: str | Path) -> list[str]:
    """Genes of the build's differential diagnoses (build.json ``differential``)."""
    meta = json.loads((Path(resources_dir) / "build.json").read_text())
    return [d["gene"] for d in meta.get("differential", [])]


# ---------------------------------------------------------------------------------------------------------
# CDS <-> genome
# ---------------------------------------------------------------------------------------------------------


def cds_to_genomic(resources_dir: str | Path, c_pos: int, gene: str | None = None) -> int:
    """Genomic position (1-based) of CDS position ``c.<c_pos>`` of the MANE transcript in ``il1rn.gff3`` (or
    ``<gene>.gff3``)."""
    tx = read_transcript(resources_dir, gene)
    if not 1 <= c_pos <= tx.cds_length:
        raise ValueError(f"c.{c_pos} is outside the CDS (1..{tx.cds_length})")
    remaining = c_pos
    for s, e in tx.cds:
        length = e - s + 1
        if remaining <= length:
            return s + remaining - 1 if tx.strand == "+" else e - remaining + 1
        remaining -= length
    raise AssertionError("unreachable")


def genomic_to_hgvs_c(resources_dir: str | Path, pos: int) -> str | None:
    """HGVS c. position (without ``c.``) of a genomic position, e.g. ``160``, ``206-800``, ``-5``, ``*12``.

    Exonic, intronic (offset from the nearest exon end) and UTR positions are named; positions outside the
    transcript give None.
    """
    tx = read_transcript(resources_dir)
    plus = tx.strand == "+"

    def tpos(p: int) -> int | None:  # 1-based position on the mRNA, None if not exonic
        t = 0
        for s, e in tx.exons:
            if s <= p <= e:
                return t + (p - s + 1 if plus else e - p + 1)
            t += e - s + 1
        return None

    first_cds = tx.cds[0][0] if plus else tx.cds[0][1]
    last_cds = tx.cds[-1][1] if plus else tx.cds[-1][0]
    t_cs, t_ce = tpos(first_cds), tpos(last_cds)

    def label(t: int) -> str:
        if t < t_cs:
            return f"-{t_cs - t}"
        if t > t_ce:
            return f"*{t - t_ce}"
        return str(t - t_cs + 1)

    t = tpos(pos)
    if t is not None:
        return label(t)
    for (s1, e1), (s2, e2) in zip(tx.exons, tx.exons[1:], strict=False):
        # intron between consecutive exons (transcript order)
        if plus and e1 < pos < s2:
            up, down = pos - e1, s2 - pos
            return f"{label(tpos(e1))}+{up}" if up <= down else f"{label(tpos(s2))}-{down}"
        if not plus and e2 < pos < s1:
            up, down = s1 - pos, pos - e2
            return f"{label(tpos(s1))}+{up}" if up <= down else f"{label(tpos(e2))}-{down}"
    return None


# ---------------------------------------------------------------------------------------------------------
# Reference
# ---------------------------------------------------------------------------------------------------------


def _break_homopolymers(seq: np.ndarray, rng: np.random.Generator, max_run: int = MAX_HOMOPOLYMER) -> None:
    """Change every (max_run+1)-th base of longer runs so no homopolymer exceeds ``max_run`` (in place)."""
    for _ in range(50):
        change = np.flatnonzero(np.diff(seq)) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [seq.size]))
        long_runs = np.flatnonzero(ends - starts > max_run)
        if long_runs.size == 0:
            return
        pos = np.concatenate([np.arange(starts[i] + max_run, ends[i], max_run + 1) for i in long_runs])
        seq[pos] = (seq[pos] + rng.integers(1, 4, size=pos.size, dtype=np.uint8)) % 4
    raise RuntimeError("could not break homopolymers")


def random_sequence(
    rng: np.random.Generator,
    length: int,
    block_bp: tuple[int, int] = GC_BLOCK_BP,
    gc_range: tuple[float, float] = GC_RANGE,
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Random bases (codes 0-3 = ACGT) with GC fraction varying in blocks.

    Returns the codes and the blocks as (start0, end0, gc_fraction).
    """
    n_blocks = length // block_bp[0] + 2
    sizes = rng.integers(block_bp[0], block_bp[1] + 1, size=n_blocks)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    bounds = bounds[bounds < length]
    bounds = np.append(bounds, length)
    gcs = rng.uniform(gc_range[0], gc_range[1], size=bounds.size - 1)
    per_base = np.repeat(gcs, np.diff(bounds))
    u = rng.random(length)
    coin = rng.random(length) < 0.5
    is_gc = u < per_base
    seq = np.where(is_gc, np.where(coin, 1, 2), np.where(coin, 0, 3)).astype(np.uint8)
    _break_homopolymers(seq, rng)
    blocks = [(int(a), int(b), float(g)) for a, b, g in zip(bounds[:-1], bounds[1:], gcs, strict=True)]
    return seq, blocks


def _put(seq: np.ndarray, pos1: int, text: str) -> None:
    seq[pos1 - 1 : pos1 - 1 + len(text)] = _ENCODE[np.frombuffer(text.encode(), dtype=np.uint8)]


def _splice_sites(exons: Sequence[tuple[int, int]], strand: str) -> list[tuple[int, str]]:
    """(genomic 1-based position, 2-nt genomic-strand motif) for each intron's donor and acceptor."""
    sites = []
    for (s1, e1), (s2, e2) in zip(exons, exons[1:], strict=False):
        if strand == "+":  # intron e1+1 .. s2-1
            sites += [(e1 + 1, "GT"), (s2 - 2, "AG")]
        else:  # transcript order descends: intron e2+1 .. s1-1; donor at s1-1 (reverse), acceptor at e2+1
            sites += [(s1 - 2, "AC"), (e2 + 1, "CT")]
    return sites


def _diverge(rng: np.random.Generator, seq: np.ndarray, divergence: float) -> np.ndarray:
    """A copy of ``seq`` with a share ``divergence`` of its bases substituted (transitions twice as likely)."""
    out = seq.copy()
    hit = np.flatnonzero(rng.random(seq.size) < divergence)
    transition = rng.random(hit.size) < 2 / 3
    # A<->G (0<->2), C<->T (1<->3) for transitions; otherwise one of the two transversions.
    tv = np.where(rng.random(hit.size) < 0.5, 1, 3)
    out[hit] = np.where(transition, (out[hit] + 2) % 4, (out[hit] + tv) % 4)
    return out


def _families(rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """Consensus sequences of the made-up repeat families' subfamilies (codes 0-3)."""
    alu, _ = random_sequence(rng, ALU_LENGTH - 24, block_bp=(ALU_LENGTH, ALU_LENGTH), gc_range=(0.52, 0.58))
    tail = _ENCODE[np.frombuffer(b"AAAAAAAGAAAAAAACAAAAAAAT", dtype=np.uint8)]
    l1, _ = random_sequence(rng, L1_LENGTH, block_bp=(1500, 3000), gc_range=(0.36, 0.44))
    old, _ = random_sequence(rng, OLD_FAMILY_LENGTH, block_bp=(300, 300), gc_range=(0.42, 0.5))
    masters = {"alu": np.concatenate([alu, tail]), "l1": l1, "old": old}
    return {
        name: [master] + [_diverge(rng, master, SUBFAMILY_DIVERGENCE) for _ in range(SUBFAMILIES[name] - 1)]
        for name, master in masters.items()
    }


def _repeat_copy(rng: np.random.Generator, families: dict[str, list[np.ndarray]], family: str, length: int,
                 divergence: float) -> np.ndarray:
    """``length`` bases of a diverged copy: simple repeats tile a random unit, Alu copies are tiled/cut,
    L1 copies are 5'-truncated (the 3' end kept, as most real L1 insertions)."""
    if family == "simple":
        unit = SIMPLE_UNITS[int(rng.integers(len(SIMPLE_UNITS)))]
        text = (unit * (length // len(unit) + 1))[:length]
        base = _ENCODE[np.frombuffer(text.encode(), dtype=np.uint8)]
    else:
        subfamilies = families[family]
        cons = subfamilies[int(rng.integers(len(subfamilies)))]
        reps = length // cons.size + 1
        tiled = np.tile(cons, reps)
        base = tiled[tiled.size - length :] if family == "l1" else tiled[:length]
    return _diverge(rng, base, divergence)


def _family_for(length: int, index: int) -> str:
    if length <= SIMPLE_MAX_BP:
        return "simple"
    if length <= ALU_MAX_BP:
        return "alu" if index % 3 else "old"
    return "l1"


def lay_repeats(
    resources_dir: str | Path, seqs: dict[str, np.ndarray], protected: dict[str, np.ndarray], seed: int
) -> dict[str, np.ndarray]:
    """Write repeat copies at the RepeatMasker intervals of ``mask.bed`` (in place) and return the decoy
    contig (family copies, young copies' siblings, the segmental duplication). No-op without a mask.

    Deterministic from ``seed`` (own random stream: the rest of the reference does not change with it).
    """
    mask = Path(resources_dir) / "mask.bed"
    rng = np.random.default_rng(_seed_for(seed, "repeats"))
    families = _families(rng)
    if not mask.exists():
        return {}
    pieces: list[np.ndarray] = []  # decoy inserts
    for index, (chrom, s0, e0, name) in enumerate((*iv.bed(), iv.name) for iv in read_bed(mask)):
        if name != "repeat" or chrom not in seqs:
            continue
        seq, prot = seqs[chrom], protected[chrom]
        s0, e0 = max(0, s0), min(seq.size, e0)
        if e0 - s0 < 10:
            continue
        family = _family_for(e0 - s0, index)
        young = rng.random() < YOUNG_SHARE[family]
        div = rng.uniform(*(YOUNG_DIVERGENCE if young else OLD_DIVERGENCE))
        if family == "simple":
            div = 0.03
        copy = _repeat_copy(rng, families, family, e0 - s0, div)
        keep = ~prot[s0:e0]
        seq[s0:e0][keep] = copy[keep]
        if young:
            pieces.append(_diverge(rng, seq[s0:e0], rng.uniform(*SIBLING_DIVERGENCE)))
    for family, n in DECOY_COPIES.items():
        for _ in range(n):
            length = {"alu": ALU_LENGTH, "old": OLD_FAMILY_LENGTH, "simple": 60}.get(family, 0) or int(
                rng.integers(1_000, L1_LENGTH + 1)
            )
            pieces.append(_repeat_copy(rng, families, family, length, rng.uniform(*DECOY_DIVERGENCE)))
    # Segmental duplication: SEGDUP_BP from the middle of the widest gap between two consecutive genes of
    # the locus contig (intergenic, so no exon is duplicated), copied at SEGDUP_DIVERGENCE.
    genes = sorted(read_genes(resources_dir).values(), key=lambda g: g.start)
    gaps = [(b.start - a.end, a.end, b.start) for a, b in zip(genes, genes[1:], strict=False)
            if a.chrom == b.chrom and b.start - a.end > 2 * SEGDUP_BP]
    if gaps:
        _, a_end, b_start = max(gaps)
        mid = (a_end + b_start) // 2 - SEGDUP_BP // 2
        pieces.append(_diverge(rng, seqs[genes[0].chrom][mid : mid + SEGDUP_BP], SEGDUP_DIVERGENCE))
    total = sum(p.size for p in pieces)
    # At least DECOY_LENGTH, with about a fifth unique sequence between the inserts.
    length = max(DECOY_LENGTH, -(-int(total * 1.25) // 10_000) * 10_000)
    decoy, _ = random_sequence(rng, length)
    spacing = (length - total) // (len(pieces) + 1)
    pos = spacing
    for piece in pieces:
        decoy[pos : pos + piece.size] = piece
        pos += piece.size + spacing
    return {DECOY_CONTIG: decoy}


def make_reference(resources_dir: str | Path, out_fasta: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the synthetic reference FASTA (60 columns) and its .fai.

    Contigs and lengths come from ``build.json``. The IL1RN MANE CDS of ``il1rn_cds_synthetic.fa`` is laid
    at the CDS rows of ``il1rn.gff3``; every intron of the MANE transcript and of the genes in
    ``exons.tsv`` starts with GT and ends with AG (on the gene's strand).
    """
    resources_dir, out_fasta = Path(resources_dir), Path(out_fasta)
    build = read_build(resources_dir)
    rng = np.random.default_rng(_seed_for(seed, "reference"))
    seqs = {name: random_sequence(rng, length)[0] for name, length in build.contigs.items()}

    tx = read_transcript(resources_dir)
    cds = read_synthetic_cds(resources_dir)
    if len(cds) != tx.cds_length:
        raise ValueError(f"CDS FASTA has {len(cds)} nt but the GFF3 CDS rows cover {tx.cds_length}")
    locus = seqs[tx.chrom]
    # Repeats first (exons, targets and splice sites kept free of them), then the motifs and the CDS.
    keep_free = {name: np.zeros(codes.size, dtype=bool) for name, codes in seqs.items()}
    for gene in read_genes(resources_dir).values():
        for s, e in gene.exons:
            keep_free[gene.chrom][max(0, s - 1 - REPEAT_EXON_PAD) : e + REPEAT_EXON_PAD] = True
    for c, s0, e0 in (iv.bed() for iv in read_bed(resources_dir / "targets.bed")):
        if c in keep_free:
            keep_free[c][max(0, s0 - REPEAT_EXON_PAD) : e0 + REPEAT_EXON_PAD] = True
    decoy = lay_repeats(resources_dir, seqs, keep_free, seed)
    for codes in (*seqs.values(), *decoy.values()):
        _break_homopolymers(codes, rng)
    seqs.update(decoy)
    planted = [(tx, cds)]
    for name in differential_genes(resources_dir):
        dtx, dcds = read_transcript(resources_dir, name), read_synthetic_cds(resources_dir, name)
        if len(dcds) != dtx.cds_length:
            raise ValueError(f"{name}: CDS FASTA has {len(dcds)} nt but the GFF3 CDS rows cover {dtx.cds_length}")
        planted.append((dtx, dcds))
    protected = np.zeros(locus.size, dtype=bool)
    for ptx, _ in planted:
        for s, e in ptx.cds:
            protected[s - 1 : e] = True
    for gene in read_genes(resources_dir).values():
        for pos, motif in _splice_sites(gene.exons, gene.strand):
            if not protected[pos - 1 : pos + 1].any():
                _put(seqs[gene.chrom], pos, motif)
    for ptx, pcds in planted:
        for pos, motif in _splice_sites(ptx.exons, ptx.strand):
            if protected[pos - 1 : pos + 1].any():
                raise ValueError(f"splice motif at {ptx.chrom}:{pos} would overwrite the CDS")
            _put(seqs[ptx.chrom], pos, motif)
        offset = 0
        for s, e in ptx.cds:
            piece = pcds[offset : offset + e - s + 1]
            _put(seqs[ptx.chrom], s, piece if ptx.strand == "+" else revcomp(piece))
            offset += e - s + 1
    for chrom, (pos, base) in _intronic_reference_bases(resources_dir, planted):
        if not protected[pos - 1]:
            _put(seqs[chrom], pos, base)

    out_fasta.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_fasta.with_name(out_fasta.name + ".tmp")
    with open(tmp, "wb") as handle:
        for name, codes in seqs.items():
            text = _BASES[codes].tobytes()
            handle.write(b">" + name.encode() + b"\n")
            handle.write(b"\n".join(text[i : i + 60] for i in range(0, len(text), 60)) + b"\n")
    os.replace(tmp, out_fasta)
    fai = Path(str(out_fasta) + ".fai")
    if fai.exists():
        fai.unlink()
    pysam.faidx(str(out_fasta))
    return out_fasta


_INTRONIC_SUB = re.compile(r"^c\.(-?\*?\d+[+-]\d+)([ACGT])>([ACGT])$")


def _intronic_reference_bases(resources_dir: Path, planted: list) -> list[tuple[str, tuple[int, str]]]:
    """The reference base each published intronic substitution states (e.g. IL36RN c.115+6T>C), so that the known
    alleles of every gene resolve on the synthetic reference as they do on the real one."""
    from .transcript import load_transcript

    tables = {"IL1RN": resources_dir.parent / "known_dira_variants.tsv"}
    meta = json.loads((resources_dir / "build.json").read_text())
    tables.update({d["gene"]: resources_dir.parent / d["known"] for d in meta.get("differential", [])})
    out = []
    for ptx, _cds in planted:
        gene = ptx.gene or "IL1RN"
        table = tables.get(gene)
        if table is None or not table.exists():
            continue
        model = load_transcript(resources_dir / f"{gene.lower()}.gff3")
        for line in table.read_text().splitlines():
            name = line.split("\t", 1)[0]
            if m := _INTRONIC_SUB.match(name):
                pos = model.c_to_genomic(m[1])
                out.append((ptx.chrom, (pos, m[2] if model.strand == "+" else revcomp(m[2]))))
    return out


@functools.lru_cache(maxsize=4)
def _load_reference_cached(path: str, mtime: float) -> dict[str, np.ndarray]:
    with pysam.FastaFile(path) as fasta:
        out = {}
        for name in fasta.references:
            arr = _ENCODE[np.frombuffer(fasta.fetch(name).encode(), dtype=np.uint8)]
            arr.flags.writeable = False
            out[name] = arr
        return out


def load_reference(fasta: str | Path) -> dict[str, np.ndarray]:
    """Contig name -> base codes (0-3 = ACGT, 4 = N), read-only arrays (cached per file/mtime)."""
    path = str(Path(fasta).resolve())
    return _load_reference_cached(path, os.stat(path).st_mtime)


def spliced_cds(fasta: str | Path, resources_dir: str | Path) -> str:
    """The MANE CDS as spliced from the reference FASTA (for checks)."""
    tx = read_transcript(resources_dir)
    with pysam.FastaFile(str(fasta)) as ref:
        pieces = [ref.fetch(tx.chrom, s - 1, e).upper() for s, e in tx.cds]
    return "".join(pieces) if tx.strand == "+" else "".join(revcomp(p) for p in pieces)


# ---------------------------------------------------------------------------------------------------------
# Variants and haplotypes
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Replace reference bases ``start..end`` (1-based inclusive) of ``chrom`` by ``alt``.

    SNV: start == end, one alt base. Deletion: alt "". Insertion before ``start``: end == start - 1.
    ``ref`` (optional) is checked against the reference when the edit is applied. ``hgvs_c`` is a label.
    """

    chrom: str
    start: int
    end: int
    alt: str = ""
    ref: str | None = None
    hgvs_c: str | None = None

    @property
    def ref_length(self) -> int:
        return self.end - self.start + 1

    @property
    def kind(self) -> str:
        if self.ref_length == 1 and len(self.alt) == 1:
            return "snv"
        if self.ref_length > MAX_INDEL and len(self.alt) <= MAX_INDEL:
            return "deletion"
        return "indel"


Haplotype = Sequence[Edit]


def snv(chrom: str, pos: int, alt: str, ref: str | None = None, hgvs_c: str | None = None) -> Edit:
    return Edit(chrom, pos, pos, alt.upper(), ref.upper() if ref else None, hgvs_c)


def deletion(chrom: str, start: int, end: int, hgvs_c: str | None = None) -> Edit:
    """Delete reference bases start..end (1-based inclusive); small (<= 50 bp) or large."""
    if end < start:
        raise ValueError("deletion end < start")
    return Edit(chrom, start, end, "", None, hgvs_c)


def insertion(chrom: str, after: int, seq: str, hgvs_c: str | None = None) -> Edit:
    """Insert ``seq`` after reference base ``after`` (1-based)."""
    return Edit(chrom, after + 1, after, seq.upper(), None, hgvs_c)


_HGVS_SUB = re.compile(r"^c\.(\d+)([ACGT])>([ACGT])$")
_HGVS_DEL = re.compile(r"^c\.(\d+)(?:_(\d+))?del([ACGT]*)$")
_HGVS_INS = re.compile(r"^c\.(\d+)_(\d+)ins([ACGT]+)$")


def edit_from_hgvs(resources_dir: str | Path, hgvs_c: str, gene: str | None = None) -> Edit:
    """Edit for a coding HGVS name on the MANE transcript: ``c.160C>T``, ``c.213_227del``, ``c.100del``,
    ``c.100_101insA`` (within one exon). Reference bases named in the HGVS are checked when applied.
    ``gene``: a differential gene's transcript instead of the target's."""
    tx = read_transcript(resources_dir, gene)
    plus = tx.strand == "+"

    def gspan(c1: int, c2: int) -> tuple[int, int]:
        g1, g2 = cds_to_genomic(resources_dir, c1, gene), cds_to_genomic(resources_dir, c2, gene)
        if abs(g1 - g2) != abs(c1 - c2):
            raise ValueError(f"{hgvs_c}: spans an intron")
        return min(g1, g2), max(g1, g2)

    def strand_seq(s: str) -> str:
        return s if plus else revcomp(s)

    if m := _HGVS_SUB.match(hgvs_c):
        pos = cds_to_genomic(resources_dir, int(m[1]), gene)
        return snv(tx.chrom, pos, strand_seq(m[3]), strand_seq(m[2]), hgvs_c)
    if m := _HGVS_DEL.match(hgvs_c):
        c1 = int(m[1])
        c2 = int(m[2]) if m[2] else c1
        s, e = gspan(c1, c2)
        return Edit(tx.chrom, s, e, "", strand_seq(m[3]) if m[3] else None, hgvs_c)
    if m := _HGVS_INS.match(hgvs_c):
        c1, c2 = int(m[1]), int(m[2])
        if c2 != c1 + 1:
            raise ValueError(f"{hgvs_c}: insertion flanks must be adjacent")
        s, _ = gspan(c1, c2)
        return Edit(tx.chrom, s + 1, s, strand_seq(m[3]), None, hgvs_c)
    raise ValueError(f"unsupported HGVS name {hgvs_c!r} (use c.NX>Y, c.N_Mdel, c.Ndel or c.N_MinsSEQ)")


@dataclass
class HapSeq:
    """One haplotype of one contig: bases and, per base, the 0-based reference position (-1 = inserted)."""

    seq: np.ndarray
    refpos: np.ndarray

    @classmethod
    def from_reference(cls, codes: np.ndarray | str) -> HapSeq:
        if isinstance(codes, str):
            codes = _ENCODE[np.frombuffer(codes.encode(), dtype=np.uint8)]
        return cls(np.asarray(codes, dtype=np.uint8), np.arange(len(codes), dtype=np.int64))

    @property
    def monotone_refpos(self) -> np.ndarray:
        """Reference position of each base, inserted bases taking the preceding reference base's."""
        return np.maximum.accumulate(self.refpos)

    def ref_to_hap(self, ref0: np.ndarray | int) -> np.ndarray:
        """0-based haplotype index of the first base at or after each 0-based reference position."""
        return np.searchsorted(self.monotone_refpos, ref0, side="left")


def apply_edits(reference: Mapping[str, np.ndarray], edits: Haplotype) -> dict[str, HapSeq]:
    """Build one haplotype (every contig of ``reference``) by applying ``edits``."""
    by_chrom: dict[str, list[Edit]] = {}
    for edit in edits:
        if edit.chrom not in reference:
            raise ValueError(f"edit on unknown contig {edit.chrom!r}")
        by_chrom.setdefault(edit.chrom, []).append(edit)
    out = {}
    for chrom, codes in reference.items():
        chrom_edits = sorted(by_chrom.get(chrom, []), key=lambda e: (e.start, e.end))
        if not chrom_edits:
            out[chrom] = HapSeq(codes, np.arange(codes.size, dtype=np.int64))
            continue
        seq_parts, pos_parts = [], []
        cursor = 0  # 0-based next reference base to copy
        for edit in chrom_edits:
            s0 = edit.start - 1
            if s0 < cursor or edit.end > codes.size or s0 > codes.size:
                raise ValueError(f"overlapping or out-of-range edits on {chrom} at {edit.start}")
            if edit.ref is not None:
                actual = _BASES[codes[s0 : edit.end]].tobytes().decode()
                if actual != edit.ref:
                    raise ValueError(f"{edit.hgvs_c or edit}: reference at {chrom}:{edit.start} is {actual}")
            seq_parts.append(codes[cursor:s0])
            pos_parts.append(np.arange(cursor, s0, dtype=np.int64))
            if edit.alt:
                alt = _ENCODE[np.frombuffer(edit.alt.encode(), dtype=np.uint8)]
                seq_parts.append(alt)
                if edit.ref_length == len(edit.alt):  # substitution: bases keep their reference positions
                    pos_parts.append(np.arange(s0, edit.end, dtype=np.int64))
                else:
                    pos_parts.append(np.full(alt.size, -1, dtype=np.int64))
            cursor = max(cursor, edit.end)
        seq_parts.append(codes[cursor:])
        pos_parts.append(np.arange(cursor, codes.size, dtype=np.int64))
        out[chrom] = HapSeq(np.concatenate(seq_parts), np.concatenate(pos_parts))
    return out


def normalize_vcf(codes: np.ndarray, edit: Edit) -> tuple[int, str, str]:
    """Left-aligned, anchored VCF (pos, ref, alt) of a small edit, given the reference codes of its contig."""

    def base(pos1: int) -> str:
        return chr(_BASES[codes[pos1 - 1]])

    if edit.kind == "snv" or (edit.ref_length == len(edit.alt) and edit.ref_length > 0):
        ref = _BASES[codes[edit.start - 1 : edit.end]].tobytes().decode()
        return edit.start, ref, edit.alt
    start, end, alt = edit.start, edit.end, edit.alt
    if not alt:  # deletion of start..end: shift left while the base before equals the last deleted base
        while start > 1 and base(start - 1) == base(end):
            start, end = start - 1, end - 1
        anchor = start - 1
        ref = _BASES[codes[anchor - 1 : end]].tobytes().decode()
        return anchor, ref, ref[0]
    if edit.ref_length == 0:  # insertion after start-1: rotate left while the inserted last base repeats
        after = edit.start - 1
        while after > 1 and base(after) == alt[-1]:
            alt = alt[-1] + alt[:-1]
            after -= 1
        return after, base(after), base(after) + alt
    anchor = start - 1  # complex replacement: anchored, not shifted
    ref = _BASES[codes[anchor - 1 : end]].tobytes().decode()
    return anchor, ref, ref[0] + alt


# ---------------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ReadStats:
    """What :func:`simulate_reads` did (counts over both reads; index 0 = read 1, 1 = read 2)."""

    n_pairs: int
    read_length: int
    substitutions: np.ndarray  # (2, read_length) substitution errors per cycle
    called_bases: np.ndarray  # (2, read_length) non-N bases per cycle
    indel_errors: int
    no_calls: int
    mean_q_error: float
    mean_q_correct: float
    candidates: int  # fragments drawn before GC-dependent acceptance
    gc_peak: float
    gc_width: float
    pairs_per_contig: dict[str, int] = field(default_factory=dict)

    def substitution_rate(self, read: int | None = None) -> float:
        sel = slice(None) if read is None else slice(read, read + 1)
        return float(self.substitutions[sel].sum() / max(1, self.called_bases[sel].sum()))


def _low_quality_fraction(rates: np.ndarray) -> np.ndarray:
    """Per cycle, the fraction of bases drawn from Q_LOW so the mean error 10^(-Q/10) equals ``rates``."""
    e_hi = np.mean(10 ** (-np.arange(Q_HIGH[0], Q_HIGH[1] + 1) / 10))
    e_lo = np.mean(10 ** (-np.arange(Q_LOW[0], Q_LOW[1] + 1) / 10))
    return np.clip((rates - e_hi) / (e_lo - e_hi), 0.0, 1.0)


def substitution_rates(read_length: int = READ_LENGTH) -> np.ndarray:
    """Target substitution error rate per cycle, shape (2, read_length): rising along the read, R2 worse."""
    x = np.arange(read_length) / max(1, read_length - 1)
    r1 = SUB_RATE_FIRST + (SUB_RATE_LAST - SUB_RATE_FIRST) * x**2
    return np.vstack([r1, r1 * READ2_FACTOR])


def gc_acceptance(gc: np.ndarray, peak: float = GC_PEAK, width: float = GC_WIDTH) -> np.ndarray:
    """Probability that a fragment of GC fraction ``gc`` is sequenced (1 at the peak)."""
    return np.exp(-0.5 * ((np.asarray(gc, dtype=float) - peak) / width) ** 2)


def _fragment_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, size=n)).astype(np.int64)
    bad = (out < FRAGMENT_MIN) | (out > FRAGMENT_MAX)
    while bad.any():
        out[bad] = np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, size=int(bad.sum()))).astype(np.int64)
        bad = (out < FRAGMENT_MIN) | (out > FRAGMENT_MAX)
    return out


def _sample_fragments(
    rng: np.random.Generator,
    hap_len: int,
    gc_cum: np.ndarray | None,
    n_target: int,
    windows: np.ndarray | None,
    gc_peak: float,
    gc_width: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Draw ``n_target`` accepted fragments (starts, lengths) on one haplotype sequence.

    ``windows`` (k, 2) 0-based half-open capture intervals in haplotype coordinates, or None for WGS.
    """
    starts, lengths = [], []
    have, drawn, est = 0, 0, 0.8
    if windows is not None:
        weights = (windows[:, 1] - windows[:, 0] + FRAGMENT_MEAN - 1).astype(float)
        cum_w = np.cumsum(weights) / weights.sum()
    while have < n_target:
        m = int((n_target - have) / max(est, 0.05) * 1.1) + 64
        flen = _fragment_lengths(rng, m)
        if windows is None:
            start = (rng.random(m) * (hap_len - flen + 1)).astype(np.int64)
        else:
            k = np.minimum(np.searchsorted(cum_w, rng.random(m), side="right"), windows.shape[0] - 1)
            lo = windows[k, 0] - flen + 1
            hi = windows[k, 1] - 1  # fragment [s, s+flen) overlaps [lo_w, hi_w)
            start = lo + (rng.random(m) * (hi - lo + 1)).astype(np.int64)
            start = np.clip(start, 0, hap_len - flen)
        ok = start + flen <= hap_len
        if gc_cum is not None:
            gc = (gc_cum[start + flen] - gc_cum[start]) / flen
            ok &= rng.random(m) < gc_acceptance(gc, gc_peak, gc_width)
        drawn += m
        starts.append(start[ok])
        lengths.append(flen[ok])
        have += int(ok.sum())
        est = max(have / drawn, 0.01)
    return np.concatenate(starts)[:n_target], np.concatenate(lengths)[:n_target], drawn


def _apply_indel_errors(
    rng: np.random.Generator, templates: np.ndarray, read_length: int
) -> tuple[np.ndarray, int]:
    """Reads (n, read_length) from templates (n, read_length+1), with rare 1-bp insertion/deletion errors."""
    reads = templates[:, :read_length].copy()
    p_read = 1.0 - (1.0 - INDEL_RATE) ** read_length
    hit = np.flatnonzero(rng.random(reads.shape[0]) < p_read)
    if hit.size:
        cycles = rng.integers(1, read_length - 1, size=hit.size)
        is_ins = rng.random(hit.size) < 0.5
        new_bases = rng.integers(0, 4, size=hit.size, dtype=np.uint8)
        for i, c, ins, b in zip(hit, cycles, is_ins, new_bases, strict=True):
            if ins:
                reads[i, c + 1 :] = templates[i, c : read_length - 1]
                reads[i, c] = b
            else:
                reads[i, c:] = templates[i, c + 1 : read_length + 1]
    return reads, int(hit.size)


def _qualities_and_errors(
    rng: np.random.Generator, reads: np.ndarray, low_frac: np.ndarray, n_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw Phred qualities per base, then substitution errors with probability 10^(-Q/10) (calibrated).

    Returns (bases, quals, error mask); no-calls are N with Q2 and not counted as errors.
    """
    n, length = reads.shape
    u = rng.random((n, length), dtype=np.float32)
    w = low_frac.astype(np.float32)[None, :]
    low = u < w
    n_lo = Q_LOW[1] - Q_LOW[0] + 1
    n_hi = Q_HIGH[1] - Q_HIGH[0] + 1
    q_lo = Q_LOW[0] + np.minimum((u / np.maximum(w, 1e-9) * n_lo).astype(np.uint8), n_lo - 1)
    q_hi = Q_HIGH[0] + np.minimum(((u - w) / np.maximum(1 - w, 1e-9) * n_hi).astype(np.uint8), n_hi - 1)
    quals = np.where(low, q_lo, q_hi).astype(np.uint8)
    perr = (10 ** (-np.arange(64) / 10)).astype(np.float32)
    v = rng.random((n, length), dtype=np.float32)
    err = v < perr[quals]
    nocall = v > (1 - n_rate.astype(np.float32))[None, :]
    err &= ~nocall
    bases = reads.copy()
    idx = np.nonzero(err)
    if idx[0].size:
        shift = rng.integers(1, 4, size=idx[0].size, dtype=np.uint8)
        bases[idx] = (bases[idx] + shift) % 4
    bases[nocall] = 4
    quals[nocall] = Q_NOCALL
    return bases, quals, err


def _fastq_block(sample: bytes, first: int, bases: np.ndarray, quals: np.ndarray) -> bytes:
    n, length = bases.shape
    width = 2 * length + 4
    rows = np.empty((n, width), dtype=np.uint8)
    rows[:, :length] = _BASES[bases]
    rows[:, length : length + 3] = np.frombuffer(b"\n+\n", dtype=np.uint8)
    rows[:, length + 3 : 2 * length + 3] = quals + 33
    rows[:, -1] = 10
    body = rows.tobytes()
    parts = []
    for j in range(n):
        parts.append(b"@%s:%d\n" % (sample, first + j))
        parts.append(body[j * width : (j + 1) * width])
    return b"".join(parts)


def _open_gz(path: Path, level: int):  # noqa: ANN202 - file object
    raw = open(path, "wb")  # closed by the caller, after the gzip wrapper
    return raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level)


def _as_hapseqs(haplotype: Mapping[str, HapSeq | np.ndarray | str]) -> dict[str, HapSeq]:
    return {c: h if isinstance(h, HapSeq) else HapSeq.from_reference(h) for c, h in haplotype.items()}


def simulate_reads(
    haplotypes: Sequence[Mapping[str, HapSeq | np.ndarray | str]],
    depth: float,
    out_fq1: str | Path,
    out_fq2: str | Path,
    sample: str,
    seed: int,
    mode: str = "wgs",
    targets: Sequence[tuple[str, int, int]] | None = None,
    read_length: int = READ_LENGTH,
    gc_bias: bool = True,
    truth_tsv: str | Path | None = None,
    compresslevel: int = 1,
) -> ReadStats:
    """Simulate Illumina-like 2x``read_length`` paired-end reads from haplotype sequences.

    ``haplotypes``: one mapping contig -> :class:`HapSeq` (or plain sequence) per haplotype (usually two);
    each haplotype gets ``depth / len(haplotypes)`` read depth. ``mode`` "wgs" draws fragments along whole
    contigs; "exome" only fragments overlapping ``targets`` (0-based half-open reference intervals, padded
    already; see :func:`capture_targets`), with the depth reached on the targets. Fragment GC decides
    acceptance (:func:`gc_acceptance`, with a per-sample random peak/width). Reads are written in random
    order as gzip FASTQ named ``{sample}:{n}`` (same name in R1 and R2); ``truth_tsv`` (optional, gzip)
    records each pair's origin (contig, haplotype, 1-based reference span of the fragment, R1 strand).
    """
    if mode not in ("wgs", "exome"):
        raise ValueError(f"mode must be 'wgs' or 'exome', not {mode!r}")
    if mode == "exome" and not targets:
        raise ValueError("exome mode needs targets")
    rng = np.random.default_rng(_seed_for(seed, "reads", sample))
    haps = [_as_hapseqs(h) for h in haplotypes]
    contigs = list(haps[0])
    gc_peak = GC_PEAK + rng.normal(0, 0.015) if gc_bias else GC_PEAK
    gc_width = GC_WIDTH * float(np.exp(rng.normal(0, 0.1))) if gc_bias else GC_WIDTH
    depth_hap = depth / len(haps)

    groups: list[tuple[str, int, HapSeq]] = []
    g_ids, g_starts, g_lens = [], [], []
    candidates = 0
    per_contig: dict[str, int] = {}
    for contig in contigs:
        for h, hap in enumerate(haps):
            hs = hap[contig]
            length = hs.seq.size
            windows = None
            if mode == "exome":
                iv = np.array([(s, e) for c, s, e in targets if c == contig], dtype=np.int64).reshape(-1, 2)
                if iv.size == 0:
                    continue
                hw = np.stack([hs.ref_to_hap(iv[:, 0]), hs.ref_to_hap(iv[:, 1])], axis=1)
                windows = hw[hw[:, 1] > hw[:, 0]]
                if windows.size == 0:
                    continue
                span = float((windows[:, 1] - windows[:, 0] + FRAGMENT_MEAN - 1).sum())
            else:
                span = float(length)
            n_target = int(round(depth_hap * span / (2 * read_length)))
            if n_target == 0 or length < FRAGMENT_MAX:
                continue
            gc_cum = None
            if gc_bias:
                gc_cum = np.concatenate(([0], np.cumsum((hs.seq == 1) | (hs.seq == 2), dtype=np.int64)))
            starts, lens, drawn = _sample_fragments(rng, length, gc_cum, n_target, windows, gc_peak, gc_width)
            candidates += drawn
            g_ids.append(np.full(starts.size, len(groups), dtype=np.int32))
            g_starts.append(starts)
            g_lens.append(lens)
            groups.append((contig, h, hs))
            per_contig[contig] = per_contig.get(contig, 0) + int(starts.size)
    gid = np.concatenate(g_ids) if g_ids else np.zeros(0, np.int32)
    start = np.concatenate(g_starts) if g_starts else np.zeros(0, np.int64)
    flen = np.concatenate(g_lens) if g_lens else np.zeros(0, np.int64)
    n_pairs = gid.size
    order = rng.permutation(n_pairs)
    gid, start, flen = gid[order], start[order], flen[order]
    forward = rng.random(n_pairs) < 0.5

    rates = substitution_rates(read_length)
    low_frac = [_low_quality_fraction(rates[0]), _low_quality_fraction(rates[1])]
    n_rate = np.full(read_length, N_RATE)
    n_rate[:2] = N_RATE_FIRST
    subs = np.zeros((2, read_length), dtype=np.int64)
    called = np.zeros((2, read_length), dtype=np.int64)
    q_err_sum = q_err_n = q_ok_sum = q_ok_n = 0
    indels = nocalls = 0
    k = np.arange(read_length + 1, dtype=np.int64)

    out_fq1, out_fq2 = Path(out_fq1), Path(out_fq2)
    out_fq1.parent.mkdir(parents=True, exist_ok=True)
    out_fq2.parent.mkdir(parents=True, exist_ok=True)
    tmp1 = out_fq1.with_name(out_fq1.name + ".tmp")
    tmp2 = out_fq2.with_name(out_fq2.name + ".tmp")
    raw1, gz1 = _open_gz(tmp1, compresslevel)
    raw2, gz2 = _open_gz(tmp2, compresslevel)
    truth = truth_raw = None
    if truth_tsv is not None:
        truth_raw, truth = _open_gz(Path(truth_tsv), 6)
        truth.write(b"name\tcontig\thaplotype\tref_start\tref_end\tr1_strand\n")
    sample_b = sample.encode()
    monotone: dict[int, np.ndarray] = {}
    chunk = 50_000
    try:
        for c0 in range(0, n_pairs, chunk):
            c1 = min(n_pairs, c0 + chunk)
            g, s, f, fw = gid[c0:c1], start[c0:c1], flen[c0:c1], forward[c0:c1]
            m = c1 - c0
            t1 = np.empty((m, read_length + 1), dtype=np.uint8)
            t2 = np.empty((m, read_length + 1), dtype=np.uint8)
            for gi in np.unique(g):
                sel = np.flatnonzero(g == gi)
                seq = groups[gi][2].seq
                fwd = seq[s[sel, None] + k[None, :]]
                rev = _COMPLEMENT[seq[(s[sel] + f[sel] - 1)[:, None] - k[None, :]]]
                fm = fw[sel, None]
                t1[sel] = np.where(fm, fwd, rev)
                t2[sel] = np.where(fm, rev, fwd)
            blocks = []
            for r, tmpl in enumerate((t1, t2)):
                reads, n_indel = _apply_indel_errors(rng, tmpl, read_length)
                bases, quals, err = _qualities_and_errors(rng, reads, low_frac[r], n_rate)
                is_n = bases == 4
                indels += n_indel
                nocalls += int(is_n.sum())
                subs[r] += err.sum(axis=0)
                called[r] += (~is_n).sum(axis=0)
                q_err_sum += int(quals[err].sum(dtype=np.int64))
                q_err_n += int(err.sum())
                ok = ~err & ~is_n
                q_ok_sum += int(quals[ok].sum(dtype=np.int64))
                q_ok_n += int(ok.sum())
                blocks.append(_fastq_block(sample_b, c0 + 1, bases, quals))
            gz1.write(blocks[0])
            gz2.write(blocks[1])
            if truth is not None:
                ref_a = np.empty(m, dtype=np.int64)
                ref_b = np.empty(m, dtype=np.int64)
                for gi in np.unique(g):
                    sel = np.flatnonzero(g == gi)
                    if gi not in monotone:
                        monotone[gi] = groups[gi][2].monotone_refpos
                    ref_a[sel] = monotone[gi][s[sel]] + 1
                    ref_b[sel] = monotone[gi][s[sel] + f[sel] - 1] + 1
                lines = [
                    f"{sample}:{c0 + j + 1}\t{groups[g[j]][0]}\t{groups[g[j]][1] + 1}\t{ref_a[j]}\t{ref_b[j]}"
                    f"\t{'+' if fw[j] else '-'}\n"
                    for j in range(m)
                ]
                truth.write("".join(lines).encode())
    finally:
        gz1.close()
        raw1.close()
        gz2.close()
        raw2.close()
        if truth is not None:
            truth.close()
            truth_raw.close()
    os.replace(tmp1, out_fq1)
    os.replace(tmp2, out_fq2)
    return ReadStats(
        n_pairs=n_pairs,
        read_length=read_length,
        substitutions=subs,
        called_bases=called,
        indel_errors=indels,
        no_calls=nocalls,
        mean_q_error=q_err_sum / max(1, q_err_n),
        mean_q_correct=q_ok_sum / max(1, q_ok_n),
        candidates=candidates,
        gc_peak=float(gc_peak),
        gc_width=float(gc_width),
        pairs_per_contig=per_contig,
    )


def capture_baits(resources_dir: str | Path) -> list[tuple[str, int, int]]:
    """The exome-like panel (0-based half-open, merged, unpadded): ``targets.bed`` + every exon of
    ``exons.tsv`` + pseudo-exon baits every 3 kb in the ``controls.bed`` regions (normalisation loci)."""
    resources_dir = Path(resources_dir)
    iv = [x.bed() for x in read_bed(resources_dir / "targets.bed")]
    for gene in read_genes(resources_dir).values():
        iv += [(gene.chrom, s - 1, e) for s, e in gene.exons]
    for c, s, e in (x.bed() for x in read_bed(resources_dir / "controls.bed")):
        for b in range(s + CONTROL_BAIT_EVERY // 3, e - CONTROL_BAIT_LEN, CONTROL_BAIT_EVERY):
            iv.append((c, b, b + CONTROL_BAIT_LEN))
    return _merge(iv)


def _merge(intervals: Sequence[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for c, s, e in sorted(intervals):
        if out and out[-1][0] == c and s <= out[-1][2]:
            out[-1] = (c, out[-1][1], max(out[-1][2], e))
        else:
            out.append((c, s, e))
    return out


def capture_targets(resources_dir: str | Path, pad: int = CAPTURE_PAD) -> list[tuple[str, int, int]]:
    """:func:`capture_baits` padded by ``pad`` bp each side (what exome-mode fragments must overlap)."""
    contigs = read_build(resources_dir).contigs
    return _merge(
        [
            (c, max(0, s - pad), min(contigs.get(c, e + pad), e + pad))
            for c, s, e in capture_baits(resources_dir)
        ]
    )


def write_capture_bed(resources_dir: str | Path, path: str | Path) -> Path:
    """Write the unpadded capture panel as BED (name ``bait``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{c}\t{s}\t{e}\tbait\n" for c, s, e in capture_baits(resources_dir)))
    return path


def simulate_sample(
    reference: str | Path,
    resources_dir: str | Path,
    haplotypes: Sequence[Haplotype],
    depth: float,
    mode: str,
    seed: int,
    out_prefix: str | Path,
    sample: str,
    truth_tsv: bool = False,
) -> tuple[Path, Path]:
    """Simulate one sample: apply each haplotype's edits to ``reference`` and write
    ``{out_prefix}_R1.fastq.gz`` / ``_R2`` (and ``{out_prefix}.origins.tsv.gz`` if ``truth_tsv``).

    ``haplotypes``: usually two lists of :class:`Edit` (``[[], []]`` = reference genotype).
    ``mode``: "wgs" or "exome" (panel of :func:`capture_targets`).
    """
    ref = load_reference(reference)
    haps = [apply_edits(ref, edits) for edits in haplotypes]
    targets = capture_targets(resources_dir) if mode == "exome" else None
    fq1 = Path(f"{out_prefix}_R1.fastq.gz")
    fq2 = Path(f"{out_prefix}_R2.fastq.gz")
    origins = Path(f"{out_prefix}.origins.tsv.gz") if truth_tsv else None
    simulate_reads(haps, depth, fq1, fq2, sample, seed, mode=mode, targets=targets, truth_tsv=origins)
    return fq1, fq2


# ---------------------------------------------------------------------------------------------------------
# Alignment
# ---------------------------------------------------------------------------------------------------------

_BWA_SUFFIXES = (".amb", ".ann", ".bwt", ".pac", ".sa")


def bwa_index(ref: str | Path) -> None:
    """``bwa index`` the reference unless its index files exist and are newer than it."""
    ref = Path(ref)
    mtime = ref.stat().st_mtime
    paths = [Path(str(ref) + suffix) for suffix in _BWA_SUFFIXES]
    if all(p.exists() and p.stat().st_mtime >= mtime for p in paths):
        return
    proc = subprocess.run(["bwa", "index", str(ref)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bwa index {ref} failed:\n{proc.stderr[-2000:]}")


def align_to_bam(
    ref: str | Path,
    fq1: str | Path,
    fq2: str | Path,
    out_bam: str | Path,
    sample: str,
    threads: int = 2,
    cram: str | Path | None = None,
    keep_bam: bool = True,
) -> Path:
    """Align with ``bwa mem -K 10000000`` (deterministic for any thread count), sort and index with pysam.

    With ``cram``, also write a CRAM (reference ``ref``) and its .crai; ``keep_bam=False`` then removes the
    BAM. Returns the BAM, or the CRAM when the BAM is not kept.
    """
    ref, out_bam = Path(ref), Path(out_bam)
    bwa_index(ref)
    out_bam.parent.mkdir(parents=True, exist_ok=True)
    sam = out_bam.with_name(out_bam.name + ".unsorted.sam")
    rg = f"@RG\\tID:{sample}\\tSM:{sample}\\tPL:ILLUMINA"
    cmd = ["bwa", "mem", "-K", "10000000", "-t", str(threads), "-R", rg, str(ref), str(fq1), str(fq2)]
    with open(sam, "wb") as handle:
        proc = subprocess.run(cmd, stdout=handle, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sam.unlink(missing_ok=True)
        raise RuntimeError(f"bwa mem failed for {sample}:\n{proc.stderr.decode()[-2000:]}")
    try:
        pysam.sort(
            "-@",
            str(threads),
            "-m",
            "512M",
            "--no-PG",
            "-T",
            str(out_bam) + ".sorttmp",
            "-o",
            str(out_bam),
            str(sam),
        )
    finally:
        sam.unlink(missing_ok=True)
    pysam.index(str(out_bam))
    if cram is None:
        return out_bam
    cram = Path(cram)
    pysam.view(
        "-C", "-T", str(ref), "--no-PG", "-@", str(threads), "-o", str(cram), str(out_bam), catch_stdout=False
    )
    pysam.index(str(cram))
    if keep_bam:
        return out_bam
    out_bam.unlink()
    Path(str(out_bam) + ".bai").unlink(missing_ok=True)
    return cram


# ---------------------------------------------------------------------------------------------------------
# The bundled test cohort
# ---------------------------------------------------------------------------------------------------------

COMMON_MISSENSE = "c.331A>G"  # p.(Thr111Ala) in exon 4; population AF 0.25 (benign, synthetic)
POPULATION_AN = 152_312
POPULATION_AF = {"c.331A>G": 0.25, "c.160C>T": 6.6e-6, "c.229G>T": 1.31e-5}
LOW_DEPTH_FRACTION = 0.2  # DIRA-09 gets depth * 0.2 (6x at the default 30x)
WHOLE_DELETION_FLANKS = (9000, 10000)  # bp before IL36G's start / after IL1RN's end
EXON3_DELETION_FLANKS = (800, 900)  # bp before / after IL1RN MANE exon 3


@dataclass
class CohortSample:
    name: str
    haplotypes: tuple[list[Edit], list[Edit]]
    status: str
    input: str  # fastq | bam | cram
    depth_factor: float = 1.0
    family: str = ""
    father: str = ""
    mother: str = ""
    sex: str = ""
    #: Expected status of each differential diagnosis (e.g. {"DITRA": "affected"}); default negative.
    differential: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CohortDesign:
    samples: list[CohortSample]
    whole_deletion: Edit
    exon3_deletion: Edit
    alleles: dict[str, Edit]  # HGVS name -> edit, for the population VCF


def cohort_design(resources_dir: str | Path) -> CohortDesign:
    """The bundled cohort: samples, their haplotypes and expected status. Deletion ends are derived from
    ``genes.tsv`` (IL36G start, IL1RN end) and the GFF3 (IL1RN exon 3) with the flanks stated above."""
    genes = read_genes(resources_dir)
    tx = read_transcript(resources_dir)
    q54x = edit_from_hgvs(resources_dir, "c.160C>T")
    e77x = edit_from_hgvs(resources_dir, "c.229G>T")
    del15 = edit_from_hgvs(resources_dir, "c.213_227del")
    common = edit_from_hgvs(resources_dir, COMMON_MISSENSE)
    left, right = genes["IL36G"], genes[tx.gene or "IL1RN"]
    big = deletion(left.chrom, left.start - WHOLE_DELETION_FLANKS[0], right.end + WHOLE_DELETION_FLANKS[1])
    ex3 = sorted(tx.exons)[2] if tx.strand == "+" else sorted(tx.exons, reverse=True)[2]
    e3s, e3e = ex3[0] - EXON3_DELETION_FLANKS[0], ex3[1] + EXON3_DELETION_FLANKS[1]
    name = f"c.{genomic_to_hgvs_c(resources_dir, e3s)}_{genomic_to_hgvs_c(resources_dir, e3e)}del"
    if tx.strand == "-":
        name = f"c.{genomic_to_hgvs_c(resources_dir, e3e)}_{genomic_to_hgvs_c(resources_dir, e3s)}del"
    exdel = deletion(tx.chrom, e3s, e3e, hgvs_c=name)
    for s, e in tx.exons:
        if (s, e) != ex3 and s <= e3e and e >= e3s:
            raise ValueError("exon-3 deletion would reach another exon; check EXON3_DELETION_FLANKS")
    s = CohortSample
    ditra = differential_genes(resources_dir)
    l27p = edit_from_hgvs(resources_dir, DITRA_FOUNDER, ditra[0]) if ditra else None
    samples = [
        s(
            "DIRA-01",
            ([q54x], [q54x]),
            "affected",
            "fastq",
            family="F1",
            father="DIRA-01-F",
            mother="DIRA-01-M",
            sex="F",
        ),
        s("DIRA-01-F", ([q54x], []), "carrier", "bam", family="F1", sex="M"),
        s("DIRA-01-M", ([], [q54x]), "carrier", "fastq", family="F1", sex="F"),
        s(
            "DIRA-01-FETUS",
            ([q54x], []),
            "carrier",
            "fastq",
            family="F1",
            father="DIRA-01-F",
            mother="DIRA-01-M",
        ),
        s("DIRA-02", ([e77x], [e77x]), "affected", "bam"),
        s("DIRA-03", ([q54x], [del15]), "affected", "fastq"),
        s("DIRA-04", ([], [q54x]), "carrier", "cram"),
        s("DIRA-05", ([big], [big]), "affected", "fastq", differential=(("DITRA", "affected"),)),
        s("DIRA-06", ([big], [e77x]), "affected", "bam", differential=(("DITRA", "carrier"),)),
        s("DIRA-07", ([exdel], [exdel]), "affected", "fastq"),
        s("DIRA-08", ([common], []), "negative", "fastq"),
        s("DIRA-09", ([], []), "inconclusive", "fastq", depth_factor=LOW_DEPTH_FRACTION,
          differential=(("DITRA", "inconclusive"),)),
    ]
    if l27p is not None:  # the DITRA founder allele, homozygous, with normal IL1RN (the differential's own case)
        samples.append(s("DITRA-01", ([l27p], [l27p]), "negative", "bam", differential=(("DITRA", "affected"),)))
    return CohortDesign(samples, big, exdel, {"c.160C>T": q54x, "c.229G>T": e77x, COMMON_MISSENSE: common})


def _overlapping_genes(genes: Mapping[str, GeneRecord], chrom: str, start: int, end: int) -> list[str]:
    return [g.name for g in genes.values() if g.chrom == chrom and g.start <= end and g.end >= start]


def _sample_truth(
    sample: CohortSample,
    ref: Mapping[str, np.ndarray],
    genes: Mapping[str, GeneRecord],
    depth: float,
    diseases: Sequence[str] = (),
) -> dict:
    h1, h2 = sample.haplotypes
    edits: list[Edit] = []
    for e in list(h1) + list(h2):
        if e not in edits:
            edits.append(e)
    big = [[e for e in hap if e.kind == "deletion"] for hap in (h1, h2)]
    alleles, deletions = [], []
    for e in edits:
        on = [e in h1, e in h2]
        if all(on):
            zyg = "homozygous"
        else:
            other = big[1] if on[0] else big[0]
            lo, hi = (e.start, e.end) if e.ref_length > 0 else (e.start - 1, e.start)
            zyg = "hemizygous" if any(d.start <= lo and hi <= d.end for d in other) else "heterozygous"
        codes = ref[e.chrom]
        hgvs_g = f"{e.chrom}:g.{e.start}_{e.end}del" if e.kind == "deletion" else None
        entry: dict = {"hgvs_c": e.hgvs_c, "zygosity": zyg, "kind": e.kind, "chrom": e.chrom}
        if e.kind == "deletion":
            anchor = chr(_BASES[codes[e.start - 2]])
            entry.update(
                pos=e.start - 1,
                start=e.start,
                end=e.end,
                ref=anchor,
                alt="<DEL>",
                svlen=-(e.ref_length),
                hgvs_g=hgvs_g,
                genes=_overlapping_genes(genes, e.chrom, e.start, e.end),
            )
            exons = [
                f"{g.name}:{i + 1}"
                for g in genes.values()
                for i, (s, t) in enumerate(g.exons)
                if g.chrom == e.chrom and s <= e.end and t >= e.start
            ]
            deletions.append(
                {
                    "chrom": e.chrom,
                    "start": e.start,
                    "end": e.end,
                    "length": e.ref_length,
                    "zygosity": zyg,
                    "genes": entry["genes"],
                    "exons": exons,
                }
            )
        else:
            pos, r, a = normalize_vcf(codes, e)
            entry.update(pos=pos, ref=r, alt=a)
            if e.kind == "indel":
                entry.update(start=e.start, end=e.end)
        alleles.append(entry)
    copy_number, exon_cn = {}, {}
    for g in genes.values():
        per_exon = {}
        for i, (s, t) in enumerate(g.exons):
            lost = sum(any(d.chrom == g.chrom and d.start <= t and d.end >= s for d in hap) for hap in big)
            per_exon[str(i + 1)] = 2 - lost
        exon_cn[g.name] = per_exon
        copy_number[g.name] = min(per_exon.values()) if per_exon else 2
    differential = dict(sample.differential)
    return {
        "status": sample.status,
        "differential": {d: differential.get(d, "negative") for d in diseases},
        "alleles": alleles,
        "copy_number": copy_number,
        "exon_copy_number": exon_cn,
        "deletions": deletions,
        "depth": depth,
        "input": sample.input,
        "haplotypes": [[_edit_dict(e) for e in hap] for hap in (h1, h2)],
    }


def _edit_dict(e: Edit) -> dict:
    return {
        "chrom": e.chrom,
        "start": e.start,
        "end": e.end,
        "alt": e.alt,
        "kind": e.kind,
        "hgvs_c": e.hgvs_c,
    }


def write_population_vcf(
    path: str | Path, reference: str | Path, alleles: Mapping[str, Edit], af: Mapping[str, float]
) -> Path:
    """gnomAD-style sites VCF (INFO AC/AN/AF/nhomalt), bgzipped and tabix-indexed with pysam."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ref = load_reference(reference)
    rows = []
    for name, edit in alleles.items():
        pos, r, a = normalize_vcf(ref[edit.chrom], edit)
        freq = af[name]
        ac = max(1, round(freq * POPULATION_AN))
        nhom = round(POPULATION_AN / 2 * freq * freq)
        info = f"AC={ac};AN={POPULATION_AN};AF={freq:.3g};nhomalt={nhom};HGVSc={name}"
        rows.append(
            (list(ref).index(edit.chrom), pos, f"{edit.chrom}\t{pos}\t.\t{r}\t{a}\t.\tPASS\t{info}\n")
        )
    header = ["##fileformat=VCFv4.2", "##source=dira-genotyper simulate (synthetic population frequencies)"]
    header += [f"##contig=<ID={c},length={codes.size}>" for c, codes in ref.items()]
    header += [
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">',
        '##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Number of homozygous alternate individuals">',
        '##INFO=<ID=HGVSc,Number=1,Type=String,Description="HGVS c. name on the MANE transcript">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    plain = path.with_name(path.name.removesuffix(".gz") + ".tmp")
    plain.write_text("\n".join(header) + "\n" + "".join(r[2] for r in sorted(rows)))
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def _resources_digest(resources_dir: Path) -> str:
    h = hashlib.sha256()
    for name in (
        "build.json",
        "il1rn.gff3",
        "genes.tsv",
        "exons.tsv",
        "targets.bed",
        "controls.bed",
        "il1rn_cds_synthetic.fa",
        "mask.bed",
        "il36rn.gff3",
        "il36rn_cds_synthetic.fa",
    ):
        if (resources_dir / name).exists():
            h.update(name.encode() + b"\0" + (resources_dir / name).read_bytes())
    return h.hexdigest()[:16]


def _simulate_job(args: tuple) -> tuple[str, float]:
    reference, resources_dir, haplotypes, depth, seed, prefix, name = args
    t = time.perf_counter()
    simulate_sample(reference, resources_dir, haplotypes, depth, "wgs", seed, prefix, name)
    return name, time.perf_counter() - t


def make_test_cohort(
    out_dir: str | Path = "test-data",
    seed: int = DEFAULT_SEED,
    depth: float = 30,
    threads: int = 2,
    resources_dir: str | Path | None = None,
    force: bool = False,
) -> Path:
    """Write the bundled test cohort into ``out_dir`` and return the sample sheet's path.

    Skips all work when ``out_dir/.simulate-stamp.json`` records the same seed, depth, simulator version and
    resource files and every output exists (``force`` regenerates). Paths in ``samples.tsv`` start with
    ``out_dir`` as given (relative to the project root when ``out_dir`` is relative).
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    resources_dir = Path(resources_dir) if resources_dir else default_resources_dir()
    design = cohort_design(resources_dir)
    ref_path = out / "reference" / "synth.fa"
    sheet = out / "samples.tsv"
    stamp_path = out / ".simulate-stamp.json"
    stamp = {
        "seed": int(seed),
        "depth": float(depth),
        "sim_version": SIM_VERSION,
        "package": __version__,
        "resources": _resources_digest(resources_dir),
    }

    def sample_files(smp: CohortSample) -> list[Path]:
        if smp.input == "fastq":
            return [out / "fastq" / f"{smp.name}_R1.fastq.gz", out / "fastq" / f"{smp.name}_R2.fastq.gz"]
        if smp.input == "bam":
            return [out / "bam" / f"{smp.name}.bam", out / "bam" / f"{smp.name}.bam.bai"]
        return [out / "bam" / f"{smp.name}.cram", out / "bam" / f"{smp.name}.cram.crai"]

    def write_sheet() -> None:
        lines = ["sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"]
        for smp in design.samples:
            files = [str(p) for p in sample_files(smp)]
            fq1, fq2, bam = (files[0], files[1], "") if smp.input == "fastq" else ("", "", files[0])
            row = [smp.name, fq1, fq2, bam, smp.family, smp.father, smp.mother, smp.sex]
            lines.append("\t".join(row) + "\n")
        text = "".join(lines)
        if not sheet.exists() or sheet.read_text() != text:
            sheet.write_text(text)

    population = out / "population" / "population_af.vcf.gz"
    expected = [
        ref_path,
        Path(str(ref_path) + ".fai"),
        sheet,
        out / "truth.json",
        population,
        Path(str(population) + ".tbi"),
        out / "capture_panel.bed",
    ]
    expected += [Path(str(ref_path) + s) for s in _BWA_SUFFIXES]
    for smp in design.samples:
        expected += sample_files(smp)
    if not force and stamp_path.exists() and all(p.exists() for p in expected):
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                write_sheet()  # cheap; paths follow out_dir as given this time
                print(f"test-cohort: {out} is up to date (seed {seed}, depth {depth}); nothing to do")
                return sheet
        except json.JSONDecodeError:
            pass
    stamp_path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    make_reference(resources_dir, ref_path, seed)
    bwa_index(ref_path)
    t_ref = time.perf_counter() - t0
    ref = load_reference(ref_path)
    genes = read_genes(resources_dir)

    tmp_dir = out / "tmp"
    jobs = []
    for smp in design.samples:
        d = round(depth * smp.depth_factor, 3)
        d = int(d) if float(d).is_integer() else d
        prefix = (out / "fastq" / smp.name) if smp.input == "fastq" else (tmp_dir / smp.name)
        jobs.append((str(ref_path), str(resources_dir), smp.haplotypes, d, seed, str(prefix), smp.name))
    t1 = time.perf_counter()
    workers = max(1, min(int(threads), len(jobs)))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_simulate_job, jobs))
    else:
        for job in jobs:
            _simulate_job(job)
    t_reads = time.perf_counter() - t1

    t2 = time.perf_counter()
    for smp, job in zip(design.samples, jobs, strict=True):
        if smp.input == "fastq":
            continue
        prefix = job[5]
        fq1, fq2 = f"{prefix}_R1.fastq.gz", f"{prefix}_R2.fastq.gz"
        bam = out / "bam" / f"{smp.name}.bam"
        if smp.input == "bam":
            align_to_bam(ref_path, fq1, fq2, bam, smp.name, threads)
        else:
            align_to_bam(
                ref_path,
                fq1,
                fq2,
                bam,
                smp.name,
                threads,
                cram=out / "bam" / f"{smp.name}.cram",
                keep_bam=False,
            )
        Path(fq1).unlink()
        Path(fq2).unlink()
    shutil.rmtree(tmp_dir, ignore_errors=True)
    t_align = time.perf_counter() - t2

    truth = {}
    for smp, job in zip(design.samples, jobs, strict=True):
        truth[smp.name] = _sample_truth(smp, ref, genes, job[3], differential_diseases(resources_dir))
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    write_sheet()
    write_population_vcf(population, ref_path, design.alleles, POPULATION_AF)
    write_capture_bed(resources_dir, out / "capture_panel.bed")
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    total = time.perf_counter() - t0
    print(
        f"test-cohort: {len(design.samples)} samples at {depth}x in {total:.1f} s "
        f"(reference+index {t_ref:.1f} s, reads {t_reads:.1f} s on {workers} workers, "
        f"alignment {t_align:.1f} s with {threads} threads) -> {out}"
    )
    return sheet


# ---------------------------------------------------------------------------------------------------------
# CLI hook
# ---------------------------------------------------------------------------------------------------------


def _cli_test_cohort(args: argparse.Namespace) -> int:
    make_test_cohort(args.out, args.seed, args.depth, args.threads, args.resources, args.force)
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """Add ``test-cohort`` to the ``dira-genotyper`` sub-commands."""
    p = subparsers.add_parser(
        "test-cohort",
        help="generate the synthetic test cohort (reference, reads, BAM/CRAM, truth, population VCF)",
    )
    p.add_argument("--out", default="test-data", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    p.add_argument("--depth", type=float, default=30, help="read depth (default: %(default)s)")
    p.add_argument(
        "--threads", type=int, default=2, help="worker processes / bwa threads (default: %(default)s)"
    )
    p.add_argument(
        "--resources", default=None, help="build resources folder (default: the project's resources/SYNTH)"
    )
    p.add_argument("--force", action="store_true", help="regenerate even if the stamp file says up to date")
    p.set_defaults(func=_cli_test_cohort)
