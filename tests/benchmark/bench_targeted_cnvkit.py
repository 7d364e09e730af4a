"""CNVkit side by side with dira-genotyper's targeted copy number (issue #20), on the same simulated capture runs
and the same normals.

The runs are ``bench_targeted.py``'s (same designs, seeds, classes and per-target counts). For each sample, CNVkit
0.9 (PyPI, in its own venv) gets the same per-target depths as ``.targetcoverage.cnn`` files (no antitargets: the
design has none) and a reference built from the run's other samples (leave-one-out, as ours); then ``fix``
(no GC/RepeatMasker correction: CNVkit reads those from a FASTA this build-free comparison does not give it;
ours corrects GC itself) and ``call -m threshold`` on the per-target ratios (CNVkit's germline thresholds,
``-t=-1.1,-0.25,0.2,0.7``, purity 1). IL1RN exon copy numbers come from the targets over each exon; the status
follows from them as in ``bench_targeted.status_of`` (a CN 0 exon is affected; a CN 1 exon carrier; all exons 2
negative; a target without a call inconclusive).

    /tmp/cnvkit/bin/pip install cnvkit==0.9.14       # once: python3 -m venv /tmp/cnvkit first
    python tests/benchmark/bench_targeted_cnvkit.py --cnvkit /tmp/cnvkit/bin/cnvkit.py [--replicates 3]

Prints, per tool, the confusion table of statuses, the single-exon heterozygous deletion sensitivity, false
exon deletions in normals, and the time per sample.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_targeted as bt  # noqa: E402

THRESHOLDS = "-1.1,-0.25,0.2,0.7"  # CNVkit's default germline thresholds (log2 ratio -> CN 0/1/2/3/4+)


def write_cnn(counts, path: Path) -> None:
    depth = counts["depth"].to_numpy(dtype=float)
    log2 = np.log2(np.maximum(depth, 1e-3) / max(np.median(depth), 1e-3))
    lines = ["chromosome\tstart\tend\tgene\tdepth\tlog2"]
    for row, ratio in zip(counts.itertuples(), log2, strict=True):
        lines.append(f"{row.chrom}\t{row.start - 1}\t{row.end}\tt{row.Index}\t{row.depth:.3f}\t{ratio:.4f}")
    path.write_text("\n".join(lines) + "\n")


def cnvkit_sample(cnvkit: str, i: int, files: list[Path], anti: Path, folder: Path) -> list[int | None]:
    """CN per target of sample ``i`` against a reference of the others (None where CNVkit gives no call)."""
    ref = folder / f"ref{i}.cnn"
    others = [str(f) for j, f in enumerate(files) if j != i]
    run = lambda *a: subprocess.run([cnvkit, *a], check=True, capture_output=True, text=True)  # noqa: E731
    run("reference", *others, "--no-gc", "--no-rmask", "--no-edge", "-o", str(ref))
    cnr = folder / f"s{i}.cnr"
    run("fix", str(files[i]), str(anti), str(ref), "--no-gc", "--no-rmask", "--no-edge", "-o", str(cnr))
    called = folder / f"s{i}.call.cnr"
    run("call", str(cnr), "-m", "threshold", f"-t={THRESHOLDS}", "-o", str(called))
    rows = called.read_text().splitlines()
    head = rows[0].split("\t")
    col = head.index("cn")
    by_start = {int(r.split("\t")[1]): r.split("\t")[col] for r in rows[1:]}
    return by_start


def exon_cns(by_start: dict, targets, res) -> dict[int, int | None]:
    cns = {}
    for exon in (e for e in res.exons if e.gene == res.target_gene):
        sel = targets[
            (targets["chrom"] == exon.chrom) & (targets["start"] <= exon.end) & (targets["end"] >= exon.start)
        ]
        values = [by_start.get(int(s) - 1) for s in sel["start"]]
        values = [int(v) for v in values if v not in (None, "", "nan")]
        cns[exon.number] = min(values) if values else None
    return cns


def status_from_exons(cns: dict) -> str:
    if any(v is None for v in cns.values()):
        return "inconclusive"
    if min(cns.values()) == 0:
        return "affected"
    return "carrier" if min(cns.values()) == 1 else "negative"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cnvkit", required=True, help="cnvkit.py of a venv with cnvkit installed")
    ap.add_argument("--depth", type=float, default=100.0)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--negatives", type=int, default=10)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    res = bt.load_resources(bt.RES)
    model = bt.gene_model(next(g for g in res.genes if g.name == res.target_gene))
    targets = bt.with_gc(bt.target_layout(res, bt.PANEL), bt.REF)
    base = (targets, bt.with_gc(bt.bin_layout(res, 1000), bt.REF))
    rows = {"dira-genotyper": [], "CNVkit": []}
    seconds = {"dira-genotyper": 0.0, "CNVkit": 0.0}
    for rep in range(args.replicates):
        design = bt.make_design(*base, seed=1000 + rep)
        rng = np.random.default_rng(rep)
        labels = bt.classes() + ["negative"] * (args.negatives - 1)
        truth = [bt.event(label, targets, res, rng) for label in labels]
        counts = [bt.simulate_counts(design, args.depth, f"r{rep}s{i}", rep, truth[i])[0] for i in range(len(labels))]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            files = []
            for i, c in enumerate(counts):
                files.append(folder / f"s{i}.targetcoverage.cnn")
                write_cnn(c, files[-1])
            anti = folder / "empty.antitargetcoverage.cnn"
            anti.write_text("chromosome\tstart\tend\tgene\tdepth\tlog2\n")
            for i, label in enumerate(labels):
                start = time.time()
                pool = [c for j, c in enumerate(counts) if j != i]
                result = bt.call_targeted(counts[i], pool, str(bt.RES), sample=f"s{i}")
                seconds["dira-genotyper"] += time.time() - start
                ours = {e["exon"]: e["copy_number"] for e in result.exons if e["gene"] == res.target_gene}
                rows["dira-genotyper"].append((label, bt.status_of(result, model), ours))
                start = time.time()
                theirs = exon_cns(cnvkit_sample(args.cnvkit, i, files, anti, folder), targets, res)
                seconds["CNVkit"] += time.time() - start
                rows["CNVkit"].append((label, status_from_exons(theirs), theirs))
        print(f"replicate {rep + 1}/{args.replicates} done", file=sys.stderr)
    n = len(rows["CNVkit"])
    for tool, got in rows.items():
        print(f"\n## {tool}: status by class ({args.depth:g}x, {n} samples in {args.replicates} runs)\n")
        print("| class | n | " + " | ".join(bt.STATUSES) + " | right |")
        print("|---|---|" + "---|" * (len(bt.STATUSES) + 1))
        right = wrong = 0
        for label in bt.classes():
            sel = [s for lab, s, _ in got if lab == label]
            c = Counter(sel)
            want = bt.expected_status(label)
            right += c[want]
            wrong += sum(v for k, v in c.items() if k not in (want, "inconclusive"))
            print(
                f"| {label} | {len(sel)} | " + " | ".join(str(c[s]) for s in bt.STATUSES) + f" | {c[want]}/{len(sel)} |"
            )
        het = [(lab, cns) for lab, _, cns in got if lab.startswith("carrier_exon")]
        found = sum(cns.get(int(lab[-1])) == 1 for lab, cns in het)
        normals = [cns for lab, _, cns in got if lab == "negative"]
        false = sum(any(v is not None and v < 2 for v in cns.values()) for cns in normals)
        print(
            f"\n{tool}: right {right}/{n}, wrong {wrong}; single-exon het deletion found {found}/{len(het)}; "
            f"normals with a false IL1RN exon loss {false}/{len(normals)}; {seconds[tool] / n:.2f} s per sample"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
