"""Soft filters on calls: each reason is written when its threshold is crossed, and only then."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pysam
import pytest
import yaml

from dira_genotyper.calling.caller import CallingParams, filter_reasons


@pytest.fixture()
def header():
    h = pysam.VariantHeader()
    h.contigs.add("chr2", length=1000)
    h.add_line('##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">')
    for line in (
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="DP">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="GQ">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">',
        '##FORMAT=<ID=SP,Number=1,Type=Integer,Description="SP">',
    ):
        h.add_line(line)
    h.add_sample("S")
    return h


def record(header, alleles=("C", "T"), qual=100.0, dp=30, info_dp=None, gq=99, ad=(15, 15), gt=(0, 1), sp=0):
    rec = header.new_record(contig="chr2", start=99, alleles=alleles, qual=qual)
    if info_dp is not None:
        rec.info["DP"] = info_dp
    sample = rec.samples["S"]
    sample["GT"], sample["DP"], sample["GQ"], sample["AD"], sample["SP"] = gt, dp, gq, ad, sp
    return rec


def test_good_call_passes(header):
    assert filter_reasons(record(header), CallingParams(), []) == []


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"qual": 10.0}, "LowQual"),
        ({"dp": 5}, "LowDepth"),
        ({"gq": 5}, "LowGQ"),
        ({"ad": (27, 3)}, "AlleleBalance"),
        ({"ad": (10, 2)}, "LowAltReads"),
        ({"sp": 80}, "StrandBias"),
    ],
)
def test_each_filter(header, kwargs, reason):
    assert filter_reasons(record(header, **kwargs), CallingParams(), []) == [reason]


def test_uncallable_position_is_filtered(header):
    assert "Uncallable" in filter_reasons(record(header), CallingParams(), [("chr2", 90, 110)])
    assert "Uncallable" not in filter_reasons(record(header), CallingParams(), [("chr2", 200, 300)])


def test_indel_depth_uses_raw_depth(header):
    """FORMAT/DP of an indel drops ambiguous reads; the raw INFO/DP decides LowDepth, as callable does."""
    indel = record(header, alleles=("CAG", "C"), dp=9, info_dp=12, ad=(4, 5))
    assert "LowDepth" not in filter_reasons(indel, CallingParams(), [])
    snv = record(header, dp=9, info_dp=12, ad=(4, 5))
    assert "LowDepth" in filter_reasons(snv, CallingParams(), [])


def test_hom_call_with_few_alt_reads_is_low_alt_reads_not_allele_balance(header):
    assert filter_reasons(record(header, gt=(1, 1), ad=(0, 2)), CallingParams(), []) == ["LowAltReads"]


def test_schema_defaults_are_the_calling_defaults():
    """config.schema.yaml documents the defaults the workflow runs with; CallingParams() must agree."""
    schema = yaml.safe_load((Path(__file__).parents[3] / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["calling"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == dataclasses.asdict(CallingParams())
