"""Phase of two alleles (parents first, then read pairs) and the family (Mendelian) check.

**What a parent's data say about an allele of the child** (:func:`carries`): ``True`` when the parent has a PASS
call of it (or a called deletion over it); ``False`` only when the parent is confidently reference there: no call
over the site (or a PASS ``0/0``) and every base of the site callable in the parent at the parent's copy number
there (its callable regions); ``None`` (unknown) otherwise: a filtered call, an incomplete genotype, another
call over the site, an uncallable site, a parent without callable regions, a copy number not called. A missing
or filtered call is never read as "reference". (The callable step judges the same targets the caller calls, where
every reported small-variant allele lies.)

**Origin and parental phase.** An allele is paternal when the father carries it and the mother confidently does
not, maternal the other way round (:func:`allele_origin`); both parents are needed. Two alleles are phased by the
parents only when both origins are known: the same parent = in cis, different parents = in trans. A parent who
carries both alleles does not by himself show that they are in cis: he may carry them on different copies (treated
DIRA patients now have children) and pass on either one; only the other parent's confident reference at both
sites shows that both came from him.

**Read-backed phase** (:func:`phase_from_reads`) classifies each read by its fit to the reference and alternate
haplotype of each allele (:func:`dira_genotyper.calling.realign.read_allele_fit`), not by where its aligner put a
gap: the same deletion in a homopolymer can be placed anywhere in the run.
"""

from __future__ import annotations

import pysam

from dira_genotyper.calling.realign import haplotypes, read_allele_fit, unclipped_span
from dira_genotyper.interpretation.alleles import allele_label
from dira_genotyper.interpretation.gene_state import Callability, GeneModel, copy_state

READ_PHASE_WINDOW = 800  # bp: two variants farther apart are not read on one fragment
HAPLOTYPE_FLANK = 500  # bp of reference either side of an allele in the haplotypes reads are compared with


def is_pass(variant: dict) -> bool:
    flt = variant.get("filter")
    return flt in ("PASS", None, ".") or flt == ["PASS"]


def _span(chrom: str, pos: int, ref: str | None, alt: str | None) -> tuple[str, int, int]:
    """1-based inclusive reference bases a call rests on (an insertion: its anchor and the base after it)."""
    ref, alt = ref or "N", alt or ""
    return chrom, pos, pos + len(ref) - 1 + (1 if len(alt) > len(ref) else 0)


def _overlap(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2]


def _confident_reference(variant: dict) -> bool:
    genotype = str(variant.get("genotype") or "").replace("|", "/")
    return variant.get("zygosity") is None and genotype == "0/0" and is_pass(variant)


def carries(allele: dict, parent: dict, model: GeneModel) -> bool | None:
    """Does a parent carry this allele of the child? ``None`` when the parent's data cannot tell.

    ``parent`` holds the parent's ``variants`` (every call, filtered ones included), ``cnv`` and ``callable`` (its
    callable step's JSON; without it, no site counts as confidently reference)."""
    g = allele["genomic"]
    cnv = parent.get("cnv")
    if allele["kind"] == "deletion":
        return _carries_deletion(g, cnv, model)
    site = _span(g["chrom"], g["pos"], g["ref"], g["alt"])
    calls = [
        v
        for v in parent.get("variants", [])
        if _overlap(_span(v["chrom"], v["pos"], v["ref"], v["alt"]), site) and not _confident_reference(v)
    ]
    for v in calls:
        if (v["chrom"], v["pos"], v["ref"], v["alt"]) == (g["chrom"], g["pos"], g["ref"], g["alt"]):
            return True if is_pass(v) and v.get("zygosity") is not None else None  # filtered or ./. = unknown
    if calls or not parent.get("callable"):
        return None  # another call over the site, or no callability: cannot say "reference"
    callability = Callability.from_json(parent["callable"])
    if callability.legacy_uncallable is not None:
        return None
    cn = copy_state(cnv, model).at(model, g["chrom"], g["pos"]) if cnv else None
    # the site as a substitution of its own length: none of its bases is excused as the parent's own deletion
    bases = {"chrom": site[0], "pos": site[1], "ref": "N" * (site[2] - site[1] + 1)}
    bases["alt"] = bases["ref"]
    return None if callability.variant_uncallable(bases, cn) else False


def _carries_deletion(g: dict, cnv: dict | None, model: GeneModel) -> bool | None:
    """A deletion is carried when the parent has a called deletion over it; not carried only when the parent's
    copy number there (the gene and every exon it touches) is two."""
    if cnv is None or cnv.get("status") != "called":
        return None
    deletions = cnv.get("deletions", [])
    if any(d["chrom"] == g["chrom"] and d["start"] <= g["end"] and g["pos"] <= d["end"] for d in deletions):
        return True
    state = copy_state(cnv, model)
    exons = model.exons_hit(g["chrom"], g["pos"], g["end"])
    return False if state.gene_cn == 2 and all(state.exon_cn.get(n) == 2 for n in exons) else None


def parental_calls(allele: dict, parents: dict[str, dict], model: GeneModel) -> dict[str, bool | None]:
    """:func:`carries` for each parent present in the run (role -> True/False/None)."""
    return {role: carries(allele, data, model) for role, data in parents.items() if data}


def allele_origin(carried: dict[str, bool | None]) -> str | None:
    """'paternal' when the father carries the allele and the mother confidently does not, 'maternal' the other
    way round; None when the parents' data do not show it (a parent missing, unknown or both carrying)."""
    father, mother = carried.get("father"), carried.get("mother")
    if father is True and mother is False:
        return "paternal"
    if mother is True and father is False:
        return "maternal"
    return None


def phase_from_reads(
    bam: str, first: dict, second: dict, min_pairs: int = 3, reference: str | None = None
) -> tuple[str, str]:
    """Read-backed phase of two small variants: count fragments that carry both, one or neither alt. Reads are
    judged at an indel by their fit to its two haplotypes, which needs ``reference`` (the FASTA the reads were
    aligned to); without it an indel is not read-phased."""
    g1, g2 = first["genomic"], second["genomic"]
    if "deletion" in (first["kind"], second["kind"]):
        return "unknown", "a copy-number deletion is not phased from read pairs"
    if g1["chrom"] != g2["chrom"] or abs(g1["pos"] - g2["pos"]) > READ_PHASE_WINDOW:
        return "unknown", "too far apart to be read on one fragment"
    states: dict[str, dict[int, str]] = {}
    lo, hi = min(g1["pos"], g2["pos"]) - 1, max(g1["end"], g2["end"])
    fasta = pysam.FastaFile(reference) if reference else None
    try:
        judges = [_AlleleJudge(g, fasta) for g in (g1, g2)]
        with pysam.AlignmentFile(bam) as handle:
            for read in handle.fetch(g1["chrom"], lo, hi):
                if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_duplicate:
                    continue
                for index, judge in enumerate(judges):
                    state = judge(read)
                    if state:
                        states.setdefault(read.query_name, {})[index] = state
    finally:
        if fasta is not None:
            fasta.close()
    cis = trans = 0
    for seen in states.values():
        if len(seen) == 2 and "alt" in seen.values():
            if seen[0] == seen[1]:
                cis += 1
            else:
                trans += 1
    if cis + trans < min_pairs:
        return "unknown", f"only {cis + trans} read pairs cover both variants"
    if trans >= 0.8 * (cis + trans):
        return "in_trans", f"{trans} of {cis + trans} read pairs carry one variant each"
    if cis >= 0.8 * (cis + trans):
        return "in_cis", f"{cis} of {cis + trans} read pairs carry both variants together"
    return "unknown", f"read pairs disagree ({cis} cis, {trans} trans)"


class _AlleleJudge:
    """Which allele one read shows at one variant: 'alt', 'ref' or None (the read cannot tell).

    An SNV is read at its base. Any other allele (indel, MNV) is judged by the read's fit to the reference and
    alternate haplotypes, so that a deletion the aligner placed elsewhere in a homopolymer or a repeat, or left
    soft-clipped, still counts as the deletion."""

    def __init__(self, g: dict, fasta: pysam.FastaFile | None) -> None:
        self.g = g
        self.snv = len(g["ref"]) == len(g["alt"]) == 1
        self.haps = None
        if not self.snv and fasta is not None:
            self.haps = haplotypes(fasta, g["chrom"], g["pos"] - 1, g["ref"], g["alt"], HAPLOTYPE_FLANK)

    def __call__(self, read: pysam.AlignedSegment) -> str | None:
        pos0, g = self.g["pos"] - 1, self.g
        if self.snv:
            qpos = next((q for q, r in read.get_aligned_pairs(matches_only=True) if r == pos0), None)
            if qpos is None:
                return None
            base = read.query_sequence[qpos]
            return "alt" if base == g["alt"] else "ref" if base == g["ref"] else None
        if self.haps is None:
            return None
        first, last = unclipped_span(read)
        if first > pos0 or last < pos0 + len(g["ref"]):
            return None  # the read does not reach across the allele
        fit = read_allele_fit(read, *self.haps)
        return "alt" if fit > 0 else "ref" if fit < 0 else None


def resolve_phase(
    lof: list[dict], bam: str | None, parents: dict[str, dict], model: GeneModel, reference: str | None = None
) -> dict:
    """Phase of two heterozygous events: parents first (both origins shown), then reads; otherwise unknown."""
    first, second = lof[0], lof[1]
    present = {role: data for role, data in parents.items() if data}
    origins = [allele_origin(parental_calls(a, present, model)) for a in (first, second)]
    if None not in origins:
        if origins[0] == origins[1]:
            who = "father" if origins[0] == "paternal" else "mother"
            other = "mother" if who == "father" else "father"
            detail = f"both alleles come from the {who}; the {other} is reference at both sites"
            return {"status": "in_cis", "method": "parents", "detail": detail}
        detail = "each parent carries one of the two alleles and is reference at the other"
        return {"status": "in_trans", "method": "parents", "detail": detail}
    parental = _parents_detail((first, second), present, model)
    if bam:
        status, detail = phase_from_reads(bam, first, second, reference=reference)
        if status != "unknown":
            return {"status": status, "method": "reads", "detail": detail}
        return {"status": "unknown", "method": None, "detail": f"phase could not be told: {detail}; {parental}"}
    return {"status": "unknown", "method": None, "detail": f"phase could not be told; {parental}"}


def _parents_detail(alleles: tuple[dict, dict], present: dict[str, dict], model: GeneModel) -> str:
    """Why the parents in the run did not phase the two alleles."""
    if set(present) != {"father", "mother"}:
        return "both parents are needed to phase by inheritance" + (
            f" (only the {', '.join(present)} is in this run)" if present else " (none is in this run)"
        )
    unknown = [
        f"the {role}'s genotype at {allele_label(a, model.gene)}"
        for a in alleles
        for role, has in parental_calls(a, present, model).items()
        if has is None
    ]
    if unknown:
        return (
            "the parents do not resolve it: no confident call of "
            + "; ".join(unknown)
            + (" (a filtered or missing call, or a site not callable)")
        )
    return "the parents do not resolve it: their genotypes do not show which parent passed on each allele"


def family_check(sample: dict, alleles: list[dict], parents: dict[str, dict], model: GeneModel) -> dict:
    """Mendelian check of the child's alleles against the parents in the run, and each allele's ``origin``."""
    info = {
        "family": sample.get("family"),
        "father": sample.get("father"),
        "mother": sample.get("mother"),
        "mendelian_consistent": None,
        "detail": "no parents in this run",
    }
    present = {role: data for role, data in parents.items() if data}
    if not present:
        return info
    problems = []
    for allele in alleles:
        carried = parental_calls(allele, present, model)
        label = allele_label(allele, model.gene)
        if allele["zygosity"] == "homozygous":
            missing = [role for role, has in carried.items() if has is False]
            if missing:
                problems.append(_homozygous_problem(label, missing))
        elif allele["zygosity"] == "heterozygous" and len(present) == 2 and all(h is False for h in carried.values()):
            problems.append(f"{label} is carried by neither parent (de novo, or a sample mix-up)")
            allele["origin"] = "de_novo_or_unknown"
        elif allele["zygosity"] in ("heterozygous", "hemizygous"):
            allele["origin"] = allele_origin(carried)
    info["mendelian_consistent"] = not problems
    names = ", ".join(f"{role} {sample.get(role)}" for role in present)
    info["detail"] = (
        f"checked against {names}: consistent with Mendelian inheritance" if not problems else "; ".join(problems)
    )
    return info


def _homozygous_problem(label: str, missing: list[str]) -> str:
    """A homozygous allele that a parent confidently lacks, with the explanations a lab checks."""
    return (
        f"{label} is homozygous but the {' and '.join(missing)} does not carry it. Possible explanations: a "
        "deletion of the other copy in the child (the variant is then hemizygous: check the copy number at the "
        "site, e.g. by MLPA or qPCR, and that parent for the deletion); uniparental disomy of chromosome 2 (check "
        "with a SNP array or trio markers); misattributed parentage or a sample mix-up"
    )
