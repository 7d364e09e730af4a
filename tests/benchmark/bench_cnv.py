"""Benchmark of the CNV caller (dira_genotyper.cnv) on simulated deletions, side by side with delly.

Simulates WGS-like samples (60x, then subsampled to 30x/20x/10x with samtools-style template hashing) that
carry deletions of random size (200 bp - 300 kb), position and zygosity, plus IL1RN exon-level deletions,
and exome-like samples called in cohort mode. Prints per class sensitivity, copy-number concordance and
breakpoint error; false positives per sample and wrong IL1RN calls; delly's figures on the same BAMs; and
the wall time and peak RSS of cnv-count + cnv-call on a small and on a large BAM (reads outside the
regions).

    python tests/benchmark/bench_cnv.py            # default run (~10 min on 2 cores)
    python tests/benchmark/bench_cnv.py --quick    # smaller (~3 min)
    python tests/benchmark/bench_cnv.py --depths 10,8,6 --min-control-depth 4   # low depth, floor lowered

Gene copy numbers (every gene of genes.tsv) are scored right / wrong / no-call against the simulated events.

Needs bwa (alignment) and, for the comparison, delly (`apt-get install -y delly`; skipped if absent).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from dira_devtools import simulate as sim
from dira_genotyper import cnv
from dira_genotyper.locus import Gene

ROOT = Path(__file__).resolve().parents[2]
SIZE_BINS = [(200, 1000), (1000, 10_000), (10_000, 100_000), (100_000, 300_000)]
GAP = 20_000  # minimum spacing between two events of one sample


@dataclass
class Event:
    chrom: str
    start: int  # 1-based inclusive deleted bases
    end: int
    zygosity: str  # hom | het
    kind: str  # size class label or "exon"

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    @property
    def cn(self) -> int:
        return 0 if self.zygosity == "hom" else 1


@dataclass
class Design:
    name: str
    events: list[Event] = field(default_factory=list)
    mode: str = "wgs"


def size_label(size: int) -> str:
    for lo, hi in SIZE_BINS:
        if lo <= size < hi:
            return f"{lo // 1000 if lo >= 1000 else lo}{'k' if lo >= 1000 else ''}-{hi // 1000}k"
    return ">=300k"


def placement_span(res: cnv.LocusResources) -> tuple[str, int, int]:
    """Where random deletions may fall: the window between the two flank control regions (1-based)."""
    window = res.windows[0]
    flanks = sorted((c for c in res.controls if c.chrom == window.chrom), key=lambda r: r.start)
    lo = max([c.end for c in flanks if c.end <= (window.start + window.end) // 2] + [window.start]) + 2000
    hi = min([c.start for c in flanks if c.start >= (window.start + window.end) // 2] + [window.end]) - 2000
    return window.chrom, lo, hi


def exon_event(rng: np.random.Generator, res: cnv.LocusResources, zygosity: str) -> Event:
    exons = [e for e in res.exons if e.gene == res.target_gene]
    ex = exons[int(rng.integers(len(exons)))]
    size = int(rng.integers(1500, 2001))
    size = max(size, ex.end - ex.start + 201)
    start = int(rng.integers(ex.end - size + 100, ex.start - 99 + 1))
    return Event(ex.chrom, start, start + size - 1, zygosity, "exon")


def random_events(
    rng: np.random.Generator,
    res: cnv.LocusResources,
    n: int,
    size_bins: list[tuple[int, int]],
    taken: list[Event],
) -> list[Event]:
    chrom, lo, hi = placement_span(res)
    out: list[Event] = []
    for i in range(n):
        a, b = size_bins[i % len(size_bins)]
        for _ in range(200):
            size = int(round(math.exp(rng.uniform(math.log(a), math.log(b)))))
            start = int(rng.integers(lo, hi - size))
            end = start + size - 1
            if all(end + GAP < e.start or start > e.end + GAP for e in taken + out):
                out.append(Event(chrom, start, end, "hom" if rng.random() < 0.5 else "het", size_label(size)))
                break
    return out


def design_cohort(
    res: cnv.LocusResources, seed: int, n_normal: int, n_events: int, n_exon: int, n_exome: int
) -> list[Design]:
    rng = np.random.default_rng(seed)
    designs = [Design(f"normal{i + 1}") for i in range(n_normal)]
    for i in range(n_events):
        d = Design(f"del{i + 1}")
        if i < n_exon:
            d.events.append(exon_event(rng, res, "hom" if i % 2 else "het"))
        bins = SIZE_BINS[::-1] if i % 2 else SIZE_BINS
        d.events += random_events(rng, res, 3, [bins[i % 4], bins[(i + 1) % 4], bins[(i + 2) % 4]], d.events)
        designs.append(d)
    for i in range(n_exome):
        d = Design(f"exome{i + 1}", mode="exome")
        if i >= 4:  # the first four are the normal reference samples
            k = i - 4
            if k % 2 == 0:
                d.events.append(exon_event(rng, res, "hom" if k % 4 else "het"))
            else:
                il1rn = next(g for g in res.genes if g.name == res.target_gene)
                d.events.append(
                    Event(
                        il1rn.chrom,
                        il1rn.start - 5000,
                        il1rn.end + 5000,
                        "het" if k % 4 == 1 else "hom",
                        "gene",
                    )
                )
        designs.append(d)
    return designs


def haplotypes(d: Design) -> list[list[sim.Edit]]:
    h1 = [sim.deletion(e.chrom, e.start, e.end) for e in d.events]
    h2 = [sim.deletion(e.chrom, e.start, e.end) for e in d.events if e.zygosity == "hom"]
    return [h1, h2]


def subsample(bam: Path, fraction: float, out: Path, seed: int) -> Path:
    if not out.exists():
        pysam.view(
            "-b",
            "--no-PG",
            "-s",
            f"{seed}{str(round(fraction, 4))[1:]}",
            "-o",
            str(out),
            str(bam),
            catch_stdout=False,
        )
        pysam.index(str(out))
    return out


def simulate(
    designs: list[Design],
    ref: Path,
    res_dir: Path,
    out: Path,
    depth: float,
    exome_depth: float,
    seed: int,
    threads: int,
) -> dict[str, Path]:
    bams = {}
    for i, d in enumerate(designs):
        bam = out / "bam" / f"{d.name}.bam"
        if not bam.exists():
            prefix = out / "tmp" / d.name
            prefix.parent.mkdir(parents=True, exist_ok=True)
            fq1, fq2 = sim.simulate_sample(
                ref,
                res_dir,
                haplotypes(d),
                exome_depth if d.mode == "exome" else depth,
                d.mode,
                seed + i,
                prefix,
                d.name,
            )
            sim.align_to_bam(ref, fq1, fq2, bam, d.name, threads)
            fq1.unlink()
            fq2.unlink()
        bams[d.name] = bam
    return bams


def run_ours(
    bam: Path,
    ref: Path,
    res_dir: Path,
    prefix: Path,
    mode: str,
    cohort: list[Path] | None = None,
    params: cnv.CnvParams | None = None,
) -> dict:
    counts = Path(str(prefix) + ".counts.tsv")
    if not counts.exists():
        cnv.write_counts_tsv(cnv.count_bins(bam, ref, res_dir), counts)
    result = cnv.run_cnv_call(
        str(counts),
        str(res_dir),
        str(prefix),
        [str(c) for c in cohort or []],
        str(bam),
        str(ref),
        mode,
        prefix.name,
        params,
    )
    return result.to_json()


def counts_for(bam: Path, ref: Path, res_dir: Path, prefix: Path) -> Path:
    counts = Path(str(prefix) + ".counts.tsv")
    if not counts.exists():
        cnv.write_counts_tsv(cnv.count_bins(bam, ref, res_dir), counts)
    return counts


def run_delly(bam: Path, ref: Path, out: Path) -> list[dict]:
    bcf = out.with_suffix(".delly.bcf")
    if not bcf.exists():
        proc = subprocess.run(
            ["delly", "call", "-t", "DEL", "-g", str(ref), "-o", str(bcf), str(bam)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-1000:])
    calls = []
    with pysam.VariantFile(str(bcf)) as vf:
        for rec in vf:
            if rec.info.get("SVTYPE") != "DEL" or "PASS" not in rec.filter.keys():
                continue
            gt = next(iter(rec.samples.values()))["GT"]
            if gt is None or None in gt or sum(gt) == 0:
                continue
            calls.append(
                {
                    "chrom": rec.chrom,
                    "start": rec.pos + 1,
                    "end": rec.stop,
                    "copy_number": 2 - sum(gt),
                    "precise": "PRECISE" in rec.info.keys(),
                }
            )
    return calls


def match(event: Event, calls: list[dict], targeted: bool = False) -> dict | None:
    """The call with the best reciprocal overlap >= 50%; for targeted data, where ends in uncaptured
    sequence cannot be seen, also a call that lies inside the event (+-1 kb)."""
    best, best_ov = None, 0.0
    for c in calls:
        if c["chrom"] != event.chrom:
            continue
        inter = min(c["end"], event.end) - max(c["start"], event.start) + 1
        ov = inter / max(event.size, c["end"] - c["start"] + 1)
        inside = inter > 0 and c["start"] >= event.start - 1000 and c["end"] <= event.end + 1000
        if targeted and inside:
            ov = max(ov, 0.5)
        if ov >= 0.5 and ov > best_ov:
            best, best_ov = c, ov
    return best


@dataclass
class Tally:
    n: int = 0
    found: int = 0
    cn_ok: int = 0
    bp_err: list[int] = field(default_factory=list)
    bp_err_split: list[int] = field(default_factory=list)

    def add(self, event: Event, call: dict | None) -> None:
        self.n += 1
        if call is None:
            return
        self.found += 1
        self.cn_ok += int(call["copy_number"] == event.cn)
        err = max(abs(call["start"] - event.start), abs(call["end"] - event.end))
        self.bp_err.append(err)
        if call.get("precise", call.get("breakpoint_support", {}).get("precise")):
            self.bp_err_split.append(err)

    def row(self) -> str:
        if not self.n:
            return "      -"
        sens = self.found / self.n
        conc = self.cn_ok / self.found if self.found else float("nan")
        med = f"{int(np.median(self.bp_err))}" if self.bp_err else "-"
        within = f"{np.mean(np.array(self.bp_err_split) <= 10):.2f}" if self.bp_err_split else "-"
        return f"{self.found:>3}/{self.n:<3} sens {sens:4.2f} CN {conc:4.2f} bp-med {med:>5} <=10bp {within:>4}"


def gene_truth(gene: Gene, events: list[Event]) -> int:
    """Truth as the caller defines it: intact copies of the whole gene span (any overlap removes a copy)."""
    lost = sum(2 - ev.cn for ev in events if ev.chrom == gene.chrom and ev.start <= gene.end and ev.end >= gene.start)
    return max(0, 2 - lost)


def il1rn_truth(res: cnv.LocusResources, events: list[Event]) -> int:
    return gene_truth(next(g for g in res.genes if g.name == res.target_gene), events)


def evaluate(
    label: str,
    designs: list[Design],
    results: dict[str, dict],
    delly: dict[str, list[dict]] | None,
    res: cnv.LocusResources,
    lines: list[str],
) -> dict:
    tallies: dict[str, dict[str, Tally]] = {"ours": {}, "delly": {}}
    fp = {"ours": 0, "delly": 0}
    wrong_il1rn = nocall_il1rn = right_il1rn = 0
    false_il1rn_del_normals = 0
    no_call_samples = 0
    genes = {"right": 0, "wrong": 0, "no-call": 0}
    normals_complete = n_normals = 0
    for d in designs:
        ours = results[d.name]
        complete = True
        for g in res.genes:
            called = ours["genes"].get(g.name, {}).get("copy_number")
            key = "no-call" if called is None else ("right" if called == gene_truth(g, d.events) else "wrong")
            genes[key] += 1
            complete &= called is not None
        if not d.events:
            n_normals += 1
            normals_complete += complete
        calls = {"ours": ours["deletions"], "delly": (delly or {}).get(d.name, [])}
        if ours["status"] != "called":
            no_call_samples += 1
        for tool, cs in calls.items():
            if tool == "delly" and delly is None:
                continue
            for ev in d.events:
                key = f"{ev.zygosity} {ev.kind}"
                tallies[tool].setdefault(key, Tally()).add(ev, match(ev, cs, d.mode == "exome"))
            for c in cs:
                hit = [ev for ev in d.events if match(ev, [c], d.mode == "exome") is not None]
                if not hit:
                    fp[tool] += 1
        truth = il1rn_truth(res, d.events)
        called = ours["genes"].get(res.target_gene, {}).get("copy_number")
        if called is None:
            nocall_il1rn += 1
        elif called == truth:
            right_il1rn += 1
        else:
            wrong_il1rn += 1
        if not d.events and called is not None and called < 2:
            false_il1rn_del_normals += 1
    lines.append(f"--- {label}: {len(designs)} samples ({no_call_samples} sample-level no-calls)")
    keys = sorted(set(tallies["ours"]) | set(tallies["delly"]))
    for key in keys:
        o = tallies["ours"].get(key, Tally()).row()
        dl = tallies["delly"].get(key, Tally()).row() if delly is not None else "      (delly not run)"
        lines.append(f"  {key:<14} ours: {o} | delly: {dl}")
    per = len(designs) or 1
    lines.append(
        f"  false-positive deletions per sample: ours {fp['ours'] / per:.2f}"
        + (f" | delly {fp['delly'] / per:.2f}" if delly is not None else "")
    )
    lines.append(
        f"  IL1RN copy number: right {right_il1rn}, wrong {wrong_il1rn}, no-call {nocall_il1rn}; "
        f"false IL1RN deletions in normals: {false_il1rn_del_normals}"
    )
    lines.append(
        f"  gene copy numbers ({len(res.genes)} genes x {len(designs)} samples): right {genes['right']}, "
        f"wrong {genes['wrong']}, no-call {genes['no-call']}; normals with every gene called: "
        f"{normals_complete}/{n_normals}"
    )
    return {"tallies": tallies, "fp": fp, "wrong_il1rn": wrong_il1rn, "wrong_genes": genes["wrong"]}


def measure(code: str) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of `code` run in a fresh Python process (it reports its own peak)."""
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report this process's peak.
    code += ";import re;print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    return wall, int(proc.stdout.strip().splitlines()[-1]) / 1024


def padded_bam(src: Path, out: Path, extra_reads: int, seed: int) -> Path:
    """A copy of `src` plus `extra_reads` reads on an extra 100 Mb contig (outside every region)."""
    if out.exists():
        return out
    with pysam.AlignmentFile(str(src)) as inp:
        header = inp.header.to_dict()
        header["SQ"] = list(header["SQ"]) + [{"SN": "decoy", "LN": 100_000_000}]
        template = None
        with pysam.AlignmentFile(str(out) + ".tmp.bam", "wb", header=header) as dst:
            for read in inp.fetch(until_eof=True):
                dst.write(read)
                if template is None and not read.is_unmapped:
                    template = read
            decoy = len(header["SQ"]) - 1
            rng = np.random.default_rng(seed)
            positions = np.sort(rng.integers(0, 100_000_000 - 200, size=extra_reads))
            for i, pos in enumerate(positions):
                a = pysam.AlignedSegment(dst.header)
                a.query_name = f"decoy{i}"
                a.query_sequence = template.query_sequence
                a.query_qualities = template.query_qualities
                a.flag = 0
                a.reference_id = decoy
                a.reference_start = int(pos)
                a.mapping_quality = 60
                a.cigarstring = f"{len(template.query_sequence)}M"
                dst.write(a)
    pysam.sort("-@", "2", "-m", "512M", "-o", str(out), str(out) + ".tmp.bam")
    Path(str(out) + ".tmp.bam").unlink()
    pysam.index(str(out))
    return out


def speed(bam: Path, ref: Path, res_dir: Path, out: Path, extra_reads: int, seed: int, lines: list[str]) -> None:
    big = padded_bam(bam, out / "bam" / "speed_padded.bam", extra_reads, seed)
    lines.append("--- speed (cnv-count + cnv-call incl. breakpoints, one process each)")
    for label, path in (("30x locus BAM", bam), (f"same + {extra_reads:,} reads elsewhere", big)):
        size = path.stat().st_size / 2**20
        prefix = out / "speed" / path.stem
        prefix.parent.mkdir(parents=True, exist_ok=True)
        count_code = (
            "from dira_genotyper import cnv;"
            f"cnv.write_counts_tsv(cnv.count_bins('{path}','{ref}','{res_dir}'),'{prefix}.counts.tsv')"
        )
        call_code = (
            "from dira_genotyper import cnv;"
            f"cnv.run_cnv_call('{prefix}.counts.tsv','{res_dir}','{prefix}',[],'{path}','{ref}','auto','S')"
        )
        t1, m1 = measure(count_code)
        t2, m2 = measure(call_code)
        lines.append(
            f"  {label:<40} {size:7.1f} MiB BAM: cnv-count {t1:5.2f} s, cnv-call {t2:5.2f} s, "
            f"total {t1 + t2:5.2f} s; peak RSS {max(m1, m2):6.0f} MiB"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples and depths (~3 min)")
    ap.add_argument("--out", default="/tmp/dira-bench-cnv", help="work folder (reused between runs)")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-delly", action="store_true")
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    ap.add_argument(
        "--depths",
        default=None,
        help="comma-separated WGS depths to call, each subsampled from the simulated 60x (30x --quick); "
        "default 60,30,20,10 (30,10 --quick)",
    )
    ap.add_argument(
        "--min-control-depth",
        type=float,
        default=None,
        help="CnvParams.min_control_depth for these calls (default: the caller's default)",
    )
    args = ap.parse_args(argv)
    if shutil.which("bwa") is None:
        print("bwa is needed (apt-get install -y bwa)", file=sys.stderr)
        return 2
    use_delly = not args.no_delly and shutil.which("delly") is not None
    t0 = time.perf_counter()
    res_dir = ROOT / "resources" / "SYNTH"
    res = cnv.load_resources(res_dir)
    out = Path(args.out) / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    ref = out / "ref" / "synth.fa"
    if not ref.exists():
        sim.make_reference(res_dir, ref, sim.DEFAULT_SEED)
    sim.bwa_index(ref)
    if args.quick:
        n_normal, n_events, n_exon, n_exome, depths, extra = 2, 4, 4, 6, [30, 10], 2_000_000
    else:
        n_normal, n_events, n_exon, n_exome, depths, extra = 4, 10, 8, 8, [60, 30, 20, 10], 6_000_000
    sim_depth = max(depths)
    if args.depths:
        depths = sorted({float(x) if "." in x else int(x) for x in args.depths.split(",")}, reverse=True)
        if max(depths) > sim_depth:
            ap.error(f"--depths: at most the simulated {sim_depth}x")
    params = cnv.CnvParams()
    if args.min_control_depth is not None:
        params.min_control_depth = args.min_control_depth
    designs = design_cohort(res, args.seed, n_normal, n_events, n_exon, n_exome)
    wgs = [d for d in designs if d.mode == "wgs"]
    exome = [d for d in designs if d.mode == "exome"]
    bams = simulate(designs, ref, res_dir, out, sim_depth, 100.0, args.seed, args.threads)
    t_sim = time.perf_counter() - t0
    lines = [
        f"bench_cnv: {len(wgs)} WGS-like samples ({sum(len(d.events) for d in wgs)} deletions) at "
        f"{'/'.join(str(d) for d in depths)}x, {len(exome)} exome-like at 100x (cohort mode); "
        f"delly {'on' if use_delly else 'off'}; min control depth {params.min_control_depth:g}; "
        f"simulation+alignment {t_sim:.0f} s"
    ]
    figures: dict = {}
    for depth in depths:
        results, delly_calls = {}, ({} if use_delly else None)
        for d in wgs:
            bam = bams[d.name]
            if depth != sim_depth:
                bam = subsample(bam, depth / sim_depth, out / "bam" / f"{d.name}.{depth}x.bam", args.seed)
            prefix = out / "calls" / f"{d.name}.{depth}x"
            prefix.parent.mkdir(parents=True, exist_ok=True)
            results[d.name] = run_ours(bam, ref, res_dir, prefix, "auto", params=params)
            if use_delly:
                delly_calls[d.name] = run_delly(bam, ref, prefix)
        figures[f"wgs{depth}x"] = evaluate(f"WGS-like {depth}x (single mode)", wgs, results, delly_calls, res, lines)
    if exome:
        counts = {d.name: counts_for(bams[d.name], ref, res_dir, out / "calls" / f"{d.name}.exome") for d in exome}
        results, delly_calls = {}, ({} if use_delly else None)
        for d in exome:
            others = [c for n, c in counts.items() if n != d.name]
            prefix = out / "calls" / f"{d.name}.exome"
            results[d.name] = run_ours(bams[d.name], ref, res_dir, prefix, "auto", others, params)
            if use_delly:
                delly_calls[d.name] = run_delly(bams[d.name], ref, prefix)
        modes = sorted({r["mode"] for r in results.values()})
        figures["exome"] = evaluate(
            f"exome-like 100x (auto -> {','.join(modes)})", exome, results, delly_calls, res, lines
        )
    speed_bam = (
        bams[wgs[0].name]
        if sim_depth == 30
        else subsample(bams[wgs[0].name], 30 / sim_depth, out / "bam" / f"{wgs[0].name}.30x.bam", args.seed)
    )
    speed(speed_bam, ref, res_dir, out, extra, args.seed, lines)
    lines.append(f"total {time.perf_counter() - t0:.0f} s")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"lines": lines}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
