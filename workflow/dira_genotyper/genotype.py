"""The DIRA genotype of one sample: combine calls, copy number, coverage and family into one answer.

Status rules (README "Clinical decision table"): `affected` = two loss-of-function (LoF) alleles of the gene;
`carrier` = one, with the rest of the gene checked; `negative` = none, with the whole CDS +/- splice sites
callable at its copy number and every exon and the gene at two copies (or the deletion that explains a loss);
`inconclusive` = anything else, with the reasons. A region that was not covered is never reported as "no
variant"; a copy-number state no call explains is never read as normal.
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
from .alleles import (
    LOF_CLASSES,
    REPORTED_CLASSES,
    allele_label,
    deletion_allele,
    judge_small,
    lof_count,
    variant_allele,
)
from .gene_state import Callability, GeneModel, copy_state, gene_model, own_bases
from .locus import Locus
from .parent_failure import note_failed_parents, parse_failed_parents
from .phase import family_check, resolve_phase
from .provenance import provenance_of

log = logging.getLogger(__name__)

REPORT_GENES = ["IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10"]


@dataclass
class Interpretation:
    status: str
    summary: str
    reasons: list[str]
    alleles: list[dict]
    phase: dict
    family: dict
    exon_callability: list[dict]
    other_variants: list[dict]
    limitations: list[str]


def copy_number_at(cnv: dict, chrom: str, pos: int, model: GeneModel | None = None) -> int | None:
    """Copy number at a position: a called deletion, else the exon there, else the gene call; None if not
    called (a missing call is never two copies)."""
    model = model or default_model(cnv, {})
    return copy_state(cnv, model).at(model, chrom, pos)


def default_model(cnv: dict, coverage: dict, gene: str = "IL1RN") -> GeneModel:
    """A gene model from the CNV exon entries and the callable step's CDS exons (for callers without resources:
    tests and old intermediates). CDS = the callable exons' intervals, else the exons themselves."""
    exons = [e for e in cnv.get("exons", []) if e.get("gene") == gene]
    rows = tuple(sorted((int(e["exon"]), int(e["start"]), int(e["end"])) for e in exons))
    chrom = next((e.get("chrom") for e in exons if e.get("chrom")), None) or next(
        (d["chrom"] for d in cnv.get("deletions", [])), "chr2"
    )
    cds = tuple((int(e["exon"]), int(e["start"]), int(e["end"])) for e in coverage.get("exons", [])) or rows
    return GeneModel(gene, chrom, "+", rows, cds)


def is_pass(variant: dict) -> bool:
    flt = variant.get("filter")
    return flt in ("PASS", None, ".") or flt == ["PASS"]


# --- the decision ----------------------------------------------------------------------------------------


def interpret(
    sample: dict,
    variants: list[dict],
    cnv: dict,
    coverage: dict,
    parents: dict[str, dict] | None = None,
    bam: str | None = None,
    strict_phase: bool = False,
    model: GeneModel | None = None,
    known_deletion=None,
    min_alt_reads: int = 3,
    disease: str = "DIRA",
) -> Interpretation:
    """The genotype of ``model.gene`` (IL1RN by default). ``known_deletion(genes) -> dict | None`` matches a
    deletion call against published deletions by gene content."""
    parents = parents or {}
    model = model or default_model(cnv, coverage)
    state = copy_state(cnv, model)
    callability = Callability.from_json(coverage)
    reasons: list[str] = []
    blockers: list[str] = list(state.blockers)

    alleles: list[dict] = []
    other_variants: list[dict] = []
    failed_lof: list[dict] = []
    for v in variants:
        if v.get("zygosity") is None:  # not carried (0/0, ./.)
            continue
        cn = state.at(model, v["chrom"], v["pos"])
        judgement = judge_small(v, cn, callability, min_alt_reads)
        allele = variant_allele(v, judgement)
        if v.get("classification") not in REPORTED_CLASSES:
            if not judgement.filters:
                other_variants.append(_other(allele))
            continue
        if judgement.filters:
            if v.get("classification") in LOF_CLASSES:
                failed_lof.append(allele)
            elif v.get("classification") == "uncertain":
                blockers.append(
                    f"a variant of uncertain significance {allele_label(allele)} failed filters "
                    f"({allele['evidence']['filter']}); confirm it"
                )
            continue
        alleles.append(allele)
    for deletion in state.deletions:
        known = known_deletion(deletion.get("genes", [])) if known_deletion else None
        allele = deletion_allele(deletion, model, known)
        if allele["classification"] in REPORTED_CLASSES:
            alleles.append(allele)
        else:
            other_variants.append(_other(allele))
    alleles.sort(key=lambda a: (a["genomic"]["chrom"], a["genomic"]["pos"], a["kind"]))

    flagged = [a for a in alleles if a["flags"]]
    for allele in flagged:
        blockers.extend(allele["flags"])
    firm = [a for a in alleles if not a["flags"]]
    lof = [a for a in firm if lof_count(a)]
    n_lof = sum(lof_count(a) for a in lof)
    uncertain = [a for a in firm if a["classification"] == "uncertain"]
    for v in failed_lof:
        blockers.append(
            f"a possible LoF call {allele_label(v)} failed filters ({v['evidence']['filter']}); confirm "
            "it (e.g. by Sanger sequencing)"
        )

    explained = [b for a in firm if a["kind"] != "deletion" for b in own_bases(a["genomic"])]
    exon_table = callability.exon_table(model, state, explained)
    uncallable = [row["exon"] for row in exon_table if not row["callable"]]
    if uncallable:
        needs = sorted({row["required_depth"] for row in exon_table if not row["callable"] and row["required_depth"]})
        blockers.append(
            f"{model.gene} coding exon(s) {', '.join(map(str, uncallable))} not callable (depth below "
            f"{'/'.join(map(str, needs)) or 'the threshold'} needed at their copy number); a variant there "
            "cannot be excluded"
        )
    family = family_check(sample, alleles, parents)
    phase = {"status": "not_applicable", "method": None, "detail": "fewer than two heterozygous LoF events"}

    for allele in lof:
        reasons.append(_allele_reason(allele, model.gene))

    het_events = [a for a in lof if a["zygosity"] in ("heterozygous", "unknown")]
    hemi = [a for a in lof if a["zygosity"] == "hemizygous"]
    if len(het_events) >= 2 and n_lof == len(het_events):
        phase = resolve_phase(het_events, bam, parents)
    elif hemi and any(a["kind"] == "deletion" and a["zygosity"] == "heterozygous" for a in lof):
        phase = {
            "status": "in_trans",
            "method": "zygosity",
            "detail": f"the variant shows in every read where one {model.gene} copy is deleted: it is on the "
            "other copy",
        }

    if n_lof >= 2 and phase["status"] != "in_cis":
        if phase["status"] == "unknown" and strict_phase:
            status = "inconclusive"
            reasons.append(
                f"two heterozygous LoF alleles but their phase is unknown ({phase['detail']}); test the "
                "parents to tell whether they are on different copies"
            )
        else:
            status = "affected"
            if phase["status"] == "unknown":
                reasons.append(
                    f"phase of the two alleles not determined ({phase['detail']}); reported as compound "
                    "heterozygous: confirm by testing the parents"
                )
            elif phase["status"] == "in_trans":
                reasons.append(f"the two alleles are on different copies ({phase['detail']})")
    elif n_lof >= 1:
        if phase["status"] == "in_cis":
            reasons.append(f"the two variants are on the same copy of {model.gene} ({phase['detail']})")
        status = "carrier"
        vus_phase = None
        if uncertain:
            vus_phase = resolve_phase([lof[0], uncertain[0]], bam, parents)
            if vus_phase["status"] != "in_cis":
                blockers.append(
                    f"one LoF allele and a heterozygous variant of uncertain significance "
                    f"({', '.join(allele_label(a) for a in uncertain)}): a possible compound heterozygote; phase "
                    f"{vus_phase['status'].replace('_', ' ')} ({vus_phase['detail']}); establish the phase (reads, "
                    "parental testing) and reassess the variant"
                )
        if blockers:
            status = "inconclusive"
            reasons.append("one LoF allele found, but a second cannot be excluded: " + "; ".join(blockers))
        else:
            reasons.append(
                f"the rest of {model.gene} (all coding exons and splice sites at their copy number, copy "
                "number of every exon) was checked: no second LoF allele"
            )
    else:
        if blockers:
            status = "inconclusive"
            reasons.extend(blockers)
        elif uncertain:
            status = "inconclusive"
            reasons.append(
                "no LoF allele, but variant(s) of uncertain significance: "
                + ", ".join(allele_label(a) for a in uncertain)
            )
        else:
            status = "negative"
            reasons.append(
                f"no loss-of-function {model.gene} variant; all coding exons and splice sites were "
                f"callable at their copy number (callable fraction "
                f"{coverage.get('callable_fraction_cds', 0):.2f}) and {model.gene} copy number is "
                f"{state.gene_cn} with every exon at two copies"
            )
    if status == "affected" and blockers:
        reasons.append("also noted: " + "; ".join(blockers))
    if uncertain and status not in ("inconclusive",):
        reasons.append("also found (uncertain significance): " + ", ".join(allele_label(a) for a in uncertain))
    for other in other_variants:
        reasons.append(
            f"not reported as an allele: {other['name']} classified {other['classification'].replace('_', ' ')}"
            f" ({other['classification_reason'].rstrip('.')})"
        )
    reasons.extend(f"copy number: {note}" for note in state.notes)
    if family["mendelian_consistent"] is False:
        reasons.append(f"family check: {family['detail']}")
    summary = _summary(status, lof, phase, model.gene, disease)
    return Interpretation(
        status,
        summary,
        reasons,
        alleles,
        phase,
        family,
        exon_table,
        other_variants,
        limitations(status, alleles, phase, state, exon_table, model.gene, disease),
    )


def _other(allele: dict) -> dict:
    g = allele["genomic"]
    return {
        "name": allele_label(allele),
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
    }


def _allele_reason(allele: dict, gene: str) -> str:
    cls = allele["classification"].replace("_", " ")
    why = allele["classification_reason"].rstrip(".")
    if allele["zygosity"] == "hemizygous":
        return (
            f"{allele_label(allele, gene)}: hemizygous ({gene} copy number 1 at this position, the other copy is "
            f"deleted), {cls} ({why})"
        )
    return f"{allele_label(allele, gene)}: {allele['zygosity']}, {cls} ({why})"


def _summary(status: str, lof: list[dict], phase: dict, gene: str, disease: str = "DIRA") -> str:
    names = "; ".join(f"{a['zygosity']} {allele_label(a, gene)}" for a in lof)
    if status == "affected":
        return f"Affected: two loss-of-function {gene} alleles consistent with {disease} — {names}."
    if status == "carrier":
        return f"Carrier: one loss-of-function {gene} allele — {names}; a working copy remains."
    if status == "negative":
        return (
            f"Negative: no loss-of-function {gene} allele and normal {gene} copy number; {disease} is not supported "
            "by the regions tested (see limitations)."
        )
    if lof:
        return f"Inconclusive: {names} found, but the genotype is not complete (see reasons)."
    return f"Inconclusive: the {gene} genotype could not be determined completely (see reasons)."


def limitations(
    status: str, alleles: list[dict], phase: dict, state, exon_table: list[dict], gene: str, disease: str = "DIRA"
) -> list[str]:
    """What was and was not tested, in words a clinician reads; the same list goes to the JSON and the HTML."""
    items = [
        f"Tested: {gene} coding exons and splice sites (+/- 2 bp) of the MANE Select transcript for small variants "
        "(SNVs, indels up to ~20 bp), and copy number of each exon and of the IL-1 cluster from read depth.",
        "Not tested: deep intronic and regulatory variants, inversions, insertions and other structural changes "
        "than deletions, repeat expansions, and other genes with similar presentations.",
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
        "Mosaic variants below an allele fraction of about 0.3 are flagged, not called; low-level mosaicism "
        "may be missed."
    )
    items.append(
        f"Variant classification follows published {disease} alleles, the ClinGen PVS1 decision tree and "
        "ACMG/AMP population criteria at the time of release; a clinical geneticist should review it."
    )
    items.append(
        "For research use only until this workflow is validated in an accredited laboratory. Confirm any "
        "clinically relevant finding with an independent method."
    )
    return items


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


def build_report(
    sample: dict,
    checked: dict,
    interp: Interpretation,
    cnv: dict,
    coverage: dict,
    build_meta: dict,
    resources_dir: str,
    differential: dict | None = None,
) -> dict:
    genes = cnv.get("genes", {})
    called = cnv.get("status") == "called"
    names = list(dict.fromkeys(REPORT_GENES + sorted(genes)))
    sex = sample.get("sex") or "unknown"
    return {
        "schema_version": "1.2",
        "sample": sample["sample"],
        "status": interp.status,
        "summary": interp.summary,
        "reasons": interp.reasons,
        "alleles": interp.alleles,
        "copy_number": {g: (genes.get(g, {}).get("copy_number") if called else None) for g in names},
        "copy_number_quality": {g: genes.get(g, {}).get("quality") for g in names},
        "exon_copy_number": exon_copy_numbers(cnv, build_meta["transcript"]["gene"]),
        "deletions": [
            {
                "chrom": d["chrom"],
                "start": d["start"],
                "end": d["end"],
                "size": d["size"],
                "copy_number": d["copy_number"],
                "zygosity": "homozygous" if d["copy_number"] == 0 else "heterozygous",
                "genes": d.get("genes", []),
                "il1rn_exons": d.get("il1rn_exons", []),
                "quality": d.get("quality", 0),
                "breakpoint_support": d.get("breakpoint_support")
                or {"split_reads": 0, "discordant_pairs": 0, "precise": False},
            }
            for d in (cnv.get("deletions", []) if called else [])
        ],
        "phase": interp.phase,
        "family": interp.family,
        "qc": {
            "mean_depth": coverage.get("mean_depth_cds"),
            "callable_fraction_cds": coverage.get("callable_fraction_cds", 0.0),
            "uncallable_exons": [row["exon"] for row in interp.exon_callability if not row["callable"]],
            "normalisation_mad": cnv.get("mad"),
            "cnv_mode": cnv.get("mode", "unknown"),
            "cnv_status": cnv.get("status", "no_call"),
            "sex": sex,
            "input_kind": checked["kind"],
        },
        "exon_coverage": _exon_coverage(coverage.get("exons", []), interp.exon_callability),
        "other_variants": interp.other_variants,
        "limitations": interp.limitations,
        "differential": differential or {},
        "build": build_meta["build"],
        "transcript": build_meta["transcript"],
        "versions": {
            "workflow": __version__,
            "tools": tool_versions(checked.get("kind", "")),
            "resources": f"{build_meta['build']}:{resources_digest(resources_dir)}",
        },
    }


SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "dira_report.schema.json"


def validate_report(report: dict, schema_path: Path = SCHEMA) -> None:
    """Check a report against its JSON contract before it is written: a report that breaks its own contract is an
    error, not a file."""
    import jsonschema

    if not schema_path.exists():
        log.warning("report schema %s not found: the report is written unvalidated", schema_path)
        return
    schema = json.loads(schema_path.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(report), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:5])
        raise ValueError(f"the report of {report.get('sample')} breaks its schema {schema_path.name}: {details}")


def gene_coverage(coverage: dict, gene: str) -> dict:
    """The callable step's result restricted to one gene's coding exons (top-level figures per gene when the
    callable step gives them; older results hold one gene's exons only)."""
    rows = coverage.get("exons", [])
    if not any("gene" in r for r in rows):
        return coverage
    mine = [r for r in rows if r.get("gene") == gene]
    figures = (coverage.get("genes") or {}).get(gene, {})
    return dict(coverage, exons=mine, **figures)


def gene_variants(variants: list[dict], gene: str, target: str) -> list[dict]:
    """The annotated records named on ``gene``'s transcript (records without a gene belong to the target)."""
    return [v for v in variants if v.get("gene", target) == gene]


def exon_copy_numbers(cnv: dict, gene: str) -> list[dict]:
    """The copy-number call of each exon of ``gene`` (null when copy number was not called)."""
    called = cnv.get("status") == "called"
    return [
        {"gene": e["gene"], "exon": e["exon"], "copy_number": e.get("copy_number") if called else None,
         "quality": e.get("quality")}
        for e in cnv.get("exons", []) if e.get("gene") == gene
    ]  # fmt: skip


def differential_section(
    disease: str, gene: str, transcript: dict, interp: Interpretation, cnv: dict, coverage: dict
) -> dict:
    """One differential diagnosis in the report: the same answer, reasons and evidence as the headline's."""
    called = cnv.get("status") == "called"
    entry = (cnv.get("genes") or {}).get(gene, {})
    return {
        "gene": gene,
        "transcript": transcript,
        "status": interp.status,
        "summary": interp.summary,
        "reasons": interp.reasons,
        "alleles": interp.alleles,
        "phase": interp.phase,
        "copy_number": entry.get("copy_number") if called else None,
        "exon_copy_number": exon_copy_numbers(cnv, gene),
        "exon_coverage": _exon_coverage(coverage.get("exons", []), interp.exon_callability),
        "callable_fraction_cds": coverage.get("callable_fraction_cds", 0.0),
        "other_variants": interp.other_variants,
        "limitations": interp.limitations,
    }


def _exon_coverage(rows: list[dict], callability: list[dict]) -> list[dict]:
    """The callable step's per-exon coverage with the copy number, the depth needed there and the verdict."""
    by_exon = {row["exon"]: row for row in callability}
    out = []
    for row in rows:
        judged = by_exon.get(row["exon"], {})
        out.append(
            dict(
                row,
                copy_number=judged.get("copy_number"),
                required_depth=judged.get("required_depth"),
                callable=judged.get("callable", row.get("callable")),
            )
        )
    return out


def _load_relative(name: str, variants_path: str, cnv_path: str) -> dict:
    variants_file = Path(variants_path).parent / f"{name}.variants.json"
    cnv_file = Path(cnv_path).parent / f"{name}.cnv.json"
    return {
        "name": name,
        "variants": [v for v in json.loads(variants_file.read_text())["variants"] if is_pass(v)],
        "cnv": json.loads(cnv_file.read_text()),
    }


def load_known_deletions(table: str):
    """A matcher of deletion calls against the published deletions of the known-allele table (by gene content)."""
    from .known_alleles import KnownAlleles, read_table

    return KnownAlleles(read_table(table), "").match_deletion


def run_genotype(args) -> dict:
    from .report import read_bins_tsv, render_html

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
    locus = Locus.load(args.resources)
    target = locus.target
    failed_parents = parse_failed_parents(getattr(args, "failed_parents", None))

    def genotype_gene(gene: str, known_table: Path | None, disease: str) -> Interpretation:
        """The same rules for the headline gene and for each differential gene."""
        known = load_known_deletions(str(known_table)) if known_table and known_table.exists() else None
        interp = interpret(
            sample,
            gene_variants(variants, gene, target),
            cnv,
            gene_coverage(coverage, gene),
            parents,
            args.bam,
            args.strict_phase,
            gene_model(locus.gene(gene)),
            known_deletion=known,
            min_alt_reads=args.min_alt_reads,
            disease=disease,
        )
        note_failed_parents(interp, failed_parents, sample)
        return interp

    known_dir = Path(args.known).parent if getattr(args, "known", None) else None
    interp = genotype_gene(target, Path(args.known) if known_dir else None, "DIRA")
    differential = {}
    for spec in build_meta.get("differential", []):
        gene = spec["gene"]
        diff = genotype_gene(gene, known_dir / spec["known"] if known_dir else None, spec["disease"])
        differential[spec["disease"]] = differential_section(
            spec["disease"], gene, spec["transcript"], diff, cnv, gene_coverage(coverage, gene)
        )
    covered = ", ".join(f"{d} ({sec['gene']})" for d, sec in differential.items())
    interp.limitations.insert(
        2,
        (f"Differential diagnosis: {covered} is reported from the same reads. " if covered else "")
        + "Majeed syndrome (LPIN2), NLRP3-associated autoinflammatory disease and other causes of pustulosis or "
        "sterile osteomyelitis (e.g. CRMO) are not covered by this test.",
    )
    report = build_report(
        sample, checked, interp, cnv, gene_coverage(coverage, target), build_meta, args.resources, differential
    )
    report["provenance"] = provenance_of(args, checked, report["versions"]["resources"], build_meta)
    validate_report(report)
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out_json).write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    bins = [b for b in read_bins_tsv(args.bins) if b["chrom"] == build_meta["locus_contig_in_reference"]]
    Path(args.out_html).write_text(render_html(report, bins, locus.gene_rows(), locus.exon_rows()))
    meta = {
        "sample": sample["sample"],
        "inputs": {k: os.path.abspath(v) for k, v in vars(args).items() if isinstance(v, str) and os.path.exists(v)},
        "python": sys.version.split()[0],
        "host": platform.node(),
        "strict_phase": args.strict_phase,
    }
    Path(args.out_meta).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    log.info("sample %s: %s — %s", sample["sample"], report["status"], report["summary"])
    return report
