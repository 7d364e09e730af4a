"""Build the per-build locus resources (GFF3, BEDs, gene/exon tables) from the audited source tables.

The source tables live in ``shared/locus`` (MANE v1.0 rows, GENCODE models, SpliceAI exon tables, FACTS.md).
Every coordinate the workflow uses is written by this module into ``resources/<build>/``; no other module
holds a coordinate. Re-run ``dira-genotyper build-resources`` to regenerate and diff the result to audit it.

Build parameters that are not in the tables (chromosome lengths, the GRCh37 offset, the synthetic test
build's offset) are stated in :data:`BUILD_PARAMETERS` with their source.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dira_devtools.resources.sources import (
    DIFFERENTIAL_TABLE,
    ManeTranscript,
    all_il1rn_exons,
    check_grch37_exons,
    cluster_genes,
    differential_mane_grch38,
    il1rn_mane_grch38,
    read_differential,
)
from dira_genotyper.locus import TARGET_DISEASE, Gene, Interval, merge, read_bed

FLANK_BP = 216_000  # extraction window flank around IL1A..IL1RN (issue: >= 200 kb each side)
CONTROL_EXCLUSION_BP = 20_000  # control regions stay this far from the first/last cluster gene
TARGET_PAD_BP = 20  # calling targets: exons +/- 20 bp
# Control regions (depth normalisation) are picked, per build, from the part of the extraction window that is
# >= CONTROL_EXCLUSION_BP from every cluster gene (IL1A..PAX8), outside the ENCODE blacklist (+ a margin), in
# tiles of CONTROL_TILE_BP whose RepeatMasker share is <= CONTROL_MAX_REPEAT_FRACTION. Why: the old right-hand
# flank (GRCh38 113.30-113.35 Mb) lies inside the blacklisted chr2:113,302,425-113,684,323 and a region with
# anomalous coverage is a poor depth control; about half of the window is repeat sequence, whose reads come
# with low MAPQ in real data and would pull the control depth down. Tiles that qualify are merged.
CONTROL_TILE_BP = 10_000
CONTROL_MAX_REPEAT_FRACTION = 0.5
BLACKLIST_MARGIN_BP = 5_000
REPEATMASKER = {
    "GRCh38": "repeatmasker_GRCh38_chr2_IL1_window.bed",
    "GRCh37": "repeatmasker_GRCh37_chr2_IL1_window.bed",
}
BLACKLIST_GRCH38 = "encode_blacklist_v2_GRCh38_chr2_112-114Mb.bed"

BUILD_PARAMETERS = {
    "GRCh38": {
        "chr2_length": 242_193_529,  # FACTS.md
        "chr2_accession": "NC_000002.12",  # RefSeq GRCh38 chr2 (HGVS g. names)
        "source": "MANE v1.0 (GRCh38) + GENCODE models (hg38) + SpliceAI grch38 exon table",
    },
    "GRCh37": {
        "chr2_length": 243_199_373,  # FACTS.md
        "chr2_accession": "NC_000002.11",  # RefSeq GRCh37 chr2 (HGVS g. names)
        "mane_offset_from_grch38": 757_577,  # FACTS.md: GRCh37 = GRCh38 + 757,577 on all four IL1RN exons
        "source": "GENCODE models (hg19) + SpliceAI grch37 exon table; IL1RN MANE = GRCh38 + 757,577",
    },
    "SYNTH": {
        # Synthetic test build: GRCh38 window shifted to start near 100 kb on a 1 Mb contig named chr2.
        "grch38_offset": 112_450_000,
        "chr2_length": 1_000_000,
        "control_contig": "ctrl",
        "control_length": 200_000,
        "source": "GRCh38 resources shifted by -112,450,000 (synthetic test reference only)",
    },
}


def write_bed(path: Path, intervals: list[Interval]) -> None:
    with open(path, "w") as out:
        for iv in sorted(intervals, key=lambda i: (i.chrom, i.start)):
            out.write(f"{iv.chrom}\t{iv.start - 1}\t{iv.end}\t{iv.name}\n")


def problem_regions(source: Path, build: str) -> tuple[list[Interval], list[Interval]]:
    """(blacklist, RepeatMasker) intervals of a build, 1-based inclusive.

    GRCh37 has no blacklist table in the source: the GRCh38 ENCODE v2 intervals are moved by the constant
    GRCh37 offset, which holds for every RepeatMasker interval of chr2:112.4-113.5 Mb (FACTS.md) but is not
    verified beyond it (the blacklist interval reaches 113.68 Mb).
    """
    data = source / "data"
    blacklist = read_bed(data / BLACKLIST_GRCH38)
    repeats = read_bed(data / REPEATMASKER[build])
    if build == "GRCh37":
        blacklist = [iv.shifted(BUILD_PARAMETERS["GRCh37"]["mane_offset_from_grch38"]) for iv in blacklist]
    return (
        [Interval(iv.chrom, iv.start, iv.end, "blacklist") for iv in blacklist],
        [Interval(iv.chrom, iv.start, iv.end, "repeat") for iv in merge(repeats)],
    )


def _covered(intervals: list[Interval], chrom: str, start: int, end: int) -> int:
    """Bases of 1-based [start, end] covered by `intervals` (merged: non-overlapping)."""
    return sum(max(0, min(end, iv.end) - max(start, iv.start) + 1) for iv in intervals if iv.chrom == chrom)


def choose_controls(
    window: Interval,
    genes: list[Gene],
    blacklist: list[Interval],
    repeats: list[Interval],
) -> tuple[list[Interval], list[dict]]:
    """Control regions of one build and a record of every tile considered (for build.json).

    Candidates: the window left of the first cluster gene and right of the last (each kept
    CONTROL_EXCLUSION_BP away, so a long deletion is not normalised away) minus the blacklist +/-
    BLACKLIST_MARGIN_BP; tiled from the side far from the cluster; a whole tile qualifies when at most
    CONTROL_MAX_REPEAT_FRACTION of it is RepeatMasker sequence. Qualifying neighbours are merged.
    """
    lo_gene, hi_gene = min(g.start for g in genes), max(g.end for g in genes)
    sides = [
        ("flank_left", window.start, lo_gene - CONTROL_EXCLUSION_BP - 1),
        ("flank_right", hi_gene + CONTROL_EXCLUSION_BP, window.end),
    ]
    bad = merge(
        [
            Interval(b.chrom, b.start - BLACKLIST_MARGIN_BP, b.end + BLACKLIST_MARGIN_BP)
            for b in blacklist
            if b.chrom == window.chrom
        ]
    )
    chosen: list[Interval] = []
    record: list[dict] = []
    for name, start, end in sides:
        pieces = [(start, end)]
        for b in bad:
            pieces = [p for s, e in pieces for p in ((s, min(e, b.start - 1)), (max(s, b.end + 1), e)) if p[1] >= p[0]]
        for s, e in pieces:
            for t in range(s, e - CONTROL_TILE_BP + 2, CONTROL_TILE_BP):
                tile = Interval(window.chrom, t, t + CONTROL_TILE_BP - 1, name)
                share = _covered(repeats, tile.chrom, tile.start, tile.end) / CONTROL_TILE_BP
                ok = share <= CONTROL_MAX_REPEAT_FRACTION
                record.append({"start": tile.start, "end": tile.end, "repeat_fraction": round(share, 3), "used": ok})
                if ok:
                    chosen.append(tile)
    return merge(chosen, join_names=True), record


def write_gff3(path: Path, tx: ManeTranscript) -> None:
    """Ensembl-style GFF3 as `bcftools csq` expects (ID=gene:..., ID=transcript:..., biotype, CDS phase)."""
    gene_id, tx_id = tx.ensembl_gene.split(".")[0], tx.ensembl.split(".")[0]
    lines = ["##gff-version 3"]
    start, end = tx.exons[0][0], tx.exons[-1][1]
    lines.append(
        f"{tx.chrom}\tdira-genotyper\tgene\t{start}\t{end}\t.\t{tx.strand}\t.\t"
        f"ID=gene:{gene_id};Name={tx.gene};biotype=protein_coding;gene_id={gene_id}"
    )
    lines.append(
        f"{tx.chrom}\tdira-genotyper\tmRNA\t{start}\t{end}\t.\t{tx.strand}\t.\t"
        f"ID=transcript:{tx_id};Parent=gene:{gene_id};Name={tx.gene}-MANE;biotype=protein_coding;"
        f"transcript_id={tx_id};refseq={tx.refseq};ensembl_version={tx.ensembl};"
        f"protein_refseq={tx.protein_refseq};protein_ensembl={tx.protein_ensembl};tag=MANE_Select"
    )
    for number, (s, e) in enumerate(_in_transcript_order(tx.exons, tx.strand), start=tx.first_exon):
        lines.append(
            f"{tx.chrom}\tdira-genotyper\texon\t{s}\t{e}\t.\t{tx.strand}\t.\t"
            f"Parent=transcript:{tx_id};Name={tx_id}.exon{number};exon_number={number}"
        )
    done = 0
    for s, e in _in_transcript_order(tx.cds, tx.strand):
        phase = (3 - done % 3) % 3
        lines.append(
            f"{tx.chrom}\tdira-genotyper\tCDS\t{s}\t{e}\t.\t{tx.strand}\t{phase}\t"
            f"ID=CDS:{tx_id};Parent=transcript:{tx_id}"
        )
        done += e - s + 1
    cds_start, cds_end = tx.cds[0][0], tx.cds[-1][1]
    for s, e in tx.exons:
        for utr_s, utr_e, kind in _utr_pieces(s, e, cds_start, cds_end, tx.strand):
            lines.append(
                f"{tx.chrom}\tdira-genotyper\t{kind}\t{utr_s}\t{utr_e}\t.\t{tx.strand}\t.\tParent=transcript:{tx_id}"
            )
    path.write_text("\n".join(lines) + "\n")


def _in_transcript_order(segments: list[tuple[int, int]], strand: str) -> list[tuple[int, int]]:
    return list(segments) if strand == "+" else list(reversed(segments))


def _utr_pieces(s: int, e: int, cds_start: int, cds_end: int, strand: str) -> list[tuple[int, int, str]]:
    left = "five_prime_UTR" if strand == "+" else "three_prime_UTR"
    right = "three_prime_UTR" if strand == "+" else "five_prime_UTR"
    pieces = []
    if s < cds_start:
        pieces.append((s, min(e, cds_start - 1), left))
    if e > cds_end:
        pieces.append((max(s, cds_end + 1), e, right))
    return pieces


def transcript_record(tx: ManeTranscript) -> dict:
    """build.json's ``transcript`` of a gene of record: its MANE accessions."""
    return {
        "gene": tx.gene,
        "refseq": tx.refseq,
        "ensembl": tx.ensembl,
        "protein_refseq": tx.protein_refseq,
        "protein_ensembl": tx.protein_ensembl,
    }


def controls_record(
    window: Interval, flanks: list[Interval], tiles: list[dict], repeats: list[Interval], genes_word: str
) -> dict:
    """build.json's ``controls``: why and by which rule the control regions were chosen, the regions, the tiles
    tried and the window's repeat share (``genes_word`` names the genes they keep away from)."""
    return {
        "why": "outside the ENCODE blacklist and low in repeats: blacklisted or repeat-rich sequence has "
        "anomalous, low-MAPQ coverage in real data and is a poor depth control",
        "rule": f"window >= {CONTROL_EXCLUSION_BP} bp from every {genes_word}, outside blacklist "
        f"+/- {BLACKLIST_MARGIN_BP} bp, {CONTROL_TILE_BP} bp tiles with RepeatMasker share <= "
        f"{CONTROL_MAX_REPEAT_FRACTION}",
        "regions": [{"chrom": c.chrom, "start": c.start, "end": c.end, "name": c.name} for c in flanks],
        "tiles": tiles,
        "repeat_fraction_of_window": round(
            _covered(repeats, window.chrom, window.start, window.end) / (window.end - window.start + 1), 3
        ),
    }


def write_gene_tables(out: Path, genes: list[Gene]) -> None:
    """genes.tsv and exons.tsv (1-based inclusive), genes in the order given."""
    with open(out / "genes.tsv", "w") as handle:
        handle.write("gene\tchrom\tstart\tend\tstrand\ttranscript\n")
        for g in genes:
            handle.write(f"{g.name}\t{g.chrom}\t{g.start}\t{g.end}\t{g.strand}\t{g.transcript}\n")
    with open(out / "exons.tsv", "w") as handle:
        handle.write("gene\texon\tchrom\tstart\tend\n")
        for g in genes:
            for exon in g.exons:
                handle.write(f"{g.name}\t{exon.number}\t{g.chrom}\t{exon.start}\t{exon.end}\n")


def _write_tables(
    out: Path,
    build: str,
    chrom_len: int,
    tx: ManeTranscript,
    genes: list[Gene],
    il1rn_exons: list[tuple[int, int]],
    extra_controls: list[Interval],
    problems: tuple[list[Interval], list[Interval]],
    differential: list[tuple[dict[str, str], ManeTranscript]] = (),
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    first, last = min(g.start for g in genes if g.name != "PSD4" and g.name != "PAX8"), tx.exons[-1][1]
    window = Interval("chr2", first - FLANK_BP, last + FLANK_BP, "extraction_window")
    write_bed(out / "window.bed", [window, *extra_controls])
    blacklist, repeats = problems
    # Controls stop short of PSD4/PAX8 too, so a long deletion running past IL1RN is not normalised away.
    flanks, tiles = choose_controls(window, genes, blacklist, repeats)
    write_bed(out / "controls.bed", [*flanks, *extra_controls])
    # Mask: blacklist + RepeatMasker intervals over the window (cnv.py keeps bins dominated by them out of
    # the copy-number evidence and the normalisation controls).
    near = [iv for iv in (*blacklist, *repeats) if iv.chrom == window.chrom and iv.end >= 1 and iv.start <= chrom_len]
    write_bed(out / "mask.bed", [Interval(iv.chrom, max(1, iv.start), min(chrom_len, iv.end), iv.name) for iv in near])
    numbered = _in_transcript_order(tx.exons, tx.strand)
    targets = [
        Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"IL1RN_MANE_exon{numbered.index((s, e)) + 1}")
        for s, e in tx.exons
    ]
    targets += [Interval("chr2", s - TARGET_PAD_BP, e + TARGET_PAD_BP, "IL1RN_GENCODE_exon") for s, e in il1rn_exons]
    cds_rows = [Interval("chr2", s, e, f"IL1RN_CDS_exon{i}") for i, (s, e) in enumerate(tx.cds, start=1)]
    for _row, dtx in differential:
        numbered_d = _in_transcript_order(dtx.exons, dtx.strand)
        number = {ex: i for i, ex in enumerate(numbered_d, start=dtx.first_exon)}
        targets += [Interval(dtx.chrom, s - TARGET_PAD_BP, e + TARGET_PAD_BP, f"{dtx.gene}_MANE_exon{number[(s, e)]}")
                    for s, e in dtx.exons]  # fmt: skip
        for cs, ce in dtx.cds:
            holder = next(ex for ex in dtx.exons if ex[0] <= cs and ce <= ex[1])
            cds_rows.append(Interval(dtx.chrom, cs, ce, f"{dtx.gene}_CDS_exon{number[holder]}"))
        write_gff3(out / f"{dtx.gene.lower()}.gff3", dtx)
    write_bed(out / "targets.bed", merge(targets, join_names=True))
    write_bed(out / "cds.bed", cds_rows)
    write_gff3(out / "il1rn.gff3", tx)
    write_gene_tables(out, genes)
    meta = {
        "build": build,
        "disease": TARGET_DISEASE,
        "locus_contig": "chr2",
        "locus_contig_length": chrom_len,
        # HGVS g. names: the versioned RefSeq chromosome; the synthetic build keeps its contig name
        "locus_contig_accession": BUILD_PARAMETERS[build].get("chr2_accession", "chr2"),
        "window": {"chrom": window.chrom, "start": window.start, "end": window.end},
        "transcript": transcript_record(tx),
        "extra_contigs": {c.chrom: None for c in extra_controls},
        "differential": [
            {
                "disease": row["disease"],
                "gene": dtx.gene,
                "gff3": f"{dtx.gene.lower()}.gff3",
                "known": row["known"],
                "model": row["model"],
                "transcript": transcript_record(dtx),
            }
            for row, dtx in differential
        ],
        "parameters": BUILD_PARAMETERS[build],
        "controls": controls_record(window, flanks, tiles, repeats, "cluster gene"),
        "mask": {
            "file": "mask.bed",
            "blacklist": "ENCODE blacklist v2 (GRCh38; GRCh37 moved by the GRCh37 offset, unverified)",
            "repeats": f"RepeatMasker ({REPEATMASKER[build] if build in REPEATMASKER else REPEATMASKER['GRCh38']})",
        },
    }
    (out / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def build_all(
    source: Path, out: Path, differential_table: Path = DIFFERENTIAL_TABLE, windows_table: Path | None = None
) -> list[Path]:
    """Write resources/GRCh38, resources/GRCh37 and resources/SYNTH from the source tables, and the further
    windows of ``windows_table`` (default resources/windows.tsv) into resources/<build>/windows/<gene>/."""
    from dira_devtools.resources.windows import WINDOWS_TABLE, build_windows, merge_windows  # it builds on this module

    tx38 = il1rn_mane_grch38(source)
    written = []
    diff38 = [(row, differential_mane_grch38(source, row)) for row in read_differential(differential_table)]
    # GRCh38
    genes38 = cluster_genes(source, "GRCh38", tx38, {d.gene: d for _, d in diff38})
    problems38 = problem_regions(source, "GRCh38")
    _write_tables(
        out / "GRCh38",
        "GRCh38",
        BUILD_PARAMETERS["GRCh38"]["chr2_length"],
        tx38,
        genes38,
        all_il1rn_exons(source, "GRCh38"),
        [],
        problems38,
        diff38,
    )
    written.append(out / "GRCh38")
    # GRCh37: IL1RN MANE by the documented offset; the cluster from the hg19 tables.
    offset37 = BUILD_PARAMETERS["GRCh37"]["mane_offset_from_grch38"]
    tx37 = tx38.shifted(offset37)
    diff37 = [(row, d.shifted(offset37)) for row, d in diff38]
    for _row, d in diff37:
        check_grch37_exons(source, d)
    genes37 = cluster_genes(source, "GRCh37", tx37, {d.gene: d for _, d in diff37})
    _write_tables(
        out / "GRCh37",
        "GRCh37",
        BUILD_PARAMETERS["GRCh37"]["chr2_length"],
        tx37,
        genes37,
        all_il1rn_exons(source, "GRCh37"),
        [],
        problem_regions(source, "GRCh37"),
        diff37,
    )
    written.append(out / "GRCh37")
    # SYNTH: GRCh38 shifted onto a 1 Mb contig, plus an unlinked control contig.
    synth = BUILD_PARAMETERS["SYNTH"]
    delta = -synth["grch38_offset"]
    ctrl = Interval(synth["control_contig"], 1_001, synth["control_length"] - 1_000, "unlinked_control")
    _write_tables(
        out / "SYNTH",
        "SYNTH",
        synth["chr2_length"],
        tx38.shifted(delta),
        [g.shifted(delta) for g in genes38],
        [(s + delta, e + delta) for s, e in all_il1rn_exons(source, "GRCh38")],
        [ctrl],
        tuple([iv.shifted(delta) for iv in ivs] for ivs in problems38),
        [(row, d.shifted(delta)) for row, d in diff38],
    )
    meta = json.loads((out / "SYNTH" / "build.json").read_text())
    meta["extra_contigs"] = {synth["control_contig"]: synth["control_length"]}
    (out / "SYNTH" / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(
        source / "data" / "il1rn-cds-for-synthetic-test-references.fa", out / "SYNTH" / "il1rn_cds_synthetic.fa"
    )
    for row, d in diff38:
        target = out / "SYNTH" / f"{d.gene.lower()}_cds_synthetic.fa"
        shutil.copyfile(differential_table.parent / row["synthetic_cds"], target)
    written.append(out / "SYNTH")
    windows_table = windows_table or WINDOWS_TABLE
    merge_windows(out, build_windows(windows_table.parent, out, windows_table), windows_table)
    return written
