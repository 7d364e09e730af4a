"""The page: what each section says, as plain text (this module), and how it looks (templates/report.html.j2).

Nothing here writes HTML. The view functions turn the report into display strings and small records; the
Jinja2 template, with autoescaping on, writes the markup and escapes every value it is given. The two
drawings are SVG element trees (svg.Element) that escape their own attributes and text.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from pathlib import Path

import jinja2
from jinja2.ext import Extension
from markupsafe import Markup

from dira_genotyper.report.plots import cluster_plot_svg, deleted_exons, il1rn_exon_svg
from dira_genotyper.report.style import (
    CN_COLOURS,
    DASH,
    NO_CALL_COLOUR,
    ORIGIN_LABELS,
    PRESUMED_BIALLELIC_MEANING,
    STATUS_STYLE,
    af,
    classification_style,
    headline_gene,
    num,
    pct,
    status_style,
    text,
    words,
)

TEMPLATES = files(__package__) / "templates"


class _LayoutWhitespace(Extension):
    """Line breaks and the indentation after them are template layout only: they are removed on loading.

    So the template can be indented like a document while the page stays one line per block, exactly as
    it was when it was built with strings. Text that needs a space keeps it inside a line.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return re.sub(r"\n[ \t]*", "", source)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: "" if value is None else value,
        extensions=[_LayoutWhitespace],
    )


# --------------------------------------------------------------------------------------------- sections
def _where(allele: dict) -> str:
    """Genomic position of an allele: 'chr2:1,234 C>T', or the span and size of a deletion."""
    g = allele.get("genomic", {})
    chrom, pos, end = text(g.get("chrom")), g.get("pos"), g.get("end")
    where = f"{chrom}:{num(pos)}" if pos == end else f"{chrom}:{num(pos)}-{num(end)}"
    if allele.get("kind") == "deletion" and isinstance(pos, int) and isinstance(end, int):
        where += f" ({(end - pos + 1) / 1000:,.1f} kb)"
    elif g.get("ref") is not None or g.get("alt") is not None:
        where += f" {g.get('ref') or '-'}>{g.get('alt') or '-'}"
    return where


def _evidence(ev: dict, copy_number: int | None) -> dict:
    """Read evidence of a small variant, or copy number and quality of a deletion; absent values left out."""
    fields = [
        ("depth", ev.get("depth"), 0),
        ("alt reads", ev.get("alt_depth"), 0),
        ("AF", ev.get("allele_fraction"), 2),
        ("QUAL", ev.get("quality"), 0),
        ("GQ", ev.get("genotype_quality"), 0),
    ]
    values = [(label, num(value, digits)) for label, value, digits in fields if value is not None]
    if copy_number is not None:
        values.insert(0, ("copy number", str(copy_number)))
    flt = ev.get("filter")
    pop = ev.get("population_af")
    return {
        "values": values,
        "filter": flt,
        "filter_failed": flt not in (None, "PASS", "."),
        "population_af": None if pop is None else af(pop),
    }


def _allele(a: dict) -> dict:
    names = [a[key] for key in ("hgvs_c", "hgvs_p") if a.get(key)]
    if not names:
        names = ["deletion" if a.get("kind") == "deletion" else a.get("kind")]
    origin = a.get("origin")
    return {
        "names": names,
        "where": _where(a),
        "ensembl": a.get("hgvs_c_ensembl") or None,
        "consequence": words(a.get("consequence")),
        "zygosity": a.get("zygosity"),
        "classification": classification_style(a.get("classification")),
        "reason": a.get("classification_reason"),
        "flags": list(a.get("flags", [])),
        "known_as": a.get("known_as") or DASH,
        "evidence": _evidence(a.get("evidence", {}), a.get("copy_number")),
        "origin": ORIGIN_LABELS.get(origin, DASH) if origin else DASH,
    }


def _deletion(d: dict) -> dict:
    bp = d.get("breakpoint_support", {})
    return {
        "region": f"{text(d.get('chrom'))}:{num(d.get('start'))}-{num(d.get('end'))}",
        "size": f"{d.get('size', 0) / 1000:,.1f} kb",
        "copy_number": num(d.get("copy_number")),
        "zygosity": d.get("zygosity"),
        "genes": ", ".join(d.get("genes", [])) or DASH,
        "il1rn_exons": ", ".join(str(x) for x in d.get("il1rn_exons", [])) or "none",
        "quality": num(d.get("quality"), 1),
        "breakpoints": f"{num(bp.get('split_reads'))} split, {num(bp.get('discordant_pairs'))} discordant; "
        f"{'precise' if bp.get('precise') else 'imprecise'}",
    }


def _other_variant(o: dict) -> dict:
    return {
        "name": o.get("name"),
        "zygosity": o.get("zygosity"),
        "classification": classification_style(o.get("classification")),
        "reason": o.get("classification_reason"),
        "population_af": af(o.get("population_af")),
        "filter": o.get("filter") if o.get("filter") not in (None, "PASS") else None,
    }


def _copy_number(report: dict, genes: list[dict]) -> dict:
    """Gene copy numbers in genomic order (then any others by name) and the other genes' exon copy numbers."""
    cn = report.get("copy_number", {})
    cnq = report.get("copy_number_quality", {})
    order = [g["gene"] for g in sorted(genes, key=lambda g: g["start"]) if g["gene"] in cn]
    order += sorted(k for k in cn if k not in order)
    other_exons = sorted(
        (e for e in report.get("exon_copy_number", []) if e.get("gene") != headline_gene(report)),
        key=lambda e: (e["gene"], e["exon"]),
    )
    return {
        "genes": [
            {
                "name": gene,
                "target": gene == headline_gene(report),
                "copy_number": "no call" if cn.get(gene) is None else str(cn[gene]),
                "abnormal": cn.get(gene) != 2,
                "quality": num(cnq.get(gene), 1),
            }
            for gene in order
        ],
        "other_exons": [
            {
                "gene": e["gene"],
                "exon": num(e["exon"]),
                "copy_number": num(e.get("copy_number")),
                "quality": num(e.get("quality"), 1),
            }
            for e in other_exons
        ],
        "legend": [(CN_COLOURS[i], f"CN {i}" + ("+" if i == 4 else "")) for i in range(5)],
        "no_call_colour": NO_CALL_COLOUR,
    }


def _coverage_row(c: dict, cn_text: str, deleted: bool) -> dict:
    """One exon of a coverage table: depth figures, the depth needed at its copy number, and the verdict."""
    return {
        "exon": num(c["exon"]),
        "position": f"{num(c['start'])}-{num(c['end'])}",
        "mean_depth": num(float(c["mean_depth"]), 1),
        "min_depth": num(c["min_depth"]),
        "pct_ge_20x": f"{float(c['pct_ge_20x']):.1f}%",
        "required_depth": num(c.get("required_depth")),
        "callable": c.get("callable"),
        "deleted": deleted,
        "copy_number": cn_text,
        "abnormal": cn_text not in ("2", DASH),
    }


def _exon_coverage(report: dict) -> list[dict]:
    exon_cn = {c["exon"]: c for c in report.get("exon_copy_number", []) if c.get("gene") == headline_gene(report)}
    deleted = deleted_exons(report)
    rows = []
    for c in sorted(report.get("exon_coverage", []), key=lambda c: c["exon"]):
        cn = exon_cn.get(c["exon"])
        cn_text = DASH if cn is None else ("no call" if cn.get("copy_number") is None else str(cn["copy_number"]))
        rows.append(_coverage_row(c, cn_text, not c.get("callable") and c["exon"] in deleted))
    return rows


def _differential(disease: str, section: dict) -> dict:
    """A differential diagnosis (e.g. DITRA) as the page shows it: the same parts as the headline's."""
    status = section.get("status", "inconclusive")
    badge_bg, badge_fg, meaning = status_style(status, disease, section.get("gene") or "")
    if section.get("presumed_biallelic"):
        meaning = PRESUMED_BIALLELIC_MEANING.replace("IL1RN", section.get("gene") or "")
    exon_cn = {c["exon"]: c.get("copy_number") for c in section.get("exon_copy_number", [])}
    rows = []
    for c in sorted(section.get("exon_coverage", []), key=lambda c: c["exon"]):
        cn = exon_cn.get(c["exon"], c.get("copy_number"))
        rows.append(_coverage_row(c, "no call" if cn is None else str(cn), cn == 0))
    return {
        "disease": disease,
        "gene": section.get("gene"),
        "refseq": (section.get("transcript") or {}).get("refseq"),
        "status": status,
        "presumed_biallelic": bool(section.get("presumed_biallelic")),
        "badge": (badge_bg, badge_fg),
        "meaning": meaning,
        "summary": section.get("summary"),
        "reasons": list(section.get("reasons", [])),
        "alleles": [_allele(a) for a in section.get("alleles", [])],
        "other_variants": [_other_variant(o) for o in section.get("other_variants", [])],
        "copy_number": "no call" if section.get("copy_number") is None else str(section["copy_number"]),
        "exon_coverage": rows,
    }


def _qc(report: dict) -> dict:
    qc = report.get("qc", {})
    return {
        "mean_depth": num(qc.get("mean_depth"), 1, "×"),
        "callable_fraction_cds": pct(qc.get("callable_fraction_cds")),
        "uncallable_exons": [str(x) for x in qc.get("uncallable_exons", [])],
        "normalisation_mad": num(qc.get("normalisation_mad"), 3),
        "cnv_mode": qc.get("cnv_mode"),
        "cnv_status": qc.get("cnv_status"),
        "sex": qc.get("sex"),
        "input_kind": qc.get("input_kind"),
        "capture": _capture(qc.get("capture")),
    }


def _capture(capture: dict | None) -> dict | None:
    """Capture QC rows of a targeted (exome/panel) sample; None for whole-genome data."""
    if not capture:
        return None
    refs = capture.get("reference_samples") or []
    corr = capture.get("reference_correlation") or []
    return {
        "design": "capture BED (config targets)"
        if capture.get("design") == "bed"
        else "inferred from coverage (exons)",
        "ratio": num(capture.get("ratio"), 1, "×"),
        "on_target_fraction": pct(capture.get("on_target_fraction")),
        "fold_80_base_penalty": num(capture.get("fold_80_base_penalty"), 2),
        "duplicate_fraction": pct(capture.get("duplicate_fraction")),
        "mean_target_depth": num(capture.get("mean_target_depth"), 1, "×"),
        "pct_targets_ge_20x": num(capture.get("pct_targets_ge_20x"), 1, "%"),
        "reference": f"{len(refs)} samples, correlation {min(corr):.3f}-{max(corr):.3f}" if corr else "none",
    }


def _phase_and_family(report: dict) -> tuple[dict, dict]:
    phase = report.get("phase", {})
    fam = report.get("family", {})
    phase_view = {
        "status": words(phase.get("status")),
        "unknown": phase.get("status") == "unknown",
        "method": words(phase.get("method")),
        "detail": phase.get("detail"),
    }
    family_view = {
        "family": fam.get("family") or DASH,
        "father": fam.get("father") or DASH,
        "mother": fam.get("mother") or DASH,
        "mendelian_consistent": fam.get("mendelian_consistent"),
        "detail": fam.get("detail"),
    }
    return phase_view, family_view


def _percent(estimate: dict | None) -> str | None:
    if not estimate:
        return None
    return f"{estimate['fraction']:.1%} (95% CI {estimate['low']:.1%}-{estimate['high']:.1%}; {estimate['model']})"


def _sample_checks(report: dict) -> dict:
    """The "Sample checks" block: what was checked about the sample itself, and what was found."""
    checks = report.get("sample_checks") or {"verdict": "not_run"}
    sex_flag = checks.get("sex_sheet") not in (None, "unknown") and checks.get("sex_inferred") not in (
        None, "unknown", checks.get("sex_sheet"),
    )  # fmt: skip
    return {
        "verdict": checks["verdict"],
        "failed": checks["verdict"] == "fail",
        "detail": checks.get("detail"),
        "sites": checks.get("sites_called"),
        "sex": f"{checks.get('sex_inferred') or DASH} (sheet: {checks.get('sex_sheet') or DASH})",
        "sex_flag": sex_flag,
        "contamination": _percent(checks.get("contamination")),
        "maternal": _percent(checks.get("maternal_contamination")),
        "f_roh": checks.get("f_roh"),
        "locus_in_roh": checks.get("locus_in_roh"),
        "parents_related": checks.get("parents_related"),
        "findings": [(f["level"], f["text"]) for f in checks.get("findings", [])],
        "relatives": [
            f"{r['other']}: {words(r['degree'])} degree (kinship {r['kinship']}, IBS0 {r['ibs0']})"
            if r["degree"] != "duplicate"
            else f"{r['other']}: the same person (kinship {r['kinship']})"
            for r in checks.get("relatives", [])
        ],
        "maternal_alleles": [f"{a.get('hgvs_c') or DASH}: {a['note']}" for a in checks.get("maternal_alleles", [])],
    }


# --------------------------------------------------------------------------------------------- page
def page_context(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> dict:
    """Everything the template shows, as plain values (the template escapes them) and the two SVG trees."""
    tx = report.get("transcript", {})
    status = report.get("status", "inconclusive")
    badge_bg, badge_fg, meaning = STATUS_STYLE.get(status, STATUS_STYLE["inconclusive"])
    presumed = bool(report.get("presumed_biallelic"))
    meaning = PRESUMED_BIALLELIC_MEANING if presumed else meaning
    versions = report.get("versions", {})
    tools = versions.get("tools", {})
    phase, family = _phase_and_family(report)
    return {
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "sample": report.get("sample"),
        "bam_sm_override": (report.get("provenance") or {}).get("bam_sm_override"),
        "title_status": f"{status}, presumed biallelic" if presumed else report.get("status"),
        "build": report.get("build"),
        "synthetic": report.get("build") == "SYNTH",
        "schema_version": report.get("schema_version"),
        "tx": {k: tx.get(k) for k in ("refseq", "protein_refseq", "ensembl", "protein_ensembl")},
        "answer": {
            "status": status,
            "presumed_biallelic": presumed,
            "badge": (badge_bg, badge_fg),
            "meaning": meaning,
            "summary": report.get("summary"),
            "reasons": list(report.get("reasons", [])),
        },
        "alleles": [_allele(a) for a in report.get("alleles", [])],
        "deletions": [_deletion(d) for d in report.get("deletions", [])],
        "other_variants": [_other_variant(o) for o in report.get("other_variants", [])],
        "differential": [_differential(d, sec) for d, sec in (report.get("differential") or {}).items()],
        "cn": _copy_number(report, genes),
        "cluster_plot": cluster_plot_svg(report, bins, genes, exons),
        "exon_model": il1rn_exon_svg(report, genes, exons),
        "exon_coverage": _exon_coverage(report),
        "qc": _qc(report),
        "phase": phase,
        "family": family,
        "checks": _sample_checks(report),
        "versions": {
            "workflow": versions.get("workflow"),
            "resources": versions.get("resources"),
            "tools": [(name, tools[name]) for name in sorted(tools)],
        },
        "limitations": list(report.get("limitations", [])),  # the JSON's own list, rendered once
    }


def render_html(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> str:
    """Return the whole report as one self-contained HTML page (inline CSS and SVG, no scripts, no URLs)."""
    template = _environment().get_template("report.html.j2")
    return template.render(page_context(report, bins, genes, exons))


def write_html(path: str | Path, report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> Path:
    """Render and write the page (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, bins, genes, exons), encoding="utf-8")
    return path
