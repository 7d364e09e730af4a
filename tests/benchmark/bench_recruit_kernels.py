"""Speed of the recruitment k-mer kernels on random reads (prints seconds per kernel; no assertion).

    .venv/bin/python tests/benchmark/bench_recruit_kernels.py [--reads 2000000]

_canonical_kmers and _count_in scan the reads as one sequence in 8 Mb chunks (as the index build scans the
reference); _hits classifies each 150 bp read against a k-mer set made from the first 200 kb. The outputs
(k-mer checksum, counts, recruited reads) are printed so two versions of the kernels can be compared.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dira_genotyper.alignment import recruit as r

CHUNK = 8_000_000


def best_of(f, n: int = 3) -> tuple[float, object]:  # noqa: ANN001 - any callable
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2_000_000)
    parser.add_argument("--length", type=int, default=150)
    parser.add_argument("--stride", type=int, default=4)
    args = parser.parse_args()
    k = r.K
    rng = np.random.default_rng(1)
    buf = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, args.reads * args.length)].copy()
    buf[rng.integers(0, len(buf), len(buf) // 1000)] = ord("N")
    starts = np.arange(args.reads, dtype=np.int64) * args.length
    ends = starts + args.length
    kmers = r._canonical_kmers(buf[:200_000].copy(), r._CODE, k)
    kset = r.KmerSet(kmers, k)  # the pass's set (untagged k-mers: all unique)
    build = r._CountTable(kmers, k)  # the index build's counting table
    counts = np.zeros(len(build.table), dtype=np.uint16)
    chunks = [buf[i : i + CHUNK + k - 1] for i in range(0, len(buf), CHUNK)]
    tables = (build.table, build.bitmap, build.shift, build.bitmap_shift)

    def canonical() -> int:
        return sum(int(r._canonical_kmers(c, r._CODE, k).sum(dtype=np.uint64)) % 2**64 for c in chunks) % 2**64

    def count_in() -> int:
        counts[:] = 0
        for c in chunks:
            r._count_in(*tables, counts, c, r._CODE, k)
        return int(counts.sum())

    def hits() -> int:
        found, _ = kset.hits(buf, starts, ends, args.reads, args.stride)
        return int(found.sum())

    hits(), count_in(), canonical()  # compile (or load the cache)
    for name, f in (("_canonical_kmers", canonical), ("_count_in", count_in), ("_hits", hits)):
        seconds, out = best_of(f)
        print(f"{name:18} {seconds:6.3f} s  ({args.reads:,} reads x {args.length} bp; output {out})")


if __name__ == "__main__":
    main()
