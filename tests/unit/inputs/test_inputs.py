"""Bad-input catalogue, unit level: each case fails with a message that names the sample, the file and the fix."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pysam
import pytest

from dira_devtools.simulate.resources import read_build
from dira_genotyper.errors import InputError
from dira_genotyper.inputs import fastq_checks, population_checks
from dira_genotyper.inputs import sheet as inputs

ROOT = Path(__file__).resolve().parents[3]
#: The contigs of the synthetic build (its locus contig, then the further windows' and control contigs).
SYNTH_CONTIGS = list(read_build(ROOT / "resources" / "SYNTH").contigs.items())
RESOURCES = str(ROOT / "resources")
HEADER = "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"


def sheet(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def test_good_sheet_parses_with_family(tmp_path):
    path = sheet(
        tmp_path,
        [
            "kid\ta_R1.fq.gz\ta_R2.fq.gz\t\tF1\tdad\tmum\tF",
            "dad\t\t\tdad.bam\tF1\t\t\tM",
            "mum\t\t\tmum.cram\tF1\t\t\t",
        ],
    )
    samples = inputs.read_sample_sheet(path)
    assert [(s.name, s.kind, s.sex) for s in samples] == [
        ("kid", "fastq", "female"),
        ("dad", "bam", "male"),
        ("mum", "cram", "unknown"),
    ]
    assert samples[0].father == "dad" and samples[0].mother == "mum"


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        (
            ["a\tx_R1.fq.gz\tx_R2.fq.gz\t\t\t\t\t"],
            "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\tbatch\n",
            "unknown column(s) batch",
        ),
        (["a\t\t\ta.bam\t\t\t\t", "a\t\t\tb.bam\t\t\t\t"], HEADER, "sample 'a' appears twice (lines 2 and 3)"),
        (["a\tx_R1.fq.gz\tx_R2.fq.gz\ta.bam\t\t\t\t"], HEADER, "both FASTQ (fq1/fq2) and bam are given"),
        (["a\t\t\t\t\t\t\t"], HEADER, "no input; give fq1+fq2 or bam"),
        (["a\tx_R1.fq.gz\t\t\t\t\t\t"], HEADER, "paired FASTQ needs both fq1 and fq2"),
        (["-bad\t\t\ta.bam\t\t\t\t"], HEADER, "sample name '-bad' is not allowed"),
        (["a\t\t\ta.bam\t\tnobody\t\t"], HEADER, "father 'nobody' is not a sample in the sheet"),
        (["a\t\t\ta.bam\t\t\t\tX"], HEADER, "sex 'X' is not one of M, F or empty"),
        # pedigree (issue 13, item 4)
        (
            ["kid\t\t\tk.bam\tF1\tdad\t\t", "dad\t\t\td.bam\tF1\t\t\tF"],
            HEADER,
            "sample kid (sheet line 2): father dad has sex female in the sheet",
        ),
        (
            ["kid\t\t\tk.bam\tF1\t\tmum\t", "mum\t\t\tm.bam\tF1\t\t\tM"],
            HEADER,
            "sample kid (sheet line 2): mother mum has sex male in the sheet",
        ),
        (["kid\t\t\tk.bam\tF1\tp\tp\t", "p\t\t\tp.bam\tF1\t\t\t"], HEADER, "'p' is named as both father and mother"),
        (["a\t\t\ta.bam\t\ta\t\t"], HEADER, "sample a (sheet line 2) is named as its own father"),
        (
            ["kid\t\t\tk.bam\tF1\tdad\t\t", "dad\t\t\td.bam\tF2\t\t\tM"],
            HEADER,
            "family F1 but its father dad has family F2",
        ),
        (
            ["a\t\t\ta.bam\tF\tb\t\t", "b\t\t\tb.bam\tF\tc\t\t", "c\t\t\tc.bam\tF\ta\t\t"],
            HEADER,
            "the pedigree has a cycle (a's parent is b, b's parent is c, c's parent is a)",
        ),
        (
            ["a\tx_R1.fq.gz\tx_R2.fq.gz\t\t\t\t\t\tother"],
            HEADER.replace("sex\n", "sex\tbam_sm\n"),
            "bam_sm 'other' is set but the sample has no bam",
        ),
    ],
)
def test_bad_sheets(tmp_path, rows, header, expected):
    with pytest.raises(InputError) as err:
        inputs.read_sample_sheet(sheet(tmp_path, rows, header))
    assert expected in str(err.value)


def test_prenatal_column_marks_a_fetal_sample(tmp_path):
    """Optional `prenatal` column (yes/no): the sample JSON says so only for a fetal sample."""
    header = HEADER.replace("sex\n", "sex\tprenatal\n")
    rows = ["fetus\t\t\tf.bam\tF1\t\tmum\t\tyes", "mum\t\t\tm.bam\tF1\t\t\tF\tno"]
    fetus, mum = inputs.read_sample_sheet(sheet(tmp_path, rows, header))
    assert fetus.prenatal and fetus.to_dict()["prenatal"] is True
    assert not mum.prenatal and "prenatal" not in mum.to_dict()
    with pytest.raises(InputError, match="prenatal 'fetal' is not yes/no/empty"):
        inputs.read_sample_sheet(sheet(tmp_path, ["fetus\t\t\tf.bam\t\t\t\t\tfetal"], header))


def test_two_cycle_is_caught(tmp_path):
    """A 2-cycle through father and mother cells is caught too (the probe's 3-cycle is in test_bad_sheets)."""
    rows = ["a\t\t\ta.bam\tF\tb\t\t", "b\t\t\tb.bam\tF\t\ta\tM"]
    with pytest.raises(InputError, match=r"cycle \(a's parent is b, b's parent is a\)"):
        inputs.read_sample_sheet(sheet(tmp_path, rows))


def test_one_parser_bom_hash_in_path_and_whitespace(tmp_path):
    """A UTF-8 BOM is ignored; a `#` inside a path is kept (only lines starting with # are comments); cells are
    stripped the same way for the schema and the samples (one parser: read_sheet_rows)."""
    path = tmp_path / "samples.tsv"
    path.write_bytes(("\ufeff" + HEADER + "# a comment line\r\n" + "a \t\t\t run#2/a.bam \t\t\t\t\r\n").encode("utf-8"))
    header, rows = inputs.read_sheet_rows(path)
    assert header[0] == "sample"
    assert rows == [
        (
            3,
            {
                "sample": "a",
                "fq1": "",
                "fq2": "",
                "bam": "run#2/a.bam",
                "family": "",
                "father": "",
                "mother": "",
                "sex": "",
            },
        )
    ]
    [sample] = inputs.read_sample_sheet(path)
    assert (sample.name, sample.bam) == ("a", "run#2/a.bam")


def test_workflow_has_one_sheet_parser():
    text = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    assert "read_csv" not in text and "read_sheet_rows" in text


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
        fastq_checks.validate_fastq_pair(sample)


def test_fastq_pair_ok_counts(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 10)
    write_fastq(tmp_path / "a_R2.fq.gz", 10)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    info = fastq_checks.validate_fastq_pair(sample)
    assert info["read_pairs"] == 10 and info["bases"] == 1000


def test_empty_fastq_is_rejected(tmp_path):
    (tmp_path / "a_R1.fq.gz").write_bytes(gzip.compress(b""))
    write_fastq(tmp_path / "a_R2.fq.gz", 3)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match=r"sample a: fq1 .* is empty \(no reads\)"):
        fastq_checks.check_fastq_quick(sample)


def test_truncated_fastq_is_rejected(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 2000)
    data = (tmp_path / "a_R1.fq.gz").read_bytes()
    (tmp_path / "a_R1.fq.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        fastq_checks.count_fastq(str(tmp_path / "a_R1.fq.gz"))


def test_count_fastq_counts_reads_and_bases_and_names_a_malformed_record(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 7)
    assert fastq_checks.count_fastq(str(tmp_path / "a_R1.fq.gz")) == (7, 350)
    with gzip.open(tmp_path / "bad.fq.gz", "wt") as out:
        out.write("@r0\nACGT\n+\nIIII\n@r1\nACGT\n+\nIII\n")
    with pytest.raises(InputError, match="bad.fq.gz: malformed FASTQ record 2"):
        fastq_checks.count_fastq(str(tmp_path / "bad.fq.gz"))


def test_fastq_mates_must_pair(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 3, prefix="x")
    write_fastq(tmp_path / "a_R2.fq.gz", 3, prefix="y")
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match="are not mates"):
        fastq_checks.check_fastq_quick(sample)


# --- reference, BAM, CRAM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_reference(tmp_path_factory) -> str:
    """A reference with the SYNTH build's contig lengths (random sequence): enough for header checks."""
    path = tmp_path_factory.mktemp("ref") / "ref.fa"
    rng = random.Random(7)
    with open(path, "w") as out:
        for name, length in SYNTH_CONTIGS:
            out.write(f">{name}\n")
            seq = "".join(rng.choices("ACGT", k=length))
            out.writelines(seq[i : i + 60] + "\n" for i in range(0, length, 60))
    pysam.faidx(str(path))
    return str(path)


def write_bam(
    path: Path,
    contigs: list[tuple[str, int]],
    reference: str | None = None,
    n_reads: int = 20,
    sms: tuple[str, ...] = ("s1",),
    order: str = "coordinate",
    step: int = 10,
) -> str:
    header = {
        "HD": {"VN": "1.6", "SO": order},
        "SQ": [{"SN": n, "LN": ln} for n, ln in contigs],
        "RG": [{"ID": f"rg{i}", "SM": sm} for i, sm in enumerate(sms)],
    }
    if not order:
        del header["HD"]["SO"]
    mode = "wc" if str(path).endswith(".cram") else "wb"
    with pysam.AlignmentFile(str(path), mode, header=header, reference_filename=reference) as out:
        fasta = pysam.FastaFile(reference) if reference else None
        for i in range(n_reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{i}"
            read.reference_id = 0
            read.reference_start = 500_000 + i * step
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
    bam = write_bam(tmp_path / "t.bam", SYNTH_CONTIGS)
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
    bam = write_bam(tmp_path / "nochr.bam", [("2" if c == "chr2" else c, n) for c, n in SYNTH_CONTIGS])
    sample = inputs.Sample("s1", "bam", bam=bam)
    info = inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))
    assert info["index"] is None and info["renamed_from"] == "2"


def test_cram_with_other_naming_is_rejected(tmp_path, synth_reference):
    nochr = tmp_path / "nochr.fa"
    nochr.write_text(Path(synth_reference).read_text().replace(">chr2\n", ">2\n"))
    pysam.faidx(str(nochr))
    cram = write_bam(
        tmp_path / "x.cram", [("2" if c == "chr2" else c, n) for c, n in SYNTH_CONTIGS], reference=str(nochr)
    )
    sample = inputs.Sample("s1", "cram", bam=cram)
    with pytest.raises(InputError, match="names the locus contig '2' but the reference names it 'chr2'"):
        inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


def test_cram_without_its_reference(tmp_path, synth_reference):
    cram = write_bam(tmp_path / "c.cram", SYNTH_CONTIGS, reference=synth_reference)
    other = tmp_path / "other.fa"
    rng = random.Random(3)
    other.write_text("".join(f">{c}\n{''.join(rng.choices('ACGT', k=n))}\n" for c, n in SYNTH_CONTIGS))
    pysam.faidx(str(other))
    sample = inputs.Sample("s1", "cram", bam=cram)
    # With its own reference the CRAM decodes.
    inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))
    with pytest.raises(
        InputError, match=r"sample s1: CRAM .* (cannot be decoded with|was written against another) ref"
    ):
        inputs.check_alignment_header(sample, str(other), "SYNTH", RESOURCES, _naming(str(other)))


# --- sample identity, sort order, index (issue 13, items 3 and 7) ---------------------------------------


def _check(bam: str, synth_reference: str, name: str = "s1", bam_sm: str = "") -> dict:
    sample = inputs.Sample(name, "bam", bam=bam, bam_sm=bam_sm)
    return inputs.check_alignment_header(sample, synth_reference, "SYNTH", RESOURCES, _naming(synth_reference))


CONTIGS = SYNTH_CONTIGS


def test_bam_of_another_patient_is_rejected_naming_both(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "x.bam", CONTIGS, sms=("PATIENT-7",))
    with pytest.raises(InputError) as err:
        _check(bam, synth_reference)
    assert "read groups name sample (@RG SM) 'PATIENT-7' but the sheet says 's1'" in str(err.value)
    assert "set the `bam_sm` cell of s1" in str(err.value)


def test_sheet_override_accepts_the_named_sm(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "x.bam", CONTIGS, sms=("LAB-123",))
    assert _check(bam, synth_reference, bam_sm="LAB-123")["read_groups"] == ["LAB-123"]
    with pytest.raises(InputError, match="'LAB-123' but the sheet says 'LAB-999'"):
        _check(bam, synth_reference, bam_sm="LAB-999")


def test_merged_bam_with_two_samples_is_rejected_unless_star(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "m.bam", CONTIGS, sms=("s1", "s2"))
    with pytest.raises(InputError, match=r"read groups of 2 different samples \(@RG SM: s1, s2\)"):
        _check(bam, synth_reference)
    assert _check(bam, synth_reference, bam_sm="*")["read_groups"] == ["s1", "s2"]


def test_bam_without_sm_is_accepted(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "n.bam", CONTIGS, sms=())
    assert _check(bam, synth_reference)["read_groups"] == []


@pytest.mark.parametrize("order", ["queryname", "unsorted"])
def test_name_sorted_bam_fails_at_parse_time(tmp_path, synth_reference, order):
    bam = write_bam(tmp_path / "q.bam", CONTIGS, order=order)
    with pytest.raises(
        InputError,
        match=rf"is not sorted by coordinate \(its header says @HD SO:{order}\).*"
        "samtools sort",
    ):
        _check(bam, synth_reference)


def test_unsorted_records_without_so_tag_fail(tmp_path, synth_reference):
    bam = write_bam(tmp_path / "u.bam", CONTIGS, order="", step=-10)
    with pytest.raises(InputError, match="is not sorted by coordinate .*comes after a later position"):
        _check(bam, synth_reference)
    sorted_bam = write_bam(tmp_path / "s.bam", CONTIGS, order="")
    assert _check(sorted_bam, synth_reference)["sample"] == "s1"


def test_index_of_another_bam_is_a_clear_error(tmp_path, synth_reference):
    """The probe's "Closing failed: Success": a newer index of another (bigger) BAM beside the file."""
    import os
    import shutil

    bam = write_bam(tmp_path / "a.bam", CONTIGS)
    other = write_bam(tmp_path / "b.bam", CONTIGS, n_reads=20_000, step=5)
    pysam.index(other)
    shutil.copyfile(other + ".bai", bam + ".bai")
    os.utime(bam + ".bai", (os.path.getmtime(bam) + 10, os.path.getmtime(bam) + 10))
    with pytest.raises(InputError) as err:
        _check(bam, synth_reference)
    assert f"the index {bam}.bai does not belong to {bam}" in str(err.value)
    assert "Closing failed" not in str(err.value)
    pysam.index(bam)  # its own index is accepted
    assert _check(bam, synth_reference)["index"] == bam + ".bai"


def test_fastq_mates_out_of_order_fail_in_validation(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 5)
    with gzip.open(tmp_path / "a_R1.fq.gz", "rt") as handle:
        records = handle.read().splitlines(keepends=True)
    chunks = [records[i : i + 4] for i in range(0, len(records), 4)]
    chunks[2], chunks[3] = chunks[3], chunks[2]  # R2 with reads 3 and 4 swapped: first names still agree
    with gzip.open(tmp_path / "a_R2.fq.gz", "wt") as out:
        out.writelines(line for chunk in chunks for line in chunk)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    fastq_checks.check_fastq_quick(sample)  # the parse-time check sees only the first records
    with pytest.raises(
        InputError,
        match=r"read 3 of fq1 .* is 'r2' but read 3 of fq2 .* is 'r3'; mates must be "
        "in the same order",
    ):
        fastq_checks.validate_fastq_pair(sample)


def test_quick_fastq_check_reads_only_the_head_and_says_who_checks_the_rest(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 30)
    write_fastq(tmp_path / "a_R2.fq.gz", 20)  # 10 reads short, beyond the head
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    info = fastq_checks.check_fastq_head(sample, records=15)
    assert info["checked_records"] == 15 and "align rule's recruitment pass" in info["full_check"]
    with pytest.raises(InputError, match=r"sample a: fq1 .* has 30 reads but fq2 .* has 20"):
        fastq_checks.validate_fastq_pair(sample)  # `full` mode keeps the whole pass


def test_quick_fastq_check_catches_problems_within_the_head(tmp_path):
    write_fastq(tmp_path / "a_R1.fq.gz", 30)
    write_fastq(tmp_path / "a_R2.fq.gz", 12)
    sample = inputs.Sample("a", "fastq", str(tmp_path / "a_R1.fq.gz"), str(tmp_path / "a_R2.fq.gz"))
    with pytest.raises(InputError, match=r"sample a: fq1 .* has 15 reads but fq2 .* has 12; .* re-export both"):
        fastq_checks.check_fastq_head(sample, records=15)  # counts within the head: R1's head against R2's
    with gzip.open(tmp_path / "a_R1.fq.gz", "rt") as handle:
        lines = handle.read().splitlines(keepends=True)
    lines[4 * 5], lines[4 * 6] = lines[4 * 6], lines[4 * 5]  # names of reads 6 and 7 swapped in R2
    with gzip.open(tmp_path / "a_R2.fq.gz", "wt") as out:
        out.writelines(lines)
    with pytest.raises(InputError, match=r"sample a: read 6 of fq1 .* is 'r5' but read 6 of fq2 .* is 'r6'"):
        fastq_checks.check_fastq_head(sample, records=15)
    lines[4 * 5], lines[4 * 6] = lines[4 * 6], lines[4 * 5]
    lines[4 * 8 + 3] = "II\n"  # read 9: fewer qualities than bases
    with gzip.open(tmp_path / "a_R2.fq.gz", "wt") as out:
        out.writelines(lines)
    with pytest.raises(InputError, match=r"sample a: fq2 .*: malformed FASTQ record 9 "):
        fastq_checks.check_fastq_head(sample, records=15)


# --- population VCF (issue 13, item 7) ----------------------------------------------------------------------


def _vcf(
    tmp_path: Path,
    name: str,
    info: str = "AF",
    contig: str = "chr2",
    length: int = 1_000_000,
    compress: bool = True,
    index: bool = True,
) -> str:
    text = (
        f"##fileformat=VCFv4.2\n##contig=<ID={contig},length={length}>\n"
        f'##INFO=<ID={info},Number=A,Type=Float,Description="x">\n'
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{contig}\t100\t.\tA\tG\t.\tPASS\t{info}=0.1\n"
    )
    plain = tmp_path / f"{name}.vcf"
    plain.write_text(text)
    if not compress:
        gz = tmp_path / f"{name}.vcf.gz"
        gz.write_bytes(gzip.compress(text.encode()))
        return str(gz)
    out = pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True) or str(plain) + ".gz"
    if index:
        pysam.tabix_index(out, preset="vcf", force=True)
    return out


def test_population_vcf_checks(tmp_path):
    good = _vcf(tmp_path, "good")
    assert population_checks.check_population_vcf(good, "chr2", 1_000_000)["contig"] == "chr2"
    assert (
        population_checks.check_population_vcf(_vcf(tmp_path, "nochr", contig="2"), "chr2", 1_000_000)["contig"] == "2"
    )
    cases = [
        (str(tmp_path / "missing.vcf.gz"), "does not exist"),
        (_vcf(tmp_path, "plain", compress=False), "is not bgzip-compressed"),
        (_vcf(tmp_path, "noidx", index=False), "has no index"),
        (_vcf(tmp_path, "noaf", info="XX"), "has no INFO/AF"),
        (_vcf(tmp_path, "other", contig="chr7"), "has no contig chr2 or 2"),
        (_vcf(tmp_path, "b38", length=242_193_529), "is of another genome build"),
    ]
    for path, expected in cases:
        with pytest.raises(InputError) as err:
            population_checks.check_population_vcf(path, "chr2", 1_000_000)
        assert expected in str(err.value) and "population_vcf" in str(err.value), (path, str(err.value))


def test_validate_input_command_defers_full_fastq_checks_only_in_recruit_mode(tmp_path):
    import json

    from dira_genotyper.cli import main

    write_fastq(tmp_path / "a_R1.fq.gz", 10)
    write_fastq(tmp_path / "a_R2.fq.gz", 10)
    sample = {"sample": "a", "kind": "fastq", "fq1": str(tmp_path / "a_R1.fq.gz"), "fq2": str(tmp_path / "a_R2.fq.gz")}
    reference = str(tmp_path / "ref.fa")
    Path(reference).write_text(">chr2\n" + "ACGT" * 50 + "\n")
    pysam.faidx(reference)
    found = {}
    for mode in ("recruit", "full"):
        out = tmp_path / f"{mode}.json"
        argv = ["validate-input", "--sample-json", json.dumps(sample), "--reference", reference, "--build", "GRCh38"]
        assert main([*argv, "--alignment-mode", mode, "--out", str(out)]) == 0
        found[mode] = json.loads(out.read_text())
    assert found["recruit"]["checked_records"] == 10 and "recruitment pass" in found["recruit"]["full_check"]
    assert "read_pairs" not in found["recruit"]
    assert found["full"]["read_pairs"] == 10 and "full_check" not in found["full"]
