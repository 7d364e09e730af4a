"""The sample-check sites (``resources/<build>/sample_sites.tsv.gz``, made by ``dira_devtools.resources.sites``)
and the read counts of one sample at them, read through the BAM/CRAM index by ``bcftools mpileup`` (in C, with
the caller's read filter): the sample's ``{sample}.sites.tsv``.
"""

from __future__ import annotations

import gzip
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from dira_genotyper.calling.caller import mpileup
from dira_genotyper.calling.read_filter import ReadFilter
from dira_genotyper.errors import InputError

SITES_FILE = "sample_sites.tsv.gz"
COUNT_COLUMNS = ("chrom", "pos", "ref", "alt", "kind", "ref_n", "alt_n")


@dataclass
class SiteCounts:
    """Read counts at the sites of one sample (numpy columns, one row per site, in the site file's order)."""

    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    kind: np.ndarray  # "A" autosome, "X" / "Y" outside the pseudo-autosomal regions
    ref_n: np.ndarray
    alt_n: np.ndarray

    @property
    def depth(self) -> np.ndarray:
        return self.ref_n + self.alt_n

    def write(self, path: str | Path) -> None:
        path = Path(path)
        with path.open("w") as out:
            out.write("\t".join(COUNT_COLUMNS) + "\n")
            for row in zip(*(getattr(self, c) for c in COUNT_COLUMNS), strict=True):
                out.write("\t".join(str(v) for v in row) + "\n")

    @classmethod
    def empty(cls) -> SiteCounts:
        return cls(*(np.array([], dtype=int if c in ("pos", "ref_n", "alt_n") else str) for c in COUNT_COLUMNS))

    @classmethod
    def read(cls, path: str | Path) -> SiteCounts:
        lines = Path(path).read_text().splitlines()
        if not lines or lines[0].split("\t") != list(COUNT_COLUMNS):
            raise InputError(f"{path}: not a site-count table (header {COUNT_COLUMNS}); remove it and rerun")
        rows = [line.split("\t") for line in lines[1:]]
        if any(len(row) != len(COUNT_COLUMNS) for row in rows):
            raise InputError(f"{path}: truncated site-count table; remove it and rerun")
        if not rows:
            return cls.empty()
        cols = list(zip(*rows, strict=True))
        arr = {name: np.array(values) for name, values in zip(COUNT_COLUMNS, cols, strict=True)}
        for name in ("pos", "ref_n", "alt_n"):
            arr[name] = arr[name].astype(int)
        return cls(**arr)


def read_sites(path: str | Path) -> list[tuple[str, int, str, str, str]]:
    """(chrom, pos, ref, alt, kind) of every site in the shipped table."""
    rows = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            chrom, pos, ref, alt, _rsid, kind, _exonic = line.rstrip("\n").split("\t")
            rows.append((chrom, int(pos), ref, alt, kind))
    return rows


def _contig_names(sites_chroms: set[str], header_contigs: set[str]) -> dict[str, str]:
    """The BAM's name for each site contig: as written, or without/with the ``chr`` prefix."""
    names = {}
    for chrom in sites_chroms:
        for candidate in (chrom, chrom.removeprefix("chr"), f"chr{chrom}"):
            if candidate in header_contigs:
                names[chrom] = candidate
                break
    return names


SPAN_GAP = 2000  # bp: sites closer than this are read in one pass (a seek costs more than reading past the gap)


def site_spans(sites: list[tuple], names: dict[str, str], gap: int = SPAN_GAP) -> list[tuple[str, int, int]]:
    """The sites' positions as index regions: neighbours less than `gap` apart joined into one span (1-based,
    inclusive, on the alignment's contig names). bcftools mpileup seeks once per region: one region per site
    made the read counts 12x slower on a locus BAM with a site every ~400 bp (whole genomes: one per ~86 kb)."""
    spans: list[list] = []
    for chrom, pos in sorted({(names[c], int(p)) for c, p, *_ in sites if c in names}):
        if spans and spans[-1][0] == chrom and pos - spans[-1][2] < gap:
            spans[-1][2] = pos
        else:
            spans.append([chrom, pos, pos])
    return [(c, s, e) for c, s, e in spans]


def count_sites(
    alignment: str, reference: str, sites_path: str | Path, read_filter: ReadFilter | None = None
) -> SiteCounts:
    """Reference and alternate read counts at every site (0/0 where the BAM has no such contig or no reads)."""
    read_filter = read_filter or ReadFilter()
    sites = read_sites(sites_path)
    with pysam.AlignmentFile(alignment, reference_filename=reference) as aln:
        contigs = set(aln.references)
    names = _contig_names({s[0] for s in sites}, contigs)
    counts: dict[tuple[str, int], tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = Path(tmp) / "sites.tsv"
        targets.write_text("".join(f"{names[c]}\t{p}\n" for c, p, *_ in sites if c in names))
        regions = Path(tmp) / "spans.tsv"
        regions.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in site_spans(sites, names)))
        vcf = Path(tmp) / "sites.vcf"
        if targets.stat().st_size:
            extra = ("-T", str(targets), "-I", "-a", "FORMAT/AD", "-Ov")
            mpileup(reference, str(regions), read_filter, alignment, str(vcf), *extra)
            back = {v: k for k, v in names.items()}
            with pysam.VariantFile(str(vcf)) as records:
                for rec in records:
                    ad = rec.samples[0].get("AD") or ()
                    alleles = {
                        a: (ad[i] if i < len(ad) and ad[i] is not None else 0) for i, a in enumerate(rec.alleles)
                    }
                    counts[(back.get(rec.chrom, rec.chrom), rec.pos)] = (rec.ref, alleles)
    columns: dict[str, list] = {c: [] for c in COUNT_COLUMNS}
    for chrom, pos, ref, alt, kind in sites:
        seen_ref, alleles = counts.get((chrom, pos), (ref, {}))
        ref_n = alleles.get(ref, 0) if seen_ref.upper() == ref else 0
        for name, value in zip(COUNT_COLUMNS, (chrom, pos, ref, alt, kind, ref_n, alleles.get(alt, 0)), strict=True):
            columns[name].append(value)
    return SiteCounts(**{name: np.array(values) for name, values in columns.items()})
