"""Reportable alleles of one gene: small variants judged at their copy number, and deletions judged by what
coding sequence they remove (ClinGen PVS1, :mod:`dira_genotyper.annotation.pvs1`).

A small-variant allele carries ``flags``: reasons it cannot count as a firm allele (a heterozygous call where
only one copy exists, an allele fraction too low for a germline heterozygote, an incomplete genotype such as
``./1``, a failed filter that still stands at the allele's copy number). The decision treats a flagged
LoF or uncertain allele as a blocker, never as a clean answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from dira_genotyper.annotation.pvs1 import CRITICAL_FRACTION, MODERATE, STRONG, VERY_STRONG, Pvs1
from dira_genotyper.interpretation.gene_state import Callability, GeneModel
from dira_genotyper.reasons import Reason
from dira_genotyper.stats import binomial_cdf

LOF_CLASSES = ("pathogenic", "likely_pathogenic")
REPORTED_CLASSES = ("pathogenic", "likely_pathogenic", "uncertain")
HEMIZYGOUS_MIN_AF = 0.8  # on one copy every read should carry the allele; below this a call there is a conflict
MOSAIC_MAX_AF = 0.3  # a heterozygote below this fraction is tested for mosaicism/contamination
MOSAIC_P = 0.001  # ... and flagged when P(alt <= seen | AF 0.5) is below this
#: Filters that test a heterozygous model or two-copy depth; on one copy they do not apply (every read shows the
#: allele), so an allele judged hemizygous is re-judged without them.
TWO_COPY_FILTERS = {"LowDepth", "LowGQ", "AlleleBalance", "Uncallable"}


def _filters(variant: dict) -> list[str]:
    flt = variant.get("filter")
    if flt in (None, ".", "PASS") or flt == ["PASS"]:
        return []
    return list(flt) if isinstance(flt, list) else [f for f in str(flt).split(";") if f]


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return binomial_cdf(k, n, p)  # log space: the plain sum overflows at panel depth (> ~1,030 reads)


@dataclass
class SmallJudgement:
    zygosity: str
    copy_number: int | None
    filters: list[str]  # the filters that still stand at this copy number
    flags: list[Reason]


def judge_small(variant: dict, cn: int | None, callability: Callability, min_alt_reads: int = 3) -> SmallJudgement:
    """Zygosity at the copy number, the filters that still apply, and flags against counting the allele."""
    genotype = str(variant.get("genotype") or "")
    alleles = genotype.replace("|", "/").split("/") if genotype else []
    af = variant.get("allele_fraction")
    depth = variant.get("depth")
    alt_depth = variant.get("alt_depth")
    filters = _filters(variant)
    flags: list[Reason] = []
    label = variant.get("hgvs_c") or variant.get("hgvs_g") or f"{variant['chrom']}:{variant['pos']}"
    if "." in alleles:
        zygosity = "unknown"
        flags.append(Reason("genotype_incomplete", label=label, genotype=genotype))
    elif variant.get("zygosity") == "homozygous":
        zygosity = "homozygous"
    else:
        zygosity = "heterozygous"
    if cn == 1 and zygosity != "unknown":
        if zygosity == "homozygous" or (af is not None and af >= HEMIZYGOUS_MIN_AF):
            zygosity = "hemizygous"
            filters = [f for f in filters if f not in TWO_COPY_FILTERS]
            needed = callability.min_depth_hemizygous or min_alt_reads
            if depth is not None and depth < needed:
                filters.append("LowDepth")
            if callability.variant_uncallable(variant, 1):
                filters.append("Uncallable")
        else:
            flags.append(Reason("heterozygous_on_one_copy", label=label, allele_fraction=af))
    elif cn == 0:
        flags.append(Reason("in_homozygous_deletion", label=label))
    else:
        if "Uncallable" in filters and not callability.variant_uncallable(variant, cn):
            filters.remove("Uncallable")  # only its own deleted bases were uncallable
        if zygosity == "heterozygous" and af is not None and af < MOSAIC_MAX_AF and depth and alt_depth is not None:
            p = _binomial_cdf(int(alt_depth), int(depth), 0.5)
            if p < MOSAIC_P:
                flags.append(
                    Reason(
                        "low_allele_fraction", label=label, allele_fraction=af, alt_depth=alt_depth, depth=depth, p=p
                    )
                )
    return SmallJudgement(zygosity, cn, filters, flags)


def variant_allele(variant: dict, judgement: SmallJudgement) -> dict:
    return {
        "kind": variant.get("kind", "snv"),
        "hgvs_c": variant.get("hgvs_c"),
        "hgvs_p": variant.get("hgvs_p"),
        "hgvs_c_ensembl": variant.get("hgvs_c_ensembl"),
        "hgvs_g": variant.get("hgvs_g"),
        "consequence": variant.get("consequence"),
        "genomic": {
            "chrom": variant["chrom"],
            "pos": variant["pos"],
            "end": variant["pos"] + max(len(variant["ref"]) - 1, 0),
            "ref": variant["ref"],
            "alt": variant["alt"],
        },
        "zygosity": judgement.zygosity,
        "classification": variant["classification"],
        "classification_reason": variant.get("classification_reason") or "",
        "known_as": variant.get("known_as"),
        "copy_number": judgement.copy_number,
        "evidence": {
            "depth": variant.get("depth"),
            "alt_depth": variant.get("alt_depth"),
            "allele_fraction": variant.get("allele_fraction"),
            "quality": variant.get("qual"),
            "genotype_quality": variant.get("genotype_quality"),
            "filter": ";".join(judgement.filters) or "PASS",
            "population_af": variant.get("population_af"),
        },
        "flags": list(judgement.flags),
        "origin": None,
    }


# ----------------------------------------------------------------------------------------------- deletions
def deletion_pvs1(model: GeneModel, deletion: dict) -> tuple[Pvs1, list[int], bool]:
    """PVS1 of a deletion call from the coding bases it removes; also the exons it touches and 'whole gene'."""
    chrom, start, end = deletion["chrom"], deletion["start"], deletion["end"]
    exons = model.exons_hit(chrom, start, end)
    whole = len(exons) == len(model.exons)
    if whole:
        return Pvs1(VERY_STRONG, f"deletes every exon of {model.gene}: full gene deletion (PVS1)"), exons, True
    lost = model.coding_nt_lost(chrom, start, end)
    coding_exons = sorted(lost)
    if not coding_exons:
        tss = model.transcription_start()
        if start <= tss <= end:
            return (
                Pvs1(
                    None,
                    "removes the transcription start (5' UTR and promoter side) but no coding sequence: "
                    "effect on expression not predictable",
                    code="transcription_start",
                ),
                exons,
                False,
            )
        where = f"exon(s) {', '.join(map(str, exons))} outside the coding sequence (UTR)" if exons else "intron only"
        return Pvs1(None, f"removes no coding sequence ({where}): not a null variant"), exons, False
    cds_first = min(n for n, _, _ in model.cds)
    cds_last = max(n for n, _, _ in model.cds)
    protein = model.cds_length // 3 - 1
    listed = ", ".join(map(str, coding_exons))
    if cds_first in coding_exons:
        return (
            Pvs1(VERY_STRONG, f"deletes coding exon(s) {listed} with the start codon: no protein (PVS1)"),
            exons,
            False,
        )
    total = sum(lost.values())
    if cds_last in coding_exons:
        kept = sum(e - s + 1 for n, s, e in model.cds if n < min(coding_exons))  # exons are numbered 5'->3'
        share = 1 - kept / 3 / protein
        strength = STRONG if share > CRITICAL_FRACTION else MODERATE
        return (
            Pvs1(
                strength,
                f"deletes coding exon(s) {listed} with the stop codon ({share:.0%} of the protein): {strength}",
            ),
            exons,
            False,
        )
    if total % 3:
        return (
            Pvs1(
                VERY_STRONG,
                f"deletes {total} coding nt of exon(s) {listed}, out of frame: frameshift, NMD predicted (PVS1)",
            ),
            exons,
            False,
        )
    share = total / 3 / protein
    strength = STRONG if share > CRITICAL_FRACTION else MODERATE
    return Pvs1(strength, f"deletes exon(s) {listed} in frame ({share:.0%} of the protein): {strength}"), exons, False


def deletion_allele(deletion: dict, model: GeneModel, known: dict | None = None) -> dict:
    pvs1, exons, whole = deletion_pvs1(model, deletion)
    if known:
        classification = known.get("classification", "pathogenic")
        reason = (
            f"Matches the published {known.get('published_name')} "
            f"({known.get('short_citation') or known.get('citation')}); {pvs1.branch}."
        )
    elif whole:
        classification, reason = "pathogenic", f"{pvs1.strength}: {pvs1.branch}."
    elif pvs1.null_variant:
        classification, reason = "likely_pathogenic", f"{pvs1.strength}: {pvs1.branch}; with PM2."
    elif pvs1.strength is not None:
        classification, reason = "uncertain", f"{pvs1.strength} only: {pvs1.branch}."
    elif pvs1.code == "transcription_start":
        classification, reason = "uncertain", f"PVS1 does not apply: {pvs1.branch}."
    else:
        classification, reason = "likely_benign", f"PVS1 does not apply: {pvs1.branch}; cannot change the protein."
    coding = bool(model.coding_nt_lost(deletion["chrom"], deletion["start"], deletion["end"]))
    consequence = (
        "transcript_ablation"
        if whole
        else "exon_loss_variant"
        if coding
        else "intron_variant"
        if not exons
        else "feature_truncation"
    )
    return {
        "kind": "deletion",
        "hgvs_c": None,
        "hgvs_p": None,
        "hgvs_c_ensembl": None,
        "hgvs_g": None,
        "consequence": consequence,
        "genomic": {
            "chrom": deletion["chrom"],
            "pos": deletion["start"],
            "end": deletion["end"],
            "ref": None,
            "alt": "<DEL>",
        },
        "zygosity": "homozygous" if deletion["copy_number"] == 0 else "heterozygous",
        "classification": classification,
        "classification_reason": reason,
        "known_as": known.get("published_name") if known else None,
        "copy_number": deletion["copy_number"],
        "evidence": {
            "depth": None,
            "alt_depth": (deletion.get("breakpoint_support") or {}).get("split_reads"),
            "allele_fraction": None,
            "quality": deletion.get("quality"),
            "genotype_quality": None,
            "filter": "PASS",
            "population_af": None,
        },
        "flags": [],
        "exons_deleted": exons,
        "origin": None,
    }


def lof_count(allele: dict) -> int:
    """Copies of the gene this allele knocks out (0 unless pathogenic/likely pathogenic)."""
    if allele["classification"] not in LOF_CLASSES:
        return 0
    return 2 if allele["zygosity"] == "homozygous" else 1


def allele_label(allele: dict, gene: str) -> str:
    g = allele["genomic"]
    if allele["kind"] == "deletion":
        size = g["end"] - g["pos"] + 1
        if allele["consequence"] == "transcript_ablation":
            what = f"whole-{gene} deletion"
        elif allele["consequence"] == "exon_loss_variant":
            what = f"{gene} exon deletion (exon(s) {', '.join(map(str, allele.get('exons_deleted') or []))})"
        else:
            what = f"{gene} deletion without coding sequence"
        name = f"{what} of {size / 1000:.1f} kb ({g['chrom']}:{g['pos']:,}-{g['end']:,})"
        return name + (f" ({allele['known_as']})" if allele.get("known_as") else "")
    name = allele["hgvs_c"] or allele.get("hgvs_g") or f"{g['chrom']}:{g['pos']} {g['ref']}>{g['alt']}"
    if allele.get("hgvs_p"):
        name += f" {allele['hgvs_p'].split(':')[-1]}"
    if allele.get("known_as"):
        name += f" ({allele['known_as']})"
    return name


__all__ = [
    "LOF_CLASSES",
    "REPORTED_CLASSES",
    "SmallJudgement",
    "allele_label",
    "deletion_allele",
    "deletion_pvs1",
    "judge_small",
    "lof_count",
    "variant_allele",
]
