"""HGVS c. and p. names and Sequence Ontology consequences of a genomic variant on one transcript.

The rules followed are those of the HGVS recommendations (https://hgvs-nomenclature.org):

* Indels are shifted to their most 3' position in transcript orientation before naming (the 3' rule);
  a VCF from ``bcftools norm`` is left-aligned on the genome, which is 5' on a ``+`` strand transcript.
* An insertion equal to the bases just 5' of it (after shifting) is a duplication (``dup``);
  deletions do not list their bases (``c.213_227del``); ``ins`` and ``delins`` list the new bases.
* The protein consequence is predicted (in parentheses) and uses three-letter amino-acid codes with ``*``
  for the stop: ``p.(Gln54*)``, ``p.(Cys94Phe)``, ``p.(Leu10=)``, ``p.(Asp72_Ile76del)``,
  ``p.(Asn52Lysfs*25)`` (``fs*N``: the new stop's position counting the first changed residue as 1),
  ``p.(*178Glnext*12)`` (``ext*N``: the new stop's position counting after the old stop), ``p.(Met1?)``
  for a lost start codon and ``p.?`` for intronic and splice variants. The 3' rule applies on the protein too.

Consequences use Sequence Ontology terms as Ensembl VEP does: canonical splice sites are intron bases
+1/+2 (donor) and -1/-2 (acceptor); the splice region is 3 exonic bases and intronic bases 3 to 8 from an
exon-intron junction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dira_genotyper.annotation.transcript import CachedReference, Fetch, Transcript, reverse_complement

AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
    "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
    "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "U": "Sec", "*": "*", "X": "Xaa",
}  # fmt: skip

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}

#: Consequence terms from most to least severe (the order of Ensembl VEP).
SEVERITY = (
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "splice_region_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "intergenic_variant",
)
_RANK = {term: rank for rank, term in enumerate(SEVERITY)}

CANONICAL_SPLICE_BP = 2  # intron +1/+2 and -1/-2
SPLICE_REGION_EXON_BP = 3
SPLICE_REGION_INTRON_BP = 8
GENE_NEIGHBOURHOOD_BP = 5000  # upstream/downstream_gene_variant within this distance, else intergenic_variant


def translate(seq: str, to_stop: bool = True) -> str:
    """Translate in frame 0; with ``to_stop``, end after the first stop (kept, as ``*``)."""
    protein = []
    for i in range(0, len(seq) - 2, 3):
        aa = CODON_TABLE.get(seq[i : i + 3].upper(), "X")
        protein.append(aa)
        if to_stop and aa == "*":
            break
    return "".join(protein)


def three_letter(protein: str) -> str:
    return "".join(AA3[aa] for aa in protein)


@dataclass(frozen=True)
class Allele:
    """A trimmed allele on the genome's + strand: ``ref`` = genome[start:end] (0-based, half-open)."""

    chrom: str
    start: int
    end: int
    ref: str
    alt: str

    @property
    def kind(self) -> str:
        if self.ref and not self.alt:
            return "deletion"
        if self.alt and not self.ref:
            return "insertion"
        if len(self.ref) == len(self.alt) == 1:
            return "substitution"
        return "delins"

    @property
    def touched(self) -> list[int]:
        """The 1-based genomic positions the allele changes (an insertion: the two bases it sits between)."""
        return [self.start, self.start + 1] if self.kind == "insertion" else list(range(self.start + 1, self.end + 1))


@dataclass(frozen=True)
class VariantEffect:
    """The effect of one allele on one transcript. Names carry no accession (see :meth:`c_name`)."""

    hgvs_c: str  # e.g. "c.160C>T"
    hgvs_p: str | None  # e.g. "p.(Gln54*)", "p.?"; None when the protein is not concerned (UTR, non-coding)
    consequences: tuple[str, ...]  # SO terms, most severe first
    allele: Allele  # the 3'-shifted allele that was named
    exon: int | None = None  # exon number (the transcript's own numbering) if the allele lies in one exon
    intron: int | None = None  # intron number (intron k follows exon k) if the allele lies in one intron
    effect_p: str | None = None  # p. of the placement that decided the consequences, when not the named one

    @property
    def predicted_p(self) -> str | None:
        """The protein change the consequences rest on (what PVS1 reads): ``hgvs_p`` names the placement of the c.
        name, which is ``p.?`` for an intronic name even when the exonic placement is a frameshift."""
        return self.effect_p or self.hgvs_p

    @property
    def consequence(self) -> str:
        """VEP style: the terms joined by ``&``, most severe first."""
        return "&".join(self.consequences)

    @property
    def most_severe(self) -> str:
        return self.consequences[0]

    def c_name(self, accession: str) -> str:
        return f"{accession}:{self.hgvs_c}"

    def p_name(self, accession: str | None) -> str | None:
        if self.hgvs_p is None:
            return None
        return f"{accession}:{self.hgvs_p}" if accession else self.hgvs_p


def trim_allele(chrom: str, pos: int, ref: str, alt: str) -> Allele:
    """Drop the bases that REF and ALT share (suffix first, then prefix) from a VCF-style allele."""
    ref, alt = ref.upper(), alt.upper()
    start = pos - 1
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt = ref[1:], alt[1:]
        start += 1
    if not ref and not alt:
        raise ValueError(f"{chrom}:{pos} {ref}>{alt} is not a change")
    return Allele(chrom, start, start + len(ref), ref, alt)


def shift_3prime(allele: Allele, strand: str, reference: CachedReference | Fetch) -> Allele:
    """Move a deletion or insertion to its most 3' equivalent position in transcript orientation.

    ``strand="+"`` shifts right on the genome, ``"-"`` left (the 3' end of a - strand transcript).
    """
    if not isinstance(reference, CachedReference):
        reference = CachedReference(reference, allele.chrom)
    start, end, alt = allele.start, allele.end, allele.alt
    if allele.kind == "deletion":
        if strand == "+":
            while reference.base(end) == reference.base(start) != "":
                start, end = start + 1, end + 1
        else:
            while start > 0 and reference.base(start - 1) == reference.base(end - 1):
                start, end = start - 1, end - 1
        return Allele(allele.chrom, start, end, reference.seq(start, end), "")
    if allele.kind == "insertion":
        if strand == "+":
            while reference.base(start) == alt[0]:
                alt, start = alt[1:] + alt[0], start + 1
        else:
            while start > 0 and reference.base(start - 1) == alt[-1]:
                alt, start = alt[-1] + alt[:-1], start - 1
        return Allele(allele.chrom, start, start, "", alt)
    return allele


# ------------------------------------------------------------------------------------------- c. names
def _c_range(tx: Transcript, g_first: int, g_last: int) -> str:
    """``a_b`` (or ``a``) for genomic positions g_first <= g_last, ordered 5'->3' on the transcript."""
    a, b = tx.genomic_to_c(g_first), tx.genomic_to_c(g_last)
    if tx.strand == "-":
        a, b = b, a
    return str(a) if g_first == g_last else f"{a}_{b}"


def change_name(
    allele: Allele,
    reference: CachedReference | None,
    strand: str,
    span: Callable[[int, int], str],
    orient: Callable[[str], str],
) -> str:
    """The change of a 3'-shifted allele as HGVS writes it after ``c.``/``g.``: ``160C>T``, ``213_227del``,
    ``8dup``, ``2_3insTC``, ``..delinsAT``. `span(first, last)` names genomic positions first <= last in the
    name's coordinates; `orient` turns + strand bases into the name's strand; an insertion of the bases just 5'
    of it on `strand` is a ``dup`` (not looked for without a `reference`)."""
    if allele.kind == "substitution":
        return f"{span(allele.end, allele.end)}{orient(allele.ref)}>{orient(allele.alt)}"
    if allele.kind != "insertion":
        kind = "del" if allele.kind == "deletion" else f"delins{orient(allele.alt)}"
        return f"{span(allele.start + 1, allele.end)}{kind}"
    size = len(allele.alt)
    if reference is not None and strand == "+" and reference.seq(allele.start - size, allele.start) == allele.alt:
        return f"{span(allele.start - size + 1, allele.start)}dup"
    if reference is not None and strand == "-" and reference.seq(allele.start, allele.start + size) == allele.alt:
        return f"{span(allele.start + 1, allele.start + size)}dup"
    return f"{span(allele.start, allele.start + 1)}ins{orient(allele.alt)}"


def _c_name(tx: Transcript, allele: Allele, reference: CachedReference) -> str:
    orient = (lambda s: s) if tx.strand == "+" else reverse_complement
    return f"{tx.prefix}." + change_name(allele, reference, tx.strand, lambda a, b: _c_range(tx, a, b), orient)


# --------------------------------------------------------------------------------------------- p. names
def _aa(protein: str, index: int) -> str:
    """``Gln54`` for the residue at 0-based ``index``."""
    return f"{AA3[protein[index]]}{index + 1}"


def _aa_range(protein: str, first: int, last: int) -> str:
    return _aa(protein, first) if first == last else f"{_aa(protein, first)}_{_aa(protein, last)}"


def protein_change(coding: str, cds_length: int, start: int, end: int, alt: str) -> tuple[list[str], str]:
    """Consequence terms and HGVS p. description (without ``p.``) of replacing coding[start:end] by alt.

    ``coding`` is the transcript from c.1 to its 3' end (CDS then 3' UTR), ``0 <= start < cds_length``.
    """
    alt_seq = coding[:start] + alt + coding[end:]
    ref_p = translate(coding[:cds_length])
    delta = len(alt) - (end - start)
    frameshift = delta % 3 != 0
    if frameshift:
        indel_term = ["frameshift_variant"]
    else:
        indel_term = [] if delta == 0 else ["inframe_deletion" if delta < 0 else "inframe_insertion"]

    touches_start = (end > start and start < 3) or (end == start and 0 < start < 3)
    if touches_start and alt_seq[:3] != coding[:3]:
        return ["start_lost"], "Met1?"

    stop_first = cds_length - 3
    touches_stop = (end > start and end > stop_first and start < cds_length) or (
        end == start and stop_first < start < cds_length
    )
    alt_p = translate(alt_seq)
    alt_has_stop = alt_p.endswith("*")
    i = 0
    while i < min(len(ref_p), len(alt_p)) and ref_p[i] == alt_p[i]:
        i += 1

    if i >= len(ref_p):  # same protein, same stop
        if touches_stop or delta != 0:  # only a change at the stop codon can leave the protein as it was
            # the protein is as it was: no frameshift or in-frame change of it (its length change is after the stop)
            return ["stop_retained_variant"], f"{_aa(ref_p, len(ref_p) - 1)}="
        codon = min(start // 3, len(ref_p) - 1)
        return ["synonymous_variant"], f"{_aa(ref_p, codon)}="

    if ref_p[i] == "*" and (touches_stop or frameshift):  # the stop codon is the first residue changed
        n_new = f"{len(alt_p) - 1 - i}" if alt_has_stop else "?"
        terms = ["stop_lost"] + indel_term
        return terms, f"*{i + 1}{AA3[alt_p[i]]}ext*{n_new}"

    if frameshift:
        if alt_p[i] == "*":
            return ["stop_gained", "frameshift_variant"], f"{_aa(ref_p, i)}*"
        n_new = f"{len(alt_p) - i}" if alt_has_stop else "?"
        return ["frameshift_variant"], f"{_aa(ref_p, i)}{AA3[alt_p[i]]}fs*{n_new}"

    shift_aa = delta // 3
    grown = len(alt_p) - len(ref_p) - shift_aa
    if touches_stop and (grown > 0 or not alt_has_stop):
        # The stop codon is deleted in frame with residues before it: the protein runs on into the 3' UTR.
        # HGVS describes that as a frameshift from the first changed residue (not a delins).
        n_new = f"{len(alt_p) - i}" if alt_has_stop else "?"
        return ["stop_lost"] + indel_term, f"{_aa(ref_p, i)}{AA3[alt_p[i]]}fs*{n_new}"
    if alt_p[i] == "*" and not (alt_has_stop and len(alt_p) == len(ref_p) + shift_aa):
        # a new stop before the old one (an in-frame change that keeps the protein length ending at the old
        # stop, e.g. deleting the last residue before it, is named below as a deletion)
        return ["stop_gained"] + indel_term, f"{_aa(ref_p, i)}*"
    if alt_has_stop and grown < 0:  # a new stop ends the protein early
        last = len(alt_p) - 1 - shift_aa  # the ref residue the new stop stands in for
        inserted = three_letter(alt_p[i:])
        if last < i:
            return ["stop_gained"] + indel_term, f"{_aa_range(ref_p, i - 1, i)}ins{inserted}"
        return ["stop_gained"] + indel_term, f"{_aa_range(ref_p, i, last)}delins{inserted}"

    j = 0  # common suffix, not overlapping the common prefix
    while i + j < min(len(ref_p), len(alt_p)) and ref_p[len(ref_p) - 1 - j] == alt_p[len(alt_p) - 1 - j]:
        j += 1
    deleted = ref_p[i : len(ref_p) - j]
    inserted = alt_p[i : len(alt_p) - j]
    if not inserted:
        return indel_term or ["inframe_deletion"], f"{_aa_range(ref_p, i, i + len(deleted) - 1)}del"
    if not deleted:
        size = len(inserted)
        if i >= size and ref_p[i - size : i] == inserted:
            return indel_term or ["inframe_insertion"], f"{_aa_range(ref_p, i - size, i - 1)}dup"
        return indel_term or ["inframe_insertion"], f"{_aa_range(ref_p, i - 1, i)}ins{three_letter(inserted)}"
    terms = indel_term or ["missense_variant"]
    if len(deleted) == 1 and len(inserted) == 1:
        return terms, f"{_aa(ref_p, i)}{AA3[inserted]}"
    return terms, f"{_aa_range(ref_p, i, i + len(deleted) - 1)}delins{three_letter(inserted)}"


# ------------------------------------------------------------------------------------------ consequence
def _splice_class(tx: Transcript, pos: int) -> str | None:
    """``donor``/``acceptor`` for canonical splice bases, ``region`` for the splice region, else None."""
    region = tx.region(pos)
    if region.feature == "intron":
        distance = abs(region.intron_offset)
        if distance <= CANONICAL_SPLICE_BP:
            return "donor" if region.intron_offset > 0 else "acceptor"
        return "region" if distance <= SPLICE_REGION_INTRON_BP else None
    if region.exon is None:
        return None
    n = tx.transcript_n(pos)
    exon_5to3 = tx.exons_5to3
    first_n = 1 + sum(e - s + 1 for s, e in exon_5to3[: region.exon - 1])
    last_n = first_n + exon_5to3[region.exon - 1][1] - exon_5to3[region.exon - 1][0]
    near_acceptor = region.exon > 1 and n - first_n < SPLICE_REGION_EXON_BP
    near_donor = region.exon < len(exon_5to3) and last_n - n < SPLICE_REGION_EXON_BP
    return "region" if near_acceptor or near_donor else None


_UTR_TERM = {"five_prime_utr": "5_prime_UTR_variant", "three_prime_utr": "3_prime_UTR_variant"}


@dataclass
class _Assessment:
    terms: set[str]
    hgvs_p: str | None
    regions: list
    splice_risk: int  # 2: hits a canonical splice base, 1: straddles an exon-intron junction, 0: neither


def _exonic_effect(tx: Transcript, fetch: Fetch, start: int, end: int, alt: str, terms: set[str]) -> str | None:
    """Add the terms of replacing transcript bases [start, end) (0 = c.1) by alt; return the p. name."""
    if end <= 0 or (start == end == 0):
        terms.add("5_prime_UTR_variant")
        return None
    if start >= tx.cds_length:
        terms.add("3_prime_UTR_variant")
        return None
    if start < 0:
        terms.update({"5_prime_UTR_variant", "start_lost"})
        return "p.(Met1?)"
    protein_terms, body = protein_change(tx.coding_and_3utr(fetch), tx.cds_length, start, end, alt)
    terms.update(protein_terms)
    if end > tx.cds_length:
        terms.add("3_prime_UTR_variant")
    return f"p.({body})"


def _assess(tx: Transcript, fetch: Fetch, allele: Allele, reference: CachedReference) -> _Assessment:
    """Consequence terms and p. name of one (shifted) representation of an allele."""
    touched = allele.touched
    regions = [tx.region(g) for g in touched]
    features = {r.feature for r in regions}
    splice = [_splice_class(tx, g) for g in touched]
    exonic_features = {"cds", "five_prime_utr", "three_prime_utr", "exon"}
    orient_alt = allele.alt if tx.strand == "+" else reverse_complement(allele.alt)
    terms: set[str] = set()
    hgvs_p: str | None = None
    risk = 0
    junction_insertion = allele.kind == "insertion" and "intron" in features and bool(features & exonic_features)

    if allele.kind == "insertion" and splice[0] == splice[1] in ("donor", "acceptor"):
        # between the two bases of a canonical site: broken unless the new base next to the exon-side one
        # is the one it displaces (GT stays GT if the insertion starts with T, AG stays AG if it ends with A)
        site = splice[0]
        inner, outer = sorted(touched, key=lambda g: abs(tx.region(g).intron_offset))
        outer_base = reference.base(outer - 1)
        outer_base = outer_base if tx.strand == "+" else reverse_complement(outer_base)
        kept = orient_alt[0] if site == "donor" else orient_alt[-1]
        if kept == outer_base:
            terms.update({"splice_region_variant", "intron_variant"})
        else:
            terms.add(f"splice_{site}_variant")
            risk = 2
    elif allele.kind != "insertion":
        for site in ("donor", "acceptor"):
            if site in splice:
                terms.add(f"splice_{site}_variant")
                risk = 2
    if any(s is not None for s in splice) and not (risk and all(s in ("donor", "acceptor") for s in splice)):
        terms.add("splice_region_variant")
    intronic = [r for r in regions if r.feature == "intron"]
    if not junction_insertion and any(abs(r.intron_offset) > CANONICAL_SPLICE_BP for r in intronic):
        terms.add("intron_variant")
    if features & {"upstream", "downstream"}:
        distance = min(min(abs(g - tx.start), abs(g - tx.end)) for g in touched)
        if features <= {"upstream", "downstream"} and distance > GENE_NEIGHBOURHOOD_BP:
            terms.add("intergenic_variant")
        else:
            terms.update(f"{f}_gene_variant" for f in features & {"upstream", "downstream"})

    if not tx.coding:
        if "exon" in features:
            terms.add("non_coding_transcript_exon_variant")
        if features & exonic_features and intronic:
            risk = max(risk, 1)
    elif features <= exonic_features:
        offsets = sorted(tx.transcript_n(g) - tx.utr5_length() - 1 for g in touched)
        start, end = (offsets[-1], offsets[-1]) if allele.kind == "insertion" else (offsets[0], offsets[-1] + 1)
        hgvs_p = _exonic_effect(tx, fetch, start, end, orient_alt, terms)
    elif junction_insertion and risk == 0:
        # inserted at an exon end next to an intact splice site: the exon takes the new bases
        exon_side = next(g for g, r in zip(touched, regions) if r.feature != "intron")
        offset = tx.transcript_n(exon_side) - tx.utr5_length() - 1
        donor_side = any(r.intron_offset > 0 for r in regions if r.feature == "intron")
        at = offset + 1 if donor_side else offset
        hgvs_p = _exonic_effect(tx, fetch, at, at, orient_alt, terms)
        terms.add("splice_region_variant")
        risk = 1
    else:
        # straddles an exon-intron junction or lies in an intron: the protein effect is not predictable
        if "five_prime_utr" in features:
            terms.add("5_prime_UTR_variant")
        if "three_prime_utr" in features:
            terms.add("3_prime_UTR_variant")
        cds_touched = [g for g, r in zip(touched, regions) if r.feature == "cds"]
        if cds_touched and allele.kind != "insertion":
            c_numbers = [tx.genomic_to_c(g).base for g in cds_touched]
            if min(c_numbers) <= 3:
                terms.add("start_lost")
            elif max(c_numbers) > tx.cds_length - 3:
                terms.add("stop_lost")
            else:
                terms.add("coding_sequence_variant")
        if intronic or cds_touched:
            hgvs_p = "p.(Met1?)" if "start_lost" in terms else "p.?"
        if intronic and features & exonic_features:
            risk = max(risk, 1)
    if not terms:
        terms.add("coding_sequence_variant")
    return _Assessment(terms, hgvs_p, regions, risk)


def describe_variant(
    tx: Transcript, fetch: Fetch, pos: int, ref: str, alt: str, chrom: str | None = None
) -> VariantEffect:
    """Name and classify the VCF-style allele ``pos ref>alt`` (1-based, REF as on the genome) on ``tx``.

    The name uses the 3'-shifted allele (HGVS). An indel in a repeat can often be placed on either side of
    an exon-intron junction; since every placement gives the same sequence, a splice site is only called
    broken when no placement spares it, and the consequences are those of the placement that touches the
    splice sites least (the 3'-shifted one when that is a tie). The p. name is that of the placement the c. name
    describes: an intronic c. name (e.g. ``c.20+1del`` beside an exon ending in G) is ``p.?``, even when the exonic
    placement's frameshift decides the consequence.

    Raises ValueError when REF does not match the reference sequence or the allele is symbolic.
    """
    chrom = chrom or tx.chrom
    if not ref or not alt or not set(ref.upper() + alt.upper()) <= set("ACGTN"):
        raise ValueError(f"{chrom}:{pos} {ref}>{alt}: only sequence alleles can be named")
    reference = CachedReference(fetch, chrom)
    genome_ref = reference.seq(pos - 1, pos - 1 + len(ref))
    if genome_ref != ref.upper():
        raise ValueError(f"{chrom}:{pos}: VCF REF {ref} does not match the reference sequence ({genome_ref or 'none'})")
    trimmed = trim_allele(chrom, pos, ref, alt)
    allele = shift_3prime(trimmed, tx.strand, reference)
    other = shift_3prime(trimmed, "-" if tx.strand == "+" else "+", reference)
    hgvs_c = _c_name(tx, allele, reference)
    named = assessment = _assess(tx, fetch, allele, reference)
    if other != allele and assessment.splice_risk:
        alternative = _assess(tx, fetch, other, reference)
        if alternative.splice_risk < assessment.splice_risk:
            assessment = alternative

    ordered = tuple(sorted(assessment.terms, key=lambda t: _RANK.get(t, len(SEVERITY))))
    exons = {r.exon for r in assessment.regions}
    introns = {r.intron for r in assessment.regions}
    return VariantEffect(
        hgvs_c=hgvs_c,
        hgvs_p=named.hgvs_p,  # the p. of the placement the c. name gives: an intronic c. name is p.?
        effect_p=assessment.hgvs_p if assessment is not named else None,
        consequences=ordered,
        allele=allele,
        exon=exons.pop() + tx.first_exon - 1 if len(exons) == 1 and None not in exons else None,
        intron=introns.pop() + tx.first_exon - 1 if len(introns) == 1 and None not in introns else None,
    )
