"""Does the workflow answer right on reads from another simulator? The bundled cohort re-simulated with ART or dwgsim.

The bundled cohort's reads come from ``dira_devtools.simulate``, whose error model the caller and the copy-number
code were developed on. This benchmark keeps everything else of the cohort (reference, haplotypes, truth, sample
sheet columns, default configuration) and replaces the reads: for every sample of ``test-data/truth.json`` it
builds the two haplotype sequences from ``test-data/reference/synth.fa`` with ``simulate.apply_edits`` (the same
edits the truth lists: planted alleles, VNTR alleles and background variants, ``simulate.edits_from_truth``),
writes each as FASTA, and simulates paired 2 x 150 bp reads at depth/2 per haplotype, fragments 400 +/- 60 bp:

- ART (HiSeq 2500 profile): ``art_illumina -ss HS25 -p -l 150 -f <depth/2> -m 400 -s 60 -na -rs <seed>``
- dwgsim (no planted mutations, no random reads, error rate rising 0.1% -> 1% along each read):
  ``dwgsim -N <pairs> -1 150 -2 150 -d 400 -s 60 -r 0 -R 0 -X 0 -y 0 -e 0.001-0.01 -E 0.001-0.01 -z <seed>``

The two haplotypes' reads are merged (each name prefixed with ``h1_`` / ``h2_``, the simulator's own name and
its ``/1`` ``/2`` suffix kept; R1 and R2 in the same order) into gzip FASTQ. Every sample becomes a FASTQ sample
(the bundled BAM/CRAM samples too), with the family/father/mother/sex columns of ``config/samples.tsv``, and
the workflow runs with the default configuration (``alignment.mode: recruit``; ``--modes recruit,full`` adds a
run with ``mode: full`` in another folder). Each report ``results/reports/<s>.dira.json`` is compared with the
truth as ``tests/workflow/test_cohort_truth.py`` does: DIRA status, DITRA status, small alleles (HGVS c. and
zygosity), deletions (ends within 10 bp, zygosity), gene copy numbers. Prints, per simulator and mode, the
truth x called confusion tables of DIRA and DITRA status and one line per sample (OK, or the differences with
the report's first reasons). Never asserts; ``--strict`` exits 1 on any difference.

Install the simulators (benchmark-only peers, not dependencies of the project):

    apt-get update && apt-get install -y art-nextgen-simulation-tools dwgsim     # Debian/Ubuntu, as root
    conda install -c bioconda art dwgsim                                          # without root

Examples:

    python tests/benchmark/bench_other_simulator.py                        # both simulators, recruit mode
    python tests/benchmark/bench_other_simulator.py --simulator art --samples DIRA-03,DIRA-07
    python tests/benchmark/bench_other_simulator.py --simulator dwgsim --modes recruit,full --depth 20

The output folder (default /tmp/dira-othersim) is reused: FASTQ whose stamp matches (simulator, version, seed,
depth, haplotypes) are kept, and Snakemake redoes only what changed. Needs ``bwa`` (the workflow's aligner) and
the bundled cohort in ``test-data/`` (``dira-genotyper test-cohort``).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from dira_devtools.simulate import Edit, apply_edits, edits_from_truth
from dira_devtools.simulate.reference import load_reference
from dira_devtools.simulate.sequence import _BASES

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "test-data"
READ_LENGTH = 150
FRAGMENT_MEAN = 400
FRAGMENT_SD = 60
DWGSIM_ERRORS = "0.001-0.01"  # per-base error rate, first-last cycle, both reads
STATUSES = ("affected", "carrier", "negative", "inconclusive")
REPORT_GENES = ("IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10")
DELETION_SLACK = 10  # bp, as tests/workflow/test_cohort_truth.py
REASON_CHARS = 240
INSTALL_HINT = (
    "install it with `apt-get update && apt-get install -y art-nextgen-simulation-tools dwgsim` (Debian/Ubuntu, "
    "as root) or `conda install -c bioconda art dwgsim`"
)
PROGRAMS = {"art": "art_illumina", "dwgsim": "dwgsim"}
STAMP_VERSION = "2"


# ---------------------------------------------------------------------------------------------------------------
# haplotypes and reads
# ---------------------------------------------------------------------------------------------------------------


def write_haplotype_fasta(reference: dict[str, np.ndarray], edits: Sequence[Edit], path: Path) -> int:
    """Write one haplotype (every contig of the reference, edits applied) as FASTA; returns its total length."""
    hap = apply_edits(reference, edits)
    total = 0
    with open(path, "w") as out:
        for contig, hs in hap.items():
            if not hs.seq.size:  # a chromosome this haplotype lacks (a male's second X, a female's Y)
                continue
            seq = _BASES[hs.seq].tobytes().decode()
            total += len(seq)
            out.write(f">{contig}\n")
            out.writelines(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60))
    return total


def tool_version(sim: str) -> str:
    exe = PROGRAMS[sim]
    proc = subprocess.run([exe] if sim == "art" else [exe, "-h"], capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    for line in text.splitlines():
        if "Version" in line:
            return " ".join(line.split())
    return "unknown version"


def simulate_haplotype(sim: str, fasta: Path, depth_hap: float, length: int, seed: int, prefix: Path) -> list[Path]:
    """Run the simulator on one haplotype FASTA; returns [R1, R2] (plain or gzip)."""
    if sim == "art":
        cmd = [
            "art_illumina", "-ss", "HS25", "-p", "-l", str(READ_LENGTH), "-f", f"{depth_hap:g}",
            "-m", str(FRAGMENT_MEAN), "-s", str(FRAGMENT_SD), "-na", "-q", "-rs", str(seed),
            "-i", str(fasta), "-o", str(prefix),
        ]  # fmt: skip
        outputs = [Path(f"{prefix}1.fq"), Path(f"{prefix}2.fq")]
    else:
        pairs = int(round(depth_hap * length / (2 * READ_LENGTH)))
        cmd = [
            "dwgsim", "-N", str(pairs), "-1", str(READ_LENGTH), "-2", str(READ_LENGTH),
            "-d", str(FRAGMENT_MEAN), "-s", str(FRAGMENT_SD), "-r", "0", "-R", "0", "-X", "0", "-y", "0",
            "-e", DWGSIM_ERRORS, "-E", DWGSIM_ERRORS, "-z", str(seed), "-o", "1", str(fasta), str(prefix),
        ]  # fmt: skip
        outputs = [Path(f"{prefix}.bwa.read1.fastq.gz"), Path(f"{prefix}.bwa.read2.fastq.gz")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not all(p.exists() for p in outputs):
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return outputs


def _open_text(path: Path):  # noqa: ANN202 - text file object
    return gzip.open(path, "rt") if path.name.endswith(".gz") else open(path)


def merge_haplotypes(reads: Sequence[Sequence[Path]], out1: Path, out2: Path) -> int:
    """Concatenate the haplotypes' pairs into gzip FASTQ, prefixing each read name with ``h<i>_``."""
    n = 0
    tmp1, tmp2 = out1.with_name(out1.name + ".tmp"), out2.with_name(out2.name + ".tmp")
    with gzip.open(tmp1, "wt", compresslevel=1) as o1, gzip.open(tmp2, "wt", compresslevel=1) as o2:
        for h, (r1, r2) in enumerate(reads, start=1):
            for path, out in ((r1, o1), (r2, o2)):
                with _open_text(path) as handle:
                    for i, line in enumerate(handle):
                        if i % 4 == 0:
                            if not line.startswith("@"):
                                raise RuntimeError(f"{path}: line {i + 1} is not a FASTQ header: {line[:80]!r}")
                            line = f"@h{h}_{line[1:]}"
                            n += out is o1
                        out.write(line)
    os.replace(tmp1, out1)
    os.replace(tmp2, out2)
    return n


def simulate_sample(
    sim: str, name: str, truth: dict, depth: float, seed: int, reference, fq_dir: Path, mixed_in: dict | None = None
) -> str:
    """Simulate one sample's FASTQ pair unless its stamp says it exists; returns a one-line summary. ``mixed_in``:
    the truth of the person whose DNA makes ``truth["sample_checks"]["contamination"]["fraction"]`` of the sample's
    (a prenatal sample's mother), simulated at that share of the depth."""
    fraction = truth.get("sample_checks", {}).get("contamination", {}).get("fraction", 0.0) if mixed_in else 0.0
    fq1, fq2 = fq_dir / f"{name}_R1.fastq.gz", fq_dir / f"{name}_R2.fastq.gz"
    stamp_path = fq_dir / f"{name}.stamp.json"
    stamp = {
        "version": STAMP_VERSION,
        "simulator": sim,
        "tool": tool_version(sim),
        "seed": seed,
        "depth": depth,
        "haplotypes": truth["haplotypes"],
        "background": truth.get("background", []),
        "vntr": truth.get("vntr"),
        "errors": DWGSIM_ERRORS if sim == "dwgsim" else "HS25",
        "sex": truth.get("sex"),
        "mixed_in": None if not mixed_in else [fraction, mixed_in["haplotypes"], mixed_in.get("background", [])],
    }
    if fq1.exists() and fq2.exists() and stamp_path.exists():
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                return f"{name}: kept ({fq1})"
        except json.JSONDecodeError:
            pass
    stamp_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=fq_dir) as tmp:
        reads = []
        haplotypes = [(hap, (1 - fraction) / 2) for hap in edits_from_truth(truth, reference)]
        if mixed_in:
            haplotypes += [(hap, fraction / 2) for hap in edits_from_truth(mixed_in, reference)]
        for h, (hap, share) in enumerate(haplotypes, start=1):
            fasta = Path(tmp) / f"hap{h}.fa"
            length = write_haplotype_fasta(reference, hap, fasta)
            hap_seed = zlib.crc32(f"{seed}:{sim}:{name}:{h}".encode()) & 0x7FFFFFFF
            reads.append(simulate_haplotype(sim, fasta, depth * share, length, hap_seed, Path(tmp) / f"hap{h}_"))
        pairs = merge_haplotypes(reads, fq1, fq2)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    return f"{name}: {pairs:,} pairs at {depth:g}x in {time.perf_counter() - t0:.0f} s"


# ---------------------------------------------------------------------------------------------------------------
# workflow
# ---------------------------------------------------------------------------------------------------------------


def sheet_rows(samples: Sequence[str]) -> list[dict]:
    """The bundled sheet's family columns for ``samples`` (a parent left out of the subset is emptied)."""
    with open(ROOT / "config" / "samples.tsv") as handle:
        rows = {r["sample"]: r for r in csv.DictReader(handle, delimiter="\t")}
    out = []
    for s in samples:
        r = rows.get(s, {})
        father, mother = r.get("father", ""), r.get("mother", "")
        out.append(
            {
                "sample": s,
                "family": r.get("family", ""),
                "father": father if father in samples else "",
                "mother": mother if mother in samples else "",
                "sex": r.get("sex", ""),
            }
        )
    return out


def write_workdir(work: Path, fq_dir: Path, samples: Sequence[str], mode: str) -> Path:
    """Run folder as tests/conftest.py:make_workdir: resources/ and test-data/ linked, the default config copied
    (``alignment.mode`` set to ``mode``), a sheet of FASTQ samples."""
    (work / "config").mkdir(parents=True, exist_ok=True)
    for name in ("resources", "test-data"):
        link = work / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    rows = ["sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"]
    for r in sheet_rows(samples):
        fq1, fq2 = fq_dir / f"{r['sample']}_R1.fastq.gz", fq_dir / f"{r['sample']}_R2.fastq.gz"
        rows.append(f"{r['sample']}\t{fq1}\t{fq2}\t\t{r['family']}\t{r['father']}\t{r['mother']}\t{r['sex']}\n")
    _write_if_changed(work / "config" / "samples.tsv", "".join(rows))
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.setdefault("alignment", {})["mode"] = mode
    _write_if_changed(work / "config" / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    return work


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def run_workflow(work: Path, cores: int) -> tuple[float, int]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(work)]
    cmd += ["--cores", str(cores), "--keep-going", "--rerun-incomplete"]
    t0 = time.perf_counter()
    with open(work / "snakemake.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - t0, proc.returncode


# ---------------------------------------------------------------------------------------------------------------
# comparison with the truth
# ---------------------------------------------------------------------------------------------------------------


def c_name(name: str | None) -> str | None:
    return name.split(":", 1)[1] if name and ":" in name else name


def short(text: str, n: int = REASON_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def compare(expected: dict, got: dict) -> list[str]:
    """Differences between a report and its truth (empty: the report is right)."""
    diffs = []
    if got["status"] != expected["status"]:
        diffs.append(f"DIRA {expected['status']} -> {got['status']}")
    for disease, status in expected.get("differential", {}).items():
        called = (got.get("differential") or {}).get(disease, {}).get("status")
        if called != status:
            diffs.append(f"{disease} {status} -> {called}")
    sections = (got.get("differential") or {}).values()
    reported = [*got["alleles"], *(a for section in sections for a in section["alleles"])]
    small = {(c_name(a["hgvs_c"]), a["zygosity"]) for a in reported if a["kind"] != "deletion"}
    expected_small = {(a["hgvs_c"], a["zygosity"]) for a in expected["alleles"] if a["kind"] != "deletion"}
    for name, zyg in sorted(expected_small - small):
        benign = any(name in r and "benign" in r for r in got["reasons"])
        if not benign:
            same = [z for n, z in small if n == name]
            diffs.append(f"{name} {zyg} -> {same[0] if same else 'not reported'}")
    for name, zyg in sorted(small - expected_small, key=str):
        if name not in {n for n, _ in expected_small}:
            diffs.append(f"extra allele {name} {zyg}")
    found = []
    for d in expected["deletions"]:
        match = [
            x
            for x in got["deletions"]
            if abs(x["start"] - d["start"]) <= DELETION_SLACK and abs(x["end"] - d["end"]) <= DELETION_SLACK
        ]
        if not match:
            diffs.append(f"deletion {d['start']}-{d['end']} {d['zygosity']} not found")
        elif match[0]["zygosity"] != d["zygosity"]:
            diffs.append(f"deletion {d['start']}-{d['end']} {d['zygosity']} -> {match[0]['zygosity']}")
        found += match[:1]
    for x in got["deletions"]:
        if x not in found:
            diffs.append(f"extra deletion {x['start']}-{x['end']} ({x['size']} bp) {x['zygosity']}")
    if got["qc"]["cnv_status"] == "called":
        wrong = [
            f"{g} {expected['copy_number'][g]}->{got['copy_number'][g]}"
            for g in REPORT_GENES
            if got["copy_number"].get(g) != expected["copy_number"][g]
        ]
        if wrong:
            diffs.append("copy number " + ", ".join(wrong))
    elif expected["status"] != "inconclusive":
        diffs.append(f"copy number not called ({got['qc']['cnv_status']})")
    return diffs


def confusion(title: str, pairs: Sequence[tuple[str, str]]) -> list[str]:
    cols = [*STATUSES, "no report"]
    head = f"{title:<14}" + "".join(f"{c:>13}" for c in cols)
    lines = [head]
    for t in STATUSES:
        row = [sum(1 for a, b in pairs if a == t and b == c) for c in cols]
        if any(row):
            lines.append(f"  {t:<12}" + "".join(f"{v:>13}" for v in row))
    right = sum(1 for a, b in pairs if a == b)
    lines.append(f"  right {right}/{len(pairs)}")
    return lines


def evaluate(label: str, work: Path, truth: dict, samples: Sequence[str]) -> tuple[list[str], int]:
    """Print-ready lines for one run and its number of samples with differences."""
    dira, ditra, rows = [], [], []
    bad = 0
    for s in samples:
        expected = truth[s]
        path = work / "results" / "reports" / f"{s}.dira.json"
        if not path.exists():
            bad += 1
            dira.append((expected["status"], "no report"))
            ditra.append((expected["differential"].get("DITRA", "negative"), "no report"))
            rows.append(f"  {s:<14} NO REPORT (see {work / 'snakemake.log'}, {work / 'logs'})")
            continue
        got = json.loads(path.read_text())
        dira.append((expected["status"], got["status"]))
        ditra_truth = expected["differential"].get("DITRA", "negative")
        ditra.append((ditra_truth, (got.get("differential") or {}).get("DITRA", {}).get("status", "no report")))
        qc = got["qc"]
        facts = f"depth {qc.get('mean_depth')}, callable CDS {qc.get('callable_fraction_cds')}"
        diffs = compare(expected, got)
        if not diffs:
            rows.append(f"  {s:<14} OK   {got['status']}/{ditra[-1][1]} ({facts})")
            continue
        bad += 1
        rows.append(f"  {s:<14} DIFF {'; '.join(diffs)} ({facts})")
        rows += [f"      reason: {short(r)}" for r in got["reasons"][:3]]
    lines = [f"== {label}: {len(samples) - bad}/{len(samples)} samples right", *confusion("DIRA truth", dira)]
    lines += [*confusion("DITRA truth", ditra), "  per sample:", *rows]
    return lines, bad


# ---------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--simulator", choices=("art", "dwgsim", "both"), default="both")
    ap.add_argument("--out", default="/tmp/dira-othersim", help="work folder, reused (default: %(default)s)")
    ap.add_argument("--samples", default="", help="comma-separated samples of truth.json (default: all)")
    ap.add_argument(
        "--depth",
        type=float,
        default=None,
        help="cohort depth (default: truth.json's, 30x); samples keep their ratio to it (DIRA-09: 0.2)",
    )
    ap.add_argument("--modes", default="recruit", help="alignment modes to run, comma-separated: recruit,full")
    ap.add_argument("--seed", type=int, default=7, help="read seed (default: %(default)s)")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores (default: %(default)s)")
    ap.add_argument("--no-workflow", action="store_true", help="only simulate, then compare existing reports")
    ap.add_argument("--strict", action="store_true", help="exit 1 when any sample differs from the truth")
    args = ap.parse_args(argv)

    truth_path = TEST_DATA / "truth.json"
    ref_path = TEST_DATA / "reference" / "synth.fa"
    if not truth_path.exists() or not ref_path.exists():
        print(f"{truth_path} or {ref_path} is missing: run `dira-genotyper test-cohort` first", file=sys.stderr)
        return 2
    sims = ["art", "dwgsim"] if args.simulator == "both" else [args.simulator]
    for sim in sims:
        if shutil.which(PROGRAMS[sim]) is None:
            print(f"{PROGRAMS[sim]} ({sim}) is not on PATH: {INSTALL_HINT}", file=sys.stderr)
            return 2
    if not args.no_workflow and shutil.which("bwa") is None:
        print("bwa is needed by the workflow: apt-get install -y bwa", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"recruit", "full"}:
        print(f"--modes {args.modes!r}: use recruit, full or recruit,full", file=sys.stderr)
        return 2
    truth = json.loads(truth_path.read_text())
    samples = [s for s in args.samples.split(",") if s] or list(truth)
    unknown = [s for s in samples if s not in truth]
    if unknown:
        print(f"unknown sample(s) {unknown}; truth.json has {', '.join(truth)}", file=sys.stderr)
        return 2
    top = max(float(t["depth"]) for t in truth.values())
    scale = (args.depth / top) if args.depth else 1.0
    out = Path(args.out)
    reference = load_reference(ref_path)

    report, total_bad = [], 0
    for sim in sims:
        fq_dir = out / sim / "fastq"
        fq_dir.mkdir(parents=True, exist_ok=True)
        print(f"# {sim}: {tool_version(sim)}; 2 x {READ_LENGTH} bp, fragments {FRAGMENT_MEAN} +/- {FRAGMENT_SD}")
        t0 = time.perf_counter()
        for s in samples:
            depth = round(float(truth[s]["depth"]) * scale, 3)
            source = truth[s].get("sample_checks", {}).get("contamination", {}).get("source")
            mixed_in = truth[source] if source else None
            print("  " + simulate_sample(sim, s, truth[s], depth, args.seed, reference, fq_dir, mixed_in), flush=True)
        print(f"  simulation: {time.perf_counter() - t0:.0f} s", flush=True)
        for mode in modes:
            work = out / sim / mode
            if not args.no_workflow:
                write_workdir(work, fq_dir, samples, mode)
                t_wf, rc = run_workflow(work, args.cores)
                print(f"  workflow ({mode}): {t_wf:.0f} s, exit {rc} (log {work / 'snakemake.log'})", flush=True)
            lines, bad = evaluate(f"{sim}, alignment.mode {mode}", work, truth, samples)
            report += [*lines, ""]
            total_bad += bad
    print()
    print("\n".join(report))
    return 1 if args.strict and total_bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
