"""Callable must mean the caller could have seen it: one read filter for the callable step and bcftools mpileup.

Small BAMs over a random reference: every read over one exon fails one filter (MAPQ, duplicate, QC fail,
secondary, anomalous pair, base quality). Each must leave the exon uncallable and the variant planted there
without a PASS call; the same reads passing every filter make the exon callable and the variant PASS.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pysam
import pytest

from dira_genotyper.calling.callable_regions import (
    callable_report,
    detection_power,
    hemizygous_min_depth,
    per_base_depth,
    required_depth,
)
from dira_genotyper.calling.caller import CallingParams, call_variants, mpileup
from dira_genotyper.calling.read_filter import ReadFilter

LENGTH = 2000
EXON = (900, 1000)  # 0-based half-open CDS exon
TARGET = (800, 1100)
SNV = 950  # 0-based position of the planted variant
READ = 100


@pytest.fixture()
def reference(tmp_path):
    rng = random.Random(7)
    seq = "".join(rng.choice("ACGT") for _ in range(LENGTH))
    path = tmp_path / "ref.fa"
    path.write_text(">chr2\n" + "\n".join(seq[i : i + 60] for i in range(0, LENGTH, 60)) + "\n")
    pysam.faidx(str(path))
    (tmp_path / "cds.bed").write_text(f"chr2\t{EXON[0]}\t{EXON[1]}\tIL1RN_CDS_exon1\n")
    (tmp_path / "targets.bed").write_text(f"chr2\t{TARGET[0]}\t{TARGET[1]}\tIL1RN_exon\n")
    return path, seq


def _alt_seq(seq: str) -> str:
    alt = {"A": "C", "C": "G", "G": "T", "T": "A"}[seq[SNV]]
    return seq[:SNV] + alt + seq[SNV + 1 :]


def write_bam(
    path,
    seq: str,
    *,
    step: int = 5,
    mapq: int = 60,
    add_flags: int = 0,
    clear_flags: int = 0,
    qual: int = 35,
    mapq_of=None,
) -> str:
    """Read pairs (100 bp mates 200 bp apart, proper pairs) tiling the targets, all carrying the SNV (hom)."""
    alt = _alt_seq(seq)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": LENGTH}]}
    reads = []
    for k, start in enumerate(range(TARGET[0] - 250, TARGET[1], step)):
        mate = start + 200
        for first, (pos, other) in enumerate(((start, mate), (mate, start))):
            if pos < 0 or pos + READ > LENGTH or other < 0 or other + READ > LENGTH:
                break
            a = pysam.AlignedSegment()
            a.query_name = f"frag{k}"
            a.query_sequence = alt[pos : pos + READ]
            flag = 0x1 | 0x2 | (0x40 if first == 0 else 0x80) | (0x20 if first == 0 else 0x10)
            a.flag = (flag | add_flags) & ~clear_flags
            a.reference_id, a.reference_start, a.cigarstring = 0, pos, f"{READ}M"
            a.mapping_quality = mapq_of(k) if mapq_of else mapq
            a.next_reference_id, a.next_reference_start = 0, other
            a.template_length = 300 if pos < other else -300
            a.query_qualities = pysam.qualitystring_to_array(chr(33 + qual) * READ)
            reads.append(a)
    unsorted = str(path) + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for a in sorted(reads, key=lambda r: r.reference_start):
            out.write(a)
    pysam.sort("-o", str(path), unsorted)
    pysam.index(str(path))
    return str(path)


def run_callable(tmp_path, bam: str, fasta, **kwargs) -> dict:
    params = CallingParams()
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
        reference=str(fasta),
        **kwargs,
    )


def pass_calls_at_snv(tmp_path, bam: str, fasta, uncallable) -> list[str]:
    out = str(tmp_path / "calls.vcf.gz")
    call_variants(bam, str(fasta), str(tmp_path / "targets.bed"), out, CallingParams(), uncallable)
    with pysam.VariantFile(out) as vcf:
        return [f"{r.pos}:{list(r.filter)}" for r in vcf if r.start == SNV and list(r.filter) == ["PASS"]]


FAILING = {
    "mapq0": {"mapq": 0},
    "duplicate": {"add_flags": 0x400},
    "qcfail": {"add_flags": 0x200},
    "secondary": {"add_flags": 0x100},
    "not_proper_pair": {"clear_flags": 0x2},
    "low_baseq": {"qual": 10},
}


def test_control_bam_is_callable_and_called(tmp_path, reference):
    fasta, seq = reference
    bam = write_bam(tmp_path / "ok.bam", seq)
    report = run_callable(tmp_path, bam, fasta)
    assert report["exons"][0]["callable"] and report["callable_fraction_cds"] == 1.0
    assert report["uncallable_exons"] == []
    uncallable = [tuple(x) for x in report["uncallable_intervals"]]
    assert pass_calls_at_snv(tmp_path, bam, fasta, uncallable)


@pytest.mark.parametrize("case", sorted(FAILING))
def test_reads_failing_the_filter_are_not_callable(tmp_path, reference, case):
    """Every read over the exon fails one filter: no-call (uncallable), and no PASS call of the variant."""
    fasta, seq = reference
    bam = write_bam(tmp_path / f"{case}.bam", seq, **FAILING[case])
    report = run_callable(tmp_path, bam, fasta)
    exon = report["exons"][0]
    assert not exon["callable"] and not exon["callable_hemizygous"]
    assert exon["min_depth"] == 0
    assert report["uncallable_exons"] == [1]
    assert report["callable_fraction_cds"] == 0.0
    uncallable = [tuple(x) for x in report["uncallable_intervals"]]
    assert ("chr2", TARGET[0], TARGET[1]) in uncallable
    assert pass_calls_at_snv(tmp_path, bam, fasta, uncallable) == []


def test_callable_depth_is_mpileup_depth(tmp_path, reference):
    """Per-base depth equals bcftools mpileup's FORMAT/DP (bases the caller uses) on a mixed BAM."""
    fasta, seq = reference
    mixed = {0: 0, 1: 10, 2: 25, 3: 60}
    bam = write_bam(tmp_path / "mixed.bam", seq, step=3, mapq_of=lambda k: mixed[k % 4])
    read_filter = CallingParams().read_filter
    depth = per_base_depth(bam, [("chr2", *TARGET)], read_filter, str(fasta))[("chr2", *TARGET)]
    pile = str(tmp_path / "pile.vcf")
    mpileup(str(fasta), str(tmp_path / "targets.bed"), read_filter, bam, pile, "-I", "-a", "FORMAT/DP", "-Ov")
    dp = np.zeros(TARGET[1] - TARGET[0], dtype=np.int32)
    with pysam.VariantFile(pile) as vcf:
        for rec in vcf:
            dp[rec.start - TARGET[0]] = rec.samples[0]["DP"]
    assert depth.max() > 0
    assert depth.tolist() == dp.tolist()


def test_min_mapq_changes_depth(tmp_path, reference):
    """calling.min_mapq is applied by the callable step (it had no effect with the 'nofilter' pileup)."""
    fasta, seq = reference
    bam = write_bam(tmp_path / "mq10.bam", seq, mapq=10)
    region = ("chr2", *TARGET)
    low = per_base_depth(bam, [region], ReadFilter(min_mapq=0), None)[region]
    mid = per_base_depth(bam, [region], ReadFilter(min_mapq=10), None)[region]
    high = per_base_depth(bam, [region], ReadFilter(min_mapq=20), None)[region]
    assert low[EXON[0] - TARGET[0]] > 10
    assert low.tolist() == mid.tolist()
    assert int(high.max()) == 0


def test_orphans_count_only_when_asked(tmp_path, reference):
    fasta, seq = reference
    bam = write_bam(tmp_path / "orphans.bam", seq, clear_flags=0x2)
    region = ("chr2", *TARGET)
    assert int(per_base_depth(bam, [region], ReadFilter(), None)[region].max()) == 0
    assert int(per_base_depth(bam, [region], ReadFilter(count_orphans=True), None)[region].min()) > 10


def test_detection_power_and_thresholds():
    assert detection_power(10, 0.5, 3) == pytest.approx(968 / 1024)  # 0.945
    assert detection_power(2, 0.98, 3) == 0.0
    assert detection_power(0, 0.5, 0) == 1.0
    assert detection_power(4, 0.98, 3) < 0.999 <= detection_power(5, 0.98, 3)
    assert required_depth(0.98, 3, 0.999) == 5
    assert required_depth(0.5, 3, 0.945) == 10
    assert required_depth(0.98, 5, 0.999) > 5
    # one copy: the smallest depth reaching the two-copy standard (0.945 at 10) with bases at Q20 (<= 1% errors)
    assert detection_power(3, 0.99, 3) == pytest.approx(0.99**3) and 0.99**3 > 968 / 1024
    assert hemizygous_min_depth(3) == 3
    assert hemizygous_min_depth(3, min_depth=15) == 4  # a stricter two-copy standard asks more of one copy too
    assert hemizygous_min_depth(3, override=8) == 8


def test_hemizygous_threshold(tmp_path, reference):
    """Depth ~7: not callable for a heterozygous variant on two copies, callable on one copy (3)."""
    fasta, seq = reference
    bam = write_bam(tmp_path / "shallow.bam", seq, step=26)
    report = run_callable(tmp_path, bam, fasta)
    exon = report["exons"][0]
    assert 3 <= exon["min_depth"] < 10
    assert not exon["callable"] and exon["callable_hemizygous"]
    assert report["uncallable_exons"] == [1]
    hemi = report["uncallable_intervals_hemizygous"]
    assert not any(s < EXON[1] + 2 and EXON[0] - 2 < e for _, s, e in hemi)
    assert report["uncallable_intervals"]
    strict = run_callable(tmp_path, bam, fasta, min_depth_hemizygous=exon["min_depth"] + 1)
    assert strict["min_depth_hemizygous"] == exon["min_depth"] + 1
    assert not strict["exons"][0]["callable_hemizygous"]


def test_json_keys(tmp_path, reference):
    fasta, seq = reference
    report = run_callable(tmp_path, write_bam(tmp_path / "ok.bam", seq), fasta)
    on_disk = json.loads((tmp_path / "c.json").read_text())
    assert on_disk == report
    for key in (
        "min_depth",
        "callable_fraction_cds",
        "mean_depth_cds",
        "uncallable_exons",
        "exons",
        "uncallable_intervals",
        "min_depth_hemizygous",
        "splice_bp",
        "min_alt_reads",
        "detection_power",
        "read_filter",
        "uncallable_intervals_hemizygous",
    ):
        assert key in report
    assert report["min_depth_hemizygous"] == 3 and report["min_alt_reads"] == 3 and report["splice_bp"] == 2
    assert report["detection_power"] == {"heterozygous": 0.9453, "hemizygous": 0.9703}
    assert report["read_filter"] == {
        "min_mapq": 20,
        "min_baseq": 20,
        "skip_flags": 0x704,
        "count_orphans": False,
        "max_depth": 10000,
    }
    assert set(report["exons"][0]) >= {"callable", "callable_hemizygous"}
    header = (tmp_path / "c.tsv").read_text().splitlines()[0].split("\t")
    assert header[-1] == "callable_hemizygous"
