"""Benchmark of SNV/indel calling and naming in IL1RN and the build's differential genes (IL36RN, LPIN2).

(simulate -> bwa -> callable -> call -> annotate.) IL1RN (DIRA) is the target; the differential genes of the build
(``build.json`` ``differential``: IL36RN/DITRA, resources/SYNTH/il36rn.gff3, MANE NM_012275.3 exons 2-5, + strand;
LPIN2/Majeed, resources/SYNTH/lpin2.gff3, MANE NM_001375808.2 exons 2-20, - strand on ``chr18``) are benchmarked
the same way, in the same samples: each design carries alleles planted in every gene's CDS exons +/- 20 bp, each
gene from its own random stream (IL1RN's designs are the ones of the IL1RN-only benchmark; IL36RN adds c.80T>C,
c.338C>T, c.28C>T, c.142C>T, c.368C>T; a differential gene without a fixed plan in KNOWN_PLANS gets the small
alleles of its known-allele table spread over the first 4 designs, hom and het in turn: LPIN2 c.2201C>T,
c.540_541del, c.2327+1G>C, c.1312_1313del, c.1550G>A, c.2207G>A, c.1157C>G, placed by this file's own c.
numbering), with reads simulated from a slice per gene (``chr2_slice``, ``chr2_il36rn_slice``,
``chr18_lpin2_slice``). ``annotate_vcf`` is given the differential genes (``annotate.differential_genes``), so each
allele is named on its nearest transcript; truth alleles count for the gene they were planted in, calls for the gene
they were named on, and every figure is printed per gene (a ``gene`` column; each differential gene's
recall/precision are compared with IL1RN's). ``--genes IL1RN`` runs IL1RN alone, ``--genes IL1RN,LPIN2`` two genes.

Plants SNVs and 1-20 bp indels (frameshifting 1-2 bp deletions/insertions/duplications, in-frame 3/6/15 bp
deletions such as c.213_227del, other 3-20 bp insertions, duplications and deletions), heterozygous and
homozygous, in every MANE CDS exon of IL1RN and its splice region (+/- 20 bp), including the published
c.160C>T and c.229G>T. Variants of one sample are >= 60 bp apart (counted between their left-aligned and
3'-shifted extents), and an indel is >= 150 bp (one read length, ``--indel-gap``) from any other variant:
bcftools realigns the reads around a candidate indel against a haplotype carrying that indel only, so a
second indel in cis on the same reads (seen at 64 bp) lowers their indel quality and can lose the call.
Several samples ("designs") per depth give enough variants.

Each design is simulated WGS-like at 10x, 20x, 30x and 60x with :func:`simulate.simulate_sample` on a slice
of the synthetic reference around IL1RN (contig ``chr2_slice``: reads are drawn only there, which keeps the
run small; they are aligned with :func:`simulate.align_to_bam` to the whole synthetic reference, so the
BAM has the real SYNTH coordinates), then run through the workflow's steps with default parameters:
``extract_locus`` (window + controls), ``callable_report`` (callable defaults of the config schema),
``call_variants`` (default :class:`CallingParams`, uncallable intervals given) and ``annotate_vcf``.

Each design also carries a background genome (``simulate.make_population``: common SNVs and 1-4 bp indels, ~1
heterozygous SNV per 1.3 kb, IL1RN intron-2 VNTR alleles) in the slices (a variant only in a slice of its own
contig), >= ``GAP`` bp (``--indel-gap`` for indels) from the planted alleles of that contig;
``--no-background`` leaves it out. Background variants are truth, never FPs;
those in the called regions (``targets.bed``: UTRs, other isoforms' exons, intronic flanks beyond the CDS
+/- 10 bp the population avoids) are counted apart (PASS, right genotype) and not in the tables.

Calls are compared on (chrom, pos, ref, alt) with the truth in the left-aligned VCF form of
:func:`simulate.normalize_vcf`. A PASS call matching a truth allele is a TP; a truth allele without a PASS
call is a FN (with the filters of a non-PASS call shown); a PASS call matching nothing is a FP. Truth
alleles overlapping an interval that ``callable_report`` reports uncallable are no-calls: not counted as
FN, reported separately. Genotype concordance is over TPs (het/hom).

HGVS names: the expected c. names are computed here, independently of :mod:`dira_genotyper.annotation.hgvs` and
:mod:`dira_genotyper.annotation.transcript` (own GFF3 parser and coordinate mapping on either strand, own 3'
shifting by comparing sequence: the 3'-most placement on the transcript, i.e. the left-most genomic one for a -
strand gene; own dup detection on the transcript's 5' side; tests/unit/benchmark/test_bench_snv_names.py checks
it on a toy - strand gene and its + strand mirror). The check is restricted to unambiguous alleles: an indel whose
equivalent placements (from left-aligned to 3'-shifted) cross an exon/intron or CDS/UTR boundary is counted as
"not checked", since the HGVS exception at exon/intron borders makes its name convention-dependent.
Expected p. names (``p.(Gln54*)`` style, ``fs*N``) are computed for alleles wholly inside the CDS, not
touching the start or stop codon; others (intronic, UTR, junction-spanning) are "not checked". Names are
checked both on the TPs per depth and on a truth VCF of all planted alleles. When ``annotate_vcf`` raises,
the alleles it fails on are listed ("annotate_vcf errors") and the sample's other alleles are annotated
without them. The consequence terms are also compared with bcftools csq (BCSQ, informative only).

Each sample runs in a fresh process with htslib's messages in ``{out}/samples/{sample}/{sample}.log``.

    python tests/benchmark/bench_snv.py              # full run: >= 600 SNVs, >= 360 indels per depth (~5 min)
    python tests/benchmark/bench_snv.py --quick      # >= 100 SNVs, >= 60 indels per gene and depth (28 samples
                                                     # per depth, ~11 min with three genes on 2 busy cores)
    python tests/benchmark/bench_snv.py --seed 7 --out /tmp/bench-snv
    python tests/benchmark/bench_snv.py --quick --designs 8   # a smaller run: at most 8 designs (samples per depth)

Needs bwa (Debian package). Exits 1 with ``--strict`` when a goal at >= 20x is not met.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam
import yaml

from dira_devtools import simulate as sim
from dira_genotyper.alignment.locus_bam import extract_locus
from dira_genotyper.annotation.annotate import annotate_vcf, differential_genes
from dira_genotyper.annotation.hgvs import describe_variant
from dira_genotyper.annotation.sources import bcsq_consequences
from dira_genotyper.annotation.transcript import load_transcript
from dira_genotyper.calling.callable_regions import callable_report, read_uncallable
from dira_genotyper.calling.caller import CallingParams, call_variants
from dira_genotyper.locus import read_bed

ROOT = Path(__file__).resolve().parents[2]
RES = ROOT / "resources" / "SYNTH"
KNOWN = ROOT / "resources" / "known_dira_variants.tsv"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

TARGETS = [iv.bed() for iv in read_bed(RES / "targets.bed")]  # the called regions (0-based half-open)
DEPTHS = (10, 20, 30, 60)
SPLICE_PAD = 20  # planted variants: CDS exons +/- this many bp
GAP = 60  # minimum distance between the extents of two variants of one sample
INDEL_GAP = 150  # ... when one of them is an indel (one read length; see the module doc)
SLICE_FLANK = 3000  # reads are simulated from the planting regions +/- this many bp
SLICE_CONTIG = "chr2_slice"  # IL1RN's slice (the name the IL1RN-only benchmark used)
BUILD = json.loads((RES / "build.json").read_text())
# the target gene, then the differential genes of the build (IL36RN/DITRA, LPIN2/Majeed, ...), in build.json's order
DIFFERENTIAL = {d["gene"]: d for d in BUILD.get("differential", [])}
GENES = ("IL1RN", *DIFFERENTIAL)
GFF3 = {"IL1RN": RES / "il1rn.gff3", **{g: RES / d["gff3"] for g, d in DIFFERENTIAL.items()}}


def _gff3_chrom(gff3: Path) -> str:
    return next(line.split("\t")[0] for line in gff3.read_text().splitlines() if line and line[0] != "#")


# one slice contig per gene, named after the gene's contig (IL1RN's keeps the name of the IL1RN-only benchmark)
SLICE_CONTIGS = {g: SLICE_CONTIG if g == "IL1RN" else f"{_gff3_chrom(p)}_{g.lower()}_slice" for g, p in GFF3.items()}
CLASSES = ("SNV", "indel 1-2 bp", "indel 3-20 bp")
P_SNV, P_SMALL = 0.55, 0.225  # the rest are 3-20 bp indels
P_HOM = 0.4
INFRAME_SIZES = (3, 6, 15)
# published alleles, planted at their own position in the first designs (name, zygosity)
KNOWN_PLAN = (
    (("c.160C>T", "hom"), ("c.229G>T", "het")),
    (("c.213_227del", "het"), ("c.160C>T", "het")),
    (("c.213_227del", "hom"),),
    (("c.229G>T", "hom"),),
)
# published DITRA alleles of IL36RN (resources/known_ditra_variants.tsv), planted the same way in the same samples
KNOWN_PLAN_IL36RN = (
    (("c.80T>C", "hom"),),
    (("c.80T>C", "het"), ("c.338C>T", "het")),
    (("c.28C>T", "het"), ("c.142C>T", "hom")),
    (("c.368C>T", "hom"),),
)
# fixed plans (the designs of earlier figures); a differential gene without one gets a plan from its known-allele table
KNOWN_PLANS = {"IL1RN": KNOWN_PLAN, "IL36RN": KNOWN_PLAN_IL36RN}
KNOWN_DESIGNS = 4  # designs that carry published alleles (a derived plan spreads a table's alleles over these)
SEED_SHIFT = {g: 2 * i for i, g in enumerate(GENES)}  # design rng seed + this; haplotype rng seed + this + 1
BACKGROUND_SEED_SHIFT = 12  # background genomes: rng seed + this (the value of the two-gene benchmark)
GOAL_DEPTH = 20
ATTEMPTS = 400  # random placements tried per design
MAX_LISTED = 40  # misses/FPs/naming errors listed per depth (all of them go to --json)
AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
    "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
    "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "*",
}  # fmt: skip


# ----------------------------------------------------------------------------------------- transcript
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def rc(seq: str) -> str:
    """Reverse complement (the checker's own, not the package's)."""
    return seq.translate(_COMPLEMENT)[::-1]


class Tx:
    """The MANE transcript of the GFF3, parsed here (independently of the package), on either strand.

    Genomic positions are 1-based on the forward strand; ``exons``/``cds`` are sorted by genomic start, ``tx_exons``
    is in transcript order (5'->3' on the transcript: descending genomic for a - strand gene). ``coding_utr3`` and
    ``protein`` are in transcript sense; ``oriented`` turns forward-strand bases into transcript sense.
    """

    def __init__(self, gff3: Path, fasta: pysam.FastaFile) -> None:
        rows = [line.rstrip("\n").split("\t") for line in gff3.read_text().splitlines() if line[:1] not in "#"]
        rows = [r for r in rows if len(r) == 9]
        mrna = next(r for r in rows if r[2] == "mRNA" and "MANE_Select" in r[8])
        tid = dict(kv.split("=", 1) for kv in mrna[8].split(";"))["ID"]
        mine = [r for r in rows if f"Parent={tid}" in r[8]]
        if mrna[6] not in ("+", "-"):
            raise SystemExit(f"bench_snv: transcript {tid} has no strand ({mrna[6]!r})")
        self.strand = mrna[6]
        self.plus = self.strand == "+"
        self.chrom = mrna[0]
        self.exons = sorted((int(r[3]), int(r[4])) for r in mine if r[2] == "exon")
        self.cds = sorted((int(r[3]), int(r[4])) for r in mine if r[2] == "CDS")
        self.tx_exons = self.exons if self.plus else self.exons[::-1]
        self.cds_start, self.cds_end = self.cds[0][0], self.cds[-1][1]  # genomic span (forward strand)
        self.seq = fasta.fetch(self.chrom).upper()
        self.length = sum(e - s + 1 for s, e in self.exons)
        mrna_seq = "".join(self.oriented(self.seq[s - 1 : e]) for s, e in self.tx_exons)
        c1, stop = (self.cds_start, self.cds_end) if self.plus else (self.cds_end, self.cds_start)
        self.t_cs, self.t_ce = self.tpos(c1), self.tpos(stop)
        self.coding_utr3 = mrna_seq[self.t_cs - 1 :]  # c.1 to the end of the transcript
        self.cds_length = self.t_ce - self.t_cs + 1
        self.protein = translate(self.coding_utr3[: self.cds_length])
        if not self.protein.endswith("*") or "*" in self.protein[:-1]:
            raise SystemExit("bench_snv: the reference CDS does not translate to one ORF")

    def oriented(self, seq: str) -> str:
        """Forward-strand bases in transcript sense."""
        return seq if self.plus else rc(seq)

    def base(self, g: int) -> str:
        return self.seq[g - 1]

    def tpos(self, g: int) -> int | None:
        """1-based transcript position of an exonic base (None off the exons)."""
        t = 0
        for s, e in self.tx_exons:
            if s <= g <= e:
                return t + (g - s + 1 if self.plus else e - g + 1)
            t += e - s + 1
        return None

    def introns(self) -> list[tuple[int, int, int, int]]:
        """(k, last base of the exon before, first base of the exon after, in transcript order) per intron, as
        genomic positions; the intron lies strictly between them."""
        return [(k, a[1] if self.plus else a[0], b[0] if self.plus else b[1])
                for k, (a, b) in enumerate(zip(self.tx_exons, self.tx_exons[1:]), start=1)]  # fmt: skip

    def feature(self, g: int) -> str:
        """cds / utr5 / utr3 / intron<k> / upstream / downstream, for the ambiguity check."""
        for k, last, first in self.introns():
            if min(last, first) < g < max(last, first):
                return f"intron{k}"
        t = self.tpos(g)
        if t is None:
            return "upstream" if (g < self.exons[0][0]) == self.plus else "downstream"
        if t < self.t_cs:
            return "utr5"
        return "utr3" if t > self.t_ce else "cds"

    def cpos(self, g: int) -> str:
        """The c. position of a genomic base: exonic (c.N, c.-N, c.*N), intronic (c.N+k / c.N-k from the nearer
        exon, + on a tie), outside the transcript (the UTR numbering continued, as the package documents)."""
        t = self.tpos(g)
        if t is None:
            for _, last, first in self.introns():
                if min(last, first) < g < max(last, first):
                    up, down = abs(g - last), abs(first - g)
                    return f"{self.cpos(last)}+{up}" if up <= down else f"{self.cpos(first)}-{down}"
            five = self.tx_exons[0][0] if self.plus else self.tx_exons[0][1]
            three = self.tx_exons[-1][1] if self.plus else self.tx_exons[-1][0]
            if self.feature(g) == "upstream":
                t = 1 - abs(g - five)
            else:
                t = self.length + abs(g - three)
        if t < self.t_cs:
            return f"-{self.t_cs - t}"
        if t > self.t_ce:
            return f"*{t - self.t_ce}"
        return str(t - self.t_cs + 1)

    def c_offset(self, g: int) -> int:
        """0-based offset from c.1 of an exonic base."""
        return self.tpos(g) - self.t_cs

    def locate(self, c: str, regions: list[tuple[int, int]]) -> int:
        """The genomic base of c. position ``c`` (``540``, ``2327+1``, ``-12``), searched in ``regions`` by this
        class's own numbering (so a planted known allele is placed without the simulator's mapping)."""
        hits = [g for s, e in regions for g in range(s, e + 1) if self.cpos(g) == c]
        if len(hits) != 1:
            raise SystemExit(f"bench_snv: c.{c} is at {len(hits)} positions of the planting regions")
        return hits[0]


def translate(seq: str) -> str:
    out = []
    for i in range(0, len(seq) - 2, 3):
        aa = sim.translate(seq[i : i + 3])
        out.append(aa)
        if aa == "*":
            break
    return "".join(out)


# -------------------------------------------------------------------------------------------- alleles
@dataclass
class Planted:
    """One planted allele; genomic 1-based coordinates on the synthetic reference."""

    edit: sim.Edit
    zygosity: str  # het | hom
    kind: str  # snv | del | ins | dup (as planted)
    gene: str = "IL1RN"  # the gene whose exons +/- SPLICE_PAD it was planted in (its transcript names it)
    pos: int = 0  # normalised VCF form (simulate.normalize_vcf)
    ref: str = ""
    alt: str = ""
    extent: tuple[int, int] = (0, 0)  # bases touched by any equivalent placement (with anchors)
    exp_c: str | None = None  # None: not checked (ambiguous)
    exp_p: str | None = None  # None: not checked
    why_unchecked: str = ""

    @property
    def klass(self) -> str:
        return allele_class(self.ref, self.alt)

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.edit.chrom, self.pos, self.ref, self.alt)


def allele_class(ref: str, alt: str) -> str:
    if len(ref) == len(alt) == 1:
        return "SNV"
    size = abs(len(ref) - len(alt)) or max(len(ref), len(alt))
    return "indel 1-2 bp" if size <= 2 else "indel 3-20 bp"


def placements(tx: Tx, edit: sim.Edit) -> tuple[tuple[int, int, str], tuple[int, int, str]]:
    """Left-most and right-most equivalent placement of an indel, as (start, end, alt), by comparing sequence.

    Deletion: bases start..end deleted. Insertion: ``alt`` inserted after base ``start`` (end = start).
    """
    b = tx.base
    if not edit.alt:
        ls, le = edit.start, edit.end
        while b(ls - 1) == b(le):
            ls, le = ls - 1, le - 1
        rs, re_ = edit.start, edit.end
        while b(rs) == b(re_ + 1):
            rs, re_ = rs + 1, re_ + 1
        return (ls, le, ""), (rs, re_, "")
    after, seq = edit.start - 1, edit.alt
    la, lseq = after, seq
    while b(la) == lseq[-1]:
        la, lseq = la - 1, lseq[-1] + lseq[:-1]
    ra, rseq = after, seq
    while b(ra + 1) == rseq[0]:
        ra, rseq = ra + 1, rseq[1:] + rseq[0]
    return (la, la, lseq), (ra, ra, rseq)


def expected_names(tx: Tx, p: Planted) -> None:
    """Fill extent, exp_c and exp_p of a planted allele (independent HGVS naming, see the module doc).

    The 3' rule applies on the transcript: the right-most genomic placement of an indel on a + strand gene, the
    left-most on a - strand gene. A duplication copies the bases just 5' of the insertion on the transcript (on the
    genome: before it on +, after it on -). Names list positions in transcript order (c.540_541del)."""
    e = p.edit
    if e.kind == "snv":
        p.extent = (e.start, e.start)
        p.exp_c = f"c.{tx.cpos(e.start)}{tx.oriented(tx.base(e.start))}>{tx.oriented(e.alt)}"
        touched = [e.start]
        start0, end0, alt = None, None, tx.oriented(e.alt)
        if tx.feature(e.start) == "cds":
            start0 = tx.c_offset(e.start)
            end0 = start0 + 1
    else:
        left, right = placements(tx, e)
        three = right if tx.plus else left  # the HGVS placement: 3'-most on the transcript
        if not e.alt:
            p.extent = (left[0] - 1, right[1] + 1)
            touched = list(range(left[0], right[1] + 1))
            first, last = (three[0], three[1]) if tx.plus else (three[1], three[0])  # transcript order
            span = tx.cpos(first) if first == last else f"{tx.cpos(first)}_{tx.cpos(last)}"
            name = f"c.{span}del"
            alt = ""
        else:
            p.extent = (left[0], right[0] + 1)
            touched = list(range(left[0], right[0] + 2))
            a, seq = three[0], three[2]  # seq (forward strand) inserted after genomic base a
            n = len(seq)
            before = (a - n + 1, a) if tx.plus else (a + n, a + 1)  # the n bases 5' of it on the transcript
            alt = tx.oriented(seq)
            if tx.seq[min(before) - 1 : max(before)] == seq:
                first, last = before
                span = tx.cpos(first) if n == 1 else f"{tx.cpos(first)}_{tx.cpos(last)}"
                name = f"c.{span}dup"
            else:
                first, last = (a, a + 1) if tx.plus else (a + 1, a)  # the flanks, in transcript order
                name = f"c.{tx.cpos(first)}_{tx.cpos(last)}ins{alt}"
        features = {tx.feature(g) for g in touched}
        if left != right and len(features) > 1:
            p.why_unchecked = f"placements cross {'/'.join(sorted(features))}"
        else:
            p.exp_c = name
        start0 = end0 = None
        if features == {"cds"}:
            if not e.alt:
                start0, end0 = tx.c_offset(first), tx.c_offset(last) + 1
            else:  # inserted after the transcript-5' flank of the insertion point
                flank = a if tx.plus else a + 1
                start0 = end0 = tx.c_offset(flank) + 1
    outside = {tx.feature(g) for g in touched} & {"upstream", "downstream"}
    if outside:  # beyond the modelled transcript (LPIN2: 11 bp of the pad 5' of exon 2, really intron 1)
        p.exp_c = None  # annotate_vcf gives no c. name there (the real exon 1 is not in the model)
        p.why_unchecked = f"{'/'.join(sorted(outside))} of the transcript model"
    if start0 is None:
        p.why_unchecked = p.why_unchecked or "p. checked in the CDS only"
        return
    if start0 < 3 or end0 > tx.cds_length - 3 or (start0 == end0 and (start0 <= 3 or start0 >= tx.cds_length - 3)):
        p.why_unchecked = p.why_unchecked or "start/stop codon"
        return
    p.exp_p = expected_p(tx, start0, end0, alt)
    if p.exp_p is None:
        p.why_unchecked = p.why_unchecked or "p. not predicted here"


def expected_p(tx: Tx, start0: int, end0: int, alt: str) -> str | None:
    """HGVS p. of replacing coding[start0:end0] by alt (None for the cases not handled here)."""
    coding = tx.coding_utr3
    ref_p = tx.protein
    alt_p = translate(coding[:start0] + alt + coding[end0:])
    delta = len(alt) - (end0 - start0)

    def aa(prot: str, i: int) -> str:
        return f"{AA3[prot[i]]}{i + 1}"

    i = 0
    while i < min(len(ref_p), len(alt_p)) and ref_p[i] == alt_p[i]:
        i += 1
    if i == len(ref_p) == len(alt_p):
        if delta != 0:
            return None
        return f"p.({aa(ref_p, start0 // 3)}=)"
    if i >= len(ref_p) - 1 or i >= len(alt_p):
        return None  # reaches the stop codon
    if alt_p[i] == "*":
        return f"p.({aa(ref_p, i)}*)"
    if delta % 3:
        n_new = str(len(alt_p) - i) if alt_p.endswith("*") else "?"
        return f"p.({aa(ref_p, i)}{AA3[alt_p[i]]}fs*{n_new})"
    if not alt_p.endswith("*") or len(alt_p) - len(ref_p) != delta // 3:
        return None  # premature stop after a changed stretch: not named here
    j = 0
    while j < min(len(ref_p), len(alt_p)) - i and ref_p[-1 - j] == alt_p[-1 - j]:
        j += 1
    deleted, inserted = ref_p[i : len(ref_p) - j], alt_p[i : len(alt_p) - j]
    three = "".join(AA3[x] for x in inserted)
    if not inserted:
        last = i + len(deleted) - 1
        return f"p.({aa(ref_p, i)}del)" if last == i else f"p.({aa(ref_p, i)}_{aa(ref_p, last)}del)"
    if not deleted:
        n = len(inserted)
        if i >= n and ref_p[i - n : i] == inserted:
            return f"p.({aa(ref_p, i - 1)}dup)" if n == 1 else f"p.({aa(ref_p, i - n)}_{aa(ref_p, i - 1)}dup)"
        return f"p.({aa(ref_p, i - 1)}_{aa(ref_p, i)}ins{three})"
    if len(deleted) == len(inserted) == 1:
        return f"p.({aa(ref_p, i)}{three})"
    last = i + len(deleted) - 1
    span = aa(ref_p, i) if last == i else f"{aa(ref_p, i)}_{aa(ref_p, last)}"
    return f"p.({span}delins{three})"


# -------------------------------------------------------------------------------------------- designs
@dataclass
class Design:
    name: str
    alleles: list[Planted] = field(default_factory=list)
    # background common variants (and VNTR alleles) carried, VCF key on the reference -> het | hom
    background: dict[tuple[str, int, str, str], str] = field(default_factory=dict)


def planting_regions(tx: Tx) -> list[tuple[int, int]]:
    return [(s - SPLICE_PAD, e + SPLICE_PAD) for s, e in tx.cds]


def draw_class(rng: np.random.Generator) -> str:
    u = rng.random()
    return "snv" if u < P_SNV else "small" if u < P_SNV + P_SMALL else "large"


def make_allele(tx: Tx, rng: np.random.Generator, at: int, want: str) -> tuple[sim.Edit, str]:
    """A random edit of class ``want`` (snv, small = 1-2 bp indel, large = 3-20 bp) at ``at``; its kind."""
    chrom = tx.chrom
    if want == "snv":
        ref = tx.base(at)
        return sim.snv(chrom, at, str(rng.choice([x for x in "ACGT" if x != ref])), ref), "snv"
    if want == "small":
        size = int(rng.integers(1, 3))
    else:
        size = int(rng.choice(INFRAME_SIZES)) if rng.random() < 0.5 else int(rng.integers(3, 21))
    v = rng.random()
    if v < 0.5:
        return sim.deletion(chrom, at, at + size - 1), "del"
    if v < 0.75:
        seq = "".join(rng.choice(list("ACGT"), size=size))
        return sim.insertion(chrom, at, seq), "ins"
    return sim.insertion(chrom, at + size - 1, tx.seq[at - 1 : at + size - 1]), "dup"


def finish(tx: Tx, codes: np.ndarray, edit: sim.Edit, zyg: str, kind: str, gene: str = "IL1RN") -> Planted:
    p = Planted(edit, zyg, kind, gene)
    p.pos, p.ref, p.alt = sim.normalize_vcf(codes, edit)
    expected_names(tx, p)
    return p


def fits(p: Planted, regions: list[tuple[int, int]], placed: list[Planted], indel_gap: int) -> bool:
    lo, hi = p.extent
    if not any(s <= lo and hi <= e for s, e in regions):
        return False
    for q in placed:
        gap = GAP if p.klass == q.klass == "SNV" else max(GAP, indel_gap)
        if not (hi + gap <= q.extent[0] or q.extent[1] + gap <= lo):
            return False
    return True


def derived_plan(gene: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A known-allele plan from a differential gene's table (build.json ``known``): its small alleles in table
    order, spread round-robin over the first KNOWN_DESIGNS designs, homozygous and heterozygous in turn (shifted by
    one each round, so that each zygosity meets SNVs and indels)."""
    table = KNOWN.parent / DIFFERENTIAL[gene]["known"]
    rows = [line.split("\t") for line in table.read_text().splitlines() if line and line[0] != "#"]
    col = {k: i for i, k in enumerate(rows[0])}
    names = [r[col["hgvs_c"]] for r in rows[1:] if r[col["kind"]] == "small"]
    plan: list[list[tuple[str, str]]] = [[] for _ in range(KNOWN_DESIGNS)]
    for k, name in enumerate(names):
        plan[k % KNOWN_DESIGNS].append((name, "hom" if (k + k // KNOWN_DESIGNS) % 2 == 0 else "het"))
    return tuple(tuple(p) for p in plan if p)


_C_POS = r"([-*]?\d+(?:[+-]\d+)?)"
_KNOWN_NAME = re.compile(rf"^c\.{_C_POS}(?:_{_C_POS})?(?:([ACGT])>([ACGT])|del([ACGT]*)|ins([ACGT]+)|dup)$")


def known_edit(tx: Tx, codes: np.ndarray, name: str, regions: list[tuple[int, int]], gene: str) -> sim.Edit:
    """The genomic edit of a published c. name, placed with this file's own numbering (:meth:`Tx.locate`; bases
    named are checked against the reference). Where the simulator's ``edit_from_hgvs`` reads the name too, both
    must give the same normalised allele (a loud self-check of the two mappings)."""
    m = _KNOWN_NAME.match(name)
    if not m:
        raise SystemExit(f"bench_snv: cannot plant known {gene} allele {name}")
    c1, c2, ref, alt, deleted, inserted = m.groups()
    g1 = tx.locate(c1, regions)
    g2 = tx.locate(c2, regions) if c2 else g1
    lo, hi = min(g1, g2), max(g1, g2)
    named = ref or deleted
    if named and tx.oriented(tx.seq[lo - 1 : hi]) != named:
        raise SystemExit(f"bench_snv: {gene} {name}: the reference has {tx.oriented(tx.seq[lo - 1 : hi])}")
    if ref:
        edit = sim.snv(tx.chrom, lo, tx.oriented(alt), tx.oriented(ref), name)
    elif deleted is not None:
        edit = sim.Edit(tx.chrom, lo, hi, "", None, name)
    elif inserted:
        if hi != lo + 1:
            raise SystemExit(f"bench_snv: {gene} {name}: insertion flanks are not adjacent")
        edit = sim.insertion(tx.chrom, lo, tx.oriented(inserted), name)
    else:  # dup: a copy of lo..hi after hi
        edit = sim.insertion(tx.chrom, hi, tx.seq[lo - 1 : hi], name)
    try:
        theirs = sim.edit_from_hgvs(RES, name, None if gene == "IL1RN" else gene)
    except ValueError:  # a name the simulator does not read (intronic, dup)
        return edit
    if sim.normalize_vcf(codes, theirs) != sim.normalize_vcf(codes, edit):
        raise SystemExit(f"bench_snv: {gene} {name}: placed at {edit}, the simulator places it at {theirs}")
    return edit


def make_designs(
    tx: Tx,
    codes: np.ndarray,
    seed: int,
    min_snv: int,
    min_indel: int,
    min_designs: int,
    indel_gap: int = INDEL_GAP,
    gene: str = "IL1RN",
    max_designs: int | None = None,
) -> list[Design]:
    """Designs of one gene (alleles in its CDS exons +/- SPLICE_PAD); the same seed gives the same first designs
    whatever the minimums, so the designs of two genes can be merged sample by sample."""
    rng = np.random.default_rng(seed)
    known_plan = KNOWN_PLANS.get(gene) or derived_plan(gene)
    regions = planting_regions(tx)
    sizes = np.array([e - s + 1 for s, e in regions], dtype=float)
    weights = sizes / sizes.sum()
    designs: list[Design] = []
    n_snv = n_indel = 0
    while len(designs) < min_designs or n_snv < min_snv or n_indel < min_indel:
        if max_designs is not None and len(designs) >= max_designs:
            break
        d = Design(f"snv{len(designs):02d}")
        plan = known_plan[len(designs)] if len(designs) < len(known_plan) else ()
        for name, zyg in plan:
            edit = known_edit(tx, codes, name, regions, gene)
            p = finish(tx, codes, edit, zyg, "known", gene)
            if not fits(p, regions, d.alleles, indel_gap):
                raise SystemExit(f"bench_snv: known {gene} allele {name} does not fit the design")
            d.alleles.append(p)
        # random sequential placement, uniform over the regions; the class drawn is kept until it is placed,
        # so that the mix of classes does not depend on the gaps
        want = draw_class(rng)
        for _ in range(ATTEMPTS):
            k = int(rng.choice(len(regions), p=weights))
            at = int(rng.integers(regions[k][0], regions[k][1] + 1))
            edit, kind = make_allele(tx, rng, at, want)
            p = finish(tx, codes, edit, "hom" if rng.random() < P_HOM else "het", kind, gene)
            if fits(p, regions, d.alleles, indel_gap):
                d.alleles.append(p)
                want = draw_class(rng)
        d.alleles.sort(key=lambda a: a.pos)
        designs.append(d)
        n_snv += sum(a.klass == "SNV" for a in d.alleles)
        n_indel += sum(a.klass != "SNV" for a in d.alleles)
    return designs


def haplotypes(
    alleles: list[Planted], rng: np.random.Generator, offset: int, contig: str = SLICE_CONTIG
) -> tuple[list[sim.Edit], list[sim.Edit]]:
    """The two haplotypes' edits in slice coordinates (het alleles on a random haplotype)."""
    haps: tuple[list[sim.Edit], list[sim.Edit]] = ([], [])
    for a in alleles:
        moved = dataclasses.replace(a.edit, chrom=contig, start=a.edit.start - offset, end=a.edit.end - offset)
        if a.zygosity == "hom":
            haps[0].append(moved)
            haps[1].append(moved)
        else:
            haps[int(rng.integers(0, 2))].append(moved)
    return haps


def add_background(
    design: Design,
    population: sim.Population,
    rng: np.random.Generator,
    slices: dict[str, tuple[str, str, int, int]],
    indel_gap: int,
) -> tuple[list[sim.Edit], list[sim.Edit]]:
    """A background genome for ``design`` (``population.founder``): its common variants and VNTR alleles that
    lie in a gene's slice (``slices``: gene -> reference contig, slice contig, 0-based offset, length; a variant
    goes only to a slice of its own contig), >= GAP bp from every planted allele on the same contig
    (``indel_gap`` when either is an indel), moved to slice coordinates; their VCF keys go to
    ``design.background``."""
    genome = population.founder(rng)
    sample = population.haplotype_edits(genome, [[], []])
    codes = population.reference
    zygosity: dict[sim.Edit, str] = {}
    for edits in sample.edits:
        for e in edits:
            zygosity[e] = "hom" if e in zygosity else "het"
    haps: tuple[list[sim.Edit], list[sim.Edit]] = ([], [])
    for e, zyg in zygosity.items():
        pos, ref, alt = sim.normalize_vcf(codes[e.chrom], e)
        lo, hi = pos, max(e.end, pos + len(ref) - 1)

        def too_close(
            a: Planted, lo: int = lo, hi: int = hi, indel: bool = e.kind != "snv", chrom: str = e.chrom
        ) -> bool:
            gap = GAP if not indel and a.klass == "SNV" else max(GAP, indel_gap)
            return a.edit.chrom == chrom and not (hi + gap <= a.extent[0] or a.extent[1] + gap <= lo)

        margin = sim.FRAGMENT_MAX  # reads thin out towards a slice's ends
        inside = [
            (contig, off)
            for chrom, contig, off, n in slices.values()
            if chrom == e.chrom and off + margin < lo and hi < off + n - margin
        ]
        if not inside or any(too_close(a) for a in design.alleles):
            continue
        contig, off = inside[0]
        moved = dataclasses.replace(e, chrom=contig, start=e.start - off, end=e.end - off)
        for h, edits in enumerate(sample.edits):
            if e in edits:
                haps[h].append(moved)
        design.background[(e.chrom, pos, ref, alt)] = zyg
    return haps


# -------------------------------------------------------------------------------------------- running
def callable_defaults() -> dict:
    """Callable thresholds as the workflow uses them: depth and splice padding from `callable`, the read filter
    (MAPQ, base quality) from `calling`, the caller's own."""
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]["callable"]["properties"]
    calling = schema["properties"]["calling"]["properties"]
    out = {key: props[key]["default"] for key in ("min_depth", "splice_bp")}
    out.update({key: calling[key]["default"] for key in ("min_mapq", "min_baseq", "min_alt_reads")})
    return out


def run_sample(job: dict) -> dict:
    """simulate -> align -> extract -> callable -> call -> annotate, for one design at one depth."""
    t0 = time.perf_counter()
    work = Path(job["work"])
    work.mkdir(parents=True, exist_ok=True)
    name, ref = job["name"], job["ref"]
    sys.stderr.flush()
    with open(work / f"{name}.log", "w") as log:  # htslib/bcftools messages go to the sample's log
        os.dup2(log.fileno(), 2)
    fq1, fq2 = sim.simulate_sample(
        job["slice"], RES, job["haplotypes"], job["depth"], "wgs", job["seed"], work / name, name
    )
    bam = work / f"{name}.bam"
    sim.align_to_bam(ref, fq1, fq2, bam, name, threads=1)
    fq1.unlink()
    fq2.unlink()
    locus = work / f"{name}.locus.bam"
    extract_locus(
        str(bam),
        ref,
        [str(RES / "window.bed"), str(RES / "controls.bed")],
        str(locus),
        str(work / f"{name}.fallback.bai"),
        BUILD["locus_contig"],
    )
    cd = job["callable"]
    cjson = work / f"{name}.callable.json"
    report = callable_report(
        str(locus),
        str(RES / "cds.bed"),
        str(RES / "targets.bed"),
        cd["min_depth"],
        cd["min_mapq"],
        cd["min_baseq"],
        cd["splice_bp"],
        str(work / f"{name}.callable.bed"),
        str(work / f"{name}.exons.tsv"),
        str(cjson),
        reference=str(ref),
        min_alt_reads=cd["min_alt_reads"],
    )
    vcf = work / f"{name}.vcf.gz"
    params = CallingParams(**job["calling"])
    call_variants(str(locus), ref, str(RES / "targets.bed"), str(vcf), params, read_uncallable(str(cjson)))
    records, errors = annotate_safely(vcf, ref)
    with pysam.VariantFile(str(vcf)) as handle:  # FORMAT values for explaining misses
        detail = {}
        for rec in handle:
            s = rec.samples[0]
            for alt in rec.alts or ():
                detail[(rec.chrom, rec.pos, rec.ref, alt)] = {
                    "qual": round(rec.qual or 0, 1),
                    "DP": s.get("DP"),
                    "AD": s.get("AD"),
                    "GQ": s.get("GQ"),
                    "SP": s.get("SP"),
                }
    return {
        "name": name,
        "depth": job["depth"],
        "design": job["design"],
        "records": records,
        "detail": detail,
        "annotate_errors": errors,
        "uncallable": read_uncallable(str(cjson)),
        # the benchmarked genes' CDS only (cds.bed also lists genes without reads in this run)
        "mean_depth_cds": float(np.mean([report["genes"][g]["mean_depth_cds"] for g in job["genes"]])),
        "seconds": time.perf_counter() - t0,
    }


def annotate_safely(vcf: Path, ref: str, run_csq: bool = True) -> tuple[list[dict], list[str]]:
    """annotate_vcf (IL1RN + the differential genes, each allele named on its nearest transcript); if it raises,
    name the records it fails on and annotate the others (errors returned)."""
    gff3 = RES / "il1rn.gff3"
    more = differential_genes(str(RES), str(KNOWN))
    try:
        return annotate_vcf(vcf, ref, gff3, KNOWN, run_csq=run_csq, more_genes=more, disease="DIRA"), []
    except Exception as exc:  # reported by the benchmark, which goes on with the other records
        first = f"{type(exc).__name__}: {exc}"
    txs = [load_transcript(gff3)] + [load_transcript(m["gff3"]) for m in more]

    def nearest(chrom: str, pos: int):  # noqa: ANN202 - as annotate_vcf picks the gene (first on ties)
        return min(
            txs,
            key=lambda t: (10**12 if chrom != t.chrom else max(0, t.start - pos, pos - t.end), txs.index(t)),
        )

    errors, kept, failed = [], [], []
    clean = Path(f"{vcf}.annotatable.vcf")
    with pysam.FastaFile(ref) as fasta, pysam.VariantFile(str(vcf)) as src:
        with pysam.VariantFile(str(clean), "w", header=src.header) as dst:
            for rec in src:
                problem = None
                tx = nearest(rec.chrom, rec.pos)
                for alt in rec.alts or ():
                    try:
                        describe_variant(tx, fasta.fetch, rec.pos, rec.ref, alt, rec.chrom)
                    except Exception as exc:  # the allele annotate_vcf cannot name
                        problem = f"{type(exc).__name__}: {exc}"
                if problem is None:
                    dst.write(rec)
                    kept.append(rec)
                    continue
                errors.append(f"annotate_vcf fails on {rec.chrom}:{rec.pos} {rec.ref}>{','.join(rec.alts)}: {problem}")
                gt = rec.samples[0].get("GT") or ()
                called = [g for g in gt if g is not None]
                zyg = None if not any(called) else "homozygous" if len(set(called)) == 1 else "heterozygous"
                flt = list(rec.filter.keys())
                failed += [
                    {
                        "gene": tx.gene_name,
                        "chrom": rec.chrom,
                        "pos": rec.pos,
                        "ref": rec.ref,
                        "alt": alt,
                        "filter": "PASS" if flt == ["PASS"] else (flt or "."),
                        "genotype": "/".join("." if g is None else str(g) for g in gt),
                        "zygosity": zyg,
                        "hgvs_c": None,
                        "hgvs_p": None,
                        "bcsq": None,
                        "consequence": "",
                        "error": problem,
                    }
                    for alt in rec.alts or ()
                ]
    if not errors:
        errors.append(f"annotate_vcf failed: {first}")
        return failed, errors
    records = annotate_vcf(clean, ref, gff3, KNOWN, run_csq=run_csq, more_genes=more, disease="DIRA") if kept else []
    return records + failed, errors


def overlaps(chrom: str, start0: int, end0: int, intervals: list) -> bool:
    return any(c == chrom and s < end0 and start0 < e for c, s, e in intervals)


def strip_accession(name: str | None) -> str | None:
    return name.split(":", 1)[1] if name and ":" in name else name


# ----------------------------------------------------------------------------------------- evaluation
@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    gt_ok: int = 0
    nocall: int = 0
    flagged: int = 0  # FNs called with a FILTER reason (reported for confirmation, not silently missed)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def recall_with_flagged(self) -> float:
        return (self.tp + self.flagged) / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def concordance(self) -> float:
        return self.gt_ok / self.tp if self.tp else float("nan")


@dataclass
class Naming:
    checked: int = 0
    correct: int = 0
    unchecked: int = 0
    failed: int = 0  # annotate_vcf raised on the allele
    wrong: list = field(default_factory=list)

    def add(self, expected: str | None, got: str | None, label: str, failed: bool = False) -> None:
        if failed:
            self.failed += 1
            return
        if expected is None:
            self.unchecked += 1
            return
        self.checked += 1
        if expected == got:
            self.correct += 1
        else:
            self.wrong.append(f"{label}: expected {expected}, annotate gave {got}")

    def text(self) -> str:
        frac = f"{self.correct / self.checked:.3f}" if self.checked else "n/a"
        text = f"{self.correct}/{self.checked} correct ({frac}), {self.unchecked} not checked"
        return text + (f", {self.failed} where annotate_vcf FAILED" if self.failed else "")


def evaluate(
    depth: int,
    results: list[dict],
    designs: dict[str, Design],
    lines: list[str],
    failures: list[str],
    csq_patterns: dict[tuple[str, str, str], set],
    genes: tuple[str, ...] = ("IL1RN",),
) -> dict:
    """Figures of one depth, per gene: a truth allele counts for the gene it was planted in, a call for the
    gene annotate_vcf named it on (its nearest transcript)."""
    tally = {g: {k: Tally() for k in CLASSES} for g in genes}
    confusion: dict[tuple[str, str, str], Counter] = defaultdict(Counter)  # (gene, class, zygosity)
    by_type: dict[str, dict[str, Tally]] = {g: defaultdict(Tally) for g in genes}  # deletions vs insertions/dups
    naming_c = {g: Naming() for g in genes}
    naming_p = {g: Naming() for g in genes}
    pass_in_uncallable = Counter()
    csq = {g: [0, 0] for g in genes}  # agreeing with bcftools csq, no BCSQ
    csq_diff: dict[str, list] = {g: [] for g in genes}
    misses: dict[str, list] = {g: [] for g in genes}
    fps: dict[str, list] = {g: [] for g in genes}
    other = []  # PASS calls named on a gene not benchmarked here
    background = [0, 0, 0]  # background variants in the called regions: all, PASS, PASS with the right genotype
    background_misses: list[str] = []

    def gene_of(r: dict) -> str | None:
        return r.get("gene") if r.get("gene") in genes else None

    for res in results:
        design = designs[res["design"]]
        calls = {(r["chrom"], r["pos"], r["ref"], r["alt"]): r for r in res["records"]}
        unc = res["uncallable"]
        for r in res["records"]:
            if r["filter"] == "PASS" and overlaps(r["chrom"], r["pos"] - 1, r["pos"] - 1 + len(r["ref"]), unc):
                g = gene_of(r)
                text = f"{res['name']}: PASS call in an uncallable position {r['pos']} {r['ref']}>{r['alt']}"
                if g is None:
                    other.append(f"{text} ({r.get('gene')})")
                    continue
                pass_in_uncallable[g] += 1
                fps[g].append(text)
        truth_keys = set(design.background)
        for key, zyg in design.background.items():
            if overlaps(key[0], key[1] - 1, key[1] - 1 + len(key[2]), TARGETS):
                call = calls.get(key)
                found = call is not None and call["filter"] == "PASS"
                right = found and {"heterozygous": "het", "homozygous": "hom"}.get(call["zygosity"]) == zyg
                background[0] += 1
                background[1] += found
                background[2] += right
                if not right:
                    label = "not called" if call is None else f"{call['filter']} GT {call['genotype']}"
                    background_misses.append(f"{res['name']}: background {key[1]} {key[2]}>{key[3]} {zyg}: {label}")
        for a in design.alleles:
            truth_keys.add(a.key)
            if a.gene not in genes:
                continue
            g = a.gene
            call = calls.get(a.key)
            t = tally[g][a.klass]
            kind = "del" if len(a.ref) > len(a.alt) else "ins/dup"
            sub = by_type[g][f"{a.klass.removeprefix('indel ')} {kind}"] if a.klass != "SNV" else Tally()
            row = (g, a.klass, a.zygosity)
            label = f"{res['name']} {g} {a.pos} {a.ref}>{a.alt} {a.exp_c or ''} {a.zygosity}".replace("  ", " ")
            if overlaps(a.edit.chrom, a.pos - 1, a.pos - 1 + len(a.ref), unc):
                t.nocall += 1
                sub.nocall += 1
                confusion[row]["uncallable"] += 1
                continue
            if call is None or call["filter"] != "PASS":
                t.fn += 1
                sub.fn += 1
                if call is None:
                    confusion[row]["not called"] += 1
                    near = [
                        f"{k[1]} {k[2]}>{k[3]} {c['filter']}"
                        for k, c in calls.items()
                        if k[0] == a.edit.chrom and abs(k[1] - a.pos) <= 30
                    ]
                    misses[g].append(f"{label}: not called" + (f" (nearby: {'; '.join(near)})" if near else ""))
                else:
                    t.flagged += 1
                    confusion[row]["filtered"] += 1
                    why = call["filter"] if isinstance(call["filter"], str) else ",".join(call["filter"])
                    misses[g].append(f"{label}: filtered {why} {res['detail'].get(a.key)} GT {call['genotype']}")
                continue
            t.tp += 1
            sub.tp += 1
            zyg = {"heterozygous": "het", "homozygous": "hom"}.get(call["zygosity"], str(call["zygosity"]))
            confusion[row][f"called {zyg}"] += 1
            if zyg == a.zygosity:
                t.gt_ok += 1
                sub.gt_ok += 1
            else:
                misses[g].append(f"{label}: genotype {call['genotype']} ({res['detail'].get(a.key)})")
            if call.get("gene") != g:
                naming_c[g].wrong.append(f"{label}: named on {call.get('gene')}, not {g}")
            naming_c[g].add(a.exp_c, strip_accession(call["hgvs_c"]), label, "error" in call)
            naming_p[g].add(a.exp_p, strip_accession(call["hgvs_p"]), label, "error" in call)
            if "error" in call:
                continue
            if not call["bcsq"]:
                csq[g][1] += 1
            elif bcsq_consequences(call["bcsq"]) == set(call["consequence"].split("&")):
                csq[g][0] += 1
            else:
                csq_diff[g].append(1)
                terms = "&".join(sorted(bcsq_consequences(call["bcsq"])))
                csq_patterns[(g, call["consequence"], terms)].add(f"{a.exp_c or a.pos}")
        for key, r in calls.items():
            if r["filter"] != "PASS" or key in truth_keys:
                continue
            text = f"{res['name']}: FP {key[1]} {key[2]}>{key[3]} GT {r['genotype']} {res['detail'].get(key)}"
            g = gene_of(r)
            if g is None:
                other.append(f"{text} ({r.get('gene')})")
                continue
            tally[g][allele_class(r["ref"], r["alt"])].fp += 1
            fps[g].append(text)

    mean_dp = np.mean([r["mean_depth_cds"] for r in results])
    lines.append("")
    lines.append(f"== WGS-like {depth}x ({len(results)} samples, mean CDS depth {mean_dp:.1f}) ==")
    lines.append(
        f"{'gene':<8}{'class':<15}{'TP':>5}{'FP':>5}{'FN':>5}{'recall':>8}{'precision':>10}{'GT conc':>9}"
        f"{'no-call':>9}{'flagged':>9}{'recall+flagged':>16}"
    )
    for g in genes:
        for k in CLASSES:
            t = tally[g][k]
            lines.append(
                f"{g:<8}{k:<15}{t.tp:>5}{t.fp:>5}{t.fn:>5}{t.recall:>8.3f}{t.precision:>10.3f}{t.concordance:>9.3f}"
                f"{t.nocall:>9}{t.flagged:>9}{t.recall_with_flagged:>16.3f}"
            )
    lines.append(
        "(flagged: FNs written with a FILTER reason, shown to the lab for confirmation; "
        "recall+flagged counts them as found)"
    )
    if background[0]:
        lines.append(
            f"background common variants in the called regions (not counted above): {background[1]}/{background[0]} "
            f"PASS, {background[2]} with the right genotype"
        )
        lines += [f"  {m}" for m in background_misses[:MAX_LISTED]]
    for g in genes:
        tp = sum(t.tp for t in tally[g].values())
        lines.append(
            f"{g}: indels by type (TP/FN, recall, GT conc): "
            + "; ".join(f"{k} {t.tp}/{t.fn} {t.recall:.3f} {t.concordance:.3f}" for k, t in sorted(by_type[g].items()))
        )
        lines.append(f"{g}: PASS calls in positions reported uncallable: {pass_in_uncallable[g]}")
        lines.append(
            f"{g}: truth alleles in uncallable positions (no-calls, not FN): {sum(t.nocall for t in tally[g].values())}"
        )
        lines.append(f"{g}: HGVS c. (TPs): {naming_c[g].text()}")
        lines.append(f"{g}: HGVS p. (TPs): {naming_p[g].text()}")
        lines.append(
            f"{g}: consequence vs bcftools csq (TPs): {csq[g][0]} agree, {len(csq_diff[g])} differ, "
            f"{csq[g][1]} without BCSQ (of {tp} TPs)"
        )
    if len(genes) > 1:
        ref_g = genes[0]
        for g in genes[1:]:
            parts = []
            for k in CLASSES:
                a, b = tally[g][k], tally[ref_g][k]
                ok = all(
                    not (x < y) for x, y in ((a.recall, b.recall), (a.precision, b.precision)) if x == x and y == y
                )
                parts.append(
                    f"{k} recall {a.recall:.3f}/{b.recall:.3f} precision {a.precision:.3f}/{b.precision:.3f}"
                    f" {'>=' if ok else 'LOWER'}"
                )
            lines.append(f"{g} vs {ref_g} ({g}/{ref_g}): " + "; ".join(parts))
    cols = ["called het", "called hom", "filtered", "not called", "uncallable"]
    lines.append("confusion (truth gene/class/genotype x outcome):")
    lines.append(f"  {'truth':<27}" + "".join(f"{c:>12}" for c in cols))
    for g in genes:
        for k in CLASSES:
            for z in ("het", "hom"):
                lines.append(f"  {g + ' ' + k + ' ' + z:<27}" + "".join(f"{confusion[(g, k, z)][c]:>12}" for c in cols))
    annotate_errors = [f"{r['name']}: {e}" for r in results for e in r["annotate_errors"]]
    lines.append(f"annotate_vcf errors: {len(annotate_errors)}")
    if other:
        lines.append(f"PASS calls named on genes not benchmarked here: {len(other)}")
    details = annotate_errors + other
    for g in genes:
        details += misses[g] + fps[g] + naming_c[g].wrong + naming_p[g].wrong
    for text in details[:MAX_LISTED]:
        lines.append(f"  - {text}")
    if len(details) > MAX_LISTED:
        lines.append(f"  - ... {len(details) - MAX_LISTED} more in the JSON (--json)")
    if depth >= GOAL_DEPTH:
        goals = []
        for g in genes:
            tg = tally[g]
            goals += [
                (f"{g} SNV recall 1.00", tg["SNV"].recall >= 1.0),
                (f"{g} SNV precision 1.00", tg["SNV"].precision >= 1.0 or tg["SNV"].tp + tg["SNV"].fp == 0),
            ]
            for k in CLASSES[1:]:
                goals.append((f"{g} {k} recall >= 0.98", tg[k].recall >= 0.98))
                goals.append((f"{g} {k} precision >= 0.98", tg[k].precision >= 0.98))
            tp = sum(t.tp for t in tg.values())
            conc = sum(t.gt_ok for t in tg.values()) / tp if tp else 0.0
            goals.append((f"{g} genotype concordance >= 0.99 ({conc:.3f})", conc >= 0.99))
            goals.append((f"{g} no PASS call in an uncallable position", pass_in_uncallable[g] == 0))
        failed = [goal for goal, ok in goals if not ok]
        lines.append(f"goals at {depth}x: " + ("all met" if not failed else "NOT MET: " + "; ".join(failed)))
        failures += [f"{depth}x: {goal}" for goal in failed]
    return {
        "details": details,
        "background": {"in_called_regions": background[0], "pass": background[1], "genotype_right": background[2]},
        **{
            g: {
                "tally": {k: dataclasses.asdict(t) for k, t in tally[g].items()},
                "pass_in_uncallable": pass_in_uncallable[g],
                "hgvs_c": [naming_c[g].checked, naming_c[g].correct, naming_c[g].unchecked],
                "hgvs_p": [naming_p[g].checked, naming_p[g].correct, naming_p[g].unchecked],
            }
            for g in genes
        },
    }


def truth_naming(designs: list[Design], ref: Path, out: Path, lines: list[str], genes: tuple[str, ...]) -> dict:
    """annotate_vcf on a VCF of every planted allele (genotype = truth) against the expected names, per gene."""
    naming_c = {g: Naming() for g in genes}
    naming_p = {g: Naming() for g in genes}
    all_errors: list[str] = []
    for d in designs:
        vcf = out / "truth" / f"{d.name}.vcf"
        vcf.parent.mkdir(parents=True, exist_ok=True)
        with pysam.FastaFile(str(ref)) as fa:
            contigs = [f"##contig=<ID={c},length={fa.get_reference_length(c)}>" for c in fa.references]
        alleles = sorted(d.alleles, key=lambda a: (a.edit.chrom, a.pos))
        rows = [
            f"{a.edit.chrom}\t{a.pos}\t.\t{a.ref}\t{a.alt}\t.\tPASS\t.\tGT\t{'1/1' if a.zygosity == 'hom' else '0/1'}"
            for a in alleles
        ]
        vcf.write_text(
            "\n".join(
                [
                    "##fileformat=VCFv4.2",
                    *contigs,
                    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
                    f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{d.name}",
                    *rows,
                ]
            )
            + "\n"
        )
        records, errors = annotate_safely(vcf, str(ref), run_csq=False)
        all_errors += [f"{d.name}: {e}" for e in errors]
        got = {(r["chrom"], r["pos"], r["ref"], r["alt"]): r for r in records}
        for a in alleles:
            if a.gene not in genes:
                continue
            r = got.get(a.key, {})
            label = f"{d.name} {a.gene} {a.pos} {a.ref}>{a.alt} ({a.kind})"
            if r and r.get("gene") != a.gene:
                naming_c[a.gene].wrong.append(f"{label}: named on {r.get('gene')}, not {a.gene}")
            naming_c[a.gene].add(a.exp_c, strip_accession(r.get("hgvs_c")), label, "error" in r)
            naming_p[a.gene].add(a.exp_p, strip_accession(r.get("hgvs_p")), label, "error" in r)
    for g in genes:
        lines.append(
            f"{g}: HGVS naming of all planted alleles (truth VCF): c. {naming_c[g].text()}; p. {naming_p[g].text()}"
        )
    for text in all_errors + [w for g in genes for w in naming_c[g].wrong + naming_p[g].wrong]:
        lines.append(f"  - {text}")
    for g in genes:
        mine = [a for d in designs for a in d.alleles if a.gene == g]
        reasons = Counter(a.why_unchecked for a in mine if a.exp_c is None)
        if reasons:
            lines.append(f"  {g} c. not checked: " + "; ".join(f"{n} x {why}" for why, n in reasons.most_common()))
        reasons = Counter(a.why_unchecked for a in mine if a.exp_p is None)
        lines.append(f"  {g} p. not checked: " + "; ".join(f"{n} x {why}" for why, n in reasons.most_common()))
    return {
        g: {"hgvs_c": [naming_c[g].checked, naming_c[g].correct], "hgvs_p": [naming_p[g].checked, naming_p[g].correct]}
        for g in genes
    }


def write_slice(ref: Path, txs: dict[str, Tx], path: Path) -> dict[str, int]:
    """FASTA of each gene's planting regions +/- SLICE_FLANK (contig SLICE_CONTIGS[gene]); returns the 0-based
    offset of each slice (slice position + offset = reference position)."""
    offsets, text = {}, []
    for gene, tx in txs.items():
        regions = planting_regions(tx)
        lo = min(s for s, _ in regions) - SLICE_FLANK
        hi = max(e for _, e in regions) + SLICE_FLANK
        seq = tx.seq[lo - 1 : hi]
        text.append(f">{SLICE_CONTIGS[gene]}\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")
        offsets[gene] = lo - 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(text))
    pysam.faidx(str(path))
    return offsets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples per depth (~11 min with three genes)")
    ap.add_argument("--seed", type=int, default=1125)
    ap.add_argument("--out", default="/tmp/dira-bench-snv", help="work folder")
    ap.add_argument("--threads", type=int, default=2, help="samples processed in parallel")
    ap.add_argument(
        "--indel-gap",
        type=int,
        default=INDEL_GAP,
        help="minimum distance between an indel and any other variant (default: %(default)s)",
    )
    ap.add_argument(
        "--genes",
        default=",".join(GENES),
        help="genes to plant in and report, comma-separated (default: %(default)s; IL1RN is always planted first)",
    )
    ap.add_argument(
        "--designs",
        type=int,
        default=None,
        help="at most this many designs (samples per depth), fewer than the minimum counts need (a smaller run)",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal at >= 20x is not met")
    ap.add_argument(
        "--no-background",
        action="store_true",
        help="planted alleles only (no common background variants or VNTR alleles in the samples)",
    )
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    ap.add_argument("--calling", default="{}", help="calling parameters to change, JSON: '{\"min_qual\": 20}'")
    args = ap.parse_args(argv)
    genes = tuple(g for g in GENES if g in {x.strip().upper() for x in args.genes.split(",")})
    if not genes:
        ap.error(f"--genes: none of {', '.join(GENES)}")
    if shutil.which("bwa") is None:
        print("bench_snv: bwa is needed (apt-get install -y bwa)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    out = Path(args.out) / ("quick" if args.quick else "full")
    shutil.rmtree(out / "samples", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    ref = out / "ref" / "synth.fa"
    stamp = out / "ref" / "simulator.txt"
    if not (ref.exists() and stamp.exists() and stamp.read_text() == sim.SIM_VERSION):
        sim.make_reference(RES, ref, sim.DEFAULT_SEED)
        stamp.write_text(sim.SIM_VERSION)
    sim.bwa_index(ref)
    with pysam.FastaFile(str(ref)) as fasta:
        txs = {g: Tx(GFF3[g], fasta) for g in genes}
    codes = {g: sim.load_reference(ref)[tx.chrom] for g, tx in txs.items()}
    offsets = write_slice(ref, txs, out / "ref" / "slice.fa")
    min_snv, min_indel, min_designs = (100, 60, 4) if args.quick else (600, 360, 4)
    if args.designs is not None:
        min_designs = args.designs

    def designs_of(gene: str, n_min: int) -> list[Design]:
        return make_designs(
            txs[gene], codes[gene], args.seed + SEED_SHIFT[gene], min_snv, min_indel, n_min, args.indel_gap, gene,
            args.designs,
        )  # fmt: skip

    # each gene gets its own designs (own rng: IL1RN's are those of the IL1RN-only benchmark); design i of every
    # gene is one sample, so each gene gets as many designs as the gene needing most
    per_gene = {g: designs_of(g, min_designs) for g in genes}
    n_designs = max(len(d) for d in per_gene.values())
    per_gene = {g: d if len(d) == n_designs else designs_of(g, n_designs) for g, d in per_gene.items()}
    designs = [Design(per_gene[genes[0]][i].name) for i in range(n_designs)]
    for g in genes:
        for d, mine in zip(designs, per_gene[g]):
            d.alleles += mine.alleles
    by_name = {d.name: d for d in designs}
    hap_rngs = {g: np.random.default_rng(args.seed + SEED_SHIFT[g] + 1) for g in genes}
    cd = callable_defaults()
    population = None if args.no_background else sim.make_population(sim.load_reference(ref), RES, args.seed)
    background_rng = np.random.default_rng(args.seed + BACKGROUND_SEED_SHIFT)
    with pysam.FastaFile(str(out / "ref" / "slice.fa")) as fasta:
        slices = {
            g: (txs[g].chrom, SLICE_CONTIGS[g], offsets[g], fasta.get_reference_length(SLICE_CONTIGS[g])) for g in genes
        }
    jobs = []
    for d in designs:
        haps: tuple[list[sim.Edit], list[sim.Edit]] = ([], [])
        for g in genes:
            mine = haplotypes([a for a in d.alleles if a.gene == g], hap_rngs[g], offsets[g], SLICE_CONTIGS[g])
            haps[0].extend(mine[0])
            haps[1].extend(mine[1])
        if population is not None:
            bg = add_background(d, population, background_rng, slices, args.indel_gap)
            haps[0].extend(bg[0])
            haps[1].extend(bg[1])
        for depth in DEPTHS:
            name = f"{d.name}_{depth}x"
            jobs.append(
                {
                    "name": name,
                    "design": d.name,
                    "depth": depth,
                    "haplotypes": haps,
                    "seed": args.seed,
                    "slice": str(out / "ref" / "slice.fa"),
                    "ref": str(ref),
                    "callable": cd,
                    "calling": json.loads(args.calling),
                    "genes": list(genes),
                    "work": str(out / "samples" / name),
                }
            )
    # one fresh (forked from a preloaded server) process per sample: htslib's stderr is redirected per sample
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "dira_genotyper.annotation.annotate", "dira_genotyper.calling.caller"])
    with ProcessPoolExecutor(max_workers=max(1, args.threads), mp_context=ctx, max_tasks_per_child=1) as pool:
        results = list(pool.map(run_sample, jobs))
    t_run = time.perf_counter() - t0
    lines = [
        f"bench_snv: {len(designs)} designs x {len(DEPTHS)} depths; genes {', '.join(genes)}; seed {args.seed}; "
        f"simulation+pipeline {t_run:.0f} s ({sum(r['seconds'] for r in results):.0f} s of work)",
    ]
    for g in genes:
        mine = [a for d in designs for a in d.alleles if a.gene == g]
        n = Counter(a.klass for a in mine)
        kinds = Counter(f"{a.kind}/{a.zygosity}" for a in mine)
        lines.append(
            f"  {g} ({txs[g].chrom}:{txs[g].cds_start}-{txs[g].cds_end}, CDS exons +/- {SPLICE_PAD} bp): per depth "
            f"{n['SNV']} SNVs, {n['indel 1-2 bp']} indels 1-2 bp, {n['indel 3-20 bp']} indels 3-20 bp "
            f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
        )
    lines.append(f"callable: {cd}; calling: {dataclasses.asdict(CallingParams(**json.loads(args.calling)))}")
    failures: list[str] = []
    figures = {"truth_naming": truth_naming(designs, ref, out, lines, genes)}
    csq_patterns: dict[tuple[str, str, str], set] = defaultdict(set)
    for depth in DEPTHS:
        figures[f"{depth}x"] = evaluate(
            depth, [r for r in results if r["depth"] == depth], by_name, lines, failures, csq_patterns, genes
        )
    if csq_patterns:
        lines.append("")
        lines.append("consequence (ours) vs bcftools csq -l, where they differ (all depths; alleles):")
        for (g, ours, theirs), names in sorted(csq_patterns.items()):
            shown = sorted(names)[:6]
            more = f" (+{len(names) - len(shown)})" if len(names) > len(shown) else ""
            lines.append(f"  {g} {ours}  vs csq  {theirs}: {', '.join(shown)}{more}")
    lines.append("")
    lines.append("goals (>= 20x): " + ("all met" if not failures else f"{len(failures)} not met"))
    lines.append(f"total {time.perf_counter() - t0:.0f} s")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"lines": lines, "figures": figures}, indent=2) + "\n")
    return 1 if args.strict and failures else 0


if __name__ == "__main__":
    sys.exit(main())
