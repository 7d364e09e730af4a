"""The genotype report of one sample: the headline gene and each differential gene genotyped by the decision
table (:mod:`dira_genotyper.interpretation.decision`), assembled into the JSON contract (checked against its
schema) and the HTML page. ``run_genotype`` is the ``dira-genotyper genotype`` command.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import sys
from pathlib import Path

from dira_genotyper import __version__
from dira_genotyper.interpretation.alleles import allele_label, lof_count
from dira_genotyper.interpretation.decision import RESEARCH_USE, Interpretation, interpret
from dira_genotyper.interpretation.gene_state import gene_model
from dira_genotyper.interpretation.parent_failure import note_failed_parents
from dira_genotyper.interpretation.request import GenotypeRequest
from dira_genotyper.interpretation.sample_trust import apply_checks, checks_block, load_checks, reinterpret_fetal
from dira_genotyper.locus import Locus
from dira_genotyper.run.provenance import provenance_of
from dira_genotyper.shipped import shipped

log = logging.getLogger(__name__)

REPORT_GENES = ["IL1RN", "IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10"]


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
        from dira_genotyper.alignment.locus_bam import bwa_version

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
        "schema_version": "1.4",
        "sample": sample["sample"],
        "status": interp.status,
        "presumed_biallelic": interp.presumed_biallelic,
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
            **capture_qc(cnv),
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


SCHEMA = shipped("schemas", "dira_report.schema.json")


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


def capture_qc(cnv: dict) -> dict:
    """qc.capture of a sample called in targeted mode (exome/panel): design, capture QC and the reference."""
    capture = cnv.get("capture")
    if not capture:
        return {}
    reference = cnv.get("reference") or {}
    keys = ("design", "ratio", "on_target_fraction", "fold_80_base_penalty", "duplicate_fraction")
    keys += ("mean_target_depth", "pct_targets_ge_20x", "n_targets")
    out = {k: capture.get(k) for k in keys}
    out["reference_samples"] = list(reference.get("samples", []))
    out["reference_correlation"] = list(reference.get("correlation", []))
    return {"capture": out}


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
        "presumed_biallelic": interp.presumed_biallelic,
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


def load_relative(name: str, variants_path: str, cnv_path: str, callable_path: str) -> dict:
    """A parent's evidence, found beside the child's: every call (a filtered call is evidence that the site is
    unknown, not reference), the copy-number call and the callable regions (where a missing call means
    reference)."""
    variants_file = Path(variants_path).parent / f"{name}.variants.json"
    cnv_file = Path(cnv_path).parent / f"{name}.cnv.json"
    callable_file = Path(callable_path).parent / f"{name}.callable.json"
    return {
        "name": name,
        "variants": json.loads(variants_file.read_text())["variants"],
        "cnv": json.loads(cnv_file.read_text()),
        "callable": json.loads(callable_file.read_text()) if callable_file.exists() else None,
    }


def load_known_deletions(table: str):
    """A matcher of deletion calls against the published deletions of the known-allele table (by gene content)."""
    from dira_genotyper.annotation.known_alleles import KnownAlleles, read_table

    return KnownAlleles(read_table(table), "").match_deletion


POPULATION_MISSING = (
    "No population allele frequencies were read in this run (no `population_vcf`): the population criteria BA1, BS1 "
    "and PM2 were not applied, so a common variant may be reported as of uncertain significance and no variant was "
    "called rare from population data. Published alleles and the PVS1 decision tree were applied."
)
PRENATAL = (
    "Prenatal sample: the result is a fetal genotype. Interpret it only with maternal cell contamination excluded "
    "(e.g. by comparing the fetal and maternal STR profiles), and confirm it before clinical decisions."
)


def note_run(interp: Interpretation, sample: dict, population_data: bool | None, gene: str, disease: str) -> None:
    """What the run and the sample limit, said right after the research-use line: no population data was read; a
    fetal sample (sheet column `prenatal`) is worded as a fetal genotype, to be read with maternal cell
    contamination excluded."""
    at = interp.limitations.index(RESEARCH_USE) + 1 if RESEARCH_USE in interp.limitations else 0
    if population_data is not True:
        interp.limitations.insert(at, POPULATION_MISSING)
    if not sample.get("prenatal"):
        return
    interp.limitations.insert(at, PRENATAL)
    if interp.status == "affected":
        names = "; ".join(
            f"{a['zygosity']} {allele_label(a, gene)}" for a in interp.alleles if lof_count(a) and not a["flags"]
        )
        interp.summary = (
            f"Fetal genotype: two loss-of-function {gene} alleles ({names}), consistent with {disease} if confirmed; "
            "interpret with maternal cell contamination excluded."
        )
    else:
        interp.summary = f"Fetal genotype. {interp.summary} Interpret with maternal cell contamination excluded."


def fetal_calls(variants: list[dict], checks: dict | None, parents: dict, locus: Locus, codings: dict):
    """A prenatal sample's calls read as fetal genotypes when its maternal contamination was estimated with the
    mother's genotypes and is below the threshold (else as they are); and the calls that are the mother's only."""
    mcc = (checks or {}).get("maternal_contamination")
    withheld = any(f["code"] == "maternal_contamination" for f in (checks or {}).get("findings", []))
    if not mcc or withheld or "mother" not in parents:
        return variants, []
    names = {g.name for g in locus.genes}

    def model_of(gene: str | None):
        return gene_model(locus.gene(gene), codings.get(gene)) if gene in names else None

    return reinterpret_fetal(variants, parents["mother"], mcc["fraction"], model_of)


#: Differential diagnoses a clinician weighs against DIRA, by the report key a build's resources use for them when
#: they cover them (build.json ``differential``); those not covered are named in the limitations.
DIFFERENTIAL_NOT_COVERED = (
    ("Majeed", "Majeed syndrome (LPIN2)"),
    (None, "NLRP3-associated autoinflammatory disease (dominant, often mosaic)"),
    (None, "other causes of pustulosis or sterile osteomyelitis (e.g. CRMO, which has no single gene)"),
)


def differential_limitation(differential: dict) -> str:
    """The limitation on differential diagnoses: those reported from the same reads, and those not covered."""
    covered = ", ".join(f"{d} ({sec['gene']})" for d, sec in differential.items())
    missing = [text for key, text in DIFFERENTIAL_NOT_COVERED if key not in differential]
    listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
    verb = "are" if len(differential) > 1 else "is"
    return (f"Differential diagnosis: {covered} {verb} reported from the same reads. " if covered else "") + (
        f"{listed[0].upper()}{listed[1:]} are not covered by this test."
    )


def untrusted_parents(sample: dict, roles: list[str], checks_path: str | None) -> dict[str, str]:
    """Of the sample's parents in `roles`, those whose own sample checks failed (not the person the sheet says, a
    contaminated file), as {role: failed codes}: their calls are not loaded, so neither phase nor the family
    check nor a fetus's maternal alleles rest on them, and the report says so (:func:`note_failed_parents`)."""
    out = {}
    for role in roles:
        entry = load_checks(checks_path, sample[role])
        if entry and entry.get("verdict") == "fail":
            out[role] = ", ".join(sorted({f["code"] for f in entry.get("findings", []) if f.get("level") == "fail"}))
    return out


def run_genotype(req: GenotypeRequest) -> dict:
    """Genotype one sample (the headline gene and each differential gene), write its JSON, HTML and run record."""
    from dira_genotyper.report import read_bins_tsv, render_html

    sample = req.sample
    checked = json.loads(req.checked.read_text())
    annotated = json.loads(req.variants.read_text())
    variants, codings = annotated["variants"], annotated.get("coding", {})
    population_data = annotated.get("population_data")  # False: no population VCF was read (None: not recorded)
    cnv = json.loads(req.cnv.read_text())
    coverage = json.loads(req.callable.read_text())
    build_meta = json.loads((req.resources / "build.json").read_text())
    checks_path = str(req.sample_checks) if req.sample_checks else None
    checks = load_checks(checks_path, sample["sample"])
    in_run = [role for role in ("father", "mother") if sample.get(role) and sample[role] in req.parents]
    untrusted = untrusted_parents(sample, in_run, checks_path)
    parents = {
        role: load_relative(sample[role], str(req.variants), str(req.cnv), str(req.callable))
        for role in in_run
        if role not in untrusted
    }
    locus = Locus.load(req.resources)
    target = locus.target
    failed_parents = req.failed_parents
    variants, maternal_alleles = fetal_calls(variants, checks, parents, locus, codings)

    def genotype_gene(gene: str, known_table: Path | None, disease: str) -> Interpretation:
        """The same rules for the headline gene and for each differential gene."""
        known = load_known_deletions(str(known_table)) if known_table and known_table.exists() else None
        interp = interpret(
            sample,
            gene_variants(variants, gene, target),
            cnv,
            gene_coverage(coverage, gene),
            parents,
            str(req.bam),
            model=gene_model(locus.gene(gene), codings.get(gene)),
            reference=req.reference,
            known_deletion=known,
            min_alt_reads=req.min_alt_reads,
            disease=disease,
            genomic_accession=locus.accession(locus.gene(gene).chrom),
        )
        note_run(interp, sample, population_data, gene, disease)
        note_failed_parents(interp, failed_parents, sample)
        note_failed_parents(interp, untrusted, sample, cause="checks")
        apply_checks(interp, checks, sample, cnv.get("genes", {}).get(gene, {}).get("copy_number") == 2)
        return interp

    known_dir = req.known.parent if req.known else None
    interp = genotype_gene(target, req.known, locus.disease)
    differential = {}
    for spec in build_meta.get("differential", []):
        gene = spec["gene"]
        diff = genotype_gene(gene, known_dir / spec["known"] if known_dir else None, spec["disease"])
        differential[spec["disease"]] = differential_section(
            spec["disease"], gene, spec["transcript"], diff, cnv, gene_coverage(coverage, gene)
        )
    interp.limitations.insert(
        next(i for i, text in enumerate(interp.limitations) if text.startswith("Not tested")) + 1,
        differential_limitation(differential),
    )
    report = build_report(
        sample, checked, interp, cnv, gene_coverage(coverage, target), build_meta, str(req.resources), differential
    )
    report["sample_checks"] = checks_block(checks, sample, maternal_alleles)
    report["provenance"] = provenance_of(req, checked, report["versions"]["resources"], build_meta)
    validate_report(report)
    req.out_json.parent.mkdir(parents=True, exist_ok=True)
    req.out_json.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    bins = [b for b in read_bins_tsv(str(req.bins)) if b["chrom"] == build_meta["locus_contig_in_reference"]]
    req.out_html.write_text(render_html(report, bins, locus.gene_rows(), locus.exon_rows()))
    meta = {
        "sample": sample["sample"],
        "inputs": req.input_files(),
        "python": sys.version.split()[0],
        "host": platform.node(),
    }
    req.out_meta.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    log.info("sample %s: %s — %s", sample["sample"], report["status"], report["summary"])
    return report
