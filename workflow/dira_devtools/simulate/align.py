"""Alignment of simulated reads: ``bwa mem`` -> sort -> index (optionally CRAM), deterministic for any
thread count.

The ``bwa`` executable is found by production's :func:`dira_genotyper.alignment.locus_bam.require_bwa` (same error and
install hint); it runs as ``bwa`` (argv[0]) so the @PG command line in the BAM header stays as before. The
alignment is deliberately not production's :func:`~dira_genotyper.alignment.locus_bam.align_fastq`: the simulated
BAM/CRAM stands for a user's upstream alignment (no fixmate/markdup, no LB tag), which the workflow then has
to take as input; and the index is rebuilt when older than the reference (production only checks that the
files exist).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pysam

from dira_genotyper.alignment.locus_bam import require_bwa

_BWA_SUFFIXES = (".amb", ".ann", ".bwt", ".pac", ".sa")


def bwa_index(ref: str | Path) -> None:
    """``bwa index`` the reference unless its index files exist and are newer than it."""
    ref = Path(ref)
    mtime = ref.stat().st_mtime
    paths = [Path(str(ref) + suffix) for suffix in _BWA_SUFFIXES]
    if all(p.exists() and p.stat().st_mtime >= mtime for p in paths):
        return
    proc = subprocess.run(["bwa", "index", str(ref)], executable=require_bwa(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bwa index {ref} failed:\n{proc.stderr[-2000:]}")


def align_to_bam(
    ref: str | Path,
    fq1: str | Path,
    fq2: str | Path,
    out_bam: str | Path,
    sample: str,
    threads: int = 2,
    cram: str | Path | None = None,
    keep_bam: bool = True,
) -> Path:
    """Align with ``bwa mem -K 10000000`` (deterministic for any thread count), sort and index with pysam.

    With ``cram``, also write a CRAM (reference ``ref``) and its .crai; ``keep_bam=False`` then removes the
    BAM. Returns the BAM, or the CRAM when the BAM is not kept.
    """
    ref, out_bam = Path(ref), Path(out_bam)
    bwa_index(ref)
    out_bam.parent.mkdir(parents=True, exist_ok=True)
    sam = out_bam.with_name(out_bam.name + ".unsorted.sam")
    rg = f"@RG\\tID:{sample}\\tSM:{sample}\\tPL:ILLUMINA"
    cmd = ["bwa", "mem", "-K", "10000000", "-t", str(threads), "-R", rg, str(ref), str(fq1), str(fq2)]
    with open(sam, "wb") as handle:
        proc = subprocess.run(cmd, executable=require_bwa(), stdout=handle, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sam.unlink(missing_ok=True)
        raise RuntimeError(f"bwa mem failed for {sample}:\n{proc.stderr.decode()[-2000:]}")
    try:
        pysam.sort(
            "-@",
            str(threads),
            "-m",
            "512M",
            "--no-PG",
            "-T",
            str(out_bam) + ".sorttmp",
            "-o",
            str(out_bam),
            str(sam),
        )
    finally:
        sam.unlink(missing_ok=True)
    pysam.index(str(out_bam))
    if cram is None:
        return out_bam
    cram = Path(cram)
    pysam.view("-C", "-T", str(ref), "--no-PG", "-@", str(threads), "-o", str(cram), str(out_bam), catch_stdout=False)
    pysam.index(str(cram))
    if keep_bam:
        return out_bam
    out_bam.unlink()
    Path(str(out_bam) + ".bai").unlink(missing_ok=True)
    return cram
