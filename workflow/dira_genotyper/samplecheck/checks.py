"""The run's sample checks: per sample (sex, contamination, runs of homozygosity) and per pair (kinship, IBS0)
held against the sample sheet's sex and pedigree, with a verdict per sample that the genotype step reads.

Thresholds (defaults of :class:`CheckSettings`, each a config key under ``sample_checks``):

* **Contamination above 3 %** makes a postnatal sample ``inconclusive``. Below it, a contaminating person's
  heterozygous allele gives <= 1.5 % of the reads, under the caller's error floor and never three reads at
  <= 100x; above it, at panel depths, a contaminant's homozygous allele reaches the caller's minimum of three
  reads and a sample's own heterozygote drifts from 0.5 (VerifyBamID's FREEMIX > 0.03 is the usual flag).
* **Maternal contamination of a prenatal sample above 20 %** withholds the fetal genotype. Up to it, with the
  mother's genotypes in the run, each fetal allele fraction is interpreted against the mixture (a fetal
  heterozygote gives >= 0.40, the mother's allele alone <= 0.10 at 20 %: apart at 30x), as laboratories
  interpret maternal cell contamination up to about this level when the mother is typed.
* **A listed parent** shares an allele with the child at every site: almost no opposite homozygotes (IBS0 < 1 %,
  which also tells parent-child from full siblings and second-degree relatives) and a kinship of at least 0.05
  (KING-robust kinship is 0.25 for a parent, less for an inbred child, ~0 for an unrelated person); **two files**
  whose genotypes agree at >= 95 % of the sites are one person (or identical twins): concordance, not kinship,
  because parent and child in a consanguineous family exceed KING's 0.354.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from dira_genotyper.samplecheck.models import (
    call_genotypes,
    contamination,
    froh,
    infer_sex,
    kinship,
    runs_of_homozygosity,
)
from dira_genotyper.samplecheck.sites import SiteCounts


@dataclass(frozen=True)
class CheckSettings:
    max_contamination: float = 0.03
    max_maternal_contamination: float = 0.20
    max_parent_ibs0: float = 0.01
    #: A parent shares an allele at every site (IBS0 ~ 0) and has kinship ~0.25; an inbred child's KING-robust
    #: kinship to a parent falls (0.09 in the bundled consanguineous trio), unrelated people are ~0 with IBS0 > 2 %.
    min_parent_kinship: float = 0.05
    min_roh_sites: int = 25
    min_roh_length: int = 1_000_000


def _same_contig(a: str, b: str) -> bool:
    return a.removeprefix("chr") == b.removeprefix("chr")


def sample_facts(counts: SiteCounts, locus: tuple[str, int, int], settings: CheckSettings) -> dict:
    """Sex, contamination, inbreeding (F_ROH) and runs of homozygosity of one sample, and whether ``locus``
    (chrom, start, end; 1-based) lies in a run."""
    gt = call_genotypes(counts.ref_n, counts.alt_n)
    auto = counts.kind == "A"
    sex = infer_sex(counts.kind, counts.depth, gt)
    mix = contamination(counts.ref_n[auto], counts.alt_n[auto])
    return {
        "sites_called": int((gt >= 0).sum()),
        "median_depth": float(np.median(counts.depth[auto])) if auto.any() else 0.0,
        "sex": {"inferred": sex.call, "x_het": sex.x_het, "x_depth_ratio": sex.x_ratio, "y_depth_ratio": sex.y_ratio},
        "contamination": mix.to_dict() if mix else None,
        **homozygosity(counts, gt, locus, settings),
    }


def homozygosity(counts: SiteCounts, gt: np.ndarray, locus: tuple[str, int, int], settings: CheckSettings) -> dict:
    """Runs of homozygosity on the autosomes, F_ROH, and whether ``locus`` (chrom, start, end) lies in a run."""
    auto = counts.kind == "A"
    runs = runs_of_homozygosity(
        counts.chrom[auto], counts.pos[auto], gt[auto], settings.min_roh_sites, settings.min_roh_length
    )
    chrom, start, end = locus
    called = auto & (gt >= 0)
    return {
        "f_roh": froh(runs, counts.chrom[called], counts.pos[called]) if called.any() else None,
        "roh": [{"chrom": r.chrom, "start": r.start, "end": r.end, "sites": r.sites} for r in runs],
        "locus_in_roh": any(_same_contig(r.chrom, chrom) and r.start <= end and start <= r.end for r in runs),
    }


def relatedness(genotypes: dict[str, np.ndarray]) -> list[dict]:
    """Kinship, IBS0 and KING degree of every pair of samples."""
    pairs = []
    for a, b in combinations(sorted(genotypes), 2):
        k = kinship(genotypes[a], genotypes[b])
        pairs.append(
            {
                "a": a,
                "b": b,
                "kinship": k.kinship,
                "ibs0": k.ibs0,
                "concordance": k.concordance,
                "sites": k.sites,
                "degree": k.degree(),
            }
        )
    return pairs


def _pair(pairs: list[dict], a: str, b: str) -> dict | None:
    return next((p for p in pairs if {p["a"], p["b"]} == {a, b}), None)


def pedigree_findings(sheet: list[dict], pairs: list[dict], settings: CheckSettings) -> dict[str, list[dict]]:
    """Findings per sample: ``fail`` (the file may not be the person the sheet says: the answer is withheld) or
    ``warn`` (reported, worth a look). ``sheet``: dicts with sample, family, father, mother."""
    found: dict[str, list[dict]] = {s["sample"]: [] for s in sheet}
    listed = set()
    for s in sheet:
        for role in ("father", "mother"):
            parent = s.get(role)
            if not parent or parent not in found:
                continue
            listed.add(frozenset((s["sample"], parent)))
            p = _pair(pairs, s["sample"], parent)
            if p is None or p["kinship"] is None:
                why = f"relatedness to the listed {role} {parent} could not be checked (too few shared sites)"
                found[s["sample"]].append({"level": "warn", "code": "pedigree_unchecked", "text": why})
                continue
            if p["kinship"] < settings.min_parent_kinship or p["ibs0"] > settings.max_parent_ibs0:
                why = (
                    f"the listed {role} {parent} is not a parent of {s['sample']} by the genotypes (kinship "
                    f"{p['kinship']:.3f}, IBS0 {p['ibs0']:.3f}; a parent has ~0.25 and ~0): a sample swap or a "
                    "wrong sheet"
                )
                for who in (s["sample"], parent):
                    found[who].append({"level": "fail", "code": "not_parent", "text": why})
    families = {s["sample"]: s.get("family") for s in sheet}
    for p in pairs:
        a, b = p["a"], p["b"]
        if p["degree"] == "duplicate":
            why = f"{a} and {b} are one person by the genotypes (kinship {p['kinship']:.3f}): two files of one person"
            for who in (a, b):
                found.setdefault(who, []).append({"level": "fail", "code": "duplicate", "text": why})
        elif p["degree"] in ("first", "second") and frozenset((a, b)) not in listed:
            same_family = families.get(a) and families.get(a) == families.get(b)
            if not same_family:
                why = f"{a} and {b} are {p['degree']}-degree relatives by the genotypes but not listed as related"
                for who in (a, b):
                    found.setdefault(who, []).append({"level": "warn", "code": "unlisted_relative", "text": why})
    return found


def sex_finding(sheet_sex: str | None, inferred: str) -> dict | None:
    """A sex mismatch (sheet vs genotypes) fails identity; a sheet sex the sites cannot confirm (too few X/Y
    sites, or X and Y disagreeing: XXY, a mixture) is a warning, so an identity check that did not run is said."""
    sheet_sex = (sheet_sex or "").lower()
    if sheet_sex not in ("male", "female"):
        return None
    if inferred == "unknown":
        why = (
            f"the sheet says {sheet_sex}, but the X/Y sites do not tell the sex (too few sites read, or X and Y "
            "disagree): the sample's identity was not checked by sex"
        )
        return {"level": "warn", "code": "sex_unchecked", "text": why}
    if sheet_sex != inferred:
        why = f"the sheet says {sheet_sex}, the X/Y sites say {inferred}: a sample swap or a wrong sheet"
        return {"level": "fail", "code": "sex_mismatch", "text": why}
    return None


def contamination_finding(facts: dict, prenatal: bool, maternal: dict | None, settings: CheckSettings) -> dict | None:
    """A finding when the contamination estimate exceeds its threshold (the lower 95 % bound, so that noise at
    low depth does not withhold an answer)."""
    if prenatal and maternal is not None:
        if maternal["low"] > settings.max_maternal_contamination:
            return {
                "level": "fail",
                "code": "maternal_contamination",
                "text": f"maternal contamination {maternal['fraction']:.1%} (95% CI {maternal['low']:.1%}-"
                f"{maternal['high']:.1%}) is above {settings.max_maternal_contamination:.0%}: the fetal genotype "
                "cannot be separated from the mother's; a new sample is needed",
            }
        return None
    mix = facts.get("contamination")
    if mix and mix["low"] > settings.max_contamination:
        return {
            "level": "fail",
            "code": "contamination",
            "text": f"contamination {mix['fraction']:.1%} (95% CI {mix['low']:.1%}-{mix['high']:.1%}) is above "
            f"{settings.max_contamination:.0%}: another person's DNA could be called as this patient's alleles",
        }
    return None
