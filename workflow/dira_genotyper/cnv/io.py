"""TSV, bedGraph, VCF and JSON files of the CNV caller (1-based inclusive coordinates)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pysam

from .. import breakpoints as bp
from ..errors import InputError
from .bins import BIN_COLUMNS, COUNT_COLUMNS, OPTIONAL_BIN_COLUMNS, OPTIONAL_COUNT_COLUMNS, _present
from .params import _round
from .resources import _overlap_names, load_resources
from .result import CnvResult


def write_counts_tsv(counts: pd.DataFrame, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = COUNT_COLUMNS + _present(counts, OPTIONAL_COUNT_COLUMNS)
    counts[columns].to_csv(path, sep="\t", index=False, na_rep="NA", float_format="%.4f")
    return path


def read_counts_tsv(path: str | os.PathLike) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t", dtype={"chrom": str, "kind": str, "name": str}, na_values=["NA"], comment="#")
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read bin counts {path}: {exc}") from exc
    missing = [c for c in COUNT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"bin counts {path} lack columns {missing}: write them with `dira-genotyper cnv-count`")
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


def write_segments_vcf(
    result: CnvResult,
    path: str | os.PathLike,
    sample: str | None = None,
    contigs: list[tuple[str, int]] | None = None,
    reference_fasta: str | os.PathLike | None = None,
) -> Path:
    """Deletions as SVTYPE=DEL records, bgzipped and tabix-indexed; `path` should end in .vcf.gz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sample = sample or result.sample or "SAMPLE"
    contigs = contigs or []
    known = {c for c, _ in contigs}
    lines = ["##fileformat=VCFv4.2", "##source=dira-genotyper cnv"]
    if reference_fasta:
        lines.append(f"##reference={Path(reference_fasta).name}")
    lines += [f"##contig=<ID={c},length={n}>" for c, n in contigs]
    lines += [f"##contig=<ID={c}>" for c in sorted({d.chrom for d in result.deletions} - known)]
    lines += [
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
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + sample,
    ]
    order = {c: i for i, (c, _) in enumerate(contigs)}
    fasta = pysam.FastaFile(str(reference_fasta)) if reference_fasta else None
    for n, d in enumerate(sorted(result.deletions, key=lambda d: (order.get(d.chrom, 10**6), d.chrom, d.start)), 1):
        pos = max(1, d.start - 1)
        ref = "N"
        if fasta is not None and d.chrom in fasta.references:
            ref = fasta.fetch(d.chrom, pos - 1, pos).upper() or "N"
        info = [
            "SVTYPE=DEL",
            f"END={d.end}",
            f"SVLEN={-d.size}",
            f"SR={d.split_reads}",
            f"PE={d.discordant_pairs}",
        ]
        if not d.precise:
            info.insert(3, "IMPRECISE")
        if d.genes:
            info.append("GENES=" + ",".join(d.genes))
        if d.il1rn_exons:
            info.append("EXONS=" + ",".join(str(e) for e in d.il1rn_exons))
        gt = "1/1" if d.copy_number == 0 else "0/1"
        lines.append(
            "\t".join(
                [
                    d.chrom,
                    str(pos),
                    f"cnv_del_{n}",
                    ref,
                    "<DEL>",
                    f"{d.quality:.1f}",
                    "PASS",
                    ";".join(info),
                    "GT:CN:CNQ",
                    f"{gt}:{d.copy_number}:{d.quality:.1f}",
                ]
            )
        )
    if fasta is not None:
        fasta.close()
    plain = path.with_suffix("") if path.suffix == ".gz" else path
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return Path(str(plain) + ".gz")


def write_json(result: CnvResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=2, sort_keys=False) + "\n")
    return path
