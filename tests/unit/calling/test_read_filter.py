"""ReadFilter: the alignment-level filter and the bcftools mpileup options that apply it."""

from __future__ import annotations

import pysam
import pytest

from dira_genotyper.calling.caller import CallingParams
from dira_genotyper.calling.read_filter import MPILEUP_SKIP_FLAGS, ReadFilter
from dira_genotyper.calling.realign import _usable_reads


def segment(flag: int = 0x1 | 0x2 | 0x40, mapq: int = 60) -> pysam.AlignedSegment:
    header = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "chr2", "LN": 1000}]})
    a = pysam.AlignedSegment(header)
    a.query_name, a.query_sequence, a.flag = "r", "ACGT" * 25, flag
    a.reference_id, a.reference_start, a.mapping_quality, a.cigarstring = 0, 100, mapq, "100M"
    a.query_qualities = pysam.qualitystring_to_array("I" * 100)
    return a


def test_default_is_mpileup_default():
    assert MPILEUP_SKIP_FLAGS == 0x4 | 0x100 | 0x200 | 0x400
    rf = ReadFilter()
    assert rf.mpileup_args() == ["-q", "20", "-Q", "20", "--skip-any-set", str(0x704), "-d", "10000"]
    assert ReadFilter(count_orphans=True).mpileup_args()[-1] == "-A"
    assert CallingParams(min_mapq=30, min_baseq=13).read_filter == ReadFilter(min_mapq=30, min_baseq=13)


def test_passes():
    rf = ReadFilter()
    assert rf.passes(segment())
    assert rf.passes(segment(flag=0))  # unpaired reads have no proper-pair flag to need
    assert rf.passes(segment(flag=0x1 | 0x2 | 0x40 | 0x800))  # supplementary: mpileup keeps it
    for flag in (0x4, 0x100, 0x200, 0x400):
        assert not rf.passes(segment(flag=0x1 | 0x2 | 0x40 | flag))
    assert not rf.passes(segment(mapq=19))
    assert not rf.passes(segment(flag=0x1 | 0x40))  # paired, not proper: an orphan / anomalous pair
    assert ReadFilter(count_orphans=True).passes(segment(flag=0x1 | 0x40))
    assert rf.base_passes(20) and not rf.base_passes(19)


def test_coerce():
    assert ReadFilter.coerce(30) == ReadFilter(min_mapq=30)
    rf = ReadFilter(min_mapq=5, count_orphans=True)
    assert ReadFilter.coerce(rf) is rf
    with pytest.raises(AttributeError):
        rf.min_mapq = 3  # frozen


def test_realign_reads_use_the_filter(tmp_path):
    """Indel realignment reads what the caller reads (no orphans, no low MAPQ), and no supplementary pieces."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": 1000}]}
    path = tmp_path / "r.bam"
    kinds = {
        "ok": (0x1 | 0x2 | 0x40, 60),
        "orphan": (0x1 | 0x40, 60),
        "mq0": (0x1 | 0x2 | 0x40, 0),
        "supp": (0x1 | 0x2 | 0x40 | 0x800, 60),
        "dup": (0x1 | 0x2 | 0x40 | 0x400, 60),
    }
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for name, (flag, mapq) in kinds.items():
            a = segment(flag, mapq)
            a.query_name = name
            out.write(a)
    pysam.index(str(path))
    with pysam.AlignmentFile(str(path)) as bam:
        assert [r.query_name for r in _usable_reads(bam, "chr2", 150, 160, ReadFilter())] == ["ok"]
        assert sorted(r.query_name for r in _usable_reads(bam, "chr2", 150, 160, ReadFilter(count_orphans=True))) == [
            "ok",
            "orphan",
        ]
        assert [r.query_name for r in _usable_reads(bam, "chr2", 150, 160, 20)] == ["ok"]
