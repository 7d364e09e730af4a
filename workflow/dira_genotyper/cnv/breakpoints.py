"""Breakpoint refinement for depth-called deletions: split reads (SA tags, soft clips) and discordant pairs.

A depth segment knows its ends only to a bin. Reads that cross the junction pin them to the base: the left
part of a split read ends (right soft clip) at the first deleted base and its other part starts (left soft
clip) at the first base after the deletion; read pairs that span the junction have an insert size larger
than the library's by about the deletion's size. All coordinates here are 0-based half-open unless a name
says otherwise.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pysam

from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS  # unmapped, secondary, QC fail, duplicate

log = logging.getLogger(__name__)

CLIP_OPS = (4, 5)  # soft clip, hard clip
_REF_OPS = {0, 2, 3, 7, 8}  # M, D, N, =, X consume the reference


@dataclass(frozen=True)
class InsertSizeModel:
    """Robust centre and spread of the library's insert size (from pairs in normal regions)."""

    median: float
    sd: float
    n_pairs: int

    @property
    def max_normal(self) -> float:
        return self.median + max(5.0 * self.sd, 100.0)


@dataclass(frozen=True)
class BreakpointCall:
    """A deletion's junction: deleted bases are [start, end) (0-based), with the reads that support it."""

    start: int
    end: int
    split_reads: int
    discordant_pairs: int
    precise: bool


@dataclass(frozen=True)
class _Signal:
    """One read's vote for a junction side or for a (left, right) junction pair."""

    key: tuple[str, bool]
    left: int | None
    right: int | None


def open_alignments(bam_path: str, reference_fasta: str | None = None) -> pysam.AlignmentFile:
    kwargs = {"reference_filename": reference_fasta} if reference_fasta else {}
    return pysam.AlignmentFile(str(bam_path), **kwargs)


def insert_size_model(
    bam: pysam.AlignmentFile, regions: list[tuple[str, int, int]], min_mapq: int = 20, max_pairs: int = 20000
) -> InsertSizeModel | None:
    """Insert sizes of proper FR pairs in the given (normal) regions; None for unpaired data."""
    sizes: list[int] = []
    for chrom, start, end in regions:
        if chrom not in bam.references:
            continue
        for read in bam.fetch(chrom, start, end):
            if (
                read.flag & MPILEUP_SKIP_FLAGS
                or read.is_supplementary
                or not read.is_paired
                or not read.is_proper_pair
                or read.mapping_quality < min_mapq
                or read.template_length <= 0
            ):
                continue
            sizes.append(read.template_length)
            if len(sizes) >= max_pairs:
                break
        if len(sizes) >= max_pairs:
            break
    if len(sizes) < 50:
        return None
    arr = np.asarray(sizes, dtype=float)
    median = float(np.median(arr))
    sd = float(1.4826 * np.median(np.abs(arr - median)))
    return InsertSizeModel(median=median, sd=max(sd, 1.0), n_pairs=len(sizes))


def _ref_length(cigar: str) -> int:
    total, number = 0, ""
    for ch in cigar:
        if ch.isdigit():
            number += ch
            continue
        if ch in "MDN=X":
            total += int(number)
        number = ""
    return total


def _cigar_clips(cigar: str) -> tuple[int, int, int]:
    """Leading clip, trailing clip (S or H) and full query length of a CIGAR string."""
    ops: list[tuple[int, str]] = []
    number = ""
    for ch in cigar:
        if ch.isdigit():
            number += ch
        else:
            ops.append((int(number), ch))
            number = ""
    lead = ops[0][0] if ops and ops[0][1] in "SH" else 0
    trail = ops[-1][0] if ops and ops[-1][1] in "SH" else 0
    return lead, trail, sum(n for n, op in ops if op in "MIS=XH")


def read_signals(read: pysam.AlignedSegment, chrom: str, min_clip: int, min_del: int) -> list[_Signal]:
    """Deletion-junction votes from one alignment: clips, SA partners and long CIGAR deletions."""
    signals: list[_Signal] = []
    cigar = read.cigartuples or []
    if not cigar:
        return signals
    key = (read.query_name, bool(read.is_read1))
    lead = cigar[0][1] if cigar[0][0] in CLIP_OPS else 0
    trail = cigar[-1][1] if cigar[-1][0] in CLIP_OPS else 0
    qlen = sum(n for op, n in cigar if op in (0, 1, 4, 5, 7, 8))
    # SA start, end, leading clip, trailing clip, query length. The two parts of a split read may both
    # claim the few query bases at the junction; the right part's start is moved past them.
    partners: list[tuple[int, int, int, int, int]] = []
    if read.has_tag("SA"):
        strand = "-" if read.is_reverse else "+"
        for entry in str(read.get_tag("SA")).split(";"):
            fields = entry.split(",")
            if len(fields) < 6 or fields[0] != chrom or fields[2] != strand:
                continue
            sa_start = int(fields[1]) - 1
            sa_lead, sa_trail, sa_qlen = _cigar_clips(fields[3])
            partners.append((sa_start, sa_start + _ref_length(fields[3]), sa_lead, sa_trail, sa_qlen))
    if trail >= min_clip:
        left = read.reference_end
        right = None
        for sa_start, _sa_end, sa_lead, _, _ in partners:
            if sa_lead >= min_clip and sa_start - left >= min_del:
                right = sa_start + max(0, (qlen - trail) - sa_lead)
        signals.append(_Signal(key, left, right))
    if lead >= min_clip:
        right = read.reference_start
        left = None
        for _sa_start, sa_end, _, sa_trail, sa_qlen in partners:
            if sa_trail >= min_clip and right - sa_end >= min_del:
                left = sa_end
                right = read.reference_start + max(0, (sa_qlen - sa_trail) - lead)
        signals.append(_Signal(key, left, right))
    pos = read.reference_start
    for op, length in cigar:
        if op == 2 and length >= min_del:
            signals.append(_Signal(key, pos, pos + length))
        if op in _REF_OPS:
            pos += length
    return signals


def usable_reads(
    bam: pysam.AlignmentFile, chrom: str, windows: list[tuple[int, int]], min_mapq: int
) -> Iterator[pysam.AlignedSegment]:
    """Reads in the windows (overlapping windows merged), each once, without unmapped, secondary, QC-fail,
    duplicate or low-MAPQ records."""
    merged: list[list[int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    seen: set[tuple[str, int, int]] = set()
    for start, end in merged:
        for read in bam.fetch(chrom, start, end):
            if read.flag & MPILEUP_SKIP_FLAGS or read.mapping_quality < min_mapq:
                continue
            if len(merged) > 1:  # a read spanning the gap is fetched by both windows
                ident = (read.query_name, read.flag, read.reference_start)
                if ident in seen:
                    continue
                seen.add(ident)
            yield read


def long_insert_pair(read: pysam.AlignedSegment, chrom: str, min_insert: float) -> bool:
    """The forward read of a forward/reverse pair on `chrom` with an insert longer than `min_insert`.

    The one long-insert (discordant) pair test: a pair that may span a deletion, seen once per template
    (the forward read's primary alignment). `min_insert` is the library's `max_normal`, or 0 for every such
    pair (`junction_counts` sorts them into alt and ref by their insert itself).
    """
    return (
        read.is_paired
        and not read.is_supplementary
        and not read.mate_is_unmapped
        and read.next_reference_name == chrom
        and not read.is_reverse
        and read.mate_is_reverse
        and read.template_length > min_insert
    )


def near(value: int | None, target: int, tol: int) -> bool:
    return value is not None and abs(value - target) <= tol


def _cluster_mode(values: list[int], tol: int) -> tuple[int | None, int]:
    """The position with the most votes within +-tol (ties: the smallest position)."""
    if not values:
        return None, 0
    counts = Counter(values)
    best, best_n = None, 0
    for pos in sorted(counts):
        n = sum(c for p, c in counts.items() if abs(p - pos) <= tol)
        if n > best_n:
            best, best_n = pos, n
    # Report the exact position most reads agree on within that cluster.
    cluster = {p: c for p, c in counts.items() if abs(p - best) <= tol}
    exact = max(sorted(cluster), key=lambda p: cluster[p])
    return exact, best_n


def find_breakpoints(
    bam: pysam.AlignmentFile,
    chrom: str,
    start: int,
    end: int,
    slack: int,
    isize: InsertSizeModel | None,
    min_mapq: int = 20,
    min_clip: int = 10,
    min_support: int = 2,
    min_del: int = 50,
    tol: int = 5,
    fasta: pysam.FastaFile | None = None,
) -> BreakpointCall:
    """Refine an approximate deletion [start, end) whose ends are known to within `slack` bases.

    With `fasta`, soft clips too short for a supplementary alignment are placed on the reference too.
    """
    left_lo, left_hi = max(0, start - slack), start + slack
    right_lo, right_hi = max(0, end - slack), end + slack
    reach = int(isize.max_normal) if isize else 0
    fetches = [(max(0, left_lo - reach), left_hi + 1), (right_lo, right_hi + reach + 1)]
    signals: list[_Signal] = []
    pairs: list[tuple[tuple[str, bool], int, int, int]] = []  # key, left read end, mate start, template length
    seq = ""
    if fasta is not None and chrom in fasta.references:
        seq = fasta.fetch(chrom, left_lo, right_hi + 200).upper()
    for read in usable_reads(bam, chrom, fetches, min_mapq):
        signals.extend(read_signals(read, chrom, min_clip, min_del))
        if seq:
            signals.extend(_clip_partner(read, seq, left_lo, min_del, len(seq), 16))
        if isize and long_insert_pair(read, chrom, isize.max_normal):
            pairs.append(
                (
                    (read.query_name, True),
                    read.reference_end,
                    read.next_reference_start,
                    read.template_length,
                )
            )

    def in_left(x: int | None) -> bool:
        return x is not None and left_lo <= x <= left_hi

    def in_right(x: int | None) -> bool:
        return x is not None and right_lo <= x <= right_hi

    linked = [(s.left, s.right) for s in signals if in_left(s.left) and in_right(s.right) and s.right > s.left]
    new_start, new_end = start, end
    precise = False
    if linked:
        counts = Counter(linked)
        best = max(
            sorted(counts),
            key=lambda lr: sum(c for (a, b), c in counts.items() if abs(a - lr[0]) <= tol and abs(b - lr[1]) <= tol),
        )
        new_start, new_end = best
    else:
        left_pos, left_n = _cluster_mode([s.left for s in signals if in_left(s.left)], tol)
        right_pos, right_n = _cluster_mode([s.right for s in signals if in_right(s.right)], tol)
        if (
            left_pos is not None
            and right_pos is not None
            and right_pos > left_pos
            and left_n >= min_support
            and right_n >= min_support
        ):
            new_start, new_end = left_pos, right_pos
        elif pairs:
            spanning = [p for p in pairs if in_left(p[1]) or in_right(p[2])]
            if spanning:
                new_start = (
                    max(p[1] for p in spanning if p[1] <= left_hi) if any(p[1] <= left_hi for p in spanning) else start
                )
                new_end = (
                    min(p[2] for p in spanning if p[2] >= right_lo) if any(p[2] >= right_lo for p in spanning) else end
                )
                if new_end <= new_start:
                    new_start, new_end = start, end

    split_keys = {s.key for s in signals if near(s.left, new_start, tol) or near(s.right, new_end, tol)}
    precise = (
        len(split_keys) >= min_support
        and any(near(s.left, new_start, tol) for s in signals)
        and any(near(s.right, new_end, tol) for s in signals)
    )
    size = new_end - new_start
    discordant = 0
    if isize:
        for _key, read_end, mate_start, tlen in pairs:
            if read_end > new_start + tol + 10 or mate_start < new_end - tol - 10:
                continue
            if read_end < new_start - isize.max_normal or mate_start > new_end + isize.max_normal:
                continue
            if abs(tlen - size - isize.median) <= max(5.0 * isize.sd, 100.0):
                discordant += 1
    return BreakpointCall(
        start=int(new_start),
        end=int(new_end),
        split_reads=len(split_keys),
        discordant_pairs=discordant,
        precise=bool(precise),
    )


def _place_clip(clip: str, seq: str, lo: int, hi: int, anchor_at_start: bool, kmer: int = 10) -> int | None:
    """Where `clip` lies in seq[lo:hi]: exact k-mer probes (clip tails are error-prone, so several), then
    <= 10% mismatches over the whole clip. Returns the 0-based start of the single placement, else None."""
    lo, hi = max(0, lo), min(len(seq), hi)
    if hi - lo < len(clip) or "N" in clip:
        return None
    allowed = max(1, len(clip) // 10)
    verified: set[int] = set()
    shifts = sorted(set(range(0, len(clip) - kmer + 1, kmer - 2)) | {len(clip) - kmer})
    if not anchor_at_start:
        shifts = shifts[::-1]
    for shift in shifts:
        probe = clip[shift : shift + kmer]
        pos = seq.find(probe, lo + shift, hi)
        tried = 0
        while pos >= 0 and tried < 50:
            tried += 1
            begin = pos - shift
            if begin not in verified and begin >= lo and begin + len(clip) <= hi:
                window = seq[begin : begin + len(clip)]
                if sum(a != b for a, b in zip(window, clip, strict=True)) <= allowed:
                    verified.add(begin)
            pos = seq.find(probe, pos + 1, hi)
        if len(verified) > 1:
            return None
    return next(iter(verified)) if len(verified) == 1 else None


def _clip_partner(
    read: pysam.AlignedSegment, seq: str, offset: int, min_del: int, max_del: int, min_len: int
) -> list[_Signal]:
    """Junctions found by placing a soft clip's bases on the reference (for clips too short for an SA)."""
    out: list[_Signal] = []
    cigar = read.cigartuples
    query = read.query_sequence
    if not cigar or not query:
        return out
    key = (read.query_name, bool(read.is_read1))
    if cigar[-1][0] == 4 and cigar[-1][1] >= min_len:
        left = read.reference_end
        clip = query[len(query) - cigar[-1][1] :][:40]
        hit = _place_clip(clip, seq, left + min_del - offset, left + max_del - offset + len(clip), True)
        if hit is not None:
            out.append(_Signal(key, left, hit + offset))
    if cigar[0][0] == 4 and cigar[0][1] >= min_len:
        right = read.reference_start
        clip = query[: cigar[0][1]][-40:]
        hit = _place_clip(clip, seq, right - max_del - len(clip) - offset, right - min_del - offset, False)
        if hit is not None:
            out.append(_Signal(key, hit + len(clip) + offset, right))
    return out


def discover_deletions(
    bam: pysam.AlignmentFile,
    regions: list[tuple[str, int, int]],
    min_mapq: int = 20,
    min_clip: int = 10,
    min_del: int = 50,
    min_support: int = 3,
    tol: int = 5,
    fasta: pysam.FastaFile | None = None,
    max_del: int = 500_000,
    min_clip_placed: int = 16,
) -> list[tuple[str, int, int, int]]:
    """Deletion junctions seen directly in reads: (chrom, start, end, supporting templates), 0-based.

    Evidence: SA-linked split reads, long CIGAR deletions and, with a reference, soft clips of at least
    `min_clip_placed` bases that match the reference in one place further along (<= 10% mismatches).
    Depth bins cannot see deletions much smaller than a bin; these reads can. Candidates are returned for
    the caller to genotype; nothing here decides a copy number.
    """
    found: list[tuple[str, int, int, int]] = []
    for chrom, start, end in regions:
        if chrom not in bam.references:
            continue
        seq = fasta.fetch(chrom, start, end).upper() if fasta is not None and chrom in fasta.references else ""
        votes: dict[tuple[int, int], set[tuple[str, bool]]] = {}
        for read in usable_reads(bam, chrom, [(start, end)], min_mapq):
            cigar = read.cigartuples
            if not cigar or (
                cigar[0][0] not in CLIP_OPS
                and cigar[-1][0] not in CLIP_OPS
                and not any(op == 2 and n >= min_del for op, n in cigar)
            ):
                continue
            signals = read_signals(read, chrom, min_clip, min_del)
            if seq:
                signals += _clip_partner(read, seq, start, min_del, max_del, min_clip_placed)
            for s in signals:
                if s.left is not None and s.right is not None and start <= s.left and s.right <= end:
                    votes.setdefault((s.left, s.right), set()).add(s.key)
        used: set[tuple[int, int]] = set()
        for junction in sorted(votes, key=lambda j: (-len(votes[j]), j)):
            if junction in used:
                continue
            members = [
                j for j in votes if j not in used and abs(j[0] - junction[0]) <= tol and abs(j[1] - junction[1]) <= tol
            ]
            reads = set().union(*(votes[j] for j in members))
            used.update(members)
            if len(reads) >= min_support:
                found.append((chrom, junction[0], junction[1], len(reads)))
    return sorted(found)


def mean_depth(bam: pysam.AlignmentFile, chrom: str, start: int, end: int, min_mapq: int = 20) -> float:
    """Mean base depth over [start, end) of the alignments the bin counter would count."""
    n = end - start
    if n <= 0:
        return float("nan")
    diff = np.zeros(n + 1, dtype=np.int64)
    for read in usable_reads(bam, chrom, [(start, end)], min_mapq):
        for bs, be in read.get_blocks():
            a, b = max(bs, start) - start, min(be, end) - start
            if b > a:
                diff[a] += 1
                diff[b] -= 1
    return float(np.cumsum(diff)[:n].sum() / n)


def left_align(
    fasta: pysam.FastaFile | None, chrom: str, start: int, end: int, max_shift: int = 1000
) -> tuple[int, int]:
    """Shift a deletion of [start, end) (0-based) left while the sequence allows (VCF normalisation).

    Reads cannot tell apart the positions of a deletion flanked by repeated bases (microhomology); the
    leftmost one is reported, as variant normalisation does.
    """
    if fasta is None or chrom not in fasta.references or start <= 0:
        return start, end
    lo = max(0, start - max_shift)
    seq = fasta.fetch(chrom, lo, end).upper()
    while start > lo and seq[start - 1 - lo] == seq[end - 1 - lo] and seq[start - 1 - lo] != "N":
        start, end = start - 1, end - 1
    return start, end
