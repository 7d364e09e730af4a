"""Bad-input catalogue, workflow level: the run stops before any job, naming the sample, file and fix."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pysam
import pytest

from tests.conftest import ROOT, make_workdir, run_snakemake

pytestmark = pytest.mark.workflow
HEADER = "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"


def dry_run(tmp_path: Path, rows: list[str], header: str = HEADER):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(header + "".join(r + "\n" for r in rows))
    workdir = make_workdir(tmp_path / "run", sheet)
    return run_snakemake(workdir, "-n", "--cores", "1")


def assert_fails(proc, *needles):
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-3000:]
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text[-3000:]}"


def fq(sample: str) -> str:
    return f"test-data/fastq/{sample}_R1.fastq.gz\ttest-data/fastq/{sample}_R2.fastq.gz"


def test_good_sheet_dry_runs(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, [f"DIRA-08\t{fq('DIRA-08')}\t\t\t\t\t", "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "genotype" in proc.stdout


def test_missing_file(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, ["S1\t\t\ttest-data/bam/nothere.bam\t\t\t\t"])
    assert_fails(proc, "sample S1: BAM test-data/bam/nothere.bam does not exist", "fix the `bam` path")


def test_unknown_column(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, [f"S1\t{fq('DIRA-08')}\t\t\t\t\tx"], HEADER.replace("sex\n", "sex\tbatch\n"))
    assert_fails(proc, "unknown column(s) batch")


def test_duplicate_sample(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, [f"S1\t{fq('DIRA-08')}\t\t\t\t\t", f"S1\t{fq('DIRA-09')}\t\t\t\t\t"])
    assert_fails(proc, "sample 'S1' appears twice")


def test_both_fastq_and_bam(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, [f"S1\t{fq('DIRA-08')}\ttest-data/bam/DIRA-02.bam\t\t\t\t"])
    assert_fails(proc, "sample S1", "both FASTQ (fq1/fq2) and bam are given")


def test_empty_fastq(cohort_dir, tmp_path):
    empty = tmp_path / "empty_R1.fastq.gz"
    empty.write_bytes(gzip.compress(b""))
    proc = dry_run(tmp_path, [f"S1\t{empty}\ttest-data/fastq/DIRA-08_R2.fastq.gz\t\t\t\t\t"])
    assert_fails(proc, "sample S1: fq1", "is empty (no reads)")


def test_read_count_mismatch_fails_at_alignment_with_a_clear_message(cohort_dir, tmp_path):
    """`alignment.mode: recruit` (the default): `validate_input` reads only the first records, the recruitment
    pass of the `align` rule reads every record and stops on the mismatch, naming both files and the fix."""
    r1 = tmp_path / "S1_R1.fastq.gz"
    with gzip.open(cohort_dir / "fastq" / "DIRA-09_R1.fastq.gz", "rt") as src, gzip.open(r1, "wt") as dst:
        lines = src.readlines()
        dst.writelines(lines[: len(lines) - 400])  # drop the last 100 reads of R1
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + f"S1\t{r1}\ttest-data/fastq/DIRA-09_R2.fastq.gz\t\t\t\t\t\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    proc = run_snakemake(workdir, "--cores", "1", "results/mapping/S1.bam")
    assert proc.returncode != 0
    checked = json.loads((workdir / "results" / "qc" / "S1.input.json").read_text())
    assert "align rule's recruitment pass" in checked["full_check"]
    log = (workdir / "logs" / "mapping" / "S1.align.log").read_text()
    assert "sample S1: fq1" in log and "reads but fq2" in log and "re-export both files" in log, log[-2000:]
    assert f"has {len(lines) // 4 - 100:,} reads but fq2" in log
    assert not (workdir / "results" / "mapping" / "S1.bam").exists()


def test_truncated_bam(cohort_dir, tmp_path):
    bam = tmp_path / "cut.bam"
    data = (cohort_dir / "bam" / "DIRA-02.bam").read_bytes()
    bam.write_bytes(data[: len(data) // 2])
    proc = dry_run(tmp_path, [f"S1\t\t\t{bam}\t\t\t\t"])
    assert_fails(proc, "sample S1: BAM", "is truncated or corrupt")


def test_cram_without_its_reference(cohort_dir, tmp_path):
    other = tmp_path / "other.fa"
    with open(cohort_dir / "reference" / "synth.fa") as src, open(other, "w") as dst:
        for line in src:  # same names and lengths, different sequence
            dst.write(line if line.startswith(">") else line.translate(str.maketrans("ACGT", "CATG")))
    config = (ROOT / "config" / "config.yaml").read_text().replace("test-data/reference/synth.fa", str(other))
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + "DIRA-04\t\t\ttest-data/bam/DIRA-04.cram\t\t\t\t\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    (workdir / "config" / "config.yaml").write_text(config)
    proc = run_snakemake(workdir, "-n", "--cores", "1")
    assert_fails(proc, "sample DIRA-04: CRAM", "written against another reference", "a CRAM needs the exact FASTA")


def test_wrong_build(cohort_dir, tmp_path):
    bam = tmp_path / "grch38.bam"
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": 242_193_529}]}
    with pysam.AlignmentFile(str(bam), "wb", header=header):
        pass
    proc = dry_run(tmp_path, [f"S1\t\t\t{bam}\t\t\t\t"])
    assert_fails(proc, "sample S1: BAM", "is aligned to GRCh38 but the run uses SYNTH")


@pytest.fixture(scope="module")
def odd_bams_run(cohort_dir, tmp_path_factory):
    """One run to the locus BAMs of two odd but valid inputs: S1 a BAM without index, S2 a BAM whose contigs are
    named `2` where the reference says `chr2`."""
    tmp = tmp_path_factory.mktemp("odd-bams")
    unindexed = tmp / "noindex.bam"
    shutil.copyfile(cohort_dir / "bam" / "DIRA-02.bam", unindexed)
    src = pysam.AlignmentFile(str(cohort_dir / "bam" / "DIRA-02.bam"))
    header = src.header.to_dict()
    for sq in header["SQ"]:
        sq["SN"] = sq["SN"].replace("chr2", "2")
    renamed = tmp / "nochr.bam"
    with pysam.AlignmentFile(str(renamed), "wb", header=header) as out:
        for read in src.fetch(until_eof=True):
            out.write(read)
    pysam.index(str(renamed))
    sheet = tmp / "sheet.tsv"
    # both copies of DIRA-02's BAM: their @RG SM (DIRA-02) differs from the sheet's names, said in `bam_sm`
    sheet.write_text(
        HEADER.replace("sex\n", "sex\tbam_sm\n")
        + f"S1\t\t\t{unindexed}\t\t\t\t\tDIRA-02\nS2\t\t\t{renamed}\t\t\t\t\tDIRA-02\n"
    )
    workdir = make_workdir(tmp / "run", sheet)
    proc = run_snakemake(workdir, "--cores", "2", "results/locus/S1.bam", "results/locus/S2.bam")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_unindexed_bam_is_indexed_by_the_workflow(odd_bams_run):
    assert (odd_bams_run / "results" / "inputs" / "S1.bai").exists()
    assert pysam.AlignmentFile(str(odd_bams_run / "results" / "locus" / "S1.bam")).mapped > 1000


def test_chr_naming_mismatch_bam_is_renamed(odd_bams_run):
    locus = pysam.AlignmentFile(str(odd_bams_run / "results" / "locus" / "S2.bam"))
    assert "chr2" in locus.references and "2" not in locus.references
    assert locus.count("chr2") > 1000


def test_reference_without_locus_contig(cohort_dir, tmp_path):
    ref = tmp_path / "chr7.fa"
    ref.write_text(">chr7\n" + "ACGT" * 1000 + "\n")
    config = (ROOT / "config" / "config.yaml").read_text().replace("test-data/reference/synth.fa", str(ref))
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + f"S1\t{fq('DIRA-08')}\t\t\t\t\t\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    (workdir / "config" / "config.yaml").write_text(config)
    proc = run_snakemake(workdir, "-n", "--cores", "1")
    assert_fails(proc, "does not contain the IL1RN locus contig")


def test_failed_sample_does_not_stop_the_others_and_is_marked(cohort_dir, tmp_path):
    """With --keep-going (the default profile), a sample whose job fails is marked in the cohort table."""
    r1 = tmp_path / "BAD_R1.fastq.gz"
    with gzip.open(cohort_dir / "fastq" / "DIRA-09_R1.fastq.gz", "rt") as src, gzip.open(r1, "wt") as dst:
        lines = src.readlines()
        dst.writelines(lines[: len(lines) - 40])
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        HEADER + f"BAD\t{r1}\ttest-data/fastq/DIRA-09_R2.fastq.gz\t\t\t\t\t\n"
        "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t\n"
    )
    workdir = make_workdir(tmp_path / "run", sheet)
    proc = run_snakemake(workdir, "--cores", "2", "--keep-going")
    assert proc.returncode != 0
    assert (workdir / "results" / "reports" / "DIRA-02.dira.json").exists()
    assert not (workdir / "results" / "reports" / "BAD.dira.json").exists()
    rows = {r.split("\t")[0]: r.split("\t") for r in (workdir / "results" / "cohort.tsv").read_text().splitlines()[1:]}
    assert rows["DIRA-02"][1] == "affected"
    assert rows["BAD"][1] == "failed" and "reads but fq2" in rows["BAD"][-1]


# --- issue 13: config typos, sample identity, pedigree, late errors, faults after which the run stays truthful ---


def test_config_typo_fails_before_any_job_naming_key_and_nearest(cohort_dir, tmp_path):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    with open(workdir / "config" / "config.yaml", "a") as config:
        config.write("calling:\n  min_depthh: 5\ninterpretation:\n  strict_phse: true\n")
    proc = run_snakemake(workdir, "-n", "--cores", "1")
    assert_fails(
        proc,
        "unknown key `calling.min_depthh` in the configuration: did you mean `calling.min_depth`?",
        "unknown key `interpretation.strict_phse` in the configuration: did you mean `interpretation.strict_phase`?",
        "(no job was started)",
    )


def test_strict_phase_false_is_ignored_with_a_warning(cohort_dir, tmp_path):
    """`interpretation.strict_phase: false` once reported two unphased heterozygous LoF alleles `affected`; it is
    deprecated and ignored (presumed biallelic is the only behaviour), and the run says so."""
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t\n")
    workdir = make_workdir(tmp_path / "run", sheet)
    with open(workdir / "config" / "config.yaml", "a") as config:
        config.write("interpretation:\n  strict_phase: false\n")
    proc = run_snakemake(workdir, "-n", "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "interpretation.strict_phase: false is deprecated and ignored" in proc.stdout + proc.stderr
    assert "--strict-phase" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        (
            "PATIENT-X\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t",
            ["read groups name sample (@RG SM) 'DIRA-02' but the sheet says 'PATIENT-X'", "`bam_sm` cell"],
        ),
        ("PATIENT-X\t\t\ttest-data/bam/DIRA-02.bam\t\t\t\t\tDIRA-02", None),  # the sheet overrides
    ],
)
def test_bam_of_another_sample_stops_unless_the_sheet_overrides(cohort_dir, tmp_path, row, needles):
    proc = dry_run(tmp_path, [row], HEADER.replace("sex\n", "sex\tbam_sm\n"))
    if needles is None:
        assert proc.returncode == 0, proc.stderr[-3000:]
    else:
        assert_fails(proc, *needles)


def test_father_with_sex_f_stops_at_parse_time(cohort_dir, tmp_path):
    proc = dry_run(
        tmp_path, [f"KID\t{fq('DIRA-08')}\t\tF1\tDIRA-02\t\t", "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\tF1\t\t\tF"]
    )
    assert_fails(proc, "sample KID (sheet line 2): father DIRA-02 has sex female in the sheet")


def _cohort_rows(workdir: Path) -> dict[str, dict]:
    lines = (workdir / "results" / "cohort.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return {r.split("\t")[0]: dict(zip(header, r.split("\t"))) for r in lines[1:]}


def test_parent_failure_and_stale_report_after_a_failed_rerun(cohort_dir, tmp_path):
    """Run 1: the father fails (its FASTQ pair is incomplete): the error handler genotypes nobody, the proband's
    row names the father and the rerun that reports it without him. Run 1b, that rerun (`failed_parents`): the
    genotype rule reports the proband without parental phase, naming the father. Run 2: a damaged intermediate
    of the proband (truncated calls VCF) fails the rerun: its old report is moved to results/reports/stale/,
    cohort.tsv says failed with the file and the fix."""
    r1 = tmp_path / "DAD_R1.fastq.gz"
    with gzip.open(cohort_dir / "fastq" / "DIRA-09_R1.fastq.gz", "rt") as src, gzip.open(r1, "wt") as dst:
        lines = src.readlines()
        dst.writelines(lines[: len(lines) - 40])
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        HEADER + "DIRA-02\t\t\ttest-data/bam/DIRA-02.bam\tF1\tDAD\t\t\n"
        f"DAD\t{r1}\ttest-data/fastq/DIRA-09_R2.fastq.gz\t\tF1\t\t\tM\n"
    )
    workdir = make_workdir(tmp_path / "run", sheet)
    proc = run_snakemake(workdir, "--cores", "2", "--keep-going")
    assert proc.returncode != 0
    assert not (workdir / "results" / "reports" / "DIRA-02.dira.json").exists()
    rows = _cohort_rows(workdir)
    assert rows["DIRA-02"]["status"] == "failed"
    assert rows["DIRA-02"]["failed_reason"].startswith("not genotyped because its father DAD failed")
    assert rows["DIRA-02"]["failed_reason"].endswith("rerun with --config failed_parents=[DAD]")
    without_dad = ("--config", "failed_parents=[DAD]")
    proc = run_snakemake(workdir, "--cores", "2", "--keep-going", *without_dad)
    assert proc.returncode != 0  # DAD fails again
    assert (workdir / "logs" / "reports" / "DIRA-02.log").exists()  # made by the genotype rule
    report = json.loads((workdir / "results" / "reports" / "DIRA-02.dira.json").read_text())
    assert report["schema_version"] == "1.4"
    bam_digest = report["provenance"]["inputs"]["bam"]
    assert "path" not in bam_digest  # contents, not locations (paths are in DIRA-02.run.json)
    assert bam_digest["sha256"] == hashlib.sha256((cohort_dir / "bam" / "DIRA-02.bam").read_bytes()).hexdigest()
    assert report["provenance"]["config"]["calling"]["min_depth"] == 10
    assert report["family"]["failed_parents"][0]["sample"] == "DAD"
    assert any("reported without parental phase: the analysis of the father DAD" in r for r in report["reasons"])
    assert report["limitations"][0].startswith("Parental phase missing")
    rows = _cohort_rows(workdir)
    assert rows["DAD"]["status"] == "failed" and "reads but fq2" in rows["DAD"]["failed_reason"]
    assert rows["DIRA-02"]["status"] == report["status"] != "failed"
    assert rows["DIRA-02"]["failed_reason"] == ""

    calls = workdir / "results" / "calls" / "DIRA-02.vcf.gz"
    data = calls.read_bytes()
    calls.write_bytes(data[: len(data) // 2])
    proc = run_snakemake(workdir, "--cores", "2", "--keep-going", *without_dad)
    assert proc.returncode != 0
    assert not (workdir / "results" / "reports" / "DIRA-02.dira.json").exists()
    assert (workdir / "results" / "reports" / "stale" / "DIRA-02.dira.json").exists()
    reason = _cohort_rows(workdir)["DIRA-02"]["failed_reason"]
    assert _cohort_rows(workdir)["DIRA-02"]["status"] == "failed"
    assert "this run could not renew the report" in reason and "results/reports/stale/" in reason
    assert "results/calls/DIRA-02.vcf.gz is truncated" in reason and "rm results/calls/DIRA-02.vcf.gz" in reason
