"""Bad-input catalogue, unit level: each case fails with a message that names the sample, the file and the fix."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pysam
import pytest

from dira_genotyper import inputs
from dira_genotyper.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = str(ROOT / "resources")
HEADER = "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"


def sheet(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def test_good_sheet_parses_with_family(tmp_path):
    path = sheet(tmp_path, ["kid\ta_R1.fq.gz\ta_R2.fq.gz\t\tF1\tdad\tmum\tF", "dad\t\t\tdad.bam\tF1\t\t\tM",
                            "mum\t\t\tmum.cram\tF1\t\t\t"])
    samples = inputs.read_sample_sheet(path)
    assert [(s.name, s.kind, s.sex) for s in samples] == [("kid", "fastq", "female"), ("dad", "bam", "male"),
                                                           ("mum", "cram", "unknown")]
    assert samples[0].father == "dad" and samples[0].mother == "mum"


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        (["a\tx_R1.fq.gz\tx_R2.fq.gz\t\t\t\t\t"], "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\tbatch\n",
         "unknown column(s) batch"),
        (["a\t\t\ta.bam\t\t\t\t", "a\t\t\tb.bam\t\t\t\t"], HEADER, "sample 'a' appears twice (lines 2 and 3)"),
        (["a\tx_R1.fq.gz\tx_R2.fq.gz\ta.bam\t\t\t\t"], HEADER, "both FASTQ (fq1/fq2) and bam are given"),
        (["a\t\t\t\t\t\t\t"], HEADER, "no input; give fq1+fq2 or bam"),
        (["a\tx_R1.fq.gz\t\t\t\t\t\t"], HEADER, "paired FASTQ needs both fq1 and fq2"),
        (["-bad\t\t\ta.bam\t\t\t\t"], HEADER, "sample name '-bad' is not allowed"),
        (["a\t\t\ta.bam\t\tnobody\t\t"], HEADER, "father 'nobody' is not a sample in the sheet"),
        (["a\t\t\ta.bam\t\t\t\tX"], HEADER, "sex 'X' is not one of M, F or empty"),
    ],
)
def test_bad_sheets(tmp_path, rows, header, expected):
    with pytest.raises(InputError) as err:
        inputs.read_sample_sheet(sheet(tmp_path, rows, header))
    assert expected in str(err.value)


def test_missing_sheet_says_which_setting(tmp_path):
    with pytest.raises(InputError, match="set `samples:`"):
        inputs.read_sample_sheet(tmp_path / "nope.tsv")


# --- FASTQ ---------------------------------------------------------------------------------------------


def write_fastq(path: Path, n: int, prefix: str = "r") -> None:
    rng = random.Random(1)
    with gzip.open(path, "wt") as out:
        for i in range(n):
            seq = "".join(rng.choice("ACGT") for _ in range(50))
            out.write(f"@{prefix}{i}\n{seq}\n+\n{'I' * 50}\n")


def test_fastq_pair_counts_must_match(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 10)
    write_fastq(tmp_path / "a_R2.fq.gz", 9)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match=r"sample a: fq1 .* has 10 reads but fq2 .* has 9"):
        inputs.validate_fastq_pair(sample)


def test_fastq_pair_ok_counts(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 10)
    write_fastq(tmp_path / "a_R2.fq.gz", 10)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    info = inputs.validate_fastq_pair(sample)
    assert info["read_pairs"] == 10 and info["bases"] == 1000


def test_empty_fastq_is_rejected(tmp_path):
    (tmp_path / "a_R1.fq.gz").write_bytes(gzip.compress(b""))
    write_fastq(tmp_path / "a_R2.fq.gz", 3)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match=r"sample a: fq1 .* is empty \(no reads\)"):
        inputs.check_fastq_quick(sample)


def test_truncated_fastq_is_rejected(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 2000)
    data = (tmp_path / "a_R1.fq.gz").read_bytes()
    (tmp_path / "a_R1.fq.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        inputs.count_fastq(str(tmp_path / "a_R1.fq.gz"))


def test_fastq_mates_must_pair(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 3, prefix="x")
    write_fastq(tmp_path / "a_R2.fq.gz", 3, prefix="y")
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match="are not mates"):
        inputs.check_fastq_quick(sample)


# --- reference, BAM, CRAM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_reference(tmp_path_factory) -> str:
    """A reference with the SYNTH build's contig lengths (random sequence): enough for header checks."""
    path = tmp_path_factory.mktemp("ref") / "ref.fa"
    rng = random.Random(7)
    with open(path, "w") as out:
        for name, length in (("chr2", 1_000_000), ("ctrl", 200_000)):
            out.write(f">{name}\n")
            seq = "".join(rng.choices("ACGT", k=length))
            out.writelines(seq[i:i + 60] + "\n" for i in range(0, length, 60))
    pysam.faidx(str(path))
    return str(path)


def write_bam(path: Path, contigs: list[tuple[str, int]], reference: str | None = None, n_reads: int = 20) -> str:
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": n, "LN": ln} for n, ln in contigs],
              "RG": [{"ID": "x", "SM": "x"}]}
    mode = "wc" if str(path).endswith(".cram") else "wb"
    with pysam.AlignmentFile(str(path), mode, header=header, reference_filename=reference) as out:
        fasta = pysam.FastaFile(reference) if reference else None
        for i in range(n_reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{i}"
            read.reference_id = 0
            read.reference_start = 500_000 + i * 10
            seq = fasta.fetch(contigs[0][0], read.reference_start, read.reference_start + 50) if fasta else "A" * 50
            read.query_sequence = seq
            read.cigarstring = "50M"
            read.mapping_quality = 60
            read.query_qualities = pysam.qualitystring_to_array("I" * 50)
            out.write(read)
    return str(path)


def test_reference_build_detected(synth_reference):
    build, naming = inputs.resolve_reference(synth_reference, "auto", RESOURCES)
    assert build == "SYNTH" and naming.to_ref("chr2") == "chr2"


def test_reference_without_locus_contig(tmp_path):
    ref = tmp_path / "other.fa"
    ref.write_text(">chr7\n" + "ACGT" * 100 + "\n")
    with pytest.raises(InputError, match="does not contain the IL1RN locus contig"):
        inputs.resolve_reference(str(ref), "auto", RESOURCES)


def test_configured_build_must_match_reference(synth_reference):
    with pytest.raises(InputError, match="config says build GRCh38 but reference .* is SYNTH"):
        inputs.resolve_reference(synth_reference, "GRCh38", RESOURCES)


def _naming(ref):
    return inputs.resolve_reference(ref, "auto", RESOURCES)[1]


def test_missing_bam(tmp_path, synth_reference):
    sample = inputs.Sample("s1", "bam", bam=str(tmp_path / "missing.bam"))
    with pytest.raises(InputError, match=r"sample s1: BAM .*missing.bam does not exist"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_truncated_bam(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "t.bam", [("chr2", 1_000_000), ("ctrl", 200_000)])
    data = Path(bam).read_bytes()
    Path(bam).write_bytes(data[:-40])
    sample = inputs.Sample("s1", "bam", bam=bam)
    with pytest.raises(InputError, match=r"sample s1: BAM .* is truncated or corrupt"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_wrong_build_bam(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "b38.bam", [("chr2", 242_193_529)])
    sample = inputs.Sample("s1", "bam", bam=bam)
    with pytest.raises(InputError, match=r"sample s1: BAM .* is aligned to GRCh38 but the run uses SYNTH"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_unindexed_bam_is_accepted_and_no_chr_naming_is_mapped(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "nochr.bam", [("2", 1_000_000), ("ctrl", 200_000)])
    sample = inputs.Sample("s1", "bam", bam=bam)
    info = inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))
    assert info["index"] is None and info["renamed_from"] == "2"


def test_cram_with_other_naming_is_rejected(tmp_path, synth_reference):
    nochr = tmp_path / "nochr.fa"
    nochr.write_text(Path(synth_reference).read_text().replace(">chr2\n", ">2\n"))
    pysam.faidx(str(nochr))
    cram = write_bam(tmp_path / "x.cram", [("2", 1_000_000), ("ctrl", 200_000)], reference=str(nochr))
    sample = inputs.Sample("s1", "cram", bam=cram)
    with pytest.raises(InputError, match="names the locus contig '2' but the reference names it 'chr2'"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_cram_without_its_reference(tmp_path, synth_reference):
    cram = write_bam(tmp_path / "c.cram", [("chr2", 1_000_000), ("ctrl", 200_000)], reference=synth_reference)
    other = tmp_path / "other.fa"
    rng = random.Random(3)
    other.write_text(">chr2\n" + "".join(rng.choices("ACGT", k=1_000_000)) + "\n>ctrl\n"
                     + "".join(rng.choices("ACGT", k=200_000)) + "\n")
    pysam.faidx(str(other))
    sample = inputs.Sample("s1", "cram", bam=cram)
    # With its own reference the CRAM decodes.
    inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))
    with pytest.raises(InputError, match=r"sample s1: CRAM .* cannot be decoded with reference"):
        inputs.check_alignment_header(sample, str(other), "SYNTH", RESOURCES, _naming(str(other)))
