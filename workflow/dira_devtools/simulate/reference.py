"""The synthetic reference: random sequence with regional GC variation, the MANE CDS of the target and
differential genes at their GFF3 coordinates, canonical splice motifs, and diverged repeat copies at the
RepeatMasker positions of ``mask.bed`` (young copies' siblings and a segmental duplication on a ``decoy``
contig). Positions are 1-based inclusive unless a name says ``0`` / ``bed`` (0-based half-open).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pysam

from dira_devtools.simulate.resources import (
    differential_genes,
    read_build,
    read_genes,
    read_synthetic_cds,
    read_transcript,
)
from dira_devtools.simulate.sequence import _BASES, _ENCODE, DEFAULT_SEED, _seed_for, revcomp
from dira_devtools.simulate.vntr import VNTR_COPY_DIVERGENCE, Vntr, vntr_locus
from dira_genotyper.locus import Locus, read_bed

# Reference ---------------------------------------------------------------------------------------------
GC_BLOCK_BP = (2000, 8000)
GC_RANGE = (0.35, 0.58)
MAX_HOMOPOLYMER = 8

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

# Sex chromosomes: two small contigs after the build's (and the decoy), drawn from their own random stream so that
# the other contigs stay as they were. The sample checks infer sex from the population's common SNVs on them (X
# heterozygosity, X and Y depth, :mod:`.families`): a male carries one X (from his mother) and a Y (from his
# father), a female two X. No pseudo-autosomal region and no X-Y homology (the real sites avoid both).
SEX_CONTIGS = {"chrX": 80_000, "chrY": 20_000}
REPEAT_EXON_PAD = 20


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


def _repeat_copy(
    rng: np.random.Generator, families: dict[str, list[np.ndarray]], family: str, length: int, divergence: float
) -> np.ndarray:
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
    locus_contig = read_build(resources_dir).locus_contig
    genes = sorted((g for g in read_genes(resources_dir).values() if g.chrom == locus_contig), key=lambda g: g.start)
    gaps = [
        (b.start - a.end, a.end, b.start)
        for a, b in zip(genes, genes[1:], strict=False)
        if b.start - a.end > 2 * SEGDUP_BP
    ]
    if gaps:
        _, a_end, b_start = max(gaps)
        mid = (a_end + b_start) // 2 - SEGDUP_BP // 2
        pieces.append(_diverge(rng, seqs[locus_contig][mid : mid + SEGDUP_BP], SEGDUP_DIVERGENCE))
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


def lay_vntr(resources_dir: str | Path, seqs: dict[str, np.ndarray], seed: int) -> Vntr:
    """Write the IL1RN intron-2 VNTR's reference allele (:mod:`.vntr`: 4 copies of a random 86-bp unit, each
    diverged by ``VNTR_COPY_DIVERGENCE``) at its place (in place; own random stream) and return the locus."""
    vntr = vntr_locus(resources_dir)
    rng = np.random.default_rng(_seed_for(seed, "vntr"))
    unit, _ = random_sequence(rng, vntr.unit, block_bp=(vntr.unit, vntr.unit), gc_range=(0.45, 0.55))
    copies = [unit] + [_diverge(rng, unit, VNTR_COPY_DIVERGENCE) for _ in range(vntr.copies - 1)]
    seqs[vntr.chrom][vntr.start - 1 : vntr.end] = np.concatenate(copies)
    return vntr


def make_reference(resources_dir: str | Path, out_fasta: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the synthetic reference FASTA (60 columns) and its .fai.

    Contigs and lengths come from ``build.json``, then the decoy and the sex chromosomes (``SEX_CONTIGS``). The
    IL1RN MANE CDS of ``il1rn_cds_synthetic.fa`` is laid at the CDS rows of ``il1rn.gff3``; every intron of the
    MANE transcript and of the genes in ``exons.tsv`` starts with GT and ends with AG (on the gene's strand);
    IL1RN intron 2 holds the 86-bp VNTR (:func:`lay_vntr`, 4 copies).
    """
    resources_dir, out_fasta = Path(resources_dir), Path(out_fasta)
    build = read_build(resources_dir)
    rng = np.random.default_rng(_seed_for(seed, "reference"))
    seqs = {name: random_sequence(rng, length)[0] for name, length in build.contigs.items()}

    tx = read_transcript(resources_dir)
    cds = read_synthetic_cds(resources_dir)
    if len(cds) != tx.cds_length:
        raise ValueError(f"CDS FASTA has {len(cds)} nt but the GFF3 CDS rows cover {tx.cds_length}")
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
    lay_vntr(resources_dir, seqs, seed)
    planted = [(tx, cds)]
    for name in differential_genes(resources_dir):
        dtx, dcds = read_transcript(resources_dir, name), read_synthetic_cds(resources_dir, name)
        if len(dcds) != dtx.cds_length:
            raise ValueError(f"{name}: CDS FASTA has {len(dcds)} nt but the GFF3 CDS rows cover {dtx.cds_length}")
        planted.append((dtx, dcds))
    protected = {name: np.zeros(codes.size, dtype=bool) for name, codes in seqs.items()}  # CDS bases per contig
    for ptx, _ in planted:
        for s, e in ptx.cds:
            protected[ptx.chrom][s - 1 : e] = True
    for gene in read_genes(resources_dir).values():
        for pos, motif in _splice_sites(gene.exons, gene.strand):
            if not protected[gene.chrom][pos - 1 : pos + 1].any():
                _put(seqs[gene.chrom], pos, motif)
    for ptx, pcds in planted:
        for pos, motif in _splice_sites(ptx.exons, ptx.strand):
            if protected[ptx.chrom][pos - 1 : pos + 1].any():
                raise ValueError(f"splice motif at {ptx.chrom}:{pos} would overwrite the CDS")
            _put(seqs[ptx.chrom], pos, motif)
        offset = 0
        for s, e in ptx.cds:
            piece = pcds[offset : offset + e - s + 1]
            _put(seqs[ptx.chrom], s, piece if ptx.strand == "+" else revcomp(piece))
            offset += e - s + 1
    for chrom, (pos, base) in _intronic_reference_bases(resources_dir, planted):
        if not protected[chrom][pos - 1]:
            _put(seqs[chrom], pos, base)
    sex_rng = np.random.default_rng(_seed_for(seed, "sex chromosomes"))
    for name, length in SEX_CONTIGS.items():
        seqs[name] = random_sequence(sex_rng, length)[0]
        _break_homopolymers(seqs[name], sex_rng)

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
    tables = {"IL1RN": resources_dir.parent / "known_dira_variants.tsv"}
    meta = Locus.load(resources_dir).meta
    tables.update({d["gene"]: resources_dir.parent / d["known"] for d in meta.get("differential", [])})
    out = []
    for ptx, _cds in planted:
        gene = ptx.gene or "IL1RN"
        table = tables.get(gene)
        if table is None or not table.exists():
            continue
        model = ptx.model
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
    with pysam.FastaFile(str(fasta)) as ref:
        return read_transcript(resources_dir).model.cds_sequence(ref.fetch)
