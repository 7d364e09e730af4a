"""Benchmark of the final DIRA status (affected / carrier / negative / inconclusive) on simulated classes.

The classes (``status_classes.py``; truth in brackets): normal [negative]; heterozygous c.160C>T [carrier];
heterozygous ~175 kb cluster deletion (``simulate.cohort_design``'s ``big``) [carrier]; that deletion with
c.229G>T, c.213_227del or the frameshift c.156_157del on the other copy [affected]; a heterozygous ~1.5 kb
deletion inside IL1RN intron 1 (from the GFF3, >= 100 bp from both exons) alone [negative] and with
c.160C>T on the other copy [carrier]; a heterozygous 1.2 kb intron-1 deletion ending at c.117-1 (the exon-2
acceptor, no coding base) with c.160C>T on the other copy [inconclusive, presumed biallelic: both loss-of-function,
a copy-number deletion is not phased from read pairs]; a heterozygous IL1RN exon-3 deletion (``cohort_design``'s
``exdel``) with c.160C>T on the other copy [inconclusive, presumed biallelic: unphased without parents]; a
heterozygous tandem duplication of IL1RN +/- 1 kb [inconclusive: duplications are reported, not interpreted];
homozygous c.229G>T [affected]. The further window's gene (issue #23: LPIN2 on chr18, judged on the report's
``differential.Majeed`` status): heterozygous c.1157C>G p.(Ser386*) [carrier]; homozygous c.2201C>T (S734L)
[affected]; c.1157C>G with c.540_541del on the other copy [inconclusive, presumed biallelic: unphased]; a
homozygous deletion of LPIN2 exon 6 with the flanks of the IL1RN exon-3 deletion [affected]; that deletion with
c.2201C>T on the other copy [inconclusive, presumed biallelic]; a heterozygous 1.5 kb deletion in LPIN2's longest
intron [negative].

Each class is simulated WGS-like (``simulate.simulate_sample``, mode "wgs") at every depth (default 10, 20,
30) with ``--replicates`` seeds, each sample with a background genome of its own (``simulate.make_population``:
common SNVs and short indels, ~1 heterozygous SNV per 1.3 kb, and IL1RN intron-2 VNTR alleles of 2-6 copies;
``--no-background`` for the bare reference), aligned with ``simulate.align_to_bam`` to the synthetic SYNTH reference
(``simulate.make_reference``, ``--seed``), and the real workflow runs once over all samples (``bam`` inputs,
``build: SYNTH``) in ``{out}/work``. As a laboratory runs it with gnomAD, the workflow reads the population VCF of
the samples' background population (``simulate.write_population_vcf``: every common site with its allele
frequency); ``--population none`` runs without population data (then only the analysed range keeps a genome's
own deep-intronic and UTR SNVs out of the status, and a common one near an exon is of uncertain significance).
``--subsample`` simulates only the highest depth and draws the lower ones from its BAM (samtools-style template
hashing), which costs a third of the alignment.

Prints per class x depth: n, right, wrong, inconclusive, status accuracy, and the status and first reason of
every sample not right; then the totals and whether the goal of issue #19 is met: at >= 30x every status right, at
20x at least 10 of 11 right, at every depth never a wrong status (a status neither the truth nor inconclusive;
inconclusive allowed). Prints the wall time of simulation + alignment and of the workflow; never asserts timings.

    python tests/benchmark/bench_status.py                      # full: 12 classes x 3 depths x 2 replicates
    python tests/benchmark/bench_status.py --quick              # 2 classes at 30x, 1 replicate
    python tests/benchmark/bench_status.py --classes dup_IL1RN,intron_del --depths 20 --replicates 1
    python tests/benchmark/bench_status.py --subsample --out /tmp/bench-status

Work folder (default /tmp/dira-bench-status) is reused: BAMs and workflow outputs that exist are kept (use a
fresh folder after changing ``--no-background``).
Needs bwa. Exits 1 with ``--strict`` when the goal is not met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from status_classes import StatusClass, status_classes  # noqa: E402

from dira_devtools import simulate as sim  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RES = ROOT / "resources" / "SYNTH"
QUICK_CLASSES = ("del175+fs", "dup_IL1RN")
REASON_CHARS = 260
# words of the reasons that block a status (printed as "why" when the first reason only names an allele)
WHY_WORDS = ("cannot be excluded", "not called", "failed filters", "not callable", "duplication", "only one copy")


@dataclass(frozen=True)
class Sample:
    name: str
    cls: StatusClass
    depth: int
    replicate: int
    seed: int


def sample_seed(seed: int, cls: str, replicate: int, depth: int) -> int:
    return zlib.crc32(f"{seed}:{cls}:{replicate}:{depth}".encode()) & 0x7FFFFFFF


def build_reference(out: Path, seed: int) -> Path:
    ref = out / "ref" / "synth.fa"
    stamp = out / "ref" / "seed.txt"
    key = f"{seed} simulator {sim.SIM_VERSION}"
    if not (ref.exists() and stamp.exists() and stamp.read_text() == key):
        sim.make_reference(RES, ref, seed)
        stamp.write_text(key)
    sim.bwa_index(ref)
    return ref


def _simulate_one(job: tuple) -> tuple[str, float]:
    ref, name, haplotypes, depth, seed, bam_dir = job
    t = time.perf_counter()
    bam = Path(bam_dir) / f"{name}.bam"
    prefix = Path(bam_dir) / "tmp" / name
    prefix.parent.mkdir(parents=True, exist_ok=True)
    fq1, fq2 = sim.simulate_sample(ref, RES, [list(h) for h in haplotypes], depth, "wgs", seed, prefix, name)
    sim.align_to_bam(ref, fq1, fq2, bam, name, threads=1)
    fq1.unlink()
    fq2.unlink()
    return name, time.perf_counter() - t


def subsample(src: Path, fraction: float, out: Path, seed: int, name: str) -> None:
    """Keep ``fraction`` of the templates of ``src`` (samtools view -s semantics: a template is kept or dropped
    whole); the read group (header and RG tags) is renamed to ``name``."""
    tmp = out.with_name(out.name + ".tmp.bam")
    pysam.view(
        "-b",
        "--no-PG",
        "-s",
        f"{seed % 100000}{str(round(fraction, 4))[1:]}",
        "-o",
        str(tmp),
        str(src),
        catch_stdout=False,
    )
    with pysam.AlignmentFile(str(tmp)) as inp:
        header = inp.header.to_dict()
        header["RG"] = [dict(rg, ID=name, SM=name) for rg in header.get("RG", [])]
        with pysam.AlignmentFile(str(out), "wb", header=header) as dst:
            for read in inp:
                if read.has_tag("RG"):
                    read.set_tag("RG", name)
                dst.write(read)
    tmp.unlink()
    pysam.index(str(out))


def sample_haplotypes(s: Sample, population: sim.Population | None) -> list[list[sim.Edit]]:
    """The class's planted edits, with a background genome of its own (common variants, VNTR alleles) drawn
    from ``population`` with the sample's seed; the planted edits alone without a population."""
    if population is None:
        return [list(h) for h in s.cls.haplotypes]
    genome = population.founder(np.random.default_rng(s.seed))
    return population.haplotype_edits(genome, s.cls.haplotypes).edits


def simulate_all(
    samples: list[Sample], ref: Path, out: Path, workers: int, use_subsample: bool, population: sim.Population | None
) -> float:
    t0 = time.perf_counter()
    bam_dir = out / "bam"
    bam_dir.mkdir(parents=True, exist_ok=True)
    top = {}
    if use_subsample:
        for s in samples:
            key = (s.cls.name, s.replicate)
            if key not in top or s.depth > top[key].depth:
                top[key] = s
    direct = list(top.values()) if use_subsample else samples
    jobs = [
        (str(ref), s.name, sample_haplotypes(s, population), s.depth, s.seed, str(bam_dir))
        for s in direct
        if not Path(str(bam_dir / f"{s.name}.bam") + ".bai").exists()
    ]
    if jobs:
        print(f"simulating + aligning {len(jobs)} sample(s) on {workers} worker(s)", flush=True)
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            for i, (name, secs) in enumerate(pool.map(_simulate_one, jobs), 1):
                print(f"  [{i}/{len(jobs)}] {name} {secs:.0f} s", flush=True)
    if use_subsample:
        for s in samples:
            src = top[(s.cls.name, s.replicate)]
            dst = bam_dir / f"{s.name}.bam"
            if s is not src and not Path(str(dst) + ".bai").exists():
                subsample(bam_dir / f"{src.name}.bam", s.depth / src.depth, dst, s.seed, s.name)
    shutil.rmtree(bam_dir / "tmp", ignore_errors=True)
    return time.perf_counter() - t0


def write_workdir(samples: list[Sample], ref: Path, out: Path, population_vcf: Path | None) -> Path:
    work = out / "work"
    (work / "config").mkdir(parents=True, exist_ok=True)
    link = work / "resources"
    if not link.exists():
        link.symlink_to(ROOT / "resources")
    rows = ["sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"]
    rows += [f"{s.name}\t\t\t{out / 'bam' / (s.name + '.bam')}\t\t\t\t\n" for s in samples]
    sheet = work / "config" / "samples.tsv"
    text = "".join(rows)
    if not sheet.exists() or sheet.read_text() != text:
        sheet.write_text(text)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(samples=str(sheet), reference=str(ref), build="SYNTH", population_vcf=str(population_vcf or ""))
    text = yaml.safe_dump(config, sort_keys=False)
    cfg = work / "config" / "config.yaml"
    if not cfg.exists() or cfg.read_text() != text:
        cfg.write_text(text)
    return work


def run_workflow(work: Path, cores: int) -> tuple[float, int]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        str(cores),
        "--keep-going",
        "--rerun-incomplete",
    ]
    t0 = time.perf_counter()
    with open(work / "snakemake.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - t0, proc.returncode


def short(text: str, n: int = REASON_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def evaluate(samples: list[Sample], work: Path, depths: list[int]) -> bool:
    classes = list(dict.fromkeys(s.cls.name for s in samples))
    by_key: dict[tuple[str, int], list[Sample]] = {}
    for s in samples:
        by_key.setdefault((s.cls.name, s.depth), []).append(s)
    head = (
        f"{'class':<16} {'truth':<12} {'depth':>5} {'n':>3} {'right':>5} {'wrong':>5} {'incon':>5} {'miss':>4} "
        f"{'acc':>6}"
    )
    lines = [head, "-" * len(head)]
    totals = {d: [0, 0, 0, 0, 0] for d in depths}  # n right wrong incon missing
    goal_ok = True
    fails = []
    for c in classes:
        for d in depths:
            group = by_key.get((c, d), [])
            if not group:
                continue
            n = right = wrong = incon = missing = 0
            notes = []
            for s in sorted(group, key=lambda s: s.replicate):
                n += 1
                path = work / "results" / "reports" / f"{s.name}.dira.json"
                if not path.exists():
                    missing += 1
                    notes.append(f"    {s.name}: NO REPORT (see {work}/snakemake.log)")
                    continue
                rep = json.loads(path.read_text())
                if s.cls.disease != rep.get("disease", "DIRA") and s.cls.disease in (rep.get("differential") or {}):
                    rep = rep["differential"][s.cls.disease]  # a differential's class: its status and evidence
                status = rep.get("status")
                if status == s.cls.truth:
                    right += 1
                    continue
                if status == "inconclusive":
                    incon += 1
                else:
                    wrong += 1
                reasons = rep.get("reasons") or [rep.get("summary", "")]
                gene = rep.get("gene") or "IL1RN"  # a differential section names its gene
                cn = rep.get("copy_number")  # a differential section holds its gene's number
                cn = cn.get(gene) if isinstance(cn, dict) else cn
                ex = ",".join(
                    str(e.get("copy_number")) for e in rep.get("exon_copy_number", []) if e.get("gene") == gene
                )
                notes.append(f"    {s.name}: {status} ({gene} CN {cn}, exons {ex}) - {short(reasons[0])}")
                why = next((r for r in reasons[1:] if any(k in r for k in WHY_WORDS)), None)
                if why and not any(k in reasons[0] for k in WHY_WORDS):
                    notes.append(f"      why: {short(why)}")
            t = totals[d]
            for i, v in enumerate((n, right, wrong, incon, missing)):
                t[i] += v
            ok = (right == n) if d >= 30 else (wrong == 0 and missing == 0)
            goal_ok &= ok
            if not ok:
                fails.append(f"{c} at {d}x")
            truth = group[0].cls.truth
            lines.append(
                f"{c:<16} {truth:<12} {d:>4}x {n:>3} {right:>5} {wrong:>5} {incon:>5} {missing:>4} "
                f"{right / n:>6.0%}{'' if ok else '  <- goal missed'}"
            )
            lines += notes
    lines.append("-" * len(head))
    for d in depths:
        n, right, wrong, incon, missing = totals[d]
        if n:
            lines.append(
                f"{'total':<16} {'':<12} {d:>4}x {n:>3} {right:>5} {wrong:>5} {incon:>5} {missing:>4} {right / n:>6.0%}"
            )
    print("\n".join(lines))
    # issue #19: at 30x every class right; at 20x at least 10 of 11 right; never a wrong status at any depth
    for d in depths:
        n, right, wrong, incon, missing = totals[d]
        if not n:
            continue
        if d >= 30:
            text, met = "every status right", right == n
        elif d >= 20:
            text, met = "at least 10 of 11 right, none wrong", right * 11 >= n * 10 and wrong == missing == 0
        else:
            text, met = "never a wrong status", wrong == missing == 0
        print(f"goal at {d}x, {text}: {'MET' if met else 'NOT MET'}")
        if not met and d >= 20 and d < 30:
            fails.append(f"{right} of {n} right at {d}x")
        goal_ok &= met
    print(f"overall goal: {'MET' if goal_ok else 'NOT MET (' + '; '.join(fails) + ')'}")
    return goal_ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"1 replicate of {', '.join(QUICK_CLASSES)} at 30x")
    ap.add_argument("--out", default="/tmp/dira-bench-status", help="work folder (reused between runs)")
    ap.add_argument("--seed", type=int, default=4242, help="reference and read seed")
    ap.add_argument("--replicates", type=int, default=2)
    ap.add_argument("--depths", default="10,20,30")
    ap.add_argument("--classes", default="", help="comma-separated class names (default: all)")
    ap.add_argument("--threads", type=int, default=2, help="parallel simulation + alignment workers")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    ap.add_argument("--subsample", action="store_true", help="simulate the top depth only, subsample the rest")
    ap.add_argument("--no-workflow", action="store_true", help="only simulate; evaluate existing reports")
    ap.add_argument(
        "--no-background",
        action="store_true",
        help="planted alleles on the bare reference (no common variants, every VNTR allele the reference's)",
    )
    ap.add_argument(
        "--population",
        choices=("sites", "none"),
        default="sites",
        help="population VCF of the background's common sites, as gnomAD for a lab (default), or none",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 when the goal is not met")
    args = ap.parse_args(argv)
    if shutil.which("bwa") is None:
        print("bwa is needed (apt-get install -y bwa)", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    depths = [30] if args.quick else sorted(int(x) for x in args.depths.split(","))
    replicates = 1 if args.quick else args.replicates

    t0 = time.perf_counter()
    ref = build_reference(out, args.seed)
    t_ref = time.perf_counter() - t0
    classes = status_classes(RES, ref)
    names = [c.name for c in classes]
    wanted = QUICK_CLASSES if args.quick and not args.classes else ([x for x in args.classes.split(",") if x] or names)
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown class(es) {unknown}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    classes = [c for c in classes if c.name in wanted]
    print(f"reference {ref} (seed {args.seed}) in {t_ref:.1f} s; classes:")
    for c in classes:
        print(f"  {c.name:<16} [{c.truth}] {c.what}")

    samples = [
        Sample(f"{c.name.replace('+', '_')}-{d}x-r{r + 1}", c, d, r + 1, sample_seed(args.seed, c.name, r, d))
        for c in classes
        for d in depths
        for r in range(replicates)
    ]
    population = None if args.no_background else sim.make_population(sim.load_reference(ref), RES, args.seed)
    t_sim = simulate_all(samples, ref, out, args.threads, args.subsample, population)
    print(
        f"simulation + alignment: {len(samples)} samples in {t_sim:.0f} s"
        f"{' (lower depths subsampled)' if args.subsample else ''}",
        flush=True,
    )
    work = out / "work"
    if not args.no_workflow:
        population_vcf = None
        if population is not None and args.population == "sites":
            population_vcf = sim.write_population_vcf(
                out / "population" / "population_af.vcf.gz", ref, {}, {}, population.sites
            )
        print(f"population data: {population_vcf or 'none'}", flush=True)
        work = write_workdir(samples, ref, out, population_vcf)
        t_wf, rc = run_workflow(work, args.cores)
        print(
            f"workflow: {len(samples)} samples in {t_wf:.0f} s on {args.cores} cores (exit {rc}; "
            f"log {work / 'snakemake.log'})",
            flush=True,
        )
    print()
    ok = evaluate(samples, work, depths)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
