"""The sample-check sites in the recruitment index: reads over a site are recruited with either allele, at any
offset in the read, and aligned, so the sample checks count them in FASTQ recruit mode; reads elsewhere are not,
and the locus regions' k-mers keep their classes."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pysam
import pytest

from dira_genotyper.alignment import recruit

RNG = np.random.default_rng(21)
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
COMP = bytes.maketrans(b"ACGT", b"TGCA")


def random_seq(n: int) -> bytes:
    return BASES[RNG.integers(0, 4, n)].tobytes()


def revcomp(seq: bytes) -> bytes:
    return seq.translate(COMP)[::-1]


def other_base(base: int) -> str:
    return {65: "C", 67: "G", 71: "T", 84: "A"}[base]


WINDOW = random_seq(8_000)  # the locus
REPEAT = random_seq(300)
DUPLICATE = random_seq(400)
# another chromosome: unique sequence with sites, 12 copies of a repeat and 3 of a segmental duplication (a site
# inside the first copy of each)
OTHER = (
    random_seq(20_000)
    + b"".join(REPEAT + random_seq(500) for _ in range(12))
    + b"".join(DUPLICATE + random_seq(500) for _ in range(3))
)
SITE = 10_000  # 1-based positions on `other`
NEAR = (15_000, 15_002)  # two sites 2 bp apart
IN_REPEAT = 20_000 + 150  # inside the first repeat copy
IN_DUPLICATE = 20_000 + 12 * 800 + 200  # inside the first copy of the duplication
SITES = [SITE, *NEAR, IN_REPEAT, IN_DUPLICATE]
ALT = {pos: other_base(OTHER[pos - 1]) for pos in SITES}


def with_alleles(start0: int, end0: int, alts: list[int]) -> bytes:
    """OTHER[start0:end0] carrying the alternate allele at the given 1-based sites."""
    seq = bytearray(OTHER[start0:end0])
    for pos in alts:
        seq[pos - 1 - start0] = ord(ALT[pos])
    return bytes(seq)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sites")
    ref = folder / "ref.fa"
    ref.write_text(f">chr2\n{WINDOW.decode()}\n>chr7\n{OTHER.decode()}\n")
    pysam.faidx(str(ref))
    sites = folder / "sample_sites.tsv.gz"
    rows = "".join(f"7\t{p}\t{chr(OTHER[p - 1])}\t{ALT[p]}\tsynth{p}\tA\t0\n" for p in SITES)  # "7": chr-less
    sites.write_bytes(gzip.compress(f"#chrom\tpos\tref\talt\trsid\tkind\texonic\n{rows}".encode()))
    return str(ref), str(sites)


@pytest.fixture(scope="module")
def index(files):
    ref, sites = files
    found, info = recruit.build_recruit_index(ref, [("chr2", 0, len(WINDOW))], max_count=8, pad=0, sites=sites)
    return recruit.KmerSet(found), found, info


def test_reads_over_a_site_are_recruited_with_either_allele_at_any_offset(index):
    kmers = index[0]
    for alts in ([], [SITE]):
        for offset in range(150):  # the site's place in the read
            start = SITE - 1 - offset
            read = with_alleles(start, start + 150, alts)
            assert kmers.read_hits([read, revcomp(read)], stride=4) == [True, True], (alts, offset)


def test_reads_far_from_the_sites_and_the_locus_are_not_recruited(index):
    kmers = index[0]
    far = OTHER[5_000:5_150]
    just_before = OTHER[SITE - 151 : SITE - 1]  # ends at the base before the site: no k-mer of it is indexed
    assert kmers.read_hits([far, just_before, revcomp(far)], stride=1) == [False, False, False]


def test_nearby_sites_are_indexed_with_every_allele_combination(index):
    """Two sites 2 bp apart, a read carrying both alternate alleles: only the k-mers of that combination cover
    its sites at every sampling phase (the single-allele k-mers that avoid the other site are 4 in all)."""
    kmers = index[0]
    for start in range(NEAR[0] - 80, NEAR[0] - 76):  # the 4 phases of the stride
        read = with_alleles(start, start + 150, list(NEAR))
        assert kmers.read_hits([read], stride=4) == [True], start


def test_a_site_inside_a_repeat_is_not_unique_for_either_allele(index):
    """The alternate allele's k-mers are absent from the reference, but classed as the reference allele's (here
    frequent: 12 copies), so neither allele's reads of a repeat copy are recruited alone by them."""
    kmers = index[0]
    start = IN_REPEAT - 75
    reads = [with_alleles(start, start + 150, []), with_alleles(start, start + 150, [IN_REPEAT])]
    assert kmers.read_hits(reads, stride=1) == [False, False]


def test_a_site_in_a_segmental_duplication_recruits_its_reads(index):
    """Its k-mers occur 3 times (shared): as only the k-mers over the site are indexed, every other k-mer of its
    reads misses, so they recruit alone as unique ones do (the other copies' reads come along; BWA places them)."""
    kmers = index[0]
    start = IN_DUPLICATE - 75
    reads = [with_alleles(start, start + 150, []), with_alleles(start, start + 150, [IN_DUPLICATE])]
    assert kmers.read_hits(reads, stride=4) == [True, True]


def test_locus_kmers_keep_their_classes_and_the_index_records_its_sites(files, index):
    ref, sites = files
    _, with_sites, info = index
    without, plain = recruit.build_recruit_index(ref, [("chr2", 0, len(WINDOW))], max_count=8, pad=0)
    assert np.isin(without, with_sites).all()  # the same k-mers with the same class tags
    assert info.site_count == 5 and info.site_kmers == len(with_sites) - len(without) > 0
    assert info.sites.endswith("sample_sites.tsv.gz") and len(info.sites_sha256) == 64
    assert (plain.sites, plain.site_count, plain.site_kmers) == ("", 0, 0)


def test_index_with_sites_is_written_and_read_back(tmp_path, files):
    ref, sites = files
    out = tmp_path / "kmers.npy"
    info = recruit.write_recruit_index(ref, [("chr2", 0, 2_000)], 8, str(out), sites=sites)
    described = json.loads((tmp_path / "kmers.npy.json").read_text())
    assert described["version"] == recruit.INDEX_VERSION and described["site_count"] == info.site_count == 5
    read = with_alleles(SITE - 70, SITE + 80, [SITE])
    assert recruit.load_recruit_index(str(out)).read_hits([read, OTHER[5_000:5_150]]) == [True, False]


def test_recruit_mode_aligns_the_site_reads_and_the_sample_checks_count_them(tmp_path, files):
    """End to end: a FASTQ pair in recruit mode, half of the site reads carrying the alternate allele; the BAM
    holds them at the site, and the site counts of the sample checks see both alleles."""
    from dira_genotyper.alignment.locus_bam import align_fastq, build_bwa_index
    from dira_genotyper.samplecheck.sites import count_sites

    ref, sites = files
    build_bwa_index(ref, str(tmp_path / "bwa" / "ref"))
    index = tmp_path / "kmers.npy"
    recruit.write_recruit_index(ref, [("chr2", 0, len(WINDOW))], 8, str(index), sites=sites)
    pairs = []
    for i in range(20):  # over the site: R1 covers it, its mate 250 bp on
        start = SITE - 140 + 6 * i
        r1 = with_alleles(start, start + 150, [SITE] if i % 2 else [])
        pairs.append((f"s{i}", r1, revcomp(OTHER[start + 250 : start + 400])))
    pairs += [(f"o{i}", OTHER[2_000 + 90 * i :][:150], revcomp(OTHER[2_300 + 90 * i :][:150])) for i in range(20)]
    fq = [tmp_path / f"R{m}.fastq.gz" for m in (1, 2)]
    for m, path in enumerate(fq):
        path.write_bytes(gzip.compress(b"".join(b"@%s/%d\n%s\n+\n%s\n" % (n.encode(), m + 1, p[m], b"F" * 150)
                                                for n, *p in pairs)))  # fmt: skip
    out = tmp_path / "S.bam"
    summary = align_fastq(str(fq[0]), str(fq[1]), str(tmp_path / "bwa" / "ref"), "S", str(out), 1, False, str(index))
    assert summary == {"mode": "recruit", "pairs": 40, "recruited": 20}
    counts = count_sites(str(out), ref, sites)
    at = {int(p): (int(r), int(a)) for p, r, a in zip(counts.pos, counts.ref_n, counts.alt_n)}
    assert at[SITE] == (10, 10)
