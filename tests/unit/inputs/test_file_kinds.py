"""Bad input named early with its cause and fix (issue 22, part 3, item 4)."""

from __future__ import annotations

import copy
import errno
import gzip
import random
import shutil
from pathlib import Path

import jsonschema
import pysam
import pytest
import yaml

from dira_devtools.simulate.resources import read_build
from dira_genotyper.errors import InputError
from dira_genotyper.inputs import diagnose, fastq_checks
from dira_genotyper.inputs import sheet as inputs

try:  # tests/unit as a package or as a plain folder on sys.path
    from .test_inputs import RESOURCES, _naming, synth_reference, write_bam  # noqa: F401 - a fixture
except ImportError:
    from test_inputs import RESOURCES, _naming, synth_reference, write_bam  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[3]
#: The contigs of the synthetic build (its locus contig, then the further windows' and control contigs).
SYNTH_CONTIGS = list(read_build(ROOT / "resources" / "SYNTH").contigs.items())
HEADER = "sample\tfq1\tfq2\tbam\n"


def _fastq(path: Path, n: int = 20, length: int = 100, qual: str = "I") -> Path:
    rng = random.Random(3)
    with gzip.open(path, "wt") as out:
        for i in range(n):
            out.write(f"@r{i}\n{''.join(rng.choice('ACGT') for _ in range(length))}\n+\n{qual * length}\n")
    return path


def _pair(tmp_path: Path, **kwargs) -> inputs.Sample:
    fq1, fq2 = _fastq(tmp_path / "S_R1.fq.gz", **kwargs), _fastq(tmp_path / "S_R2.fq.gz", **kwargs)
    return inputs.Sample("S", "fastq", fq1=str(fq1), fq2=str(fq2))


def test_a_good_pair_passes(tmp_path):
    assert fastq_checks.check_fastq_quick(_pair(tmp_path))["kind"] == "fastq"


def test_phred64_fastq_is_named_with_the_conversion(tmp_path):
    with pytest.raises(InputError, match=r"Phred\+64 base qualities.*seqtk seq -Q64 -V"):
        fastq_checks.check_fastq_quick(_pair(tmp_path, qual="h"))  # Q40 in Phred+64


def test_binned_phred33_qualities_are_not_phred64(tmp_path):
    sample = _pair(tmp_path, qual="F")  # NovaSeq-style Q37 everywhere: below 'J'
    assert fastq_checks.check_fastq_quick(sample)


def test_the_same_file_as_fq1_and_fq2_is_named(tmp_path):
    fq = _fastq(tmp_path / "S_R1.fq.gz")
    with pytest.raises(InputError, match="fq1 and fq2 are the same file"):
        fastq_checks.check_fastq_quick(inputs.Sample("S", "fastq", fq1=str(fq), fq2=str(fq)))


def test_short_reads_are_named_before_alignment(tmp_path):
    with pytest.raises(InputError, match=r"reads of 30 bp .*at least 50 bp"):
        fastq_checks.check_fastq_quick(_pair(tmp_path, length=30))


@pytest.mark.parametrize("index", ["x.bam.bai", "x.bai", "x.cram.crai", "x.bam.csi"])
def test_an_index_in_the_bam_column_is_named(tmp_path, index):
    path = tmp_path / "samples.tsv"
    path.write_text(f"{HEADER}S1\t\t\t{tmp_path / index}\n")
    with pytest.raises(InputError, match=r"sample S1 \(sheet line 2\): the `bam` column holds .* an index"):
        inputs.read_sample_sheet(path)


def test_sam_text_named_bam_is_named_with_the_conversion(tmp_path):
    sam = tmp_path / "S1.bam"
    sam.write_text("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr2\tLN:1000\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n")
    sample = inputs.Sample("S1", "bam", bam=str(sam))
    with pytest.raises(InputError, match=r"is SAM text, not a BAM.*samtools (sort|view -b)"):
        inputs.check_alignment_header(sample, "ref.fa", "SYNTH", "resources", inputs.Naming({}))


def test_min_mapq_above_bwa_range_is_rejected_by_the_schema():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    jsonschema.validate(config, schema)
    bad = copy.deepcopy(config)
    bad.setdefault("calling", {})["min_mapq"] = 1000
    with pytest.raises(jsonschema.ValidationError, match="1000 is greater than the maximum of 60"):
        jsonschema.validate(bad, schema)


# --- BAM/CRAM content (helpers of test_inputs) --------------------------------------------------------------


def test_unsorted_records_under_a_coordinate_header_are_named(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "u.bam", SYNTH_CONTIGS, order="coordinate", step=-10)
    sample = inputs.Sample("s1", "bam", bam=bam)
    with pytest.raises(InputError, match=r"not sorted by coordinate .*although its header says @HD SO:coordinate.*"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_a_cram_reference_one_base_off_is_named_by_its_md5(tmp_path, synth_reference):
    cram = write_bam(tmp_path / "c.cram", SYNTH_CONTIGS, reference=synth_reference)
    with pysam.AlignmentFile(cram, "rc", reference_filename=synth_reference) as handle:
        assert handle.header.to_dict()["SQ"][0].get("M5"), "htslib writes M5 tags"
    text = Path(synth_reference).read_text().split("\n")
    text[100] = ("C" if text[100][0] != "C" else "G") + text[100][1:]  # one base of chr2, far from the reads
    other = tmp_path / "one_off.fa"
    other.write_text("\n".join(text))
    pysam.faidx(str(other))
    sample = inputs.Sample("s1", "cram", bam=cram)
    inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))
    with pytest.raises(InputError, match=r"written against another reference: its contig chr2 has MD5 [0-9a-f]{32}"):
        inputs.check_alignment_header(sample, str(other), "SYNTH", RESOURCES, _naming(str(other)))


# --- a full disk seen through a broken pipe -------------------------------------------------------------------


def test_a_broken_pipe_on_a_full_disk_is_reported_as_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(diagnose.shutil, "disk_usage", lambda _: usage._replace(free=4096))
    message = diagnose.diagnose(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert message.startswith("no space left on device (a pipe broke") and "df -h ." in message


def test_a_broken_pipe_with_free_space_is_not_called_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(diagnose.shutil, "disk_usage", lambda _: usage._replace(free=50 * 2**30))
    assert diagnose.diagnose(BrokenPipeError(errno.EPIPE, "Broken pipe")) is None


def test_enospc_names_the_folder_of_the_file(tmp_path):
    exc = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "results" / "x.bam"))
    message = diagnose.diagnose(exc)
    assert message.startswith("no space left on device") and f"df -h {tmp_path / 'results'}" in message
