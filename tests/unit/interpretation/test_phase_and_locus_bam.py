"""Read-backed phase (it drives a clinical decision: two LoF in cis is a carrier) and locus extraction."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from dira_genotyper.alignment.locus_bam import extract_locus, merged_regions
from dira_genotyper.interpretation.gene_state import GeneModel
from dira_genotyper.interpretation.phase import family_check, phase_from_reads

LENGTH = 5000
FIRST, SECOND = 1200, 1320  # 1-based positions of two SNVs 120 bp apart (read pairs cover both)


HOMOPOLYMER = 1321  # 1-based first base of an A6 run; a 1-bp deletion there is written at its anchor, HOMOPOLYMER - 1


def _reference(tmp_path: Path) -> tuple[Path, str]:
    rng = random.Random(7)
    seq = "".join(rng.choice("ACGT") for _ in range(LENGTH))
    seq = seq[: HOMOPOLYMER - 2] + "G" + "A" * 6 + "C" + seq[HOMOPOLYMER + 6 :]
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr2\n" + "\n".join(seq[i : i + 60] for i in range(0, LENGTH, 60)) + "\n")
    pysam.faidx(str(fasta))
    return fasta, seq


def _alt(base: str) -> str:
    return {"A": "C", "C": "G", "G": "T", "T": "A"}[base]


def _bam(tmp_path: Path, seq: str, haplotypes: list[tuple[bool, bool]], name: str = "s.bam") -> Path:
    """Read pairs over both SNVs; each pair is drawn from one haplotype (carries FIRST alt?, SECOND alt?)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": LENGTH}],
              "RG": [{"ID": "rg", "SM": "S"}]}  # fmt: skip
    path = tmp_path / name
    unsorted = tmp_path / f"{name}.unsorted.bam"
    rng = random.Random(11)
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(40):
            first_alt, second_alt = haplotypes[i % len(haplotypes)]
            hap = list(seq)
            if first_alt:
                hap[FIRST - 1] = _alt(seq[FIRST - 1])
            if second_alt:
                hap[SECOND - 1] = _alt(seq[SECOND - 1])
            start1 = rng.randint(FIRST - 140, FIRST - 10)  # mate 1 covers FIRST
            start2 = rng.randint(SECOND - 140, SECOND - 10)  # mate 2 covers SECOND
            for mate, start in ((1, start1), (2, start2)):
                read = pysam.AlignedSegment()
                read.query_name = f"pair{i}"
                read.query_sequence = "".join(hap[start : start + 150])
                read.flag = 0x1 | 0x2 | (0x40 if mate == 1 else 0x80) | (0x20 if mate == 1 else 0x10)
                read.reference_id = 0
                read.reference_start = start
                read.mapping_quality = 60
                read.cigartuples = [(0, 150)]
                read.next_reference_id = 0
                read.next_reference_start = start2 if mate == 1 else start1
                read.template_length = (start2 + 150 - start1) * (1 if mate == 1 else -1)
                read.query_qualities = pysam.qualitystring_to_array("I" * 150)
                read.set_tag("RG", "rg")
                out.write(read)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


def _allele(seq: str, pos: int) -> dict:
    return {"kind": "snv", "genomic": {"chrom": "chr2", "pos": pos, "end": pos, "ref": seq[pos - 1],
                                       "alt": _alt(seq[pos - 1])}}  # fmt: skip


@pytest.mark.parametrize(
    ("haplotypes", "expected"),
    [
        ([(True, False), (False, True)], "in_trans"),  # each pair carries one of the two
        ([(True, True), (False, False)], "in_cis"),  # both on one haplotype, the other reference
        ([(True, True), (True, False), (False, True), (False, False)], "unknown"),  # pairs disagree
    ],
)
def test_phase_from_reads(tmp_path, haplotypes, expected):
    _fasta, seq = _reference(tmp_path)
    bam = _bam(tmp_path, seq, haplotypes)
    status, detail = phase_from_reads(str(bam), _allele(seq, FIRST), _allele(seq, SECOND))
    assert status == expected, detail


def test_phase_needs_enough_pairs_and_close_variants(tmp_path):
    _fasta, seq = _reference(tmp_path)
    bam = _bam(tmp_path, seq, [(True, False), (False, True)])
    status, detail = phase_from_reads(str(bam), _allele(seq, FIRST), _allele(seq, 4000))
    assert status == "unknown" and "too far apart" in detail
    status, _ = phase_from_reads(str(bam), _allele(seq, FIRST), _allele(seq, SECOND), min_pairs=1000)
    assert status == "unknown"


def test_extract_locus_keeps_only_the_regions(tmp_path):
    fasta, seq = _reference(tmp_path)
    bam = _bam(tmp_path, seq, [(True, False)])
    bed = tmp_path / "regions.bed"
    bed.write_text("chr2\t1000\t1100\tone\nchr2\t1050\t1200\ttwo\nchr2\t4000\t4100\tthree\n")
    assert merged_regions([str(bed)]) == [("chr2", 1000, 1200), ("chr2", 4000, 4100)]
    out = tmp_path / "locus.bam"
    counts = extract_locus(str(bam), str(fasta), [str(bed)], str(out), str(tmp_path / "fallback.bai"), "chr2")
    with pysam.AlignmentFile(str(out)) as handle:
        reads = list(handle)
        assert handle.has_index()
    assert reads and all(r.reference_start < 1200 and r.reference_end > 1000 for r in reads)
    assert counts["reads"] == len(reads)
    with pysam.AlignmentFile(str(bam)) as whole:
        assert len(reads) < whole.mapped  # reads over the second SNV only were left out


def test_family_check_names_the_gene_it_is_given():
    """A deletion of the differential gene is named after that gene, not the headline one (#11)."""
    deletion = {
        "kind": "deletion",
        "consequence": "transcript_ablation",
        "zygosity": "homozygous",
        "genomic": {"chrom": "chr2", "pos": 113_000_000, "end": 113_010_000},
    }
    two_copies = {
        "status": "called",
        "deletions": [],
        "genes": {"IL36RN": {"copy_number": 2}},
        "exons": [{"gene": "IL36RN", "exon": 2, "copy_number": 2}],
    }
    parents = {"father": {"variants": [], "cnv": two_copies}}
    model = GeneModel("IL36RN", "chr2", "+", ((2, 113_000_100, 113_000_200),), ((2, 113_000_100, 113_000_200),))
    info = family_check({"sample": "c", "father": "f"}, [deletion], parents, model)
    assert info["mendelian_consistent"] is False
    assert "whole-IL36RN deletion" in info["detail"] and "IL1RN" not in info["detail"]


def _deletion_bam(tmp_path: Path, seq: str, shift: int) -> Path:
    """Read pairs of a cis carrier: half from a haplotype with the FIRST SNV and a 1-bp deletion in the A6 run,
    aligned with the gap ``shift`` bases right of the left-aligned position (as some aligners place it), half
    from the reference haplotype."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": LENGTH}]}
    path, unsorted = tmp_path / "del.bam", tmp_path / "del.unsorted.bam"
    gap0 = HOMOPOLYMER - 1 + shift  # 0-based reference base the read's CIGAR deletes
    rng = random.Random(3)
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(30):
            carrier = i % 2 == 0
            start1, start2 = rng.randint(FIRST - 140, FIRST - 10), rng.randint(HOMOPOLYMER - 100, HOMOPOLYMER - 40)
            for mate, start in ((1, start1), (2, start2)):
                hap = list(seq)
                if carrier:
                    hap[FIRST - 1] = _alt(seq[FIRST - 1])
                read = pysam.AlignedSegment()
                read.query_name = f"pair{i}"
                if carrier and mate == 2:
                    read.query_sequence = "".join(hap[start:gap0] + hap[gap0 + 1 : start + 151])
                    read.cigartuples = [(0, gap0 - start), (2, 1), (0, start + 150 - gap0)]
                else:
                    read.query_sequence = "".join(hap[start : start + 150])
                    read.cigartuples = [(0, 150)]
                read.flag = 0x1 | 0x2 | (0x40 if mate == 1 else 0x80) | (0x20 if mate == 1 else 0x10)
                read.reference_id, read.reference_start, read.mapping_quality = 0, start, 60
                read.next_reference_id, read.next_reference_start = 0, start2 if mate == 1 else start1
                read.query_qualities = pysam.qualitystring_to_array("I" * 150)
                out.write(read)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


@pytest.mark.parametrize("shift", [0, 1, 3])
def test_read_phase_of_a_deletion_placed_anywhere_in_its_homopolymer(tmp_path, shift):
    """Issue #19: the same 1-bp deletion placed one base (or more) right of its left-aligned position in an A6 run
    read as "reference", and a cis carrier came out "in trans, N of N read pairs". Reads are judged by their fit to
    the two haplotypes (the FASTA the reads were aligned to)."""
    fasta, seq = _reference(tmp_path)
    bam = _deletion_bam(tmp_path, seq, shift)
    anchor = HOMOPOLYMER - 1
    deletion = {"kind": "indel", "genomic": {"chrom": "chr2", "pos": anchor, "end": anchor + 1, "ref": "GA",
                                             "alt": "G"}}  # fmt: skip
    assert seq[anchor - 1 : anchor + 7] == "GAAAAAAC"
    status, detail = phase_from_reads(str(bam), _allele(seq, FIRST), deletion, reference=str(fasta))
    assert status == "in_cis", detail
    assert detail == "15 of 15 read pairs carry both variants together"
    status, detail = phase_from_reads(str(bam), _allele(seq, FIRST), deletion)  # no FASTA: indels are not judged
    assert status == "unknown", detail
