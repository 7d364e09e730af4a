"""The sample classes of bench_status.py: two haplotypes of edits and the expected DIRA status per class.

Every coordinate is derived from the resources (``genes.tsv``, ``il1rn.gff3``) through the simulator's
public functions; the 175 kb cluster deletion and the IL1RN exon-3 deletion are those of
:func:`simulate.cohort_design`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pysam

from dira_devtools import simulate as sim

INTRON_DELETION = 1500  # bp, wholly inside IL1RN intron 1
INTRON_MARGIN = 100  # minimum distance (bp) from the deletion to an exon (clear of every splice region)
SPLICE_DELETION = 1200  # bp, intron 1 up to and including c.117-1 (the acceptor of exon 2)
DUP_FLANK = 1000  # bp of flank on each side of IL1RN in the tandem duplication


@dataclass(frozen=True)
class StatusClass:
    name: str
    truth: str  # affected | carrier | negative | inconclusive
    haplotypes: tuple[tuple[sim.Edit, ...], tuple[sim.Edit, ...]]
    what: str
    disease: str = "DIRA"  # whose status is the truth: the headline's, or a differential's (e.g. Majeed)


def intron1_deletion(resources_dir: str | Path) -> sim.Edit:
    """A ``INTRON_DELETION`` bp deletion centred in IL1RN intron 1 (MANE, transcript order), >= ``INTRON_MARGIN``
    bp from both exons; shortened if the intron is too small."""
    tx = sim.read_transcript(resources_dir)
    (s1, e1), (s2, e2) = tx.exons[0], tx.exons[1]
    lo, hi = (e1 + 1, s2 - 1) if tx.strand == "+" else (e2 + 1, s1 - 1)  # intron bases, genomic order
    room = hi - lo + 1 - 2 * INTRON_MARGIN
    if room < 200:
        raise ValueError(f"IL1RN intron 1 ({lo}-{hi}) is too short for an intron-only deletion")
    size = min(INTRON_DELETION, room)
    start = lo + (hi - lo + 1 - size) // 2
    end = start + size - 1
    name = f"c.{sim.genomic_to_hgvs_c(resources_dir, start)}_{sim.genomic_to_hgvs_c(resources_dir, end)}del"
    if tx.strand == "-":
        name = f"c.{sim.genomic_to_hgvs_c(resources_dir, end)}_{sim.genomic_to_hgvs_c(resources_dir, start)}del"
    return sim.deletion(tx.chrom, start, end, hgvs_c=name)


def acceptor_deletion(resources_dir: str | Path) -> sim.Edit:
    """A ``SPLICE_DELETION`` bp deletion of IL1RN intron 1 that ends at c.117-1: no coding base, but the acceptor
    of exon 2 (issue #19: was reported `carrier` with c.160C>T in trans; the exon is lost, so `affected`)."""
    tx = sim.read_transcript(resources_dir)
    s2, e2 = tx.exons[1]
    if tx.strand == "+":
        start, end = s2 - SPLICE_DELETION, s2 - 1
    else:
        start, end = e2 + 1, e2 + SPLICE_DELETION
    name = f"c.{sim.genomic_to_hgvs_c(resources_dir, start if tx.strand == '+' else end)}_117-1del"
    return sim.deletion(tx.chrom, start, end, hgvs_c=name)


def gene_duplication(resources_dir: str | Path, reference: str | Path) -> sim.Edit:
    """Tandem duplication of IL1RN +/- ``DUP_FLANK`` bp: the reference segment inserted right after itself."""
    genes = sim.read_genes(resources_dir)
    tx = sim.read_transcript(resources_dir)
    g = genes[tx.gene or "IL1RN"]
    start, end = g.start - DUP_FLANK, g.end + DUP_FLANK
    with pysam.FastaFile(str(reference)) as fa:
        seq = fa.fetch(g.chrom, start - 1, end).upper()
    return sim.insertion(g.chrom, end, seq, hgvs_c=f"{g.chrom}:g.{start}_{end}dup")


def exon_deletion(resources_dir: str | Path, gene: str, exon_index: int) -> sim.Edit:
    """A deletion of the ``exon_index``-th exon (transcript order, 0-based) of ``gene``'s MANE model with the
    intron flanks of the cohort's IL1RN exon-3 deletion (``EXON3_DELETION_FLANKS``, genomic order), clear of the
    neighbouring exons: the same size of event as the IL1RN class."""
    tx = sim.read_transcript(resources_dir, gene)
    s, e = tx.exons[exon_index]
    before, after = sim.EXON3_DELETION_FLANKS
    start, end = s - before, e + after
    for other in tx.exons:
        if other != (s, e) and other[0] <= end and start <= other[1]:
            raise ValueError(f"{gene} exon {exon_index}: the deletion's flanks reach another exon")
    return sim.deletion(tx.chrom, start, end)


def intron_deletion(resources_dir: str | Path, gene: str, intron_index: int) -> sim.Edit:
    """An ``INTRON_DELETION`` bp deletion centred in intron ``intron_index`` (transcript order, 0-based) of
    ``gene``, >= ``INTRON_MARGIN`` bp from both exons."""
    tx = sim.read_transcript(resources_dir, gene)
    a, b = sorted((tx.exons[intron_index], tx.exons[intron_index + 1]))
    lo, hi = a[1] + 1, b[0] - 1
    room = hi - lo + 1 - 2 * INTRON_MARGIN
    if room < 200:
        raise ValueError(f"{gene} intron {intron_index + 1} is too short for an intron-only deletion")
    size = min(INTRON_DELETION, room)
    start = lo + (hi - lo + 1 - size) // 2
    return sim.deletion(tx.chrom, start, start + size - 1)


def differential_classes(resources_dir: str | Path) -> list[StatusClass]:
    """The classes of a further window's gene (issue #23: LPIN2, Majeed syndrome), judged on its differential
    status: the published alleles of ``resources/known_majeed_variants.tsv`` and depth-called deletions, on
    another chromosome than IL1RN."""
    genes = dict(zip(sim.differential_diseases(resources_dir), sim.differential_genes(resources_dir), strict=True))
    gene = genes.get("Majeed")
    if gene is None:
        return []
    s386x = sim.edit_from_hgvs(resources_dir, "c.1157C>G", gene)  # p.(Ser386*), exon 9
    s734l = sim.edit_from_hgvs(resources_dir, "c.2201C>T", gene)  # p.(Ser734Leu), exon 17 (S734L)
    fs = sim.edit_from_hgvs(resources_dir, "c.540_541del", gene)  # p.(Cys181*), exon 4
    exdel = exon_deletion(resources_dir, gene, 4)  # the model's 5th exon (exon 6), out of frame or not: PVS1
    tx = sim.read_transcript(resources_dir, gene)
    gaps = [max(a[0], b[0]) - min(a[1], b[1]) for a, b in zip(tx.exons, tx.exons[1:], strict=False)]
    intron = intron_deletion(resources_dir, gene, gaps.index(max(gaps)))  # in the longest intron
    c = StatusClass
    m = "Majeed"
    return [
        c("lpin2_het_S386X", "carrier", ((s386x,), ()), f"{gene} heterozygous c.1157C>G", m),
        c("lpin2_hom_S734L", "affected", ((s734l,), (s734l,)), f"{gene} homozygous c.2201C>T (S734L)", m),
        c("lpin2_S386X+fs", "inconclusive", ((s386x,), (fs,)), f"{gene} c.1157C>G / c.540_541del, unphased", m),
        c("lpin2_exon_del_hom", "affected", ((exdel,), (exdel,)), f"{gene} homozygous exon deletion", m),
        c("lpin2_exon_del+S734L", "inconclusive", ((exdel,), (s734l,)), f"{gene} exon deletion / c.2201C>T", m),
        c("lpin2_intron_del", "negative", ((intron,), ()), f"{gene} heterozygous intron-only deletion", m),
    ]


def status_classes(resources_dir: str | Path, reference: str | Path) -> list[StatusClass]:
    design = sim.cohort_design(resources_dir)
    big, exdel = design.whole_deletion, design.exon3_deletion
    q54x = sim.edit_from_hgvs(resources_dir, "c.160C>T")
    e77x = sim.edit_from_hgvs(resources_dir, "c.229G>T")
    del15 = sim.edit_from_hgvs(resources_dir, "c.213_227del")
    fs = sim.edit_from_hgvs(resources_dir, "c.156_157del")
    intron = intron1_deletion(resources_dir)
    acceptor = acceptor_deletion(resources_dir)
    dup = gene_duplication(resources_dir, reference)
    kb = big.ref_length / 1000
    c = StatusClass
    return [
        c("normal", "negative", ((), ()), "reference genotype"),
        c("het_Q54X", "carrier", ((q54x,), ()), "heterozygous c.160C>T"),
        c("del175_het", "carrier", ((big,), ()), f"heterozygous {kb:.0f} kb cluster deletion"),
        c("del175+E77X", "affected", ((big,), (e77x,)), "175 kb deletion / c.229G>T"),
        c("del175+del15", "affected", ((big,), (del15,)), "175 kb deletion / c.213_227del"),
        c("del175+fs", "affected", ((big,), (fs,)), "175 kb deletion / c.156_157del"),
        c("intron_del", "negative", ((intron,), ()), f"heterozygous {intron.hgvs_c} ({intron.ref_length} bp)"),
        c("intron_del+Q54X", "carrier", ((intron,), (q54x,)), f"{intron.hgvs_c} / c.160C>T"),
        # in trans, but nothing phases a copy-number deletion with an SNV without parents: presumed biallelic,
        # inconclusive (docs/interpretation.md decision table rows 7 and 9); never `carrier` (issue #19)
        c("acceptor_del+Q54X", "inconclusive", ((acceptor,), (q54x,)), f"{acceptor.hgvs_c} / c.160C>T"),
        c("exon3_del+Q54X", "inconclusive", ((exdel,), (q54x,)), f"{exdel.hgvs_c} / c.160C>T"),
        c("dup_IL1RN", "inconclusive", ((dup,), ()), f"heterozygous tandem {dup.hgvs_c} ({len(dup.alt)} bp)"),
        c("hom_E77X", "affected", ((e77x,), (e77x,)), "homozygous c.229G>T"),
        *differential_classes(resources_dir),
    ]
