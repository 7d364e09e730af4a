"""TSV, bedGraph, VCF and JSON files of the CNV caller (1-based inclusive coordinates)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pysam

from dira_genotyper.cnv import breakpoints as bp
from dira_genotyper.cnv.bins import BIN_COLUMNS, COUNT_COLUMNS, OPTIONAL_BIN_COLUMNS, OPTIONAL_COUNT_COLUMNS, _present
from dira_genotyper.cnv.params import _round
from dira_genotyper.cnv.resources import _overlap_names, load_resources
from dira_genotyper.cnv.result import CnvResult
from dira_genotyper.errors import InputError


def write_counts_tsv(counts: pd.DataFrame, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = COUNT_COLUMNS + _present(counts, OPTIONAL_COUNT_COLUMNS)
    text = counts[columns].to_csv(sep="\t", index=False, na_rep="NA", float_format="%.4f")
    path.write_text(f"{text}{COUNTS_TRAILER.format(n=len(counts))}\n")
    return path


#: The last line of a counts table: a table cut short (a full disk, a killed job) lacks it or has fewer rows.
COUNTS_TRAILER = "# end of bin counts: {n} rows"


def _check_counts_complete(path: str | os.PathLike, rows: int) -> None:
    """A truncated counts table would be trusted (copy number null, ``cnv_status: called``): its trailer must
    be its last line and name as many rows as were read."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(handle.tell() - 200, 0))
        last = handle.read().decode(errors="replace").rstrip("\n").rsplit("\n", 1)[-1]
    if last != COUNTS_TRAILER.format(n=rows):
        raise InputError(
            f"bin counts {path} is truncated or damaged (its last line is not {COUNTS_TRAILER.format(n=rows)!r}); "
            f"it is an intermediate that Snakemake does not remake while it exists: remove it (`rm {path}`) and "
            "rerun the workflow"
        )


def read_counts_tsv(path: str | os.PathLike) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t", dtype={"chrom": str, "kind": str, "name": str}, na_values=["NA"], comment="#")
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read bin counts {path}: {exc}") from exc
    missing = [c for c in COUNT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"bin counts {path} lack columns {missing}: write them with `dira-genotyper cnv-count`")
    _check_counts_complete(path, len(df))
    return df


def write_bins_tsv(result: CnvResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = BIN_COLUMNS + _present(result.bins, OPTIONAL_BIN_COLUMNS)
    result.bins[columns].to_csv(path, sep="\t", index=False, na_rep="NA", float_format="%.4f")
    return path


def write_bins_bedgraph(result: CnvResult, path: str | os.PathLike, value: str = "ratio") -> Path:
    """bedGraph (0-based) of one bin column, by default the depth ratio (1.0 = two copies)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = result.sample or "sample"
    with open(path, "w") as out:
        out.write(f'track type=bedGraph name="{name} {value}" description="dira-genotyper CNV {value}"\n')
        for row in result.bins.itertuples(index=False):
            v = getattr(row, value)
            if v is None or pd.isna(v):
                continue
            out.write(f"{row.chrom}\t{int(row.start) - 1}\t{int(row.end)}\t{float(v):.4f}\n")
    return path


def write_segments_tsv(
    result: CnvResult, path: str | os.PathLike, resources_dir: str | os.PathLike | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    res = load_resources(resources_dir) if resources_dir else None
    rows = []
    for s in result.segments:
        genes = _overlap_names(res, s.chrom, s.start, s.end)[0] if res else []
        rows.append(
            {
                "chrom": s.chrom,
                "start": s.start,
                "end": s.end,
                "n_bins": s.n_bins,
                "copy_number": s.copy_number,
                "quality": round(s.quality, 1),
                "ratio": _round(s.ratio, 4),
                "genes": ",".join(genes) or ".",
            }
        )
    cols = ["chrom", "start", "end", "n_bins", "copy_number", "quality", "ratio", "genes"]
    pd.DataFrame(rows, columns=cols).to_csv(path, sep="\t", index=False, na_rep="NA")
    return path


def contigs_from(
    bam_path: str | os.PathLike | None = None, reference_fasta: str | os.PathLike | None = None
) -> list[tuple[str, int]]:
    """Contig names and lengths from an alignment header, else from the FASTA index."""
    if bam_path:
        with bp.open_alignments(str(bam_path), str(reference_fasta) if reference_fasta else None) as bam:
            return list(zip(bam.references, bam.lengths, strict=True))
    if reference_fasta:
        with pysam.FastaFile(str(reference_fasta)) as fa:
            return list(zip(fa.references, fa.lengths, strict=True))
    return []


_VCF_META = [
    '##ALT=<ID=DEL,Description="Deletion">',
    '##FILTER=<ID=LowQual,Description="Copy-number quality below the minimum">',
    '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="Last deleted base">',
    '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length of the deletion (negative)">',
    '##INFO=<ID=IMPRECISE,Number=0,Type=Flag,Description="Ends from read depth, not from split reads">',
    '##INFO=<ID=SR,Number=1,Type=Integer,Description="Split reads supporting the junction">',
    '##INFO=<ID=PE,Number=1,Type=Integer,Description="Discordant read pairs spanning the junction">',
    '##INFO=<ID=GENES,Number=.,Type=String,Description="Genes overlapped">',
    '##INFO=<ID=EXONS,Number=.,Type=Integer,Description="Exons of the target gene overlapped">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">',
    '##FORMAT=<ID=CNQ,Number=1,Type=Float,Description="Phred-scaled copy-number quality">',
]


def write_segments_vcf(
    result: CnvResult,
    path: str | os.PathLike,
    sample: str | None = None,
    contigs: list[tuple[str, int]] | None = None,
    reference_fasta: str | os.PathLike | None = None,
) -> Path:
    """Deletions as SVTYPE=DEL records (pysam/htslib), bgzipped and tabix-indexed; `path` should end in .vcf.gz.

    QUAL and CNQ are the quality rounded to 0.1 (htslib prints them in its shortest form: 99 for 99.0).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = Path(str(path.with_suffix("") if path.suffix == ".gz" else path) + ".gz")
    sample = sample or result.sample or "SAMPLE"
    contigs = contigs or []
    known = {c for c, _ in contigs}
    header = pysam.VariantHeader()  # ##fileformat=VCFv4.2 (and FILTER PASS)
    header.add_line("##source=dira-genotyper cnv")
    if reference_fasta:
        header.add_line(f"##reference={Path(reference_fasta).name}")
    for c, n in contigs:
        header.contigs.add(c, length=n)
    for c in sorted({d.chrom for d in result.deletions} - known):
        header.contigs.add(c)
    for line in _VCF_META:
        header.add_line(line)
    header.add_sample(sample)
    order = {c: i for i, (c, _) in enumerate(contigs)}
    fasta = pysam.FastaFile(str(reference_fasta)) if reference_fasta else None
    with pysam.VariantFile(str(out), "wz", header=header) as vcf:
        deletions = sorted(result.deletions, key=lambda d: (order.get(d.chrom, 10**6), d.chrom, d.start))
        for n, d in enumerate(deletions, 1):
            pos = max(1, d.start - 1)
            ref = "N"
            if fasta is not None and d.chrom in fasta.references:
                ref = fasta.fetch(d.chrom, pos - 1, pos).upper() or "N"
            quality = round(d.quality, 1)
            rec = vcf.new_record(contig=d.chrom, start=pos - 1, id=f"cnv_del_{n}", qual=quality, filter="PASS")
            # INFO in the header's order (SVTYPE, END, ...): pysam writes END when the alleles are set, at the
            # end of the INFO so far, so SVTYPE goes first, then the stop, then the alleles.
            rec.info["SVTYPE"] = "DEL"
            rec.stop = d.end
            rec.alleles = (ref, "<DEL>")
            rec.info["SVLEN"] = -d.size
            if not d.precise:
                rec.info["IMPRECISE"] = True
            rec.info["SR"] = d.split_reads
            rec.info["PE"] = d.discordant_pairs
            if d.genes:
                rec.info["GENES"] = tuple(d.genes)
            if d.il1rn_exons:
                rec.info["EXONS"] = tuple(d.il1rn_exons)
            call = rec.samples[sample]
            call["GT"] = (1, 1) if d.copy_number == 0 else (0, 1)
            call["CN"] = d.copy_number
            call["CNQ"] = quality
            vcf.write(rec)
    if fasta is not None:
        fasta.close()
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out


def write_json(result: CnvResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=2, sort_keys=False) + "\n")
    return path
