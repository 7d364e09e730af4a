"""Render the per-sample DIRA report (``{sample}.dira.json``) as one self-contained HTML page.

The page is for a clinician: the answer comes first, then the evidence behind it. It is a single file with
inline CSS and inline SVG, no JavaScript and no external requests, so it can be archived with the case, sent
by mail or printed. Output is deterministic (no timestamps) so that re-running the workflow on the same data
gives a byte-identical page.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Iterable
from pathlib import Path

TARGET_GENE = "IL1RN"

#: Badge colours (background, text) and a plain-language line for each status. Colour is never the only cue:
#: the status word is always written out.
STATUS_STYLE = {
    "affected": ("#b3261e", "#ffffff", "Genotype consistent with DIRA: two IL1RN disease alleles"),
    "carrier": ("#f0a202", "#1f1f1f", "Heterozygous carrier: one IL1RN disease allele"),
    "negative": ("#2e7d32", "#ffffff", "No IL1RN disease allele found"),
    "inconclusive": ("#616161", "#ffffff", "No reliable answer from this test: see the reasons"),
}

CLASSIFICATION_STYLE = {
    "pathogenic": ("#b3261e", "#ffffff", "Pathogenic"),
    "likely_pathogenic": ("#d84315", "#ffffff", "Likely pathogenic"),
    "uncertain": ("#f0a202", "#1f1f1f", "Uncertain significance"),
    "likely_benign": ("#558b2f", "#ffffff", "Likely benign"),
    "benign": ("#2e7d32", "#ffffff", "Benign"),
}

#: Point / segment colour by called copy number; None (no call) is grey.
CN_COLOURS = {0: "#b3261e", 1: "#e8710a", 2: "#3f6fa8", 3: "#2e7d32", 4: "#7b1fa2"}
NO_CALL_COLOUR = "#9e9e9e"

ORIGIN_LABELS = {
    "paternal": "paternal",
    "maternal": "maternal",
    "de_novo_or_unknown": "de novo or unknown",
}

DASH = "\u2014"

CSS = """
:root { --ink: #1f1f1f; --muted: #5f6368; --rule: #d0d4d9; --zebra: #f5f7fa; --accent: #3f6fa8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #eef1f4; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; background: #fff; padding: 24px 32px 32px; }
header.top { display: flex; justify-content: space-between; align-items: flex-end; gap: 16px;
  border-bottom: 2px solid var(--ink); padding-bottom: 10px; }
header.top h1 { font-size: 22px; margin: 0; }
header.top .sub { color: var(--muted); font-size: 13px; }
dl.meta { display: grid; grid-template-columns: auto auto; gap: 0 12px; margin: 0; font-size: 13px; }
dl.meta dt { color: var(--muted); text-align: right; }
dl.meta dd { margin: 0; font-weight: 600; }
.warn { border: 2px solid #b3261e; background: #fdecea; color: #6d1a14; padding: 10px 14px; margin: 16px 0 0;
  font-weight: 600; border-radius: 6px; }
.answer { display: flex; gap: 20px; align-items: stretch; margin: 18px 0 8px; }
.badge { flex: 0 0 300px; border-radius: 10px; padding: 18px 16px; text-align: center;
  display: flex; flex-direction: column; justify-content: center; }
.badge .label { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; opacity: .9; }
.badge .word { font-size: 30px; font-weight: 800; letter-spacing: .04em; text-transform: uppercase;
  line-height: 1.1; margin: 4px 0 6px; }
.badge .meaning { font-size: 13px; font-weight: 600; }
.answer .text { flex: 1; border: 1px solid var(--rule); border-radius: 10px; padding: 14px 18px; }
.answer .summary { font-size: 19px; font-weight: 600; margin: 0 0 8px; }
.answer ul { margin: 0; padding-left: 20px; }
.answer h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted);
  margin: 10px 0 4px; }
section { margin-top: 26px; break-inside: avoid; page-break-inside: avoid; }
h2 { font-size: 17px; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
p.note { color: var(--muted); font-size: 13px; margin: 4px 0 8px; }
table.data { border-collapse: collapse; width: 100%; font-size: 13.5px; }
table.data th { text-align: left; background: #e8ecf1; padding: 6px 8px; font-weight: 700;
  border-bottom: 1px solid #b9c0c8; vertical-align: bottom; }
table.data td { padding: 6px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
table.data tbody tr:nth-child(even) td { background: var(--zebra); }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
table.data td.nowrap { white-space: nowrap; }
table.genes th.target { color: #c2185b; }
table.genes tbody tr:nth-child(even) td { background: none; }
table.data td.ev { min-width: 190px; }
table.data td.known { min-width: 110px; }
table.genes tbody th { text-align: left; background: none; border-bottom: 1px solid var(--rule);
  white-space: nowrap; }
table.kv { border-collapse: collapse; font-size: 13.5px; }
table.kv th { text-align: left; color: var(--muted); font-weight: 600; padding: 3px 16px 3px 0;
  vertical-align: top; white-space: nowrap; }
table.kv td { padding: 3px 0; }
.hgvs { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-weight: 700; }
.small { font-size: 12px; color: var(--muted); }
.chip { display: inline-block; border-radius: 4px; padding: 1px 7px; font-size: 12px; font-weight: 700;
  white-space: nowrap; }
.flag { color: #b3261e; font-weight: 700; }
.ok { color: #2e7d32; font-weight: 700; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.cols > section { margin-top: 26px; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12.5px; color: var(--muted); margin: 4px 0; }
.legend span.sw { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  vertical-align: -1px; margin-right: 4px; }
ol.lim li, ul.methods li { margin-bottom: 4px; }
footer { margin-top: 28px; border-top: 1px solid var(--rule); padding-top: 8px; color: var(--muted);
  font-size: 12px; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .answer .summary { font-size: 14pt; }
  .badge .word { font-size: 24pt; }
  section, figure, table { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""


# --------------------------------------------------------------------------------------------- formatting
def _e(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: float | int | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def _pct(fraction: float | None, digits: int = 1) -> str:
    return DASH if fraction is None else f"{100 * fraction:.{digits}f}%"


def _af(value: float | None) -> str:
    if value is None:
        return DASH
    if value == 0:
        return "0"
    if value < 0.001:
        return f"{value:.1e}"
    return f"{value:.3f}"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return DASH
    return '<span class="ok">yes</span>' if value else '<span class="flag">no</span>'


def _words(value: str | None) -> str:
    return DASH if value is None else _e(value.replace("_", " "))


def _chip(style: tuple[str, str, str]) -> str:
    bg, fg, label = style
    return f'<span class="chip" style="background:{bg};color:{fg}">{_e(label)}</span>'


def _f(x: float) -> str:
    """SVG coordinate: one decimal, no negative zero."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _cn_colour(cn: int | None) -> str:
    if cn is None:
        return NO_CALL_COLOUR
    return CN_COLOURS.get(min(cn, 4), CN_COLOURS[4])


def _table(headers: list[tuple[str, str]], rows: list[list[str]], empty: str) -> str:
    """headers: (label, css class). Cells are pre-escaped HTML."""
    if not rows:
        return f'<p class="note">{_e(empty)}</p>'
    head = "".join(f'<th class="{cls}">{label}</th>' if cls else f"<th>{label}</th>" for label, cls in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>"
            for (_, cls), cell in zip(headers, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _kv(pairs: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


# --------------------------------------------------------------------------------------------- sections
def _header(report: dict) -> str:
    tx = report.get("transcript", {})
    meta = [
        ("Sample", _e(report.get("sample"))),
        ("Build", _e(report.get("build"))),
        ("Transcript", f"{_e(tx.get('refseq'))} / {_e(tx.get('protein_refseq'))} (MANE Select)"),
        ("Ensembl", f"{_e(tx.get('ensembl'))} / {_e(tx.get('protein_ensembl'))}"),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in meta)
    return (
        '<header class="top"><div><h1>IL1RN genotype report: DIRA</h1>'
        '<div class="sub">Deficiency of the interleukin-1 receptor antagonist '
        "(autosomal recessive)</div></div>"
        f'<dl class="meta">{dl}</dl></header>'
    )


def _synthetic_banner(report: dict) -> str:
    if report.get("build") != "SYNTH":
        return ""
    return (
        '<div class="warn" role="alert">SYNTHETIC TEST DATA: this report was made on the synthetic test '
        "reference (build SYNTH). It is not a result for a person and must not be used for care.</div>"
    )


def _answer(report: dict) -> str:
    status = report.get("status", "inconclusive")
    bg, fg, meaning = STATUS_STYLE.get(status, STATUS_STYLE["inconclusive"])
    reasons = "".join(f"<li>{_e(r)}</li>" for r in report.get("reasons", []))
    return (
        '<section class="answer" aria-label="Result">'
        f'<div class="badge" style="background:{bg};color:{fg}">'
        '<div class="label">Result</div>'
        f'<div class="word">{_e(status)}</div>'
        f'<div class="meaning">{_e(meaning)}</div></div>'
        '<div class="text">'
        f'<p class="summary">{_e(report.get("summary"))}</p>'
        f"<h3>Reasons</h3><ul>{reasons}</ul></div></section>"
    )


def _allele_name(allele: dict) -> str:
    """HGVS c./p. names (or 'deletion'), then the genomic position, then the Ensembl name."""
    parts = []
    if allele.get("hgvs_c"):
        parts.append(f'<span class="hgvs">{_e(allele["hgvs_c"])}</span>')
    if allele.get("hgvs_p"):
        parts.append(f'<span class="hgvs">{_e(allele["hgvs_p"])}</span>')
    g = allele.get("genomic", {})
    pos, end = g.get("pos"), g.get("end")
    is_deletion = allele.get("kind") == "deletion"
    if not parts:
        parts.append(f'<span class="hgvs">{"deletion" if is_deletion else _e(allele.get("kind"))}</span>')
    where = f"{_e(g.get('chrom'))}:{_num(pos)}" if pos == end else f"{_e(g.get('chrom'))}:{_num(pos)}-{_num(end)}"
    if is_deletion and isinstance(pos, int) and isinstance(end, int):
        where += f" ({(end - pos + 1) / 1000:,.1f} kb)"
    elif g.get("ref") is not None or g.get("alt") is not None:
        where += f" {_e(g.get('ref') or '-')}&gt;{_e(g.get('alt') or '-')}"
    lines = [*parts, f'<span class="small">{where}</span>']
    if allele.get("hgvs_c_ensembl"):
        lines.append(f'<span class="small">{_e(allele["hgvs_c_ensembl"])}</span>')
    return "<br>".join(lines)


def _evidence(ev: dict, copy_number: int | None) -> str:
    """Read evidence of a small variant, or copy number and quality of a deletion; absent values left out."""
    fields = [
        ("depth", ev.get("depth"), 0),
        ("alt reads", ev.get("alt_depth"), 0),
        ("AF", ev.get("allele_fraction"), 2),
        ("QUAL", ev.get("quality"), 0),
        ("GQ", ev.get("genotype_quality"), 0),
    ]
    bits = [f"{label}&nbsp;{_num(value, digits)}" for label, value, digits in fields if value is not None]
    if copy_number is not None:
        bits.insert(0, f"copy number&nbsp;{copy_number}")
    flt = ev.get("filter")
    flt_html = _e(flt) if flt in (None, "PASS", ".") else f'<span class="flag">{_e(flt)}</span>'
    second = [f"FILTER {flt_html}"]
    if ev.get("population_af") is not None:
        second.append(f"population AF {_af(ev.get('population_af'))}")
    return f'{" · ".join(bits) or DASH}<br><span class="small">{" · ".join(second)}</span>'


def _alleles(report: dict) -> str:
    rows = []
    for a in report.get("alleles", []):
        cls = CLASSIFICATION_STYLE.get(a.get("classification"), ("#616161", "#fff", a.get("classification")))
        rows.append(
            [
                _allele_name(a),
                _words(a.get("consequence")),
                _e(a.get("zygosity")),
                f'{_chip(cls)}<br><span class="small">{_e(a.get("classification_reason"))}</span>'
                + "".join(f'<br><span class="flag">{_e(flag)}</span>' for flag in a.get("flags", [])),
                _e(a.get("known_as")) if a.get("known_as") else DASH,
                _evidence(a.get("evidence", {}), a.get("copy_number")),
                _e(ORIGIN_LABELS.get(a.get("origin"), DASH)) if a.get("origin") else DASH,
            ]
        )
    headers = [
        ("Variant (HGVS)", ""),
        ("Consequence", ""),
        ("Zygosity", ""),
        ("Classification", ""),
        ("Known as", "known"),
        ("Evidence", "ev"),
        ("Origin", ""),
    ]
    table = _table(headers, rows, "No IL1RN variant of clinical interest was found.")
    return f"<section><h2>IL1RN alleles</h2>{table}</section>"


def _deletions(report: dict) -> str:
    rows = []
    for d in report.get("deletions", []):
        bp = d.get("breakpoint_support", {})
        exons = ", ".join(str(x) for x in d.get("il1rn_exons", [])) or "none"
        rows.append(
            [
                f"{_e(d.get('chrom'))}:{_num(d.get('start'))}-{_num(d.get('end'))}",
                f"{d.get('size', 0) / 1000:,.1f} kb",
                _num(d.get("copy_number")),
                _e(d.get("zygosity")),
                _e(", ".join(d.get("genes", []))) or DASH,
                _e(exons),
                _num(d.get("quality"), 1),
                f"{_num(bp.get('split_reads'))} split, {_num(bp.get('discordant_pairs'))} discordant; "
                f"{'precise' if bp.get('precise') else 'imprecise'}",
            ]
        )
    headers = [
        ("Region", "nowrap"),
        ("Size", "num"),
        ("Copy number", "num"),
        ("Zygosity", ""),
        ("Genes", ""),
        ("IL1RN exons", ""),
        ("Quality", "num"),
        ("Breakpoints", ""),
    ]
    table = _table(headers, rows, "No deletion was called in the IL-1 cluster.")
    return f"<section><h2>Deletions (copy-number losses)</h2>{table}</section>"


# --------------------------------------------------------------------------------------------- plots
def _nice_step(span_mb: float, max_ticks: int = 10) -> float:
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0):
        if span_mb / step <= max_ticks:
            return step
    return 10.0 ** math.ceil(math.log10(span_mb))


def _label_lanes(items: list[tuple[float, float]], gap: float = 6.0) -> list[int]:
    """Greedy lane assignment so that text labels (x_start, x_end) do not overlap."""
    lane_ends: list[float] = []
    lanes = []
    for x0, x1 in items:
        for i, end in enumerate(lane_ends):
            if x0 >= end + gap:
                lane_ends[i] = x1
                lanes.append(i)
                break
        else:
            lane_ends.append(x1)
            lanes.append(len(lane_ends) - 1)
    return lanes


def _text_width(text: str, px: float = 12.0) -> float:
    return 0.62 * px * len(text)


def _locus_chrom(bins: list[dict], genes: list[dict], exons: list[dict]) -> str | None:
    """The contig to draw: the one IL1RN is on, or the bins' contig that overlaps the most gene models."""
    for item in (*genes, *exons):
        if item.get("gene") == TARGET_GENE and item.get("chrom"):
            return item["chrom"]
    spans = [(g["start"], g["end"]) for g in genes]
    counts: dict[str, int] = {}
    for b in bins:
        hit = any(b["start"] <= e and b["end"] >= s for s, e in spans) if spans else True
        counts[b["chrom"]] = counts.get(b["chrom"], 0) + int(hit)
    return max(sorted(counts), key=lambda c: counts[c]) if counts else None


def _segments(bins: list[dict]) -> list[tuple[int, int, int]]:
    """Runs of consecutive bins with one called copy number: (start, end, cn). No-call bins break runs."""
    runs: list[tuple[int, int, int]] = []
    for b in bins:
        cn = b.get("copy_number")
        if cn is None:
            runs.append((b["start"], b["end"], -1))
            continue
        if runs and runs[-1][2] == cn:
            runs[-1] = (runs[-1][0], b["end"], cn)
        else:
            runs.append((b["start"], b["end"], cn))
    return [r for r in runs if r[2] >= 0]


def _deleted_exons(report: dict) -> set[int]:
    """IL1RN exons with copy number 0: no reads there is the finding, not a coverage failure."""
    deleted = {
        c["exon"]
        for c in report.get("exon_copy_number", [])
        if c.get("gene") == TARGET_GENE and c.get("copy_number") == 0
    }
    for d in report.get("deletions", []):
        if d.get("copy_number") == 0:
            deleted.update(d.get("il1rn_exons", []))
    return deleted


def cluster_plot_svg(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> str:
    """Copy-number plot of the IL-1 cluster: depth ratio x2 per bin, CN segments, genes, IL1RN exons."""
    chrom = _locus_chrom(bins, genes, exons)
    loc_bins = sorted(
        (b for b in bins if (chrom is None or b.get("chrom") == chrom) and b.get("ratio") is not None),
        key=lambda b: (b["start"], b["end"]),
    )
    loc_genes = sorted(
        (g for g in genes if chrom is None or g.get("chrom", chrom) == chrom),
        key=lambda g: (g["start"], g["end"], g["gene"]),
    )
    target_exons = sorted((e for e in exons if e.get("gene") == TARGET_GENE), key=lambda e: e["start"])
    starts = [b["start"] for b in loc_bins] + [g["start"] for g in loc_genes]
    ends = [b["end"] for b in loc_bins] + [g["end"] for g in loc_genes]
    if not starts:
        return '<p class="note">No depth bins or gene models were available to draw the locus.</p>'
    lo, hi = min(starts), max(ends)
    pad = max(1, (hi - lo) // 100)
    lo, hi = lo - pad, hi + pad

    width, left, right, top = 1040.0, 60.0, 16.0, 14.0
    plot_h = 250.0
    y_min, y_max = -0.3, 4.5  # a little room below 0 so that CN 0 bins stay visible above the axis
    pw = width - left - right

    def x(pos: float) -> float:
        return left + (pos - lo) / (hi - lo) * pw

    def y(cn: float) -> float:
        return top + plot_h - (min(max(cn, y_min), y_max) - y_min) / (y_max - y_min) * plot_h

    out: list[str] = []
    # IL1RN band and deletion shading behind the data.
    for g in loc_genes:
        if g["gene"] == TARGET_GENE:
            x0, x1 = x(g["start"]), x(g["end"])
            w = max(x1 - x0, 4.0)
            out.append(
                f'<rect x="{_f((x0 + x1 - w) / 2)}" y="{_f(top)}" width="{_f(w)}" height="{_f(plot_h)}" '
                'fill="#f6e7a8" opacity="0.8"><title>IL1RN</title></rect>'
            )
    for d in report.get("deletions", []):
        if chrom is not None and d.get("chrom") != chrom:
            continue
        x0, x1 = x(max(d["start"], lo)), x(min(d["end"], hi))
        out.append(
            f'<rect x="{_f(x0)}" y="{_f(top)}" width="{_f(max(x1 - x0, 2.0))}" height="{_f(plot_h)}" '
            f'fill="#b3261e" opacity="0.10"><title>deletion {_e(d["chrom"])}:{d["start"]}-{d["end"]} '
            f"CN {d['copy_number']}</title></rect>"
        )
        out.append(
            f'<text x="{_f(x0 + 4)}" y="{_f(top + 14)}" font-size="12" fill="#b3261e" font-weight="700">'
            f"deletion, CN {_e(d['copy_number'])}</text>"
        )
    # Grid and y axis.
    for cn in range(5):
        yy = y(cn)
        stroke = "#9aa3ad" if cn == 2 else "#e1e5ea"
        out.append(
            f'<line x1="{_f(left)}" x2="{_f(width - right)}" y1="{_f(yy)}" y2="{_f(yy)}" '
            f'stroke="{stroke}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_f(left - 8)}" y="{_f(yy + 4)}" font-size="12" text-anchor="end" fill="#5f6368">{cn}</text>'
        )
    out.append(
        f'<text transform="translate(16 {_f(top + plot_h / 2)}) rotate(-90)" font-size="12" '
        'text-anchor="middle" fill="#5f6368">copy number (2 × depth ratio)</text>'
    )
    out.append(
        f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(pw)}" height="{_f(plot_h)}" fill="none" stroke="#9aa3ad"/>'
    )
    # Points.
    for b in loc_bins:
        value = 2.0 * float(b["ratio"])
        cx, cy = x((b["start"] + b["end"]) / 2), y(value)
        colour = _cn_colour(b.get("copy_number"))
        if value > y_max:  # off scale: a triangle at the top edge
            out.append(
                f'<path d="M{_f(cx - 3)} {_f(cy + 5)}L{_f(cx + 3)} {_f(cy + 5)}L{_f(cx)} {_f(cy)}Z" fill="{colour}"/>'
            )
        elif b.get("copy_number") is None:
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="2.2" fill="none" stroke="{colour}"/>')
        else:
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="2.2" fill="{colour}" fill-opacity="0.75"/>')
    # Segments.
    for s, e, cn in _segments(loc_bins):
        out.append(
            f'<line x1="{_f(x(s))}" x2="{_f(x(e))}" y1="{_f(y(cn))}" y2="{_f(y(cn))}" '
            f'stroke="{_cn_colour(cn)}" stroke-width="3.5" stroke-linecap="round">'
            f"<title>CN {cn}: {s}-{e}</title></line>"
        )
    if not loc_bins:
        out.append(
            f'<text x="{_f(left + pw / 2)}" y="{_f(top + plot_h / 2)}" font-size="15" '
            'text-anchor="middle" fill="#5f6368">No depth bins: copy number not assessed</text>'
        )
    # X axis (Mb).
    span_mb = (hi - lo) / 1e6
    step = _nice_step(span_mb)
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    tick = math.ceil(lo / 1e6 / step) * step
    axis_y = top + plot_h
    while tick * 1e6 <= hi:
        tx = x(tick * 1e6)
        out.append(f'<line x1="{_f(tx)}" x2="{_f(tx)}" y1="{_f(axis_y)}" y2="{_f(axis_y + 5)}" stroke="#5f6368"/>')
        out.append(
            f'<text x="{_f(tx)}" y="{_f(axis_y + 18)}" font-size="12" text-anchor="middle" '
            f'fill="#5f6368">{tick:.{decimals}f}</text>'
        )
        tick = round(tick + step, 9)
    out.append(
        f'<text x="{_f(width - right)}" y="{_f(axis_y + 34)}" font-size="12" text-anchor="end" '
        f'fill="#5f6368">{_e(chrom or "")} position (Mb, {_e(report.get("build", ""))})</text>'
    )
    # Gene track.
    track_y = axis_y + 50
    out.append(
        f'<line x1="{_f(left)}" x2="{_f(width - right)}" y1="{_f(track_y + 6)}" y2="{_f(track_y + 6)}" '
        'stroke="#c4cad1"/>'
    )
    labels = []
    for g in loc_genes:
        arrow = "\u2192" if g.get("strand") == "+" else "\u2190" if g.get("strand") == "-" else ""
        text = f"{g['gene']} {arrow}".strip()
        cx = (x(g["start"]) + x(g["end"])) / 2
        half = _text_width(text) / 2
        labels.append((text, cx, (cx - half, cx + half)))
    lanes = _label_lanes([span for _, _, span in labels])
    for g, (text, cx, _), lane in zip(loc_genes, labels, lanes, strict=True):
        is_target = g["gene"] == TARGET_GENE
        x0, x1 = x(g["start"]), x(g["end"])
        w = max(x1 - x0, 3.0)
        fill = "#c2185b" if is_target else "#78909c"
        out.append(
            f'<rect x="{_f((x0 + x1 - w) / 2)}" y="{_f(track_y)}" width="{_f(w)}" height="12" '
            f'fill="{fill}" rx="2"><title>{_e(g["gene"])} {g["start"]}-{g["end"]}</title></rect>'
        )
        ly = track_y + 28 + 15 * lane
        if lane:
            out.append(
                f'<line x1="{_f(cx)}" x2="{_f(cx)}" y1="{_f(track_y + 13)}" y2="{_f(ly - 11)}" stroke="#c4cad1"/>'
            )
        weight = ' font-weight="800"' if is_target else ""
        colour = "#c2185b" if is_target else "#37474f"
        out.append(
            f'<text x="{_f(cx)}" y="{_f(ly)}" font-size="12" text-anchor="middle" fill="{colour}"'
            f"{weight}>{_e(text)}</text>"
        )
    for ex in target_exons:
        x0, x1 = x(ex["start"]), x(ex["end"])
        w = max(x1 - x0, 1.5)
        out.append(
            f'<rect x="{_f((x0 + x1 - w) / 2)}" y="{_f(track_y - 4)}" width="{_f(w)}" height="20" '
            f'fill="#4a0e2a"><title>IL1RN exon {_e(ex["exon"])}</title></rect>'
        )
    n_lanes = (max(lanes) + 1) if lanes else 1
    height = track_y + 28 + 15 * (n_lanes - 1) + 10
    return (
        f'<svg viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'aria-label="Copy number across the IL-1 cluster" font-family="system-ui, Arial, sans-serif">'
        f"{''.join(out)}</svg>"
    )


def il1rn_exon_svg(report: dict, genes: list[dict], exons: list[dict]) -> str:
    """IL1RN gene model to scale with each exon's coverage and copy number written under it."""
    target_exons = sorted((e for e in exons if e.get("gene") == TARGET_GENE), key=lambda e: e["start"])
    if not target_exons:
        return ""
    gene = next((g for g in genes if g.get("gene") == TARGET_GENE), None)
    lo = min([e["start"] for e in target_exons] + ([gene["start"]] if gene else []))
    hi = max([e["end"] for e in target_exons] + ([gene["end"]] if gene else []))
    strand = gene.get("strand", "+") if gene else "+"
    coverage = {c["exon"]: c for c in report.get("exon_coverage", [])}
    exon_cn = {c["exon"]: c for c in report.get("exon_copy_number", []) if c.get("gene") == TARGET_GENE}
    deleted_exons = _deleted_exons(report)
    width, left, right, top = 1040.0, 70.0, 70.0, 24.0

    def x(pos: float) -> float:
        return left + (pos - lo) / max(hi - lo, 1) * (width - left - right)

    mid = top + 14
    out = [
        f'<line x1="{_f(x(lo))}" x2="{_f(x(hi))}" y1="{_f(mid)}" y2="{_f(mid)}" stroke="#37474f" stroke-width="1.5"/>'
    ]
    # The 5' end, with the direction of transcription.
    if strand == "+":
        end_x, anchor, text = x(lo) - 8, "end", "5\u2032 \u2192"
    else:
        end_x, anchor, text = x(hi) + 8, "start", "\u2190 5\u2032"
    out.append(
        f'<text x="{_f(end_x)}" y="{_f(mid + 4)}" font-size="12" text-anchor="{anchor}" fill="#37474f">{text}</text>'
    )
    for ex in target_exons:
        n = ex["exon"]
        cov = coverage.get(n)
        cn = exon_cn.get(n)
        callable_ = cov.get("callable") if cov else None
        deleted = n in deleted_exons
        fill = "#3f6fa8" if callable_ else "#b3261e" if callable_ is False else "#9e9e9e"
        x0, x1 = x(ex["start"]), x(ex["end"])
        w = max(x1 - x0, 4.0)
        out.append(
            f'<rect x="{_f((x0 + x1 - w) / 2)}" y="{_f(top)}" width="{_f(w)}" height="28" fill="{fill}" '
            f'rx="2"><title>exon {_e(n)}: {ex["start"]}-{ex["end"]}</title></rect>'
        )
        cx = min(max((x0 + x1) / 2, 45.0), width - 45.0)
        lines = [(f"Exon {n}", ' font-weight="700"', "#1f1f1f")]
        if cov:
            lines.append((f"mean {cov['mean_depth']:.0f}×, {cov['pct_ge_20x']:.0f}% ≥20×", "", "#37474f"))
            if callable_:
                verdict = ("callable", ' font-weight="700"', "#2e7d32")
            elif deleted:
                verdict = ("no reads: exon deleted", ' font-weight="700"', "#b3261e")
            else:
                verdict = ("NOT callable", ' font-weight="700"', "#b3261e")
            lines.append(verdict)
        else:
            lines.append(("coverage not reported", "", "#5f6368"))
        if cn is not None:
            value = "no call" if cn.get("copy_number") is None else f"CN {cn['copy_number']}"
            lines.append((f"exon copy number: {value}", "", "#37474f"))
        for i, (text, attr, colour) in enumerate(lines):
            out.append(
                f'<text x="{_f(cx)}" y="{_f(top + 48 + 15 * i)}" font-size="12" text-anchor="middle" '
                f'fill="{colour}"{attr}>{_e(text)}</text>'
            )
    height = top + 48 + 15 * 4 + 4
    return (
        f'<svg viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="IL1RN exons" '
        f'font-family="system-ui, Arial, sans-serif">{"".join(out)}</svg>'
    )


def _legend() -> str:
    items = [(CN_COLOURS[i], f"CN {i}" + ("+" if i == 4 else "")) for i in range(5)]
    spans = "".join(f'<span><span class="sw" style="background:{c}"></span>{_e(t)}</span>' for c, t in items)
    spans += (
        f'<span><span class="sw" style="border:1.5px solid {NO_CALL_COLOUR}"></span>no call</span>'
        '<span><span class="sw" style="background:#f6e7a8;border-radius:0"></span>IL1RN</span>'
        "<span>points: bins · thick lines: called segments</span>"
    )
    return f'<div class="legend">{spans}</div>'


def _copy_number_section(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> str:
    qc = report.get("qc", {})
    cn = report.get("copy_number", {})
    cnq = report.get("copy_number_quality", {})
    order = [g["gene"] for g in sorted(genes, key=lambda g: g["start"]) if g["gene"] in cn]
    order += sorted(k for k in cn if k not in order)
    head = "".join(f'<th class="num{" target" if gene == TARGET_GENE else ""}">{_e(gene)}</th>' for gene in order)
    cn_cells, q_cells = [], []
    for gene in order:
        value = cn.get(gene)
        if value is None:
            cell = '<span class="flag">no call</span>'
        elif value != 2:
            cell = f'<span class="flag">{value}</span>'
        else:
            cell = str(value)
        cn_cells.append(f'<td class="num">{cell}</td>')
        q_cells.append(f'<td class="num">{_num(cnq.get(gene), 1)}</td>')
    gene_table = (
        '<table class="data genes"><thead><tr><th></th>'
        f"{head}</tr></thead><tbody><tr><th>Copy number</th>{''.join(cn_cells)}</tr>"
        f"<tr><th>Quality</th>{''.join(q_cells)}</tr></tbody></table>"
        if order
        else '<p class="note">No gene copy numbers were reported.</p>'
    )
    other_exons = [e for e in report.get("exon_copy_number", []) if e.get("gene") != TARGET_GENE]
    other = ""
    if other_exons:
        erows = [
            [_e(e["gene"]), _num(e["exon"]), _num(e.get("copy_number")), _num(e.get("quality"), 1)]
            for e in sorted(other_exons, key=lambda e: (e["gene"], e["exon"]))
        ]
        other = "<h3>Exon copy number (other genes)</h3>" + _table(
            [("Gene", ""), ("Exon", "num"), ("Copy number", "num"), ("Quality", "num")], erows, ""
        )
    status = qc.get("cnv_status")
    status_note = (
        ""
        if status == "called"
        else '<p class="note flag">Copy number: NO CALL. Deletions could not be assessed; see the reasons above.</p>'
    )
    caption = (
        "Each point is one depth bin: its depth divided by the depth expected for two copies, times two, so "
        "2 is normal, 1 is a heterozygous deletion and 0 a homozygous deletion. Bins and lines are coloured "
        f"by the called copy number. CNV mode: {_e(qc.get('cnv_mode'))}; normalisation MAD "
        f"{_num(qc.get('normalisation_mad'), 3)}."
    )
    plot = cluster_plot_svg(report, bins, genes, exons)
    return (
        "<section><h2>Copy number across the IL-1 cluster</h2>"
        f"{status_note}{_legend()}<figure>{plot}<figcaption>{caption}</figcaption></figure></section>"
        f"<section><h2>Copy number by gene</h2>{gene_table}"
        '<p class="note">Expected copy number is 2 for every gene on chromosome 2; other values and '
        f"no-calls are shown in red.</p>{other}</section>"
    )


def _exon_section(report: dict, genes: list[dict], exons: list[dict]) -> str:
    rows = []
    exon_cn = {c["exon"]: c for c in report.get("exon_copy_number", []) if c.get("gene") == TARGET_GENE}
    deleted = _deleted_exons(report)
    for c in sorted(report.get("exon_coverage", []), key=lambda c: c["exon"]):
        cn = exon_cn.get(c["exon"])
        callable_html = _yes_no(c.get("callable"))
        if not c.get("callable") and c["exon"] in deleted:
            callable_html += ' <span class="small">(deleted)</span>'
        cn_text = DASH if cn is None else ("no call" if cn.get("copy_number") is None else str(cn["copy_number"]))
        rows.append(
            [
                _num(c["exon"]),
                f"{_num(c['start'])}-{_num(c['end'])}",
                _num(float(c["mean_depth"]), 1),
                _num(c["min_depth"]),
                f"{float(c['pct_ge_20x']):.1f}%",
                _num(c.get("required_depth")) if c.get("required_depth") is not None else DASH,
                callable_html,
                _e(cn_text) if cn_text in ("2", DASH) else f'<span class="flag">{_e(cn_text)}</span>',
            ]
        )
    headers = [
        ("Exon", "num"),
        ("Position", "nowrap"),
        ("Mean depth", "num"),
        ("Min depth", "num"),
        ("% bases ≥ 20×", "num"),
        ("Depth needed", "num"),
        ("Callable", ""),
        ("Copy number", "num"),
    ]
    model = il1rn_exon_svg(report, genes, exons)
    figure = f"<figure>{model}</figure>" if model else ""
    table = _table(headers, rows, "Exon coverage was not reported.")
    tx = report.get("transcript", {})
    return f"<section><h2>IL1RN exon coverage ({_e(tx.get('refseq'))})</h2>{figure}{table}</section>"


def _qc_section(report: dict) -> str:
    qc = report.get("qc", {})
    uncallable = qc.get("uncallable_exons", [])
    unc = f'<span class="flag">{_e(", ".join(str(x) for x in uncallable))}</span>' if uncallable else "none"
    cnv_status = qc.get("cnv_status")
    pairs = [
        ("Mean depth (IL1RN targets)", _num(qc.get("mean_depth"), 1, "×")),
        ("Callable coding sequence", _pct(qc.get("callable_fraction_cds"))),
        ("Uncallable exons", unc),
        ("Normalisation MAD", _num(qc.get("normalisation_mad"), 3)),
        ("CNV mode", _e(qc.get("cnv_mode"))),
        (
            "CNV status",
            _e(cnv_status) if cnv_status == "called" else f'<span class="flag">{_e(cnv_status)}</span>',
        ),
        ("Sex (inferred or given)", _e(qc.get("sex"))),
        ("Input", _e(qc.get("input_kind"))),
    ]
    return f"<section><h2>Quality control</h2>{_kv(pairs)}</section>"


def _family_section(report: dict) -> str:
    phase = report.get("phase", {})
    fam = report.get("family", {})
    p_status = phase.get("status")
    p_html = _words(p_status)
    if p_status == "unknown":
        p_html = f'<span class="flag">{p_html}</span>'
    phase_pairs = [
        ("Phase", p_html),
        ("Method", _words(phase.get("method"))),
        ("Detail", _e(phase.get("detail"))),
    ]
    fam_pairs = [
        ("Family", _e(fam.get("family")) if fam.get("family") else DASH),
        ("Father", _e(fam.get("father")) if fam.get("father") else DASH),
        ("Mother", _e(fam.get("mother")) if fam.get("mother") else DASH),
        ("Mendelian consistent", _yes_no(fam.get("mendelian_consistent"))),
        ("Detail", _e(fam.get("detail"))),
    ]
    return (
        '<div class="cols">'
        f"<section><h2>Phase of the alleles</h2>{_kv(phase_pairs)}</section>"
        f"<section><h2>Family</h2>{_kv(fam_pairs)}</section></div>"
    )


def _methods_section(report: dict) -> str:
    tx = report.get("transcript", {})
    items = [
        f"Reads were aligned with BWA-MEM to the {_e(report.get('build'))} reference; the analysis covers "
        "the IL-1 cluster window of chromosome 2.",
        "Small variants (SNVs and indels) were called with bcftools mpileup and bcftools call over the IL1RN "
        "exons and their splice regions, then filtered on depth and quality.",
        "Copy number was estimated from read depth in bins across the IL-1 cluster, corrected for GC "
        "content, normalised against control regions and segmented with a hidden Markov model; each gene "
        "and IL1RN exon gets an integer copy number or a no-call.",
        f"Variants are named in HGVS on the MANE Select transcript {_e(tx.get('refseq') or 'NM_173842.3')} "
        f"({_e(tx.get('protein_refseq'))}) and classified against a curated table of published DIRA alleles.",
    ]
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f'<section><h2>Methods</h2><ul class="methods">{lis}</ul></section>'


def _versions_section(report: dict) -> str:
    v = report.get("versions", {})
    tools = v.get("tools", {})
    pairs = [
        ("Workflow", _e(v.get("workflow"))),
        ("Resources", _e(v.get("resources"))),
        ("Report schema", _e(report.get("schema_version"))),
    ]
    pairs += [(name, _e(tools[name])) for name in sorted(tools)]
    return f"<section><h2>Versions</h2>{_kv(pairs)}</section>"


def _limitations(report: dict) -> str:
    items = []
    if report.get("build") == "SYNTH":
        items.append(
            "<strong>Synthetic test data.</strong> This report was produced on the synthetic test "
            "reference; it describes no person and must not be used clinically."
        )
    items += [_e(text) for text in report.get("limitations", [])]  # the JSON's own list, rendered once
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f'<section><h2>Limitations</h2><ol class="lim">{lis}</ol></section>'


def _other_variants(report: dict) -> str:
    rows = []
    for o in report.get("other_variants", []):
        cls = CLASSIFICATION_STYLE.get(o.get("classification"), ("#616161", "#fff", o.get("classification")))
        af = o.get("population_af")
        rows.append(
            [
                _e(o.get("name")),
                _e(o.get("zygosity")),
                f'{_chip(cls)}<br><span class="small">{_e(o.get("classification_reason"))}</span>',
                _af(af) if af is not None else DASH,
            ]
        )
    if not rows:
        return ""
    headers = [("Variant", ""), ("Zygosity", ""), ("Classification", ""), ("Population AF", "num")]
    table = _table(headers, rows, "")
    return f"<section><h2>Other calls (not reported as alleles)</h2>{table}</section>"


# --------------------------------------------------------------------------------------------- page
def render_html(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> str:
    """Return the whole report as one self-contained HTML page (inline CSS and SVG, no scripts, no URLs)."""
    sample = report.get("sample", "")
    version = report.get("versions", {}).get("workflow", "")
    body = "".join(
        [
            _header(report),
            _synthetic_banner(report),
            _answer(report),
            _alleles(report),
            _deletions(report),
            _other_variants(report),
            _copy_number_section(report, bins, genes, exons),
            _exon_section(report, genes, exons),
            _qc_section(report),
            _family_section(report),
            _methods_section(report),
            _versions_section(report),
            _limitations(report),
            f"<footer>dira-genotyper {_e(version)} · report schema {_e(report.get('schema_version'))} · "
            f"sample {_e(sample)} · build {_e(report.get('build'))}</footer>",
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>DIRA / IL1RN report: {_e(sample)} ({_e(report.get('status'))})</title>"
        f"<style>{CSS}</style></head>\n<body><main>{body}</main></body></html>\n"
    )


def write_html(path: str | Path, report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> Path:
    """Render and write the page (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, bins, genes, exons), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------- inputs
def _int_or_none(text: str | None) -> int | None:
    if text is None or text.strip() in ("", ".", "NA", "nan", "None"):
        return None
    return int(float(text))


def _float_or_none(text: str | None) -> float | None:
    if text is None or text.strip() in ("", ".", "NA", "nan", "None"):
        return None
    return float(text)


def read_bins_tsv(path: str | Path) -> list[dict]:
    """Read a bins table with columns chrom, start, end, ratio, copy_number (extra columns ignored)."""
    with open(path, newline="") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return [
            {
                "chrom": r["chrom"],
                "start": int(r["start"]),
                "end": int(r["end"]),
                "ratio": _float_or_none(r.get("ratio")),
                "copy_number": _int_or_none(r.get("copy_number")),
            }
            for r in rows
        ]
