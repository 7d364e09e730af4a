"""Benchmark of targeted (exome/panel) copy number: status classes and single-exon deletions (issue #20).

Each replicate is one run of a capture design (the SYNTH build's capture panel: every exon of the window's
genes and a bait every 3 kb in the control regions, 178 targets) with its own per-target capture efficiencies
(log-uniform over a 3.5-fold range, shared by every sample of the run). Its samples are simulated fragment by
fragment (dira_devtools.simulate.capture: per-sample GC bias, 5% per-target capture wobble, fragments
overhanging targets, 1% off-target depth) and each is called against the run's other samples (leave-one-out,
cnv.reference.call_targeted). Classes:

- ``negative``: no deletion;
- ``carrier_cluster`` / ``affected_cluster``: the 175 kb cluster deletion on one / both copies;
- ``carrier_exonN`` / ``affected_exonN``: the capture target of IL1RN exon N deleted (with 50-500 bp of intron
  each side) on one / both copies.

The status is from the IL1RN copy-number state the interpretation reads (interpretation.gene_state.copy_state):
a blocker (a gene or exon without a call, a loss no deletion explains) is ``inconclusive``; a CN 0 exon or two
separate one-copy deletions (two alleles) ``affected``; one one-copy deletion ``carrier``; else ``negative``
(no small variants in these samples).

    python tests/benchmark/bench_targeted.py                        # exome 100x, 10 replicates (~2 min)
    python tests/benchmark/bench_targeted.py --depth 1000 --panel   # panel 1000x, + a 20-sample run's time
    python tests/benchmark/bench_targeted.py --depth 50 --target-noise 0.1   # harder: where it stops calling

Not simulated: alignment (reads are not written or mapped), duplicates, reads from other loci. What is
measured is the copy-number model given per-target counts, not the count step on BAMs.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter
from pathlib import Path

import numpy as np

from dira_devtools.simulate.capture import make_design, simulate_counts
from dira_genotyper.cnv.bins import bin_layout
from dira_genotyper.cnv.reference import call_targeted
from dira_genotyper.cnv.resources import load_resources
from dira_genotyper.cnv.targets import target_layout, with_gc
from dira_genotyper.interpretation.gene_state import copy_state, gene_model

ROOT = Path(__file__).resolve().parents[2]
RES = ROOT / "resources" / "SYNTH"
PANEL = ROOT / "test-data" / "capture_panel.bed"
REF = ROOT / "test-data" / "reference" / "synth.fa"
CLUSTER = ("chr2", 560_000, 735_000)
STATUSES = ["affected", "carrier", "negative", "inconclusive"]


def classes() -> list[str]:
    out = ["negative", "carrier_cluster", "affected_cluster"]
    for n in (1, 2, 3, 4):
        out += [f"carrier_exon{n}", f"affected_exon{n}"]
    return out


def expected_status(label: str) -> str:
    return label.split("_")[0]


def event(label: str, targets, res, rng: np.random.Generator) -> list[tuple[str, int, int, int]]:
    if label == "negative":
        return []
    haps = 2 if label.startswith("affected") else 1
    if label.endswith("cluster"):
        return [(*CLUSTER, haps)]
    number = int(label[-1])
    exon = next(e for e in res.exons if e.gene == res.target_gene and e.number == number)
    row = targets[(targets["chrom"] == exon.chrom) & (targets["start"] <= exon.end) & (targets["end"] >= exon.start)]
    start, end = int(row["start"].min()), int(row["end"].max())
    return [(exon.chrom, start - int(rng.integers(50, 501)), end + int(rng.integers(50, 501)), haps)]


def status_of(result, model) -> str:
    """The status the interpretation gives these samples (no small variants): a copy-number blocker is
    inconclusive; a CN 0 exon, or two separate one-copy deletions of IL1RN (two alleles), affected; one
    one-copy deletion carrier; else negative."""
    state = copy_state(result.to_json(), model)
    if state.blockers:
        return "inconclusive"
    if min(state.exon_cn.values()) == 0:
        return "affected"
    alleles = [d for d in state.deletions if d["copy_number"] == 1]
    return {0: "negative", 1: "carrier"}.get(len(alleles), "affected")


def false_exon_deletions(result, truth: list, res) -> int:
    """IL1RN/IL36RN deletions called in a sample that has none there."""
    wrong = 0
    for d in result.deletions:
        if not set(d.genes) & {"IL1RN", "IL36RN"}:
            continue
        if not any(d.chrom == c and d.start <= e and d.end >= s for c, s, e, _ in truth):
            wrong += 1
    return wrong


def run_replicate(rep: int, depth: float, n_negative: int, base, res, model, noise: float = 0.05) -> list[dict]:
    targets, bins = base
    design = make_design(targets, bins, seed=1000 + rep)
    rng = np.random.default_rng(rep)
    labels = classes() + ["negative"] * (n_negative - 1)
    truth = [event(label, targets, res, rng) for label in labels]
    counts = [
        simulate_counts(design, depth, f"r{rep}s{i}", rep, truth[i], target_noise=noise)[0] for i in range(len(labels))
    ]
    rows = []
    for i, label in enumerate(labels):
        pool = [c for j, c in enumerate(counts) if j != i]
        result = call_targeted(counts[i], pool, str(RES), sample=f"s{i}")
        exon_cns = {e["exon"]: e["copy_number"] for e in result.exons if e["gene"] == res.target_gene}
        rows.append(
            {
                "label": label,
                "status": status_of(result, model),
                "exon_cns": exon_cns,
                "false_deletions": false_exon_deletions(result, truth[i], res),
                "reasons": [r.code for r in result.reasons],
            }
        )
    return rows


def print_tables(rows: list[dict], depth: float) -> None:
    print(f"\n## Status by class ({depth:g}x on target; rows: truth, columns: status)\n")
    print("| class | n | " + " | ".join(STATUSES) + " | right |")
    print("|---|---|" + "---|" * (len(STATUSES) + 1))
    right = wrong = 0
    for label in classes():
        sel = [r for r in rows if r["label"] == label]
        c = Counter(r["status"] for r in sel)
        ok = c[expected_status(label)]
        right += ok
        wrong += sum(v for k, v in c.items() if k not in (expected_status(label), "inconclusive"))
        print(f"| {label} | {len(sel)} | " + " | ".join(str(c[s]) for s in STATUSES) + f" | {ok / len(sel):.0%} |")
    n = len(rows)
    print(f"\nright {right}/{n} ({right / n:.1%}), wrong {wrong}, inconclusive {n - right - wrong}")
    het = [r for r in rows if r["label"].startswith("carrier_exon")]
    found = sum(r["exon_cns"][int(r["label"][-1])] == 1 for r in het)
    print(f"single-exon heterozygous deletion sensitivity (exon CN 1): {found}/{len(het)} ({found / len(het):.1%})")
    for n in (1, 2, 3, 4):
        sel = [r for r in het if r["label"] == f"carrier_exon{n}"]
        print(f"  exon {n}: {sum(r['exon_cns'][n] == 1 for r in sel)}/{len(sel)}")
    normals = [r for r in rows if r["label"] == "negative"]
    false = sum(r["false_deletions"] > 0 for r in normals)
    rate = 100 * false / len(normals)
    print(f"false IL1RN/IL36RN deletions in normal samples: {false}/{len(normals)} ({rate:.2f} per 100)")
    no_call = Counter(code for r in rows if r["status"] == "inconclusive" for code in set(r["reasons"]))
    print(f"reasons of inconclusive samples: {dict(no_call.most_common(6))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depth", type=float, default=100.0)
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--negatives", type=int, default=10, help="negative samples per run (>= 1)")
    ap.add_argument("--panel", action="store_true", help="also time a 20-sample run at --depth")
    ap.add_argument("--target-noise", type=float, default=0.05, help="per-sample per-target capture wobble (log sd)")
    args = ap.parse_args()
    res = load_resources(RES)
    model = gene_model(next(g for g in res.genes if g.name == res.target_gene))
    base = (with_gc(target_layout(res, PANEL), REF), with_gc(bin_layout(res, 1000), REF))
    t0 = time.time()
    rows = []
    for rep in range(args.replicates):
        rows += run_replicate(rep, args.depth, args.negatives, base, res, model, args.target_noise)
    print(f"{len(rows)} samples in {args.replicates} runs of {len(rows) // args.replicates}: {time.time() - t0:.0f} s")
    print_tables(rows, args.depth)
    if args.panel:
        design = make_design(*base, seed=7)
        start = time.time()
        counts = [simulate_counts(design, args.depth, f"p{i}", 7)[0] for i in range(20)]
        sim = time.time() - start
        start = time.time()
        for i in range(20):
            call_targeted(counts[i], counts[:i] + counts[i + 1 :], str(RES))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"\npanel run, 20 samples at {args.depth:g}x: simulation {sim:.1f} s, calling {time.time() - start:.1f} s "
            f"({(time.time() - start) / 20:.2f} s per sample), peak RSS {rss:.0f} MB"
        )


if __name__ == "__main__":
    main()
