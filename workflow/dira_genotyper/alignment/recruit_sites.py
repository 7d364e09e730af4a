"""The sample-check sites in the recruitment index, so that FASTQ recruit mode keeps the reads the sample checks
count (identity, sex, relatedness, contamination, runs of homozygosity: ``samplecheck``).

A read covers a site when one of its k-mers does, and the pass samples one of those whatever the read's offset:
it looks up the first k-mer of a read, every `stride`-th after it and the last, and a site inside the read lies in
``k`` consecutive k-mers (fewer only at the read's ends, where the first or last k-mer is one of them). So each
site adds the ``k`` k-mers that cover it, for every allele combination of the site and of the sites less than
``k`` bases away (the reference allele, the alternate one): a read carrying the alternate allele is recruited like
one carrying the reference, and the checks' allele counts are not biased by the recruitment. The flanks need no
k-mers: a pair is wanted for its read over the site, and indexing them would grow the index (and slow the
lookups) by a flank's length per site for reads the checks do not count.

Classes are allele-symmetric: each site k-mer outside the locus regions is classed by the largest count, in the
reference plus the alternate haplotype itself, of the k-mers at the same offset of the site over its allele
combinations (a site inside a repeat is then frequent for both alleles, not unique for the one allele whose
k-mers the reference lacks). A site k-mer seen at most ``max_count`` times recruits a read alone, as a unique
one does (:func:`site_counts`). The locus regions' own k-mers keep their classes, so locus recruitment does
not change.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from dira_genotyper.alignment.recruit_kernels import _CODE, K
from dira_genotyper.inputs.sheet import contig_candidates
from dira_genotyper.samplecheck.sites import read_sites

log = logging.getLogger(__name__)

MAX_NEARBY = 3  # sites less than k bases from a site whose allele combinations are indexed with it (2^4 at most)


@dataclass(frozen=True)
class SiteKmers:
    """The k-mers covering the sites: `kmers[i]` is at offset `group[i] % k` of site `group[i] // k`, on a
    haplotype that is the reference's own sequence (`extra[i] == 0`) or not in the reference (1)."""

    kmers: np.ndarray
    group: np.ndarray
    extra: np.ndarray
    sites: int  # sites indexed
    skipped: int  # sites on contigs the reference lacks, or not single-base substitutions
    ref_mismatch: int  # sites whose reference allele is not the reference's base

    @classmethod
    def empty(cls) -> SiteKmers:
        return cls(np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.int64), 0, 0, 0)


def sites_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _kmers_at_offsets(haplotypes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Canonical k-mers of each row at each offset (rows of ``2k - 1`` base codes, the site in the middle), and
    whether each is free of non-ACGT bases; both shaped (rows, k)."""
    codes = haplotypes.astype(np.uint64)
    fwd = np.zeros((len(codes), k), dtype=np.uint64)
    rev = np.zeros((len(codes), k), dtype=np.uint64)
    bad = np.zeros((len(codes), k), dtype=bool)
    for i in range(k):
        column = codes[:, i : i + k]  # column o = the i-th base of the k-mer at offset o
        bad |= column > 3
        column = np.minimum(column, 3)
        fwd = (fwd << np.uint64(2)) | column
        rev |= (np.uint64(3) - column) << np.uint64(2 * i)
    return np.minimum(fwd, rev), ~bad


def site_kmers(reference: str, sites: list[tuple[str, int, str, str]], k: int = K) -> SiteKmers:
    """The k-mers covering each site (chrom, 1-based position, ref, alt) on every allele combination."""
    rows: list[np.ndarray] = []
    groups: list[int] = []
    extras: list[int] = []
    skipped = mismatch = indexed = 0
    by_contig: dict[str, list[tuple[int, str, str]]] = {}
    for chrom, pos, ref, alt in sites:
        if len(ref) != 1 or len(alt) != 1 or ref.upper() not in "ACGT" or alt.upper() not in "ACGT":
            skipped += 1
            continue
        by_contig.setdefault(chrom, []).append((pos, ref.upper(), alt.upper()))
    with pysam.FastaFile(reference) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths))
        for chrom, contig_sites in by_contig.items():
            contig = next((c for c in contig_candidates(chrom) if c in lengths), None)
            if contig is None:
                skipped += len(contig_sites)
                continue
            contig_sites.sort()
            positions = np.array([p for p, _, _ in contig_sites])
            for index, (pos, ref, _alt) in enumerate(contig_sites):
                start = pos - k  # 0-based start of the 2k - 1 bases centred on the site
                if pos < 1 or pos > lengths[contig]:
                    skipped += 1
                    continue
                text = fasta.fetch(contig, max(0, start), min(lengths[contig], pos + k - 1)).upper()
                text = "N" * (max(0, start) - start) + text
                window = np.frombuffer(text.ljust(2 * k - 1, "N").encode(), dtype=np.uint8)
                if chr(window[k - 1]) != ref:
                    mismatch += 1
                lo, hi = np.searchsorted(positions, [pos - k + 1, pos + k])
                near = sorted((j for j in range(lo, hi) if j != index), key=lambda j: abs(positions[j] - pos))[
                    :MAX_NEARBY
                ]
                variable = [contig_sites[j] for j in (index, *near)]
                for alleles in itertools.product(*((r, a) for _, r, a in variable)):
                    haplotype = window.copy()
                    for (p, _, _), allele in zip(variable, alleles):
                        haplotype[p - start - 1] = ord(allele)
                    rows.append(_CODE[haplotype])
                    groups.append(indexed)
                    extras.append(int(not np.array_equal(haplotype, window)))
                indexed += 1
    if not rows:
        empty = SiteKmers.empty()
        return SiteKmers(empty.kmers, empty.group, empty.extra, indexed, skipped, mismatch)
    kmers, valid = _kmers_at_offsets(np.stack(rows), k)
    group = np.asarray(groups, dtype=np.int64)[:, None] * k + np.arange(k)
    extra = np.broadcast_to(np.asarray(extras, dtype=np.int64)[:, None], kmers.shape)
    return SiteKmers(kmers[valid], group[valid], extra[valid], indexed, skipped, mismatch)


def read_site_alleles(path: str | Path) -> list[tuple[str, int, str, str]]:
    """(chrom, pos, ref, alt) of every site of a sample-check site table."""
    return [(chrom, pos, ref, alt) for chrom, pos, ref, alt, _kind in read_sites(path)]


def site_counts(
    site: SiteKmers, slots: np.ndarray, counts: np.ndarray, in_regions: np.ndarray, max_count: int
) -> np.ndarray:
    """`counts` (per table slot) with each site k-mer outside the regions set to its site offset's largest count
    over the allele combinations (the reference count, plus one for a haplotype the reference lacks), and to 1
    (recruits a read alone) when that is at most `max_count`: only the ``k`` k-mers over a site are indexed, so a
    read over it misses at every other k-mer and the rule for shared k-mers (few misses) could never keep it; the
    reads of a site's few other copies come along and BWA places them."""
    out = counts.astype(np.int64)
    own = out[slots] + site.extra
    largest = np.zeros(int(site.group.max()) + 1 if len(site.group) else 0, dtype=np.int64)
    np.maximum.at(largest, site.group, own)
    value = largest[site.group]
    value[value <= max_count] = 1
    outside = slots[~in_regions]
    merged = np.zeros_like(out)
    np.maximum.at(merged, outside, value[~in_regions])  # a k-mer of two sites: the larger
    out[outside] = merged[outside]
    return np.minimum(out, 65535).astype(counts.dtype)
