"""A further locus window is a resources entry: resources/windows.tsv + resources/sources/<gene>/ -> the builder ->
a window folder per build, merged into resources/<build>/ (its window, controls, genes, GFF3 and a `differential`
entry), read by the runtime Locus and transcript readers as they are. LPIN2 (Majeed
syndrome) is the shipped one; a made-up gene on a made-up contig shows that no gene name is needed in code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dira_devtools.resources.windows import (
    build_windows,
    gencode_transcripts,
    infer_model,
    merge_windows,
    read_windows,
    synthetic_cds,
)
from dira_genotyper.annotation.known_alleles import KnownAlleles
from dira_genotyper.annotation.transcript import load_transcript
from dira_genotyper.locus import Locus

ROOT = Path(__file__).resolve().parents[3]
RESOURCES = ROOT / "resources"
LPIN2 = {build: RESOURCES / build for build in ("GRCh38", "GRCh37")}


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_lpin2_model_is_the_896_aa_cds_numbered_as_published():
    row = next(r for r in read_windows() if r["gene"] == "LPIN2")
    tx, record = infer_model(row, RESOURCES / row["sources"])
    assert (tx.chrom, tx.strand, tx.first_exon) == ("chr18", "-", 2)
    assert sum(e - s + 1 for s, e in tx.cds) == 896 * 3 + 3 and len(tx.cds) == 19 and len(tx.exons) == 19
    # three GENCODE transcripts carry the CDS; the two with 20 exons are numbered as the papers number exons
    assert [c["numbered_as_published"] for c in record["candidates_grch38"]] == [False, True, True]
    gene = tx.as_gene()
    assert [e.number for e in gene.exons] == list(range(2, 21)) and (gene.start, gene.end) == (2_916_999, 3_013_144)


@pytest.mark.parametrize("build, shift", [("GRCh38", 0), ("GRCh37", -2)])
def test_shipped_gff3_places_the_published_landmarks(build, shift):
    """The runtime transcript reader on the shipped GFF3: c.1 and the stop where GENCODE has them, c.2327 the last
    base of exon 17 (Al-Mosawi 2007: 'donor splice site of exon 17 (c.2327+1G>C)'), c.1550 the last base of exon 10
    (Bhuyan 2021: c.1550G>A skips exon 10); GRCh37 = GRCh38 - 2."""
    tx = load_transcript(LPIN2[build] / "lpin2.gff3")
    assert (tx.strand, tx.cds_length, tx.refseq) == ("-", 2691, "NM_001375808.2")
    assert tx.c_to_genomic("c.1") == 2_960_840 + shift and tx.c_to_genomic("c.2691") == 2_920_293 + shift
    assert tx.first_exon == 2 and len(tx.exons_5to3) == 19

    def exon(number: int) -> tuple[int, int]:
        return tx.exons_5to3[number - tx.first_exon]

    assert tx.c_to_genomic("c.2327") == exon(17)[0] == 2_922_047 + shift  # - strand: the exon's 3' end is its start
    assert tx.c_to_genomic("c.1550") == exon(10)[0] == 2_929_065 + shift
    assert tx.c_to_genomic("c.2327+1") == exon(17)[0] - 1


def test_published_exon_7_to_18_deletion_fits_the_grch37_model():
    """Bhuyan 2021: a 17,770-bp deletion 'Chr18: 2,921,149-2,938,919' spanning exons 7-18 (reads on hg19)."""
    exons = {e.number: e for e in Locus.load(LPIN2["GRCh37"]).gene("LPIN2").exons}
    inside = [n for n, e in exons.items() if 2_921_149 <= e.start and e.end <= 2_938_919]
    assert inside == list(range(7, 19))
    assert 2_938_919 - 2_921_149 + 1 == 17_771  # the paper's 17,770 bp: its ends exclusive or inclusive


def test_the_build_folder_holds_the_lpin2_window():
    """The LPIN2 window is merged into each build: a second window on chr18, its genes and controls, Majeed as a
    differential with its own table and GFF3, and chr18's RefSeq accession for g. names."""
    for build, folder in LPIN2.items():
        locus = Locus.load(folder)
        assert (locus.build, locus.target, locus.disease) == (build, "IL1RN", "DIRA")
        assert locus.contigs == ["chr2", "chr18"]
        assert locus.accession("chr18") == {"GRCh38": "NC_000018.10", "GRCh37": "NC_000018.9"}[build]
        assert locus.accession("chr2") == {"GRCh38": "NC_000002.12", "GRCh37": "NC_000002.11"}[build]
        majeed = next(d for d in locus.meta["differential"] if d["disease"] == "Majeed")
        assert (majeed["gene"], majeed["gff3"], majeed["known"]) == ("LPIN2", "lpin2.gff3", "known_majeed_variants.tsv")
        window = next(w for w in locus.windows if w.chrom == "chr18")
        lpin2 = locus.gene("LPIN2")
        assert window.start <= lpin2.start - 200_000 and lpin2.end + 200_000 <= window.end
        assert [g.name for g in locus.genes if g.chrom == "chr18"] == ["EMILIN2", "LPIN2", "MYOM1"]
        assert sum(iv.length for iv in lpin2.cds) == 2691
        controls = [c for c in locus.controls if c.chrom == "chr18"]
        assert controls and all(c.end < locus.gene("EMILIN2").start - 20_000 for c in controls)
        black = [m for m in locus.mask if m.name == "blacklist" and m.chrom == "chr18"]
        assert black and not any(c.overlaps(b.chrom, b.start - 5_000, b.end + 5_000) for c in controls for b in black)


def test_the_synthetic_build_places_the_window_on_its_own_contig():
    """SYNTH: the GRCh38 window moved to start at 100 kb on a contig of its own (the test reference gains it), with
    a synthetic CDS carrying the codons the known alleles' names state."""
    locus = Locus.load(RESOURCES / "SYNTH")
    window = next(w for w in locus.windows if w.chrom == "chr18")
    assert window.start == 100_000 and locus.meta["extra_contigs"]["chr18"] == window.end + 100_000
    assert locus.accession("chr18") == "chr18"
    cds = "".join(ln for ln in (RESOURCES / "SYNTH" / "lpin2_cds_synthetic.fa").read_text().splitlines()[1:])
    row = next(r for r in read_windows() if r["gene"] == "LPIN2")
    assert cds == synthetic_cds(896, {386: "TCA", 734: "TCA"} | _codons(row), 20261206)
    assert len(cds) == 2691 and cds[1155:1158] == "TCA" and cds[2199:2202] == "TCA"  # S386*, S734L


def _codons(row: dict) -> dict:
    return {int(n): b for n, b in (x.split(":") for x in row["synthetic_codons"].split(","))}


def test_known_majeed_alleles_resolve_on_the_shipped_model():
    """Every row of the table is placed by the runtime table reader on the shipped GRCh38 model; the substitutions
    land where LPIN2-MODEL.md puts them (- strand: the genome carries the complement)."""
    tx = load_transcript(LPIN2["GRCh38"] / "lpin2.gff3")
    expected = {
        "c.2201C>T": (2_922_173, "G", "A"),
        "c.2327+1G>C": (2_922_046, "C", "G"),
        "c.1550G>A": (2_929_065, "C", "T"),
        "c.2207G>A": (2_922_167, "C", "T"),
        "c.1157C>G": (2_937_703, "G", "C"),
    }
    genome = {pos: ref for pos, ref, _alt in expected.values()}
    for c_start, bases in (("c.541", "AT"), ("c.1313", "AG")):  # deletions: c.540_541 AT, c.1312_1313 CT (revcomp)
        for i, base in enumerate(bases):
            genome[tx.c_to_genomic(c_start) + i] = base

    def fetch(_chrom, start, end):
        return "".join(genome.get(p, "ACGT"[p * 7 % 4]) for p in range(start + 1, end + 1))

    known = KnownAlleles.load(RESOURCES / "known_majeed_variants.tsv", tx, fetch, build="GRCh38")
    rows = {r.hgvs_c: r for r in known.rows}
    assert len(rows) == 7 and all(r.kind == "small" and r.pos for r in rows.values())
    for name, (pos, ref, alt) in expected.items():
        assert (rows[name].pos, rows[name].ref, rows[name].alt) == (pos, ref, alt), name
        assert known.match_small("chr18", pos, ref, alt)["hgvs_c"] == name
    c541 = tx.c_to_genomic("c.541")  # c.540_541delAT removes genome 2,951,104-2,951,105 (an anchor base before)
    anchor, deleted = fetch("chr18", c541 - 2, c541 - 1), fetch("chr18", c541 - 1, c541 + 1)
    assert c541 == 2_951_104 and deleted == "AT"
    assert known.match_small("chr18", c541 - 1, anchor + deleted, anchor)["hgvs_c"] == "c.540_541del"


# ----------------------------------------------------------------------------------- a made-up gene, no code
def _write_sources(folder: Path, offset37: int = 5) -> None:
    """Source tables of GENEX on chrZ (+ strand, 3 exons, CDS 6 + 9 + 3 = 18 nt = 5 codons + stop) and NEIGH."""
    folder.mkdir(parents=True)
    head = "feature\tgene_name\tStrand\tgene_type\tlevel\tSource\tchrom\tstart_1based\tend\n"
    models = [
        ("transcripts", 300_000, 306_000),
        *(("exons", s, e) for s, e in ((300_000, 300_100), (303_000, 303_008), (305_000, 306_000))),
        *(("CDSs", s, e) for s, e in ((300_095, 300_100), (303_000, 303_008), (305_000, 305_002))),
        ("start_codons", 300_095, 300_097),
        ("stop_codons", 305_000, 305_002),
    ]
    for build, shift in (("hg38", 0), ("hg19", offset37)):
        lines = [f"{f}\tGENEX\t+\tprotein_coding\t2\tHAVANA\tchrZ\t{s + shift}\t{e + shift}" for f, s, e in models]
        (folder / f"gencode_models_{build}.tsv").write_text(head + "\n".join(lines) + "\n")
        genes = [("NEIGH", "-", 150_000, 160_000), ("GENEX", "+", 300_000, 306_000)]
        (folder / f"gencode_genes_{build}.tsv").write_text(
            head.split("\t", 1)[1]
            + "".join(
                f"{g}\t{st}\tprotein_coding\t2\tHAVANA\tchrZ\t{s + shift}\t{e + shift}\n" for g, st, s, e in genes
            )
        )
    splice = []
    for build, shift in (("grch37", offset37), ("grch38", 0)):
        for name, strand, exons in (("GENEX", "+", [(300_000, 300_100), (303_000, 303_008), (305_000, 306_000)]),
                                    ("NEIGH", "-", [(150_000, 151_000), (159_000, 160_000)])):  # fmt: skip
            starts = "".join(f"{s - 1 + shift}," for s, _ in exons)
            ends = "".join(f"{e + shift}," for _, e in exons)
            span = f"{exons[0][0] - 1 + shift}\t{exons[-1][1] + shift}"
            splice.append(f"{build}\t{name}\tZ\t{strand}\t{span}\t{starts}\t{ends}")
    (folder / "spliceai_annotations.tsv").write_text(
        "#source: test\nbuild\tNAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n" + "\n".join(splice) + "\n"
    )
    repeats = [(s, s + 300) for s in range(60_000, 560_000, 7_000)]
    for build, shift in (("GRCh38", 0), ("GRCh37", offset37)):
        (folder / f"repeatmasker_{build}.bed").write_text(
            "".join(f"chrZ\t{s + shift}\t{e + shift}\n" for s, e in repeats)
        )
        (folder / f"encode_blacklist_v2_{build}.bed").write_text(f"chrZ\t{480_000 + shift}\t{490_000 + shift}\n")
    snps = "".join(f"rs{i}\tchrZ\t{p}\t{p + offset37}\n" for i, p in enumerate(range(50_000, 560_000, 9_000)))
    (folder / "common_snps.tsv").write_text("rsid\tchrom\tpos_grch38\tpos_grch37\n" + snps)


TABLE_HEAD = (
    "disease\tgene\tsources\tgenes\tfirst_exon\tprotein_length\tcds_start_grch38\tcds_end_grch38\trefseq\t"
    "protein_refseq\tensembl\tprotein_ensembl\tensembl_gene\tgrch38_length\tgrch38_accession\tgrch37_length\t"
    "grch37_accession\tknown\tmodel\tsynthetic_codons\n"
)


def _table(tmp_path: Path, **change: str) -> Path:
    row = {"disease": "Testosis", "gene": "GENEX", "sources": "sources/genex", "genes": "NEIGH,GENEX",
           "first_exon": "1", "protein_length": "5", "cds_start_grch38": "300095", "cds_end_grch38": "305002",
           "refseq": "NM_0.1", "protein_refseq": "NP_0.1", "ensembl": "ENST0.1", "protein_ensembl": "ENSP0.1",
           "ensembl_gene": "ENSG0.1", "grch38_length": "900000", "grch38_accession": "NC_Z.2",
           "grch37_length": "900005", "grch37_accession": "NC_Z.1", "known": "known.tsv", "model": "X.md",
           "synthetic_codons": "2:GCA"}  # fmt: skip
    row.update(change)
    path = tmp_path / "resources" / "windows.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# a test window\n" + TABLE_HEAD + "\t".join(row[k] for k in TABLE_HEAD.strip().split("\t")) + "\n")
    return path


def test_a_gene_is_a_resources_entry(tmp_path):
    """A gene no code names, on a contig no code names, + strand: one table row and its sources give a window
    folder the runtime Locus reads, with the model, neighbour, controls and the GRCh37 offset."""
    _write_sources(tmp_path / "resources" / "sources" / "genex")
    table = _table(tmp_path)
    written = build_windows(table.parent, tmp_path / "out", table)
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [
        "GRCh38/windows/GENEX",
        "GRCh37/windows/GENEX",
    ]
    for build, shift in (("GRCh38", 0), ("GRCh37", 5)):
        locus = Locus.load(tmp_path / "out" / build / "windows" / "GENEX")  # a window folder reads as a locus
        assert (locus.target, locus.disease, locus.contigs) == ("GENEX", "Testosis", ["chrZ"])
        assert [g.name for g in locus.genes] == ["NEIGH", "GENEX"]
        genex = locus.gene("GENEX")
        assert [(e.number, e.start - shift, e.end - shift) for e in genex.exons] == [
            (1, 300_000, 300_100), (2, 303_000, 303_008), (3, 305_000, 306_000)]  # fmt: skip
        assert [(c.start - shift, c.end - shift) for c in genex.cds] == [
            (300_095, 300_100), (303_000, 303_008), (305_000, 305_002)]  # fmt: skip
        assert locus.windows[0].start == 300_000 + shift - 216_000 and locus.controls
        tx = load_transcript(tmp_path / "out" / build / "windows" / "GENEX" / "genex.gff3")
        assert tx.c_to_genomic("c.1") == 300_095 + shift and tx.cds_length == 18
    # merged into the builds as a differential diagnosis (a copy of the shipped folders)
    for build in ("GRCh38", "GRCh37", "SYNTH"):
        shutil.copytree(RESOURCES / build, tmp_path / "out" / build, dirs_exist_ok=True)
    merge_windows(tmp_path / "out", written, table)
    assert not (tmp_path / "out" / "GRCh38" / "windows").exists()
    for build, start in (("GRCh38", 300_095), ("GRCh37", 300_100), ("SYNTH", 300_095 - 84_000 + 100_000)):
        locus = Locus.load(tmp_path / "out" / build)
        assert locus.meta["differential"][-1]["disease"] == "Testosis" and locus.gene("GENEX").chrom == "chrZ"
        tx = load_transcript(tmp_path / "out" / build / "genex.gff3")
        assert tx.c_to_genomic("c.1") == start, build
    assert Locus.load(tmp_path / "out" / "GRCh38").accession("chrZ") == "NC_Z.2"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"protein_length": "4"}, "no GENCODE CDS runs"),  # the CDS is 18 nt = 5 codons + stop, not 4
        ({"cds_start_grch38": "300096"}, "no GENCODE CDS runs"),
        ({"first_exon": "2"}, "c.1 in exon 2"),
        ({"genes": "GENEX,FAR"}, "FAR"),
    ],
)
def test_a_row_that_disagrees_with_its_sources_is_refused(tmp_path, change, message):
    _write_sources(tmp_path / "resources" / "sources" / "genex")
    table = _table(tmp_path, **change)
    with pytest.raises((ValueError, KeyError), match=message):
        build_windows(table.parent, tmp_path / "out", table)


def test_grch37_needs_one_offset_over_the_window(tmp_path):
    folder = tmp_path / "resources" / "sources" / "genex"
    _write_sources(folder)
    lines = (folder / "common_snps.tsv").read_text().splitlines()
    rsid, chrom, p38, p37 = lines[20].split("\t")  # a SNP inside the window that moves by one base more
    lines[20] = "\t".join([rsid, chrom, p38, str(int(p37) + 1)])
    (folder / "common_snps.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="not one offset"):
        build_windows(tmp_path / "resources", tmp_path / "out", _table(tmp_path))


def test_the_start_codon_row_must_open_the_cds(tmp_path):
    folder = tmp_path / "resources" / "sources" / "genex"
    _write_sources(folder)
    row = "start_codons\tGENEX\t+\tprotein_coding\t2\tHAVANA\tchrZ\t{}\t{}"
    text = (folder / "gencode_models_hg38.tsv").read_text()
    assert row.format(300_095, 300_097) in text
    text = text.replace(row.format(300_095, 300_097), row.format(300_098, 300_100))
    (folder / "gencode_models_hg38.tsv").write_text(text)
    with pytest.raises(ValueError, match="start/stop codon"):
        build_windows(tmp_path / "resources", tmp_path / "out", _table(tmp_path))


def test_the_cds_must_be_contiguous_on_the_spliced_transcript(tmp_path):
    """A CDS that stops short of its exon's end before the next exon: GENCODE rows that cannot be one mRNA."""
    folder = tmp_path / "resources" / "sources" / "genex"
    _write_sources(folder)
    row = "exons\tGENEX\t+\tprotein_coding\t2\tHAVANA\tchrZ\t{}\t{}"
    text = (folder / "gencode_models_hg38.tsv").read_text()
    assert row.format(303_000, 303_008) in text
    (folder / "gencode_models_hg38.tsv").write_text(
        text.replace(row.format(303_000, 303_008), row.format(303_000, 303_010))
    )
    with pytest.raises(ValueError, match="not contiguous"):
        build_windows(tmp_path / "resources", tmp_path / "out", _table(tmp_path))


def test_gencode_rows_group_into_transcripts(tmp_path):
    models = RESOURCES / "sources" / "lpin2" / "gencode_models_hg38.tsv"
    _chrom, strand, transcripts, codons = gencode_transcripts(models, "LPIN2")
    assert strand == "-" and len(transcripts) == 9 and sum(bool(t.cds) for t in transcripts) == 8
    assert (2_960_838, 2_960_840) in codons["start_codons"]
    bad = tmp_path / "models.tsv"
    shutil.copy(models, bad)
    text = bad.read_text().splitlines()
    del text[1]  # one transcript row fewer than the exon groups
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="do not group"):
        gencode_transcripts(bad, "LPIN2")
