"""Recruit the read pairs of the locus from a whole-genome FASTQ pair before alignment.

One streaming pass over the pair: every read's canonical 31-mers (sampled at a stride) are looked up in the set
of the window's and control regions' 31-mers, each classed by its count in the whole reference (unique, shared
up to ``max_count``, frequent, frequent and low-complexity); a pair is kept when either mate has a unique
k-mer, or shared ones with no more misses than one mismatch makes (:func:`_hits`), or when both mates hit the
regions (shared or frequent k-mers) with no more misses between them than 2.5 mismatches make
(:func:`_pair_verdict`, :func:`pair_max_miss`): a fragment inside a young repeat of the window (every k-mer also
in other copies) that full-mode BWA places by its pair. Low-complexity frequent k-mers (satellites, (CA)n) are
no evidence either way, so megabases of satellite elsewhere are not recruited. Only the kept pairs are
aligned (with BWA-MEM to the full reference, so mapping qualities stay honest). The set is built once per
reference and cached (``write_recruit_index``). It also holds the k-mers over the sample-check sites, both alleles
(:mod:`.recruit_sites`), so the reads the sample checks count are aligned too.

Why this and not an aligner: decompression is the floor (``zcat`` of the pair), and the filter must keep up with
it. A k-mer lookup per few bases in compiled code (numba) runs beside two ISA-L inflater threads; minimap2 -x sr
against the window alone took 4-5x the ``zcat`` time (issue #12). Figures: docs/fastq-mode.md.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pysam

from dira_genotyper.alignment.recruit_kernels import (
    _BITMAP_BITS_PER_KMER,
    _BLOOM_BITS_PER_KMER,
    _CODE,
    _EMPTY,
    _FREQUENT,
    _LOW_COMPLEXITY,
    _SHARED,
    LOW_COMPLEXITY_TRIPLETS,
    K,
    _canonical_kmers,
    _count_in,
    _first_unmated,
    _hits,
    _interleave,
    _mismatches,
    _pair_verdict,
    _parse_fastq,
    _table_insert,
    _table_slots,
    _tagged_classes,
    _tagged_insert,
)
from dira_genotyper.alignment.recruit_sites import (
    SiteKmers,
    read_site_alleles,
    site_counts,
    site_kmers,
    sites_digest,
)
from dira_genotyper.errors import InputError
from dira_genotyper.inputs.fastq_checks import malformed_record_error, mate_order_error, pair_count_error
from dira_genotyper.inputs.sheet import contig_candidates

log = logging.getLogger(__name__)

PAD = 1_000  # bases added to each side of a region: about a fragment
INDEX_VERSION = 4  # 4: the sample-check sites' k-mers (sites, sites_sha256, site_count, site_kmers)


@dataclass(frozen=True)
class RecruitStats:
    """What one recruitment pass saw and kept."""

    pairs: int
    recruited: int
    bases: int

    @property
    def fraction(self) -> float:
        return self.recruited / self.pairs if self.pairs else 0.0


@dataclass(frozen=True)
class IndexInfo:
    """How a recruitment index was made; stored beside it (``.json``) so a stale cache is rebuilt."""

    version: int
    k: int
    max_count: int
    reference: str
    reference_size: int
    reference_mtime: float
    regions: list[list]
    region_kmers: int  # every k-mer of the index, the sites' included
    unique_kmers: int
    shared_kmers: int
    sites: str = ""  # the sample-check site table whose k-mers are in the index ("": none)
    sites_sha256: str = ""
    site_count: int = 0  # sites indexed
    site_kmers: int = 0  # k-mers the sites add to the regions'


# ---------------------------------------------------------------------------------------------- the index


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct k-mers, sorted: `np.unique` by a sort (numpy 2.4's `np.unique` of 3.7 M uint64 k-mers took
    3.6 s here, a sort 0.2 s: the index is loaded at the start of every FASTQ sample's alignment)."""
    out = np.sort(np.asarray(values, dtype=np.uint64), kind="stable")  # timsort: near-linear on the sorted index
    if len(out) < 2:
        return out
    keep = np.empty(len(out), dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def _huge_pages(n: int, fill: np.uint64) -> np.ndarray:
    """A uint64 array of `n` entries set to `fill`, in memory the kernel is asked to back with 2 MiB pages
    (transparent huge pages, where enabled): random lookups in a table of 100+ MB otherwise miss the TLB."""
    size = n * 8
    if size < (8 << 20) or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.full(n, fill, dtype=np.uint64)
    area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        area.madvise(mmap.MADV_HUGEPAGE)
    except OSError:  # not supported here: ordinary pages
        pass
    out = np.frombuffer(area, dtype=np.uint64)
    out[:] = fill
    return out


class KmerSet:
    """The regions' canonical k-mers in a hash table, each entry carrying its class in bits 62-63 (0 unique,
    1 shared, 2 frequent, 3 frequent and low-complexity), and a bloom filter in front (most reads miss the set
    entirely). `kmers` are the index's tagged k-mers (:func:`build_recruit_index`); untagged ones are unique."""

    def __init__(self, kmers: np.ndarray, k: int = K) -> None:
        kmers = sorted_unique(kmers)
        self.k = k
        self.kmers = kmers
        bits = max(10, int(np.ceil(np.log2(max(len(kmers), 1) * 4))))
        self.table = _huge_pages(1 << bits, _EMPTY)
        self.shift = np.uint64(64 - bits)
        # Lookups are bound by memory latency: a small filter (8 bits per k-mer, L3-resident) beats a sparse one.
        words = max(10, int(np.ceil(np.log2(max(len(kmers), 1) * _BLOOM_BITS_PER_KMER / 64))))
        self.bloom = np.zeros(1 << words, dtype=np.uint64)
        self.bloom_shift = np.uint64(64 - words)
        _tagged_insert(self.table, self.bloom, kmers, self.shift, self.bloom_shift)

    def __len__(self) -> int:
        return len(self.kmers)

    def classes(self, kmers: np.ndarray) -> np.ndarray:
        """Each k-mer's class (0 unique, 1 shared, 2 frequent, 3 low-complexity), -1 when not in the set."""
        return _tagged_classes(self.table, np.asarray(kmers, dtype=np.uint64), self.shift)

    def hits(
        self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, count: int, stride: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each read's verdict and misses (:func:`_hits`), the reads being ``buf[starts[i]:ends[i]]``."""
        table = (self.table, self.bloom, self.shift, self.bloom_shift)
        return _hits(buf, starts, ends, count, *table, _CODE, self.k, stride)

    def mismatches(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, reads: np.ndarray) -> np.ndarray:
        """The fewest bases by which each of `reads` differs from the regions (:func:`_mismatches`)."""
        table = (self.table, self.bloom, self.shift, self.bloom_shift)
        return _mismatches(buf, starts, ends, reads, *table, _CODE, self.k)

    def confirm(self, verdict: np.ndarray, mates: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
        """`verdict` (:func:`_pair_verdict`) with the pairs no unique k-mer recruited dropped when their mates
        differ from the regions at more than :data:`PAIR_MAX_MISMATCHES` bases between them; `mates` are the
        (buffer, sequence starts, sequence ends) of R1 and R2."""
        check = np.flatnonzero(verdict == 1)
        if len(check):
            found = sum(self.mismatches(buf, starts, ends, check) for buf, starts, ends in mates)
            verdict[check[found > PAIR_MAX_MISMATCHES]] = 0
        return verdict

    def _parse(self, sequences: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        text = b"".join(b"@r\n" + s + b"\n+\n" + b"I" * len(s) + b"\n" for s in sequences)
        buf = np.frombuffer(text, dtype=np.uint8)
        _, starts, ends, _, count = _parse_fastq(buf, len(buf))
        return buf, starts, ends, count

    def _scan(self, sequences: list[bytes], stride: int) -> tuple[np.ndarray, np.ndarray]:
        return self.hits(*self._parse(sequences), stride)

    def read_hits(self, sequences: list[bytes], stride: int = 1) -> list[bool]:
        """Whether each sequence is recruited on its own (for tests and small inputs)."""
        return [bool(h) for h in self._scan(sequences, stride)[0]]

    def pair_hits(self, pairs: list[tuple[bytes, bytes]], stride: int = 4) -> list[bool]:
        """Whether each (R1, R2) pair is recruited, as :func:`recruit_pairs` decides."""
        mates = [self._parse([pair[i] for pair in pairs]) for i in (0, 1)]
        (h1, m1), (h2, m2) = (self.hits(*mate, stride) for mate in mates)
        verdict = self.confirm(_pair_verdict(h1, m1, h2, m2, pair_max_miss(self.k, stride)), [m[:3] for m in mates])
        return [bool(v) for v in verdict]


class _CountTable:
    """The index build's table of candidate k-mers (untagged), with a one-bit-per-k-mer bitmap in front, to count
    their occurrences in the whole reference slot by slot (:func:`_count_in`)."""

    def __init__(self, kmers: np.ndarray, k: int = K) -> None:
        values = sorted_unique(kmers)
        bits = max(10, int(np.ceil(np.log2(max(len(values), 1) * 4))))
        self.table = np.full(1 << bits, _EMPTY, dtype=np.uint64)
        self.shift = np.uint64(64 - bits)
        bitmap_bits = max(16, int(np.ceil(np.log2(max(len(values), 1) * _BITMAP_BITS_PER_KMER))))
        self.bitmap = np.zeros(1 << (bitmap_bits - 3), dtype=np.uint8)
        self.bitmap_shift = np.uint64(64 - bitmap_bits)
        _table_insert(self.table, self.bitmap, values, self.shift, self.bitmap_shift)

    def count(self, fasta: pysam.FastaFile, k: int = K, chunk: int = 8_000_000) -> np.ndarray:
        """Occurrences of each slot's k-mer in the whole reference (saturating at 65535), streamed in chunks."""
        counts = np.zeros(len(self.table), dtype=np.uint16)
        lookup = (self.table, self.bitmap, self.shift, self.bitmap_shift)
        for contig, length in zip(fasta.references, fasta.lengths):
            for start in range(0, length, chunk):
                seq = _sequence(fasta, contig, start, min(length, start + chunk + k - 1))
                _count_in(*lookup, counts, seq, _CODE, k)
        return counts

    def slots(self, kmers: np.ndarray) -> np.ndarray:
        """Each k-mer's slot in the table (-1: not in it)."""
        return _table_slots(self.table, np.asarray(kmers, dtype=np.uint64), self.shift)


#: Bases by which the two mates of a pair that no unique k-mer recruits (a fragment inside a repeat of the regions)
#: may differ from the regions between them, counted on every k-mer (:func:`_mismatches`). The sampled rules
#: (:func:`_hits`, :func:`pair_max_miss`) let through reads of other copies of the window's young repeats, which
#: then cost BWA ~1 ms a pair; counted base by base, the benchmark's subsample (docs/fastq-mode.md) had 1,852
#: such pairs of the window (sequencing errors and the sample's own variants: 0-3 bases for 1,822 of them, 4 for
#: 26, 5 for 4) and 839 of other copies (3 or more bases for 669, 5 or more for 202).
PAIR_MAX_MISMATCHES = 4


def pair_max_miss(k: int, stride: int) -> int:
    """Misses a pair may have between its mates when neither is recruited alone: what 2.5 mismatches make (a
    mismatch removes k consecutive k-mers, of which k / stride are sampled). Measured on the benchmark's
    sibling model (docs/fastq-mode.md): 2 mismatches' worth kept 99.84% of the pairs full mode places, 2.5
    kept 99.90% for 0.40% of off-target pairs, 3 kept 99.96% for 0.65%."""
    return (5 * ((k + stride - 1) // stride)) // 2


def _resolve_contig(fasta: pysam.FastaFile, name: str) -> str:
    found = next((c for c in contig_candidates(name) if c in fasta.references), None)
    if found is None:
        raise InputError(f"reference {fasta.filename.decode()} has no contig {name!r} (or its chr/no-chr alias)")
    return found


def _sequence(fasta: pysam.FastaFile, contig: str, start: int = 0, end: int | None = None) -> np.ndarray:
    return np.frombuffer(fasta.fetch(contig, start, end).encode("ascii"), dtype=np.uint8)


def build_recruit_index(
    reference: str,
    regions: list[tuple[str, int, int]],
    max_count: int,
    k: int = K,
    chunk: int = 8_000_000,
    pad: int = PAD,
    sites: str | None = None,
) -> tuple[np.ndarray, IndexInfo]:
    """The canonical k-mers of `regions` (+/- `pad`), tagged by how often they occur in the whole reference, and
    those covering the sample-check `sites` (a site table, both alleles: :mod:`.recruit_sites`).

    The pad recruits reads that overlap a region's end by fewer than k bases (and their mates).

    One pass over the reference (streamed in chunks), counting only the index's own k-mers: memory is set by
    the regions and sites (tens of MB), not the genome.
    """
    on_sites = site_kmers(reference, read_site_alleles(sites), k) if sites else SiteKmers.empty()
    with pysam.FastaFile(reference) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths))
        resolved = []
        for chrom, start, end in regions:
            contig = _resolve_contig(fasta, chrom)
            resolved.append((contig, max(0, start - pad), min(lengths[contig], end + pad)))
        parts = [_canonical_kmers(_sequence(fasta, c, s, e), _CODE, k) for c, s, e in resolved]
        in_regions = sorted_unique(np.concatenate(parts)) if parts else np.empty(0, np.uint64)
        candidates = _CountTable(np.concatenate([in_regions, on_sites.kmers]), k)
        counts = candidates.count(fasta, k, chunk)
    if len(on_sites.kmers):
        slots = candidates.slots(on_sites.kmers)
        counts = site_counts(on_sites, slots, counts, np.isin(on_sites.kmers, in_regions), max_count)
    filled = candidates.table != _EMPTY
    values, counts = candidates.table[filled], counts[filled]
    # counts include the regions' own copies: a k-mer twice in the window counts as shared
    tags = np.where(counts > max_count, _FREQUENT, np.where(counts > 1, _SHARED, np.uint64(0)))
    frequent = np.flatnonzero(counts > max_count)
    tags[frequent[low_complexity(values[frequent], k)]] = _LOW_COMPLEXITY
    kept = np.sort(values | tags)
    stat = os.stat(reference)
    info = IndexInfo(
        INDEX_VERSION,
        k,
        max_count,
        os.path.abspath(reference),
        stat.st_size,
        stat.st_mtime,
        [list(r) for r in resolved],
        len(kept),
        int((counts == 1).sum()),
        int(((counts > 1) & (counts <= max_count)).sum()),
        os.path.abspath(sites) if sites else "",
        sites_digest(sites) if sites else "",
        on_sites.sites,
        len(kept) - len(in_regions),
    )
    if sites:
        log.info("sample-check sites %s: %d indexed (%d k-mers added), %d skipped (contig not in the reference or "
                 "not a substitution)", sites, on_sites.sites, info.site_kmers, on_sites.skipped)  # fmt: skip
    if on_sites.ref_mismatch:
        log.warning("%d of the %d sites of %s have a reference allele that is not the reference's base: is the site "
                    "table for this build?", on_sites.ref_mismatch, on_sites.sites, sites)  # fmt: skip
    return kept, info


def low_complexity(kmers: np.ndarray, k: int = K, max_triplets: int = LOW_COMPLEXITY_TRIPLETS) -> np.ndarray:
    """Which k-mers (2-bit packed, first base highest) have at most `max_triplets` distinct trinucleotides:
    simple repeats and satellites ((CA)n, (GGAAT)n, poly-A), whose copies elsewhere can fill megabases."""
    out = np.zeros(len(kmers), dtype=bool)
    for at in range(0, len(kmers), 100_000):
        part = np.asarray(kmers[at : at + 100_000], dtype=np.uint64)
        bases = np.stack([(part >> np.uint64(2 * (k - 1 - i))) & np.uint64(3) for i in range(k)], 1).astype(np.int64)
        triplets = bases[:, :-2] * 16 + bases[:, 1:-1] * 4 + bases[:, 2:]
        seen = np.zeros((len(part), 64), dtype=bool)
        np.put_along_axis(seen, triplets, True, axis=1)
        out[at : at + len(part)] = seen.sum(1) <= max_triplets
    return out


def write_recruit_index(
    reference: str, regions: list[tuple[str, int, int]], max_count: int, out: str, sites: str | None = None
) -> IndexInfo:
    """Build the index and write it to `out` (.npy) with its description beside it (`out` + .json)."""
    kmers, info = build_recruit_index(reference, regions, max_count, sites=sites)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{out}.tmp.npy"
    np.save(tmp, kmers)
    os.replace(tmp, out)
    Path(f"{out}.json").write_text(json.dumps(asdict(info), indent=1) + "\n")
    return info


def load_recruit_index(path: str) -> KmerSet:
    info = json.loads(Path(f"{path}.json").read_text())
    if info.get("version") != INDEX_VERSION:
        raise InputError(
            f"recruitment index {path} was made by another version of dira-genotyper (index version "
            f"{info.get('version')}, this one reads {INDEX_VERSION}): remove {Path(path).parent} and run again"
        )
    return KmerSet(np.load(path), info["k"])


# ---------------------------------------------------------------------------------------------- the pass


def _open(path: str):  # noqa: ANN202 - a binary file object
    """A gzipped FASTQ through ISA-L in its own thread (the GIL is released while it inflates); plain as is."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        from isal import igzip_threaded

        return igzip_threaded.open(path, "rb", threads=1)
    return open(path, "rb")


def _read_name(buf: np.ndarray, start: int) -> str:
    end = start
    while end < len(buf) and buf[end] not in (9, 10, 13, 32):
        end += 1
    return bytes(buf[start + 1 : end]).decode(errors="replace")


class _Chunks:
    """Complete FASTQ records of one file, chunk by chunk; what is left of a chunk waits for the next.

    Checks every record as it parses it (4 lines, '@' and '+', one quality per base) and the file's
    end (gzip stream complete, no partial record): the full-file checks that `validate_input` leaves to this pass.
    """

    def __init__(self, path: str, chunk: int, label: str) -> None:
        self.path = path
        self.label = label
        self.handle = _open(path)
        self.chunk = chunk
        self.eof = False
        self.buf = np.empty(0, dtype=np.uint8)
        self.records = [np.empty(0, np.int64)] * 4
        self.count = 0
        self.used = 0
        self.before = 0  # records in the chunks before this one

    def _read(self) -> bytes:
        try:
            return self.handle.read(self.chunk)
        except (OSError, EOFError, ValueError) as exc:  # isal: "incomplete", "not a gzipped file", CRC
            raise InputError(
                f"{self.label} is truncated or not gzip ({exc}) after about {self.before + self.count:,} reads; "
                "copy it again"
            ) from exc

    def fill(self) -> None:
        """Called when every parsed record is used: parse the next chunk (with what was left of this one)."""
        rest = self.buf[self.records[3][self.count - 1] :] if self.count else self.buf
        self.before += self.count
        self.count = 0
        data = rest.tobytes()
        while True:
            more = b"" if self.eof else self._read()
            self.eof = not more
            data += more
            self.buf = np.frombuffer(data, dtype=np.uint8)
            *self.records, count = _parse_fastq(self.buf, len(self.buf))
            if count < 0:
                good = _parse_fastq(self.buf, -1 - count)[4]  # the records before the bad one
                raise InputError(malformed_record_error(self.label, self.before + good + 1))
            self.count = count
            self.used = 0
            if count:
                return
            if self.eof:
                if data.strip():
                    raise InputError(
                        f"{self.label} ends with an incomplete FASTQ record (record {self.before + 1:,}): the "
                        "file is truncated; copy it again"
                    )
                return

    @property
    def available(self) -> int:
        return self.count - self.used

    @property
    def position(self) -> int:
        """Records used so far."""
        return self.before + self.used

    def drain(self) -> int:
        """Read (and check) the rest of the file; the total number of records."""
        while self.available:
            self.used = self.count
            self.fill()
        return self.position

    def close(self) -> None:
        self.handle.close()


def recruit_pairs(  # noqa: ANN001 - out: a binary file object
    fq1: str, fq2: str, kmers: KmerSet, out, stride: int = 4, chunk: int = 8 << 20, sample: str | None = None
) -> RecruitStats:
    """Stream the pair, write kept pairs interleaved (R1 record then R2 record) to the binary file `out`.

    Every record of both files is checked on the way (see :class:`_Chunks`), and so are the pair counts and the
    mate names of every pair: InputError names the file, the record and the fix.
    """
    prefix = f"sample {sample}: " if sample else ""
    label1, label2 = f"{prefix}fq1 {fq1}", f"{prefix}fq2 {fq2}"
    reads = (_Chunks(fq1, chunk, label1), _Chunks(fq2, chunk, label2))
    pairs = recruited = bases = 0
    max_miss = pair_max_miss(kmers.k, stride)
    try:
        for r in reads:
            r.fill()
        while True:
            if not all(r.available for r in reads):
                for r in reads:
                    if not r.available and not r.eof:
                        r.fill()
                if not all(r.available for r in reads):
                    if any(r.available for r in reads):
                        raise InputError(pair_count_error(prefix, fq1, reads[0].drain(), fq2, reads[1].drain()))
                    break
            n = min(r.available for r in reads)
            sel = []
            for r in reads:
                a, b = r.used, r.used + n
                sel.append(tuple(x[a:b] for x in r.records))
            bad = _first_unmated(reads[0].buf, sel[0][0], reads[1].buf, sel[1][0], n)
            if bad >= 0:
                names = [_read_name(r.buf, int(s[0][bad])) for r, s in zip(reads, sel)]
                raise InputError(mate_order_error(prefix, fq1, fq2, pairs + bad + 1, *names))
            verdicts = []
            for r, s in zip(reads, sel):
                verdicts.extend(kmers.hits(r.buf, s[1], s[2], n, stride))
                bases += int((s[2] - s[1]).sum())
            hit = kmers.confirm(_pair_verdict(*verdicts, max_miss), [(r.buf, s[1], s[2]) for r, s in zip(reads, sel)])
            keep = np.flatnonzero(hit)
            if len(keep):
                out.write(
                    _interleave(reads[0].buf, sel[0][0], sel[0][3], reads[1].buf, sel[1][0], sel[1][3], keep).tobytes()
                )
            pairs += n
            recruited += len(keep)
            for r in reads:
                r.used += n
    finally:
        for r in reads:
            r.close()
    if pairs == 0:
        raise InputError(f"{prefix}FASTQ files {fq1} and {fq2} have no reads; check the sequencing export")
    return RecruitStats(pairs, recruited, bases)
