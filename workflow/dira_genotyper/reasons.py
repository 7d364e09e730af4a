"""Reasons: why a call was made, withheld or flagged, as a code plus its parameters.

A :class:`Reason` is created from a code and parameters; its text is rendered once, here, by the template of
its code (:data:`TEMPLATES`), and that text is what the JSON report and the HTML page show. Code that acts on a
reason checks ``reason.code`` and reads ``reason.params``; it never parses the text.

A Reason is a ``str`` (its rendered text) so that it can be written to JSON, joined and shown as it always
was; the code and parameters ride along.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any


def _join(items: Iterable[Any], sep: str = ", ") -> str:
    return sep.join(map(str, items))


def _cn(copy_number: int | None) -> str:
    return "not called" if copy_number is None else str(copy_number)


#: code -> renderer of its text from the parameters (the one place reason texts are written).
TEMPLATES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # --- copy number (cnv/): why a sample, gene or segment has no call ----------------------------------------
    "cnv_too_few_control_bins": lambda p: f"too few bins: {p['bins']} control bins with sequence, need {p['needed']}",
    "cnv_no_control_reads": lambda p: "too shallow: control regions have no reads",
    "cnv_too_few_cohort_with_reads": lambda p: (
        f"too few cohort samples with reads: {p['samples']}, cohort mode needs {p['needed']}"
    ),
    "cnv_too_few_cohort_bins": lambda p: f"too few bins: {p['bins']} bins covered in the cohort, need {p['needed']}",
    "cnv_no_cohort_reads": lambda p: "too shallow: no reads in the bins the cohort covers",
    "cnv_too_few_cohort_samples": lambda p: (
        f"too few cohort samples: cohort mode needs {p['needed']} other samples, got {p['samples']}"
    ),
    "cnv_targeted_single": lambda p: (
        "data look targeted (exome/panel): single-sample normalisation is unreliable; "
        f"run cohort mode with at least {p['min_cohort']} other samples"
    ),
    "cnv_shallow_controls": lambda p: (
        f"too shallow: median depth of control bins {p['depth']:.1f} < {p['min_depth']:g}"
    ),
    "cnv_noisy": lambda p: f"too noisy: MAD of control-bin depth ratio {p['mad']:.3f} > {p['max_mad']:g}",
    "cnv_gene_few_bins": lambda p: f"{p['gene']}: too few bins with usable depth",
    "cnv_possible_deletion": lambda p: (
        f"possible deletion {p['chrom']}:{p['start']}-{p['end']} (CN {p['copy_number']}) below "
        f"quality {p['min_quality']:g} (Q={p['quality']:.1f}); not reported"
    ),
    "cnv_reference_too_few": lambda p: (
        f"targeted data: too few other samples of the same design for a reference: {p['samples']}, need "
        f"{p['needed']} (run at least 8 samples of one capture kit together)"
    ),
    "cnv_too_few_targets": lambda p: (
        f"targeted data: too few targets with reads in the reference samples: {p['targets']}, need {p['needed']}"
    ),
    "cnv_reference_poor_correlation": lambda p: (
        f"targeted data: reference samples correlate poorly with this sample (per-target depth, mean r = "
        f"{p['correlation']:.3f} < {p['min_correlation']:g}): other kit, other protocol or a failed capture"
    ),
    "cnv_reference_shared_loss": lambda p: (
        f"targeted data: {p['targets']} target(s) not judged"
        + (f" ({_join(p['exons'])})" if p.get("exons") else "")
        + f": 40% or more of the run's {p['samples']} other samples of this design have markedly lower depth "
        "there (a deletion shared in the run, e.g. a family), so no reference says which depth is two copies; "
        "add unrelated samples"
    ),
    "cnv_capture_inferred": lambda p: (
        f"capture (exome/panel) data inferred from coverage: depth on the exons {p['ratio']:.1f}x the depth "
        "between them; no targets BED given, so the design is taken as the exons of the resources"
    ),
    "cnv_targets_whole_genome": lambda p: (
        f"a targets BED is configured but this sample's coverage is whole-genome-like (depth on targets "
        f"{p['ratio']:.1f}x the depth between them): analysed as whole-genome data"
    ),
    "cnv_gene_not_called": lambda p: (
        f"{p['gene']}: copy number not called, posterior quality {p['quality']:.1f} < {p['min_quality']:g}"
        + (f" ({p['junction_reads']} junction reads)" if p.get("junction_reads") is not None else "")
    ),
    # --- a gene's copy-number state (gene_state.py): blockers and notes ---------------------------------------
    "cn_not_called": lambda p: f"{p['gene']} copy number not called ({p['why']}), so a deletion cannot be excluded",
    "exon_spared": lambda p: (
        f"{p['gene']} exon {p['exon']}: two copies (depth ratio {p['ratio']:.2f}); the deletion beside it "
        f"({p['chrom']}:{p['start']:,}-{p['end']:,}) has precise breakpoints that spare it"
    ),
    "exon_no_call": lambda p: (
        f"{p['gene']} exon {p['exon']}: copy number not called, so a deletion of it cannot be excluded"
    ),
    "exon_loss_unexplained": lambda p: (
        f"{p['gene']} exon {p['exon']} is at copy number {p['copy_number']} but no called deletion explains it "
        "(a loss too small or too shallow to call, or a depth artefact): confirm with an "
        "independent method (MLPA, qPCR or array)"
    ),
    "gene_no_call": lambda p: f"{p['gene']} copy number not called, so a deletion cannot be excluded",
    "gene_loss_unexplained": lambda p: (
        f"{p['gene']} is at copy number {p['copy_number']} but no called deletion explains it: "
        "confirm with an independent method (MLPA, qPCR or array)"
    ),
    "duplication": lambda p: (
        "duplication: " + _join(p["duplications"], "; ") + " (a duplication inside the gene "
        "can disrupt it and one over the whole gene changes the copies to assess; not "
        "interpreted here: confirm and assess by MLPA or long reads)"
    ),
    # --- one small-variant call (alleles.py): flags against counting it ---------------------------------------
    "genotype_incomplete": lambda p: (
        f"{p['label']}: genotype {p['genotype']} is incomplete (one allele not called), so it is not known "
        "whether one or both copies carry it"
    ),
    "heterozygous_on_one_copy": lambda p: (
        f"{p['label']}: heterozygous call (allele fraction {p['allele_fraction']}) where only one copy is "
        "present: the deletion call or the variant call is wrong"
    ),
    "in_homozygous_deletion": lambda p: (
        f"{p['label']}: called inside a deletion of both copies, where no reads can come from"
    ),
    "deletion_outside_cluster": lambda p: (
        f"the deletion {p['chrom']}:{p['start']:,}-{p['end']:,} (copy number {p['copy_number']}) also removes "
        f"{_join(p['genes'])}, outside the IL-1 cluster: a finding in its own right"
        + (
            " (PAX8: loss of one copy can cause congenital hypothyroidism with thyroid dysgenesis; check thyroid "
            "function)"
            if "PAX8" in p["genes"]
            else ""
        )
    ),
    "homozygous_low_fraction": lambda p: (
        f"{p['label']}: called homozygous, but only {p['alt_depth']} of {p['depth']} reads (allele fraction "
        f"{p['allele_fraction']:.2f}) carry it at copy number {_cn(p['copy_number'])}: "
        "not a clean homozygote (a heterozygote with allelic imbalance, contamination or a copy-number change); "
        "confirm it"
    ),
    "low_allele_fraction": lambda p: (
        f"{p['label']}: allele fraction {p['allele_fraction']:.2f} ({p['alt_depth']} of {p['depth']} reads) is "
        f"too low for a germline heterozygote (P = {p['p']:.1e}): possible mosaicism or sample contamination; "
        "confirm on an independent sample"
    ),
    # --- the decision (decision.py) ---------------------------------------------------------------------------
    "vus_failed_filters": lambda p: (
        f"a variant of uncertain significance {p['label']} failed filters ({p['filter']}); confirm it"
    ),
    "lof_failed_filters": lambda p: (
        f"a possible LoF call {p['label']} failed filters ({p['filter']}); confirm it (e.g. by Sanger sequencing)"
    ),
    "exons_not_callable": lambda p: (
        f"{p['gene']} coding exon(s) {_join(p['exons'])} not callable (depth below "
        f"{_join(p['depths'], '/') or 'the threshold'} needed at their copy number); a variant there "
        "cannot be excluded"
    ),
    "lof_allele": lambda p: (
        f"{p['label']}: hemizygous ({p['gene']} copy number 1 at this position, the other copy is "
        f"deleted), {p['classification']} ({p['why']})"
        if p["zygosity"] == "hemizygous"
        else f"{p['label']}: {p['zygosity']}, {p['classification']} ({p['why']})"
    ),
    "presumed_biallelic": lambda p: (
        f"presumed biallelic, not a confirmed diagnosis: two heterozygous loss-of-function {p['gene']} alleles "
        f"whose phase is unknown ({p['detail']}); on different copies (in trans) they would cause {p['disease']}, "
        "on the same copy (in cis) the patient is a carrier. Parental testing needed: test both parents (or "
        "phase the alleles by long reads) before reporting a diagnosis"
    ),
    "in_trans": lambda p: f"the two alleles are on different copies ({p['detail']})",
    "in_cis": lambda p: f"the two variants are on the same copy of {p['gene']} ({p['detail']})",
    "lof_and_vus": lambda p: (
        f"one LoF allele and a {p.get('zygosity') or 'heterozygous'} variant of uncertain significance "
        f"({_join(p['labels'])})"
        + (" on the only copy left where the other copy is deleted" if p.get("zygosity") == "hemizygous" else "")
        + f": a possible compound heterozygote; phase {p['phase'].replace('_', ' ')} ({p['detail']}); "
        + (
            "the genotype is biallelic if the variant is pathogenic: reassess the variant"
            if p["phase"] == "in_trans"
            else "establish the phase (reads, parental testing) and reassess the variant"
        )
    ),
    "second_not_excluded": lambda p: (
        "one LoF allele found, but a second cannot be excluded: " + _join(p["blockers"], "; ")
    ),
    "second_excluded": lambda p: (
        f"the rest of {p['gene']} (all coding exons and splice sites at their copy number, copy "
        "number of every exon) was checked: no second LoF allele"
    ),
    "vus_only": lambda p: "no LoF allele, but variant(s) of uncertain significance: " + _join(p["labels"]),
    "negative": lambda p: (
        f"no loss-of-function {p['gene']} variant; all coding exons and splice sites were "
        f"callable at their copy number (callable fraction "
        f"{p['callable_fraction']:.2f}) and {p['gene']} copy number is "
        + (
            f"{p['gene_cn']} with every exon at two copies"
            if p["gene_cn"] == 2 and not p.get("deletions")
            else f"{p['gene_cn']} only where the called deletion(s) listed lie, which take no coding base or "
            "canonical splice site"
        )
    ),
    "also_noted": lambda p: "also noted: " + _join(p["blockers"], "; "),
    "also_found_vus": lambda p: "also found (uncertain significance): " + _join(p["labels"]),
    "not_reported": lambda p: (
        f"not reported as an allele: {p['name']} classified {p['classification'].replace('_', ' ')}"
        f" ({p['why'].rstrip('.')})"
    ),
    "copy_number_note": lambda p: f"copy number: {p['note']}",
    "family_check": lambda p: f"family check: {p['detail']}",
}


def render(code: str, params: Mapping[str, Any]) -> str:
    """The text of a reason: the one renderer, for the JSON and the HTML alike."""
    try:
        template = TEMPLATES[code]
    except KeyError:
        raise ValueError(f"unknown reason code {code!r}; the codes are listed in reasons.TEMPLATES") from None
    return template(params)


class Reason(str):
    """A reason: ``code`` and ``params``; its value as a string is the rendered text."""

    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, **params: Any) -> Reason:
        reason = super().__new__(cls, render(code, params))
        reason.code = code
        reason.params = MappingProxyType(dict(params))
        return reason

    def __reduce__(self) -> tuple[Callable[..., Reason], tuple[str, dict[str, Any]]]:  # copy, pickle
        return _rebuild, (self.code, dict(self.params))

    def __repr__(self) -> str:
        return f"Reason({self.code!r}, {dict(self.params)!r})"

    @property
    def text(self) -> str:
        return str.__str__(self)


def _rebuild(code: str, params: dict[str, Any]) -> Reason:
    return Reason(code, **params)


__all__ = ["TEMPLATES", "Reason", "render"]
