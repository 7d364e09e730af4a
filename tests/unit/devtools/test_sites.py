"""The shipped sample-check site lists (resources/<build>/sample_sites.tsv.gz)."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from dira_devtools.resources.sites import AMBIGUOUS, PAR, PRIMARY
from dira_genotyper.samplecheck.sites import SITES_FILE, read_sites

ROOT = Path(__file__).resolve().parents[3]


def rows(build):
    with gzip.open(ROOT / "resources" / build / SITES_FILE, "rt") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]


@pytest.mark.parametrize("build", ["GRCh38", "GRCh37"])
def test_site_list_is_well_behaved_and_spread(build):
    table = rows(build)
    sites = read_sites(ROOT / "resources" / build / SITES_FILE)
    assert len(sites) == len(table) and 30_000 <= len(sites) <= 40_000
    kinds = Counter(kind for *_, kind in sites)
    assert kinds["X"] >= 500 and kinds["Y"] >= 30  # enough for the sex check
    per_chrom = Counter(c for c, *_ in sites)
    assert set(per_chrom) == set(PRIMARY) and min(per_chrom[f"chr{i}"] for i in range(1, 23)) >= 300
    for chrom, pos, ref, alt, kind in sites:
        assert len(ref) == len(alt) == 1 and (ref, alt) not in AMBIGUOUS
        assert all(not (s <= pos <= e) for s, e in PAR[build].get(chrom, []))
        assert kind == {"chrX": "X", "chrY": "Y"}.get(chrom, "A")
    order = [(PRIMARY.index(c), p) for c, p, *_ in sites]
    assert order == sorted(order)
    assert sum(int(r[6]) for r in table) >= 7_000  # the exonic ones (exomes and panels read those)


def test_both_builds_share_their_sites():
    hg38 = {r[4] for r in rows("GRCh38")}
    hg19 = {r[4] for r in rows("GRCh37")}
    assert hg19 <= hg38 and len(hg19) >= 0.9 * len(hg38)
