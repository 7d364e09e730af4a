"""Indel genotypes from whole-read realignment to the reference and the alternate haplotype.

bcftools counts a read for an indel only when the read's alignment shows it. A read that carries a long
insertion near its end is usually aligned with the inserted bases soft-clipped, and then counts as reference:
a homozygous 15 bp duplication comes out 0/1, a heterozygous one with a low allele fraction. Here every read
near the indel is compared, whole (soft clips included), with the two local haplotypes (edit distance, the
read free to start anywhere in the haplotype: edlib "HW" mode). The read's likelihood under a haplotype is
``err ** edits``; a fragment's two mates are combined, and one fragment's log-likelihood ratio is capped, so
that a single chimeric or mismapped fragment cannot decide a genotype. Genotype likelihoods follow for 0/0,
0/1 and 1/1 (allele fraction 0, 0.5, 1), with PL, GQ (second-best PL, capped at 99) and QUAL (Phred of
P(0/0), flat genotype prior).

Reads that match both haplotypes equally (they end before the indel, or inside a repeat it extends) are not
informative and are counted as ``ambiguous``.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from dataclasses import dataclass

import edlib
import pysam

from dira_genotyper.calling.read_filter import FSUPPLEMENTARY, ReadFilter

READ_ERROR = 0.01  # probability of one edit (sequencing or alignment error) in a read
MAX_FRAGMENT_LOD = 4.0  # log10 cap of one fragment's likelihood ratio between the haplotypes (40 Phred)
MAX_GQ = 99
MAX_READS = 600  # reads realigned per indel (more are downsampled): ~200x of 150 bp reads
# Reads are chosen with the caller's ReadFilter (flags, MAPQ, orphan pairs: the reads bcftools mpileup uses),
# and supplementary alignments are left out too: a supplementary piece of a read already counted would count
# the same fragment twice. A plain int where a filter is expected is a minimum MAPQ (ReadFilter.coerce).
EXTRA_SKIP_FLAGS = FSUPPLEMENTARY


@dataclass(frozen=True)
class IndelSupport:
    """Fragments supporting each allele, and the genotype they give."""

    ref: int
    alt: int
    ambiguous: int
    reads: int  # usable reads overlapping the indel (soft clips included)
    edits_saved: int  # sum over reads of (edits to the reference haplotype - edits to the alternate one)
    genotype: tuple[int, int] | None  # None: no informative fragment
    pl: tuple[int, int, int]
    gq: int
    qual: float

    @property
    def informative(self) -> int:
        return self.ref + self.alt


def haplotypes(fasta: pysam.FastaFile, chrom: str, start0: int, ref: str, alt: str, flank: int) -> tuple[str, str]:
    """Reference and alternate sequence of [start0 - flank, start0 + len(ref) + flank)."""
    lo = max(0, start0 - flank)
    left = fasta.fetch(chrom, lo, start0).upper()
    right = fasta.fetch(chrom, start0 + len(ref), start0 + len(ref) + flank).upper()
    genome_ref = fasta.fetch(chrom, start0, start0 + len(ref)).upper()
    if genome_ref != ref.upper():
        raise ValueError(f"{chrom}:{start0 + 1} REF {ref} does not match the reference ({genome_ref})")
    return left + ref.upper() + right, left + alt.upper() + right


def unclipped_span(read: pysam.AlignedSegment) -> tuple[int, int]:
    lead = read.query_alignment_start
    trail = read.query_length - read.query_alignment_end
    return read.reference_start - lead, read.reference_end + trail


def read_allele_fit(read: pysam.AlignedSegment, ref_hap: str, alt_hap: str) -> int:
    """Edits the alternate haplotype saves over the reference one for one read, compared whole (soft clips
    included, wherever its aligner put a gap): > 0 the read fits the alternate allele, < 0 the reference, 0 it
    cannot tell (it ends before the allele, or inside a repeat the allele extends)."""
    seq = (read.query_sequence or "").upper()
    return _distance(seq, ref_hap) - _distance(seq, alt_hap) if seq else 0


def _usable(read: pysam.AlignedSegment, reads: ReadFilter) -> bool:
    return not read.flag & EXTRA_SKIP_FLAGS and reads.passes(read)


def _usable_reads(
    bam: pysam.AlignmentFile, chrom: str, lo: int, hi: int, min_mapq: ReadFilter | int
) -> list[pysam.AlignedSegment]:
    """Reads the caller uses (``ReadFilter.passes``: skip flags, MAPQ, proper pairs), not supplementary, whose
    span with soft clips touches [lo, hi] (0-based), downsampled."""
    reads, read_filter = [], ReadFilter.coerce(min_mapq)
    for r in bam.fetch(chrom, max(0, lo - 1000), hi + 1000):
        if not _usable(r, read_filter) or not r.query_sequence:
            continue
        first, last = unclipped_span(r)
        if first <= hi and last >= lo:
            reads.append(r)
    return _downsample(reads)


@dataclass
class _Site:
    """The reads over one REF allele and their edit distances to the reference haplotype, computed once for
    any number of alternate alleles of one length (the haplotype window depends on it)."""

    reads: list[pysam.AlignedSegment]
    left: str
    right: str
    ref_distances: list[int]

    @classmethod
    def load(
        cls,
        bam: pysam.AlignmentFile,
        fasta: pysam.FastaFile,
        chrom: str,
        pos: int,
        ref: str,
        alt_length: int,
        min_mapq: ReadFilter | int,
    ) -> _Site:
        start0 = pos - 1
        reads = _usable_reads(bam, chrom, start0, start0 + len(ref), min_mapq)
        if not reads:
            return cls([], "", "", [])
        flank = max(r.query_length for r in reads) + len(ref) + alt_length + 20
        ref_hap, empty_hap = haplotypes(fasta, chrom, start0, ref, "", flank)
        left, right = empty_hap[: min(flank, start0)], empty_hap[min(flank, start0) :]
        return cls(reads, left, right, [_distance(r.query_sequence.upper(), ref_hap) for r in reads])

    def edits_saved_per_read(self, alt: str) -> list[int]:
        alt_hap = self.left + alt.upper() + self.right
        return [
            d - _distance(r.query_sequence.upper(), alt_hap)
            for r, d in zip(self.reads, self.ref_distances, strict=True)
        ]


def _downsample(reads: list[pysam.AlignedSegment]) -> list[pysam.AlignedSegment]:
    """At most about MAX_READS reads, chosen by a hash of the read name (mates stay together; reproducible),
    so that realignment time stays bounded on amplicon-depth data."""
    if len(reads) <= MAX_READS:
        return reads
    keep = math.ceil(len(reads) / MAX_READS)
    return [r for r in reads if zlib.crc32(r.query_name.encode()) % keep == 0]


def _distance(read_seq: str, hap: str) -> int:
    return edlib.align(read_seq, hap, mode="HW", task="distance")["editDistance"]


def fragment_lods(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    min_mapq: ReadFilter | int,
) -> tuple[list[float], int, int]:
    """log10 P(fragment | alt) - log10 P(fragment | ref) for each fragment overlapping the indel (1-based pos),
    the number of reads, and the edits the alternate haplotype saves over all reads."""
    site = _Site.load(bam, fasta, chrom, pos, ref, len(alt), min_mapq)
    if not site.reads:
        return [], 0, 0
    per_fragment: dict[str, float] = defaultdict(float)
    lod_edit = -math.log10(READ_ERROR)
    diffs = site.edits_saved_per_read(alt)  # > 0: the read is closer to the alt haplotype
    for read, diff in zip(site.reads, diffs, strict=True):
        per_fragment[read.query_name] += diff * lod_edit
    return list(per_fragment.values()), len(site.reads), sum(diffs)


def genotype_from_lods(lods: list[float], reads: int = 0, edits_saved: int = 0) -> IndelSupport:
    """Genotype likelihoods for allele fractions 0, 0.5 and 1 from per-fragment likelihood ratios (capped)."""
    lods = [max(-MAX_FRAGMENT_LOD, min(MAX_FRAGMENT_LOD, x)) for x in lods]
    ref = sum(1 for x in lods if x < 0)
    alt = sum(1 for x in lods if x > 0)
    ambiguous = len(lods) - ref - alt
    if not ref + alt:
        return IndelSupport(ref, alt, ambiguous, reads, edits_saved, None, (0, 0, 0), 0, 0.0)
    gl = [0.0, 0.0, 0.0]  # log10 likelihoods, each fragment relative to P(fragment | ref)
    for x in lods:
        gl[1] += math.log10(0.5 + 0.5 * 10**x)
        gl[2] += x
    best = max(gl)
    pl = tuple(min(9999, round(-10 * (g - best))) for g in gl)
    order = sorted(range(3), key=lambda i: (pl[i], i))
    genotype = ((0, 0), (0, 1), (1, 1))[order[0]]
    gq = min(MAX_GQ, pl[order[1]])
    return IndelSupport(ref, alt, ambiguous, reads, edits_saved, genotype, pl, gq, qual_from_pl(pl))


def qual_from_pl(pl: tuple[int, ...]) -> float:
    """Phred-scaled P(genotype 0/0 | reads) with a flat genotype prior, from Phred genotype likelihoods."""
    weights = [10 ** (-x / 10) for x in pl]
    p_ref = weights[0] / sum(weights)
    return round(min(999.0, -10 * math.log10(max(p_ref, 1e-100))), 2)


def indel_support(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    min_mapq: ReadFilter | int,
) -> IndelSupport:
    return genotype_from_lods(*fragment_lods(bam, fasta, chrom, pos, ref, alt, min_mapq))


# --- candidates bcftools does not propose ------------------------------------------------------------------
def cigar_indel_candidates(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    regions: list[tuple[str, int, int]],
    min_mapq: ReadFilter | int,
    min_length: int = 3,
) -> set[tuple[str, int, str, str]]:
    """Indels of >= ``min_length`` bp in the CIGAR of any usable read, inside the 0-based ``regions``, as
    left-aligned VCF alleles (chrom, 1-based pos, REF, ALT with the anchor base).

    bcftools proposes an indel only when enough reads show it as a gap; when most reads carry a long insertion
    soft-clipped, one read with the gap in its CIGAR is all there is. These candidates are then genotyped by
    realignment like any other indel.
    """
    found, read_filter = set(), ReadFilter.coerce(min_mapq)
    for chrom, start, end in regions:
        for read in bam.fetch(chrom, start, end):
            if not _usable(read, read_filter) or not read.cigartuples:
                continue
            rpos, qpos = read.reference_start, 0
            for op, length in read.cigartuples:
                if op in (0, 7, 8):
                    rpos, qpos = rpos + length, qpos + length
                elif op == 1:
                    if length >= min_length and start <= rpos <= end and rpos > 0:
                        found.add(left_align(fasta, chrom, rpos, "", read.query_sequence[qpos : qpos + length]))
                    qpos += length
                elif op == 2:
                    if length >= min_length and rpos < end and rpos + length > start and rpos > 0:
                        found.add(left_align(fasta, chrom, rpos, fasta.fetch(chrom, rpos, rpos + length), ""))
                    rpos += length
                elif op == 3:
                    rpos += length
                elif op == 4:
                    qpos += length
    return found


def left_align(fasta: pysam.FastaFile, chrom: str, at0: int, deleted: str, inserted: str) -> tuple[str, int, str, str]:
    """VCF form of deleting ``deleted`` at 0-based ``at0`` or inserting ``inserted`` before it, shifted left."""
    deleted, inserted = deleted.upper(), inserted.upper()
    lo = max(0, at0 - 1000)
    window = fasta.fetch(chrom, lo, at0 + len(deleted)).upper()
    i = at0 - lo  # index in window of the first deleted base / the base after the insertion
    if deleted:
        while i > 1 and window[i - 1] == window[i - 1 + len(deleted)]:
            i -= 1
        deleted = window[i : i + len(deleted)]
    else:
        while i > 1 and window[i - 1] == inserted[-1]:
            inserted = window[i - 1] + inserted[:-1]
            i -= 1
    anchor = window[i - 1]
    return chrom, lo + i, anchor + deleted, anchor + inserted


def polish_insertion(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    min_mapq: ReadFilter | int,
    max_rounds: int = 3,
) -> tuple[str, int, str, str]:
    """The inserted sequence that best explains the reads, from single-base changes to ``alt`` (hill climbing
    on the edits saved over all reads), left-aligned. An insertion proposed from one read's alignment, or by
    bcftools from a few gapped reads, can carry that read's sequencing errors; most reads carry it
    soft-clipped, and those decide here."""
    if len(ref) != 1 or len(alt) < 4:
        return chrom, pos, ref, alt
    site = _Site.load(bam, fasta, chrom, pos, ref, len(alt), min_mapq)  # every trial has this REF and length
    inserted = alt[1:]
    score = sum(site.edits_saved_per_read(ref + inserted))
    for _ in range(max_rounds):
        improved = False
        for i in range(len(inserted)):
            for base in "ACGT":
                if base == inserted[i]:
                    continue
                trial = inserted[:i] + base + inserted[i + 1 :]
                trial_score = sum(site.edits_saved_per_read(ref + trial))
                if trial_score > score:
                    score, inserted, improved = trial_score, trial, True
        if not improved:
            break
    if ref + inserted == alt:
        return chrom, pos, ref, alt
    return left_align(fasta, chrom, pos, "", inserted)


def unique_support(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    chrom: str,
    variants: list[tuple[int, str, str]],
    min_mapq: ReadFilter | int,
) -> list[int]:
    """For nearby indels (1-based pos, REF, ALT), the reads each one explains strictly better than the
    reference and every other one (each haplotype carries one indel). Two records of one event (the same
    insertion written at two places) share their reads: the worse one explains none alone."""
    lo = min(pos - 1 for pos, _, _ in variants)
    hi = max(pos - 1 + len(ref) for pos, ref, _ in variants)
    reads = _usable_reads(bam, chrom, lo, hi, min_mapq)
    counts = [0] * len(variants)
    if not reads:
        return counts
    flank = max(r.query_length for r in reads) + max(len(a) + len(b) for _, a, b in variants) + 20
    start = max(0, lo - flank)
    window = fasta.fetch(chrom, start, hi + flank).upper()
    haps = [window]
    for pos, ref, alt in variants:
        i = pos - 1 - start
        haps.append(window[:i] + alt.upper() + window[i + len(ref) :])
    for read in reads:
        seq = read.query_sequence.upper()
        dist = [_distance(seq, hap) for hap in haps]
        best = min(dist)
        if dist.count(best) == 1 and dist.index(best) > 0:
            counts[dist.index(best) - 1] += 1
    return counts
