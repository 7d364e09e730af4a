"""Classification of one allele by configurable rules (:data:`DEFAULT_RULES`), ACMG/AMP criteria combined as below.

1. A published allele (``known_dira_variants.tsv``, matched on the left-normalised genomic allele the table's c. name
   resolves to on this build, :mod:`dira_genotyper.annotation.known_alleles`) takes the table's classification when
   that is one of ``known_classifications_used``.
2. **BA1**: the highest population allele frequency (:class:`PopulationAf`: the global AF or that of the most
   frequent continental group) >= ``ba1_af`` (0.05) is benign, stand-alone.
3. **PVS1** (a ``lof_consequences`` term judged by the ClinGen tree, :mod:`dira_genotyper.annotation.pvs1`) against
   **BS1** (highest AF > ``benign_af``, the maximum credible allele frequency below): both at once is conflicting
   evidence, and conflicting strong evidence is ``uncertain`` (ACMG/AMP 2015: "criteria for benign and pathogenic
   are contradictory"; in the Bayesian points, +8 - 4 = +4, uncertain). BS1 never silences a null allele: founder
   alleles reach 1% locally (the Puerto Rican ~175 kb deletion: 3 carriers in 119 matched controls, AF 1.3%).
   Without BS1: PVS1 is likely pathogenic (with PM2, or on PVS1 alone: 8 points, likely pathogenic in the
   ClinGen-endorsed points of Tavtigian et al. 2020 Hum Mutat 41:1734); PVS1_Strong needs PM2 (4 + 2 points,
   ACMG 2015 "1 strong + 1 moderate"); weaker strengths stay uncertain.
4. **PM2** (absent from the population data, or at most ``pm2_af`` in every group: "extremely low frequency if
   recessive") is claimed only when population data was read. Without it the reason says that population data was
   not available; it is never assumed.
5. **BS1** alone (no pathogenic criterion) is likely benign: the threshold is disease-specific (a strong benign
   criterion, -4 points: likely benign).
6. **Analysed range.** An allele outside the range the test interprets is ``not_assessed`` (listed, never weighed
   in the status): the range is the MANE coding sequence with ``analysed_flank`` (20) bp on each side, in the
   introns (c.N+1 to c.N+20, c.N-20 to c.N-1 at every coding exon) and in the UTRs (c.-20 to c.*20). Published
   alleles (step 1) and BA1 / BS1 (steps 2, 5) are judged anywhere. The reasoning, as clinical laboratories
   state a reportable range: sequence variants in deep introns and UTRs are not interpretable by the ACMG/AMP
   criteria without RNA or functional evidence (ACMG/AMP 2015 gives no criterion that could classify them
   pathogenic or benign from the DNA call alone, BP7 is supporting only); a genome carries one heterozygous SNV
   every 1-1.5 kb, so every IL1RN (6.4 kb) would otherwise carry "variants of uncertain significance" and no
   sample could be `negative`. Splice-region changes (c.N+3 to +8, c.N-3 to -20) stay inside the range.
7. ``uncertain_consequences`` terms are uncertain; an allele outside the MANE transcript (another isoform's exon)
   cannot change the MANE protein: likely benign.
8. **BP7** (supporting) applies to synonymous / stop-retained alleles outside the splice region and to intronic
   alleles at +7 and beyond on the donor side or -21 and beyond on the acceptor side (ClinGen SVI splicing
   recommendations, Walker et al. 2023 Am J Hum Genet 110:1046); never to UTR alleles. BP7 alone is not enough
   for likely benign (ACMG/AMP 2015 needs a strong + a supporting, or two supporting benign criteria; here that
   is BS1 + BP7): alone it is ``uncertain``, with the reason. ``benign`` comes only from BA1 or the curated table.

**Maximum credible allele frequency of one DIRA allele** (Whiffin et al. 2017 Genet Med 19:1151, biallelic form):
a recessive disease of prevalence P, a share G of it caused by this gene, penetrance pen and a single allele
giving at most a share A of the disease alleles has sum(q)^2 * pen = P * G, so q_allele <= A * sqrt(P * G / pen).
For DIRA: P = 1 in 100,000 (an upper bound: reported prevalence is below 1 in 1,000,000 (Orphanet); x10 for
under-diagnosis, deaths in infancy before diagnosis and founder clusters); G = 1 (DIRA is IL1RN deficiency by
definition); A = 1 (a founder allele can explain every case of a population, as the Puerto Rican deletion does);
pen = 0.5 (no population-based estimate exists: every biallelic child reported was affected, but ascertainment
is through affected children, so half is the conservative bound). q = 1 * sqrt(1e-5 * 1 / 0.5) = 0.0045
(:data:`MAX_CREDIBLE_AF`): an allele more frequent than this in a continental group is too common to cause DIRA.
It is compared with the highest group AF (:mod:`dira_genotyper.annotation.sources`); a founder allele above it is
caught by step 3 (uncertain) or by the curated table (step 1).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dira_genotyper.annotation.pvs1 import STRONG, VERY_STRONG, Pvs1
from dira_genotyper.errors import InputError


def max_credible_af(prevalence: float, genetic: float, allelic: float, penetrance: float) -> float:
    """Whiffin et al. 2017, biallelic: the highest AF one allele of a recessive disease can have."""
    return allelic * math.sqrt(prevalence * genetic / penetrance)


#: DIRA (see the module docstring): prevalence 1e-5, genetic share 1, allelic share 1, penetrance 0.5 -> 0.0045.
MAX_CREDIBLE_AF = round(max_credible_af(1e-5, 1.0, 1.0, 0.5), 4)
#: The classification of a call outside the analysed range (module docstring, step 6): listed, not interpreted.
NOT_ASSESSED = "not_assessed"
#: Intronic positions where BP7 may apply (ClinGen SVI 2023): donor side >= +7, acceptor side <= -21.
BP7_DONOR_MIN, BP7_ACCEPTOR_MIN = 7, 21


@dataclass(frozen=True)
class PopulationAf:
    """What the population data says about one allele (``None`` in its place: no population data was read).

    ``af``: the global AF (None: the allele is not in the data); ``max_af``/``group``: the highest AF of a
    continental group (gnomAD ``AF_grpmax``/``AF_popmax`` or the ``AF_<group>`` keys), when the data has groups.
    """

    af: float | None = None
    max_af: float | None = None
    group: str | None = None

    @property
    def highest(self) -> float | None:
        values = [v for v in (self.af, self.max_af) if v is not None]
        return max(values) if values else None

    def describe(self) -> str:
        if self.highest is None:
            return "absent from the population data"
        group = f"{self.max_af:.4g} in {self.group}" if self.max_af is not None and self.max_af != self.af else ""
        if self.af is None:
            return f"population allele frequency {group}"
        return f"population allele frequency {self.af:.4g}" + (f" ({group})" if group else "")


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
    ],
    "benign_af": MAX_CREDIBLE_AF,  # BS1: above the maximum credible allele frequency (module docstring)
    "ba1_af": 0.05,
    "pm2_af": 0.0001,  # PM2: absent, or at most this in every group ("extremely low frequency if recessive")
    "known_classifications_used": ["pathogenic", "likely_pathogenic", "likely_benign", "benign"],
    "analysed_flank": 20,  # bp of intron and UTR beside the coding sequence that the test interprets (step 6)
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
        elif isinstance(DEFAULT_RULES[key], int):  # a length in bp
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
                raise InputError(f"classification rule {key!r} must be a whole number of bp from 0 to 1000")
            rules[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InputError(f"classification rule {key!r} must be a number from 0 to 1, not {value!r}")
            rules[key] = float(value)
    return rules


def classify(
    consequences: tuple[str, ...] | list[str],
    known: dict[str, str] | None,
    population: PopulationAf | float | None,
    rules: dict[str, Any],
    pvs1: Pvs1 | None = None,
    *,
    disease: str,
    intron_offsets: tuple[int, ...] | list[int] = (),
    analysed: bool = True,
) -> tuple[str, str]:
    """Classification and a reason naming the ACMG/AMP criteria that decided it (module docstring: the order).

    ``population``: what the population data says (a bare number is a global AF); None when no population data
    was read. ``pvs1`` is the ClinGen PVS1 judgement (:mod:`dira_genotyper.annotation.pvs1`); without it a LoF term
    counts as PVS1 (very strong). ``intron_offsets``: the HGVS intron offsets of the allele's intronic bases (+
    donor side, - acceptor side), which decide BP7 for intronic alleles. ``analysed``: whether the allele touches
    the analysed range (module docstring, step 6).
    """
    terms = list(consequences)
    known_note = ""
    if known:
        source = known.get("short_citation") or known["citation"]
        published = f"published {disease} allele {known['published_name']} ({source})"
        if known["classification"] in rules["known_classifications_used"]:
            return known["classification"], f"Matches the {published}, listed as {known['classification']}."
        known_note = f" Matches the {published}, listed as {known['classification']}."
    if isinstance(population, int | float):
        population = PopulationAf(af=float(population))
    highest = population.highest if population is not None else None
    if highest is not None and highest >= rules["ba1_af"]:
        return "benign", f"BA1: {population.describe()} is at least {rules['ba1_af']:g}.{known_note}"
    bs1 = None
    if highest is not None and highest > rules["benign_af"]:
        bs1 = (
            f"BS1: {population.describe()} is above {rules['benign_af']:g}, the maximum credible allele frequency "
            f"of one {disease} allele"
        )
    if not analysed and not set(terms) <= OUTSIDE_TRANSCRIPT:
        if bs1:
            return "likely_benign", f"{bs1}.{known_note}"
        flank = rules["analysed_flank"]
        return (
            NOT_ASSESSED,
            f"Outside the analysed range (the coding sequence and {flank} bp beside it, c.-{flank} to c.*{flank}): a "
            f"deep-intronic or UTR change is not interpreted without RNA or functional evidence.{known_note}",
        )
    lof = [t for t in terms if t in rules["lof_consequences"]]
    if lof:
        strength, branch = (
            (VERY_STRONG, f"loss of function ({', '.join(lof)})") if pvs1 is None else (pvs1.strength, pvs1.branch)
        )
        if strength is not None:
            return _pathogenic(strength, branch, bs1, _pm2(population, rules), known_note)
    if bs1:
        return "likely_benign", f"{bs1}.{known_note}"
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
    bp7 = _bp7(terms, rules, intron_offsets)
    if bp7:
        missing = " (no population data was available)" if population is None else ""
        return (
            "uncertain",
            f"{bp7}, alone: likely benign needs a second benign criterion, such as BS1{missing}.{known_note}",
        )
    where = ""
    if "intron_variant" in terms and intron_offsets:
        at = ", ".join(f"{o:+d}" for o in intron_offsets)
        where = f" (intronic at {at}: BP7 applies only at +{BP7_DONOR_MIN} / -{BP7_ACCEPTOR_MIN} and beyond)"
    terms_text = ", ".join(terms) or "this allele"
    return "uncertain", f"No benign or pathogenic criterion applies to {terms_text}{where}.{known_note}"


def _pm2(population: PopulationAf | None, rules: dict[str, Any]) -> tuple[bool, str]:
    """Whether PM2 is met, and the words for it (met, not met, or not assessed)."""
    if population is None:
        return False, "PM2 not assessed: population data was not available"
    if population.highest is None:
        return True, "PM2: absent from the population data"
    if population.highest <= rules["pm2_af"]:
        return True, f"PM2: {population.describe()}, at most {rules['pm2_af']:g}"
    return False, f"PM2 not met: {population.describe()} is above {rules['pm2_af']:g}"


def _pathogenic(strength: str, branch: str, bs1: str | None, pm2: tuple[bool, str], known_note: str) -> tuple[str, str]:
    """A null-variant criterion, weighed against BS1 and with or without PM2 (module docstring, step 3)."""
    if bs1:
        return (
            "uncertain",
            f"Conflicting evidence: {strength} ({branch}) against {bs1}; conflicting strong evidence is of uncertain "
            f"significance.{known_note}",
        )
    met, pm2_text = pm2
    if strength == VERY_STRONG:
        alone = "" if met else "; likely pathogenic on PVS1 alone (8 points, Tavtigian 2020)"
        return "likely_pathogenic", f"{strength}: {branch}; {pm2_text}{alone}.{known_note}"
    if strength == STRONG and met:
        return "likely_pathogenic", f"{strength}: {branch}; {pm2_text}.{known_note}"
    if strength == STRONG:
        return "uncertain", f"{strength}: {branch}; {pm2_text}, and {strength} alone is not enough.{known_note}"
    return "uncertain", f"{strength} only: {branch}.{known_note}"


def _bp7(terms: list[str], rules: dict[str, Any], intron_offsets: tuple[int, ...] | list[int]) -> str | None:
    """The BP7 criterion met by these terms, in words, or None (module docstring, step 7)."""
    if not terms or not all(t in rules["benign_consequences"] or t == "splice_region_variant" for t in terms):
        return None
    if "intron_variant" in terms:
        if not intron_offsets or not all(_bp7_offset(o) for o in intron_offsets):
            return None
        where = ", ".join(f"{o:+d}" for o in intron_offsets)
        return f"BP7: intronic at {where}, at +{BP7_DONOR_MIN} or beyond / -{BP7_ACCEPTOR_MIN} or beyond"
    if "splice_region_variant" in terms:
        return None
    return f"BP7: {', '.join(terms)}, not in a splice region"


def _bp7_offset(offset: int) -> bool:
    return offset >= BP7_DONOR_MIN if offset > 0 else offset <= -BP7_ACCEPTOR_MIN


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
