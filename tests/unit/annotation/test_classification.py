"""ACMG/AMP evidence combined by :func:`classify` (issue #19): BS1 against PVS1, the maximum credible allele frequency,
continental groups, PM2 only from population data that was read, and the BP7 window."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from dira_genotyper.annotation.annotate import annotate_vcf
from dira_genotyper.annotation.classification import (
    MAX_CREDIBLE_AF,
    PopulationAf,
    classify,
    max_credible_af,
    resolve_rules,
)
from dira_genotyper.annotation.pvs1 import STRONG, VERY_STRONG, Pvs1

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
SYNTH_GFF3 = RESOURCES / "SYNTH" / "il1rn.gff3"
KNOWN = RESOURCES / "known_dira_variants.tsv"
RULES = resolve_rules()
NMD = Pvs1(VERY_STRONG, "nonsense: NMD predicted")


def test_max_credible_af_is_whiffin_for_dira():
    """Whiffin 2017, biallelic: A * sqrt(P * G / penetrance); DIRA's numbers give 0.0045, the BS1 default."""
    assert max_credible_af(1e-5, 1.0, 1.0, 0.5) == pytest.approx(0.004472, abs=1e-6)
    assert max_credible_af(1e-6, 1.0, 0.5, 1.0) == pytest.approx(0.0005)
    assert MAX_CREDIBLE_AF == 0.0045 and RULES["benign_af"] == MAX_CREDIBLE_AF


def test_bs1_does_not_silence_pvs1():
    """A novel stop at AF 0.012 was likely benign (BS1 first): PVS1 against BS1 is conflicting, so uncertain."""
    label, reason = classify(("stop_gained",), None, PopulationAf(af=0.012), RULES, NMD, disease="DIRA")
    assert label == "uncertain"
    assert reason.startswith("Conflicting evidence: PVS1") and "BS1" in reason
    # the founder case: a null allele at 1.3% in one group only
    founder = PopulationAf(af=0.0004, max_af=0.013, group="amr")
    assert classify(("frameshift_variant",), None, founder, RULES, NMD, disease="DIRA")[0] == "uncertain"
    # BS1 with no pathogenic evidence is still likely benign; BA1 is stand-alone
    assert classify(("missense_variant",), None, PopulationAf(af=0.012), RULES, disease="DIRA")[0] == "likely_benign"
    assert classify(("stop_gained",), None, PopulationAf(af=0.06), RULES, NMD, disease="DIRA")[0] == "benign"


def test_bs1_uses_the_highest_continental_group():
    """BS1 compares the most frequent group, not only the global AF, with the maximum credible AF."""
    group = PopulationAf(af=0.001, max_af=0.006, group="afr")
    label, reason = classify(("missense_variant",), None, group, RULES, disease="DIRA")
    assert label == "likely_benign" and "0.006 in afr" in reason
    assert classify(("missense_variant",), None, PopulationAf(af=0.001), RULES, disease="DIRA")[0] == "uncertain"


def test_pm2_only_from_population_data_that_was_read():
    """No population data: PM2 is not claimed and the reason says why; PVS1_Strong then stays uncertain."""
    label, reason = classify(("stop_gained",), None, None, RULES, NMD, disease="DIRA")
    assert label == "likely_pathogenic"
    assert "PM2 not assessed: population data was not available" in reason and "PM2:" not in reason
    absent = classify(("stop_gained",), None, PopulationAf(), RULES, NMD, disease="DIRA")[1]
    assert "PM2: absent from the population data" in absent
    strong = Pvs1(STRONG, "nonsense in the last exon, NMD not predicted")
    assert classify(("stop_gained",), None, None, RULES, strong, disease="DIRA")[0] == "uncertain"
    assert classify(("stop_gained",), None, PopulationAf(), RULES, strong, disease="DIRA")[0] == "likely_pathogenic"
    # rare but not "extremely low": no PM2, so PVS1_Strong is not enough
    assert classify(("stop_gained",), None, PopulationAf(af=0.001), RULES, strong, disease="DIRA")[0] == "uncertain"


@pytest.mark.parametrize(
    ("terms", "offsets", "bp7"),
    [
        (("intron_variant",), (-12,), False),  # c.117-12: inside the acceptor region of SVI 2023
        (("intron_variant",), (-20,), False),
        (("intron_variant",), (-21,), True),
        (("intron_variant",), (40,), True),
        (("5_prime_UTR_variant",), (), False),  # BP7 is not for UTR variants
        (("3_prime_UTR_variant",), (), False),
        (("synonymous_variant",), (), True),
    ],
)
def test_bp7_window_and_bp7_alone(terms, offsets, bp7):
    """BP7 only at -21/+7 and beyond (ClinGen SVI 2023) and never for UTR; BP7 alone is uncertain, BP7 + BS1 likely
    benign."""
    label, reason = classify(terms, None, PopulationAf(), RULES, disease="DIRA", intron_offsets=offsets)
    assert label == "uncertain"
    assert reason.startswith("BP7") is bp7
    common = classify(terms, None, PopulationAf(af=0.01), RULES, disease="DIRA", intron_offsets=offsets)
    assert common[0] == "likely_benign" and common[1].startswith("BS1")


def _population_vcf(path: Path, length: int, rows: list[tuple[int, str, str, str]]) -> str:
    with open(path, "w") as out:
        out.write(f"##fileformat=VCFv4.2\n##contig=<ID=chr2,length={length}>\n")
        for key in ("AF", "AF_afr", "AF_amr", "AF_nfe", "AF_fin", "AF_eas"):
            out.write(f'##INFO=<ID={key},Number=A,Type=Float,Description="{key}">\n')
        out.write('##INFO=<ID=AN_eas,Number=1,Type=Integer,Description="AN_eas">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for pos, ref, alt, info in sorted(rows):
            out.write(f"chr2\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{info}\n")
    return pysam.tabix_index(str(path), preset="vcf", force=True)


def _vcf(path: Path, length: int, rows: list[tuple[int, str, str, str]]) -> Path:
    with open(path, "w") as out:
        out.write(f"##fileformat=VCFv4.2\n##contig=<ID=chr2,length={length}>\n")
        out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        out.write('##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")
        for pos, ref, alt, gt in sorted(rows):
            out.write(f"chr2\t{pos}\t.\t{ref}\t{alt}\t60\tPASS\t.\tGT:AD\t{gt}:0,30\n")
    return path


def test_annotate_reads_groups_and_names_the_evidence(synth, tmp_path):
    """End to end through annotate_vcf: the homozygous c.4G>T p.(Glu2*) at AF 0.012 is uncertain (it was likely
    benign); a missense common only in AF_amr is BS1; a bottlenecked group (AF_fin) does not count; c.117-12A>G is
    uncertain (it was BP7 likely benign); a group of fewer than 2,000 alleles (AN_eas) does not count; without a
    population VCF no PM2 is claimed."""
    fasta, tx, genome = synth
    stop, missense, intronic = tx.c_to_genomic("c.4"), tx.c_to_genomic("c.281"), tx.c_to_genomic("c.117-12")
    small_group = tx.c_to_genomic("c.229")
    other = "G" if genome[intronic - 1] != "G" else "C"
    calls = [(stop, "G", "T", "1/1"), (missense, "G", "T", "0/1"), (intronic, genome[intronic - 1], other, "1/1")]
    calls.append((small_group, "G", "A", "0/1"))
    assert genome[stop - 1] == "G" and genome[missense - 1] == "G" and genome[small_group - 1] == "G"
    vcf = _vcf(tmp_path / "s.vcf", len(genome), calls)
    pop = _population_vcf(
        tmp_path / "pop.vcf",
        len(genome),
        [
            (stop, "G", "T", "AF=0.012"),
            (missense, "G", "T", "AF=0.0005;AF_amr=0.007;AF_nfe=0.0001;AF_fin=0.03"),
            (small_group, "G", "A", "AF=0.0001;AF_eas=0.01;AN_eas=400"),
        ],
    )
    by_pos = {r["pos"]: r for r in annotate_vcf(vcf, fasta, SYNTH_GFF3, KNOWN, population_vcf=pop, disease="DIRA")}
    assert by_pos[stop]["hgvs_p"].endswith("p.(Glu2*)")
    assert by_pos[stop]["classification"] == "uncertain"
    assert by_pos[missense]["classification"] == "likely_benign"
    assert (by_pos[missense]["population_af_max"], by_pos[missense]["population_group"]) == (0.007, "amr")
    assert ":c.117-12" in by_pos[intronic]["hgvs_c"]
    assert by_pos[intronic]["classification"] == "uncertain"
    assert by_pos[small_group]["population_af_max"] is None  # 4 of 400 eas alleles: not a group AF to act on
    bare = {r["pos"]: r for r in annotate_vcf(vcf, fasta, SYNTH_GFF3, KNOWN, disease="DIRA")}
    assert "population data was not available" in bare[stop]["classification_reason"]
    assert "PM2:" not in bare[stop]["classification_reason"]
