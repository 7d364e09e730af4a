"""Capture data (exome, gene panel): the design's targets, read counts per target, capture QC and detection.

On capture data reads lie on the targets (exons +/- ~100 bp and a kit's other baits) and almost nowhere
between them, so copy number is counted per target, not in genome bins. The design is the lab's BED (config
``targets``); without one it is inferred as every exon of the resources (each kit targets the exons of the
IL-1 cluster genes) and the report says so.

Whether a sample is capture data at all is judged from its own coverage (:func:`capture_evidence`): the depth
on the design's targets against the depth of the window and control bins that no target touches. Whole-genome
data gives a ratio near 1, capture data 10-100; a sample is analysed in targeted mode only when its coverage
says capture, so neither kind is ever analysed as the other silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from dira_genotyper.calling.read_filter import FDUP, MPILEUP_SKIP_FLAGS
from dira_genotyper.cnv import breakpoints as bp
from dira_genotyper.cnv.bins import COUNT_COLUMNS, OPTIONAL_COUNT_COLUMNS, _bin_gc, _span_coverage
from dira_genotyper.cnv.resources import LocusResources, Region, load_resources, merged_spans
from dira_genotyper.errors import InputError
from dira_genotyper.locus import read_bed

# Depth on targets / depth between them above which coverage is capture-like. Whole-genome data sit near 1
# (GC and mappability move exons by well under 2x); 1% off-target reads at 100x on target give ~30-100.
CAPTURE_MIN_RATIO = 4.0
# Bins this close to a target (fragments overhang targets by up to a fragment length) are not "between targets".
OFF_TARGET_MARGIN = 500


@dataclass
class CaptureEvidence:
    """Depth on targets against depth between them, and the verdict (see :func:`capture_evidence`)."""

    on_target_depth: float
    off_target_depth: float
    ratio: float | None
    capture: bool
    design: str  # "bed" (config targets) or "inferred" (the resources' exons)
    n_targets: int

    def to_json(self) -> dict:
        out = asdict(self)
        for key in ("on_target_depth", "off_target_depth", "ratio"):
            out[key] = None if out[key] is None else round(float(out[key]), 3)
        return out


def design_regions(res: LocusResources, targets_bed: str | os.PathLike | None = None) -> list[Region]:
    """The design's targets inside the window and control regions (0-based half-open, merged where they overlap).

    With a BED (config ``targets``), its intervals; without, every exon of the resources and the resources'
    targets.bed (the inferred design). Targets outside the window and controls have no reads in the locus BAM.
    """
    if targets_bed:
        path = Path(targets_bed)
        if not path.exists():
            raise InputError(f"targets BED {path} not found (config `targets`)")
        raw = [Region(iv.chrom, iv.start0, iv.end, iv.name) for iv in read_bed(path)]
        if not raw:
            raise InputError(f"targets BED {path} has no intervals")
    else:
        raw = [*res.targets, *(Region(e.chrom, e.start - 1, e.end, f"{e.gene}_exon{e.number}") for e in res.exons)]
    spans = [*res.windows, *res.controls]
    inside = [r for r in raw if any(s.chrom == r.chrom and r.start < s.end and r.end > s.start for s in spans)]
    out: list[Region] = []
    for chrom in dict.fromkeys(r.chrom for r in inside):
        out += [Region(chrom, a, b) for a, b in merged_spans(r for r in inside if r.chrom == chrom)]
    if targets_bed and not out:
        raise InputError(
            f"no target of {targets_bed} lies in the IL-1 window or control regions: is it the design of this "
            "build (same contig names and coordinates as the reference)?"
        )
    return out


def target_layout(res: LocusResources, targets_bed: str | os.PathLike | None = None) -> pd.DataFrame:
    """Rows (1-based inclusive) chrom, start, end, kind ``target``, name: the exons the target covers
    (``IL1RN_exon3``; ``.`` for none)."""
    rows = []
    for r in design_regions(res, targets_bed):
        exons = [
            f"{e.gene}_exon{e.number}" for e in res.exons if e.chrom == r.chrom and e.start <= r.end and e.end > r.start
        ]
        rows.append((r.chrom, r.start + 1, r.end, "target", ",".join(exons) or "."))
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "kind", "name"])


def with_gc(layout: pd.DataFrame, reference_fasta: str | os.PathLike) -> pd.DataFrame:
    """`layout` with each row's GC fraction (column ``gc``; NaN where under half the bases are A/C/G/T)."""
    out = layout.copy()
    gc = np.full(len(out), np.nan)
    with pysam.FastaFile(str(reference_fasta)) as fasta:
        for chrom in dict.fromkeys(out["chrom"]):
            idx = np.flatnonzero(out["chrom"].to_numpy() == chrom)
            starts0 = out["start"].to_numpy(dtype=np.int64)[idx] - 1
            gc[idx] = _bin_gc(fasta, chrom, starts0, out["end"].to_numpy(dtype=np.int64)[idx])
    out["gc"] = np.round(gc, 4)
    return out


def count_targets(
    bam_path: str | os.PathLike,
    reference_fasta: str | os.PathLike,
    resources_dir: str | os.PathLike,
    targets_bed: str | os.PathLike | None = None,
    min_mapq: int = 20,
    keep_duplicates: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Reads, mean depth, GC and low-MAPQ share per target (the columns of ``cnv-count``), and the capture QC.

    QC (:func:`capture_qc`): on-target fraction, fold-80 base penalty, duplicate fraction, per-target depth
    spread. Counted like the bins (duplicates, secondary and QC-failed alignments and MAPQ < ``min_mapq``
    skipped; duplicates counted with `keep_duplicates`: amplicon panels, config calling.remove_duplicates false),
    so each target's count is what copy number is judged on.
    """
    res = load_resources(resources_dir)
    layout = target_layout(res, targets_bed)
    try:
        bam = bp.open_alignments(str(bam_path), str(reference_fasta))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open alignments {bam_path}: {exc}") from exc
    n = len(layout)
    depth = np.zeros(n)
    reads, low = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    base_depth: list[np.ndarray] = []
    for i, row in enumerate(layout.itertuples(index=False)):
        skip = MPILEUP_SKIP_FLAGS & ~FDUP if keep_duplicates else MPILEUP_SKIP_FLAGS
        cov, rs, _re, ls, _le = _span_coverage(bam, row.chrom, int(row.start) - 1, int(row.end), min_mapq, skip)
        depth[i], reads[i], low[i] = float(cov.mean()), len(rs), len(ls)
        base_depth.append(cov)
    out = with_gc(layout, reference_fasta)
    out["reads"] = reads
    out["depth"] = np.round(depth, 3)
    out["low_mapq"] = np.round(low / np.maximum(reads + low, 1), 4)
    qc = capture_qc(bam, res, layout, base_depth)
    return out[COUNT_COLUMNS + OPTIONAL_COUNT_COLUMNS], qc


def fold_80_penalty(base_depth: np.ndarray) -> float | None:
    """Picard's FOLD_80_BASE_PENALTY: mean target depth / the depth 80% of target bases reach (the 20th
    percentile), over target bases with any coverage; None when no base is covered."""
    covered = base_depth[base_depth > 0]
    if covered.size == 0:
        return None
    p20 = float(np.percentile(covered, 20))
    return float(covered.mean() / p20) if p20 > 0 else None


def capture_qc(
    bam: pysam.AlignmentFile, res: LocusResources, layout: pd.DataFrame, base_depth: list[np.ndarray]
) -> dict:
    """Capture QC over the locus BAM (the window and control regions, not the whole genome).

    ``on_target_fraction``: share of the mapped primary reads of those regions that overlap a target;
    ``duplicate_fraction``: share of them flagged duplicate; ``fold_80_base_penalty``: see
    :func:`fold_80_penalty`; ``mean_target_depth``, ``pct_targets_ge_20x``, ``per_target_depth`` (mean per
    target, the design's order).
    """
    skip = MPILEUP_SKIP_FLAGS & ~FDUP
    targets: dict[str, list[tuple[int, int]]] = {}
    for row in layout.itertuples(index=False):
        targets.setdefault(row.chrom, []).append((int(row.start) - 1, int(row.end)))
    total = on = dups = 0
    for chrom in res.contigs:
        spans = merged_spans(r for r in (*res.windows, *res.controls) if r.chrom == chrom)
        t = sorted(targets.get(chrom, []))
        t_starts = np.array([a for a, _ in t], dtype=np.int64)
        t_ends = np.maximum.accumulate(np.array([b for _, b in t], dtype=np.int64)) if t else np.zeros(0, np.int64)
        for a, b in spans:
            for read in bam.fetch(chrom, a, b):
                if read.flag & skip or read.is_supplementary or read.reference_start < a:
                    continue  # counted once, in the span where it starts
                total += 1
                dups += bool(read.flag & FDUP)
                k = int(np.searchsorted(t_starts, read.reference_end, side="left")) - 1
                on += bool(k >= 0 and t_ends[k] > read.reference_start)
    per_target = [float(d.mean()) if d.size else 0.0 for d in base_depth]
    all_bases = np.concatenate(base_depth) if base_depth else np.zeros(0)
    fold80 = fold_80_penalty(all_bases)
    return {
        "reads": total,
        "on_target_fraction": round(on / total, 4) if total else None,
        "duplicate_fraction": round(dups / total, 4) if total else None,
        "fold_80_base_penalty": None if fold80 is None else round(fold80, 3),
        "mean_target_depth": round(float(all_bases.mean()), 1) if all_bases.size else 0.0,
        "pct_targets_ge_20x": round(100.0 * float(np.mean(np.array(per_target) >= 20)), 1) if per_target else 0.0,
        "n_targets": len(per_target),
        "per_target_depth": [round(x, 1) for x in per_target],
    }


def capture_evidence(bins: pd.DataFrame, targets: pd.DataFrame, design: str) -> CaptureEvidence:
    """Depth on the targets against depth between them, from the window/control bins and the target counts.

    On-target depth is the 75th percentile of the targets' depth (a homozygous cluster deletion empties up to
    half the targets of the window; the controls' targets keep it); off-target depth the median depth of the
    bins more than :data:`OFF_TARGET_MARGIN` bp from every target. Capture when the ratio is at least
    :data:`CAPTURE_MIN_RATIO`; with no off-target bins or no on-target reads, not capture.
    """
    t_chrom = targets["chrom"].to_numpy()
    t_start, t_end = targets["start"].to_numpy(), targets["end"].to_numpy()
    near = np.zeros(len(bins), dtype=bool)
    for c, s, e in zip(t_chrom, t_start, t_end, strict=True):
        near |= (
            (bins["chrom"].to_numpy() == c)
            & (bins["start"].to_numpy() <= e + OFF_TARGET_MARGIN)
            & (bins["end"].to_numpy() >= s - OFF_TARGET_MARGIN)
        )
    near |= bins["kind"].to_numpy() == "exon"
    on_depth = float(np.percentile(targets["depth"].to_numpy(dtype=float), 75)) if len(targets) else 0.0
    off = bins["depth"].to_numpy(dtype=float)[~near]
    off_depth = float(np.median(off)) if off.size else float("nan")
    if off.size < 5 or on_depth <= 0:
        return CaptureEvidence(on_depth, off_depth, None, False, design, len(targets))
    ratio = on_depth / max(off_depth, 0.01)
    return CaptureEvidence(on_depth, off_depth, ratio, bool(ratio >= CAPTURE_MIN_RATIO), design, len(targets))


def write_capture_json(evidence: CaptureEvidence, qc: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"evidence": evidence.to_json(), "qc": qc}, indent=2) + "\n")
    return path
