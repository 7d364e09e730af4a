"""The workflow on real GRCh38 chromosome coordinates, not only on the 1 Mb test build.

Four samples of the bundled synthetic cohort are moved onto a full-length GRCh38 chr2 (242,193,529 bp, N
outside the synthetic window; see grch38_lift.py), so `build: auto` picks GRCh38 and the shipped
resources/GRCh38 (GFF3, exons, targets, controls, mask) are what the run uses. No BWA index is needed: the
inputs are the cohort's alignments, shifted by the SYNTH build's offset (+112,450,000).

| sample | truth | input here |
|---|---|---|
| DIRA-01 | affected, c.160C>T homozygous | BAM with the contig named `2` (renamed by the workflow) |
| DIRA-04 | carrier, c.160C>T heterozygous | CRAM written against the lifted chr2 FASTA |
| DIRA-06 | affected, ~175 kb deletion + c.229G>T hemizygous | BAM |
| DIRA-08 | negative (benign common missense only) | BAM |
| MAJEED-01 | DIRA negative; Majeed affected, LPIN2 c.1157C>G homozygous (chr18) | BAM |

The further window of the resources (LPIN2 on chr18, issue #23) is lifted onto a full-length chr18 (80,373,285 bp
on GRCh38, 78,077,248 on GRCh37) by the same rule, so the run reads chr2 and chr18 as a lab's reference has them.

The cohort has no carrier of a heterozygous whole-IL1RN deletion alone, so DIRA-08 is the normal sample.
DIRA-01 and DIRA-08 are FASTQ samples in the cohort: their alignments are taken from the session's default
workflow run (`workflow_run`, results/mapping/), so nothing is aligned twice. The population VCF is lifted
too (DIRA-08's common missense is benign by its frequency).

GRCh37 gets the same treatment on two samples (a full-length GRCh37 chr2, 243,199,373 bp, the cluster's genes at
GRCh38 + 757,577 as FACTS.md says; `build: auto` must pick resources/GRCh37): DIRA-01 as a BAM whose contig is
named `2` (the b37 convention, chr18 then `18`), DIRA-06 (~175 kb deletion + c.229G>T hemizygous) and MAJEED-01.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pysam
import pytest

from tests.conftest import ROOT, run_snakemake
from tests.workflow.grch38_lift import lift_alignments, lift_population_vcf, plan_lift, write_chr2_fasta

pytestmark = pytest.mark.workflow
REPORT_GENES = ["IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10"]
# FACTS.md (../shared/locus): published alleles at their GRCh38 positions (MANE exon model arithmetic)
GRCH38_POSITIONS = {"c.160C>T": 113_129_619, "c.229G>T": 113_131_068}
# resources/LPIN2-MODEL.md: LPIN2 c.1157C>G p.(Ser386*) at GRCh38 chr18:2,937,703 (- strand: the genome's G>C)
LPIN2_C1157 = {"GRCh38": 2_937_703, "GRCh37": 2_937_701}
CHR18 = {"GRCh38": 80_373_285, "GRCh37": 78_077_248}
GRCH38 = json.loads((ROOT / "resources" / "GRCh38" / "build.json").read_text())
SYNTH = json.loads((ROOT / "resources" / "SYNTH" / "build.json").read_text())
OFFSET = SYNTH["parameters"]["grch38_offset"]
GRCH37_SHIFT = 757_577  # FACTS.md: GRCh37 = GRCh38 + 757,577 across the cluster
OFFSETS = {"GRCh38": OFFSET, "GRCh37": OFFSET + GRCH37_SHIFT}
LENGTHS = {"GRCh38": 242_193_529, "GRCh37": 243_199_373}

# sample -> (where its SYNTH alignment comes from, contig name on the lifted input, output suffix)
SAMPLES = {
    "DIRA-01": ("mapping", "2", ".bam"),
    "DIRA-04": ("cohort", "chr2", ".cram"),
    "DIRA-06": ("cohort", "chr2", ".bam"),
    "DIRA-08": ("mapping", "chr2", ".bam"),
    "MAJEED-01": ("cohort", "chr2", ".bam"),
}
SAMPLES_GRCH37 = {name: SAMPLES[name] for name in ("DIRA-01", "DIRA-06", "MAJEED-01")}


def lift_and_run(
    cohort_dir: Path, mapping_dir: Path, base: Path, build: str = "GRCh38", samples: dict = SAMPLES
) -> dict:
    """Build the chr2 FASTA of `build` and the lifted inputs under ``base``, run the workflow once there.

    ``cohort_dir``: the synthetic cohort (reference, BAM/CRAM, truth, population VCF); ``mapping_dir``: the
    SYNTH alignments of its FASTQ samples (a default run's results/mapping)."""
    t0 = time.perf_counter()
    synth_fa = cohort_dir / "reference" / "synth.fa"
    lift = plan_lift(synth_fa, ROOT / "resources", build)
    assert lift.length == LENGTHS[build] and lift.delta["chr2"] == OFFSETS[build]
    fasta = write_chr2_fasta(synth_fa, lift, base / "ref" / "chr2.fa.gz")
    t_fasta = time.perf_counter() - t0

    inputs = base / "inputs"
    inputs.mkdir()
    rows = ["sample\tbam\n"]
    for sample, (source, contig, suffix) in samples.items():
        if source == "mapping":
            src = mapping_dir / f"{sample}.bam"
        else:
            src = next(p for p in (cohort_dir / "bam").glob(f"{sample}.*") if p.suffix in (".bam", ".cram"))
        out = lift_alignments(
            src, lift, inputs / f"{sample}{suffix}", contig_name=contig, synth_fasta=synth_fa, cram_reference=fasta
        )
        rows.append(f"{sample}\t{out}\n")
    population = lift_population_vcf(
        cohort_dir / "population" / "population_af.vcf.gz", lift, base / "population.vcf.gz"
    )
    t_inputs = time.perf_counter() - t0 - t_fasta

    workdir = base / "run"
    workdir.mkdir()
    (workdir / "resources").symlink_to(ROOT / "resources")
    (workdir / "config").mkdir()
    (workdir / "config" / "samples.tsv").write_text("".join(rows))
    (workdir / "config" / "config.yaml").write_text(
        f"samples: config/samples.tsv\nreference: {fasta}\nbuild: auto\npopulation_vcf: {population}\n"
    )
    t1 = time.perf_counter()
    # the reports only (no cohort table, locus QC or MultiQC page: the default run makes those)
    proc = run_snakemake(workdir, "--cores", "2", *(f"results/reports/{s}.dira.json" for s in samples))
    t_run = time.perf_counter() - t1
    if proc.returncode != 0:
        pytest.fail(f"workflow on {build} coordinates failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-8000:]}")
    timings = {"fasta": t_fasta, "inputs": t_inputs, "workflow": t_run, "total": time.perf_counter() - t0}
    print(f"{build} lift timings (s): {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    return {
        "workdir": workdir,
        "fasta": fasta,
        "truth": json.loads((cohort_dir / "truth.json").read_text()),
        "timings": timings,
        "build": build,
        "samples": samples,
    }


@pytest.fixture(scope="module")
def lifted_run(cohort_dir, workflow_run, tmp_path_factory) -> dict:
    return lift_and_run(cohort_dir, workflow_run / "results" / "mapping", tmp_path_factory.mktemp("grch38"))


@pytest.fixture(scope="module")
def lifted37_run(cohort_dir, workflow_run, tmp_path_factory) -> dict:
    mapping = workflow_run / "results" / "mapping"
    return lift_and_run(cohort_dir, mapping, tmp_path_factory.mktemp("grch37"), "GRCh37", SAMPLES_GRCH37)


def report(run: dict, sample: str) -> dict:
    return json.loads((run["workdir"] / "results" / "reports" / f"{sample}.dira.json").read_text())


def c_name(name: str | None) -> str | None:
    return name.split(":", 1)[1] if name and ":" in name else name


def test_lifted_reference_is_grch38_chr2(lifted_run):
    with pysam.FastaFile(str(lifted_run["fasta"])) as fasta:
        assert dict(zip(fasta.references, fasta.lengths, strict=True)) == {
            "chr2": 242_193_529,
            "chr18": CHR18["GRCh38"],
        }
        assert fasta.fetch("chr2", 0, 1000) == "N" * 1000
        assert fasta.fetch("chr18", LPIN2_C1157["GRCh38"] - 1, LPIN2_C1157["GRCh38"]) == "G"  # c.1157 C, - strand
        # the MANE CDS starts at GRCh38 113,127,625 with ATG (FACTS.md); c.160 is C, c.229 is G
        assert fasta.fetch("chr2", 113_127_624, 113_127_627) == "ATG"
        assert fasta.fetch("chr2", 113_129_618, 113_129_619) == "C"
        assert fasta.fetch("chr2", 113_131_067, 113_131_068) == "G"
    assert Path(f"{lifted_run['fasta']}.gzi").exists()
    assert lifted_run["fasta"].stat().st_size < 4_500_000


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_report_on_grch38_matches_truth(lifted_run, sample):
    check_against_truth(lifted_run, sample)


@pytest.mark.parametrize("sample", sorted(SAMPLES_GRCH37))
def test_report_on_grch37_matches_truth(lifted37_run, sample):
    check_against_truth(lifted37_run, sample)


def test_grch37_reference_and_contig_naming(lifted37_run):
    with pysam.FastaFile(str(lifted37_run["fasta"])) as fasta:
        assert dict(zip(fasta.references, fasta.lengths, strict=True)) == {
            "chr2": 243_199_373,
            "chr18": CHR18["GRCh37"],
        }
        assert fasta.fetch("chr18", LPIN2_C1157["GRCh37"] - 1, LPIN2_C1157["GRCh37"]) == "G"
        # FACTS.md: the GRCh37 CDS starts at 113,885,202 (ATG); c.160 and c.229 at GRCh38 + 757,577
        assert fasta.fetch("chr2", 113_885_201, 113_885_204) == "ATG"
        assert fasta.fetch("chr2", 113_129_618 + GRCH37_SHIFT, 113_129_619 + GRCH37_SHIFT) == "C"
    with pysam.AlignmentFile(str(lifted37_run["workdir"] / "results" / "locus" / "DIRA-01.bam")) as bam:
        assert list(bam.references) == ["chr2", "chr18"] and bam.lengths[0] == 243_199_373


def check_against_truth(run: dict, sample: str) -> None:
    """The report on real coordinates of run["build"] says what the truth says, at the lifted positions."""
    build, offset = run["build"], OFFSETS[run["build"]]
    expected = run["truth"][sample]
    got = report(run, sample)
    assert got["build"] == build
    assert got["transcript"]["refseq"] == "NM_173842.3"
    assert got["transcript"]["ensembl"] == "ENST00000409930.4"
    assert got["status"] == expected["status"], got["reasons"]
    for disease, status in expected["differential"].items():
        section = got["differential"][disease]
        assert section["status"] == status, (disease, section["reasons"])
    check_differential_alleles(run, sample, got)
    assert got["qc"]["input_kind"] == run["samples"][sample][2].lstrip(".")

    # every small truth allele of IL1RN is reported, at its real GRCh38 position
    small = {c_name(a["hgvs_c"]): a for a in got["alleles"] if a["kind"] != "deletion"}
    for allele in expected["alleles"]:
        if allele["kind"] == "deletion" or allele["chrom"] != "chr2" or allele.get("gene", "IL1RN") != "IL1RN":
            continue
        name = allele["hgvs_c"]
        named_benign = any(name in r and "benign" in r for r in got["reasons"])
        if name not in small:
            assert named_benign, f"{name} not reported: {sorted(small)}"
            continue
        call = small[name]
        assert call["zygosity"] == allele["zygosity"], call
        pos = allele["pos"] + offset
        if name in GRCH38_POSITIONS:
            assert pos == GRCH38_POSITIONS[name] + (GRCH37_SHIFT if build == "GRCh37" else 0)
        assert call["genomic"]["chrom"] == "chr2" and call["genomic"]["pos"] == pos, call["genomic"]
        if allele["kind"] == "snv":  # an indel's g. name takes its 3'-most position, not the VCF's
            chromosome = {"GRCh38": "NC_000002.12", "GRCh37": "NC_000002.11"}[build]
            assert call["hgvs_g"] and call["hgvs_g"].startswith(f"{chromosome}:g.{pos}"), call["hgvs_g"]
    assert set(small) <= {a["hgvs_c"] for a in expected["alleles"]}, sorted(small)
    # each gene's copy number (LPIN2 and its neighbours on chr18 too)
    for gene, cn in expected["copy_number"].items():
        if gene in got["copy_number"]:
            assert got["copy_number"][gene] in (cn, None), (gene, got["copy_number"])

    # deletions at the build's coordinates
    assert len(got["deletions"]) == len(expected["deletions"]), got["deletions"]
    for deletion in expected["deletions"]:
        start, end = deletion["start"] + offset, deletion["end"] + offset
        match = [d for d in got["deletions"] if abs(d["start"] - start) <= 10 and abs(d["end"] - end) <= 10]
        assert match, f"deletion {start}-{end} not found in {got['deletions']}"
        assert match[0]["chrom"] == "chr2" and match[0]["zygosity"] == deletion["zygosity"]
        assert set(match[0]["genes"]) >= set(deletion["genes"]) & set(REPORT_GENES)

    # copy number is called (the samples are 30x WGS-like) and right, with the build's controls
    assert got["qc"]["cnv_status"] == "called", got["reasons"]
    assert got["qc"]["mean_depth"] > 7 * expected["copy_number"]["IL1RN"]  # 30x: ~15x per copy
    for gene in REPORT_GENES:
        assert got["copy_number"][gene] == expected["copy_number"][gene], (gene, got["copy_number"])


def check_differential_alleles(run: dict, sample: str, got: dict) -> None:
    """A Majeed sample's LPIN2 allele on chr18 at its real position, named on the build's chr18 accession."""
    if sample != "MAJEED-01":
        return
    build = run["build"]
    (allele,) = got["differential"]["Majeed"]["alleles"]
    assert c_name(allele["hgvs_c"]) == "c.1157C>G" and allele["zygosity"] == "homozygous", allele
    assert (allele["genomic"]["chrom"], allele["genomic"]["pos"]) == ("chr18", LPIN2_C1157[build]), allele
    accession = {"GRCh38": "NC_000018.10", "GRCh37": "NC_000018.9"}[build]
    assert allele["hgvs_g"] == f"{accession}:g.{LPIN2_C1157[build]}G>C", allele["hgvs_g"]
    assert got["differential"]["Majeed"]["gene"] == "LPIN2"


def test_contig_2_bam_is_renamed_and_controls_have_reads(lifted_run):
    workdir = lifted_run["workdir"]
    with pysam.AlignmentFile(str(workdir / "results" / "locus" / "DIRA-01.bam")) as bam:
        assert list(bam.references) == ["chr2", "chr18"]
        assert bam.lengths[0] == 242_193_529
    for sample in SAMPLES:
        with pysam.AlignmentFile(str(workdir / "results" / "locus" / f"{sample}.bam")) as bam:
            for row in csv.reader(open(ROOT / "resources" / "GRCh38" / "controls.bed"), delimiter="\t"):
                chrom, start, end = row[0], int(row[1]), int(row[2])
                reads = bam.count(chrom, start, end)
                assert reads > (end - start) * 15 / 300, (sample, row, reads)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_same_answer_as_on_the_test_build(lifted_run, workflow_run, sample):
    """Only the coordinates move: the same reads give the same depth, callability, evidence and answer as in
    the default run on the SYNTH build (normalisation differs: SYNTH also normalises on its `ctrl` contig)."""
    got = report(lifted_run, sample)
    synth = json.loads((workflow_run / "results" / "reports" / f"{sample}.dira.json").read_text())
    assert synth["build"] == "SYNTH"
    assert got["status"] == synth["status"]
    assert got["copy_number"] == synth["copy_number"]

    def exon_cn(rep: dict) -> list:  # the copy-number quality follows the normalisation, so it may differ
        return [(e["gene"], e["exon"], e["copy_number"]) for e in rep["exon_copy_number"]]

    assert exon_cn(got) == exon_cn(synth)
    for key in ("mean_depth", "callable_fraction_cds", "uncallable_exons"):
        assert got["qc"][key] == synth["qc"][key], key
    moved_exons = [dict(e, start=e["start"] - OFFSET, end=e["end"] - OFFSET) for e in got["exon_coverage"]]
    assert moved_exons == synth["exon_coverage"]

    def evidence(rep: dict) -> dict:
        return {(a["hgvs_c"], a["zygosity"]): (a["evidence"], a["classification"]) for a in rep["alleles"]}

    assert evidence(got) == evidence(synth)
    moved = [(d["start"] - OFFSET, d["end"] - OFFSET, d["zygosity"]) for d in got["deletions"]]
    assert moved == [(d["start"], d["end"], d["zygosity"]) for d in synth["deletions"]]
