"""Callable regions: the bases the caller could have seen, and whether that is enough depth for a variant.

Counted with the caller's own read filter (:class:`.read_filter.ReadFilter`: flags, MAPQ, orphan pairs, base
quality after BAQ), judged against two depth thresholds derived from detection power (:func:`detection_power`):
``min_depth`` for a heterozygous variant on two copies and ``min_depth_hemizygous`` for a variant on the only
copy. The ``dira-genotyper callable`` command is at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pysam

from dira_genotyper.calling.caller import mpileup
from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS, ReadFilter
from dira_genotyper.locus import read_bed
from dira_genotyper.stats import binomial_cdf

log = logging.getLogger(__name__)

HETEROZYGOUS_ALLELE_FRACTION = 0.5  # a variant on one of two copies


def hemizygous_allele_fraction(min_baseq: int = 20) -> float:
    """A variant on the only copy shows in every read bar sequencing errors; a counted base has quality >=
    ``min_baseq``, so at most 10^(-Q/10) of them are errors (0.99 at Q20)."""
    return 1.0 - 10 ** (-min_baseq / 10)


HEMIZYGOUS_ALLELE_FRACTION = hemizygous_allele_fraction(20)


def detection_power(depth: int, allele_fraction: float, min_alt_reads: int) -> float:
    """P(Binomial(depth, allele_fraction) >= min_alt_reads): the chance that a variant present at
    ``allele_fraction`` is seen in at least ``min_alt_reads`` of ``depth`` reads (the LowAltReads filter)."""
    if min_alt_reads <= 0:
        return 1.0
    if depth < min_alt_reads:
        return 0.0
    return max(0.0, min(1.0, 1.0 - binomial_cdf(min_alt_reads - 1, depth, allele_fraction)))


def required_depth(allele_fraction: float, min_alt_reads: int, power: float, max_depth: int = 10000) -> int:
    """The smallest depth (>= 1) whose :func:`detection_power` reaches ``power``."""
    if not 0 < allele_fraction <= 1 or not 0 < power < 1:
        raise ValueError(f"allele fraction {allele_fraction} / power {power} out of range")
    for depth in range(1, max_depth + 1):
        if detection_power(depth, allele_fraction, min_alt_reads) >= power:
            return depth
    raise ValueError(f"power {power} not reached by depth {max_depth} at allele fraction {allele_fraction}")


def hemizygous_min_depth(
    min_alt_reads: int, override: int | None = None, min_depth: int = 10, min_baseq: int = 20
) -> int:
    """``callable.min_depth_hemizygous``: the configured integer, or (None) derived: the smallest depth at which a
    variant on the only copy is seen with at least the power the lab accepts on two copies (a heterozygous variant
    at ``min_depth``: 0.945 at 10 with 3 alt reads); never fewer than ``min_alt_reads`` reads."""
    if override is not None:
        return int(override)
    standard = detection_power(min_depth, HETEROZYGOUS_ALLELE_FRACTION, min_alt_reads)
    depth = required_depth(hemizygous_allele_fraction(min_baseq), min_alt_reads, min(standard, 0.999999))
    return max(depth, min_alt_reads, 1)


def per_base_depth(
    bam: str, regions: list[tuple[str, int, int]], read_filter: ReadFilter, reference: str | None = None
) -> dict[tuple[str, int, int], np.ndarray]:
    """Depth per base over each 0-based region, counting only what bcftools mpileup (the caller) uses.

    Reads are filtered by the pileup engine itself with the caller's :class:`ReadFilter` (skip flags, MAPQ,
    orphan pairs; checked again with ``ReadFilter.passes``), so mate-overlap detection sees the reads mpileup
    sees. A base counts when its quality is >= ``min_baseq``; deletions count as covered, reference skips (N)
    do not. With ``reference``, base qualities as mpileup has them after BAQ are honoured too: mpileup is run
    with the caller's options and its FORMAT/DP (bases it keeps) caps the number of bases counted here.
    """
    bases_out, dels_out = {}, {}
    with pysam.AlignmentFile(bam) as handle:
        for chrom, start, end in regions:
            bases = np.zeros(end - start, dtype=np.int32)
            dels = np.zeros(end - start, dtype=np.int32)
            for column in handle.pileup(
                chrom,
                start,
                end,
                truncate=True,
                stepper="samtools",
                compute_baq=False,
                flag_filter=read_filter.skip_flags,
                min_mapping_quality=read_filter.min_mapq,
                ignore_orphans=not read_filter.count_orphans,
                min_base_quality=0,
                ignore_overlaps=True,
                max_depth=read_filter.max_depth,
            ):
                i = column.reference_pos - start
                for pileup_read in column.pileups:
                    if pileup_read.is_refskip or not read_filter.passes(pileup_read.alignment):
                        continue
                    if pileup_read.is_del:
                        dels[i] += 1
                        continue
                    qual = pileup_read.alignment.query_qualities
                    if qual is None or read_filter.base_passes(qual[pileup_read.query_position]):
                        bases[i] += 1
            bases_out[(chrom, start, end)], dels_out[(chrom, start, end)] = bases, dels
    if reference:
        _cap_by_mpileup(bam, reference, read_filter, bases_out)
    return {key: bases_out[key] + dels_out[key] for key in bases_out}


def _cap_by_mpileup(
    bam: str, reference: str, read_filter: ReadFilter, bases: dict[tuple[str, int, int], np.ndarray]
) -> None:
    """Lower each base count to mpileup's FORMAT/DP there: bases BAQ (or the -d cap) takes away from the caller
    are not callable. In place; positions mpileup does not report have no bases the caller uses."""
    with tempfile.TemporaryDirectory(prefix=".callable.") as tmp:
        bed = os.path.join(tmp, "regions.bed")
        with open(bed, "w") as handle:
            for chrom, start, end in bases:
                handle.write(f"{chrom}\t{start}\t{end}\n")
        pile = os.path.join(tmp, "pileup.vcf")
        mpileup(reference, bed, read_filter, bam, pile, "-I", "-a", "FORMAT/DP", "-Ov")
        seen: dict[tuple[str, int], int] = {}
        with pysam.VariantFile(pile) as vcf:
            for rec in vcf:
                seen[(rec.contig, rec.start)] = rec.samples[0].get("DP") or 0
    capped = 0
    for (chrom, start, _end), arr in bases.items():
        for i in np.flatnonzero(arr):
            dp = seen.get((chrom, start + int(i)), 0)
            if dp < arr[i]:
                capped += 1
                arr[i] = dp
    if capped:
        log.info("%d position(s) with fewer bases in mpileup (BAQ) than passing the read filter: capped", capped)


def _runs(depth: dict[tuple[str, int, int], np.ndarray], min_depth: int) -> list[tuple[str, int, int, str]]:
    intervals = []
    for (chrom, start, _end), arr in sorted(depth.items()):
        ok = arr >= min_depth
        run_start = 0
        for i in range(1, len(ok) + 1):
            if i == len(ok) or ok[i] != ok[run_start]:
                intervals.append((chrom, start + run_start, start + i, "callable" if ok[run_start] else "uncallable"))
                run_start = i
    return intervals


def callable_report(
    bam: str,
    cds_bed: str,
    targets_bed: str,
    min_depth: int,
    min_mapq: int,
    min_baseq: int,
    splice_bp: int,
    out_bed: str,
    out_tsv: str,
    out_json: str,
    *,
    reference: str | None = None,
    min_depth_hemizygous: int | None = None,
    min_alt_reads: int = 3,
    skip_flags: int = MPILEUP_SKIP_FLAGS,
    count_orphans: bool = False,
    max_depth: int = 10000,
) -> dict:
    """Callable/uncallable intervals over the targets; per-exon coverage; callable fraction of CDS +/- splice.

    ``min_mapq``/``min_baseq`` (with ``skip_flags``, ``count_orphans``) are the caller's read filter (config
    ``calling``): a base is counted only if bcftools mpileup would use it. ``min_depth`` is the threshold for
    two copies (heterozygous variant), ``min_depth_hemizygous`` (None: derived, :func:`hemizygous_min_depth`)
    for one copy; ``reference`` enables BAQ, as mpileup applies it. ``max_depth`` is the caller's ``-d`` (config
    ``calling.max_depth``): the pileup here stops at the same number of reads per position.
    """
    read_filter = ReadFilter(
        min_mapq=min_mapq,
        min_baseq=min_baseq,
        skip_flags=skip_flags,
        count_orphans=count_orphans,
        max_depth=max_depth,
    )
    min_depth_hemi = hemizygous_min_depth(min_alt_reads, min_depth_hemizygous, min_depth, min_baseq)
    power = {
        "heterozygous": round(detection_power(min_depth, HETEROZYGOUS_ALLELE_FRACTION, min_alt_reads), 4),
        "hemizygous": round(detection_power(min_depth_hemi, hemizygous_allele_fraction(min_baseq), min_alt_reads), 4),
    }
    log.info(
        "read filter %s; %s",
        read_filter,
        "bases capped by mpileup's (BAQ)" if reference else "no reference given: BAQ not applied",
    )
    log.info(
        "min_depth %d: power %.3f for a heterozygous variant (allele fraction %.2f, >= %d alt reads)",
        min_depth,
        power["heterozygous"],
        HETEROZYGOUS_ALLELE_FRACTION,
        min_alt_reads,
    )
    log.info(
        "min_depth_hemizygous %d (%s): power %.4f for a hemizygous variant (allele fraction %.2f)",
        min_depth_hemi,
        "configured" if min_depth_hemizygous is not None else "derived",
        power["hemizygous"],
        hemizygous_allele_fraction(min_baseq),
    )

    targets = [iv.bed() for iv in read_bed(targets_bed)]
    cds = [(*iv.bed(), iv.name) for iv in read_bed(cds_bed)]
    depth = per_base_depth(bam, targets, read_filter, reference)

    def depth_at(chrom: str, start: int, end: int) -> np.ndarray:
        values = np.zeros(end - start, dtype=np.int32)
        for (c, s, e), arr in depth.items():
            if c != chrom or e <= start or s >= end:
                continue
            lo, hi = max(s, start), min(e, end)
            values[lo - start : hi - start] = arr[lo - s : hi - s]
        return values

    intervals = _runs(depth, min_depth)
    intervals_hemi = _runs(depth, min_depth_hemi)
    Path(out_bed).parent.mkdir(parents=True, exist_ok=True)
    with open(out_bed, "w") as handle:
        for chrom, s, e, state in intervals:
            handle.write(f"{chrom}\t{s}\t{e}\t{state}\n")

    exons = []
    callable_bases = total_bases = 0
    per_gene: dict[str, dict] = {}
    for index, (chrom, start, end, name) in enumerate(cds, start=1):
        gene, number = _cds_row_label(name, index)
        padded = depth_at(chrom, start - splice_bp, end + splice_bp)
        exon_depth = depth_at(chrom, start, end)
        callable_bases += int((padded >= min_depth).sum())
        total_bases += len(padded)
        tally = per_gene.setdefault(gene, {"callable": 0, "total": 0, "depth": []})
        tally["callable"] += int((padded >= min_depth).sum())
        tally["total"] += len(padded)
        tally["depth"].append(exon_depth)
        exons.append(
            {
                "gene": gene,
                "exon": number,
                "start": start + 1,
                "end": end,
                "mean_depth": round(float(exon_depth.mean()), 1),
                "min_depth": int(exon_depth.min()),
                "pct_ge_20x": round(float((exon_depth >= 20).mean() * 100), 1),
                "callable": bool((padded >= min_depth).all()),
                "callable_hemizygous": bool((padded >= min_depth_hemi).all()),
            }
        )
    with open(out_tsv, "w") as handle:
        handle.write("gene\texon\tstart\tend\tmean_depth\tmin_depth\tpct_ge_20x\tcallable\tcallable_hemizygous\n")
        for row in exons:
            handle.write("\t".join(str(row[k]) for k in row) + "\n")
    all_depth = np.concatenate([depth_at(c, s, e) for c, s, e, _ in cds])
    result = {
        "min_depth": min_depth,
        "min_depth_hemizygous": min_depth_hemi,
        "splice_bp": splice_bp,
        "min_alt_reads": min_alt_reads,
        "detection_power": power,
        "read_filter": read_filter.to_dict(),
        "callable_fraction_cds": round(callable_bases / total_bases, 4) if total_bases else 0.0,
        "mean_depth_cds": round(float(all_depth.mean()), 1) if len(all_depth) else 0.0,
        "uncallable_exons": [row["exon"] for row in exons if not row["callable"]],
        "exons": exons,
        "genes": {
            gene: {
                "callable_fraction_cds": round(t["callable"] / t["total"], 4) if t["total"] else 0.0,
                "mean_depth_cds": round(float(np.concatenate(t["depth"]).mean()), 1),
                "uncallable_exons": [r["exon"] for r in exons if r["gene"] == gene and not r["callable"]],
            }
            for gene, t in per_gene.items()
        },
        "uncallable_intervals": [[c, s, e] for c, s, e, state in intervals if state == "uncallable"],
        "uncallable_intervals_hemizygous": [[c, s, e] for c, s, e, state in intervals_hemi if state == "uncallable"],
    }
    Path(out_json).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def _cds_row_label(name: str, index: int) -> tuple[str, int]:
    """Gene and exon number of a cds.bed row named ``GENE_CDS_exonN`` (else no gene and the row number)."""
    gene, _, number = name.rpartition("_CDS_exon")
    return (gene, int(number)) if gene and number.isdigit() else ("", index)


def read_uncallable(callable_json: str) -> list[tuple[str, int, int]]:
    data = json.loads(Path(callable_json).read_text())
    return [tuple(x) for x in data["uncallable_intervals"]]


# --- command line (dira-genotyper callable ...) -------------------------------------------------------------


def add_callable_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``dira-genotyper callable`` (registered by :mod:`dira_genotyper.commands`)."""
    p.add_argument("--bam", required=True)
    p.add_argument("--cds", required=True)
    p.add_argument("--targets", required=True)
    p.add_argument("--reference", help="reference FASTA: BAQ-capped base qualities, as bcftools mpileup uses")
    p.add_argument("--min-depth", type=int, default=10)
    p.add_argument(
        "--min-depth-hemizygous",
        default="null",
        help="depth threshold for one-copy regions; 'null' (default): derived from detection power",
    )
    p.add_argument("--min-alt-reads", type=int, default=3)
    p.add_argument("--min-mapq", type=int, default=20, help="calling.min_mapq (mpileup -q)")
    p.add_argument("--min-baseq", type=int, default=20, help="calling.min_baseq (mpileup -Q)")
    p.add_argument("--splice-bp", type=int, default=2)
    p.add_argument("--max-depth", type=int, default=10000, help="calling.max_depth (mpileup -d)")
    p.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="count duplicate-flagged reads (calling.remove_duplicates: false, amplicon panels)",
    )
    p.add_argument("--out-bed", required=True)
    p.add_argument("--out-tsv", required=True)
    p.add_argument("--out-json", required=True)


def run_callable(args: argparse.Namespace) -> int:
    hemi = None if args.min_depth_hemizygous.lower() in ("", "null", "none") else int(args.min_depth_hemizygous)
    result = callable_report(
        args.bam,
        args.cds,
        args.targets,
        args.min_depth,
        args.min_mapq,
        args.min_baseq,
        args.splice_bp,
        args.out_bed,
        args.out_tsv,
        args.out_json,
        reference=args.reference,
        min_depth_hemizygous=hemi,
        min_alt_reads=args.min_alt_reads,
        skip_flags=ReadFilter.for_calling(remove_duplicates=not args.keep_duplicates).skip_flags,
        max_depth=args.max_depth,
    )
    log.info(
        "callable fraction of CDS +/- %s bp: %.3f; uncallable exons: %s (one-copy threshold %d: %s)",
        args.splice_bp,
        result["callable_fraction_cds"],
        result["uncallable_exons"] or "none",
        result["min_depth_hemizygous"],
        [e["exon"] for e in result["exons"] if not e["callable_hemizygous"]] or "none",
    )
    return 0
