"""Reads at a deletion junction: counts for genotyping one deletion (alt vs ref templates) and a scan for the
evidence any deletion in a region would leave (for ruling a deletion out). 0-based half-open coordinates.

The read signals themselves (split and clipped reads, long-insert pairs) are :mod:`dira_genotyper.cnv.breakpoints`'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pysam

from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS
from dira_genotyper.cnv.breakpoints import CLIP_OPS, InsertSizeModel, long_insert_pair, near, read_signals, usable_reads


@dataclass(frozen=True)
class JunctionCounts:
    """Templates that support a deletion junction (alt) or the reference across its ends (ref)."""

    alt: int
    ref_left: int
    ref_right: int
    split_reads: int
    discordant_pairs: int

    @property
    def ref(self) -> float:
        return (self.ref_left + self.ref_right) / 2.0


def _covers(read: pysam.AlignedSegment, pos: int, anchor: int) -> bool:
    """The read is aligned without a break over [pos - anchor, pos + anchor)."""
    lo, hi = pos - anchor, pos + anchor
    if read.reference_start > lo or read.reference_end < hi:
        return False
    return any(bs <= lo and be >= hi for bs, be in read.get_blocks())


def junction_counts(
    bam: pysam.AlignmentFile,
    chrom: str,
    start: int,
    end: int,
    isize: InsertSizeModel | None,
    min_mapq: int = 20,
    min_clip: int = 10,
    min_del: int = 50,
    anchor: int = 30,
    tol: int = 5,
) -> JunctionCounts:
    """Count alt and ref templates at a deletion of bases [start, end) (0-based) for genotyping.

    A template supports the deletion when one of its alignments is split or clipped at the junction, or when
    its insert size fits the deletion better than the reference (only for deletions several insert-size SDs
    long). It supports the reference at an end when a read aligns across that end with `anchor` bases on
    each side, or when its pair spans the end with a normal insert size.
    """
    size = end - start
    use_pairs = isize is not None and size > 4 * isize.sd
    reach = int(isize.max_normal) if isize else 0
    alt: set[str] = set()
    split: set[str] = set()
    disc: set[str] = set()
    ref_left: set[str] = set()
    ref_right: set[str] = set()
    fetches = [
        (max(0, start - reach - anchor), start + anchor + 1),
        (max(0, end - anchor - 1), end + reach + anchor),
    ]
    for read in usable_reads(bam, chrom, fetches, min_mapq):
        name = read.query_name
        for s in read_signals(read, chrom, min_clip, min_del):
            if near(s.left, start, tol) or near(s.right, end, tol):
                split.add(name)
        if _covers(read, start, anchor):
            ref_left.add(name)
        if _covers(read, end, anchor):
            ref_right.add(name)
        if use_pairs and long_insert_pair(read, chrom, 0):
            tlen = read.template_length
            mate_start = read.next_reference_start
            fits_alt = abs(tlen - size - isize.median) < abs(tlen - isize.median)
            if (
                fits_alt
                and read.reference_end <= start + tol + 10
                and mate_start >= end - tol - 10
                and abs(tlen - size - isize.median) <= max(5 * isize.sd, 100)
            ):
                disc.add(name)
            elif not fits_alt and abs(tlen - isize.median) <= max(5 * isize.sd, 100):
                frag_end = read.reference_start + tlen
                if read.reference_start < start - anchor and frag_end > start + anchor:
                    ref_left.add(name)
                if read.reference_start < end - anchor and frag_end > end + anchor:
                    ref_right.add(name)
    alt = split | disc
    ref_left -= alt
    ref_right -= alt
    return JunctionCounts(len(alt), len(ref_left), len(ref_right), len(split), len(disc - split))


@dataclass(frozen=True)
class JunctionScan:
    """Read evidence for a deletion junction anywhere in a region (for ruling a deletion out).

    `starts` is the most templates that agree (within the scan's tolerance) on one deletion start: reads
    whose alignment ends in a clip or a split there, or a long CIGAR deletion starting there. `ends` is the
    same for one deletion end, `pairs` counts the forward/reverse pairs whose insert is too long for the
    library and could span a deletion inside the region. The templates of any one deletion's junction are
    at most `starts + ends + pairs`, however the reads were aligned. `reads` and `mapq_reads` count the
    primary alignments that start in the region, all and those with MAPQ >= the scan's minimum.
    """

    starts: int
    ends: int
    pairs: int
    reads: int
    mapq_reads: int

    @property
    def most(self) -> int:
        return self.starts + self.ends + self.pairs

    @property
    def mappable(self) -> float:
        """Share of reads in the region that map uniquely enough to be counted (0.0 when there are none:
        a region without reads tells nothing about junctions)."""
        return self.mapq_reads / self.reads if self.reads else 0.0


def _most_at_one_position(positions: np.ndarray, templates: np.ndarray, tol: int) -> int:
    """The most distinct templates whose positions (sorted) lie within +-tol of one position."""
    best = 0
    for i in range(len(positions)):
        j = int(np.searchsorted(positions, positions[i] + 2 * tol, side="right"))
        if j - i > best:
            best = max(best, len(set(templates[i:j].tolist())))
    return best


class JunctionIndex:
    """Deletion-junction signals of one region, read once and then counted for any sub-region.

    Reads of every mapping quality are indexed (a junction read in a repeat counts too), so the counts can
    only err upwards, towards "there may be a junction". Coordinates are 0-based half-open.
    """

    def __init__(
        self,
        bam: pysam.AlignmentFile,
        chrom: str,
        start: int,
        end: int,
        isize: InsertSizeModel | None,
        min_mapq: int = 20,
        min_clip: int = 10,
        min_del: int = 50,
        tol: int = 10,
    ):
        self.chrom, self.start, self.end, self.isize, self.tol = chrom, start, end, isize, tol
        self.reach = int(isize.max_normal) if isize else 0
        ids: dict[tuple[str, bool], int] = {}
        left: list[tuple[int, int]] = []
        right: list[tuple[int, int]] = []
        pairs: list[tuple[int, int]] = []
        read_starts: list[int] = []
        read_ok: list[bool] = []
        if chrom in bam.references:
            for read in bam.fetch(chrom, max(0, start - self.reach), end + self.reach):
                if read.flag & MPILEUP_SKIP_FLAGS:
                    continue
                if not read.is_supplementary:
                    read_starts.append(read.reference_start)
                    read_ok.append(read.mapping_quality >= min_mapq)
                cigar = read.cigartuples
                if cigar and (
                    cigar[0][0] in CLIP_OPS
                    or cigar[-1][0] in CLIP_OPS
                    or any(op == 2 and n >= min_del for op, n in cigar)
                ):
                    for s in read_signals(read, chrom, min_clip, min_del):
                        key = ids.setdefault(s.key, len(ids))
                        if s.left is not None:
                            left.append((s.left, key))
                        if s.right is not None:
                            right.append((s.right, key))
                if isize and long_insert_pair(read, chrom, isize.max_normal):
                    pairs.append((read.reference_end, read.next_reference_start))

        def arrays(votes: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
            votes.sort()
            return (
                np.array([p for p, _ in votes], dtype=np.int64),
                np.array([k for _, k in votes], dtype=np.int64),
            )

        self._left, self._right = arrays(left), arrays(right)
        self._pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        order = np.argsort(read_starts, kind="stable")
        self._read_starts = np.asarray(read_starts, dtype=np.int64)[order]
        self._read_ok = np.cumsum(np.concatenate([[0], np.asarray(read_ok, dtype=np.int64)[order]]))

    def _most(self, votes: tuple[np.ndarray, np.ndarray], start: int, end: int) -> int:
        positions, templates = votes
        a = int(np.searchsorted(positions, start - self.tol, side="left"))
        b = int(np.searchsorted(positions, end + self.tol, side="right"))
        return _most_at_one_position(positions[a:b], templates[a:b], self.tol)

    def scan(self, start: int, end: int) -> JunctionScan:
        """Evidence for a junction of any deletion with both ends in [start, end), see `JunctionScan`."""
        read_end, mate_start = self._pairs[:, 0], self._pairs[:, 1]
        spanning = (
            (read_end >= start - self.reach)
            & (read_end <= end)
            & (mate_start >= start)
            & (mate_start <= end + self.reach)
        )
        a = int(np.searchsorted(self._read_starts, start, side="left"))
        b = int(np.searchsorted(self._read_starts, end, side="left"))
        return JunctionScan(
            self._most(self._left, start, end),
            self._most(self._right, start, end),
            int(spanning.sum()),
            b - a,
            int(self._read_ok[b] - self._read_ok[a]),
        )


def scan_junctions(
    bam: pysam.AlignmentFile,
    chrom: str,
    start: int,
    end: int,
    isize: InsertSizeModel | None,
    min_mapq: int = 20,
    min_clip: int = 10,
    min_del: int = 50,
    tol: int = 10,
) -> JunctionScan:
    """Junction evidence for any deletion with both ends in [start, end) (0-based), see `JunctionScan`."""
    return JunctionIndex(bam, chrom, start, end, isize, min_mapq, min_clip, min_del, tol).scan(start, end)
