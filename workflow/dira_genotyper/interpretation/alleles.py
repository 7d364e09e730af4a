"""Reportable alleles of one gene: small variants judged at their copy number, and deletions judged by what
coding sequence they remove (ClinGen PVS1, :mod:`dira_genotyper.annotation.pvs1`).

A small-variant allele carries ``flags``: reasons it cannot count as a firm allele (a heterozygous call where
only one copy exists, an allele fraction too low for a germline heterozygote, an incomplete genotype such as
``./1``, a failed filter that still stands at the allele's copy number). The decision treats a flagged
LoF or uncertain allele as a blocker, never as a clean answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dira_genotyper.annotation.pvs1 import VERY_STRONG, Layout, Pvs1, coding_loss, exon_skip, splice_sites_in
from dira_genotyper.interpretation.gene_state import Callability, GeneModel
from dira_genotyper.reasons import Reason
from dira_genotyper.stats import binomial_cdf

LOF_CLASSES = ("pathogenic", "likely_pathogenic")
REPORTED_CLASSES = ("pathogenic", "likely_pathogenic", "uncertain")
HEMIZYGOUS_MIN_AF = 0.8  # on one copy every read should carry the allele; below this a call there is a conflict
#: A homozygous call at two (or more) copies should show the allele in every read too (REF reads there are errors,
#: <= 1% at Q >= 20): below this fraction it is not a clean homozygote (a heterozygote with allelic imbalance,
#: contamination, or a copy-number change the depth call missed), flagged at copy number 2, 3 or uncalled.
HOMOZYGOUS_MIN_AF = HEMIZYGOUS_MIN_AF
MOSAIC_MAX_AF = 0.3  # a heterozygote below this fraction is tested for mosaicism/contamination
#: ... and flagged when P(alt <= seen | AF 0.5) is below this. 0.01, not 0.001: AF 0.25 at 40 reads (P = 0.0011)
#: must be flagged, as the limitations promise; a germline heterozygote is then flagged in <= 1% of calls at 20-40
#: reads (P(flag) = 0.6% at 20, 0.8% at 30, 0.3% at 40 reads), a cost of one confirmation, against counting a
#: mosaic or contaminating allele as a germline one (a false "affected" or "carrier").
MOSAIC_P = 0.01
#: The IL-1 gene cluster (FACTS.md). A deletion that also removes genes outside it (PSD4, PAX8) names them as
#: findings of their own (:func:`deletion_findings`).
IL1_CLUSTER = frozenset({"IL1A", "IL1B", "IL37", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"})
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


def mosaic_flag_p(alt_depth: int, depth: int, fraction: float | None = None) -> float | None:
    """P(alt <= seen | heterozygote, AF 0.5) of a call flagged as possible mosaicism or contamination (allele
    `fraction`, by default alt_depth / depth, below :data:`MOSAIC_MAX_AF` and P below :data:`MOSAIC_P`), else None."""
    if not depth or (alt_depth / depth if fraction is None else fraction) >= MOSAIC_MAX_AF:
        return None
    p = _binomial_cdf(alt_depth, depth, 0.5)
    return p if p < MOSAIC_P else None


def mosaic_alt_limit(depth: int) -> int:
    """The most ALT reads at `depth` that are still flagged as possible mosaicism (-1: none are)."""
    return max((k for k in range(depth + 1) if mosaic_flag_p(k, depth) is not None), default=-1)


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
        p = mosaic_flag_p(int(alt_depth), int(depth), af) if depth and alt_depth is not None else None
        if zygosity == "heterozygous" and p is not None:
            flags.append(
                Reason("low_allele_fraction", label=label, allele_fraction=af, alt_depth=alt_depth, depth=depth, p=p)
            )
        if zygosity == "homozygous" and af is not None and af < HOMOZYGOUS_MIN_AF:
            flags.append(
                Reason(
                    "homozygous_low_fraction",
                    label=label,
                    allele_fraction=af,
                    alt_depth=alt_depth,
                    depth=depth,
                    copy_number=cn,
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
#: An imprecise deletion end (no split reads) this close to an exon may take its canonical splice site: such a
#: deletion is never read as sparing it (it is `uncertain`, not likely benign).
NEAR_SPLICE_BP = 50


def deletion_pvs1(model: GeneModel, deletion: dict) -> tuple[Pvs1, list[int], bool]:
    """PVS1 of a deletion call from what it takes of the transcript; also the exons it touches and 'whole gene'.

    The coding bases it removes and the exons whose canonical splice sites (+/-1,2) it removes (those exons are
    skipped, as in the PVS1 tree's splice branch) go to one judgement, :func:`~dira_genotyper.annotation.pvs1.
    coding_loss`: the start codon lost = PVS1, the stop codon lost = by the protein share, in frame = by the share,
    out of frame = followed to the new stop. A deletion that takes neither, but whose imprecise ends lie within
    ``NEAR_SPLICE_BP`` of a splice site, may still take it: `uncertain` (code ``near_splice_site``)."""
    chrom, start, end = deletion["chrom"], deletion["start"], deletion["end"]
    exons = model.exons_hit(chrom, start, end)
    if len(exons) == len(model.exons):
        return Pvs1(VERY_STRONG, f"deletes every exon of {model.gene}: full gene deletion (PVS1)"), exons, True
    layout = model.layout()
    sites = splice_sites_in(list(model.exons), model.strand, start, end) if chrom == model.chrom else {}
    by_number = {e.number: e for e in layout.exons}
    removed = model.c_ranges(chrom, start, end)
    removed += [(by_number[n].c_first, by_number[n].c_last) for n in sites if n in by_number]
    if removed:
        return _exon_loss(model, layout, deletion, sites, removed), exons, False
    if sites:  # the sites of exons without coding sequence
        return exon_skip(layout, sites, "deletes the splice"), exons, False
    return _no_coding_loss(model, layout, deletion, exons), exons, False


def _exon_loss(model: GeneModel, layout: Layout, deletion: dict, sites: dict[int, str], removed: list) -> Pvs1:
    """The judgement of the coding bases removed and the exons skipped for their lost splice sites."""
    coding_hit = sorted(model.coding_nt_lost(deletion["chrom"], deletion["start"], deletion["end"]))
    what = "; ".join(
        ([f"deletes coding exon(s) {', '.join(map(str, coding_hit))}"] if coding_hit else [])
        + [f"takes the splice {site} (exon {n} skipped)" for n, site in sorted(sites.items()) if n not in coding_hit]
    )
    pvs1 = coding_loss(layout, _merged(removed), what)
    if coding_hit:
        return pvs1
    term = "splice_donor_variant" if any("donor" in v for v in sites.values()) else "splice_acceptor_variant"
    return replace(pvs1, code=term)  # a splice site only: named as such (the allele's consequence)


def _no_coding_loss(model: GeneModel, layout: Layout, deletion: dict, exons: list[int]) -> Pvs1:
    """A deletion that takes no coding base and no canonical splice base, as called."""
    chrom, start, end = deletion["chrom"], deletion["start"], deletion["end"]
    precise = (deletion.get("breakpoint_support") or {}).get("precise")
    on_gene = chrom == model.chrom
    near = (
        {} if precise or not on_gene else splice_sites_in(list(model.exons), model.strand, start, end, NEAR_SPLICE_BP)
    )
    if near:
        n, site = min(near.items())
        if_lost = exon_skip(layout, {n: site}, "the splice")
        return Pvs1(
            None,
            f"removes no coding sequence or canonical splice base as called, but its imprecise breakpoints lie "
            f"within {NEAR_SPLICE_BP} bp of the {site} (exon {n}): if the site is lost, {if_lost.branch}; "
            "confirm the breakpoints (e.g. by breakpoint PCR)",
            code="near_splice_site",
        )
    if on_gene and start <= model.transcription_start() <= end:
        return Pvs1(
            None,
            "removes the transcription start (5' UTR and promoter side) but no coding sequence: "
            "effect on expression not predictable",
            code="transcription_start",
        )
    where = f"exon(s) {', '.join(map(str, exons))} outside the coding sequence (UTR)" if exons else "intron only"
    return Pvs1(None, f"removes no coding sequence or splice site ({where}): not a null variant")


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def deletion_g_name(deletion: dict, accession: str | None = None) -> str:
    """HGVS g. name of a depth-called deletion on `accession` (the contig name without one). Breakpoints found by
    split reads are exact (``g.1000_2000del``); a depth call only brackets them, so its ends are uncertain:
    ``g.(?_1000)_(2000_?)del``, or ``g.(900_1000)_(2000_2100)del`` when the call gives the ranges
    (``start_range``/``end_range``, first and last possible position of each breakpoint)."""
    start, end = deletion["start"], deletion["end"]
    prefix = f"{accession or deletion['chrom']}:g."
    if (deletion.get("breakpoint_support") or {}).get("precise"):
        return f"{prefix}{start}_{end}del"
    first = "_".join(map(str, deletion["start_range"])) if deletion.get("start_range") else f"?_{start}"
    last = "_".join(map(str, deletion["end_range"])) if deletion.get("end_range") else f"{end}_?"
    return f"{prefix}({first})_({last})del"


def deletion_findings(deletion: dict) -> list[Reason]:
    """Genes outside the IL-1 cluster that a deletion also removes: findings in their own right (PAX8)."""
    outside = [g for g in deletion.get("genes", []) if g not in IL1_CLUSTER]
    if not outside:
        return []
    return [
        Reason(
            "deletion_outside_cluster",
            genes=tuple(outside),
            chrom=deletion["chrom"],
            start=deletion["start"],
            end=deletion["end"],
            copy_number=deletion["copy_number"],
        )
    ]


def deletion_allele(deletion: dict, model: GeneModel, known: dict | None = None, accession: str | None = None) -> dict:
    pvs1, exons, whole = deletion_pvs1(model, deletion)
    if known:
        classification = known.get("classification", "pathogenic")
        reason = (
            f"Consistent with the published {known.get('published_name')} "
            f"({known.get('short_citation') or known.get('citation')}) by gene content and size; {pvs1.branch}."
        )
    elif whole:
        classification, reason = "pathogenic", f"{pvs1.strength}: {pvs1.branch}."
    elif pvs1.null_variant:
        classification, reason = (
            "likely_pathogenic",
            f"{pvs1.strength}: {pvs1.branch}; PM2 not assessed (deletions are not looked up in population data).",
        )
    elif pvs1.strength is not None:
        classification, reason = "uncertain", f"{pvs1.strength} only: {pvs1.branch}."
    elif pvs1.code == "transcription_start":
        classification, reason = "uncertain", f"PVS1 does not apply: {pvs1.branch}."
    elif pvs1.code == "near_splice_site":
        classification, reason = "uncertain", f"PVS1 does not apply as called: {pvs1.branch}."
    else:
        classification, reason = "likely_benign", f"PVS1 does not apply: {pvs1.branch}; cannot change the protein."
    coding = bool(model.coding_nt_lost(deletion["chrom"], deletion["start"], deletion["end"]))
    consequence = (
        "transcript_ablation"
        if whole
        else "exon_loss_variant"
        if coding
        else pvs1.code
        if pvs1.code.startswith("splice_")
        else "intron_variant"
        if not exons
        else "feature_truncation"
    )
    return {
        "kind": "deletion",
        "hgvs_c": None,
        "hgvs_p": None,
        "hgvs_c_ensembl": None,
        "hgvs_g": deletion_g_name(deletion, accession),
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
        elif allele["consequence"].startswith("splice_"):
            what = f"{gene} deletion of a canonical splice site"
        else:
            what = f"{gene} deletion without coding sequence"
        name = f"{what} of {size / 1000:.1f} kb ({g['chrom']}:{g['pos']:,}-{g['end']:,})"
        return name + (f" (consistent with the published {allele['known_as']})" if allele.get("known_as") else "")
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
    "deletion_findings",
    "deletion_g_name",
    "deletion_pvs1",
    "judge_small",
    "mosaic_alt_limit",
    "lof_count",
    "variant_allele",
]
