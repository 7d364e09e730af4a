"""Bins: the layout over windows and controls, depth counting from a BAM/CRAM, and the per-bin mask."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS
from dira_genotyper.cnv import breakpoints as bp
from dira_genotyper.cnv.params import CnvParams
from dira_genotyper.cnv.resources import LocusResources, load_resources, mask_fractions, merged_spans
from dira_genotyper.errors import InputError

COUNT_COLUMNS = ["chrom", "start", "end", "kind", "name", "gc", "reads", "depth"]
# Optional count columns (written by cnv-count since the mask; readers work without them): share of the
# reads overlapping a bin whose MAPQ is below --min-mapq (not counted in `reads`/`depth`).
OPTIONAL_COUNT_COLUMNS = ["low_mapq"]
BIN_COLUMNS = COUNT_COLUMNS + ["ratio", "copy_number", "posterior"]
# Optional bin columns: `low_mapq` as above, `mask` = why a bin is not copy-number evidence ("." = used).
OPTIONAL_BIN_COLUMNS = ["low_mapq", "mask"]


def bin_layout(res: LocusResources, bin_size: int = 1000) -> pd.DataFrame:
    """Bins that partition the window and control regions: `bin_size` tiles, cut so every exon is one bin.

    Short non-exon slivers left by the cuts are merged into a neighbour so no bin is much smaller than a
    fifth of `bin_size` unless it is an exon or squeezed between two exons. Returns 1-based inclusive rows
    with chrom, start, end, kind (window/exon/control) and name.
    """
    if bin_size < 50:
        raise InputError(f"--bin-size {bin_size} is too small: use at least 50 bp (default 1000)")
    min_piece = max(1, bin_size // 5)
    rows: list[tuple[str, int, int, str, str]] = []
    for chrom in res.contigs:
        spans = merged_spans(r for r in (*res.windows, *res.controls) if r.chrom == chrom)
        exons = sorted((e.start - 1, e.end, e.label) for e in res.exons if e.chrom == chrom)
        controls = [r for r in res.controls if r.chrom == chrom]
        window_name = next((r.name for r in res.windows if r.chrom == chrom), "window") or "window"
        for span_start, span_end in spans:
            cuts = set(range(span_start, span_end, bin_size)) | {span_end}
            last_tile = max(c for c in cuts if c < span_end)
            if span_end - last_tile < bin_size // 2 and last_tile > span_start:
                cuts.discard(last_tile)
            for s, e, _ in exons:
                cuts.update(x for x in (s, e) if span_start < x < span_end)
            for c in controls:
                cuts.update(x for x in (c.start, c.end) if span_start < x < span_end)
            cuts = {c for c in cuts if not any(s < c < e for s, e, _ in exons)}  # an exon is one bin
            edges = sorted(cuts | {span_start})
            pieces: list[list] = []
            for a, b in zip(edges, edges[1:], strict=False):
                exon_names = [n for s, e, n in exons if s < b and e > a]
                pieces.append([a, b, ",".join(exon_names)])
            merged: list[list] = []
            for piece in pieces:
                if (
                    merged
                    and not piece[2]
                    and not merged[-1][2]
                    and (piece[1] - piece[0] < min_piece or merged[-1][1] - merged[-1][0] < min_piece)
                ):
                    merged[-1][1] = piece[1]
                else:
                    merged.append(piece)
            for a, b, exon_name in merged:
                if exon_name:
                    rows.append((chrom, a + 1, b, "exon", exon_name))
                    continue
                home = next((c for c in controls if c.start <= a and b <= c.end), None)
                if home is not None:
                    rows.append((chrom, a + 1, b, "control", home.name or "control"))
                else:
                    rows.append((chrom, a + 1, b, "window", window_name))
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "kind", "name"])


def _bin_gc(fasta: pysam.FastaFile, chrom: str, starts0: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """GC fraction of the A/C/G/T bases of each bin; NaN when less than half the bin is A/C/G/T."""
    lo, hi = int(starts0.min()), int(ends.max())
    seq = np.frombuffer(fasta.fetch(chrom, lo, hi).upper().encode(), dtype=np.uint8)
    is_gc = (seq == ord("G")) | (seq == ord("C"))
    is_base = is_gc | (seq == ord("A")) | (seq == ord("T"))
    gc_sum = np.concatenate([[0], np.cumsum(is_gc)])
    base_sum = np.concatenate([[0], np.cumsum(is_base)])
    a, b = starts0 - lo, np.minimum(ends, hi) - lo
    bases = base_sum[b] - base_sum[a]
    gc = (gc_sum[b] - gc_sum[a]) / np.maximum(bases, 1)
    return np.where(bases >= 0.5 * (ends - starts0), gc, np.nan)


def _span_coverage(
    bam: pysam.AlignmentFile, chrom: str, start: int, end: int, min_mapq: int, skip_flags: int = MPILEUP_SKIP_FLAGS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-base depth over [start, end), the sorted start/end of every counted alignment and of every
    alignment skipped only for its MAPQ (alignments with a `skip_flags` flag are not counted)."""
    n = end - start
    block_starts: list[int] = []
    block_ends: list[int] = []
    read_starts: list[int] = []
    read_ends: list[int] = []
    low_starts: list[int] = []
    low_ends: list[int] = []
    for read in bam.fetch(chrom, start, end):
        if read.flag & skip_flags:
            continue
        if read.mapping_quality < min_mapq:
            low_starts.append(read.reference_start)
            low_ends.append(read.reference_end)
            continue
        read_starts.append(read.reference_start)
        read_ends.append(read.reference_end)
        for bs, be in read.get_blocks():
            block_starts.append(bs)
            block_ends.append(be)
    bs_arr = np.clip(np.asarray(block_starts, dtype=np.int64) - start, 0, n)
    be_arr = np.clip(np.asarray(block_ends, dtype=np.int64) - start, 0, n)
    diff = np.bincount(bs_arr, minlength=n + 1)[: n + 1] - np.bincount(be_arr, minlength=n + 1)[: n + 1]
    depth = np.cumsum(diff)[:n]
    return (
        depth,
        np.sort(np.asarray(read_starts, dtype=np.int64)),
        np.sort(np.asarray(read_ends, dtype=np.int64)),
        np.sort(np.asarray(low_starts, dtype=np.int64)),
        np.sort(np.asarray(low_ends, dtype=np.int64)),
    )


def count_bins(
    bam_path: str | os.PathLike,
    reference_fasta: str | os.PathLike | None,
    resources_dir: str | os.PathLike,
    bin_size: int = 1000,
    min_mapq: int = 20,
) -> pd.DataFrame:
    """Mean base depth and overlapping-read count per bin, from an indexed BAM/CRAM fetched by region.

    Only the window and control regions are read (one fetch per merged region), so the time does not grow
    with reads elsewhere. Duplicates, secondary and QC-failed alignments and MAPQ < `min_mapq` are skipped;
    `low_mapq` is the share of the remaining reads overlapping a bin that were skipped for their MAPQ (reads
    of repeats and segmental duplications: see `call_copy_number`).
    """
    res = load_resources(resources_dir)
    layout = bin_layout(res, bin_size)
    if reference_fasta is None or not Path(reference_fasta).exists():
        raise InputError(f"reference FASTA {reference_fasta} not found: the GC content of bins needs it")
    try:
        bam = bp.open_alignments(str(bam_path), str(reference_fasta))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open alignments {bam_path}: {exc}") from exc
    if not bam.has_index():
        raise InputError(f"{bam_path} has no index (.bai/.crai): run `samtools index {bam_path}`")
    fasta = pysam.FastaFile(str(reference_fasta))
    gc = np.full(len(layout), np.nan)
    reads = np.zeros(len(layout), dtype=np.int64)
    low = np.zeros(len(layout), dtype=np.int64)
    depth = np.zeros(len(layout))
    starts0 = layout["start"].to_numpy(dtype=np.int64) - 1
    ends = layout["end"].to_numpy(dtype=np.int64)
    chroms = layout["chrom"].to_numpy()
    for chrom in res.contigs:
        idx = np.flatnonzero(chroms == chrom)
        if chrom not in fasta.references:
            raise InputError(f"contig {chrom} of the resources is not in the reference {reference_fasta}")
        if chrom not in bam.references:
            raise InputError(
                f"contig {chrom} of the resources is not in the header of {bam_path}: align to the same reference build"
            )
        gc[idx] = _bin_gc(fasta, chrom, starts0[idx], ends[idx])
        # Bins of one contig form contiguous runs (merged spans); fetch each run once.
        breaks = np.flatnonzero(starts0[idx][1:] != ends[idx][:-1]) + 1
        for run in np.split(idx, breaks):
            span_start, span_end = int(starts0[run[0]]), int(ends[run[-1]])
            cov, rs, re_, ls, le = _span_coverage(bam, chrom, span_start, span_end, min_mapq)
            prefix = np.concatenate([[0], np.cumsum(cov, dtype=np.float64)])
            a, b = starts0[run] - span_start, ends[run] - span_start
            depth[run] = (prefix[b] - prefix[a]) / (b - a)
            reads[run] = np.searchsorted(rs, ends[run], side="left") - np.searchsorted(re_, starts0[run], side="right")
            low[run] = np.searchsorted(ls, ends[run], side="left") - np.searchsorted(le, starts0[run], side="right")
    out = layout.copy()
    out["gc"] = np.round(gc, 4)
    out["reads"] = reads
    out["depth"] = np.round(depth, 3)
    out["low_mapq"] = np.round(low / np.maximum(reads + low, 1), 4)
    return out[COUNT_COLUMNS + OPTIONAL_COUNT_COLUMNS]


def _present(df: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in df.columns]


@dataclass
class _BinMask:
    """Which bins may be copy-number evidence and controls, the reason for each excluded one, MAPQ shares."""

    usable: np.ndarray
    control_ok: np.ndarray
    reason: np.ndarray  # "." or blacklist/low_mapq
    low_mapq: np.ndarray  # share of reads with MAPQ < min_mapq (0 when the counts lack the column)
    repeat: np.ndarray  # share of RepeatMasker sequence

    def extra_sd(self, params: CnvParams) -> np.ndarray:
        """Systematic noise added to a bin for its repeat and low-MAPQ shares."""
        rep_sd = params.repeat_sd * np.clip(2.0 * self.repeat - 1.0, 0.0, 1.0)
        return np.sqrt(rep_sd**2 + (params.low_mapq_sd * np.clip(self.low_mapq, 0.0, 0.95)) ** 2)


def bin_mask(counts: pd.DataFrame, res: LocusResources, params: CnvParams) -> _BinMask:
    """Bins dominated by blacklisted, repeat or ambiguously mapped sequence (see `CnvParams`)."""
    n = len(counts)
    frac = mask_fractions(counts, res)
    black = frac.get("blacklist", np.zeros(n))
    repeat = frac.get("repeat", np.zeros(n))
    if "low_mapq" in counts.columns:
        low = np.nan_to_num(counts["low_mapq"].to_numpy(dtype=float), nan=0.0)
    else:
        low = np.zeros(n)
    reason = np.full(n, ".", dtype=object)
    reason[low >= params.max_low_mapq] = "low_mapq"
    reason[black >= params.max_blacklist_fraction] = "blacklist"
    chroms, starts, ends = counts["chrom"].to_numpy(), counts["start"].to_numpy(), counts["end"].to_numpy()
    keep = np.zeros(n, dtype=bool)
    for e in res.exons:
        if e.gene == res.target_gene:
            keep |= (chroms == e.chrom) & (starts <= e.end) & (ends >= e.start)
    reason[keep] = "."
    usable = reason == "."
    control_ok = usable & (black <= 0) & (repeat <= params.control_max_repeat) & (low <= params.control_max_low_mapq)
    return _BinMask(usable, control_ok, reason, low, repeat)
