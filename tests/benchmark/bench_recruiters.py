"""Peer recruiters against ours (issue #12): which one to put in front of BWA in FASTQ mode, on measurements.

    python tests/benchmark/bench_recruiters.py                          # master data, every recruiter found
    nice python tests/benchmark/bench_recruiters.py --young-model sibling --build-mappy

Data: made by ``tests/benchmark/bench_fastq.py --pairs 1000000 --young-model MODEL`` under --cache (default
/tmp/dira-bench-fastq): the reference ``bench-MODEL.fa``, the subsample pair ``DIRA-01-1000000-MODEL_sub_R{1,2}``
(the sample's locus pairs + 200,000 off-target pairs, names starting with ``o``), the 1 M-pair file
``DIRA-01-1000000-MODEL_R{1,2}`` (1 M off-target pairs + the locus pairs) and the truth, full mode on the
subsample (``work/MODEL/full-1000000/S.bam``, BWA-MEM of every pair against the whole
reference). Wanted pairs: a primary alignment with MAPQ >= 20 (either mate) starting in a recruited region, the
window and control regions +/- 1 kb (our index's pad; the peers get the same sequences as their reference).

Recruiters (each run as its own process, at --threads where it has threads; kept pairs written as FASTQ, except
minimap2 which writes PAF):
1. ours, ``dira_genotyper.alignment.recruit`` (index built once per reference with
   ``write_recruit_index(ref, regions, 8)``);
2. BBDuk (BBTools), ``ref=`` the region sequences, k=31, both mates kept when either matches (``outm``/``outm2``,
   its default pairing), at its default (hdist=0) and hdist=1;
3. minimap2 -x sr against the region sequences only: a pair is kept when either mate maps (any MAPQ), or in the
   second row when either mate's primary alignment has MAPQ >= --mapq;
4. mappy (minimap2's Python binding) the same, in one Python process (single-threaded), reads through its kseq.

Printed: ``zcat`` of both 1 M-pair files (wall, CPU), then one table: wall, CPU (user + sys of the process and its
children) and peak RSS on the 1 M-pair file; sensitivity and off-target pairs kept on the subsample; off-target
pairs kept on the 1 M-pair file; the load average at the end of each run (2 shared cores: wall times under load
are inflated, CPU times much less). Then, per recruiter, what it missed (in a RepeatMasker interval of the
bundled resource or not, edit distance, examples). A missing tool's row says "not installed".

The peers are benchmark-only; they are not dependencies of the project. To install them (Debian, as root):

    apt-get update && apt-get install -y bbmap minimap2
    python3 -m venv /tmp/mappy-venv && /tmp/mappy-venv/bin/pip install --no-binary mappy mappy==2.31

then pass ``--mappy-python /tmp/mappy-venv/bin/python`` (or let ``--build-mappy`` do the second line, timed, into
--workdir; mappy has no wheel for every platform, and building it from source is what a cluster user without
conda faces).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pysam

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "workflow"))

from dira_genotyper.alignment import recruit  # noqa: E402
from dira_genotyper.alignment.locus_bam import merged_regions  # noqa: E402
from dira_genotyper.locus import Locus  # noqa: E402
from tests.benchmark.bench_fastq import WANTED_MAPQ, log, wanted_pairs  # noqa: E402

SAMPLE = "DIRA-01"
PAIRS = 1_000_000
MAPPY_VERSION = "2.31"
READ = 150

OURS = """
import sys
from dira_genotyper.alignment import recruit
index, fq1, fq2, out = sys.argv[1:5]
with open(out, "wb") as handle:
    stats = recruit.recruit_pairs(fq1, fq2, recruit.load_recruit_index(index), handle)
print(stats, file=sys.stderr)
"""

OURS_INDEX = """
import sys
from dira_genotyper.alignment import recruit
ref, out, *flat = sys.argv[1:]
regions = [(flat[i], int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)]
print(recruit.write_recruit_index(ref, regions, 8, out), file=sys.stderr)
"""

MAPPY = """
import sys
import mappy
ref, fq1, fq2, out = sys.argv[1:5]
aligner = mappy.Aligner(ref, preset="sr")
if not aligner:
    sys.exit(f"mappy could not load {ref}")
with open(out, "w") as handle:
    for (n1, s1, q1), (n2, s2, q2) in zip(mappy.fastx_read(fq1), mappy.fastx_read(fq2)):
        best = -1  # best primary MAPQ of either mate; 0 for a secondary hit only, -1 for no hit
        for hit in aligner.map(s1, s2):
            best = max(best, hit.mapq if hit.is_primary else 0)
        if best >= 0:
            handle.write(f"@{n1} {best}\\n{s1}\\n+\\n{q1}\\n@{n2} {best}\\n{s2}\\n+\\n{q2}\\n")
"""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Run:
    """One process: wall and CPU seconds (user + sys, its children included), peak RSS, exit code."""

    wall: float
    cpu: float
    rss_gib: float
    code: int
    load: str


def measure(cmd: list[str], log_path: Path, env: dict | None = None) -> Run:
    """Run `cmd` (stdout and stderr to `log_path`) and take its resource use from wait4 (children included)."""
    with open(log_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 2**20, proc.returncode, load())


def name_of(header: str) -> str:
    name = header.split()[0].lstrip("@")
    return name[:-2] if name.endswith(("/1", "/2")) else name


def fastq_pairs(path: Path, interleaved: bool) -> dict[str, int]:
    """Kept pairs of a FASTQ output: name -> the MAPQ written after the name (mappy), else 255."""
    step = 8 if interleaved else 4
    kept = {}
    with open(path) as handle:
        for i, line in enumerate(handle):
            if i % step == 0:
                fields = line.split()
                kept[name_of(fields[0])] = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 255
    return kept


def paf_pairs(path: Path) -> dict[str, int]:
    """Kept pairs of minimap2's PAF: name -> best primary MAPQ of either mate (0 when only secondary hits)."""
    kept: dict[str, int] = {}
    with open(path) as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            primary = "tp:A:P" in fields[12:]
            mapq = int(fields[11]) if primary else 0
            name = name_of(fields[0])
            kept[name] = max(kept.get(name, -1), mapq)
    return kept


@dataclass
class Recruiter:
    """A recruiter: how to run it on a pair, and how to read the pairs it kept from its output."""

    name: str
    command: object  # (fq1, fq2, out prefix) -> argv
    kept: object  # out prefix -> {name: best MAPQ}
    rows: list[tuple[str, int]]  # (row label, minimum MAPQ: -1 = any pair in the output)
    missing: str | None = None  # why it cannot run
    env: dict | None = None
    results: dict = field(default_factory=dict)


def recruiters(args: argparse.Namespace, ref_regions: Path, index: Path, mappy_python: str | None) -> list[Recruiter]:
    threads = str(args.threads)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    out = []
    out.append(
        Recruiter(
            "ours",
            lambda f1, f2, o: [sys.executable, "-c", OURS, str(index), str(f1), str(f2), f"{o}.fq"],
            lambda o: fastq_pairs(Path(f"{o}.fq"), interleaved=True),
            [("ours (k-mer filter, numba + 2 ISA-L threads)", -1)],
            env=env,
        )
    )
    bbduk = shutil.which("bbduk.sh")
    for hdist in (0, 1):
        out.append(
            Recruiter(
                f"bbduk-hdist{hdist}",
                lambda f1, f2, o, h=hdist: [
                    bbduk,
                    f"-Xmx{args.bbduk_memory}",
                    f"in={f1}",
                    f"in2={f2}",
                    f"ref={ref_regions}",
                    "k=31",
                    f"hdist={h}",
                    f"outm={o}_1.fq",
                    f"outm2={o}_2.fq",
                    f"threads={threads}",
                    "overwrite=t",
                ],
                lambda o: fastq_pairs(Path(f"{o}_1.fq"), interleaved=False),
                [(f"BBDuk k=31 hdist={hdist}{' (default)' if hdist == 0 else ''}", -1)],
                missing=None if bbduk else "not installed (apt-get install -y bbmap)",
            )
        )
    minimap2 = shutil.which("minimap2")
    out.append(
        Recruiter(
            "minimap2",
            lambda f1, f2, o: [
                "sh",
                "-c",
                f"exec '{minimap2}' -x sr -t {threads} '{ref_regions}' '{f1}' '{f2}' > '{o}.paf'",
            ],
            lambda o: paf_pairs(Path(f"{o}.paf")),
            [("minimap2 -x sr, any hit", -1), (f"minimap2 -x sr, MAPQ >= {args.mapq}", args.mapq)],
            missing=None if minimap2 else "not installed (apt-get install -y minimap2)",
        )
    )
    out.append(
        Recruiter(
            "mappy",
            lambda f1, f2, o: [mappy_python, "-c", MAPPY, str(ref_regions), str(f1), str(f2), f"{o}.fq"],
            lambda o: fastq_pairs(Path(f"{o}.fq"), interleaved=True),
            [("mappy sr (1 thread), any hit", -1), (f"mappy sr (1 thread), MAPQ >= {args.mapq}", args.mapq)],
            missing=None
            if mappy_python
            else f"not installed (pip install mappy=={MAPPY_VERSION} in a venv; --mappy-python or --build-mappy)",
        )
    )
    return out


def find_mappy(args: argparse.Namespace, work: Path) -> str | None:
    """A Python that imports mappy: --mappy-python, this one, or the venv that --build-mappy makes."""
    candidates = [args.mappy_python] if args.mappy_python else [sys.executable, str(work / "mappy-venv/bin/python")]
    for python in candidates:
        if python and Path(python).exists():
            if subprocess.run([python, "-c", "import mappy"], capture_output=True).returncode == 0:
                return python
    return None


def build_mappy(work: Path) -> Run:
    venv = work / "mappy-venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cmd = [str(venv / "bin/python"), "-m", "pip", "install", "--no-cache-dir", "--no-binary", "mappy",
           f"mappy=={MAPPY_VERSION}"]  # fmt: skip
    return measure(cmd, work / "mappy-build.log")


def count_pairs(path: Path) -> tuple[int, int]:
    """All pairs and off-target pairs (names starting with ``o``) of an R1 file."""
    total = off = 0
    with gzip.open(path, "rt") as handle:
        for i, line in enumerate(handle):
            if i % 4 == 0:
                total += 1
                off += line.startswith("@o")
    return total, off


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default="/tmp/dira-bench-fastq", help="where bench_fastq.py left its data")
    ap.add_argument("--young-model", choices=("master", "sibling"), default="master")
    ap.add_argument("--workdir", default="/tmp/dira-bench-peers", help="indexes, outputs (removed), mappy venv")
    ap.add_argument("--threads", type=int, default=2, help="threads for BBDuk and minimap2")
    ap.add_argument("--mapq", type=int, default=20, help="MAPQ threshold of the minimap2/mappy variant rows")
    ap.add_argument("--bbduk-memory", default="2g", help="BBDuk's Java heap (-Xmx)")
    ap.add_argument("--mappy-python", help="a Python with mappy installed (default: this one, or --workdir's venv)")
    ap.add_argument("--build-mappy", action="store_true", help=f"build mappy {MAPPY_VERSION} from source, timed")
    ap.add_argument("--only", nargs="+", help="recruiters to run (ours bbduk-hdist0 bbduk-hdist1 minimap2 mappy)")
    ap.add_argument("--examples", type=int, default=5, help="missed pairs listed per recruiter")
    args = ap.parse_args()

    cache, model = Path(args.cache), args.young_model
    ref = cache / f"bench-{model}.fa"
    tag = f"{SAMPLE}-{PAIRS}-{model}"
    files = {k: cache / f"{tag}_{k}.fastq.gz" for k in ("R1", "R2", "sub_R1", "sub_R2")}
    truth = cache / "work" / model / f"full-{PAIRS}" / "S.bam"  # bench_fastq.py: full mode on the subsample
    missing = [p for p in (ref, Path(f"{ref}.fai"), *files.values(), truth) if not p.exists()]
    if missing:
        sys.exit(
            f"missing {', '.join(map(str, missing))}: run tests/benchmark/bench_fastq.py --pairs {PAIRS} "
            f"--young-model {model} first (or pass --cache where it wrote its data)"
        )
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log(f"data: {ref}, {files['R1'].parent}/{tag}_*; work in {work}; load {load()}")

    if args.build_mappy:
        log(f"building mappy {MAPPY_VERSION} from source (pip --no-binary) into {work / 'mappy-venv'}")
        built = build_mappy(work)
        state = "ok" if built.code == 0 else f"FAILED (exit {built.code}, see {work / 'mappy-build.log'})"
        log(f"mappy build: {state}, wall {built.wall:.1f} s, CPU {built.cpu:.1f} s; load {built.load}")
    mappy_python = find_mappy(args, work)

    # The regions, padded as our index pads them; the peers get their sequences as reference.
    beds = [str(ROOT / "resources/SYNTH/window.bed"), str(ROOT / "resources/SYNTH/controls.bed")]
    regions = merged_regions(beds)
    with pysam.FastaFile(str(ref)) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths))
        padded = [(c, max(0, s - recruit.PAD), min(lengths[c], e + recruit.PAD)) for c, s, e in regions]
        ref_regions = work / f"regions-{model}.fa"
        with open(ref_regions, "w") as out:
            for c, s, e in padded:
                seq = fasta.fetch(c, s, e)
                out.write(f">{c}:{s}-{e}\n" + "".join(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60)))
    log(f"regions (+/- {recruit.PAD} bp): {padded}")

    index = work / f"kmers-{model}.npy"
    flat = [str(x) for r in regions for x in r]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    built = measure([sys.executable, "-c", OURS_INDEX, str(ref), str(index), *flat], work / "index.log", env)
    if built.code:
        sys.exit(f"our index build failed: see {work / 'index.log'}")
    log(f"our index (once per reference): wall {built.wall:.1f} s, CPU {built.cpu:.1f} s, "
        f"RSS {built.rss_gib:.2f} GiB; load {built.load}")  # fmt: skip

    placed = wanted_pairs(truth, padded)
    sub_total, sub_off = count_pairs(files["sub_R1"])
    log(f"subsample: {sub_total:,} pairs ({sub_off:,} off-target); wanted (full mode, MAPQ >= {WANTED_MAPQ} in "
        f"the regions, either mate): {len(placed):,}")  # fmt: skip
    full_total, full_off = PAIRS + sub_total - sub_off, PAIRS

    zcat = measure(["sh", "-c", f"zcat '{files['R1']}' '{files['R2']}' > /dev/null"], work / "zcat.log")
    log(f"zcat of both 1 M-pair files: wall {zcat.wall:.1f} s, CPU {zcat.cpu:.1f} s; load {zcat.load}")

    table = []
    for rec in recruiters(args, ref_regions, index, mappy_python):
        if args.only and rec.name not in args.only:
            continue
        if rec.missing:
            table += [(label, rec.missing) for label, _ in rec.rows]
            continue
        outputs = {}
        failed = None
        for which, (f1, f2) in (("sub", (files["sub_R1"], files["sub_R2"])), ("1M", (files["R1"], files["R2"]))):
            prefix = work / f"{rec.name}-{which}"
            run = measure(rec.command(f1, f2, prefix), Path(f"{prefix}.log"), rec.env)
            if run.code:
                failed = f"failed (exit {run.code}; see {prefix}.log)"
                break
            outputs[which] = (run, rec.kept(prefix))
            for leftover in work.glob(f"{rec.name}-{which}*"):
                if leftover.suffix in (".fq", ".paf"):
                    leftover.unlink()
            log(f"{rec.name} on {which}: wall {run.wall:.1f} s, CPU {run.cpu:.1f} s, RSS {run.rss_gib:.2f} GiB, "
                f"{len(outputs[which][1]):,} pairs kept; load {run.load}")  # fmt: skip
        if failed:
            table += [(label, failed) for label, _ in rec.rows]
            continue
        run = outputs["1M"][0]
        for label, mapq in rec.rows:
            sub = {n for n, q in outputs["sub"][1].items() if q >= mapq}
            big = {n for n, q in outputs["1M"][1].items() if q >= mapq}
            missed = sorted(set(placed) - sub)
            off_sub = sum(1 for n in sub if n.startswith("o"))
            off_big = sum(1 for n in big if n.startswith("o"))
            table.append((label, run, len(placed) - len(missed), off_sub, off_big, missed))

    print(f"\n== Recruiters on {tag} (threads {args.threads}; load average 1/5/15 min at the end of each run) ==")
    print(f"zcat of both 1 M-pair files: wall {zcat.wall:.1f} s, CPU {zcat.cpu:.1f} s (load {zcat.load})")
    print(f"our index build (once per reference): wall {built.wall:.1f} s, CPU {built.cpu:.1f} s")
    print(f"wanted pairs (subsample, full mode): {len(placed):,}; off-target pairs: {sub_off:,} in the subsample, "
          f"{full_off:,} in the 1 M-pair file ({full_total:,} pairs)\n")  # fmt: skip
    head = ("recruiter", "wall s", "CPU s", "CPU/zcat", "RSS GiB", "sensitivity", "missed", "off-target sub",
            "off-target 1M", "load")  # fmt: skip
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for row in table:
        if len(row) == 2:
            print(f"{row[0]} | {row[1]}")
            continue
        label, run, got, off_sub, off_big, missed = row
        print(" | ".join((label, f"{run.wall:.1f}", f"{run.cpu:.1f}", f"{run.cpu / zcat.cpu:.2f}x",
                          f"{run.rss_gib:.2f}", f"{got / len(placed):.3%} ({got:,})", f"{len(missed):,}",
                          f"{off_sub / sub_off:.2%} ({off_sub:,})", f"{off_big / full_off:.2%} ({off_big:,})",
                          run.load)))  # fmt: skip

    mask = Locus.load(ROOT / "resources" / "SYNTH").mask
    ends = {c: e for c, _, e in padded}

    def kind(contig: str, pos: int) -> str:
        if ends[contig] - pos < READ:
            return "end"  # the read runs out of the padded region: only part of it is region sequence
        return "repeat" if any(iv.chrom == contig and iv.start0 <= pos < iv.end for iv in mask) else "other"

    print("\nWhat each recruiter missed (wanted pairs not kept on the subsample). Position, MAPQ, CIGAR and NM of the")
    print(f"first mate full mode placed in the regions; 'end' = it starts < {READ} bp before a padded region's end,")
    print("'repeat' = in a RepeatMasker interval of resources/SYNTH/mask.bed, 'other' = neither:")
    every = None
    for row in table:
        if len(row) == 2:
            continue
        label, missed = row[0], row[5]
        every = set(missed) if every is None else every & set(missed)
        if not missed:
            print(f"- {label}: none")
            continue
        kinds = [kind(*placed[n][:2]) for n in missed]
        nm = [placed[n][4] for n in missed]
        counts = ", ".join(f"{kinds.count(k):,} {k}" for k in ("end", "repeat", "other"))
        on_ctrl = sum(1 for n in missed if placed[n][0] == "ctrl")
        print(f"- {label}: {len(missed):,} missed ({counts}; {on_ctrl:,} on ctrl), NM median "
              f"{statistics.median(nm):g} (max {max(nm)})")  # fmt: skip
        rank = {"other": 0, "repeat": 1, "end": 2}  # the most telling first
        order = sorted(missed, key=lambda n: (rank[kind(*placed[n][:2])], n))
        for name in order[: args.examples]:
            c, p, q, cigar, n = placed[name]
            print(f"    {name} {c}:{p + 1} MAPQ {q} {cigar} NM {n} ({kind(c, p)})")
    if every is not None:
        print(f"missed by every recruiter above: {len(every):,} ({', '.join(sorted(every)[: args.examples])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
