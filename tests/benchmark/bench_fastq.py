"""FASTQ recruitment benchmark (issue #12): a whole-genome-like FASTQ pair, recruited, aligned and reported.

    python tests/benchmark/bench_fastq.py                  # 20 M off-target pairs (~1 h on 2 busy cores)
    python tests/benchmark/bench_fastq.py --pairs 1000000  # development size

Data (cached under --cache, default /tmp/dira-bench-fastq; rebuilt only when missing):
- reference = the bundled synthetic reference (chr2 1 Mb, ctrl, chr18 LPIN2 window, chrX/Y, decoy) +
  ``offgenome``, a random contig (--offgenome-mb) carrying planted, mutated copies of the windows' own repeats
  (every RepeatMasker interval of ``resources/SYNTH/mask.bed`` inside a window: the IL1RN cluster, the control
  and LPIN2; simple repeats, Alu-like, L1-like; 30% of the contig) and
  low-complexity tracts (CA)n, (GAA)n, ... A draw is a simple repeat (10%), a "young family" (15%: 25 copies of
  one window repeat, each 0.5-3% diverged) or one old copy (10-25% diverged). As a young family plants 25
  copies, young copies are ~80% of the planted bases (~25% of the contig) and most window repeats have one:
  harsher than a real genome, where young Alu/L1 copies are a few % of the sequence. How a young family is
  related to the window's copy (--young-model):
  ``sibling`` (default): the window's copy is one member of the family, like every copy in a real genome: the 25
  copies and the window's copy each differ from a consensus by 0.5-3% (the consensus is the window's copy with
  its own mutations reverted, i.e. mutated);
  ``master``: the 25 copies are mutated from the window's copy itself, which is then the family's consensus (as
  if the locus held the source element of a family: a stress case, as no read of the window's copy carries a
  base of its own);
  Few near-identical
  copies (a segmental duplication, a young repeat with one sibling) are what the bundled reference's decoy
  contig holds: the cohort test covers them;
- reads = the locus pairs of one bundled sample (--sample) spread through --pairs off-target pairs from
  ``offgenome`` (150 bp, fragment 400 +/- 60, 0.3% substitutions), gzipped with ISA-L level 1 in 0.5 M-pair
  members; --distinct-pairs of them are made and their members written again up to --pairs (making 20 M
  distinct pairs takes over an hour on a shared 2-core machine; every read costs the recruiter the same);
- a subsample = the locus pairs + the first --sensitivity-pairs off-target pairs, for full-mode BWA (full mode
  on the 20 M pairs would take hours here);
- sample-check sites (issue #21; --no-sites: the index of the regions alone, as before): the bundled synthetic
  build's site table (chr2 and ctrl) plus sites drawn on ``offgenome`` at GRCh38's density (35,828 sites in
  3.1 Gb: one per 86 kb) outside its planted young repeat copies (the shipped tables leave out repeats), so the
  site pairs are the share of the reads they are in a genome (~0.35%); the index is then filled up with random
  k-mers (never in a read) to the size GRCh38's sites give it (2 x 31 k-mers a site), as the lookups' speed
  depends on the index's size.

Printed in one run: ``zcat`` wall of both files; recruit wall (the k-mer pass alone); recruit + align + report
wall (the Snakemake workflow for the sample, recruit mode, index cached) with the align rule's peak RSS and the
largest temporary disk seen; recruited, site and off-target-recruited fractions (an off-target pair over an
``offgenome`` site is a site pair, wanted); sensitivity against full mode on the subsample (pairs that full mode
places in window/controls at MAPQ >= 20, either mate) with every miss listed; the same for the pairs over a
site (a read at MAPQ >= 20 covering it), by the allele the read carries there; and whether the reports of the
two modes agree (status, alleles, copy numbers, breakpoints). The load (``uptime``) is printed with the
figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pysam

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "workflow"))

from dira_genotyper.alignment import recruit  # noqa: E402
from dira_genotyper.alignment.locus_bam import merged_regions  # noqa: E402
from dira_genotyper.locus import Locus  # noqa: E402
from tests.conftest import make_workdir, run_snakemake  # noqa: E402

READ = 150
BLOCK = 500_000
_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
_COMP = np.zeros(256, dtype=np.uint8)
for _a, _b in zip(b"ACGTN", b"TGCAN"):
    _COMP[_a] = _b
YOUNG_FAMILY = 25  # copies of a window repeat planted at 0.5-3% (its k-mers then occur > 8 times)
OLD_DIVERGENCE = (0.10, 0.25)
SIMPLE_UNITS = ("CA", "GAA", "TTTC", "AATG", "GGGAGA", "TG", "CCT", "A")
WANTED_MAPQ = 20  # the pairs full mode places in the regions at this MAPQ or more must be recruited
GOALS = {"wall_vs_zcat": 2.0, "rss_gib": 2.0, "temp_gib": 1.0, "offtarget": 0.005, "sensitivity": 0.999}
GRCH38_SITES = ROOT / "resources" / "GRCh38" / "sample_sites.tsv.gz"
GRCH38_BASES = 3_099_734_149  # GRCh38 chromosomes 1-22, X, Y (the sites' contigs)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wanted_pairs(bam: Path, regions: list[tuple[str, int, int]]) -> dict[str, tuple]:
    """Pairs that full mode places in the regions: name -> (contig, start, MAPQ, CIGAR, NM) of the first such mate."""
    placed: dict[str, tuple] = {}
    with pysam.AlignmentFile(str(bam)) as handle:
        for contig, start, end in regions:
            for read in handle.fetch(contig, start, end):
                if read.is_unmapped or read.is_secondary or read.is_supplementary:
                    continue
                if read.mapping_quality < WANTED_MAPQ or not start <= read.reference_start < end:
                    continue
                placed.setdefault(
                    read.query_name,
                    (contig, read.reference_start, read.mapping_quality, read.cigarstring, read.get_tag("NM")),
                )
    return placed


def mutate(rng: np.random.Generator, seq: np.ndarray, rate: float) -> np.ndarray:
    out = seq.copy()
    hit = np.flatnonzero(rng.random(seq.size) < rate)
    out[hit] = _BASES[(np.searchsorted(_BASES, out[hit]) + rng.integers(1, 4, hit.size)) % 4]
    return out


def revcomp(seq: np.ndarray) -> np.ndarray:
    return _COMP[seq[..., ::-1]]


def make_reference(cache: Path, mb: int, rng: np.random.Generator, young_model: str) -> Path:
    ref = cache / f"bench-{young_model}.fa"
    if ref.with_suffix(".fa.sa").exists():
        return ref
    locus = Locus.load(ROOT / "resources" / "SYNTH")
    synth = ROOT / "test-data" / "reference" / "synth.fa"
    with pysam.FastaFile(str(synth)) as fa:
        contigs = {name: fa.fetch(name) for name in fa.references}
    repeats = [  # every window's repeats (IL1RN's cluster and LPIN2's window)
        np.frombuffer(contigs[iv.chrom][iv.start0 : iv.end].upper().encode(), dtype=np.uint8)
        for window in locus.windows
        for iv in locus.mask
        if iv.chrom == window.chrom and window.start <= iv.start and iv.end <= window.end and iv.length >= 20
    ]
    length = mb * 1_000_000
    genome = _BASES[rng.integers(0, 4, length)]
    planted = 0
    while planted < 0.3 * length:
        draw = rng.random()
        if draw < 0.1:
            unit = SIMPLE_UNITS[int(rng.integers(len(SIMPLE_UNITS)))]
            copies = [mutate(rng, np.frombuffer((unit * 200).encode()[: int(rng.integers(30, 300))], np.uint8), 0.02)]
        else:
            source = repeats[int(rng.integers(len(repeats)))]
            if draw < 0.25:  # a young family: many near-identical copies (AluY, L1HS)
                consensus = source if young_model == "master" else mutate(rng, source, rng.uniform(0.005, 0.03))
                copies = [mutate(rng, consensus, rng.uniform(0.005, 0.03)) for _ in range(YOUNG_FAMILY)]
            else:  # old copies: diverged, as most copies of a family are from any one of them
                copies = [mutate(rng, source, rng.uniform(*OLD_DIVERGENCE))]
        for copy in copies:
            copy = revcomp(copy) if rng.random() < 0.5 else copy
            at = int(rng.integers(0, length - copy.size))
            genome[at : at + copy.size] = copy
            planted += copy.size
    with open(ref, "w") as out:
        for name, seq in contigs.items():
            out.write(f">{name}\n")
            out.writelines(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60))
        out.write(">offgenome\n")
        text = genome.tobytes().decode()
        out.writelines(text[i : i + 60] + "\n" for i in range(0, len(text), 60))
    pysam.faidx(str(ref))
    log(f"bwa index of {ref} ({length / 1e6:.0f} Mb off-target contig, {len(repeats)} window repeats planted)")
    subprocess.run(["nice", "bwa", "index", str(ref)], check=True, capture_output=True)
    return ref


def make_sites(cache: Path, ref: Path, young_model: str) -> tuple[Path, int]:
    """The bench's site table (see above) and the number of sites GRCh38's table holds.

    The ``offgenome`` sites are drawn where a shipped table's are: outside repeats. The shipped tables leave out
    RepeatMasker intervals (``dira_devtools.resources.sites``); here a site is kept when every k-mer over it
    (reference allele) occurs once in the reference, which drops the planted young copies (as RepeatMasker would)
    but keeps sites in old, diverged copies (which RepeatMasker would also drop): no kinder than a real table.
    """
    from dira_genotyper.alignment.recruit_sites import site_kmers
    from dira_genotyper.samplecheck.sites import read_sites

    real = len(read_sites(GRCH38_SITES))
    path = cache / f"sites-{young_model}-v2.tsv.gz"
    if path.exists():
        return path, real
    rng = np.random.default_rng(20261206)  # apart from the reads' generator: the cached data stay as they were
    with pysam.FastaFile(str(ref)) as fa:
        genome = fa.fetch("offgenome")
    n = round(real * len(genome) / GRCH38_BASES)
    drawn = np.sort(rng.choice(np.arange(1_000, len(genome) - 1_000), 3 * n, replace=False))
    candidates = [("offgenome", int(pos), genome[pos - 1], "ACGT".replace(genome[pos - 1], "")[int(rng.integers(3))])
                  for pos in drawn]  # fmt: skip
    found = site_kmers(str(ref), [(c, p, r, r) for c, p, r, _a in candidates])  # reference allele only; in order
    once = np.ones(found.sites, dtype=bool)
    np.logical_and.at(once, found.group // recruit.K, reference_counts(ref, found.kmers) == 1)
    outside = np.flatnonzero(once)
    if len(outside) < n:
        raise SystemExit(f"only {len(outside)} of {len(candidates)} candidate sites lie outside repeats; need {n}")
    chosen = [candidates[i] for i in np.sort(rng.choice(outside, n, replace=False))]
    rows = [line for line in gzip.open(ROOT / "test-data/reference/sample_sites.tsv.gz", "rt") if line[0] != "#"]
    rows += [f"offgenome\t{pos}\t{r}\t{a}\toff{i}\tA\t0\n" for i, (_c, pos, r, a) in enumerate(chosen)]
    with gzip.open(path, "wt") as out:
        out.write("#chrom\tpos\tref\talt\trsid\tkind\texonic\n")
        out.writelines(rows)
    return path, real


def reference_counts(ref: Path, kmers: np.ndarray) -> np.ndarray:
    """How often each canonical k-mer occurs in the whole reference (saturating at 65535)."""
    table = recruit._CountTable(kmers)
    with pysam.FastaFile(str(ref)) as fa:
        return table.count(fa)[table.slots(kmers)]


def fill_index(index_path: Path, real_sites: int, site_kmers: int) -> int:
    """Random k-mers (unique class) added to the index up to the k-mers of `real_sites` sites; how many."""
    extra = real_sites * 2 * recruit.K - site_kmers
    if extra <= 0:
        return 0
    kmers = np.load(index_path)
    filler = np.random.default_rng(7).integers(0, 1 << 62, extra, dtype=np.uint64)
    np.save(index_path, recruit.sorted_unique(np.concatenate([kmers, filler])))
    return extra


def unique_sites(ref: Path, table: list[tuple], kmers: recruit.KmerSet) -> set[tuple[str, int]]:
    """The sites whose k-mers (reference allele) recruit a read alone (the index's unique class: at most
    ``max_count`` copies in the reference, :func:`site_counts`)."""
    from dira_genotyper.alignment.recruit_sites import site_kmers

    plain = [(c, p, r, r) for c, p, r, _a, _k in table]
    found = site_kmers(str(ref), plain)
    unique = np.ones(found.sites, dtype=bool)
    np.logical_and.at(unique, found.group // recruit.K, kmers.classes(found.kmers) == 0)
    return {(plain[i][0], plain[i][1]) for i in np.flatnonzero(unique)}


def site_reads(bam: Path, sites: dict[str, np.ndarray], alleles: dict[tuple, tuple], min_mapq: int) -> dict:
    """Pair name -> (contig, position, allele class) of the first read (primary, MAPQ >= `min_mapq`) covering a
    site: its base there is the site's reference allele ("ref"), alternate ("alt") or another base ("other")."""
    out: dict[str, tuple[str, int, str]] = {}
    with pysam.AlignmentFile(str(bam)) as handle:
        for read in handle:
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.mapping_quality < min_mapq:
                continue
            at = sites.get(read.reference_name)
            if at is None or read.query_name in out:
                continue
            lo, hi = np.searchsorted(at, [read.reference_start + 1, read.reference_end + 1])
            if lo == hi:
                continue
            pos = int(at[lo])
            base = next((read.query_sequence[q] for q, r in read.get_aligned_pairs(True) if r == pos - 1), None)
            ref, alt = alleles[(read.reference_name, pos)]
            allele = "ref" if base == ref else "alt" if base == alt else "other"
            out[read.query_name] = (read.reference_name, pos, allele)
    return out


def fastq_records(path: Path) -> list[bytes]:
    with pysam.FastxFile(str(path)) as handle:
        return [f"@{r.name}\n{r.sequence}\n+\n{r.quality}\n".encode() for r in handle]


def offtarget_block(rng: np.random.Generator, genome: np.ndarray, first: int, n: int) -> tuple[bytes, bytes]:
    """n pairs as two FASTQ byte strings of fixed-width records (vectorised)."""
    frag = np.clip(rng.normal(400, 60, n).astype(np.int64), READ, 1000)
    start = rng.integers(0, genome.size - 1000, n)
    windows = np.lib.stride_tricks.sliding_window_view(genome, READ)
    r1 = windows[start]
    r2 = revcomp(windows[start + frag - READ])
    swap = rng.random(n) < 0.5
    r1[swap], r2[swap] = r2[swap].copy(), r1[swap].copy()
    out = []
    names = np.frombuffer("".join(f"@o{first + i:010d}\n" for i in range(n)).encode(), dtype=np.uint8)
    names = names.reshape(n, 13)
    for reads in (r1, r2):
        err = rng.random(reads.shape) < 0.003
        reads[err] = _BASES[rng.integers(0, 4, int(err.sum()))]
        qual = np.frombuffer(b"FFFF:,F:FFFFFF", dtype=np.uint8)[rng.integers(0, 14, reads.shape)]
        nl = np.full((n, 1), 10, dtype=np.uint8)
        plus = np.frombuffer(b"+\n", dtype=np.uint8)[None, :].repeat(n, 0)
        out.append(np.hstack([names, reads, nl, plus, qual, nl]).tobytes())
    return out[0], out[1]


def make_reads(
    cache: Path, ref: Path, sample: str, pairs: int, sub_pairs: int, distinct: int, rng: np.random.Generator
) -> dict:
    """The WGS-like pair: `distinct` off-target pairs made once (in BLOCK-pair gzip members) and written again
    and again up to `pairs`, the locus pairs spread between the members; plus the subsample pair."""
    from isal import igzip

    tag = f"{sample}-{pairs}-{ref.stem.removeprefix('bench-')}"
    files = {k: cache / f"{tag}_{k}.fastq.gz" for k in ("R1", "R2", "sub_R1", "sub_R2")}
    if all(p.exists() for p in files.values()):
        return files
    with pysam.FastaFile(str(ref)) as fa:
        genome = np.frombuffer(fa.fetch("offgenome").encode(), dtype=np.uint8)
    locus = [fastq_records(ROOT / "test-data" / "fastq" / f"{sample}_{r}.fastq.gz") for r in ("R1", "R2")]
    blocks = -(-pairs // BLOCK)
    per = -(-len(locus[0]) // blocks)
    members: list[tuple[bytes, bytes]] = []
    handles = [open(files[k].with_suffix(".tmp"), "wb") for k in files]
    try:
        for b in range(blocks):
            n = min(BLOCK, pairs - b * BLOCK)
            if len(members) * BLOCK < distinct:
                one, two = offtarget_block(rng, genome, b * BLOCK, n)
                members.append((igzip.compress(one, 1), igzip.compress(two, 1)))
                if b == 0:
                    k = sub_pairs * (13 + 2 * READ + 4)
                    for h, data, mates in zip(handles[2:], (one, two), locus):
                        h.write(igzip.compress(data[:k] + b"".join(mates), 1))
            for h, member, mates in zip(handles[:2], members[b % len(members)], locus):
                h.write(member)
                h.write(igzip.compress(b"".join(mates[b * per : (b + 1) * per]), 1))
            log(f"  block {b + 1}/{blocks}")
    finally:
        for h in handles:
            h.close()
    for path in files.values():
        path.with_suffix(".tmp").rename(path)
    return files


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], **kwargs) -> tuple[float, float]:
    """Wall and CPU seconds of a command (CPU: the machine is shared, so wall time depends on the load)."""
    start, cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, check=True, **kwargs)
    return time.perf_counter() - start, children_cpu() - cpu


class DiskWatch(threading.Thread):
    """Largest size seen of a folder's files (polled), for the temporary disk figure."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.stop = folder, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            size = 0
            for dirpath, _, names in os.walk(self.folder):
                for name in names:
                    try:
                        size += os.path.getsize(os.path.join(dirpath, name))
                    except OSError:
                        pass
            self.peak = max(self.peak, size)


def align(fq1: Path, fq2: Path, ref: Path, out: Path, index: Path | None) -> dict:
    """`dira-genotyper align` as the workflow's align rule runs it: wall, CPU, peak RSS, peak temporary disk."""
    shutil.rmtree(out.parent, ignore_errors=True)
    out.parent.mkdir(parents=True)
    watch = DiskWatch(out.parent)
    watch.start()
    exe = str(Path(sys.executable).parent / "dira-genotyper")
    cmd = [exe, "align", "--fq1", str(fq1), "--fq2", str(fq2), "--index", str(ref), "--sample", "S", "--threads", "2",
           "--out", str(out)]  # fmt: skip
    if index:
        cmd += ["--recruit-index", str(index)]
    log_path = out.with_suffix(".log")
    with open(log_path, "w") as handle:
        wall, cpu = timed(["/usr/bin/time", "-f", "maxrss_kb %M", *cmd], stdout=handle, stderr=handle)
    watch.stop.set()
    text = log_path.read_text()
    rss = max(int(line.split()[1]) for line in text.splitlines() if line.startswith("maxrss_kb"))
    passes = [
        line.split("recruitment pass: ")[1].split()[0] for line in text.splitlines() if "recruitment pass" in line
    ]
    return {"wall": wall, "cpu": cpu, "rss_gib": rss / 2**20, "temp_gib": watch.peak / 2**30,
            "recruit_wall": float(passes[0]) if passes else None}  # fmt: skip


def report_run(work: Path, ref: Path, bams: dict[str, Path]) -> tuple[float, float, Path]:
    """The rest of the workflow (extract .. report) on aligned BAMs: wall and CPU (rule benchmarks)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sheet = work / "sheet.tsv"
    # every BAM's read group is named S (see align): bam_sm says so
    sheet.write_text("sample\tfq1\tfq2\tbam\tbam_sm\n" + "".join(f"{n}\t\t\t{bam}\tS\n" for n, bam in bams.items()))
    make_workdir(work, sheet)
    config = work / "config" / "config.yaml"
    config.write_text(config.read_text().replace("reference: test-data/reference/synth.fa", f"reference: {ref}"))
    start = time.perf_counter()
    proc = run_snakemake(work, "--cores", "2", timeout=6 * 3600)
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-5000:]
    cpu = 0.0
    for path in (work / "benchmarks").rglob("*.tsv"):
        head, values = (line.split("\t") for line in path.read_text().splitlines()[:2])
        cpu += float(dict(zip(head, values))["cpu_time"])
    return wall, cpu, work / "results"


def report_summary(path: Path) -> dict:
    """The parts of a report that must not depend on the alignment mode."""
    rep = json.loads(path.read_text())

    def strip(section: dict) -> dict:
        keys = ("status", "alleles", "copy_number", "exon_copy_number", "deletions")  # deletions: breakpoints
        return {k: section.get(k) for k in keys}

    out = {"DIRA": strip(rep)}
    for name, diff in (rep.get("differential") or {}).items():
        out[name] = strip(diff)
    return out


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=20_000_000, help="off-target pairs")
    ap.add_argument("--sensitivity-pairs", type=int, default=200_000)
    ap.add_argument("--distinct-pairs", type=int, default=2_000_000, help="off-target pairs made, then repeated")
    ap.add_argument("--offgenome-mb", type=int, default=40)
    ap.add_argument("--sample", default="DIRA-01")
    ap.add_argument("--cache", default="/tmp/dira-bench-fastq")
    ap.add_argument(
        "--young-model", choices=("sibling", "master"), default="sibling", help="young repeat families: see above"
    )
    ap.add_argument("--skip-full", action="store_true", help="no full-mode run (no sensitivity, no comparison)")
    ap.add_argument("--reuse-full", action="store_true", help="reuse the full-mode BAM of an earlier run if present")
    ap.add_argument("--data-only", action="store_true", help="make the cached data and stop")
    ap.add_argument("--zcat", nargs=2, type=float, metavar=("WALL", "CPU"), help="reuse a zcat measurement")
    ap.add_argument("--no-sites", action="store_true", help="index the regions alone (no sample-check sites)")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261130)
    ref = make_reference(cache, args.offgenome_mb, rng, args.young_model)
    files = make_reads(cache, ref, args.sample, args.pairs, args.sensitivity_pairs, args.distinct_pairs, rng)
    if args.data_only:
        return 0
    locus_pairs = len(fastq_records(ROOT / "test-data" / "fastq" / f"{args.sample}_R1.fastq.gz"))
    total = args.pairs + locus_pairs
    gz_bytes = files["R1"].stat().st_size + files["R2"].stat().st_size
    log(f"data: {total:,} pairs ({locus_pairs:,} locus), {gz_bytes / 1e9:.2f} GB gzipped; load {os.getloadavg()}")

    if args.zcat:
        zcat, zcat_cpu = args.zcat
    else:
        zcat, zcat_cpu = timed(["sh", "-c", f"zcat '{files['R1']}' '{files['R2']}' > /dev/null"])
    log(f"zcat wall {zcat:.1f} s, CPU {zcat_cpu:.1f} s; load {os.getloadavg()}")

    work = cache / "work" / args.young_model
    # Index build once per reference (cached by the workflow's recruit_index rule): timed apart from the pass.
    regions = merged_regions([str(ROOT / "resources/SYNTH/window.bed"), str(ROOT / "resources/SYNTH/controls.bed")])
    sites_path, real_sites = make_sites(cache, ref, args.young_model)
    from dira_genotyper.samplecheck.sites import read_sites

    table = [] if args.no_sites else read_sites(sites_path)
    sites = {c: np.array(sorted(p for ch, p, *_ in table if ch == c)) for c in {row[0] for row in table}}
    alleles = {(c, p): (r, a) for c, p, r, a, _ in table}
    start = time.perf_counter()
    index_path = cache / f"kmers-{args.young_model}.npy"
    info = recruit.write_recruit_index(
        str(ref), regions, 8, str(index_path), None if args.no_sites else str(sites_path)
    )
    index_wall = time.perf_counter() - start
    filler = 0 if args.no_sites else fill_index(index_path, real_sites, info.site_kmers)
    kmers = recruit.load_recruit_index(str(index_path))
    log(
        f"index {index_wall:.1f} s: {info.unique_kmers:,} unique + {info.shared_kmers:,} shared "
        f"of {info.region_kmers:,}; {info.site_count:,} sites ({info.site_kmers:,} k-mers) + {filler:,} random "
        f"k-mers for GRCh38's {real_sites:,} sites = {len(kmers):,} k-mers"
    )

    bam = work / f"recruit-{args.pairs}" / "S.bam"
    run = align(files["R1"], files["R2"], ref, bam, index_path)
    with pysam.AlignmentFile(str(bam)) as handle:
        firsts = [r.query_name for r in handle if r.is_read1 and not r.is_secondary and not r.is_supplementary]
    over_sites = {n for n, (contig, *_) in site_reads(bam, sites, alleles, 0).items() if contig == "offgenome"}
    recruited = len(firsts)
    site_pairs = sum(1 for n in firsts if n.startswith("o") and n in over_sites)
    off = sum(1 for n in firsts if n.startswith("o")) - site_pairs
    log(f"recruit + align: {run}; load {os.getloadavg()}")

    full_bam = work / f"full-{args.pairs}" / "S.bam"
    bams = {"RECRUIT": bam}
    if not args.skip_full:
        log("full mode on the subsample (locus pairs + off-target pairs) for sensitivity")
        if args.reuse_full and full_bam.exists():
            log(f"full mode: reusing {full_bam}")
        else:
            full = align(files["sub_R1"], files["sub_R2"], ref, full_bam, None)
            log(f"full mode on the subsample: {full}")
        bams["FULL"] = full_bam
    report_wall, report_cpu, results = report_run(work / f"report-{args.pairs}", ref, bams)
    total_wall, total_cpu = run["wall"] + report_wall, run["cpu"] + report_cpu
    if not args.skip_full:  # the report run did both samples: count half of it for the recruit-mode figure
        total_wall, total_cpu = run["wall"] + report_wall / 2, run["cpu"] + report_cpu / 2
    load = os.getloadavg()

    print("\n== FASTQ recruitment benchmark ==")
    print(f"input: {total:,} pairs ({args.pairs:,} off-target + {locus_pairs:,} locus), {gz_bytes / 1e9:.2f} GB gz")
    print(f"zcat wall (both files)            {zcat:8.1f} s   CPU {zcat_cpu:.1f} s")
    print(f"recruit wall (k-mer pass)         {run['recruit_wall']:8.1f} s   ({run['recruit_wall'] / zcat:.2f}x zcat)")
    print(f"recruit + align wall              {run['wall']:8.1f} s   ({run['wall'] / zcat:.2f}x zcat)   CPU "
          f"{run['cpu']:.1f} s ({run['cpu'] / zcat_cpu:.2f}x zcat)")  # fmt: skip
    print(f"recruit + align + report wall     {total_wall:8.1f} s   ({total_wall / zcat:.2f}x zcat; goal <= 2x)   CPU "
          f"{total_cpu:.1f} s ({total_cpu / zcat_cpu:.2f}x zcat)")  # fmt: skip
    print("  (report = the workflow from extract to report on the aligned BAM)")
    print(f"peak RSS (recruiter, BWA)         {run['rss_gib']:8.2f} GiB (goal <= 2)")
    print(f"temporary disk (output folder)    {run['temp_gib']:8.3f} GiB (goal <= 1; includes the final BAM)")
    print(f"recruited                         {recruited / total:8.4%} of pairs ({recruited:,})")
    print(f"off-target recruited              {off / args.pairs:8.4%} ({off:,} pairs; goal <= 0.5%)")
    print(f"site pairs recruited (offgenome)  {site_pairs / args.pairs:8.4%} ({site_pairs:,} pairs over "
          f"{len(sites.get('offgenome', ())):,} sites)")  # fmt: skip
    print(f"index build (once per reference)  {index_wall:8.1f} s   ({len(kmers):,} k-mers, {filler:,} of them "
          f"standing in for GRCh38's sites)")  # fmt: skip
    print(f"load average at the end           {load} (2 cores, shared)")

    if args.skip_full:
        return 0
    placed = wanted_pairs(full_bam, regions)
    sub_rec = cache / "sub_recruited.fq"
    with open(sub_rec, "wb") as out:
        recruit.recruit_pairs(str(files["sub_R1"]), str(files["sub_R2"]), kmers, out)
    got = {line[1:].split()[0].decode() for i, line in enumerate(open(sub_rec, "rb")) if i % 8 == 0}
    sub_rec.unlink()
    missed = sorted(set(placed) - got)
    wanted = set(missed)
    sensitivity = 1 - len(missed) / len(placed)
    print(
        f"sensitivity: {len(placed) - len(missed):,} of {len(placed):,} pairs placed in window/controls at MAPQ "
        f">= 20 were recruited = {sensitivity:.5%} (goal >= 99.9%)"
    )
    mask = Locus.load(ROOT / "resources" / "SYNTH").mask
    reads = {}
    for r in ("sub_R1", "sub_R2"):
        with pysam.FastxFile(str(files[r])) as handle:
            for rec in handle:
                if rec.name in wanted:
                    reads.setdefault(rec.name, []).append(rec.sequence.encode())
    for name in missed[:40]:
        chrom, pos, mapq, cigar, nm = placed[name]
        in_repeat = any(iv.chrom == chrom and iv.start0 <= pos < iv.end for iv in mask)
        dense = kmers.read_hits(reads.get(name, []), stride=1)
        print(
            f"  missed {name} {chrom}:{pos + 1} MAPQ {mapq} {cigar} NM {nm} repeat={in_repeat} hit at stride 1={dense}"
        )
    if sites:
        wanted_sites = site_reads(full_bam, sites, alleles, WANTED_MAPQ)
        unique = unique_sites(ref, table, kmers)
        kinds = (
            ("offgenome, k-mers unique", lambda c, p: c == "offgenome" and (c, p) in unique),
            ("offgenome, in repeat copies", lambda c, p: c == "offgenome" and (c, p) not in unique),
            ("chr2/ctrl", lambda c, p: c != "offgenome"),
        )
        log(f"{sum(1 for c, p in unique if c == 'offgenome'):,} of the offgenome sites have unique k-mers")
        for label, keep in kinds:
            for allele in ("ref", "alt", "other"):
                names = [n for n, (c, p, a) in wanted_sites.items() if keep(c, p) and a == allele]
                if names:
                    kept = sum(1 for n in names if n in got)
                    print(f"site pairs ({label}, read with the {allele} allele): {kept:,} of {len(names):,} "
                          f"recruited = {kept / len(names):.3%}")  # fmt: skip
    a = report_summary(results / "reports" / "FULL.dira.json")
    b = report_summary(results / "reports" / "RECRUIT.dira.json")
    print(f"reports equal (recruit on all pairs vs full on the subsample): {a == b}")
    if a != b:
        print(f"    full:    {a}\n    recruit: {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
