"""Unit tests for the read simulator (dira_devtools.simulate)."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest

from dira_devtools import simulate as S
from dira_genotyper.annotation.transcript import Transcript as ProductionTranscript
from dira_genotyper.cnv.breakpoints import left_align
from dira_genotyper.locus import read_bed

ROOT = Path(__file__).resolve().parents[3]
RES = ROOT / "resources" / "SYNTH"
FACTS = ROOT.parent / "shared" / "locus" / "FACTS.md"

# NP_776214.1 as given in shared/locus/FACTS.md (177 aa)
PROTEIN = (
    "MEICRGLRSHLITLLLFLFHSETICRPSGRKSSKMQAFRIWDVNQKTFYLRNNQLVAGYLQGPNVNLEEKIDVVPIEPHALFLGIHGGKMCLSCVKSGDETRLQ"
    "LEAVNITDLSENRKQDKRFAFIRSDSGPTTSFESAACPGWFLCTAMEADQPVSLTNMPDEGVMVTKFYFQEDE"
)
# FACTS.md, GRCh38 chr2 positions of the founder alleles (arithmetic on the MANE exon model)
GRCH38_C160 = 113_129_619
GRCH38_C229 = 113_131_068

needs_bwa = pytest.mark.skipif(shutil.which("bwa") is None, reason="bwa not on PATH")


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    return S.make_reference(RES, tmp_path_factory.mktemp("ref") / "synth.fa", seed=7)


def _read_fastq(path: Path) -> list[tuple[str, str, str]]:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().splitlines()
    assert len(lines) % 4 == 0
    return [(lines[i], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def _read_origins(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt") as handle:
        header, *rows = handle.read().splitlines()
    keys = header.split("\t")
    return [dict(zip(keys, row.split("\t"), strict=True)) for row in rows]


def _gff_cds_rows() -> list[tuple[int, int]]:
    rows = []
    for line in (RES / "il1rn.gff3").read_text().splitlines():
        f = line.split("\t")
        if len(f) > 8 and f[2] == "CDS":
            assert f[6] == "+"
            rows.append((int(f[3]), int(f[4])))
    return sorted(rows)


# ----------------------------------------------------------------------------------------------------------
# Reference
# ----------------------------------------------------------------------------------------------------------


def test_reference_contigs_match_build(reference):
    build = json.loads((RES / "build.json").read_text())
    with pysam.FastaFile(str(reference)) as fa:
        lengths = dict(zip(fa.references, fa.lengths, strict=True))
    assert lengths[build["locus_contig"]] == build["locus_contig_length"]
    for name, length in build["extra_contigs"].items():
        assert lengths[name] == length
    lines = reference.read_text().splitlines()
    assert max(len(line) for line in lines if not line.startswith(">")) == 60


def test_reference_cds_translates_to_facts_protein(reference):
    cds = S.spliced_cds(reference, RES)
    assert cds == S.read_synthetic_cds(RES)
    assert len(cds) == 534
    assert S.translate(cds) == PROTEIN + "*"
    assert cds[160 - 1] == "C" and cds[229 - 1] == "G"
    if FACTS.exists():  # cross-check against the shared facts when present
        text = FACTS.read_text().replace("\n  ", "")
        assert PROTEIN in text
    with pysam.FastaFile(str(reference)) as fa:
        assert fa.fetch("chr2", S.cds_to_genomic(RES, 160) - 1, S.cds_to_genomic(RES, 160)) == "C"
        assert fa.fetch("chr2", S.cds_to_genomic(RES, 229) - 1, S.cds_to_genomic(RES, 229)) == "G"


def test_reference_splice_motifs(reference):
    tx = S.read_transcript(RES)
    assert len(tx.exons) == 4 and tx.strand == "+"
    with pysam.FastaFile(str(reference)) as fa:
        for (_, e1), (s2, _) in zip(tx.exons, tx.exons[1:], strict=False):
            assert fa.fetch(tx.chrom, e1, e1 + 2) == "GT"
            assert fa.fetch(tx.chrom, s2 - 3, s2 - 1) == "AG"
        for gene in S.read_genes(RES).values():  # every gene of exons.tsv, on its own strand
            for (s1, e1), (s2, e2) in zip(gene.exons, gene.exons[1:], strict=False):
                if gene.strand == "+":
                    donor, acceptor = fa.fetch(gene.chrom, e1, e1 + 2), fa.fetch(gene.chrom, s2 - 3, s2 - 1)
                else:
                    donor = S.revcomp(fa.fetch(gene.chrom, s1 - 3, s1 - 1))
                    acceptor = S.revcomp(fa.fetch(gene.chrom, e2, e2 + 2))
                assert (donor, acceptor) == ("GT", "AG"), gene.name


def test_reference_gc_variation_and_homopolymers(reference):
    codes = S.load_reference(reference)["chr2"]
    gc = ((codes == 1) | (codes == 2)).astype(float)
    windows = gc[: gc.size // 2000 * 2000].reshape(-1, 2000).mean(axis=1)
    assert windows.min() < 0.39 and windows.max() > 0.54
    runs = np.diff(np.concatenate(([0], np.flatnonzero(np.diff(codes)) + 1, [codes.size])))
    assert runs.max() <= S.MAX_HOMOPOLYMER


def test_reference_is_deterministic(reference, tmp_path):
    again = S.make_reference(RES, tmp_path / "a.fa", seed=7)
    other = S.make_reference(RES, tmp_path / "b.fa", seed=8)
    assert again.read_bytes() == reference.read_bytes()
    assert other.read_bytes() != reference.read_bytes()


# ----------------------------------------------------------------------------------------------------------
# CDS positions and variants
# ----------------------------------------------------------------------------------------------------------


def _gff_arithmetic(c_pos: int) -> int:
    remaining = c_pos
    for s, e in _gff_cds_rows():
        if remaining <= e - s + 1:
            return s + remaining - 1
        remaining -= e - s + 1
    raise AssertionError


@pytest.mark.parametrize("c_pos,grch38", [(160, GRCH38_C160), (229, GRCH38_C229)])
def test_cds_to_genomic_founder_alleles(c_pos, grch38):
    offset = json.loads((RES / "build.json").read_text())["parameters"]["grch38_offset"]
    assert S.cds_to_genomic(RES, c_pos) == _gff_arithmetic(c_pos) == grch38 - offset


def test_cds_to_genomic_bounds_and_inverse():
    rows = _gff_cds_rows()
    assert S.cds_to_genomic(RES, 1) == rows[0][0]
    assert S.cds_to_genomic(RES, 534) == rows[-1][1]
    with pytest.raises(ValueError):
        S.cds_to_genomic(RES, 535)
    for c in (1, 116, 117, 205, 206, 318, 319, 534):
        assert S.genomic_to_hgvs_c(RES, S.cds_to_genomic(RES, c)) == str(c)
    tx = S.read_transcript(RES)
    assert S.genomic_to_hgvs_c(RES, tx.exons[0][1] + 1) == "116+1"
    assert S.genomic_to_hgvs_c(RES, tx.exons[1][0] - 1) == "117-1"
    assert S.genomic_to_hgvs_c(RES, tx.exons[0][0]) == f"-{rows[0][0] - tx.exons[0][0]}"
    assert S.genomic_to_hgvs_c(RES, rows[-1][1] + 1) == "*1"


def test_edit_from_hgvs_and_normalisation(reference):
    ref = S.load_reference(reference)
    q54x = S.edit_from_hgvs(RES, "c.160C>T")
    assert (q54x.start, q54x.ref, q54x.alt, q54x.kind) == (S.cds_to_genomic(RES, 160), "C", "T", "snv")
    del15 = S.edit_from_hgvs(RES, "c.213_227del")
    assert del15.ref_length == 15 and del15.kind == "indel"
    assert del15.start == S.cds_to_genomic(RES, 213)
    pos, r, a = S.normalize_vcf(ref["chr2"], del15)
    assert len(r) == 16 and a == r[0] and pos <= del15.start - 1  # left-aligned, anchored
    hap = S.apply_edits(ref, [del15])["chr2"]
    alt_cds = "".join(
        S._BASES[hap.seq[hap.ref_to_hap(s - 1) : hap.ref_to_hap(e)]].tobytes().decode()
        for s, e in S.read_transcript(RES).cds
    )
    assert S.translate(alt_cds) == PROTEIN.replace("DVVPI", "") + "*"  # p.(Asp72_Ile76del)
    with pytest.raises(ValueError):
        S.edit_from_hgvs(RES, "c.160_161delinsAA")


def test_transcript_is_production_model_in_transcript_order():
    """The simulator reads GFF3 through production's load_transcript; its view lists exons 5'->3'."""
    for gene in (None, *S.differential_genes(RES)):
        tx = S.read_transcript(RES, gene)
        assert isinstance(tx.model, ProductionTranscript)
        assert tx.exons == tx.model.exons_5to3 and sorted(tx.cds) == list(tx.model.cds)
        assert tx.gene == tx.model.gene_name and tx.cds_length == tx.model.cds_length
        assert S.cds_to_genomic(RES, 1, gene) == tx.model.cds_start
    tx = S.read_transcript(RES)
    assert S.genomic_to_hgvs_c(RES, tx.model.start - 1) is None  # outside the transcript: no name
    assert S.genomic_to_hgvs_c(RES, tx.model.end + 1) is None
    assert S.translate("ATGTAAGGG") == "M*G"  # reads through stops (production's translate, to_stop=False)


def test_normalize_vcf_oracle_agrees_with_production_left_align(reference):
    """normalize_vcf is kept as an independent oracle; on deletions across the reference (repeats included)
    it shifts exactly as production's breakpoints.left_align."""
    ref = S.load_reference(reference)
    rng = np.random.default_rng(9)
    shifted = 0
    with pysam.FastaFile(str(reference)) as fasta:
        for start in rng.integers(2_000, ref["chr2"].size - 2_000, size=300):
            for length in (1, 2, 3, 7):
                edit = S.deletion("chr2", int(start), int(start) + length - 1)
                pos, r, a = S.normalize_vcf(ref["chr2"], edit)
                s0, e0 = left_align(fasta, "chr2", edit.start - 1, edit.end)
                assert (pos, len(r) - 1, a) == (s0, e0 - s0, r[0])
                shifted += s0 < edit.start - 1
    assert shifted > 50  # the check saw shifts, not only fixed positions


def test_apply_edits_coordinate_map():
    ref = {"x": S.HapSeq.from_reference("ACGTACGTAC").seq}
    hap = S.apply_edits(ref, [S.snv("x", 2, "T", ref="C"), S.insertion("x", 4, "GG"), S.deletion("x", 7, 8)])["x"]
    assert S._BASES[hap.seq].tobytes() == b"ATGTGGACAC"
    assert hap.refpos.tolist() == [0, 1, 2, 3, -1, -1, 4, 5, 8, 9]
    assert hap.ref_to_hap(np.array([6, 8])).tolist() == [8, 8]  # deleted bases map to the next kept base
    with pytest.raises(ValueError, match="reference"):
        S.apply_edits(ref, [S.snv("x", 2, "T", ref="G")])
    with pytest.raises(ValueError, match="overlapping"):
        S.apply_edits(ref, [S.deletion("x", 2, 5), S.snv("x", 4, "A")])
    assert S.deletion("x", 1, 51).kind == "deletion" and S.deletion("x", 1, 50).kind == "indel"


# ----------------------------------------------------------------------------------------------------------
# Reads
# ----------------------------------------------------------------------------------------------------------


def test_simulate_sample_is_deterministic(reference, tmp_path):
    haps = [[S.edit_from_hgvs(RES, "c.160C>T")], []]
    a = S.simulate_sample(reference, RES, haps, 1.0, "wgs", 11, tmp_path / "a", "S1")
    b = S.simulate_sample(reference, RES, haps, 1.0, "wgs", 11, tmp_path / "b", "S1")
    c = S.simulate_sample(reference, RES, haps, 1.0, "wgs", 12, tmp_path / "c", "S1")
    assert a[0].read_bytes() == b[0].read_bytes() and a[1].read_bytes() == b[1].read_bytes()
    assert a[0].read_bytes() != c[0].read_bytes()
    assert a[0].read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0


def test_read_count_names_and_qualities(reference, tmp_path):
    ref = S.load_reference(reference)
    haps = [S.apply_edits(ref, []), S.apply_edits(ref, [])]
    depth = 2.0
    stats = S.simulate_reads(haps, depth, tmp_path / "r1.fq.gz", tmp_path / "r2.fq.gz", "SMP", seed=3)
    expected = sum(round(depth / 2 * len(codes) / 300) * 2 for codes in ref.values())
    r1, r2 = _read_fastq(tmp_path / "r1.fq.gz"), _read_fastq(tmp_path / "r2.fq.gz")
    assert len(r1) == len(r2) == stats.n_pairs == expected
    ctrl_share = len(ref["ctrl"]) / sum(len(codes) for codes in ref.values())
    assert stats.pairs_per_contig["ctrl"] / stats.n_pairs == pytest.approx(ctrl_share, abs=0.01)
    assert [n for n, _, _ in r1[:3]] == ["@SMP:1", "@SMP:2", "@SMP:3"]
    assert all(a[0] == b[0] for a, b in zip(r1, r2, strict=True))
    seqs = "".join(s for _, s, _ in r1 + r2)
    quals = "".join(q for _, _, q in r1 + r2)
    assert {len(s) for _, s, _ in r1 + r2} == {150} and set(seqs) <= set("ACGTN")
    qarr = np.frombuffer(quals.encode(), dtype=np.uint8) - 33
    sarr = np.frombuffer(seqs.encode(), dtype=np.uint8)
    is_n = sarr == ord("N")
    assert 0 < is_n.mean() < 1e-3
    assert (qarr[is_n] == 2).all() and (qarr[~is_n] >= 5).all() and qarr.max() <= 41


@pytest.mark.parametrize("mode", ["wgs", "exome"])
def test_read_names_are_unique_per_fragment_across_blocks_contigs_and_haplotypes(
    reference, tmp_path, monkeypatch, mode
):
    """One name per fragment over the whole sample: every contig, both haplotypes and every written block (blocks
    made small so the sample spans many); R1 and R2 of a fragment share it, and the origins table agrees."""
    monkeypatch.setattr(S.reads, "CHUNK_PAIRS", 500)
    ref = S.load_reference(reference)
    haps = [S.apply_edits(ref, [S.edit_from_hgvs(RES, "c.160C>T")]), S.apply_edits(ref, [])]
    origins = tmp_path / "o.tsv.gz"
    targets = S.capture_targets(RES) if mode == "exome" else None
    depth = 0.5 if mode == "wgs" else 30
    stats = S.simulate_reads(
        haps, depth, tmp_path / "1.fq.gz", tmp_path / "2.fq.gz", "U", 9, mode=mode, targets=targets, truth_tsv=origins
    )
    assert stats.n_pairs > 4 * 500
    r1, r2 = _read_fastq(tmp_path / "1.fq.gz"), _read_fastq(tmp_path / "2.fq.gz")
    names = [n for n, _, _ in r1]
    assert len(set(names)) == len(names) == stats.n_pairs
    assert names == [n for n, _, _ in r2]
    rows = _read_origins(origins)
    assert ["@" + o["name"] for o in rows] == names
    assert len({(o["contig"], o["haplotype"]) for o in rows}) >= 2


def test_error_rates(reference, tmp_path):
    ref = S.load_reference(reference)
    haps = [S.apply_edits(ref, []), S.apply_edits(ref, [])]
    origins = tmp_path / "o.tsv.gz"
    stats = S.simulate_reads(haps, 3.0, tmp_path / "r1.fq.gz", tmp_path / "r2.fq.gz", "E", seed=5, truth_tsv=origins)
    r1, r2 = stats.substitution_rate(0), stats.substitution_rate(1)
    assert 0.002 < r1 < 0.006 and r1 * 1.3 < r2 < 0.009
    per_cycle = stats.substitutions[0] / stats.called_bases[0]
    assert per_cycle[:10].mean() == pytest.approx(0.001, rel=0.35)
    assert per_cycle[-10:].mean() == pytest.approx(0.0095, rel=0.2)
    assert stats.mean_q_error < stats.mean_q_correct - 10
    expected_indels = stats.n_pairs * 2 * 150 * S.INDEL_RATE
    assert 0.4 * expected_indels < stats.indel_errors < 1.8 * expected_indels
    # independent check on the written reads: forward R1 against the reference
    reads = _read_fastq(tmp_path / "r1.fq.gz")
    mism = total = 0
    for (name, seq, _), o in zip(reads[:3000], _read_origins(origins)[:3000], strict=True):
        assert name[1:] == o["name"]
        if o["r1_strand"] != "+":
            continue
        start = int(o["ref_start"]) - 1
        truth = S._BASES[ref[o["contig"]][start : start + 150]].tobytes().decode()
        diffs = sum(a != b and a != "N" for a, b in zip(seq, truth, strict=True))
        if diffs < 20:  # skip the rare read with an indel error
            mism += diffs
            total += 150
    assert 0.002 < mism / total < 0.007


def test_gc_bias_reduces_extreme_gc_coverage(tmp_path):
    rng = np.random.default_rng(1)
    parts = [S.random_sequence(rng, 40_000, (40_000, 40_000), (g, g))[0] for g in (0.28, 0.45, 0.62)]
    hap = {"gc": S.HapSeq.from_reference(np.concatenate(parts))}
    counts = {}
    for bias in (True, False):
        origins = tmp_path / f"o{bias}.tsv.gz"
        S.simulate_reads(
            [hap, hap],
            20,
            tmp_path / "1.fq.gz",
            tmp_path / "2.fq.gz",
            "G",
            9,
            gc_bias=bias,
            truth_tsv=origins,
        )
        mids = np.array([(int(o["ref_start"]) + int(o["ref_end"])) // 2 for o in _read_origins(origins)])
        counts[bias] = np.histogram(mids, bins=[1000, 39_000, 41_000, 79_000, 81_000, 119_000])[0][::2]
    low, mid, high = counts[True]
    assert low < 0.8 * mid and high < 0.8 * mid and low > 0.4 * mid and high > 0.4 * mid
    flat = counts[False]
    assert flat.min() > 0.9 * flat.max()
    assert S.gc_acceptance(np.array([0.30, 0.45, 0.60])) == pytest.approx([0.64, 1.0, 0.64], abs=0.05)


def test_homozygous_deletion_has_no_reads_inside(tmp_path):
    rng = np.random.default_rng(2)
    ref = {"x": S.random_sequence(rng, 60_000)[0]}
    dele = S.deletion("x", 30_001, 35_000)
    for zyg, haps in (("hom", [[dele], [dele]]), ("het", [[dele], []])):
        hapseqs = [S.apply_edits(ref, h) for h in haps]
        origins = tmp_path / f"{zyg}.tsv.gz"
        S.simulate_reads(hapseqs, 20, tmp_path / "1.fq.gz", tmp_path / "2.fq.gz", "D", 4, truth_tsv=origins)
        rows = _read_origins(origins)
        spans = np.array([(int(o["ref_start"]), int(o["ref_end"])) for o in rows])
        short = spans[spans[:, 1] - spans[:, 0] < 1000]
        inside = (short[:, 0] <= dele.end) & (short[:, 1] >= dele.start)
        junction = (spans[:, 0] < dele.start) & (spans[:, 1] > dele.end)
        if zyg == "hom":
            assert not inside.any()
        else:
            expected = 10 * 5000 / 300  # haplotype depth 10 over 5 kb
            assert inside.sum() == pytest.approx(expected, rel=0.35)
        assert junction.sum() > 5  # reads spanning the breakpoint exist


def test_weights_mix_two_people_at_a_fraction(tmp_path):
    """A contaminated sample: the second person's two haplotypes give ``weights`` of the depth (here each person's
    DNA is on its own contig, so the pairs per contig are the shares)."""
    rng = np.random.default_rng(5)
    seq = S.random_sequence(rng, 40_000)[0]
    own, other = {"a": seq, "b": seq[:0]}, {"a": seq[:0], "b": seq}
    args = (40, tmp_path / "1.fq.gz", tmp_path / "2.fq.gz", "M", 6)
    stats = S.simulate_reads([own, own, other, other], *args, weights=[0.375, 0.375, 0.125, 0.125])
    assert stats.pairs_per_contig["b"] / stats.n_pairs == pytest.approx(0.25, abs=0.02)
    assert stats.n_pairs == pytest.approx(40 * 40_000 / 300, rel=0.02)
    with pytest.raises(ValueError, match="weights"):
        S.simulate_reads([own, other], *args, weights=[0.5, 0.6])


def test_exome_mode_reads_only_near_targets(tmp_path):
    rng = np.random.default_rng(3)
    ref = {"x": S.random_sequence(rng, 50_000)[0]}
    targets = [("x", 10_000, 10_400), ("x", 30_000, 30_150)]
    origins = tmp_path / "o.tsv.gz"
    haps = [S.apply_edits(ref, []), S.apply_edits(ref, [])]
    stats = S.simulate_reads(
        haps,
        40,
        tmp_path / "1.fq.gz",
        tmp_path / "2.fq.gz",
        "X",
        1,
        mode="exome",
        targets=targets,
        truth_tsv=origins,
    )
    spans = np.array([(int(o["ref_start"]) - 1, int(o["ref_end"])) for o in _read_origins(origins)])
    hits = np.zeros(len(spans), dtype=bool)
    for _, s, e in targets:
        hits |= (spans[:, 0] < e) & (spans[:, 1] > s)
    assert hits.all() and stats.n_pairs > 100
    cov = np.zeros(50_000)
    for s, e in spans:  # fragment coverage by the two reads
        cov[s : s + 150] += 1
        cov[e - 150 : e] += 1
    assert cov[10_100:10_300].mean() == pytest.approx(40, rel=0.3)
    assert cov[20_000:21_000].sum() == 0


def test_capture_targets_cover_exons_and_controls():
    baits = S.capture_baits(RES)
    padded = S.capture_targets(RES)
    tx = S.read_transcript(RES)
    for s, e in tx.exons:
        assert any(c == tx.chrom and bs < s and be >= e for c, bs, be in baits)
    assert any(c == "ctrl" for c, _, _ in baits)
    assert sum(e - s for _, s, e in padded) > sum(e - s for _, s, e in baits)


# ----------------------------------------------------------------------------------------------------------
# Cohort design, alignment, population VCF, CLI
# ----------------------------------------------------------------------------------------------------------


def test_cohort_design_deletions_from_resources(reference):
    design = S.cohort_design(RES)
    genes = S.read_genes(RES)
    big = design.whole_deletion
    assert big.start == genes["IL36G"].start - 9000 and big.end == genes["IL1RN"].end + 10000
    assert 170_000 < big.ref_length < 180_000
    tx = S.read_transcript(RES)
    ex3 = tx.exons[2]
    e3 = design.exon3_deletion
    assert (ex3[0] - e3.start, e3.end - ex3[1]) == (800, 900)
    assert tx.exons[1][1] < e3.start and e3.end < tx.exons[3][0]
    ref = S.load_reference(reference)
    by_name = {s.name: s for s in design.samples}
    t6 = S._sample_truth(by_name["DIRA-06"], ref, genes, 30)
    zyg = {a["kind"]: a["zygosity"] for a in t6["alleles"]}
    assert zyg == {"deletion": "heterozygous", "snv": "hemizygous"}
    assert t6["copy_number"]["IL1RN"] == 1 and t6["copy_number"]["IL37"] == 2 and t6["copy_number"]["PSD4"] == 2
    assert set(t6["deletions"][0]["genes"]) == {"IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"}
    t7 = S._sample_truth(by_name["DIRA-07"], ref, genes, 30)
    assert t7["exon_copy_number"]["IL1RN"] == {"1": 2, "2": 2, "3": 0, "4": 2}
    t3 = S._sample_truth(by_name["DIRA-03"], ref, genes, 30)
    assert [a["zygosity"] for a in t3["alleles"]] == ["heterozygous", "heterozygous"]
    # in trans, but unphased without parents (exons 2 and 3 are beyond read pairs): presumed biallelic, not affected
    assert (t3["status"], t3["presumed_biallelic"]) == ("inconclusive", True)
    assert t6["presumed_biallelic"] is False and t6["status"] == "affected"  # in trans by zygosity
    assert t3["copy_number"]["IL1RN"] == 2
    common = design.alleles[S.COMMON_MISSENSE]
    c = int(S.COMMON_MISSENSE[2:-3])
    cds = S.read_synthetic_cds(RES)
    codon = (c - 1) // 3 * 3
    alt_cds = cds[: c - 1] + common.alt + cds[c:]
    assert S.translate(cds[codon : codon + 3]) != S.translate(alt_cds[codon : codon + 3]) != "*"
    assert c >= sum(e - s + 1 for s, e in tx.cds[:3]) + 1  # exon 4


@needs_bwa
def test_align_to_bam_and_cram(reference, tmp_path):
    ref = tmp_path / "ref.fa"
    shutil.copy(reference, ref)
    fq1, fq2 = S.simulate_sample(ref, RES, [[], []], 0.4, "wgs", 2, tmp_path / "s", "AL")
    bam = S.align_to_bam(ref, fq1, fq2, tmp_path / "a.bam", "AL", threads=1, cram=tmp_path / "a.cram")
    bam2 = S.align_to_bam(ref, fq1, fq2, tmp_path / "b.bam", "AL", threads=2)
    assert Path(str(bam) + ".bai").exists() and (tmp_path / "a.cram.crai").exists()
    with pysam.AlignmentFile(str(bam)) as a, pysam.AlignmentFile(str(bam2)) as b:
        assert a.header["RG"] == [{"ID": "AL", "SM": "AL", "PL": "ILLUMINA"}]
        assert a.header["HD"]["SO"] == "coordinate"
        recs_a = [r.to_string() for r in a.fetch(until_eof=True)]
        recs_b = [r.to_string() for r in b.fetch(until_eof=True)]
    assert recs_a == recs_b  # deterministic for any thread count
    mapped = sum(1 for r in recs_a if int(r.split("\t")[1]) & 4 == 0)
    assert mapped / len(recs_a) > 0.98
    with pysam.AlignmentFile(str(tmp_path / "a.cram"), reference_filename=str(ref)) as c:
        assert sum(1 for _ in c.fetch(until_eof=True)) == len(recs_a)


def test_population_vcf(reference, tmp_path):
    design = S.cohort_design(RES)
    vcf = S.write_population_vcf(tmp_path / "pop.vcf.gz", reference, design.alleles, S.POPULATION_AF)
    assert Path(str(vcf) + ".tbi").exists()
    with pysam.VariantFile(str(vcf)) as v:
        recs = {r.info["HGVSc"]: r for r in v.fetch("chr2")}
    assert recs[S.COMMON_MISSENSE].info["AF"][0] == pytest.approx(0.25)
    assert recs["c.160C>T"].pos == S.cds_to_genomic(RES, 160) and recs["c.160C>T"].info["AF"][0] < 1e-4
    assert (recs["c.229G>T"].ref, recs["c.229G>T"].alts) == ("G", ("T",))


def test_register_cli_defaults():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    S.register_cli(sub)
    args = parser.parse_args(["test-cohort"])
    assert (args.out, args.seed, args.depth, args.threads) == ("test-data", 20261125, 30, 2)
    assert args.func is S._cli_test_cohort
    args = parser.parse_args(["test-cohort", "--out", "x", "--seed", "1", "--depth", "6", "--threads", "1"])
    assert (args.out, args.seed, args.depth, args.threads) == ("x", 1, 6, 1)


@needs_bwa
def test_make_test_cohort_small(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sheet = S.make_test_cohort("td", seed=5, depth=0.5, threads=1)
    assert sheet == Path("td/samples.tsv")
    rows = [line.split("\t") for line in sheet.read_text().splitlines()]
    assert rows[0] == ["sample", "fq1", "fq2", "bam", "family", "father", "mother", "sex", "prenatal"]
    by = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by["DIRA-01"]["fq1"] == "td/fastq/DIRA-01_R1.fastq.gz" and by["DIRA-01"]["father"] == "DIRA-01-F"
    assert by["DIRA-02"]["bam"] == "td/bam/DIRA-02.bam" and by["DIRA-04"]["bam"] == "td/bam/DIRA-04.cram"
    assert by["DIRA-01-FETUS"]["sex"] == "" and by["DIRA-01-F"]["sex"] == "M"
    assert by["DIRA-01-FETUS"]["prenatal"] == "yes" and by["DIRA-01"]["prenatal"] == ""
    sites = gzip.open(Path("td") / "reference" / "sample_sites.tsv.gz", "rt").read().splitlines()
    assert sites[0].startswith("#chrom") and len(sites) > 500  # the population's common SNVs: the sample checks
    for r in by.values():
        for key in ("fq1", "fq2", "bam"):
            assert not r[key] or Path(r[key]).exists()
    truth = json.loads(Path("td/truth.json").read_text())
    assert truth["DIRA-09"]["status"] == "inconclusive" and truth["DIRA-08"]["status"] == "negative"
    assert truth["DIRA-07"]["alleles"][0]["zygosity"] == "homozygous"
    assert truth["DIRA-05"]["copy_number"]["IL1RN"] == 0 and truth["DIRA-05"]["copy_number"]["PAX8"] == 2
    assert set(truth["DIRA-01"]["copy_number"]) == set(S.read_genes(RES))
    # background genomes: recorded, Mendelian in the trio, listed in the population VCF with their frequency
    gts = {n: {r.rsplit(":", 1)[0]: r.rsplit(":", 1)[1].split("|") for r in t["background"]} for n, t in truth.items()}
    assert all(len(g) > 1000 for n, g in gts.items() if n not in ("DIRA-05",))
    for child in ("DIRA-01", "DIRA-01-FETUS"):
        father, mother = gts["DIRA-01-F"], gts["DIRA-01-M"]
        for site, (a, b) in gts[child].items():
            if not site.startswith(("chrX", "chrY")):  # the sex chromosomes: test_background
                assert a in father.get(site, ["0", "0"]) and b in mother.get(site, ["0", "0"]), (child, site)
    # the sample checks' family F2 (docs/sample-checks.md): the father's file and DIRA-11's swapped, a prenatal
    # sample with the mother's DNA mixed in; the truth says what the file holds and what the checks must find
    kinds = [line.split("\t")[5] for line in sites[1:]]
    assert kinds.count("X") >= 30 and kinds.count("Y") >= 10 and kinds.count("A") > 500
    assert by["DIRA-10-F"]["bam"] == "td/bam/DIRA-10-F.bam" and by["DIRA-11"]["sex"] == "F"
    assert (by["DIRA-10-FETUS"]["father"], by["DIRA-10-FETUS"]["mother"]) == ("", "DIRA-10-M")
    assert truth["DIRA-10-F"]["sex"] == "female" and truth["DIRA-11"]["sex"] == "male"
    assert truth["DIRA-10-F"]["sample_checks"] == {
        "verdict": "fail",
        "failures": ["not_parent", "sex_mismatch"],
        "file_holds": "DIRA-11",
    }
    assert [(a["hgvs_c"], a["zygosity"]) for a in truth["DIRA-11"]["alleles"]] == [("c.229G>T", "heterozygous")]
    assert truth["DIRA-10-F"]["alleles"] == [] and truth["DIRA-10-F"]["status"] == "inconclusive"
    differential = truth["DIRA-10-F"]["differential"]  # a failed check withholds it all
    assert differential and set(differential.values()) == {"inconclusive"}
    assert truth["DIRA-10-FETUS"]["sample_checks"]["contamination"] == {"source": "DIRA-10-M", "fraction": 0.25}
    assert truth["DIRA-10-M"]["sample_checks"] == {"verdict": "pass", "failures": []}
    for name, y_reads in (("DIRA-10-F", False), ("DIRA-11", True)):  # the woman's file has no Y reads
        with pysam.AlignmentFile(f"td/bam/{name}.bam") as bam:
            assert bam.header["RG"][0]["SM"] == name
            assert (bam.count("chrY") > 0) == y_reads and bam.count("chrX") > 0
    assert {truth[n]["vntr"]["start"] for n in truth} == {S.vntr_locus(RES).start}
    assert truth["DIRA-05"]["vntr"]["alleles"] == [None, None]
    with pysam.VariantFile("td/population/population_af.vcf.gz") as handle:
        listed = {f"{r.chrom}:{r.pos}:{r.ref}:{r.alts[0]}" for r in handle}
    assert set(gts["DIRA-02"]) <= listed
    for name in ("bwt", "sa", "fai"):
        assert Path(f"td/reference/synth.fa.{name}").exists()
    before = Path("td/fastq/DIRA-01_R1.fastq.gz").stat().st_mtime_ns
    capsys.readouterr()
    S.make_test_cohort("td", seed=5, depth=0.5, threads=1)
    assert "up to date" in capsys.readouterr().out
    assert Path("td/fastq/DIRA-01_R1.fastq.gz").stat().st_mtime_ns == before
    S.make_test_cohort(str(tmp_path / "td"), seed=5, depth=0.5, threads=1)  # same data, absolute paths
    assert f"\t{tmp_path}/td/fastq/DIRA-01_R1.fastq.gz\t" in sheet.read_text()
    assert Path("td/fastq/DIRA-01_R1.fastq.gz").stat().st_mtime_ns == before


def test_reference_carries_repeats_at_the_repeatmasker_positions(reference):
    """Repeat copies where mask.bed has RepeatMasker intervals, young ones with a near-identical sibling on
    the decoy contig (reads there get MAPQ ~0 as in real genomes), exons and the CDS left alone."""
    ref = S.load_reference(reference)
    assert S.DECOY_CONTIG in ref and len(ref[S.DECOY_CONTIG]) >= S.DECOY_LENGTH
    repeats = [(iv.start0, iv.end) for iv in read_bed(RES / "mask.bed") if iv.name == "repeat" and iv.chrom == "chr2"]
    assert len(repeats) > 1000
    chr2 = ref["chr2"]
    decoy = ref[S.DECOY_CONTIG].tobytes()
    young = 0
    for s0, e0 in repeats:
        if e0 - s0 < 400:
            continue
        probe = chr2[s0 + 100 : s0 + 132].tobytes()  # a 32-mer inside the copy
        young += probe in decoy
    assert young >= 20  # exact 32-mers shared with the decoy: copies < ~1-2 % apart
    # The unique sequence between repeats is not on the decoy.
    free = [(e0, s1) for (_, e0), (s1, _) in zip(repeats, repeats[1:], strict=False) if s1 - e0 > 500]
    assert sum(chr2[a + 100 : a + 132].tobytes() in decoy for a, _ in free[:200]) <= 5
    # Segmental duplication: a window stretch between two genes is on the decoy at ~1.5 % divergence.
    assert S.SEGDUP_BP >= 2_000
    assert S.spliced_cds(reference, RES) == S.read_synthetic_cds(RES)


def test_repeat_families_are_diverged_copies():
    rng = np.random.default_rng(1)
    fam = S._families(rng)
    assert {len(c) for c in fam["alu"]} == {S.ALU_LENGTH} and {len(c) for c in fam["l1"]} == {S.L1_LENGTH}
    assert len(fam["alu"]) == S.SUBFAMILIES["alu"]
    copy = S._repeat_copy(rng, {"alu": fam["alu"][:1]}, "alu", 300, 0.1)
    assert 0.06 < (copy != fam["alu"][0]).mean() < 0.14
    l1 = S._repeat_copy(rng, {"l1": fam["l1"][:1]}, "l1", 1000, 0.0)
    assert (l1 == fam["l1"][0][-1000:]).all()  # 5'-truncated: the 3' end is kept
    simple = S._repeat_copy(rng, fam, "simple", 40, 0.0)
    assert len(set(S._BASES[simple].tobytes().decode())) <= 4
