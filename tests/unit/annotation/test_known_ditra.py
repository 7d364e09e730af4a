"""Known DITRA alleles of IL36RN (resources/known_ditra_variants.tsv) resolved on a synthetic IL36RN model.

The model is the MANE Select NM_012275.3 layout derived in resources/IL36RN-MODEL.md, shifted to small coordinates
(synthetic = GRCh38 - 113,058,000): a 5'UTR exon 1, then exon 2 (c.-27..c.29), exon 3 (c.30..c.115), exon 4
(c.116..c.243) and exon 5 (c.244..c.468 and the 3'UTR). Exon 1's end is not known (IL36RN-MODEL.md): the 103-nt
exon 1 here is a placeholder, and no assertion below depends on it.

The synthetic CDS is a seeded back-translation of the UniProt Q9UBH0 protein (155 aa) with the codons the table's
rows need fixed (codon 10 CGA, 27 CTG, 48 CGG, 113 TCG, 123 ACG, ...). It is NOT the real IL36RN sequence: it only
makes the rows' reference bases and amino acids true so that their c. and p. names can be checked.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from dira_genotyper.annotation.hgvs import CODON_TABLE, describe_variant, translate
from dira_genotyper.annotation.known_alleles import KnownAlleles, read_table
from dira_genotyper.annotation.transcript import load_transcript

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
TABLE = RESOURCES / "known_ditra_variants.tsv"

#: UniProt Q9UBH0 (I36RA_HUMAN), sequence version 1, 155 aa.
Q9UBH0 = (
    "MVLSGALCFRMKDSALKVLYLHNNQLLAGGLHAGKVIKGEEISVVPNRWLDASLSPVILG"
    "VQGGSQCLSCGVGQEPTLTLEPVNIMELYLGAKESKSFTFYRRDMGLTSSFESAAYPGWF"
    "LCTVPEADQPVRLTQLPENGGWNAPITDFYFQQCD"
)

#: MANE NM_012275.3 model on GRCh38 (IL36RN-MODEL.md). Exon 1 end: placeholder (not known).
GRCH38_EXONS = ((113059198, 113059300), (113059412, 113059467), (113060852, 113060937), (113062124, 113062251),
                (113062453, 113064744))  # fmt: skip
GRCH38_CDS = ((113059439, 113059467), (113060852, 113060937), (113062124, 113062251), (113062453, 113062677))
SHIFT = 113_058_000

#: codons the rows need (1-based codon number -> codon); see each row's source_checked.
FIXED_CODONS = {
    10: "CGA",  # c.28C>T -> TGA (Arg10*); c.28-29 in exon 2, c.30 in exon 3
    27: "CTG",  # c.80T>C -> CCG (Leu27Pro)
    39: "GGT",  # c.115 | c.116-117: exon 3 skipping joins c.28-29 to c.116 (CGG, Arg) then c.117-119 (TGA)
    40: "GAA",
    48: "CGG",  # c.142C>T -> TGG (Arg48Trp)
    76: "CCA",  # c.227C>T -> CTA (Pro76Leu)
    82: "CCA",  # c.245C>T -> CTA (Pro82Leu)
    113: "TCG",  # c.338C>T -> TTG (Ser113Leu)
    123: "ACG",  # c.368C>G -> AGG (Thr123Arg); c.368C>T -> ATG (Thr123Met)
}


def _gff3(exons, cds) -> str:
    tid = "ENST00000393200"
    rows = [
        "##gff-version 3",
        "\t".join(["chr2", "test", "gene", str(exons[0][0]), str(exons[-1][1]), ".", "+", ".",
                   "ID=gene:ENSG00000136695;Name=IL36RN;biotype=protein_coding;gene_id=ENSG00000136695"]),
        "\t".join(["chr2", "test", "mRNA", str(exons[0][0]), str(exons[-1][1]), ".", "+", ".",
                   f"ID=transcript:{tid};Parent=gene:ENSG00000136695;Name=IL36RN-MANE;biotype=protein_coding;"
                   f"transcript_id={tid};refseq=NM_012275.3;ensembl_version={tid}.7;protein_refseq=NP_036407.1;"
                   "protein_ensembl=ENSP00000376896.2;tag=MANE_Select"]),
    ]  # fmt: skip
    for n, (start, end) in enumerate(exons, start=1):
        rows.append("\t".join(["chr2", "test", "exon", str(start), str(end), ".", "+", ".",
                               f"Parent=transcript:{tid};Name={tid}.exon{n};exon_number={n}"]))  # fmt: skip
    done = 0
    for start, end in cds:
        phase = (3 - done % 3) % 3
        rows.append("\t".join(["chr2", "test", "CDS", str(start), str(end), ".", "+", str(phase),
                               f"ID=CDS:{tid};Parent=transcript:{tid}"]))  # fmt: skip
        done += end - start + 1
    return "\n".join(rows) + "\n"


def _shift(intervals):
    return tuple((s - SHIFT, e - SHIFT) for s, e in intervals)


def _synthetic_cds() -> str:
    rng = random.Random(20261207)
    by_aa: dict[str, list[str]] = {}
    for codon, aa in sorted(CODON_TABLE.items()):
        by_aa.setdefault(aa, []).append(codon)
    codons = [FIXED_CODONS.get(i, rng.choice(by_aa[aa])) for i, aa in enumerate(Q9UBH0, start=1)]
    return "".join(codons) + "TGA"


@pytest.fixture(scope="module")
def model(tmp_path_factory, synthetic_reference):
    """(fasta, transcript, genome, gff3 path) of the synthetic IL36RN."""
    tmp = tmp_path_factory.mktemp("il36rn")
    gff3 = tmp / "il36rn.gff3"
    gff3.write_text(_gff3(_shift(GRCH38_EXONS), _shift(GRCH38_CDS)))
    tx = load_transcript(gff3)
    fasta = tmp / "il36rn.fa"

    def c115_plus6_is_t(genome: list[str]) -> None:
        genome[tx.c_to_genomic("c.115+6") - 1] = "T"  # c.115+6T>C states T

    text = synthetic_reference(tx, _synthetic_cds(), fasta, 36, pad=1000, edit=c115_plus6_is_t)
    return fasta, tx, text, gff3


@pytest.fixture(scope="module")
def known(model):
    fasta, tx, _genome, _gff3 = model
    return KnownAlleles.load(TABLE, tx, fasta, build="SYNTH-IL36RN")


# ---- the model ---------------------------------------------------------------------------------------------
def test_mane_model_arithmetic():
    """468 nt of CDS = 155 codons + stop; exon 2 holds c.1-29, exon 3 c.30-115, exon 4 c.116-243, exon 5 c.244-468."""
    lengths = [e - s + 1 for s, e in GRCH38_CDS]
    assert lengths == [29, 86, 128, 225] and sum(lengths) == 468 == 3 * (len(Q9UBH0) + 1)
    # the CDS pieces end where the exons end (exons 2-4) and exon 5 starts where its CDS starts
    assert [e for _s, e in GRCH38_CDS[:3]] == [e for _s, e in GRCH38_EXONS[1:4]]
    assert [s for s, _e in GRCH38_CDS[1:]] == [s for s, _e in GRCH38_EXONS[2:]]
    # c.-27 is the first base of exon 2 (ClinVar names c.-28+1G>A on NM_012275.3: an intron after c.-28)
    assert GRCH38_CDS[0][0] - 27 == GRCH38_EXONS[1][0]
    # skipping exon 3 (86 nt, c.30-115) shifts the frame: the published p.Arg10Argfs*1 of c.115+6T>C
    assert 86 % 3 != 0


def test_model_places_the_published_positions(model):
    _fasta, tx, _genome, _gff3 = model
    assert (tx.cds_length, tx.utr5_length()) == (468, 103 + 27)
    assert translate(tx.cds_sequence(lambda c, s, e: _genome[s:e])) == Q9UBH0 + "*"
    assert tx.c_to_genomic("c.1") == 113059439 - SHIFT
    assert tx.c_to_genomic("c.-27") == 113059412 - SHIFT
    assert tx.region(tx.c_to_genomic("c.-28") + 1).feature == "intron"
    for c, exon in (
        ("c.28", 2),
        ("c.29", 2),
        ("c.30", 3),
        ("c.80", 3),
        ("c.115", 3),
        ("c.116", 4),
        ("c.142", 4),
        ("c.227", 4),
        ("c.243", 4),
        ("c.244", 5),
        ("c.338", 5),
        ("c.368", 5),
        ("c.468", 5),
    ):
        assert tx.region(tx.c_to_genomic(c)).exon == exon, c  # fmt: skip
    region = tx.region(tx.c_to_genomic("c.115+6"))
    assert (region.feature, region.intron, region.intron_offset) == ("intron", 3, 6)
    # GRCh38 positions of the table's rows (IL36RN-MODEL.md), back from the synthetic frame
    expected = {
        "c.28": 113059466,
        "c.80": 113060902,
        "c.115+6": 113060943,
        "c.142": 113062150,
        "c.227": 113062235,
        "c.245": 113062454,
        "c.338": 113062547,
        "c.368": 113062577,
        "c.466": 113062675,
    }
    for c, g38 in expected.items():
        assert tx.c_to_genomic(c) + SHIFT == g38, c  # fmt: skip


def test_exon3_skipping_gives_the_published_protein(model):
    """Farooq 2013: c.115+6T>C skips exon 3 -> p.Arg10Argfs*1 (codon 10 = c.28, c.29, c.116; then a stop)."""
    _fasta, tx, genome, _gff3 = model
    cds = tx.cds_sequence(lambda c, s, e: genome[s:e])
    skipped = cds[:29] + cds[115:]
    assert translate(skipped, to_stop=True) == Q9UBH0[:10] + "*"  # Arg10 kept (CG|G), then TGA: Arg10Argfs*1


# ---- the table -----------------------------------------------------------------------------------------------
def test_table_reads_with_the_dira_table_columns():
    rows = read_table(TABLE)
    dira_header = next(
        line for line in (RESOURCES / "known_dira_variants.tsv").read_text().splitlines() if not line.startswith("#")
    )
    ditra_header = next(line for line in TABLE.read_text().splitlines() if not line.startswith("#"))
    assert ditra_header == dira_header
    by_c = {r.hgvs_c: r for r in rows}
    assert set(by_c) == {
        "c.80T>C", "c.338C>T", "c.142C>T", "c.28C>T", "c.115+6T>C", "c.368C>G", "c.368C>T", "c.227C>T", "c.245C>T",
    }  # fmt: skip
    assert all(r.kind == "small" and r.citation and r.source_checked for r in rows)
    assert "Tunisian" in by_c["c.80T>C"].citation and by_c["c.80T>C"].evidence == "established"
    assert "21839423" in by_c["c.338C>T"].citation
    assert by_c["c.227C>T"].classification == by_c["c.245C>T"].classification == "uncertain"


def test_table_loads_and_every_row_resolves(model, known):
    _fasta, tx, _genome, _gff3 = model
    assert len(known) == 9
    for row in known.rows:
        assert row.pos is not None and len(row.ref) == len(row.alt) == 1, row.label
        position = re.match(r"c\.([-*]?\d+(?:[+-]\d+)?)[ACGT]>", row.hgvs_c)[1]
        assert row.pos == tx.c_to_genomic(position), row.label
        assert row.ref == row.ref_seq, row.label


def test_describe_variant_gives_each_rows_names(model, known):
    _fasta, tx, genome, _gff3 = model
    fetch = lambda chrom, start, end: genome[start:end]  # noqa: E731
    for row in known.rows:
        effect = describe_variant(tx, fetch, row.pos, row.ref, row.alt)
        assert (effect.hgvs_c, effect.hgvs_p) == (row.hgvs_c, row.hgvs_p), row.label
        assert known.match_small("chr2", row.pos, row.ref, row.alt)["hgvs_c"] == row.hgvs_c
    nonsense = describe_variant(tx, fetch, tx.c_to_genomic("c.28"), "C", "T")
    assert "stop_gained" in nonsense.consequences
    splice = describe_variant(tx, fetch, tx.c_to_genomic("c.115+6"), "T", "C")
    assert "splice_region_variant" in splice.consequences and splice.intron == 3


def test_the_shipped_il36rn_model_holds_the_table(tmp_path, synthetic_reference):
    """resources/<build>/il36rn.gff3 (written by build-resources from resources/differential.tsv): exons keep their
    published numbers 2-5, the CDS is 155 codons + stop, c.80 is at GRCh38 113,060,902 and GRCh37 = + 757,577, and
    every row of the DITRA table resolves on a reference made from the shipped SYNTH model and synthetic CDS."""
    grch38 = load_transcript(RESOURCES / "GRCh38" / "il36rn.gff3")
    grch37 = load_transcript(RESOURCES / "GRCh37" / "il36rn.gff3")
    assert (grch38.first_exon, grch38.cds_length, grch38.refseq) == (2, 468, "NM_012275.3")
    assert grch38.c_to_genomic("c.80") == 113_060_902 and grch38.c_to_genomic("c.338") == 113_062_547
    assert grch37.c_to_genomic("c.80") - grch38.c_to_genomic("c.80") == 757_577
    synth = load_transcript(RESOURCES / "SYNTH" / "il36rn.gff3")
    lines = (RESOURCES / "SYNTH" / "il36rn_cds_synthetic.fa").read_text().splitlines()
    cds = "".join(line.strip() for line in lines if not line.startswith(">"))
    assert translate(cds) == Q9UBH0 + "*"
    fasta = tmp_path / "synth_il36rn.fa"

    def c115_plus6_is_t(genome: list[str]) -> None:
        genome[synth.c_to_genomic("c.115+6") - 1] = "T"

    synthetic_reference(synth, cds, fasta, 5, edit=c115_plus6_is_t)
    known = KnownAlleles.load(TABLE, synth, fasta, build="SYNTH")
    assert len([row for row in known.rows if row.kind == "small"]) == len(read_table(TABLE))
