"""Cohort summary of the per-sample DIRA reports: ``results/cohort.tsv`` and a MultiQC custom-content table.

One row per sample, failed samples included, so that a lab sees the whole run on one page and a missing
sample is never silent. The MultiQC file (``*_mqc.tsv``) carries its section configuration as YAML in
``#`` comment lines, which MultiQC's custom-content module reads without any extra config file.
"""

from __future__ import annotations

import html
import math
import os
import re
from pathlib import Path

import yaml

#: Column order of cohort.tsv (and of the MultiQC table after the sample column). Each differential diagnosis of the
#: reports (e.g. DITRA, Majeed) adds ``<disease>_status`` and ``<disease>_alleles`` after ``cnv_status``
#: (:func:`columns`).
COLUMNS = [
    "sample",
    "status",
    "presumed_biallelic",
    "alleles",
    "il1rn_copy_number",
    "deletions",
    "mean_depth",
    "callable_fraction_cds",
    "cnv_status",
    "sample_checks",
    "sex_inferred",
    "contamination",
    # capture QC (exome/panel samples in targeted mode; empty otherwise)
    "on_target_fraction",
    "fold_80_base_penalty",
    "duplicate_fraction",
    "failed_reason",  # last: the free text
]

FAILED = "failed"
CAPTURE_COLUMNS = ("on_target_fraction", "fold_80_base_penalty", "duplicate_fraction")

#: MultiQC column headers: title, description and display options for each column after "sample".
MULTIQC_HEADERS = {
    "status": {
        "title": "DIRA status",
        "description": "affected / carrier / negative / inconclusive; failed = no report (see failed reason)",
    },
    "sample_checks": {
        "title": "Sample checks",
        "description": "pass / warn / fail (identity, sex, relatedness, contamination; fail = status withheld)",
    },
    "sex_inferred": {"title": "Sex (X/Y)", "description": "Sex inferred from the X and Y sites"},
    "contamination": {
        "title": "Contamination",
        "description": "Fraction of another person's DNA (maternal for a prenatal sample with the mother in the run)",
        "format": "{:,.3f}",
        "min": 0,
        "max": 0.5,
    },
    "presumed_biallelic": {
        "title": "Presumed biallelic",
        "description": "true: inconclusive because two heterozygous LoF alleles have unknown phase; not a confirmed "
        "diagnosis, parental testing needed",
    },
    "alleles": {
        "title": "IL1RN alleles",
        "description": "Reported IL1RN alleles (HGVS on NM_173842.3, or the deleted region) with zygosity",
    },
    "il1rn_copy_number": {
        "title": "IL1RN CN",
        "description": "Integer copy number of IL1RN from read depth (empty = no call)",
        "format": "{:,.0f}",
        "min": 0,
        "max": 4,
        "scale": False,
    },
    "deletions": {
        "title": "Deletions",
        "description": "Deletions called in the IL-1 cluster: region, size, copy number, genes",
    },
    "mean_depth": {
        "title": "Mean depth",
        "description": "Mean read depth over the IL1RN coding sequence",
        "suffix": "X",
        "format": "{:,.1f}",
        "min": 0,
        "scale": "Blues",
    },
    "callable_fraction_cds": {
        "title": "Callable CDS",
        "description": "Percentage of IL1RN coding bases with enough coverage to call variants",
        "suffix": "%",
        "format": "{:,.1f}",
        "min": 0,
        "max": 100,
        "scale": "RdYlGn",
    },
    "cnv_status": {
        "title": "CNV",
        "description": "Copy-number call status: called or no_call",
    },
    "failed_reason": {
        "title": "Failed reason",
        "description": "Why no report was made for this sample (empty when it succeeded)",
    },
    "on_target_fraction": {
        "title": "On target",
        "description": "Capture data: share of the IL-1 window's and control regions' reads on a target",
        "suffix": "%",
        "format": "{:,.1f}",
        "min": 0,
        "max": 100,
        "scale": "RdYlGn",
    },
    "fold_80_base_penalty": {
        "title": "Fold-80",
        "description": "Capture data: fold-80 base penalty (mean target depth / the depth 80% of target bases reach)",
        "format": "{:,.2f}",
        "min": 1,
        "scale": "RdYlGn-rev",
    },
    "duplicate_fraction": {
        "title": "Duplicates",
        "description": "Capture data: share of the regions' reads flagged duplicate",
        "suffix": "%",
        "format": "{:,.1f}",
        "min": 0,
        "max": 100,
        "scale": "OrRd",
    },
}


def _allele_text(allele: dict) -> str:
    """'c.160C>T p.(Gln54*) homozygous', or 'deletion chr2:1-2 heterozygous' when there is no HGVS name."""
    names = [n for n in (allele.get("hgvs_c"), allele.get("hgvs_p")) if n]
    if not names:
        g = allele.get("genomic", {})
        names = [f"{allele.get('kind', 'variant')} {g.get('chrom')}:{g.get('pos')}-{g.get('end')}"]
    return f"{' '.join(names)} {allele.get('zygosity', '')}".strip()


def _deletion_text(deletion: dict) -> str:
    genes = ",".join(deletion.get("genes", [])) or "no genes"
    return (
        f"{deletion['chrom']}:{deletion['start']}-{deletion['end']} {deletion['size'] / 1000:.1f}kb "
        f"CN{deletion['copy_number']} {deletion['zygosity']} ({genes})"
    )


def cohort_rows(reports: list[dict], failed: dict[str, str]) -> list[dict]:
    """One row per sample, sorted by name; a sample in ``failed`` without a report gets status 'failed'.

    ``failed`` maps sample -> reason. A sample that has both a report and a failure reason keeps its report
    row with the reason filled in, so that nothing is hidden.
    """
    rows: dict[str, dict] = {}
    for report in reports:
        qc = report.get("qc", {})
        sample = report["sample"]
        rows[sample] = {
            "sample": sample,
            "status": report["status"],
            "presumed_biallelic": bool(report.get("presumed_biallelic")),
            "alleles": "; ".join(_allele_text(a) for a in report.get("alleles", [])),
            "il1rn_copy_number": report.get("copy_number", {}).get("IL1RN"),
            "deletions": "; ".join(_deletion_text(d) for d in report.get("deletions", [])),
            "mean_depth": qc.get("mean_depth"),
            "callable_fraction_cds": qc.get("callable_fraction_cds"),
            "cnv_status": qc.get("cnv_status", ""),
            **_differential_cells(report.get("differential") or {}),
            **_check_cells(report.get("sample_checks")),
            "failed_reason": failed.get(sample, ""),
            **{k: (qc.get("capture") or {}).get(k) for k in CAPTURE_COLUMNS},
        }
    for sample, reason in failed.items():
        if sample not in rows:
            rows[sample] = {
                "sample": sample,
                "status": FAILED,
                "presumed_biallelic": None,
                "alleles": "",
                "il1rn_copy_number": None,
                "deletions": "",
                "mean_depth": None,
                "callable_fraction_cds": None,
                "cnv_status": "",
                **_check_cells(None),
                "failed_reason": reason or "failed (no reason given)",
                **dict.fromkeys(CAPTURE_COLUMNS),
            }
    return [rows[s] for s in sorted(rows)]


def _differential_cells(differential: dict) -> dict:
    """``<disease>_status`` and ``<disease>_alleles`` of each differential diagnosis of a report."""
    cells = {}
    for disease, section in differential.items():
        key = disease.lower()
        cells[f"{key}_status"] = section.get("status", "")
        cells[f"{key}_alleles"] = "; ".join(_allele_text(a) for a in section.get("alleles", []))
    return cells


def differential_headers(reports: list[dict]) -> dict[str, dict]:
    """MultiQC headers of the differential columns of these reports, in the order the reports name them."""
    headers: dict[str, dict] = {}
    for report in reports:
        for disease, section in (report.get("differential") or {}).items():
            key, gene = disease.lower(), section.get("gene", "")
            transcript = (section.get("transcript") or {}).get("refseq", "")
            headers.setdefault(
                f"{key}_status",
                {
                    "title": f"{disease} status",
                    "description": f"Differential diagnosis {disease} ({gene}): affected / carrier / negative / "
                    "inconclusive",
                },
            )
            headers.setdefault(
                f"{key}_alleles",
                {
                    "title": f"{gene} alleles",
                    "description": f"Reported {gene} alleles (HGVS on {transcript}, or the deleted region) with "
                    "zygosity",
                },
            )
    return headers


def columns(rows: list[dict]) -> list[str]:
    """The columns of these rows: :data:`COLUMNS` with the differential columns the rows carry after ``cnv_status``
    (the build's, in the order they appear; none for a run whose reports have no differential)."""
    keys = (k for row in rows for k in row if k.endswith(("_status", "_alleles")) and k not in COLUMNS)
    extra = list(dict.fromkeys(keys))
    at = COLUMNS.index("cnv_status") + 1
    return COLUMNS[:at] + extra + COLUMNS[at:]


def _check_cells(checks: dict | None) -> dict:
    """The sample-check columns: verdict, inferred sex, contamination (maternal for a prenatal sample)."""
    if not checks:
        return {"sample_checks": "", "sex_inferred": "", "contamination": None}
    estimate = checks.get("maternal_contamination") or checks.get("contamination") or {}
    return {
        "sample_checks": checks["verdict"],
        "sex_inferred": checks.get("sex_inferred", ""),
        "contamination": estimate.get("fraction"),
    }


def _cell(value: object) -> str:
    """TSV cell: empty for None, lower-case booleans, short floats; any whitespace run becomes one space."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(round(value, 4), "g")
    return " ".join(str(value).split())


def write_cohort_tsv(path: str | Path, rows: list[dict]) -> Path:
    """Write ``results/cohort.tsv``: a header line and one line per row, columns as :data:`COLUMNS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns(rows)
    lines = ["\t".join(cols)] + ["\t".join(_cell(row.get(c)) for c in cols) for row in rows]
    write_atomic(path, "\n".join(lines) + "\n")
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and rename: a failed write (a full disk) leaves the old file or none, never
    a half table, and no temporary file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def multiqc_config(differential: dict[str, dict] | None = None) -> dict:
    """The custom-content configuration embedded in the ``*_mqc.tsv`` header; ``differential``: the headers of the
    differential columns (:func:`differential_headers`)."""
    return {
        "id": "dira_genotyper",
        "section_name": "DIRA (IL1RN) genotypes",
        "description": (
            "Per-sample result of dira-genotyper: IL1RN alleles, copy number and coverage. "
            "Open each sample's HTML report for the evidence."
        ),
        "plot_type": "table",
        "pconfig": {
            "id": "dira_genotyper_table",
            "namespace": "DIRA",
            "title": "dira-genotyper: DIRA status",
        },
        "headers": {**MULTIQC_HEADERS, **(differential or {})},
    }


def _config_comment_lines(differential: dict[str, dict] | None = None) -> list[str]:
    """The configuration as YAML (block style, keys in their order, one key per line) in ``# `` comment lines."""
    text = yaml.safe_dump(
        multiqc_config(differential), sort_keys=False, default_flow_style=False, allow_unicode=True, width=math.inf
    )
    return [f"# {line}" for line in text.splitlines()]


#: An absolute path in a text cell (a failure reason): up to a space, quote, bracket or separator.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/[^\s'\"()<>;,]+")


def portable_text(text: str, cwd: str | Path | None = None) -> str:
    """Text for the MultiQC page, which is shared: absolute paths relative to the working directory (else the
    file name only: no user or server folders), then HTML-escaped (MultiQC renders table cells as HTML, so a
    ``<img onerror>`` in a file name would run)."""
    base = Path(cwd or os.getcwd())

    def _short(match: re.Match) -> str:
        path = Path(match.group(0))
        try:
            return str(path.relative_to(base))
        except ValueError:
            return path.name or str(path)

    return html.escape(ABSOLUTE_PATH.sub(_short, text), quote=True)


def write_multiqc(path_tsv_mqc: str | Path, rows: list[dict], differential: dict[str, dict] | None = None) -> Path:
    """Write a MultiQC custom-content table (file name must end in ``_mqc.tsv``, e.g. ``dira_mqc.tsv``).

    Fractions (callable, on target, duplicates) are written as percentages for the table; cohort.tsv keeps 0-1.
    Text cells go through :func:`portable_text` (escaped, no absolute paths); cohort.tsv keeps them as they are.
    """
    path = Path(path_tsv_mqc)
    if not path.name.endswith("_mqc.tsv"):
        raise ValueError(f"{path}: MultiQC only picks up custom content whose name ends in _mqc.tsv")
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns(rows)
    lines = _config_comment_lines(differential)
    lines.append("\t".join(["Sample", *cols[1:]]))
    for row in rows:
        values = dict(row)
        for key in ("callable_fraction_cds", "on_target_fraction", "duplicate_fraction"):
            if values.get(key) is not None:
                values[key] = round(100 * values[key], 2)
        lines.append("\t".join(portable_text(_cell(values.get(c))) for c in cols))
    write_atomic(path, "\n".join(lines) + "\n")
    return path
