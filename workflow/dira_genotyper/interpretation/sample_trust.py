"""The sample checks (``results/checks/{group}.checks.json``, :mod:`dira_genotyper.samplecheck`) applied to one
sample's genotype:

* a failed identity, pedigree or contamination check makes the status ``inconclusive`` with the finding as the
  reason (the alleles stay listed: the file may not be the person the sheet names);
* a prenatal sample with maternal contamination below the threshold is interpreted as a fetal genotype: each
  call's allele fraction is judged against the mixture with the mother's genotype at the site
  (:func:`~dira_genotyper.samplecheck.models.fetal_genotype`), so an allele that only the mother's cells carry is
  not the fetus's, and a fetal heterozygote is not flagged as mosaic;
* a homozygous call at two copies in a child of related parents outside any run of homozygosity is flagged:
  uniparental disomy or a deletion the depth did not show can make a call look homozygous;
* the report's ``sample_checks`` block says what was checked and found.
"""

from __future__ import annotations

import json
from pathlib import Path

from dira_genotyper.samplecheck.models import fetal_genotype

NOT_RUN = "not run: no sample-check site list for this build, or no sites covered (see the run log)"


def load_checks(path: str | None, sample: str) -> dict | None:
    """This sample's entry of the run's checks (with its relatives), or None when the checks did not run."""
    if not path or not Path(path).exists():
        return None
    run = json.loads(Path(path).read_text())
    entry = run.get("samples", {}).get(sample)
    if entry is None:
        return None
    pairs = [p for p in run.get("pairs", []) if sample in (p["a"], p["b"]) and p["degree"] not in ("unrelated",)]
    return {**entry, "relatives": [{**p, "other": p["b"] if p["a"] == sample else p["a"]} for p in pairs]}


def _mother_copies(variant: dict, mother: dict, model) -> int | None:
    """Copies of the variant's allele the mother has: 1 or 2 from her call, 0 where she is confidently reference,
    None where her data cannot tell (:func:`~dira_genotyper.interpretation.phase.carries`)."""
    from dira_genotyper.interpretation.phase import carries

    genomic = {k: variant[k] for k in ("chrom", "pos", "ref", "alt")}
    has = carries({"kind": variant.get("kind", "snv"), "genomic": genomic}, mother, model)
    if has is None or not has:
        return None if has is None else 0
    call = next(c for c in mother["variants"] if all(c[k] == genomic[k] for k in genomic))
    return 2 if call.get("zygosity") == "homozygous" else 1


def reinterpret_fetal(
    variants: list[dict], mother: dict | None, alpha: float, model_of
) -> tuple[list[dict], list[dict]]:
    """Fetal genotypes of a prenatal sample's calls at maternal contamination ``alpha``: (calls kept, the fetus's
    genotype and fraction corrected; calls that are the mother's alleles only, with the reason). ``model_of(gene)``
    gives the gene's model (None: the call is left as it is)."""
    if mother is None or alpha <= 0:
        return variants, []
    kept, maternal = [], []
    for v in variants:
        model = model_of(v.get("gene"))
        copies = _mother_copies(v, mother, model) if model is not None else None
        depth, alt = v.get("depth") or 0, v.get("alt_depth") or 0
        if copies is None or depth <= 0:
            kept.append(v)
            continue
        g, lod = fetal_genotype(alt, depth, alpha, copies)
        fetal_af = max(0.0, min(1.0, (alt / depth - alpha * copies / 2) / (1 - alpha)))
        note = (
            f"maternal contamination {alpha:.1%}, mother {('without', 'heterozygous for', 'homozygous for')[copies]} "
            f"the allele: {alt} of {depth} reads fit a fetal genotype of {('0/0', '0/1', '1/1')[g]} "
            f"(log10 LR {lod:g} over the next)"
        )
        if g == 0:
            maternal.append({**v, "fetal_genotype": "0/0", "note": note})
            continue
        kept.append(
            {
                **v,
                "genotype": "1/1" if g == 2 else "0/1",
                "zygosity": "homozygous" if g == 2 else "heterozygous",
                "allele_fraction_observed": v.get("allele_fraction"),
                "allele_fraction": round(fetal_af, 3),
                "fetal_genotype_note": note,
            }
        )
    return kept, maternal


def apply_checks(interp, entry: dict | None, sample: dict, copy_number_two: bool) -> None:
    """Withhold the answer on a failed check; flag a homozygous call in a child of related parents outside a run of
    homozygosity (``copy_number_two``: the gene is at two copies)."""
    if entry is None:
        return
    failed = [f for f in entry.get("findings", []) if f["level"] == "fail"]
    if failed:
        texts = "; ".join(f["text"] for f in failed)
        interp.reasons.insert(0, f"sample check failed, the answer is withheld: {texts}")
        interp.summary = (
            f"Inconclusive: the sample checks failed ({texts}). Resolve the identity or quality of the sample "
            f"before reading the genotype. (Genotype as called: {interp.summary})"
        )
        interp.status = "inconclusive"
    homozygous = [a for a in interp.alleles if a.get("zygosity") == "homozygous" and a.get("kind") != "deletion"]
    if homozygous and copy_number_two and entry.get("parents_related") and not entry.get("locus_in_roh"):
        interp.reasons.append(
            "the parents are related but the homozygous call does not lie in a run of homozygosity: uniparental "
            "disomy or a deletion on the other copy that the depth did not show can make a call look homozygous "
            "(check the parents' genotypes and the copy number, e.g. by MLPA)"
        )


def checks_block(entry: dict | None, sample: dict, maternal: list[dict]) -> dict:
    """The report's ``sample_checks`` section."""
    if entry is None:
        return {"verdict": "not_run", "detail": NOT_RUN}
    block = {
        "verdict": entry["verdict"],
        "sites_called": entry["sites_called"],
        "median_depth": entry["median_depth"],
        "sex_sheet": sample.get("sex") or None,
        "sex_inferred": entry["sex"]["inferred"],
        "sex_evidence": {k: v for k, v in entry["sex"].items() if k != "inferred"},
        "contamination": entry.get("contamination"),
        "maternal_contamination": entry.get("maternal_contamination"),
        "f_roh": entry.get("f_roh"),
        "locus_in_roh": entry.get("locus_in_roh"),
        "parents_related": entry.get("parents_related"),
        "findings": entry.get("findings", []),
        "relatives": [
            {k: p[k] for k in ("other", "kinship", "ibs0", "degree", "sites")} for p in entry.get("relatives", [])
        ],
    }
    if maternal:
        block["maternal_alleles"] = [
            {"hgvs_c": v.get("hgvs_c"), "gene": v.get("gene"), "note": v["note"]} for v in maternal
        ]
    return block
