"""Classification of one allele by configurable rules (:data:`DEFAULT_RULES`), checked in this order:

1. a published allele (``known_dira_variants.tsv``, matched on the left-normalised genomic allele the
   table's c. name resolves to on this build, :mod:`dira_genotyper.annotation.known_alleles`) takes the table's
   classification when that is one of ``known_classifications_used``;
2. population allele frequency >= ``ba1_af`` (0.05) is benign (ACMG BA1); above ``benign_af`` (0.01) likely
   benign (BS1: a recessive disease as rare as DIRA cannot be caused by a common allele);
3. a ``lof_consequences`` term is judged by the ClinGen PVS1 tree (:mod:`dira_genotyper.annotation.pvs1`): PVS1 or
   PVS1_Strong (with PM2) makes it likely pathogenic, a weaker strength uncertain; the branch is named in
   ``classification_reason``;
4. any ``uncertain_consequences`` term makes it uncertain;
5. an allele outside the MANE transcript (another isoform's exon) cannot change the MANE protein: likely
   benign; when every term is in ``benign_consequences`` (synonymous, intronic beyond the splice region, UTR)
   it is likely benign (BP7); anything else is uncertain. ``benign`` comes only from BA1 or the curated table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dira_genotyper.annotation.pvs1 import Pvs1
from dira_genotyper.errors import InputError

DEFAULT_RULES: dict[str, Any] = {
    "lof_consequences": [
        "stop_gained",
        "frameshift_variant",
        "splice_donor_variant",
        "splice_acceptor_variant",
        "start_lost",
    ],
    "uncertain_consequences": [
        "missense_variant",
        "inframe_deletion",
        "inframe_insertion",
        "splice_region_variant",
        "stop_lost",
        "coding_sequence_variant",
    ],
    "benign_consequences": [
        "synonymous_variant",
        "stop_retained_variant",
        "intron_variant",
        "5_prime_UTR_variant",
        "3_prime_UTR_variant",
    ],
    "benign_af": 0.01,
    "ba1_af": 0.05,
    "known_classifications_used": ["pathogenic", "likely_pathogenic", "likely_benign", "benign"],
}


def resolve_rules(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default rules with ``overrides`` applied; unknown keys or wrong types are an InputError."""
    rules = {key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULT_RULES.items()}
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_RULES:
            raise InputError(f"unknown classification rule {key!r}; the rules are: {', '.join(DEFAULT_RULES)}")
        if isinstance(DEFAULT_RULES[key], list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"classification rule {key!r} must be a list of names")
            rules[key] = list(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InputError(f"classification rule {key!r} must be a number from 0 to 1, not {value!r}")
            rules[key] = float(value)
    return rules


def classify(
    consequences: tuple[str, ...] | list[str],
    known: dict[str, str] | None,
    population_af: float | None,
    rules: dict[str, Any],
    pvs1: Pvs1 | None = None,
    *,
    disease: str,
) -> tuple[str, str]:
    """Classification and a reason naming the ACMG/AMP criterion that decided it (module docstring: order).

    ``pvs1`` is the ClinGen PVS1 judgement of the allele (:mod:`dira_genotyper.annotation.pvs1`); without it a LoF term
    counts as PVS1 (very strong), as before.
    """
    terms = list(consequences)
    known_note = ""
    if known:
        source = known.get("short_citation") or known["citation"]
        published = f"published {disease} allele {known['published_name']} ({source})"
        if known["classification"] in rules["known_classifications_used"]:
            return known["classification"], f"Matches the {published}, listed as {known['classification']}."
        known_note = f" Matches the {published}, listed as {known['classification']}."
    if population_af is not None and population_af >= rules["ba1_af"]:
        return (
            "benign",
            f"BA1: population allele frequency {population_af:.4g} is at least {rules['ba1_af']:g}.{known_note}",
        )
    if population_af is not None and population_af > rules["benign_af"]:
        return (
            "likely_benign",
            f"BS1: population allele frequency {population_af:.4g} is above {rules['benign_af']:g}, too common for "
            f"a disease as rare as {disease}.{known_note}",
        )
    lof = [t for t in terms if t in rules["lof_consequences"]]
    if lof:
        if pvs1 is None:
            return "likely_pathogenic", f"Predicted loss of function ({', '.join(lof)}).{known_note}"
        if pvs1.null_variant:
            return "likely_pathogenic", f"{pvs1.strength}: {pvs1.branch}; with PM2 (not common in the population)."
        if pvs1.strength is not None:
            return "uncertain", f"{pvs1.strength} only: {pvs1.branch}.{known_note}"
    uncertain = [t for t in terms if t in rules["uncertain_consequences"]]
    if uncertain:
        why = f" ({pvs1.branch})" if pvs1 is not None and lof else ""
        return "uncertain", f"Effect on the protein not predictable from {', '.join(uncertain)}{why}.{known_note}"
    if terms and set(terms) <= OUTSIDE_TRANSCRIPT:
        return (
            "likely_benign",
            "Outside the MANE Select transcript (e.g. an exon of another GENCODE isoform): cannot change the "
            f"protein of the transcript of record.{known_note}",
        )
    if terms and all(t in rules["benign_consequences"] for t in terms):
        criterion = (
            "BP7: synonymous, not in a splice region"
            if any(t in ("synonymous_variant", "stop_retained_variant") for t in terms)
            else "BP7 (by analogy): intronic beyond the splice region or UTR; cannot change the protein sequence"
        )
        return "likely_benign", f"{criterion} ({', '.join(terms)}).{known_note}"
    return "uncertain", f"No classification rule covers {', '.join(terms) or 'this allele'}.{known_note}"


#: Consequences of an allele that lies outside the transcript of record (upstream, downstream, intergenic).
OUTSIDE_TRANSCRIPT = {"upstream_gene_variant", "downstream_gene_variant", "intergenic_variant"}


def read_rules_json(value: str | None) -> dict[str, Any] | None:
    """Rule overrides from ``--rules-json``: a path to a JSON file, or the JSON object itself."""
    if not value:
        return None
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text()
        except OSError as exc:
            raise InputError(f"cannot read the rules JSON {value}: {exc.strerror}") from exc
    try:
        rules = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the classification rules are not valid JSON ({exc}): {value}") from exc
    if not isinstance(rules, dict):
        raise InputError(f"the classification rules must be a JSON object of rule: value, not {value}")
    return rules
