"""Alignment (BWA-MEM) and extraction of the IL1RN locus + control regions into a small indexed BAM."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pysam

from dira_genotyper.errors import InputError
from dira_genotyper.inputs.sheet import contig_candidates
from dira_genotyper.locus import merge, read_bed

log = logging.getLogger(__name__)


def merged_regions(beds: list[str]) -> list[tuple[str, int, int]]:
    """The regions of BED files merged, as (chrom, start0, end) for region fetches."""
    return [iv.bed() for iv in merge(iv for bed in beds for iv in read_bed(bed))]


def bwa_version() -> str:
    exe = shutil.which("bwa")
    if exe is None:
        return "not installed"
    proc = subprocess.run([exe], capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def require_bwa() -> str:
    exe = shutil.which("bwa")
    if exe is None:
        raise InputError(
            "BWA is not installed but FASTQ samples need it: `sudo apt-get install -y bwa` (Debian/Ubuntu), or "
            "`conda install -c bioconda bwa=0.7.17`, or run with `--sdm conda`"
        )
    return exe


def bwa_index_prefix(reference: str) -> str | None:
    """The reference's BWA index prefix if all five index files exist beside it."""
    if all(os.path.exists(f"{reference}.{ext}") for ext in ("amb", "ann", "bwt", "pac", "sa")):
        return reference
    return None


def build_bwa_index(reference: str, prefix: str) -> None:
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([require_bwa(), "index", "-p", prefix, reference], check=True)


def remove_stale_temp(out_dir: Path, sample: str) -> None:
    """Temporary folders of an earlier alignment of this sample that was killed (SIGKILL leaves them)."""
    for stale in out_dir.glob(f".{sample}.align.*"):
        log.warning("removing %s left by an interrupted alignment", stale)
        shutil.rmtree(stale, ignore_errors=True)


_FIXMATE = "import pysam; pysam.samtools.fixmate('-m', '-u', '-', '-', catch_stdout=False)"
_SORT = (
    "import pysam, sys; "
    "pysam.samtools.sort('-@', sys.argv[1], '-l', sys.argv[4], '-T', sys.argv[2], '-o', sys.argv[3], '-', "
    "catch_stdout=False)"
)


@contextlib.contextmanager
def _aligned_and_sorted(cmd: list[str], out: str, tmp: str, threads: int, feed: bool, level: int = 6):
    """``cmd`` (BWA-MEM) | samtools fixmate -m | samtools sort -> ``out`` (BGZF `level`), streamed: no SAM of the
    whole genome on disk and the FASTQ read once. With ``feed``, yields BWA's standard input to write the pairs to
    (closed after)."""
    sam_tools = [sys.executable, "-c"]
    bwa = subprocess.Popen(cmd, stdin=subprocess.PIPE if feed else subprocess.DEVNULL, stdout=subprocess.PIPE)
    fixmate = subprocess.Popen([*sam_tools, _FIXMATE], stdin=bwa.stdout, stdout=subprocess.PIPE)
    bwa.stdout.close()  # fixmate holds it now: BWA sees a closed pipe if fixmate dies
    sort = subprocess.Popen(
        [*sam_tools, _SORT, str(threads), os.path.join(tmp, "sort"), out, str(level)], stdin=fixmate.stdout
    )
    fixmate.stdout.close()
    procs = (("bwa mem", bwa), ("samtools fixmate", fixmate), ("samtools sort", sort))
    try:
        yield bwa.stdin
        if feed:
            bwa.stdin.close()
        for name, proc in procs:
            if proc.wait() != 0:
                raise subprocess.CalledProcessError(proc.returncode, name)
    except BaseException:
        for _, proc in procs:
            proc.kill()
            proc.wait()
        raise


def align_fastq(
    fq1: str,
    fq2: str,
    index_prefix: str,
    sample: str,
    out_bam: str,
    threads: int = 2,
    mark_duplicates: bool = True,
    recruit_index: str | None = None,
    recruit_stride: int = 4,
) -> dict:
    """BWA-MEM with a read group, then fixmate -> coordinate sort -> markdup -> index (pysam in-process).

    With `recruit_index` (``alignment.mode: recruit``) only the pairs recruited by :mod:`.recruit` reach BWA:
    the recruiter streams them into BWA's standard input, so nothing of the whole genome is written to disk.
    Temporary files live in a hidden folder beside `out_bam` and are removed on success, error or SIGTERM
    (and, after a SIGKILL, by the next run).
    """
    bwa = require_bwa()
    out_dir = Path(out_bam).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp(out_dir, sample)
    summary: dict = {"mode": "recruit" if recruit_index else "full"}
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{sample}.align.") as tmp:
        read_group = f"@RG\\tID:{sample}\\tSM:{sample}\\tLB:{sample}\\tPL:ILLUMINA"
        # -K fixes the batch size so that output does not depend on the thread count (reproducible runs).
        cmd = [bwa, "mem", "-K", "10000000", "-t", str(threads), "-R", read_group, index_prefix]
        ordered = os.path.join(tmp, "sorted.bam")
        # the sorted BAM is written once all reads are in: when markdup reads it again, level 1 halves that wait
        level = 1 if mark_duplicates else 6
        if recruit_index:
            from dira_genotyper.alignment.recruit import load_recruit_index, recruit_pairs

            kmers = load_recruit_index(recruit_index)
            cmd += ["-p", "/dev/stdin"]  # interleaved pairs from the recruiter
            log.info("recruiting pairs with %s (%d k-mers), aligning them with %s", recruit_index, len(kmers),
                     " ".join(cmd))  # fmt: skip
            with _aligned_and_sorted(cmd, ordered, tmp, threads, feed=True, level=level) as stdin:
                start = time.perf_counter()
                stats = recruit_pairs(fq1, fq2, kmers, stdin, stride=recruit_stride, sample=sample)
                log.info("recruitment pass: %.1f s (BWA still aligning the last batch)", time.perf_counter() - start)
            log.info("recruited %d of %d pairs (%.4f%%)", stats.recruited, stats.pairs, 100 * stats.fraction)
            summary.update(pairs=stats.pairs, recruited=stats.recruited)
        else:
            cmd += [fq1, fq2]
            log.info("running %s | fixmate | sort", " ".join(cmd))
            with _aligned_and_sorted(cmd, ordered, tmp, threads, feed=False, level=level):
                pass
        final = ordered
        if mark_duplicates:
            final = os.path.join(tmp, "markdup.bam")
            pysam.samtools.markdup("-@", str(threads), ordered, final, catch_stdout=False)
        os.replace(final, out_bam)
    pysam.index(out_bam)
    return summary


def ensure_index(path: str, kind: str, fallback_index: str) -> str | None:
    """The existing index of a BAM/CRAM, or build one at `fallback_index` (the input may be read-only)."""
    from dira_genotyper.inputs.sheet import find_index

    index = find_index(path)
    if index and os.path.getmtime(index) + 1 < os.path.getmtime(path):
        log.warning("index %s is older than %s; re-indexing into %s", index, path, fallback_index)
        index = None
    if index is None:
        Path(fallback_index).parent.mkdir(parents=True, exist_ok=True)
        log.info("%s has no index: indexing it into %s", path, fallback_index)
        pysam.index(path, fallback_index)
        index = fallback_index
    return index


def extract_locus(
    input_path: str, reference: str, beds: list[str], out_bam: str, fallback_index: str, locus_contig: str
) -> dict:
    """Copy reads overlapping the window and control regions to a small BAM in the reference's naming.

    Reads are fetched through the index, so the cost depends on the reads in the regions, not the file size.
    Contigs named the other way (`2` vs `chr2`) are renamed in the output header. On any failure (a full disk,
    a damaged input) the partial output, its index and the temporary files are removed.
    """
    from dira_genotyper.inputs.diagnose import remove_partial

    try:
        return _extract_locus(input_path, reference, beds, out_bam, fallback_index, locus_contig)
    except BaseException:
        removed = remove_partial([f"{out_bam}.tmp.bam", out_bam, f"{out_bam}.bai"], [f"{out_bam}.tmp.*"])
        if removed:
            log.info("removed the partial outputs %s", ", ".join(removed))
        raise


def _extract_locus(
    input_path: str, reference: str, beds: list[str], out_bam: str, fallback_index: str, locus_contig: str
) -> dict:
    kind = "cram" if input_path.lower().endswith(".cram") else "bam"
    index = ensure_index(input_path, kind, fallback_index)
    mode = "rc" if kind == "cram" else "rb"
    regions = merged_regions(beds)
    with pysam.AlignmentFile(input_path, mode, reference_filename=reference, index_filename=index) as src:
        names = list(src.references)
        header = src.header.to_dict()
    renamed = {}
    for contig in {c for c, _, _ in regions}:
        if contig in names:
            continue
        alias = next((c for c in contig_candidates(contig) if c in names), None)
        if alias is None:
            raise InputError(f"{input_path} has no contig {contig!r} (or its chr/no-chr alias)")
        renamed[alias] = contig
    for sq in header.get("SQ", []):
        sq["SN"] = renamed.get(sq["SN"], sq["SN"])
    header.setdefault("PG", []).append(
        {"ID": "dira-genotyper-extract", "PN": "dira-genotyper", "CL": f"extract {os.path.basename(input_path)}"}
    )
    inverse = {v: k for k, v in renamed.items()}
    tmp_out = f"{out_bam}.tmp.bam"
    with tempfile.TemporaryDirectory(prefix="dira-extract.") as tmp:  # two small text files
        # the regions in the input's naming and in its contig order: samtools writes each read once (-M), sorted
        order = {name: i for i, name in enumerate(names)}
        source = sorted(((inverse.get(c, c), s, e) for c, s, e in regions), key=lambda r: (order[r[0]], r[1]))
        bed = os.path.join(tmp, "regions.bed")
        with open(bed, "w") as out:
            out.writelines(f"{c}\t{s}\t{e}\n" for c, s, e in source)
        # level 1: the locus BAM is read a few times and thrown away; level 6 tripled the step's CPU
        args = ["-b", "-M", "-L", bed, "--output-fmt-option", "level=1", "--no-PG", "-o", tmp_out]
        if reference:
            args += ["-T", reference]
        pysam.samtools.view(*args, "-X", input_path, index, catch_stdout=False)
        sam_header = os.path.join(tmp, "header.sam")
        with open(sam_header, "w") as out:
            out.write(str(pysam.AlignmentHeader.from_dict(header)))
        pysam.samtools.reheader("--no-PG", sam_header, tmp_out, save_stdout=out_bam)
    os.remove(tmp_out)
    pysam.index(out_bam)
    with pysam.AlignmentFile(out_bam) as written:
        stats = written.get_index_statistics()
    counts = {"reads": sum(s.total for s in stats), "renamed_contigs": renamed}
    if counts["reads"] == 0:
        log.warning("no reads in the locus regions of %s", input_path)
    counts["locus_contig_reads"] = sum(s.mapped for s in stats if s.contig == locus_contig)
    return counts
