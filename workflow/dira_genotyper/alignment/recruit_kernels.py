"""Compiled kernels of the FASTQ recruiter (numba): the rolling canonical 31-mer, the k-mer hash table and its
bitmap prefilter, the FASTQ chunk parser with its record checks, the per-read hit count, mate-name checks and
the interleaving of kept pairs. The logic around them (the index, the streaming pass) is in ``recruit.py``.
"""

from __future__ import annotations

import numba
import numpy as np

K = 31  # odd: a k-mer is never its own reverse complement
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # no 31-mer (62 bits) has this value
_SHARED = np.uint64(1 << 62)  # tag: the k-mer also occurs elsewhere, at most max_count times in all
_FREQUENT = np.uint64(1 << 63)  # tag: the k-mer occurs more than max_count times (Alu, L1, simple repeats)
_LOW_COMPLEXITY = _SHARED | _FREQUENT  # tag: frequent and low-complexity ((GGAAT)n, poly-A): never a hit
_VALUE = _SHARED - np.uint64(1)
LOW_COMPLEXITY_TRIPLETS = 12  # a 31-mer with at most this many distinct trinucleotides (random sequence: ~25)
_MULT = np.uint64(0x9E3779B97F4A7C15)
_BITMAP_BITS_PER_KMER = 8  # index-build prefilter size (one bit per k-mer: ~12% false positives, cache-resident)
_BLOOM_BITS_PER_KMER = 8  # the pass's bloom filter: 3 bits in one 64-bit word per k-mer, ~4-5% false positives

_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
    _CODE[_b + 32] = _i  # lower case (soft-masked FASTA)


@numba.njit(nogil=True, cache=True, inline="always")
def _roll(fwd, rev, c, mask, top):  # pragma: no cover - compiled
    """One step of the rolling k-mer: base code `c` (0-3, uint64) onto the forward and reverse-complement k-mers."""
    return ((fwd << np.uint64(2)) | c) & mask, (rev >> np.uint64(2)) | ((np.uint64(3) - c) << top)


@numba.njit(nogil=True, cache=True)
def _canonical_kmers(seq, code, k):  # pragma: no cover - compiled
    """All canonical k-mers of a sequence (k-mers with a non-ACGT base skipped)."""
    mask = (np.uint64(1) << np.uint64(2 * k)) - np.uint64(1)
    top = np.uint64(2 * (k - 1))
    out = np.empty(max(len(seq) - k + 1, 0), dtype=np.uint64)
    n = 0
    fwd = np.uint64(0)
    rev = np.uint64(0)
    valid = 0
    for i in range(len(seq)):
        c = code[seq[i]]
        if c > 3:
            valid = 0
            continue
        fwd, rev = _roll(fwd, rev, np.uint64(c), mask, top)
        valid += 1
        if valid >= k:
            out[n] = fwd if fwd < rev else rev
            n += 1
    return out[:n]


@numba.njit(nogil=True, cache=True)
def _table_insert(table, bitmap, kmers, shift, bitmap_shift):  # pragma: no cover - compiled
    size_mask = np.uint64(len(table) - 1)
    for x in kmers:
        h = x * _MULT
        b = h >> bitmap_shift
        bitmap[b >> np.uint64(3)] |= np.uint8(1) << np.uint8(b & np.uint64(7))
        slot = h >> shift
        while table[slot] != _EMPTY and table[slot] != x:
            slot = (slot + np.uint64(1)) & size_mask
        table[slot] = x


@numba.njit(nogil=True, cache=True)
def _table_find(table, x, shift):  # pragma: no cover - compiled
    size_mask = np.uint64(len(table) - 1)
    slot = (x * _MULT) >> shift
    while True:
        v = table[slot]
        if v == x:
            return np.int64(slot)
        if v == _EMPTY:
            return np.int64(-1)
        slot = (slot + np.uint64(1)) & size_mask


@numba.njit(nogil=True, cache=True)
def _table_slots(table, kmers, shift):  # pragma: no cover - compiled
    out = np.empty(len(kmers), dtype=np.int64)
    for i in range(len(kmers)):
        out[i] = _table_find(table, kmers[i], shift)
    return out


@numba.njit(nogil=True, cache=True)
def _count_in(table, bitmap, shift, bitmap_shift, counts, seq, code, k):  # pragma: no cover - compiled
    """Add the occurrences in `seq` of the table's k-mers to `counts` (saturating at 65535)."""
    mask = (np.uint64(1) << np.uint64(2 * k)) - np.uint64(1)
    top = np.uint64(2 * (k - 1))
    fwd = np.uint64(0)
    rev = np.uint64(0)
    valid = 0
    for i in range(len(seq)):
        c = code[seq[i]]
        if c > 3:
            valid = 0
            continue
        fwd, rev = _roll(fwd, rev, np.uint64(c), mask, top)
        valid += 1
        if valid >= k:
            x = fwd if fwd < rev else rev
            b = (x * _MULT) >> bitmap_shift
            if bitmap[b >> np.uint64(3)] & (np.uint8(1) << np.uint8(b & np.uint64(7))):
                slot = _table_find(table, x, shift)
                if slot >= 0 and counts[slot] < 65535:
                    counts[slot] += 1


@numba.njit(nogil=True, cache=True, inline="always")
def _line_end(buf, p, n):  # pragma: no cover - compiled
    """Offset of the newline ending the line at `p`, or `n` when the buffer ends first."""
    while p < n and buf[p] != 10:
        p += 1
    return p


@numba.njit(nogil=True, cache=True)
def _parse_fastq(buf, n):  # pragma: no cover - compiled
    """Complete 4-line records in buf[:n]: (record starts, sequence starts, sequence ends, record ends, count).

    count is -1 - offset of the first malformed record: not starting with '@', no '+' line, or qualities not as
    long as the sequence (not FASTQ, or the file is damaged there).
    """
    cap = n // 8 + 1
    rec_start = np.empty(cap, dtype=np.int64)
    seq_start = np.empty(cap, dtype=np.int64)
    seq_end = np.empty(cap, dtype=np.int64)
    rec_end = np.empty(cap, dtype=np.int64)
    count = 0
    pos = 0
    while pos < n:
        if buf[pos] != 64:  # '@'
            return rec_start, seq_start, seq_end, rec_end, -1 - pos
        head = _line_end(buf, pos, n)  # the newline ending each of the 4 lines
        if head >= n:
            break
        seq = _line_end(buf, head + 1, n)
        if seq >= n:
            break
        plus = _line_end(buf, seq + 1, n)
        if plus >= n:
            break
        qual = _line_end(buf, plus + 1, n)
        if qual >= n:
            break
        if buf[seq + 1] != 43 or qual - plus != seq - head:  # '+'; one quality per base
            return rec_start, seq_start, seq_end, rec_end, -1 - pos
        rec_start[count] = pos
        seq_start[count] = head + 1
        end = seq
        if end > head + 1 and buf[end - 1] == 13:  # CRLF
            end -= 1
        seq_end[count] = end
        rec_end[count] = qual + 1
        count += 1
        pos = qual + 1
    return rec_start, seq_start, seq_end, rec_end, count


_NO_HIT = np.uint16(0xFFFF)  # a read's misses when none of its sampled k-mers is in the regions
_BY_UNIQUE = np.uint8(2)  # a read's (or pair's) verdict when a unique k-mer recruits it
_MAX_SAMPLED = 1024  # sampled k-mers of one read held at once (a longer read is classified in parts)


@numba.njit(nogil=True, cache=True, inline="always")
def _bloom_mask(h):  # pragma: no cover - compiled
    """The three bits of a k-mer's hash in its bloom word (from hash bits below any word index)."""
    one = np.uint64(1)
    six = np.uint64(63)
    return (
        (one << ((h >> np.uint64(20)) & six))
        | (one << ((h >> np.uint64(26)) & six))
        | (one << ((h >> np.uint64(32)) & six))
    )


@numba.njit(nogil=True, cache=True, inline="always")
def _bloom_passes(bloom, h, bloom_shift):  # pragma: no cover - compiled
    """Whether the k-mer of hash `h` may be in the set (all three of its bits set in its word)."""
    m = _bloom_mask(h)
    return (bloom[h >> bloom_shift] & m) == m


@numba.njit(nogil=True, cache=True)
def _tagged_insert(table, bloom, kmers, shift, bloom_shift):  # pragma: no cover - compiled
    """Insert k-mers that carry their class in bits 62-63 (slot and bloom bits from the k-mer alone)."""
    size_mask = np.uint64(len(table) - 1)
    for tagged in kmers:
        x = tagged & _VALUE
        h = x * _MULT
        bloom[h >> bloom_shift] |= _bloom_mask(h)
        slot = h >> shift
        while table[slot] != _EMPTY and (table[slot] & _VALUE) != x:
            slot = (slot + np.uint64(1)) & size_mask
        table[slot] = tagged


@numba.njit(nogil=True, cache=True, inline="always")
def _tagged_find(table, x, shift):  # pragma: no cover - compiled
    """The table's entry for k-mer `x` (its class in bits 62-63), or _EMPTY."""
    size_mask = np.uint64(len(table) - 1)
    slot = (x * _MULT) >> shift
    while True:
        v = table[slot]
        if v == _EMPTY or (v & _VALUE) == x:
            return v
        slot = (slot + np.uint64(1)) & size_mask


@numba.njit(nogil=True, cache=True)
def _tagged_classes(table, kmers, shift):  # pragma: no cover - compiled
    """Each k-mer's class: 0 unique, 1 shared, 2 frequent, 3 frequent and low-complexity, -1 not in the table."""
    out = np.empty(len(kmers), dtype=np.int8)
    for i in range(len(kmers)):
        v = _tagged_find(table, kmers[i] & _VALUE, shift)
        out[i] = -1 if v == _EMPTY else np.int8(v >> np.uint64(62))
    return out


@numba.njit(nogil=True, cache=True)
def _hits(buf, seq_start, seq_end, count, table, bloom, shift, bloom_shift, code, k, stride):
    """Each read's verdict (0: not recruited alone, 1: by shared k-mers, ``_BY_UNIQUE``: by a unique one) and its
    misses (for the pair rule of :func:`_pair_verdict`).

    Sampled k-mers are unique (recruit), shared (a hit), frequent (a hit that cannot recruit a read alone),
    frequent and low-complexity (no evidence either way) or absent from the regions (a miss). A read is
    recruited alone by a unique k-mer, or by shared ones with no more misses than one mismatch makes
    (``max_miss``): a read from a close copy elsewhere (a young repeat, a paralog) differs from the regions at a
    few bases and misses more often; a read of the regions whose every k-mer also occurs elsewhere (a mosaic of
    copies) still matches the regions from end to end. `misses` is the read's count of missed sampled k-mers
    when it has any hit (shared or frequent), else ``_NO_HIT``.

    The lookups are bound by memory latency, so a read's sampled k-mers are gathered first, then all tested
    against the bloom filter (one 64-bit word each, independent loads the processor overlaps), then the few that
    pass are looked up in the table (their class is in the entry: one more load).
    """
    mask = (np.uint64(1) << np.uint64(2 * k)) - np.uint64(1)
    top = np.uint64(2 * (k - 1))
    max_miss = (k + stride - 1) // stride
    three = np.uint64(3)
    out = np.zeros(count, dtype=np.uint8)
    miss_out = np.full(count, _NO_HIT, dtype=np.uint16)
    sampled = np.empty(_MAX_SAMPLED, dtype=np.uint64)
    passed = np.empty(_MAX_SAMPLED, dtype=np.bool_)
    for r in range(count):
        unique = 0
        shared_hits = 0
        frequent_hits = 0
        misses = 0
        fwd = np.uint64(0)
        rev = np.uint64(0)
        valid = 0
        last = seq_end[r] - 1
        wait = 0  # k-mers to skip before the next sampled one
        i = seq_start[r]
        while i <= last:
            n = 0
            while i <= last and n < _MAX_SAMPLED:
                c = np.uint64(code[buf[i]])
                if c > three:
                    valid = 0
                    wait = 0
                    i += 1
                    continue
                fwd, rev = _roll(fwd, rev, c, mask, top)
                valid += 1
                if valid >= k:
                    if wait > 0 and i != last:
                        wait -= 1
                    else:
                        wait = stride - 1
                        sampled[n] = fwd if fwd < rev else rev
                        n += 1
                i += 1
            for j in range(n):  # bloom words: independent loads
                passed[j] = _bloom_passes(bloom, sampled[j] * _MULT, bloom_shift)
            for j in range(n):  # table entries of the k-mers the bloom filter passed
                if not passed[j]:
                    misses += 1
                    continue
                v = _tagged_find(table, sampled[j], shift)
                if v == _EMPTY:
                    misses += 1
                    continue
                tag = v >> np.uint64(62)
                if tag == 0:
                    unique = 1
                elif tag == 1:
                    shared_hits += 1
                elif tag == 2:
                    frequent_hits += 1
        if unique:
            out[r] = _BY_UNIQUE
        elif shared_hits and misses <= max_miss:
            out[r] = 1
        if shared_hits + frequent_hits:
            miss_out[r] = min(misses, 0xFFFE)
    return out, miss_out


@numba.njit(nogil=True, cache=True)
def _pair_verdict(hit1, miss1, hit2, miss2, pair_max_miss):  # pragma: no cover - compiled
    """Each pair's verdict: ``_BY_UNIQUE`` when a mate has a unique k-mer; 1 when a mate is recruited alone by
    shared k-mers, or both mates hit the regions with at most `pair_max_miss` misses between them (a fragment
    inside a repeat of the regions whose every k-mer also occurs elsewhere, placed by its pair: BWA gives such
    pairs a high MAPQ when no other copy matches both mates as well); 0 otherwise. Pairs with verdict 1 are
    checked base by base (:func:`_mismatches`) before they are kept."""
    n = len(hit1)
    out = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        if hit1[i] == _BY_UNIQUE or hit2[i] == _BY_UNIQUE:
            out[i] = _BY_UNIQUE
        elif hit1[i] or hit2[i]:
            out[i] = 1
        elif miss1[i] != _NO_HIT and miss2[i] != _NO_HIT and np.int64(miss1[i]) + np.int64(miss2[i]) <= pair_max_miss:
            out[i] = 1
    return out


@numba.njit(nogil=True, cache=True)
def _mismatches(buf, seq_start, seq_end, reads, table, bloom, shift, bloom_shift, code, k):  # pragma: no cover
    """For each read of `reads`: how many bases at least differ from the regions, from every k-mer (no stride).

    A base the regions lack (a mismatch, an indel) breaks the k consecutive k-mers over it, so the k-mers the
    set lacks come in runs; a run of r missing k-mers needs at least ceil(r / k) differing bases (two close
    mismatches make one run longer than k). Non-ACGT bases restart the k-mer and count nothing.
    """
    out = np.zeros(len(reads), dtype=np.int32)
    for j in range(len(reads)):
        r = reads[j]
        run = 0
        found = 0
        for x in _canonical_kmers(buf[seq_start[r] : seq_end[r]], code, k):
            h = x * _MULT
            if _bloom_passes(bloom, h, bloom_shift) and _tagged_find(table, x, shift) != _EMPTY:
                found += (run + k - 1) // k
                run = 0
            else:
                run += 1
        out[j] = found + (run + k - 1) // k
    return out


@numba.njit(nogil=True, cache=True)
def _name_span(buf, start):  # pragma: no cover - compiled
    """The read name of the record at `start` (after '@', up to white space), a /1 or /2 suffix aside."""
    a = start + 1
    b = a
    while buf[b] != 10 and buf[b] != 13 and buf[b] != 32 and buf[b] != 9:
        b += 1
    if b - a >= 2 and buf[b - 2] == 47 and (buf[b - 1] == 49 or buf[b - 1] == 50):  # "/1", "/2"
        b -= 2
    return a, b


@numba.njit(nogil=True, cache=True)
def _first_unmated(buf1, start1, buf2, start2, n):  # pragma: no cover - compiled
    """Index of the first pair whose R1 and R2 names differ; -1 when every pair agrees."""
    for i in range(n):
        a0, a1 = _name_span(buf1, start1[i])
        b0, b1 = _name_span(buf2, start2[i])
        if a1 - a0 != b1 - b0:
            return i
        for j in range(a1 - a0):
            if buf1[a0 + j] != buf2[b0 + j]:
                return i
    return -1


@numba.njit(nogil=True, cache=True)
def _interleave(buf1, start1, end1, buf2, start2, end2, keep):  # pragma: no cover - compiled
    """The kept pairs as interleaved FASTQ bytes (R1 record, then its R2 record)."""
    total = 0
    for i in keep:
        total += end1[i] - start1[i] + end2[i] - start2[i]
    out = np.empty(total, dtype=np.uint8)
    p = 0
    for i in keep:
        for j in range(start1[i], end1[i]):
            out[p] = buf1[j]
            p += 1
        for j in range(start2[i], end2[i]):
            out[p] = buf2[j]
            p += 1
    return out
