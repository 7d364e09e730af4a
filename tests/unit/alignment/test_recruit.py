"""The FASTQ recruiter: which pairs it keeps (junction, SNV, reverse strand, mates) and which not (repeats)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pysam
import pytest

from dira_genotyper.alignment import recruit
from dira_genotyper.alignment.recruit_kernels import _VALUE as VALUE
from dira_genotyper.errors import InputError

RNG = np.random.default_rng(12)
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
COMP = bytes.maketrans(b"ACGT", b"TGCA")


def random_seq(n: int) -> bytes:
    return BASES[RNG.integers(0, 4, n)].tobytes()


def revcomp(seq: bytes) -> bytes:
    return seq.translate(COMP)[::-1]


def mutate(seq: bytes, positions: list[int]) -> bytes:
    out = bytearray(seq)
    for p in positions:
        out[p] = {65: 67, 67: 71, 71: 84, 84: 65}[out[p]]
    return bytes(out)


ALU = random_seq(300)
WINDOW = random_seq(6_000) + ALU + random_seq(6_000)  # the locus window, with one copy of a repeat
ELSEWHERE = b"".join(random_seq(2_000) + ALU for _ in range(12)) + b"CA" * 500 + random_seq(3_000)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ref") / "ref.fa"
    path.write_text(f">chr2\n{WINDOW.decode()}\n>other\n{ELSEWHERE.decode()}\n")
    pysam.faidx(str(path))
    return str(path)


@pytest.fixture(scope="module")
def kmers(reference) -> recruit.KmerSet:
    found, info = recruit.build_recruit_index(reference, [("chr2", 0, len(WINDOW))], max_count=8, pad=0)
    assert len(found) == info.region_kmers > info.unique_kmers + info.shared_kmers  # the repeat's are frequent
    return recruit.KmerSet(found)


def test_repeat_kmers_are_left_out_and_unique_ones_kept(kmers):
    assert kmers.read_hits([ALU[100:250], WINDOW[100:250]]) == [False, True]


def test_reads_that_must_be_recruited(kmers):
    deleted = WINDOW[1_000:1_045] + WINDOW[9_000:9_105]  # junction of a deletion: 45 bp left, 105 bp right
    snvs = mutate(WINDOW[2_000:2_150], [20, 60, 100, 140])  # an SNV every 40 bp
    flank = random_seq(110) + WINDOW[:40]  # spans into the flank: 40 bp of the window
    insertion = WINDOW[3_000:3_060] + random_seq(40) + WINDOW[3_060:3_110]
    reverse = revcomp(WINDOW[11_000:11_150])
    assert kmers.read_hits([deleted, snvs, flank, insertion, reverse], stride=4) == [True] * 5


def test_reads_that_must_not_be_recruited(kmers):
    repeat_copy = ELSEWHERE[2_000:2_150]  # within an ALU copy elsewhere
    low_complexity = b"CA" * 75
    unique_elsewhere = ELSEWHERE[:150]
    assert kmers.read_hits([repeat_copy, low_complexity, unique_elsewhere, b"N" * 150], stride=1) == [False] * 4


def fastq(records: list[tuple[str, bytes]]) -> bytes:
    return b"".join(f"@{name}\n".encode() + seq + b"\n+\n" + b"F" * len(seq) + b"\n" for name, seq in records)


def write_pair(tmp_path, pairs: list[tuple[str, bytes, bytes]], gz: bool = True) -> tuple[str, str]:
    paths = []
    for mate in (1, 2):
        data = fastq([(f"{name}/{mate}", r1 if mate == 1 else r2) for name, r1, r2 in pairs])
        path = tmp_path / f"reads_R{mate}.fastq{'.gz' if gz else ''}"
        path.write_bytes(gzip.compress(data) if gz else data)
        paths.append(str(path))
    return paths[0], paths[1]


def test_pass_keeps_either_mate_and_writes_pairs_interleaved(tmp_path, kmers):
    pairs = []
    for i in range(300):  # many records: the small chunk below splits records across reads
        other = ELSEWHERE[7 * i : 7 * i + 150]
        if i % 3 == 0:  # R1 in the window, R2 elsewhere: the mate comes along
            pairs.append((f"p{i}", WINDOW[20 * i : 20 * i + 150], other))
        elif i % 3 == 1:  # R2 only, reverse strand
            pairs.append((f"p{i}", other, revcomp(WINDOW[20 * i : 20 * i + 150])))
        else:
            pairs.append((f"p{i}", other, ELSEWHERE[7 * i + 300 : 7 * i + 450]))
    for gz in (True, False):
        fq1, fq2 = write_pair(tmp_path, pairs, gz)
        out = io.BytesIO()
        stats = recruit.recruit_pairs(fq1, fq2, kmers, out, chunk=1_000)
        lines = out.getvalue().decode().splitlines()
        names = [line[1:] for line in lines[::4]]
        expected = [name for i, (name, _, _) in enumerate(pairs) if i % 3 != 2]
        assert stats.pairs == 300 and stats.recruited == 200
        assert names == [f"{n}/{m}" for n in expected for m in (1, 2)]
        assert lines[1] == pairs[0][1].decode() and lines[5] == pairs[0][2].decode()  # both mates as given


def test_pass_rejects_files_that_are_not_one_pair(tmp_path, kmers):
    fq1, fq2 = write_pair(tmp_path, [("a", WINDOW[:150], WINDOW[200:350]), ("b", WINDOW[:150], WINDOW[:150])])
    short = tmp_path / "short.fastq"
    short.write_bytes(fastq([("a/2", WINDOW[:150])]))
    with pytest.raises(InputError, match=r"fq1 .* has 2 reads but fq2 .*short.fastq has 1; .* re-export both"):
        recruit.recruit_pairs(fq1, str(short), kmers, io.BytesIO())
    swapped = tmp_path / "swapped.fastq"
    swapped.write_bytes(fastq([("b/2", WINDOW[:150]), ("a/2", WINDOW[:150])]))
    with pytest.raises(InputError, match="mates must be in the same order"):
        recruit.recruit_pairs(fq1, str(swapped), kmers, io.BytesIO())
    truncated = tmp_path / "truncated.fastq"
    truncated.write_bytes(fastq([("a/2", WINDOW[:150]), ("b/2", WINDOW[:150])])[:-40])
    with pytest.raises(InputError, match="truncated"):
        recruit.recruit_pairs(fq1, str(truncated), kmers, io.BytesIO())
    not_fastq = tmp_path / "not.fastq"
    not_fastq.write_bytes(b">a\nACGT\n")
    with pytest.raises(InputError, match="not FASTQ"):
        recruit.recruit_pairs(fq1, str(not_fastq), kmers, io.BytesIO())


def test_index_round_trip_and_description(tmp_path, reference):
    out = tmp_path / "idx" / "kmers.npy"
    info = recruit.write_recruit_index(reference, [("chr2", 0, 6_000)], 8, str(out))
    loaded = recruit.load_recruit_index(str(out))
    assert len(loaded) == info.region_kmers > 0
    assert loaded.read_hits([WINDOW[500:650], WINDOW[8_000:8_150]]) == [True, False]


def test_align_recruited_pairs_leaves_no_temporary_files(tmp_path, reference):
    """Recruit mode end to end on a tiny reference: the BAM holds the recruited pairs only; temporary folders
    (a stale one from a killed run too) are gone after success and after an error."""
    from dira_genotyper.alignment.locus_bam import align_fastq, build_bwa_index

    build_bwa_index(reference, str(tmp_path / "bwa" / "ref"))
    index = tmp_path / "kmers.npy"
    recruit.write_recruit_index(reference, [("chr2", 0, len(WINDOW))], 8, str(index))
    pairs = [(f"w{i}", WINDOW[40 * i : 40 * i + 150], revcomp(WINDOW[40 * i + 250 : 40 * i + 400])) for i in range(50)]
    pairs += [
        (f"o{i}", ELSEWHERE[i * 80 : i * 80 + 150], revcomp(ELSEWHERE[i * 80 + 300 : i * 80 + 450])) for i in range(50)
    ]
    fq1, fq2 = write_pair(tmp_path, pairs)
    out = tmp_path / "mapping" / "S.bam"
    (tmp_path / "mapping" / ".S.align.stale").mkdir(parents=True)
    summary = align_fastq(fq1, fq2, str(tmp_path / "bwa" / "ref"), "S", str(out), 1, True, str(index))
    assert summary == {"mode": "recruit", "pairs": 100, "recruited": 50}
    with pysam.AlignmentFile(str(out)) as bam:
        names = {read.query_name for read in bam}
    assert names == {f"w{i}" for i in range(50)}
    assert sorted(p.name for p in out.parent.iterdir()) == ["S.bam", "S.bam.bai"]
    short = tmp_path / "short.fastq"
    short.write_bytes(fastq([("w0/2", WINDOW[:150])]))
    with pytest.raises(InputError):
        align_fastq(fq1, str(short), str(tmp_path / "bwa" / "ref"), "T", str(tmp_path / "mapping" / "T.bam"), 1,
                    True, str(index))  # fmt: skip
    assert sorted(p.name for p in out.parent.iterdir()) == ["S.bam", "S.bam.bai"]


def many_pairs(n: int) -> list[tuple[str, bytes, bytes]]:
    return [(f"p{i}", ELSEWHERE[7 * i : 7 * i + 100], ELSEWHERE[7 * i + 300 : 7 * i + 400]) for i in range(n)]


def test_pass_checks_every_pair_not_only_the_ends_of_a_chunk(tmp_path, kmers):
    fq1, _ = write_pair(tmp_path, many_pairs(200))
    pairs = many_pairs(200)
    pairs[150], pairs[151] = pairs[151], pairs[150]  # R2 out of order in the middle of the second chunk
    swapped = tmp_path / "swapped_R2.fastq"
    swapped.write_bytes(fastq([(f"{name}/2", r2) for name, _, r2 in pairs]))
    with pytest.raises(
        InputError,
        match=r"sample S: read 151 of fq1 .* is 'p150/1' but read 151 of fq2 .*swapped_R2.fastq is 'p151/2'; "
        "mates must be in the same order",
    ):
        recruit.recruit_pairs(fq1, str(swapped), kmers, io.BytesIO(), chunk=16_000, sample="S")


def test_pass_names_the_record_that_is_malformed(tmp_path, kmers):
    fq1, fq2 = write_pair(tmp_path, many_pairs(200))
    good = gzip.decompress(open(fq2, "rb").read()).decode().splitlines(keepends=True)
    for line, damage in ((4 * 120 + 2, "-\n"), (4 * 120 + 3, "FFF\n")):  # no '+' line; qualities too short
        lines = list(good)
        lines[line] = damage
        bad = tmp_path / "bad_R2.fastq.gz"
        bad.write_bytes(gzip.compress("".join(lines).encode()))
        with pytest.raises(InputError, match=r"sample S: fq2 .*bad_R2.fastq.gz: malformed FASTQ record 121 "):
            recruit.recruit_pairs(fq1, str(bad), kmers, io.BytesIO(), chunk=4_000, sample="S")


def test_pass_counts_both_files_when_one_is_short(tmp_path, kmers):
    fq1, _ = write_pair(tmp_path, many_pairs(300))
    short = tmp_path / "short_R2.fastq"
    short.write_bytes(fastq([(f"{name}/2", r2) for name, _, r2 in many_pairs(300)[:211]]))
    with pytest.raises(InputError, match=r"sample S: fq1 .* has 300 reads but fq2 .*short_R2.fastq has 211"):
        recruit.recruit_pairs(fq1, str(short), kmers, io.BytesIO(), chunk=4_000, sample="S")
    with pytest.raises(InputError, match=r"fq1 .*short_R2.fastq has 211 reads but fq2 .* has 300"):
        recruit.recruit_pairs(str(short), fq1, kmers, io.BytesIO(), chunk=4_000)


def test_pass_rejects_a_cut_gzip_stream_and_empty_files(tmp_path, kmers):
    fq1, fq2 = write_pair(tmp_path, many_pairs(2_000))
    data = open(fq2, "rb").read()
    cut = tmp_path / "cut_R2.fastq.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"sample S: fq2 .*cut_R2.fastq.gz is truncated or not gzip .* copy it again"):
        recruit.recruit_pairs(fq1, str(cut), kmers, io.BytesIO(), sample="S")
    empty1, empty2 = tmp_path / "e_R1.fastq.gz", tmp_path / "e_R2.fastq.gz"
    empty1.write_bytes(gzip.compress(b""))
    empty2.write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="have no reads"):
        recruit.recruit_pairs(str(empty1), str(empty2), kmers, io.BytesIO())


# A young repeat family: the window holds one copy of a 1,200 bp element (L1-like); 30 copies elsewhere each
# differ from it at one base in 60, staggered, so every 31-mer of the window's copy occurs in well over 8 copies
# (frequent) and no read of it has a unique k-mer. A satellite: the window holds 200 bp of (GGAAT)n, the rest
# of the genome 6 kb of it.
L1 = random_seq(1_200)
L1_COPIES = [mutate(L1, list(range(2 * c % 60, 1_200, 60))) for c in range(30)]
SAT = b"GGAAT" * 40
YOUNG_WINDOW = random_seq(5_000) + L1 + random_seq(3_000) + SAT + random_seq(3_000)
YOUNG_ELSEWHERE = b"".join(random_seq(500) + copy for copy in L1_COPIES) + b"GGAAT" * 1_200 + random_seq(500)


@pytest.fixture(scope="module")
def young(tmp_path_factory) -> recruit.KmerSet:
    path = tmp_path_factory.mktemp("young") / "ref.fa"
    path.write_text(f">chr2\n{YOUNG_WINDOW.decode()}\n>other\n{YOUNG_ELSEWHERE.decode()}\n")
    pysam.faidx(str(path))
    found, _ = recruit.build_recruit_index(str(path), [("chr2", 0, len(YOUNG_WINDOW))], max_count=8, pad=0)
    return recruit.KmerSet(found)


def test_fragment_inside_a_young_repeat_of_the_window_is_recruited_by_its_pair(young):
    """Neither mate alone (all k-mers frequent), but both match the window's copy: full mode places such a pair
    (no other copy matches both mates as well), so it is kept; a pair from a copy elsewhere (about 5 mismatches
    between its mates) and a pair of satellite reads are not."""
    window_pair = (L1[100:250], revcomp(L1[500:650]))
    with_errors = (mutate(L1[100:250], [75]), revcomp(mutate(L1[500:650], [40])))  # two sequencing errors
    copy = L1_COPIES[7]
    elsewhere_pair = (copy[100:250], revcomp(copy[500:650]))
    satellite = (SAT[:150], revcomp(SAT[50:200]))
    assert young.read_hits(list(window_pair), stride=4) == [False, False]
    assert young.pair_hits([window_pair, with_errors, elsewhere_pair, satellite]) == [True, True, False, False]


def test_pair_no_unique_kmer_recruits_is_dropped_when_it_differs_from_the_window_at_five_bases(young):
    """Differences at a read's ends break one sampled k-mer each, so the sampled pair rule (20 misses) keeps a
    pair with five of them; counted on every k-mer it differs from the window's copy at five bases: dropped. Four:
    kept. A pair a unique k-mer recruits is not checked."""
    a, b = L1[100:250], L1[500:650]
    four = (mutate(a, [0, 149]), revcomp(mutate(b, [0, 149])))
    five = (mutate(a, [0, 75, 149]), revcomp(mutate(b, [0, 149])))
    reads, starts, ends, _ = young._parse([*four, *five])
    assert young.mismatches(reads, starts, ends, np.arange(4)).tolist() == [2, 2, 3, 2]
    close = mutate(a, [70, 75])  # two differences 5 bases apart: one run of 36 missing k-mers, at least 2 bases
    assert young.mismatches(*young._parse([close])[:3], np.arange(1)).tolist() == [2]
    assert young.pair_hits([four, five]) == [True, False]
    unique = (YOUNG_WINDOW[1_000:1_150], revcomp(mutate(b, [0, 20, 75, 120, 149])))
    assert young.pair_hits([unique]) == [True]


def test_low_complexity_kmers_are_told_apart():
    def pack(seq: bytes) -> int:
        return int("".join("ACGT".index(chr(b)).__str__() for b in seq), 4)

    kmers = np.array([pack(s) for s in (b"CA" * 15 + b"C", b"GGAAT" * 6 + b"G", b"A" * 31, random_seq(31))], np.uint64)
    assert recruit.low_complexity(kmers).tolist() == [True, True, True, False]


def test_index_rule_is_rerun_when_the_index_format_changes(tmp_path, reference):
    """The rule's params carry the index version (Snakemake reruns it when params change), and an index of
    another version is refused with the fix rather than misread."""
    from tests.conftest import ROOT

    rule = (ROOT / "workflow" / "rules" / "alignment.smk").read_text()
    assert f"index_version={recruit.INDEX_VERSION}," in rule
    recruit_rule = rule.split("rule recruit_index:")[1].split("\nrule ")[0]
    assert "sites=SAMPLE_SITES or []," in recruit_rule and "{params.sites:q}" in recruit_rule  # a new table: rerun
    out = tmp_path / "kmers.npy"
    recruit.write_recruit_index(reference, [("chr2", 0, 6_000)], 8, str(out))
    info = out.with_name("kmers.npy.json")
    info.write_text(info.read_text().replace(f'"version": {recruit.INDEX_VERSION}', '"version": 2'))
    with pytest.raises(InputError, match=rf"index version 2, this one reads {recruit.INDEX_VERSION}\): remove .* run"):
        recruit.load_recruit_index(str(out))


def test_full_mode_streams_bwa_into_sort(tmp_path, reference):
    """Full mode: BWA-MEM | fixmate | sort in one stream (no SAM on disk): every pair aligned, coordinate-sorted,
    mates fixed (MC tags from fixmate -m); a failing BWA stops the pipe with an error and leaves no temporary
    folder."""
    import subprocess

    from dira_genotyper.alignment.locus_bam import align_fastq, build_bwa_index

    build_bwa_index(reference, str(tmp_path / "bwa" / "ref"))
    pairs = [(f"w{i}", WINDOW[40 * i : 40 * i + 150], revcomp(WINDOW[40 * i + 250 : 40 * i + 400])) for i in range(50)]
    fq1, fq2 = write_pair(tmp_path, pairs)
    out = tmp_path / "mapping" / "S.bam"
    assert align_fastq(fq1, fq2, str(tmp_path / "bwa" / "ref"), "S", str(out), 1, True) == {"mode": "full"}
    with pysam.AlignmentFile(str(out)) as bam:
        reads = [r for r in bam if not r.is_unmapped]
        assert bam.header.to_dict()["HD"]["SO"] == "coordinate"
    assert len({r.query_name for r in reads}) == 50 and all(r.has_tag("MC") for r in reads)
    starts = [r.reference_start for r in reads]
    assert starts == sorted(starts)
    with pytest.raises(subprocess.CalledProcessError):
        align_fastq(fq1, fq2, str(tmp_path / "bwa" / "missing"), "T", str(tmp_path / "mapping" / "T.bam"), 1, True)
    assert sorted(p.name for p in out.parent.iterdir()) == ["S.bam", "S.bam.bai"]


def test_set_keeps_each_kmer_class_and_misses_nothing_it_holds(kmers):
    """The pass's table carries each k-mer's class in its entry, and its bloom filter has no false negatives."""
    classes = kmers.classes(kmers.kmers)
    assert np.array_equal(classes, (kmers.kmers >> np.uint64(62)).astype(np.int8))
    assert {0, 2} <= set(np.unique(classes).tolist())  # unique (the window) and frequent (the ALU: 13 copies)
    held = kmers.kmers & VALUE
    absent = recruit._canonical_kmers(np.frombuffer(random_seq(5_000), np.uint8), recruit._CODE, recruit.K)
    assert (kmers.classes(absent[~np.isin(absent, held)]) == -1).all()
    for start in range(0, len(WINDOW) - 31, 97):  # a read of any 31 bases of the window: found, as its class says
        read = WINDOW[start : start + 31]
        (klass,) = kmers.classes(recruit._canonical_kmers(np.frombuffer(read, np.uint8), recruit._CODE, recruit.K))
        assert klass >= 0
        assert kmers.read_hits([read]) == [klass in (0, 1)]  # unique, or shared with no miss


def test_sorted_unique_is_numpys_unique():
    for values in ([], [5], [3, 3, 1, 2, 3], RNG.integers(0, 50, 1_000), RNG.integers(0, 1 << 62, 1_000)):
        values = np.asarray(values, dtype=np.uint64)
        assert np.array_equal(recruit.sorted_unique(values), np.unique(values))


def test_large_tables_are_filled_whatever_pages_back_them():
    table = recruit._huge_pages(1 << 21, np.uint64(7))  # 16 MiB: asks for huge pages
    assert table.dtype == np.uint64 and len(table) == 1 << 21 and (table == 7).all()
    table[123] = 9  # writable
    assert recruit._huge_pages(10, np.uint64(1)).tolist() == [1] * 10


def test_long_read_is_classified_past_the_first_batch_of_sampled_kmers(kmers):
    """The pass gathers at most 1,024 sampled k-mers of a read at a time: a window k-mer late in a long read
    (a read of another platform, or merged pairs) still recruits it, and an absent read stays absent."""
    late = random_seq(5_500) + WINDOW[100:160]  # over 1,300 sampled k-mers before the window's bases (stride 4)
    assert kmers.read_hits([late, random_seq(6_000)], stride=4) == [True, False]
    assert kmers.read_hits([late], stride=1) == [True]
