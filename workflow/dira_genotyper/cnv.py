"""Copy number of the IL-1 cluster from read depth: bins, GC correction, an HMM over CN 0-4, breakpoints.

DIRA is caused by loss of both IL1RN copies, often through a ~175 kb founder deletion of the cluster. The
caller counts depth in bins over the extraction window (IL1RN and every cluster exon in a bin of its own),
normalises it against control regions of the same sample (WGS) or against other samples of the run
(exome/panel), and decides the copy number of every bin with a hidden Markov model whose posterior gives
each gene, exon and deletion a Phred-scaled quality. Weak evidence is a no-call with a reason, never a 2:
a two-copy call must rule out a deletion of >= 1 kb with the sample's own depth and, given the BAM, with
the junction reads such a deletion would leave (split/clipped reads, long-insert pairs).

Coordinates: BED files and pysam are 0-based half-open; every TSV, JSON and VCF written here is 1-based
inclusive (as are genes.tsv and exons.tsv).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from . import breakpoints as bp
from .errors import InputError

log = logging.getLogger(__name__)

COUNT_COLUMNS = ["chrom", "start", "end", "kind", "name", "gc", "reads", "depth"]
# Optional count columns (written by cnv-count since the mask; readers work without them): share of the
# reads overlapping a bin whose MAPQ is below --min-mapq (not counted in `reads`/`depth`).
OPTIONAL_COUNT_COLUMNS = ["low_mapq"]
BIN_COLUMNS = COUNT_COLUMNS + ["ratio", "copy_number", "posterior"]
# Optional bin columns: `low_mapq` as above, `mask` = why a bin is not copy-number evidence ("." = used).
OPTIONAL_BIN_COLUMNS = ["low_mapq", "mask"]
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400  # unmapped, secondary, QC fail, duplicate
MAX_QUALITY = 99.0


# ----------------------------------------------------------------------------------------------- resources
@dataclass(frozen=True)
class Region:
    """A BED interval (0-based half-open)."""

    chrom: str
    start: int
    end: int
    name: str = ""


@dataclass(frozen=True)
class GeneModel:
    gene: str
    chrom: str
    start: int  # 1-based inclusive
    end: int


@dataclass(frozen=True)
class ExonModel:
    gene: str
    exon: int
    chrom: str
    start: int  # 1-based inclusive
    end: int

    @property
    def label(self) -> str:
        return f"{self.gene}_exon{self.exon}"


@dataclass(frozen=True)
class LocusResources:
    windows: tuple[Region, ...]
    controls: tuple[Region, ...]
    targets: tuple[Region, ...]
    genes: tuple[GeneModel, ...]
    exons: tuple[ExonModel, ...]
    target_gene: str
    mask: tuple[Region, ...] = ()  # mask.bed: blacklist and RepeatMasker intervals (name = kind)

    @property
    def contigs(self) -> list[str]:
        """Contigs in the order the window and control files name them."""
        order: list[str] = []
        for region in (*self.windows, *self.controls):
            if region.chrom not in order:
                order.append(region.chrom)
        return order


def _read_bed(path: Path) -> tuple[Region, ...]:
    regions = []
    if not path.exists():
        return ()
    with open(path) as handle:
        for line in handle:
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.rstrip("\n").split("\t")
            regions.append(Region(f[0], int(f[1]), int(f[2]), f[3] if len(f) > 3 else ""))
    return tuple(regions)


def load_resources(resources_dir: str | os.PathLike) -> LocusResources:
    """Read window, control and target BEDs, gene and exon tables of one build folder."""
    folder = Path(resources_dir)
    for name in ("window.bed", "controls.bed", "genes.tsv", "exons.tsv"):
        if not (folder / name).exists():
            raise InputError(f"resources folder {folder} has no {name}: run `dira-genotyper build-resources`")
    genes_df = pd.read_csv(folder / "genes.tsv", sep="\t", dtype={"chrom": str})
    exons_df = pd.read_csv(folder / "exons.tsv", sep="\t", dtype={"chrom": str})
    genes = tuple(
        GeneModel(str(r.gene), str(r.chrom), int(r.start), int(r.end)) for r in genes_df.itertuples()
    )
    exons = tuple(
        ExonModel(str(r.gene), int(r.exon), str(r.chrom), int(r.start), int(r.end))
        for r in exons_df.itertuples()
    )
    target_gene = "IL1RN"
    build_json = folder / "build.json"
    if build_json.exists():
        target_gene = json.loads(build_json.read_text()).get("transcript", {}).get("gene", target_gene)
    return LocusResources(
        _read_bed(folder / "window.bed"),
        _read_bed(folder / "controls.bed"),
        _read_bed(folder / "targets.bed"),
        genes,
        exons,
        target_gene,
        _load_mask(folder),
    )


def _load_mask(folder: Path) -> tuple[Region, ...]:
    """mask.bed of a resources folder; for the workflow's prepared copy (contigs renamed to the reference's
    naming, no mask.bed), the source folder's mask with the same renaming. Empty when there is none."""
    if (folder / "mask.bed").exists():
        return _read_bed(folder / "mask.bed")
    build_json = folder / "build.json"
    if not build_json.exists():
        return ()
    meta = json.loads(build_json.read_text())
    source = meta.get("resources_source")
    if not source:
        return ()
    source_path = Path(source)
    if not source_path.is_absolute() and not source_path.exists():
        source_path = folder.parent / source_path
    naming = meta.get("naming") or {}
    return tuple(
        replace(r, chrom=naming.get(r.chrom, r.chrom)) for r in _read_bed(source_path / "mask.bed")
    )


def mask_fractions(counts: pd.DataFrame, res: LocusResources) -> dict[str, np.ndarray]:
    """Per bin, the share of its bases in mask intervals of each kind (mask.bed name: blacklist, repeat)."""
    chroms = counts["chrom"].to_numpy()
    starts0 = counts["start"].to_numpy(dtype=np.int64) - 1
    ends = counts["end"].to_numpy(dtype=np.int64)
    lengths = np.maximum(ends - starts0, 1)
    out: dict[str, np.ndarray] = {}
    for kind in sorted({r.name or "mask" for r in res.mask}):
        covered = np.zeros(len(counts))
        for chrom in set(chroms):
            merged = _merge([(r.start, r.end) for r in res.mask if r.chrom == chrom and (r.name or "mask") == kind])
            if not merged:
                continue
            ms = np.array([a for a, _ in merged], dtype=np.int64)
            me = np.array([b for _, b in merged], dtype=np.int64)
            before = np.concatenate([[0], np.cumsum(me - ms)])

            def covered_below(x: np.ndarray, ms: np.ndarray = ms, me: np.ndarray = me,
                              before: np.ndarray = before) -> np.ndarray:
                i = np.searchsorted(ms, x, side="right")  # intervals starting before x
                last = np.maximum(i - 1, 0)
                partial = np.where(i > 0, np.clip(x - ms[last], 0, me[last] - ms[last]), 0)
                return before[last] * (i > 0) + partial

            on = chroms == chrom
            covered[on] = covered_below(ends[on]) - covered_below(starts0[on])
        out[kind] = covered / lengths
    return out


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


# ---------------------------------------------------------------------------------------------- bin layout
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
        spans = _merge([(r.start, r.end) for r in (*res.windows, *res.controls) if r.chrom == chrom])
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
    bam: pysam.AlignmentFile, chrom: str, start: int, end: int, min_mapq: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-base depth over [start, end), the sorted start/end of every counted alignment and of every
    alignment skipped only for its MAPQ."""
    n = end - start
    block_starts: list[int] = []
    block_ends: list[int] = []
    read_starts: list[int] = []
    read_ends: list[int] = []
    low_starts: list[int] = []
    low_ends: list[int] = []
    for read in bam.fetch(chrom, start, end):
        if read.flag & _SKIP_FLAGS:
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
                f"contig {chrom} of the resources is not in the header of {bam_path}: "
                "align to the same reference build"
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
            reads[run] = np.searchsorted(rs, ends[run], side="left") - np.searchsorted(
                re_, starts0[run], side="right"
            )
            low[run] = np.searchsorted(ls, ends[run], side="left") - np.searchsorted(
                le, starts0[run], side="right"
            )
    out = layout.copy()
    out["gc"] = np.round(gc, 4)
    out["reads"] = reads
    out["depth"] = np.round(depth, 3)
    out["low_mapq"] = np.round(low / np.maximum(reads + low, 1), 4)
    return out[COUNT_COLUMNS + OPTIONAL_COUNT_COLUMNS]


def _present(df: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in df.columns]


def write_counts_tsv(counts: pd.DataFrame, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = COUNT_COLUMNS + _present(counts, OPTIONAL_COUNT_COLUMNS)
    counts[columns].to_csv(path, sep="\t", index=False, na_rep="NA", float_format="%.4f")
    return path


def read_counts_tsv(path: str | os.PathLike) -> pd.DataFrame:
    try:
        df = pd.read_csv(
            path, sep="\t", dtype={"chrom": str, "kind": str, "name": str}, na_values=["NA"], comment="#"
        )
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read bin counts {path}: {exc}") from exc
    missing = [c for c in COUNT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"bin counts {path} lack columns {missing}: write them with `dira-genotyper cnv-count`"
        )
    return df


# ----------------------------------------------------------------------------------------------- the model
@dataclass
class CnvParams:
    """Thresholds of the copy-number decision. Defaults suit 30x WGS with 1 kb bins."""

    max_cn: int = 4
    transition_prob: float = 1e-4  # per bin, of leaving a copy-number state
    outlier_weight: float = 1e-3  # share of bins whose depth follows no copy number (mapping artefacts)
    outlier_scale: float = 5.0  # their spread, in units of the model's standard deviation
    cn0_ratio: float = 0.02  # depth ratio left in a homozygous deletion by mismapped reads
    systematic_sd: float = 0.02  # depth noise that does not shrink with more reads
    # Below this median control-bin depth the count model itself is unsafe: a 1 kb bin at one copy then
    # expects < 30 reads (0.5 * depth * (1000 + 150) / 150), where the Gaussian approximation of the
    # Poisson count behind every emission and quality is poor. Loss of power at low depth is not handled
    # here but by each call's own quality (bench_cnv with this floor at 4: no wrong call at 12/10/8/6x).
    min_control_depth: float = 8.0
    max_mad: float = 0.15  # of the control bins' depth ratio
    min_control_bins: int = 20
    min_quality: float = 20.0  # Phred; below it a gene/exon/deletion call is null
    min_cohort: int = 3
    targeted_off_target_fraction: float = 0.5  # share of off-target bins near zero that marks targeted data
    gc_correct: bool = True
    breakpoint_slack: int | None = None  # bases searched around a segment end; default 1.5 bins
    min_clip: int = 10
    min_split_support: int = 2
    min_mapq: int = 20
    min_test_bp: int = 1000  # a two-copy call must exclude a deletion of this size with its own data
    # Junction reads (given a BAM): a deletion of >= min_test_bp leaves split/clipped reads and long-insert
    # pairs at its junction. Share of the templates expected in theory that are assumed to be seen: in
    # bench_cnv the templates found per simulated deletion average 1.04-1.10x theory at 10-60x (10th
    # percentile 0.5-0.8, Poisson noise included) and the scanned statistic, which counts a split template
    # at both ends, 2.0x; 0.7 leaves a margin for real data (shorter or worse reads, other aligners).
    junction_efficiency: float = 0.7
    # Chance that a deletion in uniquely mappable sequence shows no junction read at all whatever the depth
    # (pipeline losses); raised by the share of low-MAPQ reads around, where a junction can hide in a
    # repeat. It caps what absent junction reads can add to a two-copy call at 40 Phred.
    hidden_junction_prob: float = 1e-4
    # Mask (resources mask.bed + the sample's own MAPQ): a bin is no copy-number evidence when at least
    # `max_blacklist_fraction` of it is ENCODE-blacklisted or `max_low_mapq` of its reads have MAPQ <
    # min_mapq (young repeats, segmental duplications: the depth counted there says little about copy
    # number, and a homozygous deletion can be filled by mismapped reads). RepeatMasker sequence alone is
    # not masked (old repeats map uniquely) but down-weighted: a bin more than half repeat gets up to
    # `repeat_sd` more systematic noise (linear in the share above half). Control bins (normalisation) must
    # be cleaner: repeat share <= `control_max_repeat`, low-MAPQ share <= `control_max_low_mapq`, no
    # blacklist. Exon bins of the target gene are never masked. In single-sample mode the MAPQ-filtered
    # depth of a bin is divided by (1 - its low-MAPQ share), its expected read count multiplied by it, and
    # `low_mapq_sd` * share is added to its systematic noise.
    max_blacklist_fraction: float = 0.5
    repeat_sd: float = 0.1
    max_low_mapq: float = 0.5
    control_max_repeat: float = 0.5
    control_max_low_mapq: float = 0.2
    low_mapq_sd: float = 0.5


@dataclass
class _Normalised:
    mode: str
    ratio: np.ndarray
    expected_reads: np.ndarray
    kappa: float = 1.0
    mad: float | None = None
    control_median_depth: float | None = None
    reasons: list[str] = field(default_factory=list)
    n_cohort: int = 0
    expected_depth: np.ndarray | None = None
    read_length: float = 150.0
    extra_sd: np.ndarray | None = None  # per-bin systematic noise added to `systematic_sd` (low-MAPQ bins)


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


def _loess(
    x: np.ndarray, y: np.ndarray, x_eval: np.ndarray, frac: float = 0.4, iterations: int = 2
) -> np.ndarray:
    """Robust local-linear regression (tricube weights, bisquare reweighting) evaluated at `x_eval`."""
    n = len(x)
    k = max(5, int(math.ceil(frac * n)))
    robust = np.ones(n)

    def fit_at(points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for i, x0 in enumerate(points):
            dist = np.abs(x - x0)
            h = max(np.partition(dist, min(k, n) - 1)[min(k, n) - 1], 1e-9)
            w = np.clip(1 - (dist / (h * 1.0001)) ** 3, 0, None) ** 3 * robust
            sw = w.sum()
            if sw <= 0:
                out[i] = np.median(y)
                continue
            mx = (w * x).sum() / sw
            my = (w * y).sum() / sw
            var = (w * (x - mx) ** 2).sum()
            slope = (w * (x - mx) * (y - my)).sum() / var if var > 1e-12 else 0.0
            out[i] = my + slope * (x0 - mx)
        return out

    grid = np.linspace(x.min(), x.max(), 41) if x.max() > x.min() else np.array([x.min()])
    for _ in range(iterations):
        fitted = np.interp(x, grid, fit_at(grid))
        resid = y - fitted
        s = np.median(np.abs(resid))
        if s <= 0:
            break
        robust = np.clip(1 - (resid / (6 * s)) ** 2, 0, None) ** 2
    return np.interp(np.clip(x_eval, x.min(), x.max()), grid, fit_at(grid))


def _gc_expected(depth: np.ndarray, gc: np.ndarray, fit_mask: np.ndarray, gc_correct: bool) -> np.ndarray:
    """Depth expected at each bin's GC, fitted on `fit_mask` bins (loess when there are enough)."""
    level = float(np.median(depth[fit_mask]))
    expected = np.full(len(depth), level)
    x, y = gc[fit_mask], depth[fit_mask]
    if gc_correct and fit_mask.sum() >= 30 and np.ptp(x) >= 0.05 and level > 0:
        lo, hi = np.quantile(x, [0.01, 0.99])
        fitted = _loess(x, y, np.clip(np.where(np.isfinite(gc), gc, np.median(x)), lo, hi))
        expected = np.clip(fitted, 0.3 * level, 3 * level)
    return expected


def _read_length(depth: np.ndarray, reads: np.ndarray, lengths: np.ndarray, mask: np.ndarray) -> float:
    """Mean aligned read length from bins: reads = rate*(L+R), depth = rate*R => R = depth*L/(reads-depth)."""
    m = mask & (reads > depth + 1) & (depth > 0)
    if m.sum() < 5:
        return 150.0
    est = depth[m] * lengths[m] / (reads[m] - depth[m])
    return float(np.clip(np.median(est), 30.0, 100000.0))


def _calibrate(
    ratio: np.ndarray, expected_reads: np.ndarray, mask: np.ndarray, tau: float, by_diff: bool
) -> float:
    """Scale of the variance model so standardised residuals of normal bins have unit robust spread."""
    z = (ratio[mask] - 1.0) / np.sqrt(1.0 / expected_reads[mask] + tau**2)
    if len(z) < 5:
        return 1.0
    if by_diff:
        spread = 1.4826 * np.median(np.abs(np.diff(z))) / math.sqrt(2)
    else:
        spread = 1.4826 * np.median(np.abs(z - np.median(z)))
    return float(max(spread**2, 0.5))


def looks_targeted(counts: pd.DataFrame, res: LocusResources, params: CnvParams | None = None) -> bool:
    """True for exome/panel data: most window bins away from targets and exons have almost no reads."""
    params = params or CnvParams()
    on = np.zeros(len(counts), dtype=bool)
    chroms = counts["chrom"].to_numpy()
    starts, ends = counts["start"].to_numpy(), counts["end"].to_numpy()
    for r in (*res.targets, *(Region(e.chrom, e.start - 1, e.end) for e in res.exons)):
        on |= (chroms == r.chrom) & (starts <= r.end) & (ends > r.start)
    depth = counts["depth"].to_numpy(dtype=float)
    on_level = np.median(depth[on]) if on.any() else 0.0
    off = ~on & (counts["kind"].to_numpy() != "exon")
    if on_level <= 0 or off.sum() < 10:
        return False
    return bool(np.mean(depth[off] < 0.05 * on_level) >= params.targeted_off_target_fraction)


def _normalise_single(counts: pd.DataFrame, params: CnvParams, mask: _BinMask | None = None) -> _Normalised:
    n = len(counts)
    mask = mask or _BinMask(np.ones(n, bool), np.ones(n, bool), np.full(n, "."), np.zeros(n), np.zeros(n))
    mappable = 1.0 - np.clip(mask.low_mapq, 0.0, 0.95)
    depth = counts["depth"].to_numpy(dtype=float) / mappable
    reads = counts["reads"].to_numpy(dtype=float)
    gc = counts["gc"].to_numpy(dtype=float)
    lengths = (counts["end"] - counts["start"] + 1).to_numpy(dtype=float)
    ctrl = (counts["kind"].to_numpy() == "control") & np.isfinite(gc) & mask.control_ok
    norm = _Normalised("single", np.full(len(counts), np.nan), np.full(len(counts), np.nan))
    if ctrl.sum() < params.min_control_bins:
        norm.reasons.append(
            f"too few bins: {int(ctrl.sum())} control bins with sequence, need {params.min_control_bins}"
        )
        return norm
    norm.control_median_depth = float(np.median(depth[ctrl]))
    if norm.control_median_depth <= 0:
        norm.reasons.append("too shallow: control regions have no reads")
        return norm
    expected = _gc_expected(depth, gc, ctrl, params.gc_correct)
    read_len = _read_length(depth * mappable, reads, lengths, ctrl)
    has_expectation = np.isfinite(gc) & (expected > 0)
    valid = has_expectation & mask.usable
    norm.ratio = np.where(valid, depth / expected, np.nan)
    norm.expected_reads = np.where(valid, mappable * expected * (lengths + read_len) / read_len, np.nan)
    # Masked bins keep an expected depth (what junction reads around them should number) but no ratio.
    norm.expected_depth = np.where(has_expectation, expected * mappable, np.nan)
    norm.extra_sd = mask.extra_sd(params)
    norm.read_length = read_len
    r_ctrl = norm.ratio[ctrl]
    norm.mad = float(np.median(np.abs(r_ctrl - np.median(r_ctrl))))
    norm.kappa = _calibrate(norm.ratio, norm.expected_reads, ctrl, params.systematic_sd, by_diff=False)
    return norm


def _same_layout(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and all(
        (a[c].to_numpy() == b[c].to_numpy()).all() for c in ("chrom", "start", "end")
    )


def _normalise_cohort(
    counts: pd.DataFrame, cohort: list[pd.DataFrame], params: CnvParams, mask: _BinMask | None = None
) -> _Normalised:
    """Ratio to the median of the other samples' normalised depth per bin (ExomeDepth/CNVkit-style).

    The cohort has the same mappability as the sample, so low-MAPQ bins need no correction, only the mask.
    """
    n = len(counts)
    mask = mask or _BinMask(np.ones(n, bool), np.ones(n, bool), np.full(n, "."), np.zeros(n), np.zeros(n))
    norm = _Normalised("cohort", np.full(n, np.nan), np.full(n, np.nan), n_cohort=len(cohort))
    for i, other in enumerate(cohort):
        if not _same_layout(counts, other):
            raise InputError(
                f"cohort sample {i + 1} was counted with other bins (different --bin-size or "
                "resources): count every sample with the same settings"
            )
    depth = counts["depth"].to_numpy(dtype=float)
    reads = counts["reads"].to_numpy(dtype=float)
    gc = counts["gc"].to_numpy(dtype=float)
    lengths = (counts["end"] - counts["start"] + 1).to_numpy(dtype=float)
    others = np.vstack([o["depth"].to_numpy(dtype=float) for o in cohort])
    totals = (others * lengths).sum(axis=1) / lengths.sum()
    others = others[totals > 0]
    if len(others) < params.min_cohort:
        norm.reasons.append(
            f"too few cohort samples with reads: {len(others)}, cohort mode needs {params.min_cohort}"
        )
        return norm
    ref0 = np.median(others / (others * lengths).sum(axis=1, keepdims=True), axis=0)
    weights = ref0 * lengths
    order = np.argsort(ref0)
    level = ref0[order][np.searchsorted(np.cumsum(weights[order]), 0.5 * weights.sum())]
    covered = (ref0 >= 0.1 * level) & np.isfinite(gc) & mask.usable
    if covered.sum() < params.min_control_bins:
        norm.reasons.append(
            f"too few bins: {int(covered.sum())} bins covered in the cohort, need {params.min_control_bins}"
        )
        return norm
    scaled = others / np.median(others[:, covered] / ref0[covered], axis=1, keepdims=True)
    ref = np.median(scaled, axis=0)
    covered &= ref > 0
    scale = float(np.median(depth[covered] / ref[covered]))
    # Masked bins keep an expected depth (junction evidence around them) but give no ratio.
    covered_all = ((ref0 >= 0.1 * level) & np.isfinite(gc) & (ref > 0)) | covered
    if scale <= 0:
        norm.reasons.append("too shallow: no reads in the bins the cohort covers")
        norm.control_median_depth = 0.0
        return norm
    expected_depth = np.where(covered_all, scale * ref, np.nan)
    ratio = np.where(covered, depth / np.where(covered, expected_depth, 1.0), np.nan)
    if params.gc_correct and covered.sum() >= 50 and np.ptp(gc[covered]) >= 0.05:
        trend = _loess(gc[covered], ratio[covered], np.where(np.isfinite(gc), gc, 0.5))
        factor = np.clip(trend / np.median(trend[covered]), 0.5, 2.0)
        factor = np.where(np.isfinite(factor), factor, 1.0)
        ratio = np.where(covered, ratio / factor, np.nan)
        expected_depth = expected_depth * factor
    ctrl = covered & (counts["kind"].to_numpy() == "control") & mask.control_ok
    qc_bins = ctrl if ctrl.sum() >= params.min_control_bins else covered
    norm.control_median_depth = float(np.median(depth[qc_bins]))
    read_len = _read_length(depth, reads, lengths, qc_bins)
    # The reference is a median of n samples: its noise adds about 1.57/n of one sample's Poisson noise.
    inflation = 1.0 + 1.57 / len(others)
    expected_reads = scale * ref * (lengths + read_len) / read_len / inflation
    norm.ratio = ratio
    norm.expected_reads = np.where(covered, expected_reads, np.nan)
    norm.expected_depth = expected_depth
    norm.read_length = read_len
    # The cohort shares the sample's mappability: only the repeat share down-weights here.
    norm.extra_sd = params.repeat_sd * np.clip(2.0 * mask.repeat - 1.0, 0.0, 1.0)
    ordered = ratio[qc_bins]
    norm.mad = float(np.median(np.abs(np.diff(ordered))) / math.sqrt(2))
    norm.kappa = _calibrate(ratio, norm.expected_reads, qc_bins, params.systematic_sd, by_diff=True)
    return norm


def _log_emissions(
    ratio: np.ndarray,
    expected_reads: np.ndarray,
    kappa: float,
    params: CnvParams,
    extra_sd: np.ndarray | None = None,
) -> np.ndarray:
    """log P(ratio | CN) per bin and CN: a Gaussian (Poisson + systematic variance) mixed with a 5x wider one.

    The wide component stands for bins that follow no model (mapping artefacts, GC outliers): it caps how
    much one bin can weigh but, unlike a flat floor, still prefers the copy number nearest the ratio.
    """
    means = np.array([params.cn0_ratio] + [k / 2 for k in range(1, params.max_cn + 1)])
    poisson_mean = np.maximum(means, 0.05)
    sd = np.full(len(ratio), params.systematic_sd)
    if extra_sd is not None:
        sd = np.sqrt(sd**2 + np.asarray(extra_sd, dtype=float) ** 2)
    var = kappa * (poisson_mean[None, :] / expected_reads[:, None] + (means[None, :] * sd[:, None]) ** 2)
    var = np.maximum(var, 1e-6)
    r = np.clip(ratio, 0, None)[:, None]

    def gauss(v: np.ndarray) -> np.ndarray:
        return -0.5 * (r - means[None, :]) ** 2 / v - 0.5 * np.log(2 * math.pi * v)

    core = math.log1p(-params.outlier_weight) + gauss(var)
    wide = math.log(params.outlier_weight) + gauss(var * params.outlier_scale**2)
    floor = math.log(1e-6 / max(3.0, (params.max_cn + 2) / 2))
    return np.logaddexp(np.logaddexp(core, wide), floor)


class CopyNumberHmm:
    """Scaled forward-backward and Viterbi over one contig's bins; states are copy numbers 0..K."""

    def __init__(self, log_emissions: np.ndarray, transition_prob: float, normal_state: int = 2):
        self.n, self.k = log_emissions.shape
        off = transition_prob / (self.k - 1)
        self.trans = np.full((self.k, self.k), off)
        np.fill_diagonal(self.trans, 1.0 - transition_prob)
        self.start = np.full(self.k, off)
        self.start[normal_state] = 1.0 - off * (self.k - 1)
        self.log_em = log_emissions
        self.em = np.exp(log_emissions - log_emissions.max(axis=1, keepdims=True))
        self._forward()
        self._backward()

    def _forward(self) -> None:
        alpha = np.empty((self.n, self.k))
        logc = np.empty(self.n)
        v = self.start * self.em[0]
        for i in range(self.n):
            if i:
                v = (alpha[i - 1] @ self.trans) * self.em[i]
            c = v.sum()
            alpha[i] = v / c
            logc[i] = math.log(c)
        self.alpha, self.logc = alpha, logc

    def _backward(self) -> None:
        beta = np.empty((self.n, self.k))
        beta[-1] = 1.0
        for i in range(self.n - 2, -1, -1):
            v = self.trans @ (self.em[i + 1] * beta[i + 1])
            beta[i] = v / v.sum()
        self.beta = beta
        post = self.alpha * beta
        self.posterior = post / post.sum(axis=1, keepdims=True)

    def viterbi(self) -> np.ndarray:
        log_t = np.log(self.trans)
        score = np.log(self.start) + self.log_em[0]
        back = np.zeros((self.n, self.k), dtype=np.int64)
        for i in range(1, self.n):
            cand = score[:, None] + log_t
            back[i] = np.argmax(cand, axis=0)
            score = cand[back[i], np.arange(self.k)] + self.log_em[i]
        path = np.empty(self.n, dtype=np.int64)
        path[-1] = int(np.argmax(score))
        for i in range(self.n - 1, 0, -1):
            path[i - 1] = back[i, path[i]]
        return path

    def prob_all_in(self, first: int, last: int, allowed: np.ndarray) -> float:
        """Posterior probability that every bin first..last (inclusive) has a state in `allowed`."""
        mask = allowed.astype(float)
        v_all = self.start.copy() if first == 0 else self.alpha[first - 1] @ self.trans
        v_sub = v_all.copy()
        log_ratio = 0.0
        for i in range(first, last + 1):
            if i > first:
                v_all = v_all @ self.trans
                v_sub = v_sub @ self.trans
            v_all = v_all * self.em[i]
            v_sub = v_sub * self.em[i] * mask
            s_all, s_sub = v_all.sum(), v_sub.sum()
            if s_sub <= 0:
                return 0.0
            log_ratio += math.log(s_sub) - math.log(s_all)
            v_all, v_sub = v_all / s_all, v_sub / s_sub
        tail_sub = float(v_sub @ self.beta[last])
        tail_all = float(v_all @ self.beta[last])
        return float(min(1.0, math.exp(log_ratio) * tail_sub / tail_all))

    def prob_min_equals(self, first: int, last: int) -> np.ndarray:
        """P(min state over first..last == k) for each k, from P(all >= k)."""
        at_least = [1.0]
        for k in range(1, self.k):
            allowed = np.arange(self.k) >= k
            at_least.append(self.prob_all_in(first, last, allowed))
        at_least.append(0.0)
        probs = np.array([at_least[k] - at_least[k + 1] for k in range(self.k)])
        return np.clip(probs, 0.0, 1.0)


def evidence_against_loss(
    log_em: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    first: int,
    last: int,
    min_span: int,
    contain: tuple[int, int] | None = None,
    junction_loglik: tuple[float, float] = (0.0, 0.0),
) -> float:
    """The data's own evidence (nats) for two copies against a deletion somewhere in bins first..last.

    The HMM's prior makes short deletions rare, so a two-copy posterior can be high with no data behind it
    (shallow coverage, a short exon). Here the alternative is one deletion (CN 1 or CN 0) equally likely to
    be any shortest run of bins spanning >= `min_span` bp (containing bins `contain`, if given): the result
    is -log of the mean likelihood ratio alternative/two-copies, i.e. the posterior log-odds of two copies
    when a deletion and no deletion are a priori equally likely. A two-copy call is never more confident
    than that.

    `junction_loglik` is the log-likelihood ratio (deletion of CN 1, of CN 0 against two copies) of the
    junction reads seen around the bins (see `junction_loglik`), an independent observation multiplied
    into every alternative of that copy number; (0, 0) = depth alone.
    """
    diff = np.stack([log_em[first : last + 1, 2] - log_em[first : last + 1, k] for k in (1, 0)])
    cum = np.concatenate([np.zeros((2, 1)), np.cumsum(diff, axis=1)], axis=1)
    s, e = starts[first : last + 1], ends[first : last + 1]
    span_needed = min(min_span, int(e[-1] - s[0] + 1))
    n = last - first + 1
    ratios: list[np.ndarray] = []
    for a in range(n):
        if contain is not None and a > contain[0] - first:
            break
        lo = a if contain is None else max(a, contain[1] - first)
        ok = np.flatnonzero((np.arange(n) >= lo) & (e - s[a] + 1 >= span_needed))
        if len(ok):
            ratios.append(cum[:, ok[0] + 1] - cum[:, a])
    if not ratios:
        ratios.append(cum[:, -1] - cum[:, 0])
    lr = np.stack(ratios) - np.asarray(junction_loglik, dtype=float)[None, :]
    neg = -lr.ravel()
    top = neg.max()
    return float(-(top + math.log(np.mean(np.exp(neg - top)))))


def _poisson_logcdf(k: int, lam: float) -> float:
    """log P(X <= k) for X ~ Poisson(lam), computed in log space.

    The terms exp(-lam) lam^i / i! are summed as logs (lgamma + log-sum-exp), so the result stays exact at
    panel/amplicon depths where exp(-lam) underflows (lam >= ~745). Summing from the largest term keeps
    the relative error at rounding level for any k and lam.
    """
    if k < 0:
        return -math.inf
    if lam <= 0:
        return 0.0
    i = np.arange(int(k) + 1, dtype=np.float64)
    log_terms = -lam + i * math.log(lam) - np.array([math.lgamma(x + 1.0) for x in i])
    top = float(log_terms.max())
    return min(0.0, top + math.log(float(np.exp(log_terms - top).sum())))


def _poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam) (from the log-space value; may be 0.0 only when truly < 1e-308)."""
    return math.exp(_poisson_logcdf(k, lam))


def _log_mix(log_hidden: float, hidden: float, log_p: float) -> float:
    """log(hidden + (1 - hidden) * exp(log_p)) without leaving log space."""
    seen = math.log1p(-hidden) + log_p if hidden < 1.0 else -math.inf
    return float(np.logaddexp(log_hidden, seen))


def junction_loglik(
    scan: bp.JunctionScan,
    depth: float,
    read_length: float,
    isize: bp.InsertSizeModel | None,
    params: CnvParams,
) -> tuple[float, float]:
    """Log-likelihood ratio (deletion of CN 1, of CN 0 against two copies) of the junction reads in a scan.

    A deletion of >= `min_test_bp` inside the scanned region joins two distant bases: each lost copy gives
    reads crossing the junction with >= `min_clip` bases on both sides (split or clipped there) and read
    pairs whose insert spans it. At two-copy depth `depth` that is, per lost copy, about
    depth/2/L * (L - 2*min_clip + 1) reads plus depth/4/L * (insert - 2L) pairs (L = read length), scaled by
    `junction_efficiency`. At most `scan.most` of them were seen, so P(seen | deletion) <= P(X <= most), X
    Poisson; with probability `hidden` (`hidden_junction_prob`, raised by the share of reads of the region
    that do not map uniquely) the junction could not have been seen at all. The probability of the same
    reads under two copies is taken as 1, which can only understate the evidence for two copies.
    """
    per_base = max(0.0, depth) / 2.0 / read_length
    split = per_base * max(0.0, read_length - 2 * params.min_clip + 1)
    pairs = per_base / 2.0 * max(0.0, isize.median - 2 * read_length) if isize else 0.0
    lam = params.junction_efficiency * (split + pairs)
    hidden = params.hidden_junction_prob + (1.0 - params.hidden_junction_prob) * (1.0 - scan.mappable)
    log_hidden = math.log(hidden) if hidden > 0 else -math.inf
    out = [_log_mix(log_hidden, hidden, _poisson_logcdf(scan.most, lost * lam)) for lost in (1, 2)]
    return out[0], out[1]


def phred(p_wrong: float) -> float:
    if p_wrong <= 10 ** (-MAX_QUALITY / 10):
        return MAX_QUALITY
    return float(min(MAX_QUALITY, -10.0 * math.log10(p_wrong)))


# --------------------------------------------------------------------------------------------- the result
@dataclass
class Segment:
    chrom: str
    start: int  # 1-based inclusive
    end: int
    n_bins: int
    copy_number: int
    quality: float
    ratio: float

    def to_json(self) -> dict:
        return {
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "n_bins": self.n_bins,
            "copy_number": self.copy_number,
            "quality": round(self.quality, 1),
            "ratio": _round(self.ratio, 4),
        }


@dataclass
class Deletion:
    chrom: str
    start: int  # first deleted base, 1-based
    end: int  # last deleted base, 1-based
    copy_number: int
    quality: float
    genes: list[str] = field(default_factory=list)
    il1rn_exons: list[int] = field(default_factory=list)
    split_reads: int = 0
    discordant_pairs: int = 0
    precise: bool = False
    source: str = "depth"

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def to_json(self) -> dict:
        return {
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "size": self.size,
            "copy_number": self.copy_number,
            "quality": round(self.quality, 1),
            "genes": list(self.genes),
            "il1rn_exons": list(self.il1rn_exons),
            "breakpoint_support": {
                "split_reads": self.split_reads,
                "discordant_pairs": self.discordant_pairs,
                "precise": self.precise,
            },
        }


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass
class _CallSpec:
    """An exon or gene call as the HMM makes it, and (two copies) the bins of its deletion test.

    `first`/`last` are rows of the contig's HMM (not of `bins`); `contain` the rows the deletion must cover.
    """

    kind: str  # "exon" or "gene"
    key: int | str  # index into CnvResult.exons, or the gene name
    gene: str
    chrom: str
    best: int
    hmm_quality: float
    first: int = -1
    last: int = -1
    contain: tuple[int, int] | None = None
    junction_reads: int | None = None
    junction_loglik: tuple[float, float] = (0.0, 0.0)


@dataclass
class CnvResult:
    mode: str
    status: str
    reasons: list[str]
    mad: float | None
    control_median_depth: float | None
    genes: dict[str, dict]
    exons: list[dict]
    deletions: list[Deletion]
    segments: list[Segment]
    bins: pd.DataFrame
    sample: str | None = None
    target_gene: str = "IL1RN"
    n_cohort: int = 0
    expected_depth: np.ndarray | None = field(default=None, repr=False)
    kappa: float = 1.0
    read_length: float = 150.0
    # Per contig, the HMM's log emissions and the rows of `bins` they belong to; the exon and gene calls
    # before their two-copy test (see `_finalise_calls`).
    log_emissions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    call_specs: list[_CallSpec] = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        out = {
            "mode": self.mode,
            "status": self.status,
            "reasons": list(self.reasons),
            "mad": _round(self.mad, 4),
            "control_median_depth": _round(self.control_median_depth, 2),
            "genes": {g: dict(v) for g, v in self.genes.items()},
            "exons": [dict(e) for e in self.exons],
            "deletions": [d.to_json() for d in self.deletions],
        }
        if self.sample is not None:
            out = {"sample": self.sample, **out}
        return out


def _overlap_names(res: LocusResources, chrom: str, start: int, end: int) -> tuple[list[str], list[int]]:
    genes = [g.gene for g in res.genes if g.chrom == chrom and g.start <= end and g.end >= start]
    exons = sorted(
        e.exon
        for e in res.exons
        if e.gene == res.target_gene and e.chrom == chrom and e.start <= end and e.end >= start
    )
    return genes, exons


def _absorb_edge_bins(path: np.ndarray) -> np.ndarray:
    """A lone bin whose CN lies between its neighbours' is a partly deleted bin: give it the lower CN."""
    path = path.copy()
    for i in range(1, len(path) - 1):
        left, here, right = path[i - 1], path[i], path[i + 1]
        if here != left and here != right and min(left, right) < here < max(left, right):
            path[i] = min(left, right)
    return path


def _uncalled_exon(e) -> dict:  # noqa: ANN001 - an exon record of LocusResources
    """An exon's entry before (or without) a copy-number call."""
    return {"gene": e.gene, "exon": e.exon, "start": e.start, "end": e.end, "copy_number": None, "quality": 0.0,
            "ratio": None}


def _bins_frame(counts: pd.DataFrame, mask: _BinMask | None) -> pd.DataFrame:
    """The count columns of the bins table (with `low_mapq` when counted) and, given a mask, its reasons."""
    bins = counts[COUNT_COLUMNS + _present(counts, OPTIONAL_COUNT_COLUMNS)].copy()
    if mask is not None:
        bins["mask"] = mask.reason
    return bins


def _no_call_result(
    counts: pd.DataFrame,
    res: LocusResources,
    norm: _Normalised,
    sample: str | None,
    mask: _BinMask | None = None,
) -> CnvResult:
    bins = _bins_frame(counts, mask)
    bins["ratio"] = np.round(norm.ratio, 4)
    bins["copy_number"] = pd.array([None] * len(bins), dtype="Int64")
    bins["posterior"] = np.nan
    genes = {g.gene: {"copy_number": None, "quality": 0.0, "ratio": None, "n_bins": 0} for g in res.genes}
    exons = [
        _uncalled_exon(e)
        for e in res.exons
    ]
    return CnvResult(
        norm.mode,
        "no_call",
        norm.reasons,
        norm.mad,
        norm.control_median_depth,
        genes,
        exons,
        [],
        [],
        bins,
        sample,
        res.target_gene,
        norm.n_cohort,
    )


def call_copy_number(
    counts_df: pd.DataFrame,
    resources_dir: str | os.PathLike,
    mode: str = "single",
    cohort: list[pd.DataFrame] | None = None,
    params: CnvParams | None = None,
    sample: str | None = None,
) -> CnvResult:
    """Copy number per bin, exon, gene and deletion segment, with Phred qualities and no-call reasons."""
    params = params or CnvParams()
    cohort = list(cohort or [])
    res = load_resources(resources_dir)
    counts = counts_df.reset_index(drop=True)
    if mode not in ("auto", "single", "cohort"):
        raise InputError(f"--mode {mode!r} is not one of auto, single, cohort")
    targeted = looks_targeted(counts, res, params)
    mask = bin_mask(counts, res, params)
    if mode == "auto":
        mode = "cohort" if targeted and len(cohort) >= params.min_cohort else "single"
        log.info(
            "auto mode chose %s (targeted-looking data: %s, cohort samples: %d)", mode, targeted, len(cohort)
        )
    if mode == "cohort":
        if len(cohort) < params.min_cohort:
            norm = _Normalised(
                "cohort", np.full(len(counts), np.nan), np.full(len(counts), np.nan), n_cohort=len(cohort)
            )
            norm.reasons.append(
                f"too few cohort samples: cohort mode needs {params.min_cohort} other samples, "
                f"got {len(cohort)}"
            )
            return _no_call_result(counts, res, norm, sample, mask)
        norm = _normalise_cohort(counts, cohort, params, mask)
    else:
        norm = _normalise_single(counts, params, mask)
        if targeted:
            norm.reasons.append(
                "data look targeted (exome/panel): single-sample normalisation is unreliable; "
                f"run cohort mode with at least {params.min_cohort} other samples"
            )
    if not norm.reasons:
        if norm.control_median_depth is not None and norm.control_median_depth < params.min_control_depth:
            norm.reasons.append(
                f"too shallow: median depth of control bins {norm.control_median_depth:.1f} "
                f"< {params.min_control_depth:g}"
            )
        if norm.mad is not None and norm.mad > params.max_mad:
            norm.reasons.append(
                f"too noisy: MAD of control-bin depth ratio {norm.mad:.3f} > {params.max_mad:g}"
            )
    if norm.reasons:
        return _no_call_result(counts, res, norm, sample, mask)
    return _decide(counts, res, norm, params, sample, mask)


def _decide(
    counts: pd.DataFrame,
    res: LocusResources,
    norm: _Normalised,
    params: CnvParams,
    sample: str | None,
    mask: _BinMask | None = None,
) -> CnvResult:
    valid = np.isfinite(norm.ratio) & np.isfinite(norm.expected_reads) & (norm.expected_reads > 0)
    chroms = counts["chrom"].to_numpy()
    starts, ends = counts["start"].to_numpy(), counts["end"].to_numpy()
    cn = np.full(len(counts), -1, dtype=np.int64)
    post = np.full(len(counts), np.nan)
    hmms: dict[str, tuple[CopyNumberHmm, np.ndarray]] = {}
    segments: list[Segment] = []
    normal = 2
    # Region number of every bin: bins of one contig that touch belong to one region.
    new_region = np.ones(len(counts), dtype=bool)
    new_region[1:] = (chroms[1:] != chroms[:-1]) | (starts[1:] != ends[:-1] + 1)
    region = np.cumsum(new_region)
    for chrom in res.contigs:
        idx = np.flatnonzero((chroms == chrom) & valid)
        if len(idx) == 0:
            continue
        extra = norm.extra_sd[idx] if norm.extra_sd is not None else None
        emis = _log_emissions(norm.ratio[idx], norm.expected_reads[idx], norm.kappa, params, extra)
        hmm = CopyNumberHmm(emis, params.transition_prob, normal)
        hmms[chrom] = (hmm, idx)
        path = _absorb_edge_bins(hmm.viterbi())
        cn[idx] = path
        post[idx] = hmm.posterior[np.arange(len(idx)), path]
        # Runs of one CN; a gap between regions also ends a run (masked bins inside a region do not).
        gap = np.flatnonzero((region[idx][1:] != region[idx][:-1]) | (path[1:] != path[:-1])) + 1
        for run in np.split(np.arange(len(idx)), gap):
            state = int(path[run[0]])
            core = run[1:-1] if len(run) >= 3 else run
            allowed = np.arange(hmm.k) == state
            p = hmm.prob_all_in(int(core[0]), int(core[-1]), allowed)
            # Masked bins between two runs of one region: each run reaches the middle of the gap.
            seg_start, seg_end = int(starts[idx[run[0]]]), int(ends[idx[run[-1]]])
            if run[0] > 0 and region[idx[run[0] - 1]] == region[idx[run[0]]]:
                seg_start = (int(ends[idx[run[0] - 1]]) + seg_start + 1) // 2
            if run[-1] + 1 < len(idx) and region[idx[run[-1] + 1]] == region[idx[run[-1]]]:
                seg_end = (seg_end + int(starts[idx[run[-1] + 1]]) - 1) // 2
            segments.append(
                Segment(
                    chrom,
                    seg_start,
                    seg_end,
                    len(run),
                    state,
                    phred(1.0 - p),
                    float(np.median(norm.ratio[idx[run]])),
                )
            )
    bins = _bins_frame(counts, mask)
    bins["ratio"] = np.round(norm.ratio, 4)
    bins["copy_number"] = pd.array([int(c) if c >= 0 else None for c in cn], dtype="Int64")
    bins["posterior"] = np.round(post, 4)
    reasons: list[str] = []

    specs: list[_CallSpec] = []
    exons: list[dict] = []
    for i, e in enumerate(res.exons):
        entry = _uncalled_exon(e)
        if e.chrom in hmms:
            hmm, idx = hmms[e.chrom]
            inside = np.flatnonzero((starts[idx] <= e.end) & (ends[idx] >= e.start))
            if len(inside):
                probs = hmm.prob_min_equals(int(inside[0]), int(inside[-1]))
                spec = _CallSpec("exon", i, e.gene, e.chrom, int(np.argmax(probs)), phred(1.0 - probs.max()))
                if spec.best == normal:
                    near = np.flatnonzero(
                        (starts[idx] <= e.end + params.min_test_bp)
                        & (ends[idx] >= e.start - params.min_test_bp)
                    )
                    spec.first, spec.last = int(near[0]), int(near[-1])
                    spec.contain = (int(inside[0]), int(inside[-1]))
                specs.append(spec)
                entry["ratio"] = _round(np.median(norm.ratio[idx[inside]]), 4)
        exons.append(entry)

    genes: dict[str, dict] = {}
    for g in res.genes:
        entry = {"copy_number": None, "quality": 0.0, "ratio": None, "n_bins": 0}
        if g.chrom in hmms:
            hmm, idx = hmms[g.chrom]
            inside = np.flatnonzero((starts[idx] <= g.end) & (ends[idx] >= g.start))
            if len(inside):
                probs = hmm.prob_min_equals(int(inside[0]), int(inside[-1]))
                spec = _CallSpec("gene", g.gene, g.gene, g.chrom, int(np.argmax(probs)), phred(1.0 - probs.max()))
                if spec.best == normal:
                    spec.first, spec.last = int(inside[0]), int(inside[-1])
                specs.append(spec)
                entry["ratio"] = _round(np.median(norm.ratio[idx[inside]]), 4)
                entry["n_bins"] = int(len(inside))
        if entry["n_bins"] == 0:
            reasons.append(f"{g.gene}: too few bins with usable depth")
        genes[g.gene] = entry

    deletions: list[Deletion] = []
    for seg in segments:
        if seg.copy_number < normal and seg.quality >= params.min_quality:
            gene_names, exon_numbers = _overlap_names(res, seg.chrom, seg.start, seg.end)
            deletions.append(
                Deletion(
                    seg.chrom, seg.start, seg.end, seg.copy_number, seg.quality, gene_names, exon_numbers
                )
            )
        elif seg.copy_number < normal:
            reasons.append(
                f"possible deletion {seg.chrom}:{seg.start}-{seg.end} (CN {seg.copy_number}) below "
                f"quality {params.min_quality:g} (Q={seg.quality:.1f}); not reported"
            )
    result = CnvResult(
        norm.mode,
        "called",
        reasons,
        norm.mad,
        norm.control_median_depth,
        genes,
        exons,
        deletions,
        segments,
        bins,
        sample,
        res.target_gene,
        norm.n_cohort,
        norm.expected_depth,
        norm.kappa,
        norm.read_length,
        {chrom: (hmm.log_em, idx) for chrom, (hmm, idx) in hmms.items()},
        specs,
    )
    _finalise_calls(result, params)
    return result


def _finalise_calls(result: CnvResult, params: CnvParams) -> None:
    """Exon and gene copy numbers and qualities from their HMM calls and the two-copy deletion test.

    A two-copy call is never more confident than the sample's own data rule out a >= `min_test_bp`
    deletion (`evidence_against_loss`, with the junction reads when `add_read_evidence` scanned them), and
    a gene's two-copy call never more than its weakest exon's. Rerunnable: it rewrites the entries and the
    genes' "not called" reasons.
    """
    to_phred = 10 * math.log10(math.e)
    starts, ends = result.bins["start"].to_numpy(), result.bins["end"].to_numpy()
    exon_two: dict[str, float] = {}  # per gene, the weakest exon's two-copy quality
    gene_reasons: list[str] = []
    for spec in sorted(result.call_specs, key=lambda c: c.kind != "exon"):
        quality = spec.hmm_quality
        if spec.best == 2:
            log_em, idx = result.log_emissions[spec.chrom]
            nats = evidence_against_loss(
                log_em,
                starts[idx],
                ends[idx],
                spec.first,
                spec.last,
                params.min_test_bp,
                spec.contain,
                spec.junction_loglik,
            )
            quality = min(quality, max(0.0, to_phred * nats))
        if spec.kind == "exon":
            exon_two[spec.gene] = min(exon_two.get(spec.gene, MAX_QUALITY), quality if spec.best == 2 else 0.0)
            entry = result.exons[int(spec.key)]
        else:
            if spec.best == 2:
                quality = min(quality, exon_two.get(spec.gene, MAX_QUALITY))
            entry = result.genes[str(spec.key)]
            if quality < params.min_quality:
                gene_reasons.append(
                    f"{spec.gene}: copy number not called, posterior quality {quality:.1f} < {params.min_quality:g}"
                    + (f" ({spec.junction_reads} junction reads)" if spec.junction_reads is not None else "")
                )
        entry.update(copy_number=spec.best if quality >= params.min_quality else None, quality=round(quality, 1))
        if spec.junction_reads is not None:
            entry["junction_reads"] = spec.junction_reads
    others = [r for r in result.reasons if ": copy number not called, posterior quality" not in r]
    result.reasons = gene_reasons + others


# -------------------------------------------------------------------------------------------- breakpoints
def refine_breakpoints(
    bam_path: str | os.PathLike,
    deletions: list[Deletion],
    reference_fasta: str | os.PathLike | None = None,
    resources_dir: str | os.PathLike | None = None,
    bin_size: int = 1000,
    params: CnvParams | None = None,
) -> list[Deletion]:
    """Move each deletion's ends to the junction that split reads / discordant pairs show, if any.

    Returns new Deletion records (1-based) with their breakpoint support; `genes` and `il1rn_exons` are
    recomputed when `resources_dir` is given.
    """
    params = params or CnvParams()
    if not deletions:
        return []
    res = load_resources(resources_dir) if resources_dir else None
    slack = params.breakpoint_slack or int(1.5 * bin_size)
    bam = bp.open_alignments(str(bam_path), str(reference_fasta) if reference_fasta else None)
    normal_regions = [(r.chrom, r.start, r.end) for r in (res.controls if res else ())]
    if not normal_regions:
        chrom0 = deletions[0].chrom
        normal_regions = [(chrom0, max(0, deletions[0].start - 50000), deletions[0].start - 1)]
    isize = bp.insert_size_model(bam, normal_regions, params.min_mapq)
    fasta = pysam.FastaFile(str(reference_fasta)) if reference_fasta else None
    out: list[Deletion] = []
    for d in deletions:
        call = bp.find_breakpoints(
            bam,
            d.chrom,
            d.start - 1,
            d.end,
            slack,
            isize,
            min_mapq=params.min_mapq,
            min_clip=params.min_clip,
            min_support=params.min_split_support,
            fasta=fasta,
        )
        if call.precise:
            call = replace(
                call,
                **dict(
                    zip(("start", "end"), bp.left_align(fasta, d.chrom, call.start, call.end), strict=True)
                ),
            )
        moved = (
            call.split_reads >= params.min_split_support or call.discordant_pairs >= params.min_split_support
        )
        start, end = (call.start + 1, call.end) if moved else (d.start, d.end)
        new = replace(
            d,
            start=start,
            end=end,
            split_reads=call.split_reads,
            discordant_pairs=call.discordant_pairs,
            precise=call.precise and moved,
        )
        if res is not None:
            new.genes, new.il1rn_exons = _overlap_names(res, new.chrom, new.start, new.end)
        out.append(new)
    bam.close()
    if fasta is not None:
        fasta.close()
    return out


def _interval_expectation(result: CnvResult, chrom: str, start: int, end: int) -> float | None:
    """Depth expected at two copies over 1-based [start, end]: the bins' expectation, overlap-weighted."""
    if result.expected_depth is None:
        return None
    b = result.bins
    starts, ends = b["start"].to_numpy(), b["end"].to_numpy()
    overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start) + 1, 0, None).astype(float)
    m = (b["chrom"].to_numpy() == chrom) & (overlap > 0) & np.isfinite(result.expected_depth)
    if not m.any():
        return None
    return float(np.average(result.expected_depth[m], weights=overlap[m]))


def genotype_deletion(
    bam: pysam.AlignmentFile,
    result: CnvResult,
    chrom: str,
    start: int,
    end: int,
    isize: bp.InsertSizeModel | None,
    params: CnvParams | None = None,
) -> tuple[int, float, bp.JunctionCounts]:
    """Copy number (0, 1 or 2) of the exact interval 1-based [start, end], with its Phred quality.

    Two independent likelihoods are multiplied: the junction's alt/ref template counts (binomial, alt
    fraction ~0, 1/2 or 1) and the depth inside the interval against the sample's expectation (the same
    Gaussian as the bins). Flat prior over CN 0-2.
    """
    params = params or CnvParams()
    counts = bp.junction_counts(
        bam, chrom, start - 1, end, isize, min_mapq=params.min_mapq, min_clip=params.min_clip
    )
    alt, ref = float(counts.alt), counts.ref
    alt_fraction = np.array(
        [0.97, 0.45, 0.03]
    )  # CN 0, 1, 2; a het junction loses a few alt reads to clipping
    loglik = alt * np.log(alt_fraction) + ref * np.log1p(-alt_fraction)
    expected = _interval_expectation(result, chrom, start, end)
    if expected and expected > 0:
        size = end - start + 1
        ratio = bp.mean_depth(bam, chrom, start - 1, end, params.min_mapq) / expected
        e_reads = expected * (size + result.read_length) / result.read_length
        depth_ll = _log_emissions(np.array([ratio]), np.array([e_reads]), result.kappa, params)[0, :3]
        loglik = loglik + depth_ll
    post = np.exp(loglik - loglik.max())
    post /= post.sum()
    best = int(np.argmax(post))
    return best, phred(1.0 - float(post[best])), counts


def _same_event(a: Deletion, chrom: str, start: int, end: int, tol: int = 20) -> bool:
    return a.chrom == chrom and abs(a.start - start) <= tol and abs(a.end - end) <= tol


def _reciprocal_overlap(a: Deletion, chrom: str, start: int, end: int) -> float:
    if a.chrom != chrom:
        return 0.0
    inter = min(a.end, end) - max(a.start, start) + 1
    return max(0.0, inter / max(a.size, end - start + 1))


def add_read_evidence(
    result: CnvResult,
    bam_path: str | os.PathLike,
    resources_dir: str | os.PathLike,
    reference_fasta: str | os.PathLike | None = None,
    bin_size: int = 1000,
    params: CnvParams | None = None,
) -> CnvResult:
    """Refine depth deletions with split reads/pairs, add junction-found deletions, reconcile gene calls.

    Deletions smaller than a bin are invisible to depth bins but not to the reads that cross them: every
    junction seen in >= `min_split_support` split reads is genotyped (junction reads + exact-interval
    depth) and kept when it is a deletion with quality >= `min_quality`.
    """
    params = params or CnvParams()
    if result.status != "called":
        return result
    res = load_resources(resources_dir)
    if result.deletions:
        apply_refined(
            result,
            refine_breakpoints(bam_path, result.deletions, reference_fasta, resources_dir, bin_size, params),
        )
    bam = bp.open_alignments(str(bam_path), str(reference_fasta) if reference_fasta else None)
    isize = bp.insert_size_model(bam, [(r.chrom, r.start, r.end) for r in res.controls], params.min_mapq)
    # Depth deletions with a precise junction: genotype the exact interval too.
    for d in result.deletions:
        if not d.precise:
            continue
        cn, quality, _ = genotype_deletion(bam, result, d.chrom, d.start, d.end, isize, params)
        if cn == d.copy_number:
            d.quality = max(d.quality, quality)
        elif cn < 2 and quality >= params.min_quality:
            d.copy_number, d.quality = cn, quality
    windows = [(r.chrom, r.start, r.end) for r in res.windows]
    fasta = pysam.FastaFile(str(reference_fasta)) if reference_fasta else None
    junctions = bp.discover_deletions(
        bam, windows, params.min_mapq, params.min_clip, min_support=params.min_split_support, fasta=fasta
    )
    junctions = [(c, *bp.left_align(fasta, c, s0, e), n) for c, s0, e, n in junctions]
    if fasta is not None:
        fasta.close()
    for chrom, start0, end, n_reads in junctions:
        start = start0 + 1
        if any(_same_event(d, chrom, start, end) for d in result.deletions):
            continue
        cn, quality, counts = genotype_deletion(bam, result, chrom, start, end, isize, params)
        log.debug(
            "junction %s:%d-%d (%d split reads): CN %d Q%.1f alt %d ref %.1f",
            chrom,
            start,
            end,
            n_reads,
            cn,
            quality,
            counts.alt,
            counts.ref,
        )
        if cn >= 2 or quality < params.min_quality:
            continue
        same = [
            d for d in result.deletions if not d.precise and _reciprocal_overlap(d, chrom, start, end) >= 0.5
        ]
        genes, exons = _overlap_names(res, chrom, start, end)
        found = Deletion(
            chrom,
            start,
            end,
            cn,
            quality,
            genes,
            exons,
            counts.split_reads,
            counts.discordant_pairs,
            precise=True,
            source="reads",
        )
        if same:
            old = same[0]
            result.deletions[result.deletions.index(old)] = replace(found, quality=max(quality, old.quality))
        else:
            result.deletions.append(found)
    add_junction_evidence(result, bam, isize, bin_size, params)
    bam.close()
    result.deletions.sort(key=lambda d: (d.chrom, d.start, d.end))
    _reconcile(result, res, params)
    return result


def add_junction_evidence(
    result: CnvResult,
    bam: pysam.AlignmentFile,
    isize: bp.InsertSizeModel | None,
    bin_size: int = 1000,
    params: CnvParams | None = None,
) -> None:
    """Add the junction reads to every two-copy exon/gene test and redo the exon and gene calls.

    A mild depth dip (ratio 0.65-0.8) over an exon can fit a deletion about as well as two copies, but a
    deletion of >= `min_test_bp` would also leave reads split at its junction and long-insert pairs
    across it. The reads are scanned over the test's bins plus one bin each side (a deletion's ends may lie
    in the neighbouring bins); the two-copy depth there is the lowest expectation of those bins (0 where
    the data have no expectation, e.g. off target in exome data, which makes the evidence vanish).
    """
    params = params or CnvParams()
    tests = [spec for spec in result.call_specs if spec.best == 2]
    if not tests or result.status != "called":
        return
    b = result.bins
    chroms, starts, ends = b["chrom"].to_numpy(), b["start"].to_numpy(), b["end"].to_numpy()
    expected = result.expected_depth if result.expected_depth is not None else np.full(len(b), np.nan)
    spans: list[tuple[int, int]] = []  # 0-based half-open
    for spec in tests:
        _, idx = result.log_emissions[spec.chrom]
        spans.append((max(0, int(starts[idx[spec.first]]) - 1 - bin_size), int(ends[idx[spec.last]]) + bin_size))
    indexes: dict[str, list[tuple[int, int, bp.JunctionIndex]]] = {}
    for chrom in sorted({spec.chrom for spec in tests}):
        for lo, hi in _merge([span for spec, span in zip(tests, spans, strict=True) if spec.chrom == chrom]):
            index = bp.JunctionIndex(bam, chrom, lo, hi, isize, params.min_mapq, params.min_clip)
            indexes.setdefault(chrom, []).append((lo, hi, index))
    for spec, (lo, hi) in zip(tests, spans, strict=True):
        index = next(ix for a, z, ix in indexes[spec.chrom] if a <= lo and hi <= z)
        scan = index.scan(lo, hi)
        over = (chroms == spec.chrom) & (starts <= hi) & (ends > lo)
        depth = float(np.nan_to_num(expected[over], nan=0.0).min()) if over.any() else 0.0
        spec.junction_reads = scan.most
        spec.junction_loglik = junction_loglik(scan, depth, result.read_length, isize, params)
    _finalise_calls(result, params)


def _reconcile(result: CnvResult, res: LocusResources, params: CnvParams) -> None:
    """Exon and gene calls take the lowest copy number of any reported deletion that overlaps them."""
    resolved: set[str] = set()
    for model, entry in zip(res.exons, result.exons, strict=True):
        over = [
            d
            for d in result.deletions
            if d.chrom == model.chrom and d.start <= model.end and d.end >= model.start
        ]
        if over:
            d = min(over, key=lambda d: (d.copy_number, -d.quality))
            if entry["copy_number"] is None or d.copy_number < entry["copy_number"]:
                entry.update(copy_number=d.copy_number, quality=round(d.quality, 1))
            elif d.copy_number == entry["copy_number"]:
                entry["quality"] = round(max(entry["quality"], d.quality), 1)
    for model in res.genes:
        entry = result.genes[model.gene]
        over = [
            d
            for d in result.deletions
            if d.chrom == model.chrom and d.start <= model.end and d.end >= model.start
        ]
        if not over:
            continue
        d = min(over, key=lambda d: (d.copy_number, -d.quality))
        if entry["copy_number"] is None or d.copy_number < entry["copy_number"]:
            entry.update(copy_number=d.copy_number, quality=round(d.quality, 1))
            resolved.add(model.gene)
        elif d.copy_number == entry["copy_number"]:
            entry["quality"] = round(max(entry["quality"], d.quality), 1)
    kept = []
    for reason in result.reasons:
        gene = reason.split(":", 1)[0]
        if gene in resolved and "not called" in reason:
            continue
        if reason.startswith("possible deletion "):
            chrom, span = reason.split()[2].rsplit(":", 1)
            a, b = (int(x) for x in span.split("-"))
            if any(d.chrom == chrom and d.start <= b and d.end >= a for d in result.deletions):
                continue
        kept.append(reason)
    result.reasons = kept


def apply_refined(result: CnvResult, refined: list[Deletion]) -> None:
    """Replace the deletions and move the matching segment ends (and their neighbours') to the new ends."""
    for old, new in zip(result.deletions, refined, strict=True):
        for i, seg in enumerate(result.segments):
            if seg.chrom == old.chrom and seg.start == old.start and seg.end == old.end:
                seg.start, seg.end = new.start, new.end
                if i > 0 and result.segments[i - 1].chrom == seg.chrom:
                    result.segments[i - 1].end = min(result.segments[i - 1].end, new.start - 1)
                if i + 1 < len(result.segments) and result.segments[i + 1].chrom == seg.chrom:
                    result.segments[i + 1].start = max(result.segments[i + 1].start, new.end + 1)
    result.deletions = list(refined)


def copy_number_at(result: CnvResult, chrom: str, pos: int, min_quality: float = 20.0) -> int | None:
    """Called copy number at a 1-based position; None for a no-call, an uncalled exon, a low-quality
    segment or a position without data."""
    if result.status != "called":
        return None
    for d in result.deletions:
        if d.chrom == chrom and d.start <= pos <= d.end:
            return d.copy_number
    for e in result.exons:
        if e["start"] <= pos <= e["end"] and e["copy_number"] is None and e.get("chrom", chrom) == chrom:
            return None
    for seg in result.segments:
        if seg.chrom == chrom and seg.start <= pos <= seg.end:
            if seg.copy_number == 2:
                return 2
            if seg.copy_number < 2:
                reported = any(
                    d.chrom == chrom and d.start <= seg.end and d.end >= seg.start for d in result.deletions
                )
                # Outside a reported deletion but inside its bin-resolution segment: two copies. An
                # unreported (low-quality) deletion segment: unknown.
                return 2 if reported else None
            return seg.copy_number if seg.quality >= min_quality else None
    return None


# ------------------------------------------------------------------------------------------------ writers
def write_bins_tsv(result: CnvResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = BIN_COLUMNS + _present(result.bins, OPTIONAL_BIN_COLUMNS)
    result.bins[columns].to_csv(path, sep="\t", index=False, na_rep="NA", float_format="%.4f")
    return path


def write_bins_bedgraph(result: CnvResult, path: str | os.PathLike, value: str = "ratio") -> Path:
    """bedGraph (0-based) of one bin column, by default the depth ratio (1.0 = two copies)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = result.sample or "sample"
    with open(path, "w") as out:
        out.write(f'track type=bedGraph name="{name} {value}" description="dira-genotyper CNV {value}"\n')
        for row in result.bins.itertuples(index=False):
            v = getattr(row, value)
            if v is None or pd.isna(v):
                continue
            out.write(f"{row.chrom}\t{int(row.start) - 1}\t{int(row.end)}\t{float(v):.4f}\n")
    return path


def write_segments_tsv(
    result: CnvResult, path: str | os.PathLike, resources_dir: str | os.PathLike | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    res = load_resources(resources_dir) if resources_dir else None
    rows = []
    for s in result.segments:
        genes = _overlap_names(res, s.chrom, s.start, s.end)[0] if res else []
        rows.append(
            {
                "chrom": s.chrom,
                "start": s.start,
                "end": s.end,
                "n_bins": s.n_bins,
                "copy_number": s.copy_number,
                "quality": round(s.quality, 1),
                "ratio": _round(s.ratio, 4),
                "genes": ",".join(genes) or ".",
            }
        )
    cols = ["chrom", "start", "end", "n_bins", "copy_number", "quality", "ratio", "genes"]
    pd.DataFrame(rows, columns=cols).to_csv(path, sep="\t", index=False, na_rep="NA")
    return path


def contigs_from(
    bam_path: str | os.PathLike | None = None, reference_fasta: str | os.PathLike | None = None
) -> list[tuple[str, int]]:
    """Contig names and lengths from an alignment header, else from the FASTA index."""
    if bam_path:
        with bp.open_alignments(str(bam_path), str(reference_fasta) if reference_fasta else None) as bam:
            return list(zip(bam.references, bam.lengths, strict=True))
    if reference_fasta:
        with pysam.FastaFile(str(reference_fasta)) as fa:
            return list(zip(fa.references, fa.lengths, strict=True))
    return []


def write_segments_vcf(
    result: CnvResult,
    path: str | os.PathLike,
    sample: str | None = None,
    contigs: list[tuple[str, int]] | None = None,
    reference_fasta: str | os.PathLike | None = None,
) -> Path:
    """Deletions as SVTYPE=DEL records, bgzipped and tabix-indexed; `path` should end in .vcf.gz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sample = sample or result.sample or "SAMPLE"
    contigs = contigs or []
    known = {c for c, _ in contigs}
    lines = ["##fileformat=VCFv4.2", "##source=dira-genotyper cnv"]
    if reference_fasta:
        lines.append(f"##reference={Path(reference_fasta).name}")
    lines += [f"##contig=<ID={c},length={n}>" for c, n in contigs]
    lines += [f"##contig=<ID={c}>" for c in sorted({d.chrom for d in result.deletions} - known)]
    lines += [
        '##ALT=<ID=DEL,Description="Deletion">',
        '##FILTER=<ID=LowQual,Description="Copy-number quality below the minimum">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="Last deleted base">',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length of the deletion (negative)">',
        '##INFO=<ID=IMPRECISE,Number=0,Type=Flag,Description="Ends from read depth, not from split reads">',
        '##INFO=<ID=SR,Number=1,Type=Integer,Description="Split reads supporting the junction">',
        '##INFO=<ID=PE,Number=1,Type=Integer,Description="Discordant read pairs spanning the junction">',
        '##INFO=<ID=GENES,Number=.,Type=String,Description="Genes overlapped">',
        '##INFO=<ID=EXONS,Number=.,Type=Integer,Description="Exons of the target gene overlapped">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">',
        '##FORMAT=<ID=CNQ,Number=1,Type=Float,Description="Phred-scaled copy-number quality">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + sample,
    ]
    order = {c: i for i, (c, _) in enumerate(contigs)}
    fasta = pysam.FastaFile(str(reference_fasta)) if reference_fasta else None
    for n, d in enumerate(
        sorted(result.deletions, key=lambda d: (order.get(d.chrom, 10**6), d.chrom, d.start)), 1
    ):
        pos = max(1, d.start - 1)
        ref = "N"
        if fasta is not None and d.chrom in fasta.references:
            ref = fasta.fetch(d.chrom, pos - 1, pos).upper() or "N"
        info = [
            "SVTYPE=DEL",
            f"END={d.end}",
            f"SVLEN={-d.size}",
            f"SR={d.split_reads}",
            f"PE={d.discordant_pairs}",
        ]
        if not d.precise:
            info.insert(3, "IMPRECISE")
        if d.genes:
            info.append("GENES=" + ",".join(d.genes))
        if d.il1rn_exons:
            info.append("EXONS=" + ",".join(str(e) for e in d.il1rn_exons))
        gt = "1/1" if d.copy_number == 0 else "0/1"
        lines.append(
            "\t".join(
                [
                    d.chrom,
                    str(pos),
                    f"cnv_del_{n}",
                    ref,
                    "<DEL>",
                    f"{d.quality:.1f}",
                    "PASS",
                    ";".join(info),
                    "GT:CN:CNQ",
                    f"{gt}:{d.copy_number}:{d.quality:.1f}",
                ]
            )
        )
    if fasta is not None:
        fasta.close()
    plain = path.with_suffix("") if path.suffix == ".gz" else path
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return Path(str(plain) + ".gz")


def write_json(result: CnvResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=2, sort_keys=False) + "\n")
    return path


# ---------------------------------------------------------------------------------------------------- CLI
def _cmd_count(args: argparse.Namespace) -> int:
    counts = count_bins(
        args.bam, args.reference, args.resources, bin_size=args.bin_size, min_mapq=args.min_mapq
    )
    write_counts_tsv(counts, args.out)
    log.info("wrote %d bins to %s", len(counts), args.out)
    return 0


def run_cnv_call(
    counts_path: str,
    resources: str,
    out_prefix: str,
    cohort_paths: list[str] | None = None,
    bam: str | None = None,
    reference: str | None = None,
    mode: str = "auto",
    sample: str | None = None,
    params: CnvParams | None = None,
) -> CnvResult:
    """Call, refine breakpoints (given a BAM), write {prefix}.bins.tsv, .segments.tsv, .vcf.gz, .cnv.json."""
    params = params or CnvParams()
    counts = read_counts_tsv(counts_path)
    cohort = [
        read_counts_tsv(p) for p in (cohort_paths or []) if Path(p).resolve() != Path(counts_path).resolve()
    ]
    result = call_copy_number(counts, resources, mode=mode, cohort=cohort, params=params, sample=sample)
    bin_size = int(np.median((counts["end"] - counts["start"] + 1)[counts["kind"] != "exon"]))
    if bam:
        add_read_evidence(result, bam, resources, reference, bin_size, params)
    prefix = str(out_prefix)
    write_bins_tsv(result, prefix + ".bins.tsv")
    write_segments_tsv(result, prefix + ".segments.tsv", resources)
    write_segments_vcf(result, prefix + ".vcf.gz", sample, contigs_from(bam, reference), reference)
    write_json(result, prefix + ".cnv.json")
    return result


def _read_list(path: str | None) -> list[str]:
    """Paths listed one per line (the workflow's cohort list: one file instead of N inputs per job)."""
    if not path:
        return []
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def _cmd_call(args: argparse.Namespace) -> int:
    params = CnvParams(min_mapq=args.min_mapq)
    result = run_cnv_call(
        args.counts,
        args.resources,
        args.out_prefix,
        list(args.cohort_counts) + _read_list(args.cohort_list),
        args.bam,
        args.reference,
        args.mode,
        args.sample,
        params,
    )
    log.info("CNV %s (%s mode): %d deletion(s)", result.status, result.mode, len(result.deletions))
    return 0


def needs_cohort(counts_path: str, resources_dir: str, mode: str) -> bool:
    """Whether this sample's copy number needs the cohort reference (cohort mode, or auto on targeted data).

    The workflow asks this per sample, so WGS-like samples never wait for (or fail with) the rest of the run.
    """
    if mode == "single":
        return False
    if mode == "cohort":
        return True
    return looks_targeted(read_counts_tsv(counts_path), load_resources(resources_dir))


def _cmd_mode(args: argparse.Namespace) -> int:
    choice = "cohort" if needs_cohort(args.counts, args.resources, args.mode) else "single"
    Path(args.out).write_text(choice + "\n")
    log.info("copy-number reference for this sample: %s (configured mode %s)", choice, args.mode)
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = subparsers.add_parser("cnv-mode", help="decide whether a sample needs the cohort reference (auto mode)")
    p.add_argument("--counts", required=True)
    p.add_argument("--resources", required=True)
    p.add_argument("--mode", choices=["auto", "single", "cohort"], default="auto")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_mode)

    """Add `cnv-count` and `cnv-call` to the dira-genotyper CLI."""
    p = subparsers.add_parser("cnv-count", help="count read depth in bins over the IL-1 cluster window")
    p.add_argument("--bam", required=True, help="indexed locus BAM/CRAM")
    p.add_argument("--reference", required=True, help="reference FASTA (GC content; CRAM decoding)")
    p.add_argument("--resources", required=True, help="resources/<build> folder")
    p.add_argument("--out", required=True, help="output counts TSV")
    p.add_argument("--bin-size", type=int, default=1000, help="window bin size in bp (default: %(default)s)")
    p.add_argument("--min-mapq", type=int, default=20, help="minimum mapping quality (default: %(default)s)")
    p.set_defaults(func=_cmd_count)

    p = subparsers.add_parser("cnv-call", help="call copy number, deletions and breakpoints from bin counts")
    p.add_argument("--counts", required=True, help="this sample's counts TSV (cnv-count)")
    p.add_argument("--cohort-counts", nargs="*", default=[], help="other samples' counts TSVs (cohort mode)")
    p.add_argument("--cohort-list", help="a file listing the cohort's counts TSVs, one per line (own sample skipped)")
    p.add_argument("--bam", default=None, help="locus BAM/CRAM for breakpoint refinement (optional)")
    p.add_argument("--reference", default=None, help="reference FASTA (VCF REF bases, CRAM decoding)")
    p.add_argument("--resources", required=True, help="resources/<build> folder")
    p.add_argument(
        "--mode",
        choices=["auto", "single", "cohort"],
        default="auto",
        help="normalisation: single (WGS), cohort (exome/panel) or auto (default: %(default)s)",
    )
    p.add_argument("--sample", default=None, help="sample name for the VCF and JSON")
    p.add_argument(
        "--min-mapq", type=int, default=20, help="minimum MAPQ of breakpoint reads (default: %(default)s)"
    )
    p.add_argument(
        "--out-prefix",
        required=True,
        help="writes {prefix}.bins.tsv, .segments.tsv, .vcf.gz(+.tbi), .cnv.json",
    )
    p.set_defaults(func=_cmd_call)
