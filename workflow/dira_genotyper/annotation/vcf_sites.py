"""VCF records and one sample's call as the annotation reads them, with cyvcf2 (the fast reader; VCFs are
written with pysam)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_MISSING_INT = -2147483648  # htslib's missing / end-of-vector integer sentinels as cyvcf2 returns them
_END_OF_VECTOR = -2147483647


@dataclass(frozen=True)
class Site:
    """One VCF record as read by cyvcf2 (the fast reader; VCFs are written with pysam)."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    qual: float | None
    filters: tuple[str, ...]  # ("PASS",), (".",) when none was set, else the failed filters


@dataclass(frozen=True)
class Call:
    """One sample's genotype and FORMAT values at a site (None for missing values)."""

    alleles: tuple[int | None, ...]
    phased: bool
    values: dict[str, Any]


def _format_values(variant: Any, index: int, key: str) -> Any:
    """A FORMAT value of one sample from cyvcf2: a scalar, a tuple for Number=R/A/G, None when missing."""
    try:
        array = variant.format(key)
    except KeyError:
        return None
    if array is None:
        return None
    if array.dtype.kind in "SUO":
        text = array[index]
        text = text.decode() if isinstance(text, bytes) else str(text)
        return None if text in ("", ".") else text
    row = [x for x in array[index].tolist() if x != _END_OF_VECTOR]
    clean = [None if x == _MISSING_INT or (isinstance(x, float) and x != x) else x for x in row]
    if not clean:
        return None
    return tuple(clean) if len(clean) > 1 else clean[0]


def read_sites(vcf: Any, sample_index: int | None) -> Iterator[tuple[Site, Call | None]]:
    keys = [h["ID"] for h in vcf.header_iter() if h["HeaderType"] == "FORMAT"]
    for variant in vcf:
        site = Site(variant.CHROM, variant.POS, variant.REF, tuple(variant.ALT), variant.QUAL,
                     tuple(variant.FILTERS or (".",)))  # fmt: skip
        call = None
        if sample_index is not None:
            gt = variant.genotypes[sample_index] if variant.genotypes else []
            alleles = tuple(None if a < 0 else a for a in gt[:-1]) if gt else ()
            values = {k: _format_values(variant, sample_index, k) for k in keys if k != "GT"}
            call = Call(alleles, bool(gt[-1]) if gt else False, values)
        yield site, call


def genotype_string(call: Call | None) -> tuple[str | None, tuple]:
    if call is None or not call.alleles:
        return None, ()
    sep = "|" if call.phased else "/"
    return sep.join("." if a is None else str(a) for a in call.alleles), call.alleles


def format_value(call: Call | None, key: str) -> Any:
    return None if call is None else call.values.get(key)
