"""Read evidence given the BAM: breakpoint refinement, junction-found deletions, junction reads of
two-copy tests and reconciliation of the exon/gene calls with the deletions."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import numpy as np
import pysam

from dira_genotyper.cnv import breakpoints as bp
from dira_genotyper.cnv import junctions as jn
from dira_genotyper.cnv.evidence import junction_loglik
from dira_genotyper.cnv.hmm import _log_emissions
from dira_genotyper.cnv.params import CnvParams, phred
from dira_genotyper.cnv.resources import LocusResources, Region, _overlap_names, load_resources, merged_spans
from dira_genotyper.cnv.result import CnvResult, Deletion
from dira_genotyper.cnv.segments import _finalise_calls

log = logging.getLogger(__name__)


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
                **dict(zip(("start", "end"), bp.left_align(fasta, d.chrom, call.start, call.end), strict=True)),
            )
        moved = call.split_reads >= params.min_split_support or call.discordant_pairs >= params.min_split_support
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
) -> tuple[int, float, jn.JunctionCounts]:
    """Copy number (0, 1 or 2) of the exact interval 1-based [start, end], with its Phred quality.

    Two independent likelihoods are multiplied: the junction's alt/ref template counts (binomial, alt
    fraction ~0, 1/2 or 1) and the depth inside the interval against the sample's expectation (the same
    Gaussian as the bins). Flat prior over CN 0-2.
    """
    params = params or CnvParams()
    counts = jn.junction_counts(bam, chrom, start - 1, end, isize, min_mapq=params.min_mapq, min_clip=params.min_clip)
    alt, ref = float(counts.alt), counts.ref
    alt_fraction = np.array([0.97, 0.45, 0.03])  # CN 0, 1, 2; a het junction loses a few alt reads to clipping
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
        same = [d for d in result.deletions if not d.precise and _reciprocal_overlap(d, chrom, start, end) >= 0.5]
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
    indexes: dict[str, list[tuple[int, int, jn.JunctionIndex]]] = {}
    for chrom in sorted({spec.chrom for spec in tests}):
        for lo, hi in merged_spans(
            Region(chrom, *span) for spec, span in zip(tests, spans, strict=True) if spec.chrom == chrom
        ):
            index = jn.JunctionIndex(bam, chrom, lo, hi, isize, params.min_mapq, params.min_clip)
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
        over = [d for d in result.deletions if d.chrom == model.chrom and d.start <= model.end and d.end >= model.start]
        if over:
            d = min(over, key=lambda d: (d.copy_number, -d.quality))
            if entry["copy_number"] is None or d.copy_number < entry["copy_number"]:
                entry.update(copy_number=d.copy_number, quality=round(d.quality, 1))
            elif d.copy_number == entry["copy_number"]:
                entry["quality"] = round(max(entry["quality"], d.quality), 1)
    for model in res.genes:
        entry = result.genes[model.name]
        over = [d for d in result.deletions if d.chrom == model.chrom and d.start <= model.end and d.end >= model.start]
        if not over:
            continue
        d = min(over, key=lambda d: (d.copy_number, -d.quality))
        if entry["copy_number"] is None or d.copy_number < entry["copy_number"]:
            entry.update(copy_number=d.copy_number, quality=round(d.quality, 1))
            resolved.add(model.name)
        elif d.copy_number == entry["copy_number"]:
            entry["quality"] = round(max(entry["quality"], d.quality), 1)
    kept = []
    for reason in result.reasons:
        if reason.code == "cnv_gene_not_called" and reason.params["gene"] in resolved:
            continue
        if reason.code == "cnv_possible_deletion":
            chrom, a, b = reason.params["chrom"], reason.params["start"], reason.params["end"]
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
