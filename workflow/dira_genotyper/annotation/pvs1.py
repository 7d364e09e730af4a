"""Strength of the ACMG/AMP PVS1 criterion (null variant) for one allele, by the ClinGen SVI decision tree.

Abou Tayoun et al. 2018, Hum Mutat 39:1517 ("Recommendations for interpreting the loss of function PVS1
ACMG/AMP variant criterion"). The branches applied here, for a gene where loss of function is the known
disease mechanism (IL1RN in DIRA):

* Nonsense / frameshift: nonsense-mediated decay (NMD) is predicted when the premature stop codon lies more
  than 50 nt 5' of the last exon-exon junction -> PVS1. When NMD is not predicted (a stop in the last exon or
  in the last 50 nt of the penultimate exon) the strength depends on how much protein is lost: > 10 % ->
  PVS1_Strong, otherwise PVS1_Moderate. A frameshift that runs through the old stop codon (an extension,
  ``fs*?``/``ext``) is not a null variant: PVS1 does not apply (PM4, protein length change).
* Canonical splice site (+/-1,2): the exon is predicted to be skipped. Skipping that shifts the frame is
  followed to its new stop, and judged as above; an in-frame skip removing > 10 % of the protein ->
  PVS1_Strong, otherwise PVS1_Moderate. The donor of the first coding exon (no protein from that start) ->
  PVS1; the acceptor of the last exon -> by the share of protein encoded there.
* Initiation codon: PVS1_Moderate at most (an alternative in-frame start may be used); the next in-frame Met
  is named.
* Deletion of exons (depth calls): see :func:`dira_genotyper.interpretation.alleles.deletion_pvs1`.

Strength maps to a classification in :func:`classification_for`: PVS1 and PVS1_Strong are read with PM2
(absent from population data, moderate in ACMG 2015) as likely pathogenic; Moderate or weaker alone leaves
the allele of uncertain significance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dira_genotyper.annotation.hgvs import AA3, VariantEffect, translate
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


def _ptc_judgement(tx: Transcript, ptc_c: int, protein_length: int, shift: int, what: str) -> Pvs1:
    """PVS1 of a premature stop whose first base is at ``ptc_c`` (numbering of the altered transcript,
    ``shift`` = its length change before the stop)."""
    boundary = _nmd_escape_boundary(tx)
    codon = (ptc_c + 2) // 3
    kept = codon - 1
    lost = max(0.0, 1.0 - kept / protein_length)
    if boundary is not None and ptc_c < boundary + shift:
        return Pvs1(
            VERY_STRONG,
            f"{what}: the new stop (codon {codon}) lies more than {NMD_BOUNDARY_NT} nt "
            "5' of the last exon-exon junction, NMD predicted (PVS1)",
        )
    place = (
        "in the last exon"
        if ptc_c >= boundary + shift + NMD_BOUNDARY_NT
        else (f"in the last {NMD_BOUNDARY_NT} nt of the penultimate exon")
    )
    if lost > CRITICAL_FRACTION:
        return Pvs1(
            STRONG,
            f"{what}: the new stop (codon {codon}) is {place}, NMD not predicted; it removes "
            f"{lost:.0%} of the protein (> {CRITICAL_FRACTION:.0%}): PVS1_Strong",
        )
    return Pvs1(
        MODERATE,
        f"{what}: the new stop (codon {codon}) is {place}, NMD not predicted; it removes only "
        f"{lost:.0%} of the protein: PVS1_Moderate",
    )


def _stop_codon_of(hgvs_p: str) -> int | None:
    """Codon number of the new stop in a p. name (alt protein numbering), None if there is none."""
    body = hgvs_p.removeprefix("p.").strip("()")
    fs = re.fullmatch(r"([A-Z][a-z]{2})(\d+)[A-Z][a-z]{2}fs\*(\d+|\?)", body)
    if fs:
        return None if fs.group(3) == "?" else int(fs.group(2)) + int(fs.group(3)) - 1
    simple = re.fullmatch(r"([A-Z][a-z]{2})(\d+)\*", body)
    if simple:
        return int(simple.group(2))
    indel = re.fullmatch(r"([A-Z][a-z]{2})(\d+)(?:_([A-Z][a-z]{2})(\d+))?(delins|ins)(.+)", body)
    if indel and indel.group(6).endswith("*"):
        inserted = re.findall(r"[A-Z][a-z]{2}|\*", indel.group(6))
        first = int(indel.group(4)) if indel.group(5) == "ins" else int(indel.group(2))
        return first + inserted.index("*")
    return None


def assess(effect: VariantEffect, tx: Transcript, coding: str) -> Pvs1:
    """PVS1 of one small variant. ``coding`` is the transcript from c.1 to its 3' end (CDS + 3' UTR)."""
    terms = set(effect.consequences)
    protein = translate(coding[: tx.cds_length])
    length = len(protein) - 1  # residues, without the stop
    delta = len(effect.allele.alt) - len(effect.allele.ref)
    if "splice_donor_variant" in terms or "splice_acceptor_variant" in terms:
        return _splice(effect, tx, coding, protein)
    if "start_lost" in terms:
        nxt = protein.find("M", 1)
        where = f"the next in-frame Met is codon {nxt + 1}" if nxt > 0 else "there is no other in-frame Met"
        return Pvs1(
            MODERATE,
            f"initiation codon lost: {where}; an alternative start may be used, so ClinGen caps PVS1 at Moderate",
        )
    if "stop_gained" in terms or "frameshift_variant" in terms:
        what = "nonsense" if "frameshift_variant" not in terms else "frameshift"
        if "stop_lost" in terms or (effect.predicted_p or "").endswith("fs*?)"):
            return Pvs1(
                None,
                f"{what} that runs through the stop codon (extension): not a null variant, "
                "PVS1 does not apply (PM4, protein length change)",
            )
        codon = _stop_codon_of(effect.predicted_p or "")
        if codon is None:
            return Pvs1(MODERATE, f"{what}: the new stop could not be placed; PVS1_Moderate at most")
        return _ptc_judgement(tx, 3 * codon - 2, length, delta, what)
    return Pvs1(None, "not a null variant (no stop gained, frameshift, canonical splice or start loss)")


def _splice(effect: VariantEffect, tx: Transcript, coding: str, protein: str) -> Pvs1:
    donor = "splice_donor_variant" in effect.consequences
    intron = effect.intron
    exons = coding_exons(tx)
    if intron is None:
        return Pvs1(MODERATE, "canonical splice site, intron not resolved: PVS1_Moderate at most")
    skipped_number = intron if donor else intron + 1
    site = f"{'donor' if donor else 'acceptor'} of intron {intron}"
    exon = next((e for e in exons if e.number == skipped_number), None)
    length = len(protein) - 1
    if exon is None:
        return Pvs1(SUPPORTING, f"canonical splice {site}: exon {skipped_number} carries no coding sequence")
    if exon.c_first == 1:
        return Pvs1(
            VERY_STRONG,
            f"canonical splice {site}: exon {exon.number} holds the start codon; skipping "
            "or intron retention leaves no normal protein (PVS1)",
        )
    if exon.c_last >= tx.cds_length:
        lost = 1.0 - (exon.c_first - 1) / 3 / length
        strength = STRONG if lost > CRITICAL_FRACTION else MODERATE
        return Pvs1(
            strength,
            f"canonical splice {site}: the last coding exon {exon.number} (c.{exon.c_first}-"
            f"{exon.c_last}, {lost:.0%} of the protein) is predicted lost; NMD not predicted: "
            f"{strength}",
        )
    skipped = coding[: exon.c_first - 1] + coding[exon.c_last :]
    what = f"canonical splice {site}: exon {exon.number} (c.{exon.c_first}-{exon.c_last}) predicted skipped"
    if exon.length % 3:
        alt_protein = translate(skipped)
        if not alt_protein.endswith("*"):
            return Pvs1(None, f"{what}, out of frame with no new stop: not a null variant (PM4)")
        ptc_c = 3 * (len(alt_protein) - 1) + 1
        return _ptc_judgement(tx, ptc_c, length, -exon.length, what + ", out of frame")
    lost = exon.length / 3 / length
    strength = STRONG if lost > CRITICAL_FRACTION else MODERATE
    return Pvs1(strength, f"{what}, in frame, removing {lost:.0%} of the protein: {strength}")


def classification_for(pvs1: Pvs1) -> str:
    """PVS1 / PVS1_Strong (+ PM2) -> likely_pathogenic; weaker alone -> uncertain."""
    return "likely_pathogenic" if pvs1.null_variant else "uncertain"
