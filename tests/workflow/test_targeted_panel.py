"""Targeted data end to end (issue #20): a small gene-panel run of capture BAMs with the design BED.

Seven samples simulated in exome mode (reads only from the capture panel's targets +/- 150 bp, per-target capture
efficiency shared by all samples over a 3.5-fold range) at ~80x, aligned with bwa, given as BAMs with
`targets: <panel BED>`: every sample is recognised as capture data, called per target against the other six
(no control regions are needed), and the founder deletion and an IL1RN exon-3 deletion (heterozygous) come out
with the right status; capture QC reaches the report and MultiQC.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, make_workdir, run_snakemake

pytestmark = pytest.mark.workflow

# Deletions of one target in at most two of the seven: a run where 40% or more of a sample's reference share a
# loss gets no call there (cnv_reference_shared_loss; the homozygous founder deletion is in the unit tests and
# bench_targeted.py).
EXPECTED = {
    "P-CAR": "carrier",  # the founder deletion on one copy
    "P-EX3": "carrier",  # IL1RN exon 3 (+/- 800-900 bp of intron) on one copy
    **{f"P-N{i}": "negative" for i in range(1, 6)},
}


def simulate_panel(out: Path, cohort_dir: Path) -> Path:
    """BAMs of the seven samples and their sheet; returns the sheet."""
    from dira_devtools import simulate as sim

    resources = ROOT / "resources" / "SYNTH"
    reference = cohort_dir / "reference" / "synth.fa"
    design = sim.cohort_design(resources)
    targets = sim.capture_targets(resources)
    rng = np.random.default_rng(20)
    efficiency = np.exp(rng.uniform(-0.5, 0.5, len(targets)) * np.log(3.5))
    haplotypes = {
        "P-CAR": [[design.whole_deletion], []],
        "P-EX3": [[design.exon3_deletion], []],
    }
    rows = ["sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"]
    for i, name in enumerate(EXPECTED):
        prefix = out / name
        fq1, fq2 = sim.simulate_sample(
            reference,
            resources,
            haplotypes.get(name, [[], []]),
            80,
            "exome",
            100 + i,
            prefix,
            name,
            target_efficiency=efficiency,
        )
        bam = sim.align_to_bam(reference, fq1, fq2, out / f"{name}.bam", name, threads=1)
        fq1.unlink()
        fq2.unlink()
        rows.append(f"{name}\t\t\t{bam}\t\t\t\t\n")
    sheet = out / "samples.tsv"
    sheet.write_text("".join(rows))
    return sheet


@pytest.fixture(scope="module")
def panel_run(cohort_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("panel")
    sheet = simulate_panel(folder / "data", cohort_dir)
    workdir = make_workdir(folder / "run", sheet)
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["targets"] = str(cohort_dir / "capture_panel.bed")
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(workdir, "--cores", "2")
    if proc.returncode != 0:
        pytest.fail(f"workflow failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return workdir


def test_panel_statuses_copy_number_and_qc(panel_run):
    for sample, status in EXPECTED.items():
        report = json.loads((panel_run / "results" / "reports" / f"{sample}.dira.json").read_text())
        assert report["qc"]["cnv_mode"] == "targeted", sample
        assert report["status"] == status, (sample, report["reasons"])
        capture = report["qc"]["capture"]
        assert capture["design"] == "bed" and capture["on_target_fraction"] > 0.3  # fragments overlap targets +/- 150
        assert capture["fold_80_base_penalty"] >= 1.0 and len(capture["reference_samples"]) >= 3
    carrier = json.loads((panel_run / "results" / "reports" / "P-CAR.dira.json").read_text())
    assert carrier["copy_number"]["IL1RN"] == 1 and len(carrier["deletions"]) == 1  # one allele, not exon pieces
    exon3 = json.loads((panel_run / "results" / "reports" / "P-EX3.dira.json").read_text())
    assert [d["il1rn_exons"] for d in exon3["deletions"]] == [[3]]
    with open(panel_run / "results" / "multiqc" / "dira_mqc.tsv") as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
    header = rows[0]
    assert all(float(r[header.index("on_target_fraction")]) > 30 for r in rows[1:])
