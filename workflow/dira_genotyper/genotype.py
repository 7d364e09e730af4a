"""The DIRA genotype of one sample: combine calls, copy number, coverage and family into one answer.

Status rules (README "Interpretation"): `affected` = two loss-of-function (LoF) IL1RN alleles; `carrier` = one;
`negative` = none, with the whole CDS +/- splice sites callable and copy number called; `inconclusive` =
anything else. A region that was not covered is never reported as "no variant".
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__

log = logging.getLogger(__name__)

LOF_CLASSES = ("pathogenic", "likely_pathogenic")
REPORTED_CLASSES = ("pathogenic", "likely_pathogenic", "uncertain")
REPORT_GENES = ["IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10"]
FOUNDER_GENES = {"IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"}


@dataclass
class Interpretation:
    status: str
    summary: str
    reasons: list[str]
    alleles: list[dict]
    phase: dict
    family: dict


# --- copy number helpers ---------------------------------------------------------------------------------


def copy_number_at(cnv: dict, chrom: str, pos: int) -> int | None:
    """Copy number at a position: a deletion segment, else the IL1RN exon, else the IL1RN gene call."""
    if cnv.get("status") != "called":
        return None
    for deletion in cnv.get("deletions", []):
        if deletion["chrom"] == chrom and deletion["start"] <= pos <= deletion["end"]:
            return deletion["copy_number"]
    for exon in cnv.get("exons", []):
        if exon.get("gene") == "IL1RN" and exon["start"] <= pos <= exon["end"]:
            return exon.get("copy_number")
    gene = cnv.get("genes", {}).get("IL1RN", {})
    return gene.get("copy_number", 2)


def il1rn_deletions(cnv: dict) -> list[dict]:
    return [d for d in cnv.get("deletions", []) if "IL1RN" in d.get("genes", []) or d.get("il1rn_exons")]


def is_pass(variant: dict) -> bool:
    flt = variant.get("filter")
    return flt in ("PASS", None, ".") or flt == ["PASS"]


# --- alleles ---------------------------------------------------------------------------------------------


def variant_allele(variant: dict, cnv: dict) -> dict:
    cn = copy_number_at(cnv, variant["chrom"], variant["pos"])
    zygosity = variant.get("zygosity", "heterozygous")
    if zygosity == "homozygous" and cn == 1:
        zygosity = "hemizygous"
    flt = variant.get("filter")
    return {
        "kind": variant.get("kind", "snv"),
        "hgvs_c": variant.get("hgvs_c"),
        "hgvs_p": variant.get("hgvs_p"),
        "hgvs_c_ensembl": variant.get("hgvs_c_ensembl"),
        "consequence": variant.get("consequence"),
        "genomic": {
            "chrom": variant["chrom"],
            "pos": variant["pos"],
            "end": variant["pos"] + max(len(variant["ref"]) - 1, 0),
            "ref": variant["ref"],
            "alt": variant["alt"],
        },
        "zygosity": zygosity,
        "classification": variant["classification"],
        "classification_reason": variant.get("classification_reason") or "",
        "known_as": variant.get("known_as"),
        "copy_number": cn,
        "evidence": {
            "depth": variant.get("depth"),
            "alt_depth": variant.get("alt_depth"),
            "allele_fraction": variant.get("allele_fraction"),
            "quality": variant.get("qual"),
            "genotype_quality": variant.get("genotype_quality"),
            "filter": ";".join(flt) if isinstance(flt, list) else (flt or "PASS"),
            "population_af": variant.get("population_af"),
        },
        "origin": None,
    }


def deletion_allele(deletion: dict, il1rn_exon_count: int) -> dict:
    exons = sorted(deletion.get("il1rn_exons", []))
    whole = "IL1RN" in deletion.get("genes", []) and (not exons or len(exons) >= il1rn_exon_count)
    if whole:
        classification = "pathogenic"
        reason = "deletes the whole IL1RN gene (null allele)"
    else:
        classification = "likely_pathogenic"
        reason = f"deletes IL1RN exon(s) {', '.join(map(str, exons))} (predicted loss of function)"
    founder_like = FOUNDER_GENES <= set(deletion.get("genes", []))
    return {
        "kind": "deletion",
        "hgvs_c": None,
        "hgvs_p": None,
        "hgvs_c_ensembl": None,
        "consequence": "transcript_ablation" if whole else "exon_loss_variant",
        "genomic": {"chrom": deletion["chrom"], "pos": deletion["start"], "end": deletion["end"], "ref": None,
                    "alt": "<DEL>"},
        "zygosity": "homozygous" if deletion["copy_number"] == 0 else "heterozygous",
        "classification": classification,
        "classification_reason": reason,
        "known_as": (
            "IL-1 cluster deletion removing IL1RN and the IL36 genes (founder-type, cf. Reddy 2009; "
            "Aksentijevich 2009)" if founder_like else None
        ),
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
        "origin": None,
    }


def lof_count(allele: dict) -> int:
    if allele["classification"] not in LOF_CLASSES:
        return 0
    return 2 if allele["zygosity"] == "homozygous" else 1


def allele_label(allele: dict) -> str:
    if allele["kind"] == "deletion":
        g = allele["genomic"]
        size = g["end"] - g["pos"] + 1
        what = "whole-IL1RN deletion" if allele["consequence"] == "transcript_ablation" else "IL1RN exon deletion"
        return f"{what} of {size / 1000:.1f} kb ({g['chrom']}:{g['pos']:,}-{g['end']:,})"
    g = allele["genomic"]
    name = allele["hgvs_c"] or f"{g['chrom']}:{g['pos']} {g['ref']}>{g['alt']}"
    if allele.get("hgvs_p"):
        name += f" {allele['hgvs_p'].split(':')[-1]}"
    if allele.get("known_as"):
        name += f" ({allele['known_as']})"
    return name


# --- phase -----------------------------------------------------------------------------------------------


def _carries(allele: dict, variants: list[dict], cnv: dict | None) -> bool | None:
    """Does a relative carry this allele? None when the relative's data cannot tell."""
    if allele["kind"] == "deletion":
        if cnv is None or cnv.get("status") != "called":
            return None
        g = allele["genomic"]
        return any(d["start"] <= g["end"] and g["pos"] <= d["end"] for d in cnv.get("deletions", []))
    g = allele["genomic"]
    for v in variants:
        if v["chrom"] == g["chrom"] and v["pos"] == g["pos"] and v["ref"] == g["ref"] and v["alt"] == g["alt"]:
            return True
    return False


def phase_from_reads(bam: str, first: dict, second: dict, min_pairs: int = 3) -> tuple[str, str]:
    """Read-backed phase of two small variants: count fragments that carry both, one or neither alt."""
    import pysam

    g1, g2 = first["genomic"], second["genomic"]
    if g1["chrom"] != g2["chrom"] or abs(g1["pos"] - g2["pos"]) > 800 or "deletion" in (first["kind"], second["kind"]):
        return "unknown", "too far apart to be read on one fragment"
    states: dict[str, dict[int, str]] = {}
    lo, hi = min(g1["pos"], g2["pos"]) - 1, max(g1["end"], g2["end"])
    with pysam.AlignmentFile(bam) as handle:
        for read in handle.fetch(g1["chrom"], lo, hi):
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_duplicate:
                continue
            pairs = {ref: qpos for qpos, ref in read.get_aligned_pairs() if ref is not None}
            for index, g in enumerate((g1, g2)):
                state = _allele_in_read(read, pairs, g)
                if state:
                    states.setdefault(read.query_name, {})[index] = state
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


def _allele_in_read(read, pairs: dict[int, int | None], g: dict) -> str | None:
    pos0 = g["pos"] - 1
    ref, alt = g["ref"], g["alt"]
    if pos0 not in pairs or pairs[pos0] is None:
        return None
    if len(ref) == len(alt) == 1:
        base = read.query_sequence[pairs[pos0]]
        return "alt" if base == alt else "ref" if base == ref else None
    if len(ref) > len(alt):  # deletion after the anchor base
        span = range(pos0 + 1, pos0 + len(ref))
        if any(p not in pairs for p in span) or pos0 + len(ref) not in pairs:
            return None
        gaps = [pairs[p] is None for p in span]
        return "alt" if all(gaps) else "ref" if not any(gaps) else None
    return None


def resolve_phase(lof: list[dict], bam: str | None, parents: dict[str, dict]) -> dict:
    """Phase of two heterozygous LoF events: parents first, then reads; otherwise unknown."""
    first, second = lof[0], lof[1]
    father, mother = parents.get("father"), parents.get("mother")
    if father and mother:
        f1, f2 = (_carries(a, father["variants"], father["cnv"]) for a in (first, second))
        m1, m2 = (_carries(a, mother["variants"], mother["cnv"]) for a in (first, second))
        if None not in (f1, f2, m1, m2):
            if (f1 and not f2 and m2 and not m1) or (f2 and not f1 and m1 and not m2):
                return {"status": "in_trans", "method": "parents",
                        "detail": "each parent carries one of the two alleles"}
            if (f1 and f2 and not m1 and not m2) or (m1 and m2 and not f1 and not f2):
                return {"status": "in_cis", "method": "parents",
                        "detail": "both alleles come from the same parent"}
    if bam:
        status, detail = phase_from_reads(bam, first, second)
        if status != "unknown":
            return {"status": status, "method": "reads", "detail": detail}
        return {"status": "unknown", "method": None,
                "detail": f"phase could not be told: {detail}; no parental samples resolve it"}
    return {"status": "unknown", "method": None, "detail": "phase could not be told"}


# --- family ----------------------------------------------------------------------------------------------


def family_check(sample: dict, alleles: list[dict], parents: dict[str, dict]) -> dict:
    info = {"family": sample.get("family"), "father": sample.get("father"), "mother": sample.get("mother"),
            "mendelian_consistent": None, "detail": "no parents in this run"}
    present = {role: data for role, data in parents.items() if data}
    if not present:
        return info
    problems = []
    for allele in alleles:
        carried = {role: _carries(allele, data["variants"], data["cnv"]) for role, data in present.items()}
        label = allele_label(allele)
        if allele["zygosity"] == "homozygous":
            missing = [role for role, has in carried.items() if has is False]
            if missing:
                problems.append(f"{label} is homozygous but the {' and '.join(missing)} does not carry it")
        elif allele["zygosity"] == "heterozygous":
            carriers = [role for role, has in carried.items() if has]
            if len(present) == 2 and not carriers:
                problems.append(f"{label} is carried by neither parent (de novo, or a sample mix-up)")
                allele["origin"] = "de_novo_or_unknown"
            elif carriers == ["father"]:
                allele["origin"] = "paternal"
            elif carriers == ["mother"]:
                allele["origin"] = "maternal"
        elif allele["zygosity"] == "hemizygous":
            carriers = [role for role, has in carried.items() if has]
            if len(carriers) == 1:
                allele["origin"] = "paternal" if carriers == ["father"] else "maternal"
    info["mendelian_consistent"] = not problems
    names = ", ".join(f"{role} {sample.get(role)}" for role in present)
    info["detail"] = (
        f"checked against {names}: consistent with Mendelian inheritance" if not problems else "; ".join(problems)
    )
    return info


# --- the decision ----------------------------------------------------------------------------------------


def interpret(sample: dict, variants: list[dict], cnv: dict, coverage: dict, parents: dict[str, dict] | None = None,
              bam: str | None = None, strict_phase: bool = False, il1rn_exon_count: int = 4) -> Interpretation:
    parents = parents or {}
    reasons: list[str] = []
    passing = [v for v in variants if is_pass(v)]
    alleles = [variant_allele(v, cnv) for v in passing if v.get("classification") in REPORTED_CLASSES]
    benign = [v for v in passing if v.get("classification") == "benign"]
    filtered = [v for v in variants if not is_pass(v) and v.get("classification") in LOF_CLASSES]
    deletions = il1rn_deletions(cnv) if cnv.get("status") == "called" else []
    alleles += [deletion_allele(d, il1rn_exon_count) for d in deletions]
    alleles.sort(key=lambda a: (a["genomic"]["chrom"], a["genomic"]["pos"], a["kind"]))

    lof = [a for a in alleles if lof_count(a)]
    n_lof = sum(lof_count(a) for a in lof)
    uncertain = [a for a in alleles if a["classification"] == "uncertain"]
    cn_il1rn = (cnv.get("genes", {}).get("IL1RN") or {}).get("copy_number") if cnv.get("status") == "called" else None
    deleted_exons = {e for d in deletions if d["copy_number"] == 0 for e in (d.get("il1rn_exons") or
                     (range(1, il1rn_exon_count + 1) if "IL1RN" in d.get("genes", []) else []))}
    uncallable = [e for e in coverage.get("uncallable_exons", []) if e not in deleted_exons]
    family = family_check(sample, alleles, parents)
    phase = {"status": "not_applicable", "method": None, "detail": "fewer than two heterozygous LoF events"}

    for allele in lof:
        if allele["zygosity"] == "homozygous":
            reasons.append(f"{allele_label(allele)}: homozygous, {allele['classification'].replace('_', ' ')} "
                           f"({allele['classification_reason']})")
        elif allele["zygosity"] == "hemizygous":
            reasons.append(f"{allele_label(allele)}: hemizygous (IL1RN copy number 1 at this position, the other "
                           f"copy is deleted), {allele['classification'].replace('_', ' ')}")
        else:
            reasons.append(f"{allele_label(allele)}: heterozygous, {allele['classification'].replace('_', ' ')} "
                           f"({allele['classification_reason']})")

    het_events = [a for a in lof if a["zygosity"] == "heterozygous"]
    hemi = [a for a in lof if a["zygosity"] == "hemizygous"]
    if len(het_events) >= 2 and n_lof == len(het_events):
        phase = resolve_phase(het_events, bam, parents)
    elif hemi and any(a["kind"] == "deletion" and a["zygosity"] == "heterozygous" for a in lof):
        phase = {"status": "in_trans", "method": "zygosity",
                 "detail": "the variant appears homozygous where one IL1RN copy is deleted: it is on the other copy"}

    if n_lof >= 2:
        if phase["status"] == "in_cis":
            status = "carrier"
            reasons.append(f"the two variants are on the same copy of IL1RN ({phase['detail']}); the other copy works")
        elif phase["status"] == "unknown" and strict_phase:
            status = "inconclusive"
            reasons.append(f"two heterozygous LoF alleles but their phase is unknown ({phase['detail']}); test the "
                           "parents to tell whether they are on different copies")
        else:
            status = "affected"
            if phase["status"] == "unknown":
                reasons.append(f"phase of the two alleles not determined ({phase['detail']}); reported as compound "
                               "heterozygous: confirm by testing the parents")
            elif phase["status"] == "in_trans":
                reasons.append(f"the two alleles are on different copies ({phase['detail']})")
    elif n_lof == 1:
        status = "carrier"
        blockers = _completeness_blockers(cn_il1rn, cnv, uncallable, filtered)
        if blockers:
            status = "inconclusive"
            reasons.append("one LoF allele found, but a second cannot be excluded: " + "; ".join(blockers))
        else:
            reasons.append("the rest of IL1RN (all coding exons and splice sites, copy number) was checked: no second "
                           "LoF allele")
    else:
        blockers = _completeness_blockers(cn_il1rn, cnv, uncallable, filtered)
        if blockers:
            status = "inconclusive"
            reasons.extend(blockers)
        elif uncertain:
            status = "inconclusive"
            reasons.append("no LoF allele, but variant(s) of uncertain significance: "
                           + ", ".join(allele_label(a) for a in uncertain))
        else:
            status = "negative"
            reasons.append("no loss-of-function IL1RN variant; all coding exons and splice sites were callable "
                           f"(callable fraction {coverage.get('callable_fraction_cds', 0):.2f}) and IL1RN copy "
                           f"number is {cn_il1rn}")
    if uncertain and status != "inconclusive":
        reasons.append("also found (uncertain significance): " + ", ".join(allele_label(a) for a in uncertain))
    for v in benign:
        af = v.get("population_af")
        reasons.append(f"not reported as an allele: {v.get('hgvs_c') or v['pos']} classified benign"
                       + (f" (population AF {af:g})" if af is not None else ""))
    if family["mendelian_consistent"] is False:
        reasons.append(f"family check: {family['detail']}")
    summary = _summary(status, lof, alleles, phase)
    return Interpretation(status, summary, reasons, alleles, phase, family)


def _completeness_blockers(cn_il1rn: int | None, cnv: dict, uncallable: list[int],
                           filtered: list[dict]) -> list[str]:
    blockers = [f"a possible LoF call {v.get('hgvs_c') or v['pos']} failed filters ({v.get('filter')}); confirm it "
                "(e.g. by Sanger sequencing)" for v in filtered]
    if cnv.get("status") != "called":
        why = "; ".join(cnv.get("reasons", [])) or "copy number could not be called"
        blockers.append(f"IL1RN copy number not called ({why}), so a deletion cannot be excluded")
    elif cn_il1rn is None:
        blockers.append("IL1RN copy number not called, so a deletion cannot be excluded")
    if uncallable:
        blockers.append(f"IL1RN coding exon(s) {', '.join(map(str, uncallable))} not callable (too little coverage); "
                        "a variant there cannot be excluded")
    return blockers


def _summary(status: str, lof: list[dict], alleles: list[dict], phase: dict) -> str:
    names = "; ".join(f"{a['zygosity']} {allele_label(a)}" for a in lof)
    if status == "affected":
        return f"Affected: two loss-of-function IL1RN alleles consistent with DIRA — {names}."
    if status == "carrier":
        return f"Carrier: one loss-of-function IL1RN allele — {names}; a working copy remains."
    if status == "negative":
        return "Negative: no loss-of-function IL1RN allele and normal IL1RN copy number; DIRA is not supported."
    if lof:
        return f"Inconclusive: {names} found, but the genotype is not complete (see reasons)."
    return "Inconclusive: the IL1RN genotype could not be determined completely (see reasons)."


# --- report assembly -------------------------------------------------------------------------------------


def resources_digest(resources_dir: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(resources_dir).glob("*")):
        if path.is_file() and path.name != "build.json":
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def tool_versions(input_kind: str) -> dict:
    from pysam import version

    versions = {
        "pysam": version.__version__,
        "htslib": version.__htslib_version__,
        "samtools": version.__samtools_version__,
        "bcftools": version.__bcftools_version__,
    }
    if input_kind == "fastq":
        from .locus_bam import bwa_version

        versions["bwa"] = bwa_version()
    return versions


def build_report(sample: dict, checked: dict, interp: Interpretation, cnv: dict, coverage: dict,
                 build_meta: dict, resources_dir: str) -> dict:
    genes = cnv.get("genes", {})
    called = cnv.get("status") == "called"
    names = list(dict.fromkeys(REPORT_GENES + sorted(genes)))
    sex = sample.get("sex") or "unknown"
    return {
        "schema_version": "1.0",
        "sample": sample["sample"],
        "status": interp.status,
        "summary": interp.summary,
        "reasons": interp.reasons,
        "alleles": interp.alleles,
        "copy_number": {g: (genes.get(g, {}).get("copy_number") if called else None) for g in names},
        "copy_number_quality": {g: genes.get(g, {}).get("quality") for g in names},
        "exon_copy_number": [
            {"gene": e["gene"], "exon": e["exon"], "copy_number": e.get("copy_number") if called else None,
             "quality": e.get("quality")}
            for e in cnv.get("exons", []) if e.get("gene") == "IL1RN"
        ],
        "deletions": [
            {"chrom": d["chrom"], "start": d["start"], "end": d["end"], "size": d["size"],
             "copy_number": d["copy_number"], "zygosity": "homozygous" if d["copy_number"] == 0 else "heterozygous",
             "genes": d.get("genes", []), "il1rn_exons": d.get("il1rn_exons", []), "quality": d.get("quality", 0),
             "breakpoint_support": d.get("breakpoint_support") or {"split_reads": 0, "discordant_pairs": 0,
                                                                   "precise": False}}
            for d in (cnv.get("deletions", []) if called else [])
        ],
        "phase": interp.phase,
        "family": interp.family,
        "qc": {
            "mean_depth": coverage.get("mean_depth_cds"),
            "callable_fraction_cds": coverage.get("callable_fraction_cds", 0.0),
            "uncallable_exons": coverage.get("uncallable_exons", []),
            "normalisation_mad": cnv.get("mad"),
            "cnv_mode": cnv.get("mode", "unknown"),
            "cnv_status": cnv.get("status", "no_call"),
            "sex": sex,
            "input_kind": checked["kind"],
        },
        "exon_coverage": coverage.get("exons", []),
        "build": build_meta["build"],
        "transcript": build_meta["transcript"],
        "versions": {
            "workflow": __version__,
            "tools": tool_versions(checked.get("kind", "")),
            "resources": f"{build_meta['build']}:{resources_digest(resources_dir)}",
        },
    }


def _load_relative(name: str, variants_path: str, cnv_path: str) -> dict:
    variants_file = Path(variants_path).parent / f"{name}.variants.json"
    cnv_file = Path(cnv_path).parent / f"{name}.cnv.json"
    return {
        "name": name,
        "variants": [v for v in json.loads(variants_file.read_text())["variants"] if is_pass(v)],
        "cnv": json.loads(cnv_file.read_text()),
    }


def run_genotype(args) -> dict:
    from .report_html import read_bins_tsv, read_exons_tsv, read_genes_tsv, render_html

    sample = json.loads(args.sample_json)
    checked = json.loads(Path(args.checked).read_text())
    variants = json.loads(Path(args.variants).read_text())["variants"]
    cnv = json.loads(Path(args.cnv).read_text())
    coverage = json.loads(Path(args.callable).read_text())
    build_meta = json.loads((Path(args.resources) / "build.json").read_text())
    parents = {}
    for role in ("father", "mother"):
        name = sample.get(role)
        if name and name in args.parents:
            parents[role] = _load_relative(name, args.variants, args.cnv)
    exons = read_exons_tsv(Path(args.resources) / "exons.tsv")
    n_exons = sum(1 for e in exons if e["gene"] == "IL1RN")
    interp = interpret(sample, variants, cnv, coverage, parents, args.bam, args.strict_phase, n_exons)
    report = build_report(sample, checked, interp, cnv, coverage, build_meta, args.resources)
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out_json).write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    genes = read_genes_tsv(Path(args.resources) / "genes.tsv")
    bins = [b for b in read_bins_tsv(args.bins) if b["chrom"] == build_meta["locus_contig_in_reference"]]
    Path(args.out_html).write_text(render_html(report, bins, genes, exons))
    meta = {
        "sample": sample["sample"],
        "inputs": {k: os.path.abspath(v) for k, v in vars(args).items()
                   if isinstance(v, str) and os.path.exists(v)},
        "python": sys.version.split()[0],
        "host": platform.node(),
        "strict_phase": args.strict_phase,
    }
    Path(args.out_meta).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    log.info("sample %s: %s — %s", sample["sample"], report["status"], report["summary"])
    return report
