"""The two drawings of the page, as SVG element trees: the IL-1 cluster copy-number plot and the IL1RN exon model."""

from __future__ import annotations

import math

from dira_genotyper.report.style import cn_colour, headline_gene, text
from dira_genotyper.report.svg import Element, coord

WIDTH = 1040.0
FONT = "system-ui, Arial, sans-serif"


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


def _text_width(label: str, px: float = 12.0) -> float:
    return 0.62 * px * len(label)


def _locus_chrom(bins: list[dict], genes: list[dict], exons: list[dict], target: str) -> str | None:
    """The contig to draw: the one IL1RN is on, or the bins' contig that overlaps the most gene models."""
    for item in (*genes, *exons):
        if item.get("gene") == target and item.get("chrom"):
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


def deleted_exons(report: dict) -> set[int]:
    """Headline-gene exons with copy number 0: no reads there is the finding, not a coverage failure."""
    target = headline_gene(report)
    deleted = {
        c["exon"] for c in report.get("exon_copy_number", []) if c.get("gene") == target and c.get("copy_number") == 0
    }
    for d in report.get("deletions", []):
        if d.get("copy_number") == 0:
            deleted.update(d.get("il1rn_exons", []))
    return deleted


def _label(x: float, y: float, label: str, fill: str, anchor: str | None = "middle", **attrs: object) -> Element:
    """A 12 px text label."""
    return Element("text", label, x=x, y=y, font_size="12", text_anchor=anchor, fill=fill, **attrs)


def cluster_plot_svg(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> Element | None:
    """Copy-number plot of the IL-1 cluster: depth ratio x2 per bin, CN segments, genes, IL1RN exons.

    None when there is neither a depth bin nor a gene model to draw.
    """
    target = headline_gene(report)
    chrom = _locus_chrom(bins, genes, exons, target)
    loc_bins = sorted(
        (b for b in bins if (chrom is None or b.get("chrom") == chrom) and b.get("ratio") is not None),
        key=lambda b: (b["start"], b["end"]),
    )
    loc_genes = sorted(
        (g for g in genes if chrom is None or g.get("chrom", chrom) == chrom),
        key=lambda g: (g["start"], g["end"], g["gene"]),
    )
    target_exons = sorted((e for e in exons if e.get("gene") == target), key=lambda e: e["start"])
    starts = [b["start"] for b in loc_bins] + [g["start"] for g in loc_genes]
    ends = [b["end"] for b in loc_bins] + [g["end"] for g in loc_genes]
    if not starts:
        return None
    lo, hi = min(starts), max(ends)
    pad = max(1, (hi - lo) // 100)
    lo, hi = lo - pad, hi + pad

    width, left, right, top = WIDTH, 60.0, 16.0, 14.0
    plot_h = 250.0
    y_min, y_max = -0.3, 4.5  # a little room below 0 so that CN 0 bins stay visible above the axis
    pw = width - left - right

    def x(pos: float) -> float:
        return left + (pos - lo) / (hi - lo) * pw

    def y(cn: float) -> float:
        return top + plot_h - (min(max(cn, y_min), y_max) - y_min) / (y_max - y_min) * plot_h

    out: list[Element] = []
    # IL1RN band and deletion shading behind the data.
    for g in loc_genes:
        if g["gene"] == target:
            x0, x1 = x(g["start"]), x(g["end"])
            w = max(x1 - x0, 4.0)
            band = Element("title", target)
            out.append(
                Element("rect", band, x=(x0 + x1 - w) / 2, y=top, width=w, height=plot_h, fill="#f6e7a8", opacity="0.8")
            )
    for d in report.get("deletions", []):
        if chrom is not None and d.get("chrom") != chrom:
            continue
        x0, x1 = x(max(d["start"], lo)), x(min(d["end"], hi))
        tip = Element("title", f"deletion {text(d['chrom'])}:{d['start']}-{d['end']} CN {d['copy_number']}")
        out.append(
            Element("rect", tip, x=x0, y=top, width=max(x1 - x0, 2.0), height=plot_h, fill="#b3261e", opacity="0.10")
        )
        out.append(
            _label(x0 + 4, top + 14, f"deletion, CN {text(d['copy_number'])}", "#b3261e", None, font_weight="700")
        )
    # Grid and y axis.
    for cn in range(5):
        yy = y(cn)
        stroke = "#9aa3ad" if cn == 2 else "#e1e5ea"
        out.append(Element("line", x1=left, x2=width - right, y1=yy, y2=yy, stroke=stroke, stroke_width="1"))
        out.append(_label(left - 8, yy + 4, str(cn), "#5f6368", "end"))
    out.append(
        Element(
            "text",
            "copy number (2 \u00d7 depth ratio)",
            transform=f"translate(16 {coord(top + plot_h / 2)}) rotate(-90)",
            font_size="12",
            text_anchor="middle",
            fill="#5f6368",
        )
    )
    out.append(Element("rect", x=left, y=top, width=pw, height=plot_h, fill="none", stroke="#9aa3ad"))
    # Points.
    for b in loc_bins:
        value = 2.0 * float(b["ratio"])
        cx, cy = x((b["start"] + b["end"]) / 2), y(value)
        colour = cn_colour(b.get("copy_number"))
        if value > y_max:  # off scale: a triangle at the top edge
            path = f"M{coord(cx - 3)} {coord(cy + 5)}L{coord(cx + 3)} {coord(cy + 5)}L{coord(cx)} {coord(cy)}Z"
            out.append(Element("path", d=path, fill=colour))
        elif b.get("copy_number") is None:
            out.append(Element("circle", cx=cx, cy=cy, r="2.2", fill="none", stroke=colour))
        else:
            out.append(Element("circle", cx=cx, cy=cy, r="2.2", fill=colour, fill_opacity="0.75"))
    # Segments.
    for s, e, cn in _segments(loc_bins):
        tip = Element("title", f"CN {cn}: {s}-{e}")
        out.append(
            Element(
                "line",
                tip,
                x1=x(s),
                x2=x(e),
                y1=y(cn),
                y2=y(cn),
                stroke=cn_colour(cn),
                stroke_width="3.5",
                stroke_linecap="round",
            )
        )
    if not loc_bins:
        note = "No depth bins: copy number not assessed"
        out.append(
            Element(
                "text", note, x=left + pw / 2, y=top + plot_h / 2, font_size="15", text_anchor="middle", fill="#5f6368"
            )
        )
    # X axis (Mb).
    span_mb = (hi - lo) / 1e6
    step = _nice_step(span_mb)
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    tick = math.ceil(lo / 1e6 / step) * step
    axis_y = top + plot_h
    while tick * 1e6 <= hi:
        tx = x(tick * 1e6)
        out.append(Element("line", x1=tx, x2=tx, y1=axis_y, y2=axis_y + 5, stroke="#5f6368"))
        out.append(_label(tx, axis_y + 18, f"{tick:.{decimals}f}", "#5f6368"))
        tick = round(tick + step, 9)
    axis_title = f"{chrom or ''} position (Mb, {text(report.get('build', ''))})"
    out.append(_label(width - right, axis_y + 34, axis_title, "#5f6368", "end"))
    # Gene track.
    track_y = axis_y + 50
    out.append(Element("line", x1=left, x2=width - right, y1=track_y + 6, y2=track_y + 6, stroke="#c4cad1"))
    labels = []
    for g in loc_genes:
        arrow = "\u2192" if g.get("strand") == "+" else "\u2190" if g.get("strand") == "-" else ""
        name = f"{g['gene']} {arrow}".strip()
        cx = (x(g["start"]) + x(g["end"])) / 2
        half = _text_width(name) / 2
        labels.append((name, cx, (cx - half, cx + half)))
    lanes = _label_lanes([span for _, _, span in labels])
    for g, (name, cx, _), lane in zip(loc_genes, labels, lanes, strict=True):
        is_target = g["gene"] == target
        x0, x1 = x(g["start"]), x(g["end"])
        w = max(x1 - x0, 3.0)
        fill = "#c2185b" if is_target else "#78909c"
        tip = Element("title", f"{g['gene']} {g['start']}-{g['end']}")
        out.append(Element("rect", tip, x=(x0 + x1 - w) / 2, y=track_y, width=w, height="12", fill=fill, rx="2"))
        ly = track_y + 28 + 15 * lane
        if lane:
            out.append(Element("line", x1=cx, x2=cx, y1=track_y + 13, y2=ly - 11, stroke="#c4cad1"))
        colour = "#c2185b" if is_target else "#37474f"
        out.append(_label(cx, ly, name, colour, font_weight="800" if is_target else None))
    for ex in target_exons:
        x0, x1 = x(ex["start"]), x(ex["end"])
        w = max(x1 - x0, 1.5)
        tip = Element("title", f"IL1RN exon {text(ex['exon'])}")
        out.append(Element("rect", tip, x=(x0 + x1 - w) / 2, y=track_y - 4, width=w, height="20", fill="#4a0e2a"))
    n_lanes = (max(lanes) + 1) if lanes else 1
    height = track_y + 28 + 15 * (n_lanes - 1) + 10
    return Element(
        "svg",
        *out,
        viewBox=f"0 0 {coord(width)} {coord(height)}",
        role="img",
        aria_label="Copy number across the IL-1 cluster",
        font_family=FONT,
    )


def il1rn_exon_svg(report: dict, genes: list[dict], exons: list[dict]) -> Element | None:
    """IL1RN gene model to scale with each exon's coverage and copy number written under it; None without exons."""
    target = headline_gene(report)
    target_exons = sorted((e for e in exons if e.get("gene") == target), key=lambda e: e["start"])
    if not target_exons:
        return None
    gene = next((g for g in genes if g.get("gene") == target), None)
    lo = min([e["start"] for e in target_exons] + ([gene["start"]] if gene else []))
    hi = max([e["end"] for e in target_exons] + ([gene["end"]] if gene else []))
    strand = gene.get("strand", "+") if gene else "+"
    coverage = {c["exon"]: c for c in report.get("exon_coverage", [])}
    exon_cn = {c["exon"]: c for c in report.get("exon_copy_number", []) if c.get("gene") == target}
    deleted = deleted_exons(report)
    width, left, right, top = WIDTH, 70.0, 70.0, 24.0

    def x(pos: float) -> float:
        return left + (pos - lo) / max(hi - lo, 1) * (width - left - right)

    mid = top + 14
    out = [Element("line", x1=x(lo), x2=x(hi), y1=mid, y2=mid, stroke="#37474f", stroke_width="1.5")]
    # The 5' end, with the direction of transcription.
    if strand == "+":
        end_x, anchor, five_prime = x(lo) - 8, "end", "5\u2032 \u2192"
    else:
        end_x, anchor, five_prime = x(hi) + 8, "start", "\u2190 5\u2032"
    out.append(_label(end_x, mid + 4, five_prime, "#37474f", anchor))
    for ex in target_exons:
        n = ex["exon"]
        cov = coverage.get(n)
        cn = exon_cn.get(n)
        callable_ = cov.get("callable") if cov else None
        fill = "#3f6fa8" if callable_ else "#b3261e" if callable_ is False else "#9e9e9e"
        x0, x1 = x(ex["start"]), x(ex["end"])
        w = max(x1 - x0, 4.0)
        tip = Element("title", f"exon {text(n)}: {ex['start']}-{ex['end']}")
        out.append(Element("rect", tip, x=(x0 + x1 - w) / 2, y=top, width=w, height="28", fill=fill, rx="2"))
        cx = min(max((x0 + x1) / 2, 45.0), width - 45.0)
        # (text, bold, colour) of each line under the exon.
        lines = [(f"Exon {n}", True, "#1f1f1f")]
        if cov:
            lines.append((f"mean {cov['mean_depth']:.0f}×, {cov['pct_ge_20x']:.0f}% ≥20×", False, "#37474f"))
            if callable_:
                lines.append(("callable", True, "#2e7d32"))
            elif n in deleted:
                lines.append(("no reads: exon deleted", True, "#b3261e"))
            else:
                lines.append(("NOT callable", True, "#b3261e"))
        else:
            lines.append(("coverage not reported", False, "#5f6368"))
        if cn is not None:
            value = "no call" if cn.get("copy_number") is None else f"CN {cn['copy_number']}"
            lines.append((f"exon copy number: {value}", False, "#37474f"))
        for i, (line, bold, colour) in enumerate(lines):
            out.append(_label(cx, top + 48 + 15 * i, line, colour, font_weight="700" if bold else None))
    height = top + 48 + 15 * 4 + 4
    return Element(
        "svg",
        *out,
        viewBox=f"0 0 {coord(width)} {coord(height)}",
        role="img",
        aria_label="IL1RN exons",
        font_family=FONT,
    )
