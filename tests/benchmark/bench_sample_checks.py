"""Benchmark of the sample checks (identity, sex, relatedness, contamination, runs of homozygosity) on simulated
families at the shipped GRCh38 site list, with peddy (PyPI) side by side on the same genotypes.

Families (``dira_devtools.simulate.pedigrees``; allele frequencies drawn U-shaped, Beta(0.6, 0.6), as common SNPs
are; depth over-dispersed; reference bias; a male has one X and a Y):
* trios and quads (two siblings), outbred;
* consanguineous families as in the seed case: two brothers marry two sisters, and their children (double first
  cousins) have children (expected F = 1/8) - whether IL1RN lies in a run of homozygosity is checked against the
  simulation's own autozygosity at the gene.
Each family is checked as written (no alarm expected), with a sample swapped with a same-sex person of another
family, with the father replaced by an unrelated man, and with one sample's sex written wrong. Contamination:
2-30 % of an unrelated woman's DNA in a postnatal sample, and 5-30 % of the mother's in a prenatal one, at 30x.

    python tests/benchmark/bench_sample_checks.py [--families 6] [--depth 30] [--peddy /path/to/python-with-peddy]

peddy: `python3 -m venv /tmp/peddy && /tmp/peddy/bin/pip install peddy==0.4.8`; pass `--peddy /tmp/peddy/bin/python`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from dira_devtools.simulate.pedigrees import Population  # noqa: E402
from dira_genotyper.samplecheck.checks import CheckSettings, homozygosity  # noqa: E402
from dira_genotyper.samplecheck.models import call_genotypes, contamination  # noqa: E402
from dira_genotyper.samplecheck.run import run_sample_checks  # noqa: E402
from dira_genotyper.samplecheck.sites import read_sites  # noqa: E402

IL1RN = ("chr2", 113_107_000, 113_135_000)  # GRCh38 gene span (FACTS.md), for "locus in a run"


def load_population(seed: int) -> Population:
    sites = read_sites(ROOT / "resources" / "GRCh38" / "sample_sites.tsv.gz")
    chrom = np.array([s[0] for s in sites])
    pos = np.array([s[1] for s in sites])
    kind = np.array([s[4] for s in sites])
    rng = np.random.default_rng(seed)
    af = np.clip(rng.beta(0.6, 0.6, len(pos)), 0.02, 0.98)
    return Population(chrom, pos, kind, seed=seed, af=af)


def double_first_cousins(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Two brothers marry two sisters; a child of each couple: the two children (double first cousins)."""
    gf, gm, hf, hm = pop.founder(), pop.founder(), pop.founder(), pop.founder()
    b1, b2, s1, s2 = pop.child(gf, gm), pop.child(gf, gm), pop.child(hf, hm), pop.child(hf, hm)
    return pop.child(b1, s1), pop.child(b2, s2)


def make_families(pop: Population, n: int) -> list[dict]:
    """Families: name -> (person, male) and sheet rows."""
    fams = []
    rng = pop.rng
    for i in range(n):
        kind = ("trio", "quad", "consanguineous")[i % 3]
        people, rows = {}, []
        fid = f"{kind}{i}"
        if kind == "consanguineous":
            father, mother = double_first_cousins(pop)
        else:
            father, mother = pop.founder(), pop.founder()
        people[f"{fid}-F"], people[f"{fid}-M"] = (father, True), (mother, False)
        rows += [
            {"sample": f"{fid}-F", "family": fid, "sex": "male"},
            {"sample": f"{fid}-M", "family": fid, "sex": "female"},
        ]
        for k in range(2 if kind != "trio" else 1):
            male = bool(rng.integers(2))
            name = f"{fid}-C{k + 1}"
            people[name] = (pop.child(father, mother), male)
            rows.append({"sample": name, "family": fid, "sex": "male" if male else "female", "father": f"{fid}-F",
                         "mother": f"{fid}-M"})  # fmt: skip
        fams.append({"id": fid, "kind": kind, "people": people, "rows": rows})
    return fams


def locus_autozygous(pop: Population, person: np.ndarray) -> bool:
    chrom, start, end = IL1RN
    at = np.flatnonzero((pop.chrom == chrom) & (pop.pos >= start - 2_000_000) & (pop.pos <= end + 2_000_000))
    mid = at[np.argmin(np.abs(pop.pos[at] - (start + end) // 2))]
    return bool(pop.autozygous(person)[mid])


CACHE: dict[int, dict] = {}


def checks(rows, counts, settings):
    return run_sample_checks(rows, counts, IL1RN, settings, known=CACHE)


def write_vcf_ped(pop, rows, counts, folder: Path) -> tuple[Path, Path, Path]:
    """The same site genotypes as a VCF (GT:AD:DP:GQ) and a PED, plus a peddy sites file."""
    names = [r["sample"] for r in rows]
    vcf = folder / "sites.vcf"
    gts = {n: call_genotypes(counts[n].ref_n, counts[n].alt_n) for n in names}
    with vcf.open("w") as out:
        out.write("##fileformat=VCFv4.2\n")
        for c in dict.fromkeys(pop.chrom):
            out.write(f"##contig=<ID={c}>\n")
        out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        out.write('##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allele depths">\n')
        out.write('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n')
        out.write('##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(names) + "\n")
        gt_text = {-1: "./.", 0: "0/0", 1: "0/1", 2: "1/1"}
        for i in range(len(pop.pos)):
            cells = [
                f"{gt_text[int(gts[n][i])]}:{counts[n].ref_n[i]},{counts[n].alt_n[i]}:{counts[n].depth[i]}:"
                f"{99 if gts[n][i] >= 0 else 0}"
                for n in names
            ]
            out.write(f"{pop.chrom[i]}\t{pop.pos[i]}\t.\tA\tC\t50\tPASS\t.\tGT:AD:DP:GQ\t" + "\t".join(cells) + "\n")
    subprocess.run(["bgzip", "-f", str(vcf)], check=True) if _has("bgzip") else _bgzip(vcf)
    import pysam

    pysam.tabix_index(str(vcf) + ".gz", preset="vcf", force=True)
    ped = folder / "run.ped"
    sex = {"male": 1, "female": 2}
    ped.write_text(
        "".join(
            f"{r.get('family') or r['sample']}\t{r['sample']}\t{r.get('father') or 0}\t{r.get('mother') or 0}\t"
            f"{sex.get(r.get('sex'), 0)}\t-9\n"
            for r in rows
        )
    )
    sites = folder / "sites.txt"
    sites.write_text("".join(f"{c.removeprefix('chr')}:{p}:A:C\n" for c, p in zip(pop.chrom, pop.pos, strict=True)))
    return Path(str(vcf) + ".gz"), ped, sites


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None


def _bgzip(path: Path) -> None:
    import pysam

    pysam.tabix_compress(str(path), str(path) + ".gz", force=True)


def run_peddy(python: str, vcf: Path, ped: Path, sites: Path, prefix: Path) -> dict | None:
    start = time.time()
    cmd = [python, "-m", "peddy", "-p", "1", "--prefix", str(prefix), "--sites", str(sites), str(vcf), str(ped)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        print(f"peddy failed ({proc.returncode}): {proc.stderr[-600:]}", file=sys.stderr)
        return None
    import csv

    def table(name):
        path = Path(f"{prefix}.{name}.csv")
        return list(csv.DictReader(path.open())) if path.exists() else []

    return {"seconds": time.time() - start, "ped": table("ped_check"), "sex": table("sex_check")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=6)
    parser.add_argument("--depth", type=float, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--peddy", help="a Python with peddy installed (side-by-side)")
    parser.add_argument("--autozygous", type=int, default=10, help="children autozygous at IL1RN to draw")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    settings = CheckSettings()
    pop = load_population(args.seed)
    fams = make_families(pop, args.families)
    people = {n: p for f in fams for n, p in f["people"].items()}
    counts = {n: pop.counts(p, male=m, depth=args.depth) for n, (p, m) in people.items()}
    rows = [r for f in fams for r in f["rows"]]
    t0 = time.time()
    truth_run = checks(rows, counts, settings)
    ours_seconds = time.time() - t0
    samples = truth_run["samples"]
    false_alarms = [n for n, s in samples.items() if s["verdict"] == "fail"]
    sex_right = sum(s["sex"]["inferred"] == ("male" if people[n][1] else "female") for n, s in samples.items())
    print(f"# {len(samples)} samples in {len(fams)} families at {args.depth:g}x, {len(pop.pos)} sites")
    print(f"true sheet: {len(false_alarms)} samples failed (false alarms) {false_alarms}")
    print(f"sex right: {sex_right}/{len(samples)}; our checks took {ours_seconds:.1f} s for the run")

    # swaps, non-parents, sex written wrong
    detected = {"swap": [0, 0], "non-parent": [0, 0], "sex written wrong": [0, 0]}
    for i, fam in enumerate(fams):
        other = fams[(i + 1) % len(fams)]
        child = fam["rows"][2]["sample"]
        same_sex = [r["sample"] for r in other["rows"][2:] if r["sex"] == fam["rows"][2]["sex"]]
        if same_sex:
            swapped = {**counts, child: counts[same_sex[0]], same_sex[0]: counts[child]}
            res = checks(rows, swapped, settings)["samples"]
            detected["swap"][0] += res[child]["verdict"] == "fail" and res[same_sex[0]]["verdict"] == "fail"
            detected["swap"][1] += 1
        stranger = other["rows"][0]["sample"]  # the other family's father, unrelated
        wrong = [dict(r, father=stranger) if r.get("father") else r for r in rows if r["family"] == fam["id"]]
        res = checks(wrong + [r for r in rows if r["family"] != fam["id"]], counts, settings)["samples"]
        detected["non-parent"][0] += res[child]["verdict"] == "fail"
        detected["non-parent"][1] += 1
        flipped = [dict(r, sex="female" if r["sex"] == "male" else "male") if r["sample"] == child else r for r in rows]
        res = checks(flipped, counts, settings)["samples"]
        detected["sex written wrong"][0] += any(f["code"] == "sex_mismatch" for f in res[child]["findings"])
        detected["sex written wrong"][1] += 1
    for what, (hit, n) in detected.items():
        print(f"{what}: detected {hit}/{n}")

    # contamination at depth
    print("\n| contamination | model | truth | estimate (95% CI) | within 3 pp |")
    print("|---|---|---|---|---|")
    fam = fams[0]
    child, (kid, male) = next((n, p) for n, p in fam["people"].items() if "-C" in n)
    mother = fam["people"][f"{fam['id']}-M"][0]
    woman = fams[1]["people"][f"{fams[1]['id']}-M"][0]
    auto = pop.kind == "A"
    mother_gt = call_genotypes(counts[f"{fam['id']}-M"].ref_n, counts[f"{fam['id']}-M"].alt_n)
    within = []
    for alpha in (0.0, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30):
        dirty = pop.counts(kid, male=male, depth=args.depth, other=woman, alpha=alpha)
        est = contamination(dirty.ref_n[auto], dirty.alt_n[auto])
        ok = abs(est.fraction - alpha) <= 0.03
        within.append(ok)
        print(f"| unrelated woman | allele balance | {alpha:.0%} | {est.fraction:.1%} ({est.low:.1%}-{est.high:.1%}) "
              f"| {'yes' if ok else 'NO'} |")  # fmt: skip
    for alpha in (0.0, 0.05, 0.15, 0.30):
        fetal = pop.counts(kid, male=male, depth=args.depth, other=mother, alpha=alpha)
        est = contamination(fetal.ref_n[auto], fetal.alt_n[auto], mother=mother_gt[auto])
        ok = abs(est.fraction - alpha) <= 0.03
        within.append(ok)
        print(f"| mother (prenatal) | mother's genotypes | {alpha:.0%} | {est.fraction:.1%} ({est.low:.1%}-"
              f"{est.high:.1%}) | {'yes' if ok else 'NO'} |")  # fmt: skip
    print(f"contamination within +/-3 pp: {sum(within)}/{len(within)}")

    # runs of homozygosity at IL1RN in children of double first cousins (as in the seed family): children are drawn
    # until --autozygous of them are autozygous at IL1RN (truth: both copies from one founder haplotype there)
    table = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    froh, drawn = [], 0
    while sum(table[(True, c)] for c in (True, False)) < args.autozygous and drawn < 50 * args.autozygous:
        father, mother_p = double_first_cousins(pop)  # a new family each time: a couple shares IL1RN or not
        kid = pop.child(father, mother_p)
        drawn += 1
        c = pop.counts(kid, male=False, depth=args.depth)
        facts = homozygosity(c, call_genotypes(c.ref_n, c.alt_n), IL1RN, settings)
        table[(locus_autozygous(pop, kid), facts["locus_in_roh"])] += 1
        froh.append(facts["f_roh"])
    print(f"\nchildren of double first cousins: {drawn}, mean F_ROH {np.mean(froh):.3f} (expected ~0.125)")
    print("| IL1RN autozygous (truth) | IL1RN in a called run | children |")
    print("|---|---|---|")
    for (truth, called), n in table.items():
        print(f"| {truth} | {called} | {n} |")

    if args.peddy:
        print("\n| peddy 0.4.8, same site genotypes | parent errors | duplication errors | sex errors | seconds |")
        print("|---|---|---|---|---|")
        fam = fams[0]
        child = fam["rows"][2]["sample"]
        stranger = fams[1]["rows"][0]["sample"]
        non_parent = [dict(r, father=stranger) if r["sample"] == child else r for r in rows]
        flipped = [dict(r, sex="female" if r["sex"] == "male" else "male") if r["sample"] == child else r for r in rows]
        for label, sheet in (("true sheet", rows), (f"{child}'s father listed as {stranger}", non_parent),
                             (f"{child}'s sex written wrong", flipped)):  # fmt: skip
            with tempfile.TemporaryDirectory() as tmp:
                vcf, ped, sites = write_vcf_ped(pop, sheet, counts, Path(tmp))
                result = run_peddy(args.peddy, vcf, ped, sites, Path(tmp) / "peddy")
            if not result:
                continue
            parent_err = [f"{r['sample_a']}-{r['sample_b']}" for r in result["ped"] if r.get("parent_error") == "True"]
            dup_err = [r for r in result["ped"] if r.get("sample_duplication_error") == "True"]
            sex_err = [r["sample_id"] for r in result["sex"] if r.get("error") == "True"]
            print(f"| {label} | {len(parent_err)} {parent_err} | {len(dup_err)} | {len(sex_err)} {sex_err} | "
                  f"{result['seconds']:.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
