"""Deep data (gene panels at 500-1,000x, amplicons): no pileup cap, allele fractions, strand bias and the
low-allele-fraction flag judged at depth, duplicates kept when asked."""

from __future__ import annotations

import math
import random

import pysam
import pytest

from dira_genotyper.calling.callable_regions import callable_report, detection_power
from dira_genotyper.calling.caller import CallingParams, call_variants
from dira_genotyper.calling.read_filter import FDUP, ReadFilter
from dira_genotyper.interpretation.alleles import _binomial_cdf
from dira_genotyper.stats import binomial_cdf

LENGTH, READ = 2000, 100
TARGET = (800, 1100)
EXON = (940, 960)
SNV = 950


@pytest.fixture()
def reference(tmp_path):
    rng = random.Random(11)
    seq = "".join(rng.choice("ACGT") for _ in range(LENGTH))
    path = tmp_path / "ref.fa"
    path.write_text(">chr2\n" + "\n".join(seq[i : i + 60] for i in range(0, LENGTH, 60)) + "\n")
    pysam.faidx(str(path))
    (tmp_path / "cds.bed").write_text(f"chr2\t{EXON[0]}\t{EXON[1]}\tIL1RN_CDS_exon1\n")
    (tmp_path / "targets.bed").write_text(f"chr2\t{TARGET[0]}\t{TARGET[1]}\tIL1RN_exon\n")
    return str(path), seq


def deep_bam(path, seq: str, n: int, alt_every: int, dup_every: int = 0) -> str:
    """`n` proper pairs whose first mate covers the SNV (one read per fragment there), strands alternating;
    every `alt_every`-th fragment carries the ALT base (alt fraction 1/alt_every, both strands alike); every
    `dup_every`-th is flagged duplicate."""
    alt_base = {"A": "C", "C": "G", "G": "T", "T": "A"}[seq[SNV]]
    alt = seq[:SNV] + alt_base + seq[SNV + 1 :]
    rng = random.Random(5)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": LENGTH}]}
    reads = []
    for k in range(n):
        start = SNV - rng.randint(12, READ - 12)
        mate = start + 250
        forward = (k // alt_every) % 2 == 0 if alt_every > 1 else k % 2 == 0
        source = alt if k % alt_every == 0 else seq
        for first, (pos, other) in enumerate(((start, mate), (mate, start))):
            a = pysam.AlignedSegment()
            a.query_name = f"frag{k}"
            a.query_sequence = source[pos : pos + READ]
            reverse = forward if first else not forward
            flag = 0x1 | 0x2 | (0x40 if first == 0 else 0x80) | (0x10 if reverse else 0) | (0x20 if not reverse else 0)
            if dup_every and k % dup_every == 0:
                flag |= FDUP
            a.flag = flag
            a.reference_id, a.reference_start, a.cigarstring = 0, pos, f"{READ}M"
            a.mapping_quality = 60
            a.next_reference_id, a.next_reference_start = 0, other
            a.template_length = 350 if pos < other else -350
            a.query_qualities = pysam.qualitystring_to_array("?" * READ)
            reads.append(a)
    unsorted = str(path) + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for a in sorted(reads, key=lambda r: r.reference_start):
            out.write(a)
    pysam.sort("-o", str(path), unsorted)
    pysam.index(str(path))
    return str(path)


def call_at_snv(tmp_path, bam: str, fasta: str, params: CallingParams) -> pysam.VariantRecord:
    out = str(tmp_path / "calls.vcf.gz")
    call_variants(bam, fasta, str(tmp_path / "targets.bed"), out, params, [])
    with pysam.VariantFile(out) as vcf:
        found = [r for r in vcf if r.start == SNV]
    assert len(found) == 1
    return found[0]


def callable_depth(tmp_path, bam: str, fasta: str, params: CallingParams) -> dict:
    return callable_report(
        bam,
        str(tmp_path / "cds.bed"),
        str(tmp_path / "targets.bed"),
        10,
        params.min_mapq,
        params.min_baseq,
        2,
        str(tmp_path / "c.bed"),
        str(tmp_path / "c.tsv"),
        str(tmp_path / "c.json"),
        reference=fasta,
        skip_flags=params.read_filter.skip_flags,
        max_depth=params.max_depth,
    )


def test_heterozygote_at_800x_is_judged_on_every_read(tmp_path, reference):
    """800 reads (bcftools' own -d default would look at 250): AD sums to the depth, allele fraction 0.5,
    no strand bias, PASS; a 250 cap (the old bcftools default, still configurable) shows in AD."""
    fasta, seq = reference
    bam = deep_bam(tmp_path / "deep.bam", seq, 800, alt_every=2)
    rec = call_at_snv(tmp_path, bam, fasta, CallingParams())
    ad = rec.samples[0]["AD"]
    assert sum(ad) >= 790
    assert abs(ad[1] / sum(ad) - 0.5) < 0.03
    assert list(rec.filter) == ["PASS"]
    assert (rec.samples[0]["SP"] or 0) < CallingParams().max_strand_bias
    capped = call_at_snv(tmp_path, bam, fasta, CallingParams(max_depth=250))
    assert sum(capped.samples[0]["AD"]) <= 320  # bcftools' -d is approximate


def test_callable_depth_matches_the_caller_at_depth(tmp_path, reference):
    """The callable step counts the same 800 reads as the caller, and stops where calling.max_depth does."""
    fasta, seq = reference
    bam = deep_bam(tmp_path / "deep.bam", seq, 800, alt_every=2)
    deep = callable_depth(tmp_path, bam, fasta, CallingParams())
    exon = deep["exons"][0]
    assert exon["callable"] and 700 <= exon["mean_depth"] <= 800
    assert deep["read_filter"]["max_depth"] == 10000
    capped = callable_depth(tmp_path, bam, fasta, CallingParams(max_depth=250))
    assert capped["exons"][0]["mean_depth"] <= 320


def test_amplicon_duplicates_are_kept_when_configured(tmp_path, reference):
    """A third of the fragments flagged duplicate: skipped by default (mpileup's rule), counted by the caller and by the
    callable step alike with calling.remove_duplicates false."""
    fasta, seq = reference
    bam = deep_bam(tmp_path / "dup.bam", seq, 600, alt_every=2, dup_every=3)
    removed = CallingParams()
    kept = CallingParams(remove_duplicates=False)
    assert kept.read_filter.skip_flags & FDUP == 0 and removed.read_filter.skip_flags & FDUP
    assert sum(call_at_snv(tmp_path, bam, fasta, removed).samples[0]["AD"]) <= 410
    assert sum(call_at_snv(tmp_path, bam, fasta, kept).samples[0]["AD"]) >= 590
    assert (
        callable_depth(tmp_path, bam, fasta, kept)["exons"][0]["min_depth"]
        > callable_depth(tmp_path, bam, fasta, removed)["exons"][0]["min_depth"]
    )
    assert ReadFilter.for_calling(remove_duplicates=False).mpileup_args()[-3:] == [str(0x304), "-d", "10000"]


def test_low_allele_fraction_flag_at_panel_depth(tmp_path, reference):
    """A mosaic-looking heterozygote at 2,000x: the binomial test of the low-allele-fraction flag must give a
    number (the plain sum of comb(n, i) p^i q^(n-i) overflowed a float beyond ~1,030 reads) and a right one."""
    assert _binomial_cdf(500, 2000, 0.5) < 1e-100
    assert _binomial_cdf(990, 2000, 0.5) == pytest.approx(0.3355, abs=0.002)  # normal approx., continuity-corrected
    assert binomial_cdf(3, 10, 0.5) == pytest.approx(sum(math.comb(10, i) for i in range(4)) / 1024)
    assert detection_power(5000, 0.05, 3) == pytest.approx(1.0)
    assert detection_power(10, 0.5, 3) == pytest.approx(0.9453, abs=1e-4)


def test_target_counts_keep_duplicates_for_amplicons(tmp_path, reference):
    """The per-target copy-number counts follow calling.remove_duplicates too (an amplicon panel's reads are all
    'duplicates'): a third of the fragments flagged, counted only with keep_duplicates."""
    from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS
    from dira_genotyper.cnv.bins import _span_coverage

    fasta, seq = reference
    bam = deep_bam(tmp_path / "dup.bam", seq, 600, alt_every=2, dup_every=3)
    with pysam.AlignmentFile(bam) as handle:
        kept = _span_coverage(handle, "chr2", SNV, SNV + 1, 20, MPILEUP_SKIP_FLAGS & ~FDUP)[0][0]
        removed = _span_coverage(handle, "chr2", SNV, SNV + 1, 20)[0][0]
    assert kept == 600 and removed == 400
