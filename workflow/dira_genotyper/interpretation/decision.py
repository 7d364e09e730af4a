"""The decision table: one gene's genotype from its calls, copy number, coverage and family.

Status rules (docs/interpretation.md "Clinical decision table"): `affected` = two loss-of-function (LoF) alleles of
the gene shown to knock out both copies (homozygous, hemizygous over a deletion, or two heterozygous alleles shown
in trans by the parents or by read pairs);
`carrier` = one, with the rest of the gene checked; `negative` = none, with the whole CDS +/- splice sites
callable at its copy number and every exon and the gene at two copies (or the deletion that explains a loss);
`inconclusive` = anything else, with the reasons. A region that was not covered is never reported as "no
variant"; a copy-number state no call explains is never read as normal.

Two heterozygous LoF alleles of unknown phase are `inconclusive` with ``presumed_biallelic`` set (the wording says
"presumed biallelic ... parental testing needed"), never `affected`. ACMG/AMP (PM3) and ClinGen SVI treat two
variants in a recessive gene as a compound heterozygote only once they are shown in trans; until then the patient
may be a carrier of both on one copy, and a lab must not read the result as a confirmed diagnosis. In IL1RN the
introns (1.4-1.8 kb) are longer than read-pair phasing reaches (800 bp), so alleles in different exons are
phased only by testing both parents (or long reads). A heterozygous deletion and a variant inside it are in
trans by zygosity (the variant is hemizygous).
"""

from __future__ import annotations

from dataclasses import dataclass

from dira_genotyper.interpretation.alleles import (
    LOF_CLASSES,
    MOSAIC_MAX_AF,
    MOSAIC_P,
    REPORTED_CLASSES,
    allele_label,
    deletion_allele,
    deletion_findings,
    judge_small,
    lof_count,
    mosaic_alt_limit,
    variant_allele,
)
from dira_genotyper.interpretation.gene_state import Callability, GeneModel, copy_state, own_bases
from dira_genotyper.interpretation.phase import family_check, resolve_phase
from dira_genotyper.reasons import Reason


@dataclass
class Interpretation:
    status: str
    summary: str
    reasons: list[Reason]
    alleles: list[dict]
    phase: dict
    family: dict
    exon_callability: list[dict]
    other_variants: list[dict]
    limitations: list[str]
    #: two heterozygous LoF alleles of unknown phase (status `inconclusive`): biallelic only if shown in trans
    presumed_biallelic: bool = False


def copy_number_at(cnv: dict, chrom: str, pos: int, model: GeneModel) -> int | None:
    """Copy number at a position: a called deletion, else the exon there, else the gene call; None if not
    called (a missing call is never two copies)."""
    return copy_state(cnv, model).at(model, chrom, pos)


def interpret(
    sample: dict,
    variants: list[dict],
    cnv: dict,
    coverage: dict,
    parents: dict[str, dict] | None = None,
    bam: str | None = None,
    known_deletion=None,
    min_alt_reads: int = 3,
    *,
    model: GeneModel,
    disease: str,
    reference: str | None = None,
    genomic_accession: str | None = None,
) -> Interpretation:
    """The genotype of ``model.gene`` (named by the caller). ``known_deletion(genes, size) -> dict | None`` matches
    a deletion call against published deletions by gene content and size; ``reference`` (the FASTA of ``bam``) lets
    read pairs phase indels; ``genomic_accession`` (e.g. NC_000002.12) names deletions on the genome."""
    parents = parents or {}
    state = copy_state(cnv, model)
    callability = Callability.from_json(coverage)
    found = _collect(variants, state, callability, model, min_alt_reads, known_deletion, genomic_accession)
    blockers = found.blockers
    firm = [a for a in found.alleles if not a["flags"]]
    lof = [a for a in firm if lof_count(a)]
    n_lof = sum(lof_count(a) for a in lof)
    uncertain = [a for a in firm if a["classification"] == "uncertain"]

    explained = [b for a in firm if a["kind"] != "deletion" for b in own_bases(a["genomic"])]
    exon_table = callability.exon_table(model, state, explained)
    uncallable = [row["exon"] for row in exon_table if not row["callable"]]
    if uncallable:
        needs = sorted({row["required_depth"] for row in exon_table if not row["callable"] and row["required_depth"]})
        blockers.append(Reason("exons_not_callable", gene=model.gene, exons=tuple(uncallable), depths=tuple(needs)))
    family = family_check(sample, found.alleles, parents, model)
    reasons: list[Reason] = [_allele_reason(allele, model.gene) for allele in lof]
    phase = _lof_phase(lof, n_lof, bam, parents, model, reference)
    context = (model, bam, parents, reference, disease, coverage, state)
    status, presumed_biallelic = _decide(n_lof, lof, uncertain, phase, blockers, reasons, context)
    if (status == "affected" or presumed_biallelic) and blockers:
        reasons.append(Reason("also_noted", blockers=tuple(blockers)))
    if uncertain and (status != "inconclusive" or presumed_biallelic):
        reasons.append(Reason("also_found_vus", labels=tuple(allele_label(a, model.gene) for a in uncertain)))
    reasons.extend(
        Reason("not_reported", name=o["name"], classification=o["classification"], why=o["classification_reason"])
        for o in found.other_variants
    )
    reasons.extend(found.findings)
    reasons.extend(Reason("copy_number_note", note=note) for note in state.notes)
    if family["mendelian_consistent"] is False:
        reasons.append(Reason("family_check", detail=family["detail"]))
    summary = _summary(
        status, lof, model.gene, disease, presumed_biallelic, normal_cn=state.gene_cn == 2 and not state.deletions
    )
    return Interpretation(
        status,
        summary,
        reasons,
        found.alleles,
        phase,
        family,
        exon_table,
        found.other_variants,
        limitations(status, found.alleles, phase, state, exon_table, model.gene, disease),
        presumed_biallelic,
    )


@dataclass
class _Found:
    """The gene's calls sorted into what the decision reads."""

    alleles: list[dict]  # reportable (pathogenic, likely pathogenic, uncertain), flagged ones included
    other_variants: list[dict]  # every other call, filtered or not: nothing is dropped silently
    findings: list[Reason]  # deletion findings (genes outside the cluster)
    blockers: list[Reason]  # what keeps a carrier or negative answer from being complete


def _collect(variants, state, callability, model, min_alt_reads, known_deletion, genomic_accession) -> _Found:
    """Small variants judged at their copy number, deletions judged by what they remove; the blockers they raise
    (copy-number blockers, flags, failed filters of a possible LoF or VUS)."""
    found = _Found([], [], [], list(state.blockers))
    failed_lof: list[dict] = []
    for v in variants:
        if v.get("zygosity") is None:  # not carried (0/0, ./.)
            continue
        judgement = judge_small(v, state.at(model, v["chrom"], v["pos"]), callability, min_alt_reads)
        allele = variant_allele(v, judgement)
        if v.get("classification") not in REPORTED_CLASSES:
            found.other_variants.append(_other(allele, model.gene))
        elif judgement.filters and v.get("classification") in LOF_CLASSES:
            failed_lof.append(allele)
        elif judgement.filters and v.get("classification") == "uncertain":
            label = allele_label(allele, model.gene)
            found.blockers.append(Reason("vus_failed_filters", label=label, filter=allele["evidence"]["filter"]))
        elif not judgement.filters:
            found.alleles.append(allele)
    for deletion in state.deletions:
        known = known_deletion(deletion.get("genes", []), deletion.get("size")) if known_deletion else None
        allele = deletion_allele(deletion, model, known, genomic_accession)
        found.findings.extend(deletion_findings(deletion))
        if allele["classification"] in REPORTED_CLASSES:
            found.alleles.append(allele)
        else:
            found.other_variants.append(_other(allele, model.gene))
    found.alleles.sort(key=lambda a: (a["genomic"]["chrom"], a["genomic"]["pos"], a["kind"]))
    for allele in found.alleles:
        found.blockers.extend(allele["flags"])
    for v in failed_lof:
        label = allele_label(v, model.gene)
        found.blockers.append(Reason("lof_failed_filters", label=label, filter=v["evidence"]["filter"]))
    return found


def _lof_phase(lof, n_lof, bam, parents, model, reference) -> dict:
    """Phase of the LoF events: by parents or reads when two or more are heterozygous, else by zygosity (a
    hemizygous allele inside a heterozygous deletion)."""
    het_events = [a for a in lof if a["zygosity"] in ("heterozygous", "unknown")]
    if len(het_events) >= 2 and n_lof == len(het_events):
        return _phase_of_events(het_events, bam, parents, model, reference)
    hemi = [a for a in lof if a["zygosity"] == "hemizygous"]
    by_zygosity = (_phase_by_zygosity(h, a, model.gene) for h in hemi for a in lof)
    return next(
        (p for p in by_zygosity if p),
        {"status": "not_applicable", "method": None, "detail": "fewer than two heterozygous LoF events"},
    )


def _decide(n_lof, lof, uncertain, phase, blockers, reasons, context) -> tuple[str, bool]:
    """The status (decision table rows) and whether it is presumed biallelic; appends the deciding reasons."""
    model, bam, parents, reference, disease, coverage, state = context
    if n_lof >= 2 and phase["status"] != "in_cis":
        if phase["status"] == "unknown":
            reasons.append(Reason("presumed_biallelic", gene=model.gene, disease=disease, detail=phase["detail"]))
            return "inconclusive", True
        if phase["status"] == "in_trans":
            reasons.append(Reason("in_trans", detail=phase["detail"]))
        return "affected", False
    if n_lof >= 1:
        if phase["status"] == "in_cis":
            reasons.append(Reason("in_cis", gene=model.gene, detail=phase["detail"]))
        if uncertain:
            vus_phase = _phase_by_zygosity(lof[0], uncertain[0], model.gene) or resolve_phase(
                [lof[0], uncertain[0]], bam, parents, model, reference
            )
            if vus_phase["status"] != "in_cis":
                blockers.append(
                    Reason(
                        "lof_and_vus",
                        labels=tuple(allele_label(a, model.gene) for a in uncertain),
                        zygosity=uncertain[0]["zygosity"],
                        phase=vus_phase["status"],
                        detail=vus_phase["detail"],
                    )
                )
        if blockers:
            reasons.append(Reason("second_not_excluded", blockers=tuple(blockers)))
            return "inconclusive", False
        reasons.append(Reason("second_excluded", gene=model.gene))
        return "carrier", False
    if blockers:
        reasons.extend(blockers)
        return "inconclusive", False
    if uncertain:
        reasons.append(Reason("vus_only", labels=tuple(allele_label(a, model.gene) for a in uncertain)))
        return "inconclusive", False
    reasons.append(
        Reason(
            "negative",
            gene=model.gene,
            callable_fraction=coverage.get("callable_fraction_cds", 0),
            gene_cn=state.gene_cn,
            deletions=len(state.deletions),
        )
    )
    return "negative", False


def _other(allele: dict, gene: str) -> dict:
    g = allele["genomic"]
    return {
        "name": allele_label(allele, gene),
        "hgvs_c": allele["hgvs_c"],
        "hgvs_g": allele.get("hgvs_g"),
        "chrom": g["chrom"],
        "pos": g["pos"],
        "ref": g["ref"],
        "alt": g["alt"],
        "zygosity": allele["zygosity"],
        "classification": allele["classification"],
        "classification_reason": allele["classification_reason"],
        "population_af": allele["evidence"]["population_af"],
        "filter": allele["evidence"]["filter"],
    }


def _allele_reason(allele: dict, gene: str) -> Reason:
    return Reason(
        "lof_allele",
        label=allele_label(allele, gene),
        zygosity=allele["zygosity"],
        gene=gene,
        classification=allele["classification"].replace("_", " "),
        why=allele["classification_reason"].rstrip("."),
    )


def _phase_of_events(
    events: list[dict], bam: str | None, parents: dict[str, dict], model: GeneModel, reference: str | None
) -> dict:
    """Phase of two or more heterozygous LoF events, each against the first: in trans when one pair is shown on
    different copies (both copies are then hit), in cis only when every pair is shown on one copy, else unknown."""
    pairs = [resolve_phase([events[0], other], bam, parents, model, reference) for other in events[1:]]
    trans = [p for p in pairs if p["status"] == "in_trans"]
    if trans or len(pairs) == 1:
        return (trans or pairs)[0]
    if all(p["status"] == "in_cis" for p in pairs):
        return dict(pairs[0], detail="; ".join(p["detail"] for p in pairs))
    return next(p for p in pairs if p["status"] == "unknown")


def _phase_by_zygosity(first: dict, second: dict, gene: str) -> dict | None:
    """In trans by zygosity: a hemizygous small variant inside a heterozygous deletion is on the copy the deletion
    leaves (either order); None otherwise."""
    for variant, deletion in ((first, second), (second, first)):
        g, d = variant["genomic"], deletion["genomic"]
        if (
            variant["kind"] != "deletion"
            and variant["zygosity"] == "hemizygous"
            and deletion["kind"] == "deletion"
            and deletion["zygosity"] == "heterozygous"
            and d["chrom"] == g["chrom"]
            and d["pos"] <= g["pos"]
            and g["end"] <= d["end"]
        ):
            return {
                "status": "in_trans",
                "method": "zygosity",
                "detail": f"the variant shows in every read where one {gene} copy is deleted: it is on the other copy",
            }
    return None


def _summary(
    status: str, lof: list[dict], gene: str, disease: str, presumed_biallelic: bool = False, normal_cn: bool = True
) -> str:
    names = "; ".join(f"{a['zygosity']} {allele_label(a, gene)}" for a in lof)
    if presumed_biallelic:
        return (
            f"Inconclusive (presumed biallelic, parental testing needed): two loss-of-function {gene} alleles of "
            f"unknown phase — {names}. In trans they would be consistent with {disease}; on the same copy (in cis) "
            "the patient is a carrier. Not a confirmed diagnosis."
        )
    if status == "affected":
        return f"Affected: two loss-of-function {gene} alleles consistent with {disease} — {names}."
    if status == "carrier":
        return f"Carrier: one loss-of-function {gene} allele — {names}; a working copy remains."
    if status == "negative":
        copies = f"normal {gene} copy number" if normal_cn else f"no {gene} deletion of coding sequence or splice site"
        return (
            f"Negative: no loss-of-function {gene} allele and {copies}; {disease} is not supported "
            "by the regions tested (see limitations)."
        )
    if lof:
        return f"Inconclusive: {names} found, but the genotype is not complete (see reasons)."
    return f"Inconclusive: the {gene} genotype could not be determined completely (see reasons)."


def limitations(
    status: str, alleles: list[dict], phase: dict, state, exon_table: list[dict], gene: str, disease: str
) -> list[str]:
    """What was and was not tested, in words a clinician reads; the same list goes to the JSON and the HTML. The
    use the result is fit for comes first, not last."""
    items = [
        RESEARCH_USE,
        f"Tested: {gene} coding exons and splice sites (+/- 2 bp) of the MANE Select transcript for small variants "
        "(SNVs, indels up to ~20 bp), and copy number of each exon and of the IL-1 cluster from read depth.",
        "Not tested: deep intronic and regulatory variants (calls deeper than 20 bp into an intron or in the UTRs "
        "more than 20 bp from the coding sequence are listed as not assessed, unless published), inversions, "
        "insertions and other structural changes than deletions, repeat expansions, and other genes with similar "
        "presentations.",
        "Copy number is estimated from read depth: deletions smaller than about 1 kb, or affecting only part of "
        "an exon, can be missed, and breakpoints are approximate unless marked precise.",
    ]
    uncallable = [str(row["exon"]) for row in exon_table if not row["callable"]]
    if uncallable:
        items.append(
            f"{gene} exon(s) {', '.join(uncallable)} did not reach the depth needed at their copy number: "
            "a variant there may have been missed."
        )
    deleted = [str(row["exon"]) for row in exon_table if row["copy_number"] == 0]
    if deleted:
        items.append(
            f"{gene} exon(s) {', '.join(deleted)} are deleted on both copies, so they have no reads and no "
            "small-variant calls; their coverage is low by design."
        )
    if not state.called:
        items.append(
            "Copy number could not be called for this sample, so deletions (including the ~175 kb founder "
            "deletion of the IL-1 cluster) were not assessed."
        )
    if phase.get("status") == "unknown":
        items.append(
            "Phase unknown: two heterozygous alleles may be on different copies (in trans, consistent with "
            f"{disease}) or on the same copy (in cis, a carrier). Testing both parents resolves this."
        )
    if status == "negative" and not alleles:
        items.append(
            "A negative result lowers but does not exclude the diagnosis: the regions not tested above may "
            "hold a pathogenic variant."
        )
    items.append(
        f"Mosaicism: a heterozygous call is flagged as possible mosaicism or contamination when its allele fraction "
        f"is below {MOSAIC_MAX_AF:g} and a binomial test against 0.5 at its depth gives P < {MOSAIC_P:g} (at 40 "
        f"reads: {mosaic_alt_limit(40)} or fewer ALT reads; at 20 reads: {mosaic_alt_limit(20)} or fewer); "
        "lower-level mosaicism, or a low fraction at low depth, may be missed or reported as heterozygous."
    )
    items.append(
        f"Variant classification follows published {disease} alleles, the ClinGen PVS1 decision tree and "
        "ACMG/AMP population criteria at the time of release; a clinical geneticist should review it."
    )
    return items


RESEARCH_USE = (
    "For research use only until this workflow is validated in an accredited laboratory. Confirm any "
    "clinically relevant finding with an independent method."
)
