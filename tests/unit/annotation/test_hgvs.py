"""HGVS naming and consequences on a hand-made three-exon transcript, on the + and the - strand.

The - strand genome is the reverse complement of the + strand one, so every c./p. name must come out the
same on both; the variants are given as a VCF would give them (left-aligned on the genome, with an anchor
base), which is 5' on the + strand and 3' on the - strand, so the 3' rule is exercised both ways.
"""

from __future__ import annotations

import pytest

from dira_genotyper.annotation.hgvs import describe_variant, protein_change, translate, trim_allele
from dira_genotyper.annotation.transcript import CPos, Transcript, parse_cpos, parse_gff3, reverse_complement

# Transcript orientation. CDS: M A Q L C P R | E E E K K F G T W H | S D Y V K * (exon breaks at c.20, c.50)
UPSTREAM = "GGCATCGATCGGATCCTAGC"  # 20
UTR5 = "GCCACCAGCC"  # 10 -> c.-10..c.-1
CDS1 = "ATGGCTCAGCTGTGCCCACG"  # c.1-20
INTRON1 = "GTAAGTCCTTTCCCAAATTTGGGCCCTTAACTCTTTCCAG"  # 40: c.20+1..c.20+20, c.21-20..c.21-1
CDS2 = "TGAAGAAGAAAAAAAATTCGGCACTTGGCA"  # c.21-50
INTRON2 = "GTGAGCAATGCCTAGGCATTCAGGTCCATCCTTCTCTTAG"  # 40
CDS3 = "TTCCGATTACGTAAAGTAA"  # c.51-69
UTR3 = "CTGCCTTGAACCGGTTAACCGGTTAGCCGG"  # 30 -> c.*1..c.*30
DOWNSTREAM = "TTGACCGATCGATTACGGCA"  # 20

PARTS = [UPSTREAM, UTR5 + CDS1, INTRON1, CDS2, INTRON2, CDS3 + UTR3, DOWNSTREAM]
PLUS_GENOME = "".join(PARTS)
CDS = CDS1 + CDS2 + CDS3
CODING_AND_UTR3 = CDS + UTR3


def _blocks() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Exons and CDS (1-based, + strand genome)."""
    starts, pos = [], 1
    for part in PARTS:
        starts.append((pos, pos + len(part) - 1))
        pos += len(part)
    exons = [starts[1], starts[3], starts[5]]
    cds = [(exons[0][0] + len(UTR5), exons[0][1]), exons[1], (exons[2][0], exons[2][0] + len(CDS3) - 1)]
    return exons, cds


def _model(strand: str) -> tuple[Transcript, str]:
    exons, cds = _blocks()
    if strand == "+":
        return Transcript("TX1", "chrT", "+", exons, cds, refseq="NM_000001.1", protein_refseq="NP_000001.1"), (
            PLUS_GENOME
        )
    size = len(PLUS_GENOME)
    flip = [(size - e + 1, size - s + 1) for s, e in exons]
    flip_cds = [(size - e + 1, size - s + 1) for s, e in cds]
    return Transcript("TX1", "chrT", "-", flip, flip_cds), reverse_complement(PLUS_GENOME)


@pytest.fixture(params=["+", "-"], ids=["plus", "minus"])
def model(request):
    tx, genome = _model(request.param)
    return tx, genome, (lambda chrom, start, end: genome[max(start, 0) : end])


# ---- VCF-style helpers, independent of the module under test --------------------------------------------
def _orient(tx: Transcript, seq: str) -> str:
    return seq if tx.strand == "+" else reverse_complement(seq)


def vcf_snv(tx, genome, c: str, alt: str):
    g = tx.c_to_genomic(c)
    return g, genome[g - 1], _orient(tx, alt)


def vcf_deletion(tx, genome, c_first: str, c_last: str):
    """Delete transcript bases c_first..c_last; return the left-aligned VCF allele with its anchor base."""
    a, b = sorted((tx.c_to_genomic(c_first), tx.c_to_genomic(c_last)))
    while a > 1 and genome[a - 2] == genome[b - 1]:
        a, b = a - 1, b - 1
    return a - 1, genome[a - 2 : b], genome[a - 2]


def vcf_insertion(tx, genome, c_before: str, seq: str):
    """Insert seq (transcript orientation) right 3' of transcript base c_before; left-aligned VCF allele."""
    g = tx.c_to_genomic(c_before)
    after = g if tx.strand == "+" else g - 1  # genomic base the insertion follows
    seq = _orient(tx, seq)
    while after >= 1 and genome[after - 1] == seq[-1]:
        seq, after = seq[-1] + seq[:-1], after - 1
    return after, genome[after - 1], genome[after - 1] + seq


def expected_frameshift(mutated_coding: str) -> str:
    """p. of a frameshift from translating the mutated CDS + 3' UTR (fs*N counts the first change as 1)."""
    names = "Ala Cys Asp Glu Phe Gly His Ile Lys Leu Met Asn Pro Gln Arg Ser Thr Val Trp Tyr".split()
    three = dict(zip("ACDEFGHIKLMNPQRSTVWY", names))
    ref = translate(CDS)
    alt = translate(mutated_coding)
    i = next(k for k in range(len(ref)) if ref[k] != alt[k])
    n = str(len(alt) - i) if alt.endswith("*") else "?"
    return f"p.({three[ref[i]]}{i + 1}{three[alt[i]]}fs*{n})"


def describe(tx, fetch, variant):
    pos, ref, alt = variant
    return describe_variant(tx, fetch, pos, ref, alt)


# ---- the model itself ------------------------------------------------------------------------------------
def test_model_translates():
    assert translate(CDS) == "MAQLCPREEEKKFGTWHSDYVK*"
    assert INTRON1[:2] == INTRON2[:2] == "GT" and INTRON1[-2:] == INTRON2[-2:] == "AG"


def test_sequences_from_model(model):
    tx, _genome, fetch = model
    assert tx.cds_sequence(fetch) == CDS
    assert tx.coding_and_3utr(fetch) == CODING_AND_UTR3
    assert tx.spliced_sequence(fetch) == UTR5 + CDS + UTR3


# ---- SNVs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "c, alt, hgvs_c, hgvs_p, consequence",
    [
        ("c.7", "T", "c.7C>T", "p.(Gln3*)", "stop_gained"),
        ("c.12", "A", "c.12G>A", "p.(Leu4=)", "synonymous_variant"),
        ("c.14", "T", "c.14G>T", "p.(Cys5Phe)", "missense_variant"),
        ("c.1", "G", "c.1A>G", "p.(Met1?)", "start_lost"),
        ("c.2", "C", "c.2T>C", "p.(Met1?)", "start_lost"),
        ("c.67", "C", "c.67T>C", "p.(*23Glnext*3)", "stop_lost"),
        ("c.69", "G", "c.69A>G", "p.(*23=)", "stop_retained_variant"),
        ("c.-3", "T", "c.-3G>T", None, "5_prime_UTR_variant"),
        ("c.*5", "A", "c.*5C>A", None, "3_prime_UTR_variant"),
        ("c.20", "A", "c.20G>A", "p.(Arg7His)", "missense_variant&splice_region_variant"),
        ("c.21", "C", "c.21T>C", "p.(Arg7=)", "splice_region_variant&synonymous_variant"),
        ("c.20+1", "A", "c.20+1G>A", "p.?", "splice_donor_variant"),
        ("c.20+2", "C", "c.20+2T>C", "p.?", "splice_donor_variant"),
        ("c.20+5", "A", "c.20+5G>A", "p.?", "splice_region_variant&intron_variant"),
        ("c.21-1", "A", "c.21-1G>A", "p.?", "splice_acceptor_variant"),
        ("c.21-2", "G", "c.21-2A>G", "p.?", "splice_acceptor_variant"),
        ("c.21-12", "G", "c.21-12A>G", "p.?", "intron_variant"),
        ("c.50+20", "A", "c.50+20T>A", "p.?", "intron_variant"),
        ("c.51-20", "T", "c.51-20C>T", "p.?", "intron_variant"),
    ],
)
def test_snv(model, c, alt, hgvs_c, hgvs_p, consequence):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_snv(tx, genome, c, alt))
    assert (effect.hgvs_c, effect.hgvs_p, effect.consequence) == (hgvs_c, hgvs_p, consequence)


def test_accession_prefixes():
    tx, genome = _model("+")
    effect = describe(tx, lambda c, s, e: genome[s:e], vcf_snv(tx, genome, "c.7", "T"))
    assert effect.c_name(tx.accession("refseq")) == "NM_000001.1:c.7C>T"
    assert effect.p_name(tx.protein_accession()) == "NP_000001.1:p.(Gln3*)"


# ---- deletions, insertions, duplications, delins ---------------------------------------------------------
def test_inframe_deletion_is_shifted_3prime(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.22", "c.24"))  # first GAA of GAAGAAGAA
    assert effect.hgvs_c == "c.28_30del"
    assert effect.hgvs_p == "p.(Glu10del)"
    assert effect.consequence == "inframe_deletion"


def test_inframe_duplication(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_insertion(tx, genome, "c.21", "GAA"))
    assert (effect.hgvs_c, effect.hgvs_p, effect.consequence) == (
        "c.28_30dup",
        "p.(Glu10dup)",
        "inframe_insertion",
    )


def test_inframe_insertion_not_dup(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_insertion(tx, genome, "c.39", "CCC"))
    assert (effect.hgvs_c, effect.hgvs_p, effect.consequence) == (
        "c.39_40insCCC",
        "p.(Phe13_Gly14insPro)",
        "inframe_insertion",
    )


def test_one_bp_deletion_frameshift(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.29", "c.29"))  # one A of the 8-A run c.29-36
    assert effect.hgvs_c == "c.36del"
    mutated = CODING_AND_UTR3[:35] + CODING_AND_UTR3[36:]
    assert effect.hgvs_p == expected_frameshift(mutated) == "p.(Lys12Asnfs*10)"
    assert effect.consequence == "frameshift_variant"


def test_two_bp_deletion_frameshift(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.31", "c.32"))
    assert effect.hgvs_c == "c.35_36del"
    mutated = CODING_AND_UTR3[:34] + CODING_AND_UTR3[36:]
    assert effect.hgvs_p == expected_frameshift(mutated)
    assert effect.hgvs_p.startswith("p.(Lys12Ilefs*")
    assert effect.consequence == "frameshift_variant"


def test_one_bp_duplication_frameshift(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_insertion(tx, genome, "c.30", "A"))
    assert effect.hgvs_c == "c.36dup"
    mutated = CODING_AND_UTR3[:36] + "A" + CODING_AND_UTR3[36:]
    assert effect.hgvs_p == expected_frameshift(mutated)
    assert effect.hgvs_p.startswith("p.(Phe13Ilefs*")


def test_insertion_versus_dup(model):
    tx, genome, fetch = model
    ins = describe(tx, fetch, vcf_insertion(tx, genome, "c.37", "G"))  # T|TC -> TGTC: not a copy
    assert ins.hgvs_c == "c.37_38insG"
    assert ins.hgvs_p == expected_frameshift(CODING_AND_UTR3[:37] + "G" + CODING_AND_UTR3[37:])
    dup = describe(tx, fetch, vcf_insertion(tx, genome, "c.37", "T"))  # TT -> TTT, shifted to c.38
    assert dup.hgvs_c == "c.38dup"
    assert dup.hgvs_p == expected_frameshift(CODING_AND_UTR3[:38] + "T" + CODING_AND_UTR3[38:])
    assert dup.hgvs_p.startswith("p.(Gly14Argfs*")


def test_delins_missense(model):
    tx, genome, fetch = model
    first, last = sorted((tx.c_to_genomic("c.13"), tx.c_to_genomic("c.14")))
    variant = (first, genome[first - 1 : last], _orient(tx, "AA"))
    effect = describe(tx, fetch, variant)
    assert (effect.hgvs_c, effect.hgvs_p, effect.consequence) == (
        "c.13_14delinsAA",
        "p.(Cys5Asn)",
        "missense_variant",
    )


def test_canonical_donor_deletion(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.20+1", "c.20+2"))
    assert (effect.hgvs_c, effect.hgvs_p, effect.consequence) == (
        "c.20+1_20+2del",
        "p.?",
        "splice_donor_variant",
    )


def test_deletion_across_exon_boundary(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.19", "c.20+3"))
    assert effect.hgvs_p == "p.?"
    assert effect.consequences[0] == "splice_donor_variant"
    assert "coding_sequence_variant" in effect.consequences


def test_insertions_at_a_donor(model):
    tx, genome, fetch = model
    inside = describe(tx, fetch, vcf_insertion(tx, genome, "c.20+1", "A"))  # GT -> GAT: donor broken
    assert (inside.hgvs_c, inside.hgvs_p, inside.consequence) == (
        "c.20+1_20+2insA",
        "p.?",
        "splice_donor_variant",
    )
    kept = describe(tx, fetch, vcf_insertion(tx, genome, "c.20+1", "T"))  # GT -> GTT: GT kept, named +2dup
    assert (kept.hgvs_c, kept.consequence) == ("c.20+2dup", "splice_region_variant&intron_variant")
    # between the exon's last base and an intact GT: the exon takes the two new bases -> frameshift
    edge = describe(tx, fetch, vcf_insertion(tx, genome, "c.20", "CC"))
    assert edge.hgvs_c == "c.20_20+1insCC"
    assert edge.hgvs_p == expected_frameshift(CODING_AND_UTR3[:20] + "CC" + CODING_AND_UTR3[20:])
    assert edge.consequence == "frameshift_variant&splice_region_variant"


def test_start_codon_deletion(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.-1", "c.2"))
    assert effect.hgvs_p == "p.(Met1?)"
    assert effect.consequences[0] == "start_lost"


def test_stop_codon_deletion_is_stop_lost(model):
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.67", "c.69"))  # TAA deleted in frame
    assert effect.hgvs_c == "c.67_69del"
    assert translate(CDS[:66] + UTR3)[21:] == "KLP*"  # K22, then the 3' UTR read in frame
    assert effect.hgvs_p == "p.(*23Leuext*2)"
    assert effect.consequence == "stop_lost&inframe_deletion"


@pytest.mark.parametrize(("first", "last"), [("c.64", "c.69"), ("c.61", "c.69"), ("c.58", "c.69")])
def test_inframe_deletion_through_the_stop_codon_is_stop_lost(model, first, last):
    """Regression: a deletion that removes the stop codon with the residues before it crashed the namer."""
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, first, last))
    assert effect.hgvs_c == f"{first}_{last[2:]}del"
    assert "stop_lost" in effect.consequence
    # HGVS: a deletion that includes the stop codon is a frameshift (or an extension), never a delins
    assert "delins" not in effect.hgvs_p and "fs*" in effect.hgvs_p and effect.hgvs_p.startswith("p.(")
    assert "stop_gained" not in effect.consequence


def test_inframe_deletion_of_the_last_residue_keeps_the_stop(model):
    """c.529_531del on IL1RN is p.(Glu177del): the residue before the stop is lost, the stop stays."""
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.64", "c.66"))  # K22 deleted, stop TAA kept
    assert effect.hgvs_p == "p.(Lys22del)"
    assert effect.consequence == "inframe_deletion"


def test_ref_mismatch_is_an_error(model):
    tx, genome, fetch = model
    pos, ref, _alt = vcf_snv(tx, genome, "c.7", "T")
    wrong = {"A": "C", "C": "G", "G": "T", "T": "A"}[ref]
    with pytest.raises(ValueError, match="does not match"):
        describe_variant(tx, fetch, pos, wrong, "A" if wrong != "A" else "C")


# ---- protein_change directly (the 3' rule and stop handling on the protein) -----------------------------
def test_protein_3prime_rule_and_nonsense_indels():
    coding = "ATGAAAAAACTGTAA"  # M K K L *
    assert protein_change(coding, 15, 3, 6, "") == (["inframe_deletion"], "Lys3del")
    assert protein_change(coding, 15, 6, 6, "AAA") == (["inframe_insertion"], "Lys3dup")
    terms, body = protein_change(coding, 15, 9, 9, "AAA")
    assert (terms, body) == (["inframe_insertion"], "Lys3dup")
    terms, body = protein_change(coding, 15, 9, 9, "TGGTAA")  # W* inserted before L4
    assert (terms, body) == (["stop_gained", "inframe_insertion"], "Lys3_Leu4insTrp*")
    terms, body = protein_change(coding, 15, 9, 12, "TAG")
    assert (terms, body) == (["stop_gained"], "Leu4*")


# ---- transcript coordinates -----------------------------------------------------------------------------
def test_cpos_text_round_trip():
    for text in ("c.117-2", "c.116+1", "c.-5", "c.*12", "c.160", "c.-15+3", "c.*37-4"):
        assert f"c.{parse_cpos(text)}" == text
    assert parse_cpos("c.*12") == CPos(12, 0, utr3=True)
    with pytest.raises(ValueError):
        parse_cpos("c.0")


def test_every_position_round_trips(model):
    tx, _genome, _fetch = model
    for g in range(1, len(PLUS_GENOME) + 1):
        assert tx.c_to_genomic(tx.genomic_to_c(g)) == g


def test_named_positions(model):
    tx, genome, _fetch = model
    assert str(tx.genomic_to_c(tx.cds_start)) == "1"
    assert str(tx.genomic_to_c(tx.cds_end)) == "69"
    assert _orient(tx, genome[tx.c_to_genomic("c.20+1") - 1]) == "G"
    assert _orient(tx, genome[tx.c_to_genomic("c.21-1") - 1]) == "G"
    assert _orient(tx, genome[tx.c_to_genomic("c.21-2") - 1]) == "A"
    # the 40-bp intron splits 20/20: c.20+20 is followed by c.21-20
    step = 1 if tx.strand == "+" else -1
    assert tx.c_to_genomic("c.21-20") == tx.c_to_genomic("c.20+20") + step
    assert tx.region(tx.c_to_genomic("c.20+5")).intron == 1
    assert tx.region(tx.c_to_genomic("c.51")).exon == 3
    with pytest.raises(ValueError):
        tx.c_to_genomic("c.25+1")  # not an exon boundary


def test_utr_intron_numbering():
    """An intron in the 5' UTR gives c.-N+M / c.-N-M names."""
    tx = Transcript("TX2", "chrU", "+", [(101, 110), (201, 260)], [(205, 240)])
    assert str(tx.genomic_to_c(110)) == "-5"
    assert str(tx.genomic_to_c(111)) == "-5+1"
    assert str(tx.genomic_to_c(200)) == "-4-1"
    assert str(tx.genomic_to_c(241)) == "*1"
    assert str(tx.genomic_to_c(100)) == "-15"
    assert str(tx.genomic_to_c(270)) == "*30"
    minus = Transcript("TX3", "chrU", "-", [(101, 160), (251, 260)], [(121, 156)])
    assert str(minus.genomic_to_c(251)) == "-5"
    assert str(minus.genomic_to_c(250)) == "-5+1"
    assert str(minus.genomic_to_c(156)) == "1"
    assert str(minus.genomic_to_c(120)) == "*1"


def test_trim_allele():
    allele = trim_allele("c", 10, "CA", "C")
    assert (allele.start, allele.end, allele.ref, allele.alt, allele.kind) == (10, 11, "A", "", "deletion")
    assert trim_allele("c", 10, "C", "CTT").kind == "insertion"
    assert trim_allele("c", 10, "CG", "TA").kind == "delins"


def test_parse_gff3_minus_strand(tmp_path):
    gff = tmp_path / "m.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "chrM\tt\tgene\t100\t400\t.\t-\t.\tID=gene:G1;Name=GENE1;biotype=protein_coding\n"
        "chrM\tt\tmRNA\t100\t400\t.\t-\t.\tID=transcript:T1;Parent=gene:G1;biotype=protein_coding;version=2\n"
        "chrM\tt\texon\t300\t400\t.\t-\t.\tParent=transcript:T1\n"
        "chrM\tt\texon\t100\t200\t.\t-\t.\tParent=transcript:T1\n"
        "chrM\tt\tCDS\t300\t350\t.\t-\t0\tParent=transcript:T1\n"
        "chrM\tt\tCDS\t150\t200\t.\t-\t0\tParent=transcript:T1\n"
    )
    (tx,) = parse_gff3(gff)
    assert (tx.transcript_id, tx.ensembl, tx.gene_name, tx.strand) == ("T1", "T1.2", "GENE1", "-")
    assert tx.exons_5to3 == ((300, 400), (100, 200))
    assert str(tx.genomic_to_c(350)) == "1"
    assert str(tx.genomic_to_c(299)) == "51+1"
    assert str(tx.genomic_to_c(201)) == "52-1"
    assert str(tx.genomic_to_c(149)) == "*1"


def test_shift_3prime_both_ways():
    from dira_genotyper.annotation.hgvs import shift_3prime

    genome = "GGCAGCAGCATT"  # GCA repeated three times from 0-based 1 to 9
    fetch = lambda chrom, s, e: genome[max(s, 0) : e]  # noqa: E731
    deletion = trim_allele("c", 2, "GCAG", "G")  # one GCA copy
    assert (shift_3prime(deletion, "+", fetch).start, shift_3prime(deletion, "+", fetch).ref) == (7, "GCA")
    assert (shift_3prime(deletion, "-", fetch).start, shift_3prime(deletion, "-", fetch).ref) == (1, "GCA")
    insertion = trim_allele("c", 5, "G", "GCAG")  # one more GCA copy
    assert (shift_3prime(insertion, "+", fetch).start, shift_3prime(insertion, "+", fetch).alt) == (10, "GCA")
    assert (shift_3prime(insertion, "-", fetch).start, shift_3prime(insertion, "-", fetch).alt) == (1, "GCA")


def test_intronic_name_gets_unknown_protein(model):
    """c.20 is G and c.20+1 is G: deleting one G is named 3' (c.20+1del, intronic), while the consequence is that
    of the placement that spares the donor (the exon loses its last base: a frameshift). The p. name follows the
    c. name: an intronic c. name is p.?, not the exonic placement's frameshift."""
    tx, genome, fetch = model
    effect = describe(tx, fetch, vcf_deletion(tx, genome, "c.20+1", "c.20+1"))
    assert effect.hgvs_c == "c.20+1del"
    assert effect.hgvs_p == "p.?"
    assert "frameshift_variant" in effect.consequences
