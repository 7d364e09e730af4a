"""Targeted copy number (exome, gene panel): capture detection, the reference from the run's other samples,
per-target calls (single exons, the whole cluster), confidence, and the reasons when the reference fails.

Counts come from the fragment-level capture simulator (dira_devtools.simulate.capture) over the SYNTH build's
capture panel: per-target efficiency shared by all samples (3.5-fold range), per-sample GC bias, fragments
overhanging targets, 1% off-target depth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dira_devtools.simulate.capture import make_design, simulate_counts, wgs_counts
from dira_genotyper.cnv.bins import bin_layout
from dira_genotyper.cnv.normalise import looks_targeted
from dira_genotyper.cnv.reference import call_targeted
from dira_genotyper.cnv.resources import load_resources
from dira_genotyper.cnv.targeted_cli import capture_notes, decide_mode
from dira_genotyper.cnv.targets import capture_evidence, count_targets, fold_80_penalty, target_layout, with_gc
from dira_genotyper.interpretation.gene_state import copy_state, gene_model

ROOT = Path(__file__).resolve().parents[3]
RES = ROOT / "resources" / "SYNTH"
PANEL = ROOT / "test-data" / "capture_panel.bed"
REF = ROOT / "test-data" / "reference" / "synth.fa"
CLUSTER = ("chr2", 560_000, 735_000)  # a 175 kb deletion of the IL-1 cluster (IL1RN, IL36RN and their neighbours)

pytestmark = pytest.mark.skipif(not REF.exists() or not PANEL.exists(), reason="test-data/ not generated")


@pytest.fixture(scope="module")
def res():
    return load_resources(RES)


@pytest.fixture(scope="module")
def design(res):
    targets = with_gc(target_layout(res, PANEL), REF)
    bins = with_gc(bin_layout(res, 1000), REF)
    return make_design(targets, bins, seed=1)


def il1rn_target(res, design, number: int) -> tuple[str, int, int]:
    """The capture target holding IL1RN exon `number`, as a deletion of it with 100 bp of intron each side."""
    exon = next(e for e in res.exons if e.gene == "IL1RN" and e.number == number)
    t = design.targets
    row = t[(t["chrom"] == exon.chrom) & (t["start"] <= exon.end) & (t["end"] >= exon.start)].iloc[0]
    return row["chrom"], int(row["start"]) - 100, int(row["end"]) + 100


def run(design, events: dict[int, list], n: int = 10, depth: float = 100, seed: int = 7):
    """Simulate `n` samples (events: sample index -> deletions) and call each against the others."""
    counts = [simulate_counts(design, depth, f"s{i}", seed, events.get(i, []))[0] for i in range(n)]
    out = []
    for i in range(n):
        pool = [c for j, c in enumerate(counts) if j != i]
        names = [f"s{j}" for j in range(n) if j != i]
        out.append(call_targeted(counts[i], pool, str(RES), sample=f"s{i}", names=names))
    return out


def exon_calls(result, gene: str = "IL1RN") -> dict[int, int | None]:
    return {e["exon"]: e["copy_number"] for e in result.exons if e["gene"] == gene}


# ------------------------------------------------------------------------------------------ capture detection
def test_capture_is_recognised_where_the_genome_bins_missed_it(res, tmp_path):
    """Issue #20's cohort design: every exon +/- 100 bp plus a small target every 4 kb; 10x between targets at
    100x (panels often lose 20-50% of reads off target). The bins' own test (most window bins below 5% of the
    exon bins' depth) takes it for whole-genome data; depth on targets against depth between them says capture,
    with the BED or without it (the design inferred from the resources' exons)."""
    window = res.windows[0]
    bed = tmp_path / "issue20.bed"
    rows = [f"{e.chrom}\t{e.start - 101}\t{e.end + 100}\n" for e in res.exons]
    rows += [f"{window.chrom}\t{p}\t{p + 120}\n" for p in range(window.start + 2000, window.end - 200, 4000)]
    bed.write_text("".join(rows))
    design = make_design(with_gc(target_layout(res, bed), REF), with_gc(bin_layout(res, 1000), REF), seed=4)
    targets, bins = simulate_counts(design, 100, "cap", 3, off_target=0.1)
    assert not looks_targeted(bins, res)
    with_bed = capture_evidence(bins, targets, "bed")
    assert with_bed.capture and with_bed.ratio > 8
    exons_only = targets[targets["name"] != "."]  # no BED: the design is the resources' exons
    inferred = capture_evidence(bins, exons_only, "inferred")
    assert inferred.capture
    assert decide_mode("auto", _write(inferred)) == "targeted"
    assert capture_notes({"evidence": inferred.to_json()}, "targeted")[0].code == "cnv_capture_inferred"


def test_whole_genome_is_never_targeted(res, design):
    """A whole-genome sample stays in genome bins even with a targets BED configured, and the report says so."""
    targets = wgs_counts(design.targets, 30, "wgs", 1)
    bins = wgs_counts(design.bins, 30, "wgs", 1)
    evidence = capture_evidence(bins, targets, "bed")
    assert not evidence.capture and 0.5 < evidence.ratio < 2
    assert decide_mode("auto", _write(evidence)) == "single"
    assert capture_notes({"evidence": evidence.to_json()}, "single")[0].code == "cnv_targets_whole_genome"


def test_count_targets_on_a_whole_genome_bam(res, tmp_path):
    """count_targets on the bundled WGS BAM: per-target counts, QC, and coverage judged whole-genome."""
    from dira_genotyper.cnv.bins import count_bins

    bam = ROOT / "test-data" / "bam" / "DIRA-02.bam"
    targets, qc = count_targets(bam, REF, RES, PANEL)
    assert len(targets) == len(target_layout(load_resources(RES), PANEL)) and (targets["reads"] > 0).mean() > 0.9
    assert 0.0 < qc["on_target_fraction"] < 0.2  # a genome: few reads of the regions lie on the baits
    assert qc["fold_80_base_penalty"] is not None and len(qc["per_target_depth"]) == len(targets)
    bins = count_bins(bam, REF, RES)
    assert not capture_evidence(bins, targets, "bed").capture


def test_fold_80():
    assert fold_80_penalty(np.full(100, 50.0)) == pytest.approx(1.0)
    depth = np.concatenate([np.full(30, 10.0), np.full(70, 100.0)])
    assert fold_80_penalty(depth) == pytest.approx(depth.mean() / 10.0)
    assert fold_80_penalty(np.zeros(10)) is None


def _write(evidence) -> Path:
    import json
    import tempfile

    path = Path(tempfile.mkdtemp()) / "capture.json"
    path.write_text(json.dumps({"evidence": evidence.to_json(), "qc": {}}))
    return path


# ------------------------------------------------------------------------------------------ calls
def test_single_exon_heterozygous_deletion_of_each_exon(res, design):
    """One IL1RN exon deleted on one copy (a ratio of ~0.5 on one target): that exon CN 1 with a quality and a
    z-score, the other exons 2, one deletion naming the exon; no deletion in the normal samples. At 300x, where
    the answer is certain; at 100x the small exons 1 and 3 (~300 bp targets, ratio sd ~0.1) are sometimes no
    call: bench_targeted.py measures how often."""
    events = {i: [(*il1rn_target(res, design, i + 1), 1)] for i in range(4)}
    results = run(design, events, depth=300)
    for i in range(4):
        calls = exon_calls(results[i])
        assert calls[i + 1] == 1, (i, calls, results[i].reasons)
        assert all(calls[n] == 2 for n in calls if n != i + 1), calls
        exon = next(e for e in results[i].exons if e["gene"] == "IL1RN" and e["exon"] == i + 1)
        assert exon["quality"] >= 20 and exon["z"] < -3
        assert [d.il1rn_exons for d in results[i].deletions if "IL1RN" in d.genes] == [[i + 1]]
    for r in results[4:]:
        assert r.status == "called" and not [d for d in r.deletions if "IL1RN" in d.genes]
        assert all(c == 2 for c in exon_calls(r).values())


def test_cluster_deletion_is_one_run_of_targets(res, design):
    """The 175 kb founder deletion: one deletion over contiguous targets at CN 1 (carrier) or 0 (affected),
    read by the interpretation as deleting every IL1RN exon."""
    results = run(design, {0: [(*CLUSTER, 1)], 1: [(*CLUSTER, 2)]})
    for i, cn in ((0, 1), (1, 0)):
        dels = [d for d in results[i].deletions if "IL1RN" in d.genes]
        assert len(dels) == 1 and dels[0].copy_number == cn and dels[0].il1rn_exons == [1, 2, 3, 4]
        assert abs(dels[0].start - CLUSTER[1]) < 10_000 and abs(dels[0].end - CLUSTER[2]) < 10_000
        assert results[i].genes["IL1RN"]["copy_number"] == cn and results[i].genes["IL36RN"]["copy_number"] == cn
        model = gene_model(next(g for g in res.genes if g.name == "IL1RN"))
        assert set(copy_state(results[i].to_json(), model).exon_cn.values()) == {cn}


def test_carriers_in_the_reference_do_not_hide_a_deletion(res, design):
    """Three of nine reference samples carry the same deletion (a family): the outlier rule keeps them out of the
    reference there, so the carrier tested is still CN 1."""
    events = {i: [(*CLUSTER, 1)] for i in (0, 1, 2, 3)}
    results = run(design, events)
    for i in range(4):
        assert results[i].genes["IL1RN"]["copy_number"] == 1, results[i].reasons


def test_panel_depth(res, design):
    """A gene panel at 1,000x: the same calls, sharper (counting noise gone, the per-target capture wobble of
    5% left: a single-exon deletion's z below -6)."""
    event = il1rn_target(res, design, 3)
    results = run(design, {0: [(*event, 1)], 1: [(*il1rn_target(res, design, 4), 2)]}, n=8, depth=1000)
    assert exon_calls(results[0])[3] == 1
    # An empty target at 1,000x (ratio 0.0001, many counting sd below the mismapped-read mean 0.02) is CN 0.
    assert exon_calls(results[1]) == {1: 2, 2: 2, 3: 2, 4: 0}
    assert next(e["z"] for e in results[0].exons if e["gene"] == "IL1RN" and e["exon"] == 3) < -6
    assert all(c == 2 for r in results[2:] for c in exon_calls(r).values())


# ------------------------------------------------------------------------------------------ reference
def test_reference_prefers_samples_of_the_same_design(res, design):
    """Pool of 6 same-kit samples and 6 of another kit (other per-target efficiencies): the chosen reference
    is the same kit's, with its correlations in the JSON."""
    other = make_design(design.targets, design.bins, seed=99)
    test = simulate_counts(design, 100, "t", 5)[0]
    same = [simulate_counts(design, 100, f"a{i}", 5)[0] for i in range(6)]
    alien = [simulate_counts(other, 100, f"b{i}", 5)[0] for i in range(6)]
    names = [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)]
    result = call_targeted(test, same + alien, str(RES), sample="t", names=names)
    ref = result.to_json()["reference"]
    assert ref["samples"] and all(s.startswith("a") for s in ref["samples"])
    assert min(ref["correlation"]) > 0.9 and result.status == "called"


def test_reference_too_few_and_poorly_correlated(res, design):
    """Two other samples: no call, `cnv_reference_too_few`; a reference of another kit only: no call,
    `cnv_reference_poor_correlation`. Never a copy number."""
    counts = [simulate_counts(design, 100, f"s{i}", 2)[0] for i in range(3)]
    few = call_targeted(counts[0], counts[1:], str(RES))
    assert few.status == "no_call" and few.reasons[0].code == "cnv_reference_too_few"
    other = make_design(design.targets, design.bins, seed=42, efficiency_fold=6.0)
    alien = [simulate_counts(other, 100, f"b{i}", 2)[0] for i in range(8)]
    poor = call_targeted(counts[0], alien, str(RES))
    assert poor.status == "no_call" and poor.reasons[0].code == "cnv_reference_poor_correlation"
    assert poor.genes["IL1RN"]["copy_number"] is None


def test_one_allele_is_never_split_into_exon_deletions(res, design):
    """A carrier's deletion must stay one allele. (1) The cluster deletion with one target inside it at two-copy
    depth (a noisy GC-rich target): one CN 1 deletion over IL1RN, not exon deletions either side of it. (2) A
    deletion of IL1RN exons 1 and 2 together: one deletion naming both exons (two would read as two alleles,
    a compound heterozygote: `affected`)."""
    first, second = il1rn_target(res, design, 1), il1rn_target(res, design, 2)
    two_exons = (first[0], first[1], second[2], 1)
    counts = [simulate_counts(design, 100, f"s{i}", 11, [(*CLUSTER, 1)] if i == 0 else [])[0] for i in range(10)]
    counts[1] = simulate_counts(design, 100, "s1", 11, [two_exons])[0]
    inside = counts[0]["name"].str.contains("IL1RN_exon2").to_numpy()
    counts[0].loc[inside, "reads"] = int(np.median([c.loc[inside, "reads"].iloc[0] for c in counts[2:]]))
    model = gene_model(next(g for g in res.genes if g.name == "IL1RN"))
    for i, exons in ((0, [1, 2, 3, 4]), (1, [1, 2])):
        result = call_targeted(counts[i], counts[:i] + counts[i + 1 :], str(RES))
        dels = [d for d in result.deletions if "IL1RN" in d.genes]
        assert len(dels) == 1 and dels[0].copy_number == 1 and dels[0].il1rn_exons == exons, dels
        assert min(copy_state(result.to_json(), model).exon_cn.values()) == 1


def test_reference_pool_leaves_out_whole_genome_samples(res, design, tmp_path):
    """The run's list of target counts: the sample itself and any sample whose own coverage is whole-genome
    are not reference samples."""
    import json

    from dira_genotyper.cnv.io import write_counts_tsv
    from dira_genotyper.cnv.targeted_cli import _pool

    paths = []
    for name, capture in (("me", True), ("cap1", True), ("wgs1", False), ("cap2", True)):
        counts = simulate_counts(design, 100, name, 1)[0] if capture else wgs_counts(design.targets, 30, name, 1)
        path = tmp_path / f"{name}.targets.tsv"
        write_counts_tsv(counts, path)
        (tmp_path / f"{name}.capture.json").write_text(json.dumps({"evidence": {"capture": capture}}))
        paths.append(str(path))
    frames, names = _pool(paths, paths[0])
    assert names == ["cap1", "cap2"] and len(frames) == 2


def test_a_deletion_most_of_the_run_shares_is_no_call(res, design):
    """A family run: three of five other samples carry the cluster deletion. The reference's median at those
    targets is one copy, so a carrier would look like two copies (`negative`: wrong) and a normal like a
    duplication; the targets where 40% or more of the reference samples lie markedly below the top ones get no
    ratio, so IL1RN has no call (inconclusive) with the reason."""
    carriers = {i: [(*CLUSTER, 1)] for i in (0, 1, 2, 3)}
    counts = [simulate_counts(design, 100, f"f{i}", 13, carriers.get(i, []))[0] for i in range(6)]
    for i in (0, 5):  # a carrier against 3 carriers + 2 normals; a normal against 4 carriers + 1 normal
        result = call_targeted(counts[i], counts[:i] + counts[i + 1 :], str(RES))
        assert result.genes["IL1RN"]["copy_number"] is None, (i, result.genes["IL1RN"])
        assert any(r.code == "cnv_reference_shared_loss" for r in result.reasons)
    one = [simulate_counts(design, 100, f"g{i}", 13, [(*CLUSTER, 1)] if i < 2 else [])[0] for i in range(9)]
    result = call_targeted(one[0], one[1:], str(RES))  # one other carrier in eight: no problem
    assert result.genes["IL1RN"]["copy_number"] == 1
    assert not any(r.code == "cnv_reference_shared_loss" for r in result.reasons)


def test_stored_panel_of_normals(res, design, tmp_path):
    """build-panel stores normals' target counts with the build and a layout digest; a run of two samples has no
    reference of its own but calls with the panel; a panel of another layout or build is refused."""
    from dira_genotyper.cnv.io import write_counts_tsv
    from dira_genotyper.cnv.panel import build_panel, load_panel
    from dira_genotyper.errors import InputError

    paths = []
    for i in range(6):
        path = tmp_path / f"normal{i}.targets.tsv"
        write_counts_tsv(simulate_counts(design, 100, f"n{i}", 21)[0], path)
        paths.append(str(path))
    panel = build_panel(paths, RES, tmp_path / "pon.tsv")
    run = [simulate_counts(design, 100, f"r{i}", 22, [(*CLUSTER, 1)] if i == 0 else [])[0] for i in range(2)]
    frames, names = load_panel(panel, run[0], RES)
    assert names == [f"panel:normal{i}" for i in range(6)]
    alone = call_targeted(run[0], run[1:], str(RES))
    assert alone.reasons[0].code == "cnv_reference_too_few"
    with_panel = call_targeted(run[0], run[1:] + frames, str(RES), names=["r1", *names])
    assert with_panel.genes["IL1RN"]["copy_number"] == 1
    other = run[0].iloc[:-1]  # a layout with one target fewer: another design
    with pytest.raises(InputError, match="other targets"):
        load_panel(panel, other, RES)
    grch38 = ROOT / "resources" / "GRCh38"
    with pytest.raises(InputError, match="build"):
        load_panel(panel, run[0], grch38)
