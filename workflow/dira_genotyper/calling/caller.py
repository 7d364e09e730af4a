"""SNV/indel calling: bcftools mpileup + call -m (prior -P) + norm -m- (left-align, split), then filters.

``apply_filters``: indels re-genotyped by whole-read realignment (:mod:`.realign`; FORMAT/RAD, BGT,
INFO/REALN), insertion sequences polished from the reads (INFO/POLISHED), CIGAR indels bcftools did not
propose added (INFO/RESCUED), QUAL recomputed from the genotype likelihoods with a flat prior (bcftools' in
INFO/BQUAL), and the soft filters of ``FILTERS`` written to FILTER (the calls are kept).

Which bases the caller could have seen (callable regions) is :mod:`.callable_regions`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pysam
import pysam.bcftools

from dira_genotyper.calling.read_filter import ReadFilter
from dira_genotyper.calling.realign import (
    IndelSupport,
    cigar_indel_candidates,
    indel_support,
    left_align,
    polish_insertion,
    qual_from_pl,
    unique_support,
)
from dira_genotyper.locus import read_bed

log = logging.getLogger(__name__)


@dataclass
class CallingParams:
    min_mapq: int = 20
    min_baseq: int = 20
    prior: float = 0.01
    min_qual: float = 30.0
    min_depth: int = 10
    min_gq: float = 20.0
    min_alt_reads: int = 3
    min_allele_balance: float = 0.15
    max_strand_bias: float = 60.0
    max_depth: int = 10000
    remove_duplicates: bool = True

    @property
    def read_filter(self) -> ReadFilter:
        """The reads and bases the caller uses; the callable step counts with the same filter."""
        return ReadFilter.for_calling(self.min_mapq, self.min_baseq, self.max_depth, self.remove_duplicates)


FILTERS = {
    "LowQual": "QUAL below {min_qual}",
    "LowDepth": "FORMAT/DP below {min_depth}",
    "LowGQ": "FORMAT/GQ below {min_gq}",
    "LowAltReads": "fewer than {min_alt_reads} reads support ALT (FORMAT/AD; FORMAT/RAD fragments for indels)",
    "AlleleBalance": "heterozygous call with alt allele fraction below {min_allele_balance}",
    "StrandBias": "FORMAT/SP (Phred-scaled strand-bias P-value) above {max_strand_bias}",
    "Uncallable": "position not callable: fewer than the callable min_depth reads pass the calling read filter",
    "NoAltSupport": "indel: realigning whole reads to both haplotypes finds no support for ALT",
}


def call_variants(
    bam: str,
    reference: str,
    targets_bed: str,
    out_vcf: str,
    params: CallingParams,
    uncallable: list[tuple[str, int, int]] | None = None,
) -> dict:
    """mpileup | call -m | norm -m- (left-align, split) | soft filters -> bgzipped, indexed VCF."""
    out_dir = Path(out_vcf).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".call.") as tmp:
        pile = os.path.join(tmp, "pileup.bcf")
        mpileup(reference, targets_bed, params.read_filter, bam, pile, "-a", "FORMAT/AD,FORMAT/DP,FORMAT/SP", "-Ob")
        called = os.path.join(tmp, "called.bcf")
        pysam.bcftools.call(
            "--no-version",
            "-m",
            "-P",
            str(params.prior),
            "-v",
            "-a",
            "FORMAT/GQ",
            "-Ob",
            "-o",
            called,
            pile,
            catch_stdout=False,
        )
        normed = os.path.join(tmp, "norm.vcf")
        pysam.bcftools.norm("--no-version", "-m-", "-f", reference, "-Ov", "-o", normed, called, catch_stdout=False)
        tmp_out = os.path.join(tmp, "filtered.vcf")
        targets = [iv.bed() for iv in read_bed(targets_bed)]
        summary = apply_filters(
            normed, tmp_out, params, uncallable or [], bam=bam, reference=reference, targets=targets
        )
        pysam.tabix_compress(tmp_out, out_vcf, force=True)
    pysam.tabix_index(out_vcf, preset="vcf", force=True)
    return summary


def apply_filters(
    in_vcf: str,
    out_vcf: str,
    params: CallingParams,
    uncallable: list[tuple[str, int, int]],
    bam: str | None = None,
    reference: str | None = None,
    targets: list[tuple[str, int, int]] | None = None,
) -> dict:
    """Re-genotype indels by realignment and add the CIGAR indels bcftools did not propose (when ``bam`` is
    given; candidates inside ``targets``), then write FILTER reasons (soft filters, the calls are kept) as
    documented in FILTERS."""
    counts = {"records": 0, "pass": 0, "regenotyped": 0, "rescued": 0, "same_event_dropped": 0}
    with ExitStack() as stack:
        src = stack.enter_context(pysam.VariantFile(in_vcf))
        bam_handle = stack.enter_context(pysam.AlignmentFile(bam)) if bam else None
        fasta = stack.enter_context(pysam.FastaFile(reference)) if bam else None
        header = _output_header(src.header, params)
        records = list(src)
        starts = Counter((rec.contig, rec.start) for rec in records)
        dst = stack.enter_context(pysam.VariantFile(out_vcf, "w", header=header))
        made = []
        for rec in records:
            # a split multiallelic site keeps bcftools' genotype: each ALT alone is not a biallelic model
            realign = bam_handle is not None and _is_indel(rec) and starts[(rec.contig, rec.start)] == 1
            new, supported = _rewrite(dst, rec, bam_handle, fasta, params.read_filter, realign)
            counts["regenotyped"] += realign and supported
            made.append((new, supported))
        if bam_handle is not None:
            rescued = _rescued_indels(dst, records, bam_handle, fasta, targets or [], params.read_filter)
            counts["rescued"] = len(rescued)
            made, dropped = _drop_same_event(made + [(new, True) for new in rescued], bam_handle, fasta, params)
            counts["same_event_dropped"] = len(dropped)
            for text in dropped:
                log.info("indel dropped: %s", text)
        order = {name: k for k, name in enumerate(header.contigs)}
        for new, supported in sorted(made, key=lambda x: (order[x[0].contig], x[0].pos, x[0].alts)):
            reasons = filter_reasons(new, params, uncallable) + ([] if supported else ["NoAltSupport"])
            for reason in reasons:
                new.filter.add(reason)
            if not reasons:
                new.filter.add("PASS")
                counts["pass"] += 1
            counts["records"] += 1
            dst.write(new)
    return counts


def _output_header(header: pysam.VariantHeader, params: CallingParams) -> pysam.VariantHeader:
    out = header.copy()
    for name, text in FILTERS.items():
        out.filters.add(name, None, None, text.format(**params.__dict__))
    for key, (number, kind, text) in REALIGN_FORMAT.items():
        if key not in out.formats:
            out.formats.add(key, number, kind, text)
    for key, (number, kind, text) in REALIGN_INFO.items():
        if key not in out.info:
            out.info.add(key, number, kind, text)
    out.add_line(f"##dira_genotyper_filters={json.dumps(params.__dict__, sort_keys=True)}")
    out.add_line(f"##dira_genotyper_read_filter={json.dumps(params.read_filter.to_dict(), sort_keys=True)}")
    return out


def _rewrite(
    dst: pysam.VariantFile,
    rec: pysam.VariantRecord,
    bam: pysam.AlignmentFile | None,
    fasta: pysam.FastaFile | None,
    reads: ReadFilter,
    realign: bool,
) -> tuple[pysam.VariantRecord, bool]:
    """The output record of a bcftools record: flat-prior QUAL, and for an indel (``realign``) the polished
    insertion and the realignment genotype. Second value: False when realignment finds no ALT support."""
    start, stop, alleles, info = rec.start, rec.stop, rec.alleles, dict(rec.info)
    if realign:
        _, pos, ref, alt = polish_insertion(bam, fasta, rec.contig, rec.pos, rec.ref, rec.alts[0], reads)
        if (pos, ref, alt) != (rec.pos, rec.ref, rec.alts[0]):
            start, stop, alleles = pos - 1, pos - 1 + len(ref), (ref, alt)
            info["POLISHED"] = f"{rec.pos}:{rec.ref}>{rec.alts[0]}"
    new = dst.new_record(
        contig=rec.contig, start=start, stop=stop, alleles=alleles, id=rec.id, qual=rec.qual, info=info
    )
    sample = rec.samples[0]
    for key, value in sample.items():
        new.samples[0][key] = value
    if rec.qual is not None:
        new.info["BQUAL"] = round(rec.qual, 2)
    pl = sample.get("PL")
    if pl and len(pl) == 3 and None not in pl:
        new.qual = qual_from_pl(tuple(pl))
    supported = _regenotype(new, bam, fasta, reads) if realign else True
    return new, supported


def _drop_same_event(
    made: list[tuple[pysam.VariantRecord, bool]],
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    params: CallingParams,
) -> tuple[list[tuple[pysam.VariantRecord, bool]], list[str]]:
    """Drop an indel record that is another record's event written differently.

    bcftools tests each candidate indel against the reference alone, so an insertion can come out twice (at
    its place and, from a couple of reads aligned differently, a few bases away with one base changed), both
    genotyped 1/1. Among nearby indels (closer than twice the longer + 10 bp), the reads each explains better
    than the reference and the others are counted; one explaining fewer than ``min_alt_reads`` reads alone,
    next to one explaining more, is dropped (and logged). Two real indels on different reads both keep theirs.
    """
    indels = sorted(
        (i for i, (rec, _) in enumerate(made) if _is_indel(rec)), key=lambda i: (made[i][0].contig, made[i][0].start)
    )
    clusters: list[list[int]] = []
    for i in indels:
        rec = made[i][0]
        if clusters:
            last = made[clusters[-1][-1]][0]
            gap = _same_event_gap(_indel_size(rec), _indel_size(last))
            if last.contig == rec.contig and rec.start <= max(made[j][0].stop for j in clusters[-1]) + gap:
                clusters[-1].append(i)
                continue
        clusters.append([i])
    drop, notes = set(), []
    for cluster in clusters:
        if len(cluster) < 2:
            continue
        recs = [made[i][0] for i in cluster]
        support = unique_support(
            bam, fasta, recs[0].contig, [(r.pos, r.ref, r.alts[0]) for r in recs], params.read_filter
        )
        best = max(support)
        for i, rec, n in zip(cluster, recs, support, strict=True):
            if n < params.min_alt_reads and n < best:
                drop.add(i)
                keep = recs[support.index(best)]
                notes.append(
                    f"{rec.contig}:{rec.pos} {rec.ref}>{rec.alts[0]} explains {n} reads alone; the same "
                    f"event as {keep.pos} {keep.ref}>{keep.alts[0]} ({best} reads)"
                )
    return [m for i, m in enumerate(made) if i not in drop], notes


def _indel_size(rec: pysam.VariantRecord) -> int:
    return abs(len(rec.ref) - len(rec.alts[0]))


def _same_event_gap(size_a: int, size_b: int) -> int:
    """Two indels closer than this (bp between their extents) can be one event written twice."""
    return 2 * max(size_a, size_b) + 10


def _rescued_indels(
    dst: pysam.VariantFile,
    records: list[pysam.VariantRecord],
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    targets: list[tuple[str, int, int]],
    reads: ReadFilter,
) -> list[pysam.VariantRecord]:
    """Records for CIGAR indels (>= 3 bp) that bcftools did not call and realignment genotypes as non-reference.

    The aligner places a long insertion slightly differently in different reads (a shifted copy with a base
    changed), so one event gives several candidates, each better than the reference. Candidates are taken
    best first (most edits saved over all reads); a candidate near a called or already taken indel (closer
    than twice the longer indel + 10 bp) is the same event and is dropped.
    """
    taken = []  # (chrom, start, stop, indel length)
    for r in records:
        if _is_indel(r):
            size = _indel_size(r)
            taken.append((r.contig, r.start, r.stop, size))
            if r.ref[0] == r.alts[0][0]:
                _, pos, ref, _ = left_align(fasta, r.contig, r.start + 1, r.ref[1:], r.alts[0][1:])
                taken.append((r.contig, pos - 1, pos - 1 + len(ref), size))

    def near(chrom: str, start: int, stop: int, size: int) -> bool:
        return any(
            c == chrom and s - _same_event_gap(n, size) <= stop and start <= e + _same_event_gap(n, size)
            for c, s, e, n in taken
        )

    scored = []
    for chrom, pos, ref, alt in sorted(cigar_indel_candidates(bam, fasta, targets, reads)):
        if near(chrom, pos - 1, pos - 1 + len(ref), abs(len(ref) - len(alt))):
            continue
        support = indel_support(bam, fasta, chrom, pos, ref, alt, reads)
        if support.genotype not in (None, (0, 0)):
            scored.append((-support.edits_saved, chrom, pos, ref, alt, support))
    out = []
    for _, chrom, pos, ref, alt, support in sorted(scored, key=lambda x: x[:5]):
        start, stop, size = pos - 1, pos - 1 + len(ref), abs(len(ref) - len(alt))
        if near(chrom, start, stop, size):
            continue
        taken.append((chrom, start, stop, size))
        polished = polish_insertion(bam, fasta, chrom, pos, ref, alt, reads)
        if polished != (chrom, pos, ref, alt):
            _, pos, ref, alt = polished
            start, stop = pos - 1, pos - 1 + len(ref)
            support = indel_support(bam, fasta, chrom, pos, ref, alt, reads)
        info = {"DP": support.reads, "REALN": True, "RESCUED": True}  # REALN here keeps INFO order
        if "INDEL" in dst.header.info:
            info["INDEL"] = True
        new = dst.new_record(contig=chrom, start=start, stop=stop, alleles=(ref, alt), info=info)
        _set_realigned_genotype(new, support)
        new.samples[0]["AD"] = (support.ref, support.alt)
        new.samples[0]["DP"] = support.reads
        out.append(new)
    return out


REALIGN_FORMAT = {
    "RAD": (
        "R",
        "Integer",
        "Indels: fragments supporting REF and ALT when whole reads (soft clips included) are "
        "realigned to both haplotypes (dira_genotyper.calling.realign); "
        "GT, GQ, PL and QUAL of the indel come from these",
    ),
    "BGT": (1, "String", "Indels: the genotype bcftools call gave before realignment"),
}
REALIGN_INFO = {
    "REALN": (0, "Flag", "GT, GQ, PL and QUAL set by whole-read realignment (FORMAT/RAD)"),
    "RESCUED": (
        0,
        "Flag",
        "indel seen in read alignments (CIGAR) that bcftools did not propose; genotyped by realignment only",
    ),
    "POLISHED": (
        1,
        "String",
        "insertion sequence corrected from the reads (hill climbing on the edits saved); "
        "the value is bcftools' POS:REF>ALT",
    ),
    "BQUAL": (
        1,
        "Float",
        "QUAL from bcftools call (with its prior -P); QUAL itself is Phred P(genotype 0/0) from "
        "the genotype likelihoods (PL) with a flat genotype prior",
    ),
}


def _is_indel(rec: pysam.VariantRecord) -> bool:
    return rec.alts is not None and len(rec.alts) == 1 and len(rec.ref) != len(rec.alts[0])


def _regenotype(new: pysam.VariantRecord, bam: pysam.AlignmentFile, fasta: pysam.FastaFile, reads: ReadFilter) -> bool:
    """Set RAD, and GT/GQ/PL/QUAL from realignment; False (bcftools' genotype kept) when it finds no ALT support."""
    support = indel_support(bam, fasta, new.contig, new.pos, new.ref, new.alts[0], reads)
    sample = new.samples[0]
    sample["RAD"] = (support.ref, support.alt)
    if support.genotype is None or support.genotype == (0, 0):
        return False
    gt = sample.get("GT")
    sample["BGT"] = "/".join("." if a is None else str(a) for a in gt) if gt else "."
    _set_realigned_genotype(new, support)
    return True


def _set_realigned_genotype(new: pysam.VariantRecord, support: IndelSupport) -> None:
    sample = new.samples[0]
    sample["GT"], sample["GQ"], sample["PL"] = support.genotype, support.gq, support.pl
    sample["RAD"] = (support.ref, support.alt)
    new.qual = support.qual
    new.info["REALN"] = True


def filter_reasons(
    rec: pysam.VariantRecord, params: CallingParams, uncallable: list[tuple[str, int, int]]
) -> list[str]:
    sample = rec.samples[0]
    reasons = []
    if rec.qual is not None and rec.qual < params.min_qual:
        reasons.append("LowQual")
    depth = sample.get("DP")
    if len(rec.ref) != len(rec.alts[0]) and "DP" in rec.info:
        # FORMAT/DP of an indel leaves out reads bcftools finds ambiguous; the callable step counts every read,
        # so use the raw depth here too, or a callable site could be filtered LowDepth.
        depth = rec.info["DP"]
    if depth is None or depth < params.min_depth:
        reasons.append("LowDepth")
    gq = sample.get("GQ")
    if gq is not None and gq < params.min_gq:
        reasons.append("LowGQ")
    gt = sample.get("GT") or (None, None)
    ad = sample.get("AD")
    if "RAD" in rec.header.formats and sample.get("RAD") and None not in sample.get("RAD"):
        ad = sample.get("RAD")  # realigned fragment counts of an indel
    if ad and None not in ad and len(ad) > 1 and ad[-1] < params.min_alt_reads:
        reasons.append("LowAltReads")
    if ad and None not in ad and sum(ad) > 0 and len(set(gt)) > 1:
        fraction = ad[-1] / sum(ad)
        if fraction < params.min_allele_balance:
            reasons.append("AlleleBalance")
    sp = sample.get("SP")
    if sp is not None and sp > params.max_strand_bias:
        reasons.append("StrandBias")
    if any(c == rec.contig and s < rec.stop and rec.start < e for c, s, e in uncallable):
        reasons.append("Uncallable")
    return reasons


def mpileup(reference: str, regions_bed: str, read_filter: ReadFilter, bam: str, out: str, *extra: str) -> None:
    """bcftools mpileup as the caller runs it (same read filter, BAQ, max depth)."""
    pysam.bcftools.mpileup(
        "--no-version",
        "-f",
        reference,
        "-R",
        regions_bed,
        *read_filter.mpileup_args(),
        *extra,
        "-o",
        out,
        bam,
        catch_stdout=False,
    )
