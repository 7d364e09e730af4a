"""Read-backed phase (it drives a clinical decision: two LoF in cis is a carrier) and locus extraction."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from dira_genotyper.alignment.locus_bam import extract_locus, merged_regions
from dira_genotyper.interpretation.phase import family_check, phase_from_reads

LENGTH = 5000
FIRST, SECOND = 1200, 1320  # 1-based positions of two SNVs 120 bp apart (read pairs cover both)


def _reference(tmp_path: Path) -> tuple[Path, str]:
    rng = random.Random(7)
    seq = "".join(rng.choice("ACGT") for _ in range(LENGTH))
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
    parents = {"father": {"variants": [], "cnv": {"status": "called", "deletions": []}}}
    info = family_check({"sample": "c", "father": "f"}, [deletion], parents, "IL36RN")
    assert info["mendelian_consistent"] is False
    assert "whole-IL36RN deletion" in info["detail"] and "IL1RN" not in info["detail"]
