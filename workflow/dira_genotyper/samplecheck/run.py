"""The ``sample-checks`` command: every sample's site counts and the sheet in, ``results/checks/{group}.checks.json``
out (per sample: sex, contamination, runs of homozygosity, findings and a verdict; per pair: kinship)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from dira_genotyper.samplecheck.checks import (
    CheckSettings,
    contamination_finding,
    pedigree_findings,
    relatedness,
    sample_facts,
    sex_finding,
)
from dira_genotyper.samplecheck.models import KING_THIRD, call_genotypes, contamination
from dira_genotyper.samplecheck.sites import SiteCounts

CHECKS_VERSION = 1


#: Fewer genotyped sites than this and the identity checks say nothing (a gene panel, or low coverage).
MIN_SITES = 100


def too_few_sites(called: int) -> dict | None:
    if called >= MIN_SITES:
        return None
    why = (
        f"only {called} of the check sites were genotyped (>= 10 reads; need {MIN_SITES}): identity, sex, "
        "relatedness and contamination could not be checked (a gene panel, low coverage, or a site table for "
        "another build)"
    )
    return {"level": "warn", "code": "too_few_sites", "text": why}


def check_groups(samples: list[dict]) -> dict[str, str]:
    """Sample -> the group its checks run in: its family (the `family` column), or, without one, the samples it is
    linked to as child or parent. A sample's report waits only for its own group's checks, so one failed sample
    does not hold back the reports of unrelated samples. The group is named by its first sample (sorted)."""
    parent = {s["sample"]: s["sample"] for s in samples}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    by_family: dict[str, str] = {}
    for s in samples:
        links = [s.get("father"), s.get("mother")]
        if s.get("family"):
            links.append(by_family.setdefault(s["family"], s["sample"]))
        for other in links:
            if other in parent:
                parent[root(other)] = root(s["sample"])
    members: dict[str, list[str]] = {}
    for name in parent:
        members.setdefault(root(name), []).append(name)
    return {name: min(group) for group in members.values() for name in group}


def is_prenatal(sample: dict) -> bool:
    return str(sample.get("prenatal") or "").lower() in ("yes", "true", "1", "prenatal", "fetal")


def run_sample_checks(
    sheet: list[dict],
    counts: dict[str, SiteCounts],
    locus: tuple[str, int, int],
    settings: CheckSettings,
    known: dict[int, dict] | None = None,
) -> dict:
    """``known``: per-sample facts already computed for the same counts (keyed by ``id(counts)``; a benchmark that
    rechecks one run under other sheets)."""
    known = {} if known is None else known
    facts = {}
    for name, c in counts.items():
        if id(c) not in known:
            known[id(c)] = sample_facts(c, locus, settings)
        facts[name] = dict(known[id(c)])
    genotypes = {name: call_genotypes(c.ref_n, c.alt_n) for name, c in counts.items()}
    # autosomes only: a son's X is his mother's, so he and his father are opposite homozygotes at many X sites
    pairs = relatedness({name: gt[counts[name].kind == "A"] for name, gt in genotypes.items()})
    findings = pedigree_findings([s for s in sheet if s["sample"] in counts], pairs, settings)
    for s in sheet:
        name = s["sample"]
        if name not in counts:
            continue
        maternal = None
        mother = s.get("mother")
        if is_prenatal(s) and mother in counts:
            auto = counts[name].kind == "A"
            est = contamination(counts[name].ref_n[auto], counts[name].alt_n[auto], mother=genotypes[mother][auto])
            maternal = est.to_dict() if est else None
            facts[name]["maternal_contamination"] = maternal
        extra = [
            too_few_sites(facts[name]["sites_called"]),
            sex_finding(s.get("sex"), facts[name]["sex"]["inferred"]),
            contamination_finding(facts[name], is_prenatal(s), maternal, settings),
        ]
        findings[name].extend(f for f in extra if f)
        father = s.get("father")
        if father in counts and mother in counts:
            pair = next(p for p in pairs if {p["a"], p["b"]} == {father, mother})
            facts[name]["parents_kinship"] = pair["kinship"]
            facts[name]["parents_related"] = pair["kinship"] is not None and pair["kinship"] > KING_THIRD
    samples = {}
    for name, f in facts.items():
        levels = {x["level"] for x in findings.get(name, [])}
        verdict = "fail" if "fail" in levels else "warn" if "warn" in levels else "pass"
        samples[name] = {**f, "findings": findings.get(name, []), "verdict": verdict}
    return {"version": CHECKS_VERSION, "settings": asdict(settings), "samples": samples, "pairs": pairs}


def write_checks(result: dict, out: str | Path) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{out}.tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    tmp.replace(out)
