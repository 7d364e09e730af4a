"""Indel re-genotyping by whole-read realignment: reads whose inserted bases are soft-clipped still count."""

from __future__ import annotations

import random

import pysam
import pytest

from dira_genotyper.calling import realign
from dira_genotyper.calling.caller import CallingParams, apply_filters
from dira_genotyper.calling.realign import (
    genotype_from_lods,
    haplotypes,
    indel_support,
    left_align,
    polish_insertion,
    qual_from_pl,
)

INS_AFTER = 500  # 1-based base after which the insertion sits
INSERTED = "GATTACAGGCTT"
READ = 100


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    rng = random.Random(7)
    seq = "".join(rng.choice("ACGT") for _ in range(1200))
    path = tmp_path_factory.mktemp("ref") / "ref.fa"
    path.write_text(">chr2\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(path))
    return path, seq


def _reads(seq: str, alt_copies: int, ref_copies: int) -> list[tuple[str, int, str, str]]:
    """(name, 0-based pos, cigar, sequence): reads as an aligner places them, inserted bases soft-clipped near
    the read ends, for ``alt_copies`` and ``ref_copies`` sets of reads."""
    ins0 = INS_AFTER  # 0-based index of the first reference base after the insertion
    alt = seq[:ins0] + INSERTED + seq[ins0:]
    n = len(INSERTED)
    reads = []
    for copy in range(alt_copies):
        reads += [
            (f"alt_span_{copy}", ins0 - 50, f"50M{n}I{READ - 50 - n}M", alt[ins0 - 50 : ins0 - 50 + READ]),
            (f"alt_rclip_{copy}", ins0 - (READ - n), f"{READ - n}M{n}S", alt[ins0 - (READ - n) : ins0 + n]),
            (f"alt_lclip_{copy}", ins0, f"8S{READ - 8}M", alt[ins0 + n - 8 : ins0 + n - 8 + READ]),
            (f"away_{copy}", ins0 - READ - 20, f"{READ}M", seq[ins0 - READ - 20 : ins0 - 20]),
        ]
    for copy in range(ref_copies):
        for shift in (10, 50, 90):
            reads.append((f"ref_{shift}_{copy}", ins0 - shift, f"{READ}M", seq[ins0 - shift : ins0 - shift + READ]))
    return reads


def _bam(path, reads) -> str:
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": 1200}]}
    unsorted = str(path) + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for name, pos, cigar, sequence in sorted(reads, key=lambda r: r[1]):
            a = pysam.AlignedSegment()
            a.query_name, a.query_sequence, a.flag = name, sequence, 0
            a.reference_id, a.reference_start, a.mapping_quality, a.cigarstring = 0, pos, 60, cigar
            a.query_qualities = pysam.qualitystring_to_array("I" * len(sequence))
            out.write(a)
    pysam.sort("-o", str(path), unsorted)
    pysam.index(str(path))
    return str(path)


def _support(tmp_path, reference, alt_copies, ref_copies):
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, alt_copies, ref_copies))
    anchor = seq[INS_AFTER - 1]
    with pysam.AlignmentFile(bam) as handle, pysam.FastaFile(str(fasta_path)) as fasta:
        return indel_support(handle, fasta, "chr2", INS_AFTER, anchor, anchor + INSERTED, 20)


def test_soft_clipped_insertion_reads_count_as_alt(tmp_path, reference):
    support = _support(tmp_path, reference, alt_copies=6, ref_copies=0)
    assert (support.ref, support.alt) == (0, 18)  # span, right clip, left clip x 6
    assert support.ambiguous == 0  # the reads ending 20 bp before are not fetched as overlapping
    assert support.genotype == (1, 1)
    assert support.gq >= 20


def test_heterozygous_insertion(tmp_path, reference):
    support = _support(tmp_path, reference, alt_copies=4, ref_copies=4)
    assert (support.ref, support.alt) == (12, 12)
    assert support.genotype == (0, 1)
    assert support.gq == 99


def test_reference_only_reads_give_hom_ref(tmp_path, reference):
    support = _support(tmp_path, reference, alt_copies=0, ref_copies=5)
    assert support.alt == 0 and support.genotype == (0, 0)


def test_one_chimeric_fragment_does_not_decide():
    """A fragment's likelihood ratio is capped: one strongly 'ref' fragment among 20 'alt' ones stays 1/1."""
    support = genotype_from_lods([3.0] * 20 + [-30.0])
    assert support.genotype == (1, 1)
    assert (support.ref, support.alt) == (1, 20)


def test_no_informative_fragment_gives_no_genotype():
    support = genotype_from_lods([0.0, 0.0])
    assert support.genotype is None and support.ambiguous == 2


def test_qual_from_pl_is_flat_prior_probability_of_hom_ref():
    assert qual_from_pl((0, 30, 60)) == 0.0
    assert qual_from_pl((40, 0, 200)) == pytest.approx(40.0, abs=0.01)
    assert qual_from_pl((30, 30, 0)) == pytest.approx(30.0, abs=0.02)


def test_haplotypes_check_ref(reference):
    fasta_path, seq = reference
    with pysam.FastaFile(str(fasta_path)) as fasta:
        ref_hap, alt_hap = haplotypes(fasta, "chr2", 99, seq[99:102], seq[99], 10)
        assert ref_hap == seq[89:112] and alt_hap == seq[89:100] + seq[102:112]
        with pytest.raises(ValueError, match="does not match"):
            haplotypes(fasta, "chr2", 99, "NNN", "N", 10)


def _vcf_header() -> pysam.VariantHeader:
    header = pysam.VariantHeader()
    header.contigs.add("chr2", length=1200)
    header.add_line('##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">')
    for key, number, kind in (
        ("GT", 1, "String"),
        ("DP", 1, "Integer"),
        ("GQ", 1, "Integer"),
        ("AD", "R", "Integer"),
        ("PL", "G", "Integer"),
        ("SP", 1, "Integer"),
    ):
        header.formats.add(key, number, kind, key)
    header.add_sample("S")
    return header


def _bcftools_vcf(path, calls) -> str:
    """A VCF as bcftools writes it: calls are (pos, ref, alt, GT, DP, AD, PL), QUAL 50, SP 0, GQ 30."""
    with pysam.VariantFile(str(path), "w", header=_vcf_header()) as out:
        for pos, ref, alt, gt, dp, ad, pl in calls:
            rec = out.new_record(contig="chr2", start=pos - 1, alleles=(ref, alt), qual=50.0)
            rec.info["DP"] = dp
            s = rec.samples["S"]
            s["GT"], s["DP"], s["GQ"], s["AD"], s["PL"], s["SP"] = gt, dp, 30, ad, pl, 0
            out.write(rec)
    return str(path)


def _apply(tmp_path, fasta_path, vcf_in: str, bam: str, start: int = 400, end: int = 600) -> tuple[dict, str]:
    """apply_filters with default parameters over the target chr2:start-end; (counts, output VCF)."""
    out_vcf = str(tmp_path / "out.vcf")
    counts = apply_filters(
        vcf_in, out_vcf, CallingParams(), [], bam=bam, reference=str(fasta_path), targets=[("chr2", start, end)]
    )
    return counts, out_vcf


def test_apply_filters_regenotypes_the_indel(tmp_path, reference):
    """bcftools' 0/1 with a low alt count (the soft-clipped reads counted as ref) becomes 1/1 with RAD."""
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, 6, 0))
    anchor = seq[INS_AFTER - 1]
    vcf_in = _bcftools_vcf(
        tmp_path / "in.vcf", [(INS_AFTER, anchor, anchor + INSERTED, (0, 1), 24, (18, 6), (80, 0, 30))]
    )
    counts, out_vcf = _apply(tmp_path, fasta_path, vcf_in, bam)
    # the CIGAR insertion is the called record, not a rescued one
    assert counts == {"records": 1, "pass": 1, "regenotyped": 1, "rescued": 0, "same_event_dropped": 0}
    with pysam.VariantFile(str(out_vcf)) as handle:
        rec = next(iter(handle))
        s = rec.samples["S"]
        assert s["GT"] == (1, 1) and s["BGT"] == "0/1" and s["RAD"] == (0, 18)
        assert rec.info["REALN"] and rec.info["BQUAL"] == 50.0
        assert rec.qual > 100 and list(rec.filter) == ["PASS"]


def test_indel_bcftools_missed_is_rescued_from_cigar(tmp_path, reference):
    """No bcftools record, but reads show the insertion in their CIGAR: it is added, genotyped by realignment."""
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, 3, 3))
    vcf_in = _bcftools_vcf(tmp_path / "empty.vcf", [])
    counts, out_vcf = _apply(tmp_path, fasta_path, vcf_in, bam)
    assert counts == {"records": 1, "pass": 1, "regenotyped": 0, "rescued": 1, "same_event_dropped": 0}
    with pysam.VariantFile(str(out_vcf)) as handle:
        rec = next(iter(handle))
        expected = left_align_ins(seq, INS_AFTER, INSERTED)
        assert (rec.pos, rec.ref, rec.alts[0]) == expected
        assert rec.info["RESCUED"] and rec.samples["S"]["GT"] == (0, 1) and rec.samples["S"]["RAD"] == (9, 9)
    # outside the targets nothing is looked for
    counts, _ = _apply(tmp_path, fasta_path, vcf_in, bam, 700, 900)
    assert counts["rescued"] == 0


def left_align_ins(seq: str, after: int, inserted: str) -> tuple[int, str, str]:
    """Left-most VCF form of inserting ``inserted`` after 1-based base ``after`` (independent of realign)."""
    variant = seq[:after] + inserted + seq[after:]
    pos = after
    while (
        pos > 1
        and seq[: pos - 1] + seq[pos - 1 : pos - 1] + variant[pos - 1 : pos - 1 + len(inserted)] + seq[pos - 1 :]
        == variant
    ):
        pos -= 1
    return pos, seq[pos - 1], seq[pos - 1] + variant[pos : pos + len(inserted)]


@pytest.mark.parametrize(
    ("genome", "at0", "deleted", "inserted", "expected"),
    [
        ("GGCATATATAGG", 8, "", "TA", ("c", 3, "C", "CAT")),  # insertion in an AT repeat moves to its start
        ("GGCAAAAAGG", 6, "A", "", ("c", 3, "CA", "C")),  # deletion in a homopolymer moves to its start
        ("GGCATGCAGG", 5, "GC", "", ("c", 5, "TGC", "T")),  # nothing to shift
    ],
)
def test_left_align(tmp_path, genome, at0, deleted, inserted, expected):
    path = tmp_path / "g.fa"
    path.write_text(f">c\n{genome}\n")
    pysam.faidx(str(path))
    with pysam.FastaFile(str(path)) as fasta:
        assert left_align(fasta, "c", at0, deleted, inserted) == expected


def test_polish_insertion_corrects_a_miscalled_base(tmp_path, reference):
    """An insertion proposed with one wrong base (one read's sequencing error) is corrected from all reads."""
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, 3, 3))
    anchor = seq[INS_AFTER - 1]
    wrong = INSERTED[:5] + ("A" if INSERTED[5] != "A" else "C") + INSERTED[6:]
    with pysam.AlignmentFile(bam) as handle, pysam.FastaFile(str(fasta_path)) as fasta:
        polished = polish_insertion(handle, fasta, "chr2", INS_AFTER, anchor, anchor + wrong, 20)
        assert polished[1:] == left_align_ins(seq, INS_AFTER, INSERTED)
        # the right sequence stays as it is
        right = ("chr2", *left_align_ins(seq, INS_AFTER, INSERTED))
        assert polish_insertion(handle, fasta, *right, 20) == right


def test_same_event_written_twice_keeps_one_record(tmp_path, reference):
    """bcftools' second copy of an insertion (3 bp away, one base changed) explains no read alone: dropped."""
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, 4, 0))
    pos, ref, alt = left_align_ins(seq, INS_AFTER, INSERTED)
    shifted_at = INS_AFTER + 3  # the same inserted bases 3 bp further, one of them changed
    copy = seq[INS_AFTER:shifted_at] + INSERTED[:-3]
    copy = copy[:-1] + ("A" if copy[-1] != "A" else "C")
    hom = ((1, 1), 16, (0, 16), (80, 30, 0))
    vcf_in = _bcftools_vcf(
        tmp_path / "in.vcf",
        [(pos, ref, alt, *hom), (shifted_at, seq[shifted_at - 1], seq[shifted_at - 1] + copy, *hom)],
    )
    counts, out_vcf = _apply(tmp_path, fasta_path, vcf_in, bam)
    assert counts["same_event_dropped"] == 1 and counts["records"] == 1
    with pysam.VariantFile(str(out_vcf)) as handle:
        assert [(r.pos, r.ref, r.alts[0]) for r in handle] == [(pos, ref, alt)]


def test_indel_without_read_support_is_filtered(tmp_path, reference):
    """A called indel no read supports after realignment keeps bcftools' genotype and gets NoAltSupport."""
    fasta_path, seq = reference
    bam = _bam(tmp_path / "x.bam", _reads(seq, 0, 5))
    anchor = seq[INS_AFTER - 1]
    vcf_in = _bcftools_vcf(
        tmp_path / "in.vcf", [(INS_AFTER, anchor, anchor + INSERTED, (0, 1), 15, (10, 5), (80, 0, 30))]
    )
    counts, out_vcf = _apply(tmp_path, fasta_path, vcf_in, bam)
    assert counts["pass"] == 0 and counts["regenotyped"] == 0
    with pysam.VariantFile(str(out_vcf)) as handle:
        rec = next(iter(handle))
        assert "NoAltSupport" in rec.filter and rec.samples["S"]["GT"] == (0, 1)
        assert rec.samples["S"]["RAD"] == (15, 0)


def test_deep_data_is_downsampled_reproducibly(tmp_path, reference, monkeypatch):
    """Above MAX_READS reads a fixed subset (by read name, mates together) is realigned; the genotype holds."""
    full = _support(tmp_path, reference, alt_copies=20, ref_copies=20)
    monkeypatch.setattr(realign, "MAX_READS", 30)
    first = _support(tmp_path, reference, alt_copies=20, ref_copies=20)
    again = _support(tmp_path, reference, alt_copies=20, ref_copies=20)
    assert first == again
    assert first.informative < full.informative and first.reads <= 60
    assert first.genotype == full.genotype == (0, 1)
