"""Known DIRA alleles matched on the left-normalised genomic allele (dira_genotyper.annotation.known_alleles).

The synthetic reference puts the 534-nt IL1RN CDS used for test references (resources/SYNTH) at the CDS
coordinates of resources/SYNTH/il1rn.gff3, with seeded random UTR, intron (GT..AG) and flanking sequence, as
tests/unit/annotation/test_annotate.py does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dira_genotyper.annotation.hgvs import describe_variant
from dira_genotyper.annotation.known_alleles import KnownAlleles, left_normalise, read_table
from dira_genotyper.annotation.transcript import load_transcript
from dira_genotyper.errors import InputError

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
SYNTH_GFF3 = RESOURCES / "SYNTH" / "il1rn.gff3"
GRCH38_GFF3 = RESOURCES / "GRCh38" / "il1rn.gff3"
TABLE = RESOURCES / "known_dira_variants.tsv"
FOUNDER_GENES = ["IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"]


@pytest.fixture(scope="module")
def ref(synth):
    """(fasta path, transcript, genome string) of the synthetic IL1RN reference (tests/unit/conftest.py)."""
    return synth


@pytest.fixture(scope="module")
def known(ref):
    fasta, tx, _genome = ref
    return KnownAlleles.load(TABLE, tx, fasta, build="SYNTH")


def _table_with(tmp_path: Path, *rows: str, name: str = "known.tsv") -> Path:
    """The real table's header and comment lines plus ``rows`` (tab-separated, in the table's column order)."""
    lines = TABLE.read_text().splitlines()
    header = [line for line in lines if line.startswith("#")] + [next(x for x in lines if not x.startswith("#"))]
    path = tmp_path / name
    path.write_text("\n".join(header + list(rows)) + "\n")
    return path


def _row(hgvs_c: str, ref_seq: str = "", name: str = "test allele", kind: str = "small", genes: str = "") -> str:
    return "\t".join([hgvs_c, "", name, "pathogenic", "reported", "test citation", kind, genes, ref_seq, "test", ""])


def _left_aligned_deletion(tx, genome: str, c_first: str, c_last: str) -> tuple[int, str, str]:
    """Anchored, left-aligned VCF deletion (as bcftools norm writes it), computed independently here."""
    a, b = tx.c_to_genomic(c_first), tx.c_to_genomic(c_last)
    while genome[a - 2] == genome[b - 1]:
        a, b = a - 1, b - 1
    return a - 1, genome[a - 2 : b], genome[a - 2]


# ---- the table itself ----------------------------------------------------------------------------------
def test_table_columns_and_rows():
    rows = read_table(TABLE)
    by_c = {r.hgvs_c: r for r in rows if r.kind == "small"}
    assert set(by_c) == {
        "c.156_157del", "c.160C>T", "c.229G>T", "c.213_227del", "c.141del", "c.318+2T>G", "c.281G>T",
    }  # fmt: skip
    assert by_c["c.156_157del"].published_name.startswith("N52KfsX25")
    assert "Newfoundland" in by_c["c.156_157del"].citation  # not Dutch: Aksentijevich 2009, Patient 1
    assert "Dutch" in by_c["c.229G>T"].citation
    assert "Lebanese" in by_c["c.160C>T"].citation
    assert by_c["c.281G>T"].classification == "uncertain"
    deletions = [r for r in rows if r.kind == "deletion"]
    assert len(deletions) == 1 and set(deletions[0].genes) == set(FOUNDER_GENES)
    for row in rows:
        assert row.citation and row.source_checked and row.evidence in ("established", "reported", "uncertain")


def test_table_p_names_match_translation_of_the_mane_cds(ref, known):
    """Each small row's hgvs_c and hgvs_p are what describe_variant gives for its resolved allele."""
    _fasta, tx, genome = ref
    fetch = lambda chrom, start, end: genome[start:end]  # noqa: E731
    for row in known.rows:
        if row.kind != "small":
            continue
        effect = describe_variant(tx, fetch, row.pos, row.ref, row.alt)
        assert (effect.hgvs_c, effect.hgvs_p) == (row.hgvs_c, row.hgvs_p), row.label


# ---- resolution on SYNTH ---------------------------------------------------------------------------------
def test_every_row_resolves_on_synth(ref, known):
    _fasta, tx, genome = ref
    by_c = {r.hgvs_c: r for r in known.rows if r.kind == "small"}
    assert all(r.pos is not None for r in by_c.values())
    assert (by_c["c.160C>T"].pos, by_c["c.160C>T"].ref, by_c["c.160C>T"].alt) == (tx.c_to_genomic("c.160"), "C", "T")
    assert (by_c["c.229G>T"].pos, by_c["c.229G>T"].ref, by_c["c.229G>T"].alt) == (tx.c_to_genomic("c.229"), "G", "T")
    row = by_c["c.213_227del"]
    assert (row.pos, row.ref, row.alt) == _left_aligned_deletion(tx, genome, "c.213", "c.227")
    row = by_c["c.156_157del"]
    assert (row.pos, row.ref, row.alt) == _left_aligned_deletion(tx, genome, "c.156", "c.157")
    assert row.pos == tx.c_to_genomic("c.154")  # left-aligned: AAC>A (c.155_156delAC is the same allele)
    assert known.match_deletion(FOUNDER_GENES)["kind"] == "deletion"


def test_splice_donor_row_resolves_to_the_intron(ref, known):
    _fasta, tx, genome = ref
    row = next(r for r in known.rows if r.hgvs_c == "c.318+2T>G")
    region = tx.region(row.pos)
    assert (region.feature, region.intron, region.intron_offset) == ("intron", 3, 2)
    assert row.pos == tx.c_to_genomic("c.318") + 2 and (row.ref, row.alt) == ("T", "G")
    assert known.match_small("chr2", row.pos, "T", "G")["published_name"] == "c.318 + 2T>G"


# ---- matching --------------------------------------------------------------------------------------------
def test_inframe_deletion_matches_however_it_is_written(ref, known):
    _fasta, tx, genome = ref
    a, b = tx.c_to_genomic("c.213"), tx.c_to_genomic("c.227")
    left = _left_aligned_deletion(tx, genome, "c.213", "c.227")
    assert left[0] < a - 1  # the repeat lets bcftools put it 5' of the HGVS position
    spellings = {
        "left-aligned": left,
        "right-shifted (HGVS position, anchored)": (a - 1, genome[a - 2 : b], genome[a - 2]),
        "no anchor": (a, genome[a - 1 : b], ""),
        "no anchor, dash": (a, genome[a - 1 : b], "-"),
        "padded both sides": (a - 2, genome[a - 3 : b + 1], genome[a - 3 : a - 1] + genome[b]),
        "left-aligned, padded right": (left[0], left[1] + genome[left[0] + len(left[1]) - 1], left[2] + genome[
            left[0] + len(left[1]) - 1
        ]),
    }  # fmt: skip
    for label, (pos, ref_allele, alt_allele) in spellings.items():
        match = known.match_small("chr2", pos, ref_allele, alt_allele)
        assert match is not None, label
        assert (match["hgvs_c"], match["classification"]) == ("c.213_227del", "pathogenic"), label
        assert "Jesus" in match["citation"], label
    # one base more or less is another allele
    assert known.match_small("chr2", a - 1, genome[a - 2 : b + 1], genome[a - 2]) is None
    assert known.match_small("chr2", a - 1, genome[a - 2 : b - 1], genome[a - 2]) is None


def test_frameshift_matches_either_placement(ref, known):
    _fasta, tx, genome = ref
    for first, last in (("c.156", "c.157"), ("c.155", "c.156")):
        a, b = tx.c_to_genomic(first), tx.c_to_genomic(last)
        match = known.match_small("chr2", a - 1, genome[a - 2 : b], genome[a - 2])
        assert match is not None and match["published_name"].startswith("N52KfsX25")


def test_nonsense_matches_and_other_bases_do_not(ref, known):
    _fasta, tx, genome = ref
    g = tx.c_to_genomic("c.160")
    match = known.match_small("chr2", g, "C", "T")
    assert match is not None
    for key in ("published_name", "citation", "classification", "evidence", "hgvs_c"):
        assert isinstance(match[key], str) and match[key]
    assert (match["published_name"], match["hgvs_c"], match["evidence"]) == ("Q54X", "c.160C>T", "established")
    assert known.match_small("2", g, "C", "T") is not None  # contig named without chr
    assert known.match_small("chr2", g - 1, genome[g - 2 : g + 1], genome[g - 2] + "T" + genome[g]) is not None
    assert known.match_small("chr2", g, "C", "A") is None
    assert known.match_small("chr2", g, "C", "G") is None
    assert known.match_small("chr2", g + 1, genome[g], "T") is None
    assert known.match_small("chrX", g, "C", "T") is None
    assert known.match_small("chr2", g, "C", "<DEL>") is None


def test_founder_deletion_matches_by_gene_content_and_size(known):
    match = known.match_deletion(FOUNDER_GENES, 175_009)
    assert match is not None and match["classification"] == "pathogenic" and "Puerto Ric" in match["published_name"]
    assert known.match_deletion(FOUNDER_GENES) is not None  # size unknown: gene content alone
    assert known.match_deletion(FOUNDER_GENES, 150_000) is not None  # within 20% of ~175 kb
    # the founder's genes and more, or the right genes at another size: another allele, not the published one
    assert known.match_deletion(["PSD4", *FOUNDER_GENES, "PAX8"], 700_000) is None
    assert known.match_deletion(["PSD4", *FOUNDER_GENES, "IL37"]) is None
    assert known.match_deletion(FOUNDER_GENES, 250_000) is None
    assert known.match_deletion(["IL1F9", "IL1F6", "IL1F8", "IL1F5", "IL1F10", "IL1RN"]) is not None  # old names
    assert known.match_deletion([g for g in FOUNDER_GENES if g != "IL36RN"]) is None
    assert known.match_deletion(["IL1RN"]) is None


# ---- errors ------------------------------------------------------------------------------------------------
def test_ref_mismatch_is_an_input_error_naming_the_row(ref, tmp_path):
    fasta, tx, _genome = ref
    table = _table_with(tmp_path, _row("c.229G>T", name="E77X"), _row("c.160G>T", name="wrong base"))
    with pytest.raises(InputError, match=r"line \d+ \(c\.160G>T\) on build SYNTH.*reference has C"):
        KnownAlleles.load(table, tx, fasta, build="SYNTH")
    table = _table_with(tmp_path, _row("c.213_227del", ref_seq="AGATGTGGTACCCAA"), name="del.tsv")
    with pytest.raises(InputError, match=r"c\.213_227del.*AGATGTGGTACCCAA.*AGATGTGGTACCCAT"):
        KnownAlleles.load(table, tx, fasta, build="SYNTH")


def test_bad_rows_and_duplicates(ref, tmp_path):
    fasta, tx, _genome = ref
    for row, message in (
        (_row("c.160C>T", kind="snv"), "kind must be"),
        (_row("c.160C>T").replace("pathogenic", "causal"), "classification must be"),
        (_row("g.123A>T"), "not an HGVS c. name"),
        (_row("c.5000C>T"), "outside|cannot place"),
        (_row("", kind="deletion"), "lists the genes"),
        ("c.160C>T\tonly three\tcolumns", "tab-separated columns"),
    ):
        with pytest.raises(InputError, match=message):
            KnownAlleles.load(_table_with(tmp_path, row), tx, fasta)
    # c.158dup and c.156_157insA are one allele (an A added to the AA run at c.157-158)
    table = _table_with(tmp_path, _row("c.158dup"), _row("c.156_157insA"))
    with pytest.raises(InputError, match="same allele"):
        KnownAlleles.load(table, tx, fasta)
    with pytest.raises(InputError, match="cannot read"):
        KnownAlleles.load(tmp_path / "absent.tsv", tx, fasta)


def test_dup_ins_delins_rows_resolve(ref, tmp_path):
    fasta, tx, genome = ref
    table = _table_with(tmp_path, _row("c.158dup"), _row("c.160_161delinsTA"), _row("c.230_231insGGG"))
    known = KnownAlleles.load(table, tx, fasta)
    g157 = tx.c_to_genomic("c.157")
    dup = known.match_small("chr2", g157, genome[g157 - 1], genome[g157 - 1] + "A")  # insA after c.157
    assert dup is not None and dup["hgvs_c"] == "c.158dup"
    g160 = tx.c_to_genomic("c.160")
    assert known.match_small("chr2", g160, genome[g160 - 1 : g160 + 1], "TA")["hgvs_c"] == "c.160_161delinsTA"
    g230 = tx.c_to_genomic("c.230")
    assert known.match_small("chr2", g230 + 1, "", "GGG") is not None  # unanchored insertion before c.231


def test_left_normalise():
    seq = "GGCACACAT"  # 1-based: G1 G2 C3 A4 C5 A6 C7 A8 T9
    base = lambda p: seq[p - 1] if 1 <= p <= len(seq) else ""  # noqa: E731
    assert left_normalise(7, "CAT", "T", base) == (2, "GCA", "G")  # CA deleted at the right end of the repeat
    assert left_normalise(4, "A", "ACA", base) == (2, "G", "GCA")  # an insertion of CA
    assert left_normalise(3, "CAC", "CTC", base) == (4, "A", "T")
    with pytest.raises(ValueError):
        left_normalise(3, "C", "C", base)


# ---- real build coordinates (no sequence needed) ---------------------------------------------------------
def test_grch38_positions_of_the_nonsense_alleles(tmp_path):
    """FACTS.md: c.160 = chr2:113,129,619 and c.229 = chr2:113,131,068 on GRCh38."""
    tx = load_transcript(GRCH38_GFF3)
    expected = {113_129_619: "C", 113_131_068: "G"}

    def fetch(chrom: str, start: int, end: int) -> str:
        assert chrom == "chr2"
        return "".join(expected.get(p, "A") for p in range(start + 1, end + 1))

    rows = [line for line in TABLE.read_text().splitlines() if line.split("\t")[0] in ("c.160C>T", "c.229G>T")]
    known = KnownAlleles.load(_table_with(tmp_path, *rows), tx, fetch, build="GRCh38")
    by_c = {r.hgvs_c: (r.chrom, r.pos, r.ref, r.alt) for r in known.rows}
    assert by_c == {"c.160C>T": ("chr2", 113_129_619, "C", "T"), "c.229G>T": ("chr2", 113_131_068, "G", "T")}
    assert known.match_small("chr2", 113_129_619, "C", "T")["published_name"] == "Q54X"
    assert known.match_small("chr2", 113_131_068, "G", "T")["published_name"] == "E77X"


def test_a_row_that_does_not_fit_this_reference_is_left_out_in_the_workflow(tmp_path, ref):
    """On a reference whose bases differ from a row's stated bases (e.g. the abstract-derived c.213_227del bases on
    real sequence), the workflow's non-strict load leaves that row out with the reason; the others still match."""
    fasta, tx, genome = ref
    bad = tmp_path / "table.tsv"
    lines = TABLE.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("hgvs_c\t"))
    row = next(line for line in lines[header + 1 :] if line.startswith("c.213_227del\t"))
    cols = row.split("\t")
    names = lines[header].split("\t")
    cols[names.index("ref_seq")] = "A" * len(cols[names.index("ref_seq")])  # bases the reference does not hold
    bad.write_text(
        "\n".join([*lines[: header + 1], "\t".join(cols), *[ln for ln in lines[header + 1 :] if ln != row]]) + "\n"
    )
    with pytest.raises(InputError, match="c.213_227del"):
        KnownAlleles.load(bad, tx, fasta)
    table = KnownAlleles.load(bad, tx, fasta, strict=False)
    assert len(table.skipped) == 1 and "c.213_227del" in table.skipped[0]
    g = tx.c_to_genomic("c.160")
    assert table.match_small("chr2", g, genome[g - 1], "T")["published_name"] == "Q54X"
