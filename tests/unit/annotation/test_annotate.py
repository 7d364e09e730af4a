"""Annotation of a VCF on a synthetic IL1RN reference, and the GFF3 coordinate mapping of the real builds.

The synthetic reference puts the 534-nt IL1RN CDS used for test references (resources/SYNTH) at the CDS
coordinates of resources/SYNTH/il1rn.gff3, with seeded random UTR, intron (GT..AG) and flanking sequence.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pysam
import pytest

from dira_genotyper.annotation.annotate import annotate_vcf, in_analysed_range, register_cli
from dira_genotyper.annotation.classification import (
    DEFAULT_RULES,
    PopulationAf,
    classify,
    read_rules_json,
    resolve_rules,
)
from dira_genotyper.annotation.hgvs import describe_variant, translate
from dira_genotyper.annotation.known_alleles import read_table
from dira_genotyper.annotation.sources import bcftools_csq, bcsq_consequences
from dira_genotyper.annotation.transcript import load_transcript
from dira_genotyper.errors import InputError

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
SYNTH_GFF3 = RESOURCES / "SYNTH" / "il1rn.gff3"
KNOWN = RESOURCES / "known_dira_variants.tsv"
PROTEIN = (  # FACTS.md, 177 aa
    "MEICRGLRSHLITLLLFLFHSETICRPSGRKSSKMQAFRIWDVNQKTFYLRNNQLVAGYLQGPNVNLEEKIDVVPIEPHALFLGIHGGKMCLSCVKSGDETRLQ"
    "LEAVNITDLSENRKQDKRFAFIRSDSGPTTSFESAACPGWFLCTAMEADQPVSLTNMPDEGVMVTKFYFQEDE"
)
THREE = {"N": "Asn", "K": "Lys", "R": "Arg", "G": "Gly", "E": "Glu", "Q": "Gln", "L": "Leu", "T": "Thr"}


VCF_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr2,length={length}>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""


def write_vcf(path: Path, length: int, rows: list[tuple]) -> Path:
    """rows: (pos, ref, alt, gt, filter, ad) -> a sorted single-sample VCF."""
    with open(path, "w") as out:
        out.write(VCF_HEADER.format(length=length))
        for pos, ref, alt, gt, flt, ad in sorted(rows):
            dp = sum(ad)
            out.write(f"chr2\t{pos}\t.\t{ref}\t{alt}\t60\t{flt}\t.\tGT:AD:DP:GQ\t{gt}:{ad[0]},{ad[1]}:{dp}:50\n")
    return path


def snv(tx, genome, c: str, alt: str, gt="0/1", flt="PASS", ad=(12, 10)):
    g = tx.c_to_genomic(c)
    return (g, genome[g - 1], alt, gt, flt, ad)


def deletion(tx, genome, c_first: str, c_last: str, gt="0/1"):
    """Left-aligned, anchored VCF deletion of c_first..c_last (as bcftools norm writes it)."""
    a, b = tx.c_to_genomic(c_first), tx.c_to_genomic(c_last)
    while genome[a - 2] == genome[b - 1]:
        a, b = a - 1, b - 1
    return (a - 1, genome[a - 2 : b], genome[a - 2], gt, "PASS", (9, 11))


def frameshift_from_translation(cds_and_utr: str, mutated: str) -> str:
    ref, alt = translate(cds_and_utr), translate(mutated)
    i = next(k for k in range(len(ref)) if ref[k] != alt[k])
    n = str(len(alt) - i) if alt.endswith("*") else "?"
    return f"p.({THREE[ref[i]]}{i + 1}{THREE[alt[i]]}fs*{n})"


@pytest.fixture(scope="module")
def cohort(synth, tmp_path_factory):
    """The annotated records of a VCF carrying the published alleles and a few other kinds."""
    fasta, tx, genome = synth
    rows = [
        snv(tx, genome, "c.160", "T", gt="1/1", ad=(0, 25)),
        snv(tx, genome, "c.229", "T"),
        snv(tx, genome, "c.281", "T"),
        deletion(tx, genome, "c.213", "c.227"),
        deletion(tx, genome, "c.150", "c.150"),
        deletion(tx, genome, "c.156", "c.157"),
        snv(tx, genome, "c.117-2", "G" if genome[tx.c_to_genomic("c.117-2") - 1] != "G" else "C"),
        snv(tx, genome, "c.116+1", "A", flt="LowQual"),
        snv(tx, genome, "c.-5", "G" if genome[tx.c_to_genomic("c.-5") - 1] != "G" else "C"),
        snv(tx, genome, "c.30", "T"),  # CAC -> CAT, His10=
        snv(tx, genome, "c.206-40", "A" if genome[tx.c_to_genomic("c.206-40") - 1] != "A" else "C"),
    ]
    vcf = write_vcf(tmp_path_factory.mktemp("vcf") / "s1.vcf", len(genome), rows)
    records = annotate_vcf(vcf, fasta, SYNTH_GFF3, KNOWN, disease="DIRA")
    return {r["hgvs_c"].split(":")[1]: r for r in records}, records


# ---- coordinates of the real builds ----------------------------------------------------------------------
def test_grch38_and_grch37_mapping():
    tx38 = load_transcript(RESOURCES / "GRCh38" / "il1rn.gff3")
    tx37 = load_transcript(RESOURCES / "GRCh37" / "il1rn.gff3")
    assert (tx38.refseq, tx38.ensembl, tx38.protein_refseq) == (
        "NM_173842.3",
        "ENST00000409930.4",
        "NP_776214.1",
    )
    assert tx38.c_to_genomic("c.160") == 113_129_619
    assert tx38.c_to_genomic("c.229") == 113_131_068
    assert tx38.c_to_genomic("c.213") == 113_131_052 and tx38.c_to_genomic("c.227") == 113_131_066
    assert tx38.cds_length == 534 and tx38.cds_end == 113_132_871
    for c in ("c.1", "c.160", "c.229", "c.534", "c.117-2", "c.116+1", "c.-27", "c.*1"):
        assert tx37.c_to_genomic(c) == tx38.c_to_genomic(c) + 757_577
        assert str(tx38.genomic_to_c(tx38.c_to_genomic(c))) == c[2:]
    assert str(tx38.genomic_to_c(113_129_619)) == "160"


def test_synthetic_reference_encodes_the_protein(synth):
    fasta, tx, _genome = synth
    with pysam.FastaFile(str(fasta)) as fa:
        assert translate(tx.cds_sequence(fa.fetch)) == PROTEIN + "*"


# ---- the published alleles and other kinds ---------------------------------------------------------------
def test_published_nonsense_alleles(cohort):
    by_c, _ = cohort
    q54 = by_c["c.160C>T"]
    assert q54["hgvs_c"] == "NM_173842.3:c.160C>T"
    assert q54["hgvs_c_ensembl"] == "ENST00000409930.4:c.160C>T"
    assert q54["hgvs_p"] == "NP_776214.1:p.(Gln54*)"
    assert (q54["consequence"], q54["classification"], q54["known_as"]) == (
        "stop_gained",
        "pathogenic",
        "Q54X",
    )
    assert (q54["genotype"], q54["zygosity"], q54["allele_fraction"], q54["depth"]) == (
        "1/1",
        "homozygous",
        1.0,
        25,
    )
    assert q54["kind"] == "snv" and q54["filter"] == "PASS" and q54["genotype_quality"] == 50
    e77 = by_c["c.229G>T"]
    assert e77["hgvs_p"] == "NP_776214.1:p.(Glu77*)"
    assert (e77["zygosity"], e77["classification"], e77["known_as"]) == ("heterozygous", "pathogenic", "E77X")


def test_published_inframe_deletion_from_left_aligned_vcf(cohort, synth):
    _fasta, tx, genome = synth
    by_c, _ = cohort
    record = by_c["c.213_227del"]
    assert record["pos"] < tx.c_to_genomic("c.212")  # given 5' of the HGVS position, as bcftools writes it
    assert record["hgvs_p"] == "NP_776214.1:p.(Asp72_Ile76del)"
    assert (record["consequence"], record["kind"], record["classification"]) == (
        "inframe_deletion",
        "indel",
        "pathogenic",
    )
    assert "Jesus" in record["known_citation"]


def test_missense_of_uncertain_significance(cohort):
    by_c, _ = cohort
    record = by_c["c.281G>T"]
    assert record["hgvs_p"] == "NP_776214.1:p.(Cys94Phe)"
    assert (record["consequence"], record["classification"], record["known_as"]) == (
        "missense_variant",
        "uncertain",
        "c.281G>T (p.Cys94Phe)",
    )
    assert "Cys94Phe" in record["classification_reason"]


def test_exon2_frameshifts(cohort, synth):
    fasta, tx, _genome = synth
    by_c, _ = cohort
    with pysam.FastaFile(str(fasta)) as fa:
        coding = tx.coding_and_3utr(fa.fetch)
    one = by_c["c.150del"]
    assert one["hgvs_p"] == "NP_776214.1:" + frameshift_from_translation(coding, coding[:149] + coding[150:])
    two = by_c["c.156_157del"]
    assert two["hgvs_p"] == "NP_776214.1:" + frameshift_from_translation(coding, coding[:155] + coding[157:])
    assert two["hgvs_p"] == "NP_776214.1:p.(Asn52Lysfs*25)"  # the published Dutch N52KfsX25
    assert (one["consequence"], one["classification"], one["known_as"]) == (
        "frameshift_variant",
        "likely_pathogenic",
        None,
    )
    assert one["classification_reason"].startswith("PVS1: frameshift")  # the ClinGen branch is named
    assert (two["consequence"], two["classification"]) == ("frameshift_variant", "pathogenic")
    assert "N52KfsX25" in two["known_as"]


def test_splice_utr_synonymous_intronic(cohort):
    by_c, _ = cohort
    acceptor = next(r for c, r in by_c.items() if c.startswith("c.117-2"))
    assert acceptor["hgvs_p"] == "NP_776214.1:p.?"
    assert (acceptor["consequence"], acceptor["classification"]) == (
        "splice_acceptor_variant",
        "likely_pathogenic",
    )
    donor = by_c["c.116+1G>A"]
    assert donor["consequence"] == "splice_donor_variant" and donor["filter"] == ["LowQual"]
    utr = next(r for c, r in by_c.items() if c.startswith("c.-5"))
    # without population data: BP7 alone (synonymous, intronic at -40) is not likely benign; UTR gets no BP7
    assert (utr["consequence"], utr["hgvs_p"], utr["classification"]) == ("5_prime_UTR_variant", None, "uncertain")
    assert "BP7" not in utr["classification_reason"]
    syn = by_c["c.30C>T"]
    assert (syn["hgvs_p"], syn["classification"]) == ("NP_776214.1:p.(His10=)", "uncertain")
    assert syn["classification_reason"].startswith("BP7") and "second benign criterion" in syn["classification_reason"]
    deep = next(r for c, r in by_c.items() if c.startswith("c.206-40"))  # outside the analysed range (+/-20 bp)
    assert (deep["consequence"], deep["classification"]) == ("intron_variant", "not_assessed")
    assert deep["classification_reason"].startswith("Outside the analysed range")


@pytest.mark.parametrize(
    ("c", "analysed"),
    [
        ("c.117-20", True),  # acceptor side, at the edge of the range
        ("c.117-21", False),
        ("c.116+20", True),
        ("c.116+21", False),
        ("c.-20", True),  # 5' UTR beside the start codon
        ("c.-21", False),
        ("c.*20", True),
        ("c.*21", False),
        ("c.205+77", False),  # the bench_status background calls of issue #19
        ("c.1", True),
    ],
)
def test_analysed_range_is_the_cds_and_20_bp_beside_it(synth, c, analysed):
    """Issue #19: a genome's own deep-intronic / UTR SNVs are not interpreted (classification docstring, step 6);
    the splice region and 20 bp of UTR beside the CDS are."""
    _fasta, tx, genome = synth
    g = tx.c_to_genomic(c)
    effect = describe_variant(tx, lambda _ch, s, e: genome[s:e], g, genome[g - 1], "A" if genome[g - 1] != "A" else "C")
    assert in_analysed_range(effect, tx, 20) is analysed
    if not analysed:
        rules = resolve_rules()
        label, _ = classify(effect.consequences, None, None, rules, disease="DIRA", analysed=False)
        assert label == "not_assessed"
        known = {"classification": "pathogenic", "published_name": "X", "citation": "c", "short_citation": "c"}
        assert classify(effect.consequences, known, None, rules, disease="DIRA", analysed=False)[0] == "pathogenic"
        common = PopulationAf(af=0.2)
        assert classify(effect.consequences, None, common, rules, disease="DIRA", analysed=False)[0] == "benign"


def test_records_are_sorted_and_complete(cohort):
    _, records = cohort
    assert [r["pos"] for r in records] == sorted(r["pos"] for r in records)
    expected = {
        "gene", "chrom", "pos", "ref", "alt", "filter", "qual", "genotype", "zygosity", "depth", "alt_depth",
        "allele_fraction", "genotype_quality", "kind", "consequence", "hgvs_c", "hgvs_c_ensembl", "hgvs_p", "hgvs_g",
        "bcsq", "classification", "classification_reason", "known_as", "known_citation", "population_af",
        "population_af_max", "population_group",
    }  # fmt: skip
    for record in records:
        assert set(record) == expected
        assert record["classification_reason"].endswith(".")


def test_bcftools_csq_agrees_on_the_cohort_alleles(cohort):
    """Our consequence terms and those of bcftools csq are the same for every allele of the cohort VCF."""
    _, records = cohort
    for record in records:
        assert record["bcsq"], record["hgvs_c"]
        assert bcsq_consequences(record["bcsq"]) == set(record["consequence"].split("&")), record["hgvs_c"]


# ---- population frequency, rules, known table -------------------------------------------------------------
def test_population_af_makes_common_alleles_benign(synth, tmp_path):
    fasta, tx, genome = synth
    rows = [snv(tx, genome, "c.281", "T"), snv(tx, genome, "c.160", "T"), snv(tx, genome, "c.229", "T")]
    vcf = write_vcf(tmp_path / "s.vcf", len(genome), rows)
    pop = tmp_path / "pop.vcf"
    with open(pop, "w") as out:
        out.write(f"##fileformat=VCFv4.2\n##contig=<ID=chr2,length={len(genome)}>\n")
        out.write('##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for pos, ref, alt, af in sorted([(rows[0][0], rows[0][1], "T", 0.05), (rows[1][0], rows[1][1], "T", 0.0001)]):
            other = "A" if alt != "A" and ref != "A" else "G"
            out.write(f"chr2\t{pos}\t.\t{ref}\t{other},{alt}\t.\tPASS\tAF=0.2,{af}\n")
    indexed = pysam.tabix_index(str(pop), preset="vcf", force=True)
    by_c = {
        r["hgvs_c"].split(":")[1]: r
        for r in annotate_vcf(vcf, fasta, SYNTH_GFF3, KNOWN, population_vcf=indexed, disease="DIRA")
    }
    assert by_c["c.281G>T"]["population_af"] == pytest.approx(0.05)
    assert by_c["c.281G>T"]["classification"] == "benign"
    assert by_c["c.160C>T"]["population_af"] == pytest.approx(0.0001)
    assert by_c["c.160C>T"]["classification"] == "pathogenic"
    assert by_c["c.229G>T"]["population_af"] is None


def test_rules_are_configurable():
    rules = resolve_rules({"benign_af": 0.1, "lof_consequences": ["stop_gained"]})
    assert rules["benign_af"] == 0.1 and rules["uncertain_consequences"] == DEFAULT_RULES["uncertain_consequences"]
    assert classify(("missense_variant",), None, 0.04, rules, disease="DIRA")[0] == "uncertain"
    assert classify(("missense_variant",), None, 0.04, resolve_rules(), disease="DIRA")[0] == "likely_benign"  # BS1
    assert (
        classify(("missense_variant",), None, 0.05, rules, disease="DIRA")[0] == "benign"
    )  # BA1 whatever benign_af says
    assert (
        classify(("frameshift_variant",), None, None, rules, disease="DIRA")[0] == "uncertain"
    )  # no longer in any list
    assert (
        classify(("splice_region_variant", "synonymous_variant"), None, None, rules, disease="DIRA")[0] == "uncertain"
    )
    # outside the MANE transcript (another isoform's exon): cannot change IL-1Ra, never makes a sample inconclusive
    assert classify(("upstream_gene_variant",), None, None, rules, disease="DIRA")[0] == "likely_benign"
    assert classify(("intergenic_variant",), None, None, rules, disease="DIRA")[0] == "likely_benign"
    with pytest.raises(InputError, match="unknown classification rule"):
        resolve_rules({"lof": []})
    with pytest.raises(InputError):
        resolve_rules({"benign_af": "high"})


def test_rules_json_inline_or_file(tmp_path):
    assert read_rules_json('{"benign_af": 0.02}') == {"benign_af": 0.02}
    path = tmp_path / "rules.json"
    path.write_text('{"benign_af": 0.03}')
    assert read_rules_json(str(path)) == {"benign_af": 0.03}
    assert read_rules_json(None) is None
    with pytest.raises(InputError):
        read_rules_json("[1, 2]")


def test_known_table():
    known = {row.hgvs_c: row for row in read_table(KNOWN) if row.kind == "small"}
    assert set(known) >= {"c.160C>T", "c.229G>T", "c.213_227del", "c.281G>T"}
    assert known["c.281G>T"].classification == "uncertain"
    # HGVS names do not list deleted or duplicated bases (c.213_227del, not c.213_227delAGATG...)
    assert not [name for name in known if re.search(r"(del|dup)[ACGTN]+$", name)]


def test_reference_mismatch_is_an_input_error(synth, tmp_path):
    fasta, tx, genome = synth
    g = tx.c_to_genomic("c.160")
    wrong = "A" if genome[g - 1] != "A" else "C"
    vcf = write_vcf(
        tmp_path / "bad.vcf", len(genome), [(g, wrong, "G" if wrong != "G" else "T", "0/1", "PASS", (5, 5))]
    )
    with pytest.raises(InputError, match="same reference build"):
        annotate_vcf(vcf, fasta, SYNTH_GFF3, KNOWN, run_csq=False, disease="DIRA")


def test_cli_writes_sorted_deterministic_json(synth, tmp_path):
    fasta, tx, genome = synth
    rows = [snv(tx, genome, "c.229", "T"), snv(tx, genome, "c.160", "T", gt="1/1", ad=(0, 20))]
    vcf = write_vcf(tmp_path / "s.vcf", len(genome), rows)
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    outputs = []
    for name in ("a.json", "b.json"):
        args = parser.parse_args(
            ["annotate", "--vcf", str(vcf), "--reference", str(fasta), "--gff3", str(SYNTH_GFF3),
             "--known", str(KNOWN), "--rules-json", '{"benign_af": 0.02}', "--out", str(tmp_path / name)]
        )  # fmt: skip
        assert args.func(args) == 0
        outputs.append((tmp_path / name).read_text())
    assert outputs[0] == outputs[1]
    variants = json.loads(outputs[0])["variants"]
    assert [v["hgvs_c"] for v in variants] == ["NM_173842.3:c.160C>T", "NM_173842.3:c.229G>T"]
    assert json.loads(outputs[0])["population_data"] is False  # no --population: the report must say so
    coding = json.loads(outputs[0])["coding"]["IL1RN"]  # for the genotype step's exon-deletion frames
    assert coding == tx.coding_and_3utr(pysam.FastaFile(str(fasta)).fetch) and translate(coding[:534]).endswith("*")


# ---- strand symmetry: the same alleles on a mirrored (- strand) copy of the reference get the same names --
def _left_aligned_vcf(genome: str, start: int, end: int, ref: str, alt: str) -> tuple[int, str, str]:
    """A trimmed allele (0-based genome[start:end] = ref -> alt) as a left-aligned, anchored VCF allele."""
    if len(ref) == len(alt) == 1:
        return start + 1, ref, alt
    while start > 1 and (genome[start - 1] == genome[end - 1] if ref else genome[start - 1] == alt[-1]):
        if ref:
            start, end = start - 1, end - 1
        else:
            alt, start, end = alt[-1] + alt[:-1], start - 1, end - 1
    return start, genome[start - 1 : end], genome[start - 1] + alt


def test_names_do_not_depend_on_strand(synth):
    from dira_genotyper.annotation.hgvs import describe_variant
    from dira_genotyper.annotation.transcript import Transcript, reverse_complement

    _fasta, tx, genome = synth
    size = len(genome)
    mirror = reverse_complement(genome)
    flip = [(size - e + 1, size - s + 1) for s, e in tx.exons]
    flip_cds = [(size - e + 1, size - s + 1) for s, e in tx.cds]
    minus = Transcript(tx.transcript_id, tx.chrom, "-", flip, flip_cds, refseq=tx.refseq)
    fetch_plus = lambda chrom, s, e: genome[max(s, 0) : e]  # noqa: E731
    fetch_minus = lambda chrom, s, e: mirror[max(s, 0) : e]  # noqa: E731
    alleles = []
    for start, end in tx.exons:
        for edge in (start, end):
            for g in range(edge - 6, edge + 7):
                alleles.append((g - 1, g, genome[g - 1], {"A": "C", "C": "G", "G": "T", "T": "A"}[genome[g - 1]]))
                for size_bp in (1, 2, 3, 4):
                    alleles.append((g - 1, g - 1 + size_bp, genome[g - 1 : g - 1 + size_bp], ""))
                for ins in (genome[g : g + 2], "T", "GAC"):
                    alleles.append((g, g, "", ins))
    assert len(alleles) > 400
    for start, end, ref, alt in alleles:
        plus_effect = describe_variant(tx, fetch_plus, *_left_aligned_vcf(genome, start, end, ref, alt))
        m_start, m_end = size - end, size - start
        minus_vcf = _left_aligned_vcf(mirror, m_start, m_end, reverse_complement(ref), reverse_complement(alt))
        minus_effect = describe_variant(minus, fetch_minus, *minus_vcf)
        assert (minus_effect.hgvs_c, minus_effect.hgvs_p, minus_effect.consequences) == (
            plus_effect.hgvs_c,
            plus_effect.hgvs_p,
            plus_effect.consequences,
        ), (start, ref, alt)


def test_wrong_build_is_an_input_error(synth, tmp_path):
    fasta, tx, genome = synth
    vcf = write_vcf(tmp_path / "s.vcf", len(genome), [snv(tx, genome, "c.160", "T")])
    with pytest.raises(InputError, match="different builds"):
        annotate_vcf(vcf, fasta, RESOURCES / "GRCh38" / "il1rn.gff3", KNOWN, run_csq=False, disease="DIRA")
    shifted = tmp_path / "shifted.gff3"  # the model moved by 1 bp: the CDS no longer reads ATG...stop
    lines = []
    for line in SYNTH_GFF3.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) == 9:
            cols[3], cols[4] = str(int(cols[3]) + 1), str(int(cols[4]) + 1)
        lines.append("\t".join(cols))
    shifted.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="different builds"):
        annotate_vcf(vcf, fasta, shifted, KNOWN, run_csq=False, disease="DIRA")


def test_genotype_fields_and_bgzipped_input(synth, tmp_path):
    fasta, tx, genome = synth
    rows = [
        snv(tx, genome, "c.160", "T", gt="0/0", ad=(20, 0)),
        snv(tx, genome, "c.229", "T", gt="./.", ad=(0, 0)),
        snv(tx, genome, "c.281", "T", gt="0|1", ad=(7, 3)),
    ]
    plain = write_vcf(tmp_path / "s.vcf", len(genome), rows)
    packed = pysam.tabix_index(str(plain), preset="vcf", force=True)
    records = {r["hgvs_c"].split(":")[1]: r for r in annotate_vcf(packed, fasta, SYNTH_GFF3, KNOWN, disease="DIRA")}
    assert (records["c.160C>T"]["genotype"], records["c.160C>T"]["zygosity"]) == ("0/0", None)
    assert records["c.160C>T"]["allele_fraction"] == 0.0
    assert (records["c.229G>T"]["genotype"], records["c.229G>T"]["zygosity"]) == ("./.", None)
    assert records["c.229G>T"]["allele_fraction"] is None
    assert (records["c.281G>T"]["genotype"], records["c.281G>T"]["zygosity"]) == ("0|1", "heterozygous")
    assert (records["c.281G>T"]["alt_depth"], records["c.281G>T"]["allele_fraction"]) == (3, 0.3)
    assert all(r["bcsq"] for r in records.values())


def test_bcftools_csq_twice_in_one_process(synth, tmp_path):
    """In-process csq keeps state between calls (the second fails "not sorted"); the child process does not."""
    fasta, tx, genome = synth
    first = write_vcf(
        tmp_path / "a.vcf",
        len(genome),
        [snv(tx, genome, "c.160", "T", gt="1/1", ad=(0, 25)), deletion(tx, genome, "c.213", "c.227")],
    )
    second = write_vcf(
        tmp_path / "b.vcf", len(genome), [snv(tx, genome, "c.229", "T"), deletion(tx, genome, "c.150", "c.150")]
    )
    assert len(bcftools_csq(first, fasta, SYNTH_GFF3)) == 2
    again = bcftools_csq(second, fasta, SYNTH_GFF3)
    assert sorted(v.split("|")[0] for v in again.values()) == ["frameshift", "stop_gained"]


def test_genomic_names_follow_the_hgvs_3prime_rule():
    """A VCF left-aligns indels; HGVS names them at their most 3' position on the genome, and an insertion of
    the bases just before it is a duplication (c. names already do this in transcript orientation)."""
    from dira_genotyper.annotation.annotate import _g_name

    seq = "GGACTTTTGCAGCAGTATT"  # 1-based: T run at 5-8, CAG repeat at 10-15

    def fetch(chrom: str, start: int, end: int) -> str:
        return seq[max(start, 0) : end]

    # one T deleted from the run: VCF pos 4 (C, TTTT -> TTT) -> the last T, g.8
    assert _g_name("chr2", 4, "CT", "C", fetch) == "chr2:g.8del"
    assert _g_name("chr2", 4, "CT", "C") == "chr2:g.5del"  # without the reference: the VCF's position
    # CAG deleted from CAGCAG (VCF anchor at the G before it, pos 9): the 3'-most copy, g.13_15
    assert _g_name("chr2", 9, "GCAG", "G", fetch) == "chr2:g.13_15del"
    # an extra T in the run: a duplication of the last T; an extra CAG: dup of the last CAG
    assert _g_name("chr2", 4, "C", "CT", fetch) == "chr2:g.8dup"
    assert _g_name("chr2", 9, "G", "GCAG", fetch) == "chr2:g.13_15dup"
    # an insertion that copies nothing stays an insertion; substitutions do not move
    assert _g_name("chr2", 2, "G", "GTC", fetch) == "chr2:g.2_3insTC"
    assert _g_name("chr2", 2, "G", "GAA", fetch) == "chr2:g.3_4insAA"  # after the A at 3, the 3'-most place
    assert _g_name("chr2", 6, "T", "A", fetch) == "chr2:g.6T>A"
    # on a real build the name starts with the RefSeq chromosome, not the contig name
    assert _g_name("chr2", 4, "CT", "C", fetch, "NC_000002.12") == "NC_000002.12:g.8del"
