"""Copy-number calls: the HMM per contig, segments, exon/gene calls, deletions and their two-copy test."""

from __future__ import annotations

import logging
import math
import os

import numpy as np
import pandas as pd

from dira_genotyper.cnv.bins import COUNT_COLUMNS, OPTIONAL_COUNT_COLUMNS, _BinMask, _present, bin_mask
from dira_genotyper.cnv.evidence import evidence_against_loss
from dira_genotyper.cnv.hmm import CopyNumberHmm, _log_emissions
from dira_genotyper.cnv.normalise import _normalise_cohort, _normalise_single, _Normalised, looks_targeted
from dira_genotyper.cnv.params import MAX_QUALITY, CnvParams, _round, phred
from dira_genotyper.cnv.resources import LocusResources, _overlap_names, load_resources
from dira_genotyper.cnv.result import CnvResult, Deletion, Segment, _CallSpec
from dira_genotyper.errors import InputError
from dira_genotyper.reasons import Reason

log = logging.getLogger(__name__)


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
    return {
        "gene": e.gene,
        "exon": e.number,
        "start": e.start,
        "end": e.end,
        "copy_number": None,
        "quality": 0.0,
        "ratio": None,
    }


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
    genes = {g.name: {"copy_number": None, "quality": 0.0, "ratio": None, "n_bins": 0} for g in res.genes}
    exons = [_uncalled_exon(e) for e in res.exons]
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
    targeted: bool | None = None,
) -> CnvResult:
    """Copy number per bin, exon, gene and deletion segment, with Phred qualities and no-call reasons.

    `targeted`: whether the data are capture data, when the caller knows (the capture evidence of
    cnv-count); None judges it from the bins (`looks_targeted`)."""
    params = params or CnvParams()
    cohort = list(cohort or [])
    res = load_resources(resources_dir)
    counts = counts_df.reset_index(drop=True)
    if mode not in ("auto", "single", "cohort"):
        raise InputError(f"--mode {mode!r} is not one of auto, single, cohort")
    targeted = looks_targeted(counts, res, params) if targeted is None else targeted
    mask = bin_mask(counts, res, params)
    if mode == "auto":
        mode = "cohort" if targeted and len(cohort) >= params.min_cohort else "single"
        log.info("auto mode chose %s (targeted-looking data: %s, cohort samples: %d)", mode, targeted, len(cohort))
    if mode == "cohort":
        if len(cohort) < params.min_cohort:
            norm = _Normalised(
                "cohort", np.full(len(counts), np.nan), np.full(len(counts), np.nan), n_cohort=len(cohort)
            )
            norm.reasons.append(Reason("cnv_too_few_cohort_samples", needed=params.min_cohort, samples=len(cohort)))
            return _no_call_result(counts, res, norm, sample, mask)
        norm = _normalise_cohort(counts, cohort, params, mask)
    else:
        norm = _normalise_single(counts, params, mask)
        if targeted:
            norm.reasons.append(Reason("cnv_targeted_single", min_cohort=params.min_cohort))
    if not norm.reasons:
        if norm.control_median_depth is not None and norm.control_median_depth < params.min_control_depth:
            norm.reasons.append(
                Reason("cnv_shallow_controls", depth=norm.control_median_depth, min_depth=params.min_control_depth)
            )
        if norm.mad is not None and norm.mad > params.max_mad:
            norm.reasons.append(Reason("cnv_noisy", mad=norm.mad, max_mad=params.max_mad))
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
    region_gap: int = 0,
) -> CnvResult:
    """Calls from normalised depth. Bins of one contig with at most `region_gap` bp between them form one
    region (0: only touching bins, genome bins; targeted data joins the targets of a contig)."""
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
    new_region[1:] = (chroms[1:] != chroms[:-1]) | (starts[1:] > ends[:-1] + 1 + region_gap)
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
    reasons: list[Reason] = []

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
                        (starts[idx] <= e.end + params.min_test_bp) & (ends[idx] >= e.start - params.min_test_bp)
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
                spec = _CallSpec("gene", g.name, g.name, g.chrom, int(np.argmax(probs)), phred(1.0 - probs.max()))
                if spec.best == normal:
                    spec.first, spec.last = int(inside[0]), int(inside[-1])
                specs.append(spec)
                entry["ratio"] = _round(np.median(norm.ratio[idx[inside]]), 4)
                entry["n_bins"] = int(len(inside))
        if entry["n_bins"] == 0:
            reasons.append(Reason("cnv_gene_few_bins", gene=g.name))
        genes[g.name] = entry

    deletions: list[Deletion] = []
    for seg in segments:
        if seg.copy_number < normal and seg.quality >= params.min_quality:
            gene_names, exon_numbers = _overlap_names(res, seg.chrom, seg.start, seg.end)
            deletions.append(
                Deletion(seg.chrom, seg.start, seg.end, seg.copy_number, seg.quality, gene_names, exon_numbers)
            )
        elif seg.copy_number < normal:
            reasons.append(
                Reason(
                    "cnv_possible_deletion",
                    chrom=seg.chrom,
                    start=seg.start,
                    end=seg.end,
                    copy_number=seg.copy_number,
                    min_quality=params.min_quality,
                    quality=seg.quality,
                )
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
    gene_reasons: list[Reason] = []
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
                    Reason(
                        "cnv_gene_not_called",
                        gene=spec.gene,
                        quality=quality,
                        min_quality=params.min_quality,
                        junction_reads=spec.junction_reads,
                    )
                )
        entry.update(copy_number=spec.best if quality >= params.min_quality else None, quality=round(quality, 1))
        if spec.junction_reads is not None:
            entry["junction_reads"] = spec.junction_reads
    others = [r for r in result.reasons if r.code != "cnv_gene_not_called"]
    result.reasons = gene_reasons + others


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
                reported = any(d.chrom == chrom and d.start <= seg.end and d.end >= seg.start for d in result.deletions)
                # Outside a reported deletion but inside its bin-resolution segment: two copies. An
                # unreported (low-quality) deletion segment: unknown.
                return 2 if reported else None
            return seg.copy_number if seg.quality >= min_quality else None
    return None
