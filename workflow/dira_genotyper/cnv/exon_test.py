"""Exon-level copy number of targeted data: each exon of the genes that decide the status, tested on its own
target(s).

The HMM of :mod:`.segments` finds deletions as runs of targets; its prior makes a change of copy number between
two targets rare (two changes for a single-exon deletion), which is right for finding runs but costs a single
exon 2 x 4.6 nats of evidence it does not have at 100x on a 150-300 bp target (ratio sd ~0.1: a heterozygous
deletion sits ~5 sd below two copies, ~9 nats). A clinical lab asks, per exon of IL1RN (and IL36RN, the
differential), how strongly the exon's own depth separates one, zero and two copies. So here:

- the exon's targets' likelihood of every copy number (the HMM's emissions: counting noise, the reference's
  dispersion at those targets, the sample's calibration, a 1e-8 share of outlier targets),
- with equal prior weight on every copy number (as the two-copy test of :func:`.evidence.evidence_against_loss`
  weighs a deletion and no deletion: the quality is the data's evidence, not a rarity prior),
- the best copy number and its Phred quality, for two copies the quality against a loss (:func:`exon_call`); a
  call below ``min_quality`` is no call (inconclusive, never two);
- a one- or zero-copy exon not inside a deletion the HMM reported becomes a deletion of its targets
  (imprecise: the breakpoints lie somewhere in the introns around), so the interpretation's deletion
  reconciliation reads it like any other.

ACMG/ClinGen CNV practice: single-exon deletions from depth are reported with their evidence and confirmed by
an orthogonal method (MLPA, qPCR, breakpoint PCR) before a result is issued; the report's reasons and the
z-score per exon (``z``) are what that confirmation needs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from dira_genotyper.cnv.hmm import _log_emissions
from dira_genotyper.cnv.normalise import _Normalised
from dira_genotyper.cnv.params import CnvParams, phred
from dira_genotyper.cnv.resources import LocusResources
from dira_genotyper.cnv.result import CnvResult, Deletion
from dira_genotyper.reasons import Reason

EXON_TEST_GENES = ("IL1RN", "IL36RN")


def exon_posterior(norm: _Normalised, rows: np.ndarray, params: CnvParams) -> np.ndarray:
    """Posterior of copy number 0..max_cn of the targets `rows` together (flat prior, one copy number)."""
    tau = norm.extra_sd[rows] if norm.extra_sd is not None else None
    model = replace(params, outlier_weight=params.targeted_outlier_weight)
    ll = _log_emissions(norm.ratio[rows], norm.expected_reads[rows], norm.kappa, model, tau).sum(axis=0)
    post = np.exp(ll - ll.max())
    return post / post.sum()


def exon_call(post: np.ndarray, params: CnvParams) -> tuple[int, float]:
    """Copy number and Phred quality from the posterior. The question is loss: a two-copy call's quality is
    against a loss (CN 0 or 1), a gain is reported only when itself above `min_quality` (else two copies: the
    HMM judges gains over runs of targets)."""
    loss = float(post[:2].sum())
    if loss > 0.5:
        best = int(np.argmax(post[:2]))
        return best, phred(1.0 - float(post[best]))
    best = 2 + int(np.argmax(post[2:]))
    if best > 2 and phred(1.0 - float(post[best])) >= params.min_quality:
        return best, phred(1.0 - float(post[best]))
    return 2, phred(loss)


def _in_run(result: CnvResult, chrom: str, start: int, end: int, rows: np.ndarray) -> bool:
    """Whether the exon lies in a loss the HMM found over more targets than the exon's own (a run: reported or
    not, the HMM's call stands; an unreported run leaves the exon without a call, never split into exon
    deletions that would read as separate alleles). A reported deletion of the exon's own targets alone is
    dropped here: the exon test decides it."""
    bins = result.bins
    chroms, starts, ends = bins["chrom"].to_numpy(), bins["start"].to_numpy(), bins["end"].to_numpy()

    def targets_of(s: int, e: int) -> set[int]:
        return set(np.flatnonzero((chroms == chrom) & (starts <= e) & (ends >= s)).tolist())

    for seg in result.segments:
        if seg.chrom == chrom and seg.copy_number < 2 and seg.start <= end and seg.end >= start:
            if targets_of(seg.start, seg.end) - set(rows.tolist()):
                return True
    for d in [d for d in result.deletions if d.chrom == chrom and d.start <= end and d.end >= start]:
        if targets_of(d.start, d.end) - set(rows.tolist()):
            return True
        result.deletions.remove(d)
    return False


def _two_copies(result: CnvResult, rows: np.ndarray, params: CnvParams) -> bool:
    """Whether any of the targets `rows` is confidently at two copies: the bins' call (the HMM's path, or the
    exon test's) with its posterior, and a depth ratio that is not itself a loss's (>= 0.75)."""
    cn = result.bins["copy_number"].to_numpy()
    post = result.bins["posterior"].to_numpy(dtype=float)
    ratio = result.bins["ratio"].to_numpy(dtype=float)
    sure = 1 - 10 ** (-params.min_quality / 10)
    return any(cn[i] is not pd.NA and cn[i] == 2 and post[i] >= sure and ratio[i] >= 0.75 for i in rows)


def merge_adjacent(result: CnvResult, params: CnvParams) -> None:
    """Join deletions of one copy number that no confidently two-copy target separates: a deletion of two
    neighbouring exons is one allele, not two (two would read as a compound heterozygote)."""
    bins = result.bins
    chroms, starts, ends = bins["chrom"].to_numpy(), bins["start"].to_numpy(), bins["end"].to_numpy()
    merged: list[Deletion] = []
    for d in sorted(result.deletions, key=lambda x: (x.chrom, x.start)):
        last = merged[-1] if merged else None
        if last is not None and last.chrom == d.chrom and last.copy_number == d.copy_number:
            between = np.flatnonzero((chroms == d.chrom) & (starts > last.end) & (ends < d.start))
            if not _two_copies(result, between, params):
                last.end = max(last.end, d.end)
                last.quality = min(last.quality, d.quality)
                last.genes = list(dict.fromkeys([*last.genes, *d.genes]))
                last.il1rn_exons = sorted({*last.il1rn_exons, *d.il1rn_exons})
                continue
        merged.append(d)
    result.deletions = merged


def apply_exon_tests(result: CnvResult, norm: _Normalised, res: LocusResources, params: CnvParams) -> None:
    """Replace the HMM's exon calls of :data:`EXON_TEST_GENES` by the per-exon test (see the module doc), add
    the deletions it finds, and bring each gene's call in line with its exons. In place."""
    if result.status != "called":
        return
    bins = result.bins
    chroms, starts, ends = bins["chrom"].to_numpy(), bins["start"].to_numpy(), bins["end"].to_numpy()
    usable = np.isfinite(norm.ratio) & np.isfinite(norm.expected_reads)
    tested: dict[str, list[dict]] = {}
    for entry, exon in zip(result.exons, res.exons, strict=True):
        if exon.gene not in EXON_TEST_GENES:
            continue
        rows = np.flatnonzero((chroms == exon.chrom) & (starts <= exon.end) & (ends >= exon.start) & usable)
        if len(rows) == 0 or _in_run(result, exon.chrom, exon.start, exon.end, rows):
            continue  # not targeted (the HMM's no call stands), or inside a deletion of a run of targets
        post = exon_posterior(norm, rows, params)
        best, quality = exon_call(post, params)
        if quality >= params.min_quality:  # the bins table (and the page's plot) shows the exon's own call
            result.bins.loc[rows, "copy_number"] = best
            result.bins.loc[rows, "posterior"] = round(float(post[best]), 4)
        entry.update(copy_number=best if quality >= params.min_quality else None, quality=round(quality, 1))
        tested.setdefault(exon.gene, []).append(entry)
        if best < 2 and quality >= params.min_quality:
            exons = [exon.number] if exon.gene == res.target_gene else []
            span = (int(starts[rows].min()), int(ends[rows].max()))
            result.deletions.append(Deletion(exon.chrom, *span, best, quality, [exon.gene], exons, source="exon_test"))
    for gene, entries in tested.items():
        _gene_from_exons(result, gene, entries, params)
    merge_adjacent(result, params)


def _gene_from_exons(result: CnvResult, gene: str, entries: list[dict], params: CnvParams) -> None:
    """A gene is at its lowest exon's copy number (with that exon's quality) and two copies no more surely than
    its weakest exon; an exon without a call leaves the gene without one."""
    entry = result.genes.get(gene)
    if entry is None:
        return
    lows = [e for e in entries if e["copy_number"] is not None and e["copy_number"] < 2]
    if lows:
        worst = min(lows, key=lambda e: (e["copy_number"], -e["quality"]))
        entry.update(copy_number=worst["copy_number"], quality=worst["quality"])
    elif any(e["copy_number"] is None for e in entries):
        entry.update(copy_number=None, quality=min(entry["quality"], min(e["quality"] for e in entries)))
    elif entry.get("copy_number") == 2 or entry.get("copy_number") is None:
        quality = min(e["quality"] for e in entries)
        entry.update(copy_number=2 if quality >= params.min_quality else None, quality=quality)
    result.reasons = [r for r in result.reasons if not (r.code == "cnv_gene_not_called" and r.params["gene"] == gene)]
    if entry["copy_number"] is None:
        reason = Reason("cnv_gene_not_called", gene=gene, quality=entry["quality"], min_quality=params.min_quality)
        result.reasons.insert(0, reason)
