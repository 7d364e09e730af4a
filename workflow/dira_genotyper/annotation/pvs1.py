"""Strength of the ACMG/AMP PVS1 criterion (null variant) for one allele, by the ClinGen SVI decision tree.

Abou Tayoun et al. 2018, Hum Mutat 39:1517 ("Recommendations for interpreting the loss of function PVS1
ACMG/AMP variant criterion"). The branches applied here, for a gene where loss of function is the known
disease mechanism (IL1RN in DIRA):

* Nonsense / frameshift: nonsense-mediated decay (NMD) is predicted when the premature stop codon lies more
  than 50 nt 5' of the last exon-exon junction -> PVS1. When NMD is not predicted (a stop in the last exon or
  in the last 50 nt of the penultimate exon) the strength depends on how much protein is lost or altered,
  counted from the first changed residue (a frameshift in the last exon alters everything after it, even when
  its new stop lies beyond the old one): > 10 % -> PVS1_Strong, otherwise PVS1_Moderate. A change whose first
  altered residue is the stop codon itself (an extension, ``ext``) or a frameshift with no stop at all (``fs*?``)
  is not a null variant: PVS1 does not apply (PM4, protein length change).
* Canonical splice site (+/-1,2): the exon is predicted to be skipped. Skipping that shifts the frame is
  followed to its new stop, and judged as above; an in-frame skip removing > 10 % of the protein ->
  PVS1_Strong, otherwise PVS1_Moderate. The donor of the first coding exon (no protein from that start) ->
  PVS1; the acceptor of the last exon -> by the share of protein encoded there. An allele across an exon-intron
  junction (c.116_116+2del) takes the site all the same and is judged here, placed by the bases it removes.
* Initiation codon: an alternative in-frame start may be used (the next in-frame Met is named). ClinGen SVI:
  PVS1_Moderate when a known (likely) pathogenic variant lies upstream of that Met (the region it would drop is
  shown to matter), else PVS1_Supporting. IL1RN: the next Met is codon 35 and the first (likely) pathogenic
  allele of ``known_dira_variants.tsv`` is c.141del (codon 47), so IL1RN start loss is PVS1_Supporting.
* Deletion of exons (depth calls): the same judgement (:func:`coding_loss`) of the coding bases a deletion removes
  and of the exons whose splice sites it takes; see
  :func:`dira_genotyper.interpretation.alleles.deletion_pvs1`.

Strength maps to a classification in :func:`classification_for`: PVS1 and PVS1_Strong are read with PM2
(absent from population data, moderate in ACMG 2015) as likely pathogenic; Moderate or weaker alone leaves
the allele of uncertain significance.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from dira_genotyper.annotation.hgvs import AA3, CANONICAL_SPLICE_BP, VariantEffect, translate
from dira_genotyper.annotation.transcript import Transcript

VERY_STRONG, STRONG, MODERATE, SUPPORTING = "PVS1", "PVS1_Strong", "PVS1_Moderate", "PVS1_Supporting"
NMD_BOUNDARY_NT = 50  # a stop within this many nt 5' of the last exon-exon junction escapes NMD
CRITICAL_FRACTION = 0.10  # share of the protein whose loss keeps PVS1 at Strong when NMD is not predicted

_THREE_TO_ONE = {three: one for one, three in AA3.items()}
_RESIDUE = re.compile(r"([A-Z][a-z]{2}|\*)(\d+)")


@dataclass(frozen=True)
class Pvs1:
    """The PVS1 strength (None when the criterion does not apply) and the branch of the tree that decided it."""

    strength: str | None
    branch: str
    code: str = ""  # what code acts on (e.g. "transcription_start"); the branch text is for people

    @property
    def null_variant(self) -> bool:
        return self.strength in (VERY_STRONG, STRONG)


@dataclass(frozen=True)
class CodingExon:
    number: int  # exon number on the transcript (5'->3')
    c_first: int  # first and last coding base of the exon, c. numbering
    c_last: int

    @property
    def length(self) -> int:
        return self.c_last - self.c_first + 1


def coding_exons(tx: Transcript) -> list[CodingExon]:
    """The exons that carry CDS, with the c. range of their coding part."""
    out = []
    for number, (start, end) in enumerate(tx.exons_5to3, start=tx.first_exon):
        five, three = (start, end) if tx.strand == "+" else (end, start)
        c5, c3 = tx.genomic_to_c(five), tx.genomic_to_c(three)
        if c5.utr3 or (c3.base < 0 and not c3.utr3):
            continue  # a UTR-only exon
        c_first = max(1, c5.base)
        c_last = tx.cds_length if c3.utr3 else c3.base
        out.append(CodingExon(number, c_first, c_last))
    return out


def _nmd_escape_boundary(tx: Transcript) -> int | None:
    """c. of the first coding base that escapes NMD (last junction - 50 nt); None with a single exon."""
    exons = tx.exons_5to3
    if len(exons) < 2:
        return None
    last_start = exons[-1][0] if tx.strand == "+" else exons[-1][1]
    junction_n = tx.transcript_n(last_start)  # n. of the first base of the last exon
    return junction_n - tx.utr5_length() - NMD_BOUNDARY_NT


@dataclass(frozen=True)
class Layout:
    """What the tree needs of a transcript: its coding exons (c. ranges, 5'->3'), the first c. that escapes NMD
    (None with one exon), the CDS length and the sequence from c.1 to the 3' end (None when not at hand: the
    frame of an exon loss is then judged by the altered region alone)."""

    exons: tuple[CodingExon, ...]
    nmd_boundary: int | None
    cds_length: int
    coding: str | None = None

    @property
    def protein_length(self) -> int:
        return self.cds_length // 3 - 1  # residues, without the stop


def layout_of(tx: Transcript, coding: str | None) -> Layout:
    return Layout(tuple(coding_exons(tx)), _nmd_escape_boundary(tx), tx.cds_length, coding)


def splice_sites_in(
    exons: list[tuple[int, int, int]], strand: str, start: int, end: int, reach: int = CANONICAL_SPLICE_BP
) -> dict[int, str]:
    """The exons whose splice sites a genomic span [start, end] (1-based) takes: {exon number: site}, an exon's
    donor being the first ``reach`` bases of the intron after it and its acceptor the last ``reach`` bases of the
    intron before it (+/-1,2 by default; a larger ``reach`` asks whether a span comes near them). ``exons`` are
    (number, start, end), numbered 5'->3'; intron k follows exon k."""
    ordered = sorted(exons)
    hit: dict[int, str] = {}
    for (n, s5, e5), (m, s3, e3) in zip(ordered, ordered[1:]):
        donor = (e5 + 1, e5 + reach) if strand == "+" else (s5 - reach, s5 - 1)
        acceptor = (s3 - reach, s3 - 1) if strand == "+" else (e3 + 1, e3 + reach)
        if donor[0] <= end and start <= donor[1]:
            hit.setdefault(n, f"donor of intron {n}")
        if acceptor[0] <= end and start <= acceptor[1]:
            hit.setdefault(m, f"acceptor of intron {n}")
    return hit


def _ptc_judgement(layout: Layout, ptc_c: int, shift: int, what: str, first_changed: int | None = None) -> Pvs1:
    """PVS1 of a premature stop whose first base is at ``ptc_c`` (numbering of the altered transcript,
    ``shift`` = its length change before the stop). When NMD is not predicted, the protein lost is the region
    altered: from ``first_changed`` (the first residue that differs, e.g. where a frameshift starts; default the
    stop's own codon) to the end, even when the new stop lies beyond the old one (a frameshift read through it)."""
    boundary = layout.nmd_boundary
    codon = (ptc_c + 2) // 3
    first = min(first_changed or codon, codon)
    lost = max(0.0, 1.0 - (first - 1) / layout.protein_length)
    if boundary is not None and ptc_c < boundary + shift:
        return Pvs1(
            VERY_STRONG,
            f"{what}: the new stop (codon {codon}) lies more than {NMD_BOUNDARY_NT} nt "
            "5' of the last exon-exon junction, NMD predicted (PVS1)",
        )
    place = (
        "in the last exon"
        if boundary is None or ptc_c >= boundary + shift + NMD_BOUNDARY_NT
        else (f"in the last {NMD_BOUNDARY_NT} nt of the penultimate exon")
    )
    verb = "removes" if first == codon else "alters"
    since = "" if first == codon else f", from codon {first}"
    if lost > CRITICAL_FRACTION:
        return Pvs1(
            STRONG,
            f"{what}: the new stop (codon {codon}) is {place}, NMD not predicted; it {verb} {lost:.0%} of the "
            f"protein{since} (> {CRITICAL_FRACTION:.0%}): PVS1_Strong",
        )
    return Pvs1(
        MODERATE,
        f"{what}: the new stop (codon {codon}) is {place}, NMD not predicted; it {verb} only {lost:.0%} of the "
        f"protein{since}: PVS1_Moderate",
    )


def coding_loss(layout: Layout, removed: list[tuple[int, int]], what: str) -> Pvs1:
    """PVS1 of a transcript that lacks the coding bases ``removed`` (c. ranges, inclusive): skipped or deleted
    exons, or bases a deletion takes. The shared judgement of the splice branch and of deletion calls: the start
    codon lost -> no protein (PVS1); the stop codon lost -> by the share of protein from the first base lost;
    in frame -> by the share removed; out of frame -> followed to the new stop (:func:`_ptc_judgement`)."""
    ranges = sorted(removed)
    first, last = ranges[0][0], max(e for _, e in ranges)
    length = layout.protein_length
    if first <= 3:
        return Pvs1(VERY_STRONG, f"{what}: the start codon is lost, no normal protein (PVS1)")
    if last > layout.cds_length - 3:
        lost = 1.0 - (first - 1) / 3 / length
        strength = STRONG if lost > CRITICAL_FRACTION else MODERATE
        return Pvs1(
            strength, f"{what}: the stop codon goes with it ({lost:.0%} of the protein); NMD not predicted: {strength}"
        )
    total = sum(e - s + 1 for s, e in ranges)
    first_codon = (first + 2) // 3
    if total % 3 == 0:
        share = total / 3 / length
        strength = STRONG if share > CRITICAL_FRACTION else MODERATE
        return Pvs1(strength, f"{what}, in frame, removing {share:.0%} of the protein: {strength}")
    if layout.coding is None:
        altered = 1.0 - (first_codon - 1) / length
        strength = STRONG if altered > CRITICAL_FRACTION else MODERATE
        return Pvs1(
            strength,
            f"{what}, out of frame from codon {first_codon} ({altered:.0%} of the protein altered); the new stop "
            f"was not placed (no transcript sequence), so NMD is not assumed: {strength}",
        )
    kept, at = [], 0
    for s, e in ranges:
        kept.append(layout.coding[at : s - 1])
        at = max(at, e)
    alt_protein = translate("".join(kept) + layout.coding[at:])
    if not alt_protein.endswith("*"):
        return Pvs1(None, f"{what}, out of frame with no new stop: not a null variant (PM4)")
    return _ptc_judgement(layout, 3 * (len(alt_protein) - 1) + 1, -total, what + ", out of frame", first_codon)


def _stop_codon_of(hgvs_p: str) -> tuple[int, int] | None:
    """(first changed residue, codon of the new stop) of a p. name (alt protein numbering), None without a stop."""
    body = hgvs_p.removeprefix("p.").strip("()")
    fs = re.fullmatch(r"([A-Z][a-z]{2})(\d+)[A-Z][a-z]{2}fs\*(\d+|\?)", body)
    if fs:
        return None if fs.group(3) == "?" else (int(fs.group(2)), int(fs.group(2)) + int(fs.group(3)) - 1)
    simple = re.fullmatch(r"([A-Z][a-z]{2})(\d+)\*", body)
    if simple:
        return int(simple.group(2)), int(simple.group(2))
    indel = re.fullmatch(r"([A-Z][a-z]{2})(\d+)(?:_([A-Z][a-z]{2})(\d+))?(delins|ins)(.+)", body)
    if indel and indel.group(6).endswith("*"):
        inserted = re.findall(r"[A-Z][a-z]{2}|\*", indel.group(6))
        first = int(indel.group(4)) if indel.group(5) == "ins" else int(indel.group(2))
        return first, first + inserted.index("*")
    return None


def assess(effect: VariantEffect, tx: Transcript, coding: str, pathogenic_c: Collection[int] = ()) -> Pvs1:
    """PVS1 of one small variant. ``coding`` is the transcript from c.1 to its 3' end (CDS + 3' UTR);
    ``pathogenic_c``: the c. positions of known (likely) pathogenic alleles of the gene (for start loss)."""
    terms = set(effect.consequences)
    layout = layout_of(tx, coding)
    delta = len(effect.allele.alt) - len(effect.allele.ref)
    if "splice_donor_variant" in terms or "splice_acceptor_variant" in terms:
        return _splice(effect, tx, layout)
    if "start_lost" in terms:
        return _start_loss(translate(coding[: tx.cds_length]), pathogenic_c)
    if "stop_gained" in terms or "frameshift_variant" in terms:
        what = "nonsense" if "frameshift_variant" not in terms else "frameshift"
        if "stop_lost" in terms or (effect.predicted_p or "").endswith("fs*?)"):
            return Pvs1(
                None,
                f"{what} that runs through the stop codon (extension): not a null variant, "
                "PVS1 does not apply (PM4, protein length change)",
            )
        found = _stop_codon_of(effect.predicted_p or "")
        if found is None:
            return Pvs1(MODERATE, f"{what}: the new stop could not be placed; PVS1_Moderate at most")
        first, codon = found
        return _ptc_judgement(layout, 3 * codon - 2, delta, what, first)
    return Pvs1(None, "not a null variant (no stop gained, frameshift, canonical splice or start loss)")


def _start_loss(protein: str, pathogenic_c: Collection[int]) -> Pvs1:
    """ClinGen SVI (Abou Tayoun 2018, initiation codon): an alternative in-frame start may rescue the protein, so
    PVS1_Moderate when a known (likely) pathogenic variant lies upstream of the closest in-frame Met (the region
    it would drop is shown to matter), else PVS1_Supporting."""
    nxt = protein.find("M", 1)
    if nxt <= 0:
        return Pvs1(MODERATE, "initiation codon lost and there is no other in-frame Met: PVS1_Moderate at most")
    upstream = sorted(c for c in pathogenic_c if 3 < c <= 3 * nxt)
    where = f"the next in-frame Met is codon {nxt + 1}"
    if upstream:
        return Pvs1(
            MODERATE,
            f"initiation codon lost: {where}, and a known pathogenic variant lies upstream of it (c.{upstream[0]}): "
            "PVS1_Moderate",
        )
    return Pvs1(
        SUPPORTING,
        f"initiation codon lost: {where}, and no known pathogenic variant lies upstream of it (an alternative "
        "start may be used): PVS1_Supporting",
    )


def _tx_exons(tx: Transcript) -> list[tuple[int, int, int]]:
    return [(n, s, e) for n, (s, e) in enumerate(tx.exons_5to3, start=tx.first_exon)]


def _splice(effect: VariantEffect, tx: Transcript, layout: Layout) -> Pvs1:
    """Canonical splice site lost: the exon it serves is predicted skipped (or lost with the start or stop codon).
    An allele across an exon-intron junction (c.116_116+2del) is placed by the sites its bases take."""
    if effect.intron is not None:
        donor = "splice_donor_variant" in effect.consequences
        number = effect.intron if donor else effect.intron + 1
        sites = {number: f"{'donor' if donor else 'acceptor'} of intron {effect.intron}"}
    else:
        allele = effect.allele
        first, last = (allele.start, allele.start + 1) if allele.start == allele.end else (allele.start + 1, allele.end)
        sites = splice_sites_in(_tx_exons(tx), tx.strand, first, last)
    if not sites:
        return Pvs1(MODERATE, "canonical splice site, intron not resolved: PVS1_Moderate at most")
    return exon_skip(layout, sites, "canonical splice")


def exon_skip(layout: Layout, sites: dict[int, str], what: str) -> Pvs1:
    """PVS1 of skipping the exons whose splice sites are lost (``sites``: exon number -> the site lost)."""
    named = "; ".join(sites.values())
    by_number = {e.number: e for e in layout.exons}
    lost = [by_number[n] for n in sorted(sites) if n in by_number]
    if not lost:
        skipped = ", ".join(map(str, sorted(sites)))
        return Pvs1(SUPPORTING, f"{what} {named}: exon(s) {skipped} carry no coding sequence")
    listed = ", ".join(f"{e.number} (c.{e.c_first}-{e.c_last})" for e in lost)
    if lost[0].c_first == 1:
        return Pvs1(
            VERY_STRONG,
            f"{what} {named}: exon {lost[0].number} holds the start codon; skipping "
            "or intron retention leaves no normal protein (PVS1)",
        )
    last = lost[-1].c_last >= layout.cds_length
    fate = f"the last coding exon {listed} predicted lost" if last else f"exon {listed} predicted skipped"
    return coding_loss(layout, [(e.c_first, e.c_last) for e in lost], f"{what} {named}: {fate}")


def classification_for(pvs1: Pvs1) -> str:
    """PVS1 / PVS1_Strong (+ PM2) -> likely_pathogenic; weaker alone -> uncertain."""
    return "likely_pathogenic" if pvs1.null_variant else "uncertain"
