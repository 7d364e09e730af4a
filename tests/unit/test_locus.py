"""The locus model: one reader of resources/<build>/ into typed records, one interval type, one merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from dira_genotyper.errors import InputError
from dira_genotyper.locus import Interval, Locus, merge, read_bed

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


@pytest.mark.parametrize("build", ["GRCh38", "GRCh37", "SYNTH"])
def test_every_build_loads_with_its_transcript_of_record(build):
    locus = Locus.load(RESOURCES / build)
    assert locus.build == build and locus.target == "IL1RN"
    gene = locus.gene("IL1RN")
    assert [e.number for e in gene.exons] == [1, 2, 3, 4]
    assert sum(iv.length for iv in gene.cds) == 534  # 177 codons + stop (FACTS.md)
    assert all(any(e.start <= iv.start and iv.end <= e.end for e in gene.exons) for iv in gene.cds)
    assert locus.controls and locus.windows and locus.targets


@pytest.mark.parametrize(
    ("build", "accession"), [("GRCh38", "NC_000002.12"), ("GRCh37", "NC_000002.11"), ("SYNTH", "chr2")]
)
def test_genomic_names_use_the_refseq_chromosome(build, accession):
    """HGVS g. names start with the versioned RefSeq chromosome of the build, not `chr2:`; the synthetic build
    keeps its contig name."""
    assert Locus.load(RESOURCES / build).genomic_accession == accession


def test_grch38_coordinates_match_facts():
    gene = Locus.load(RESOURCES / "GRCh38").gene("IL1RN")
    assert (gene.start, gene.end, gene.strand) == (113_127_598, 113_134_014, "+")
    assert [(iv.start, iv.end) for iv in gene.cds] == [
        (113_127_625, 113_127_740), (113_129_576, 113_129_664), (113_131_045, 113_131_157), (113_132_656, 113_132_871)
    ]  # fmt: skip


def test_grch37_is_grch38_plus_offset():
    a, b = Locus.load(RESOURCES / "GRCh38").gene("IL1RN"), Locus.load(RESOURCES / "GRCh37").gene("IL1RN")
    assert [iv.start - jv.start for iv, jv in zip(b.cds, a.cds)] == [757_577] * 4


def test_interval_and_merge():
    iv = Interval("chr2", 11, 20)
    assert (iv.start0, iv.length, iv.bed()) == (10, 10, ("chr2", 10, 20))
    assert iv.overlaps("chr2", 20, 30) and not iv.overlaps("chr2", 21, 30) and not iv.overlaps("chr1", 11, 20)
    merged = merge(
        [Interval("chr2", 30, 40), Interval("chr2", 1, 10), Interval("chr2", 11, 15), Interval("chr1", 5, 6)]
    )
    assert [(m.chrom, m.start, m.end) for m in merged] == [("chr1", 5, 6), ("chr2", 1, 15), ("chr2", 30, 40)]
    assert len(merge([Interval("c", 1, 10), Interval("c", 15, 20)], gap=4)) == 1


def test_bed_reader_is_half_open_and_strict(tmp_path):
    bed = tmp_path / "x.bed"
    bed.write_text("track name=x\n# comment\nchr2\t0\t10\tfirst\nchr2\t20\t25\n")
    assert read_bed(bed) == [Interval("chr2", 1, 10, "first"), Interval("chr2", 21, 25)]
    bed.write_text("chr2\tzero\t10\n")
    with pytest.raises(InputError, match="line 1"):
        read_bed(bed)


def test_missing_resource_file_says_how_to_fix(tmp_path):
    (tmp_path / "build.json").write_text("{}")
    with pytest.raises(InputError, match="build-resources"):
        Locus.load(tmp_path)
