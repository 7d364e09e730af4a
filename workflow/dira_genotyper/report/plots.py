"""The two drawings of the page, as SVG element trees: the IL-1 cluster copy-number plot and the IL1RN exon model."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Frame:
    """The plot area of the cluster plot: genomic span ``lo``-``hi`` across, copy number ``y_min``-``y_max`` up."""

    lo: float
    hi: float
    width: float = WIDTH
    left: float = 60.0
    right: float = 16.0
    top: float = 14.0
    plot_h: float = 250.0
    y_min: float = -0.3  # a little room below 0 so that CN 0 bins stay visible above the axis
    y_max: float = 4.5

    @property
    def pw(self) -> float:
        return self.width - self.left - self.right

    @property
    def axis_y(self) -> float:
        return self.top + self.plot_h

    def x(self, pos: float) -> float:
        return self.left + (pos - self.lo) / (self.hi - self.lo) * self.pw

    def y(self, cn: float) -> float:
        clipped = min(max(cn, self.y_min), self.y_max)
        return self.top + self.plot_h - (clipped - self.y_min) / (self.y_max - self.y_min) * self.plot_h


def cluster_plot_svg(report: dict, bins: list[dict], genes: list[dict], exons: list[dict]) -> Element | None:
    """Copy-number plot of the IL-1 cluster: depth ratio x2 per bin, CN segments, genes, the target gene's exons.

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
    f = _Frame(lo - pad, hi + pad)
    out = _backdrop(f, report, loc_genes, target, chrom)  # behind the data
    out += _y_axis(f)
    out += _depth_data(f, loc_bins)
    out += _x_axis(f, chrom, report.get("build", ""))
    track, height = _gene_track(f, loc_genes, target_exons, target)
    return Element(
        "svg",
        *out,
        *track,
        viewBox=f"0 0 {coord(f.width)} {coord(height)}",
        role="img",
        aria_label="Copy number across the IL-1 cluster",
        font_family=FONT,
    )


def _backdrop(f: _Frame, report: dict, genes: list[dict], target: str, chrom: str | None) -> list[Element]:
    """The target gene's band and the called deletions' shading."""
    out = []
    for g in genes:
        if g["gene"] == target:
            x0, x1 = f.x(g["start"]), f.x(g["end"])
            w = max(x1 - x0, 4.0)
            band = Element("title", target)
            out.append(
                Element(
                    "rect", band, x=(x0 + x1 - w) / 2, y=f.top, width=w, height=f.plot_h, fill="#f6e7a8", opacity="0.8"
                )
            )
    for d in report.get("deletions", []):
        if chrom is not None and d.get("chrom") != chrom:
            continue
        x0, x1 = f.x(max(d["start"], f.lo)), f.x(min(d["end"], f.hi))
        tip = Element("title", f"deletion {text(d['chrom'])}:{d['start']}-{d['end']} CN {d['copy_number']}")
        out.append(
            Element(
                "rect", tip, x=x0, y=f.top, width=max(x1 - x0, 2.0), height=f.plot_h, fill="#b3261e", opacity="0.10"
            )
        )
        out.append(
            _label(x0 + 4, f.top + 14, f"deletion, CN {text(d['copy_number'])}", "#b3261e", None, font_weight="700")
        )
    return out


def _y_axis(f: _Frame) -> list[Element]:
    """Grid lines at each copy number, the y axis labels and title, the plot frame."""
    out = []
    for cn in range(5):
        yy = f.y(cn)
        stroke = "#9aa3ad" if cn == 2 else "#e1e5ea"
        out.append(Element("line", x1=f.left, x2=f.width - f.right, y1=yy, y2=yy, stroke=stroke, stroke_width="1"))
        out.append(_label(f.left - 8, yy + 4, str(cn), "#5f6368", "end"))
    out.append(
        Element(
            "text",
            "copy number (2 \u00d7 depth ratio)",
            transform=f"translate(16 {coord(f.top + f.plot_h / 2)}) rotate(-90)",
            font_size="12",
            text_anchor="middle",
            fill="#5f6368",
        )
    )
    out.append(Element("rect", x=f.left, y=f.top, width=f.pw, height=f.plot_h, fill="none", stroke="#9aa3ad"))
    return out


def _depth_data(f: _Frame, bins: list[dict]) -> list[Element]:
    """One point per bin (2 x depth ratio, coloured by its call), the called segments, or a note without bins."""
    out = []
    for b in bins:
        value = 2.0 * float(b["ratio"])
        cx, cy = f.x((b["start"] + b["end"]) / 2), f.y(value)
        colour = cn_colour(b.get("copy_number"))
        if value > f.y_max:  # off scale: a triangle at the top edge
            path = f"M{coord(cx - 3)} {coord(cy + 5)}L{coord(cx + 3)} {coord(cy + 5)}L{coord(cx)} {coord(cy)}Z"
            out.append(Element("path", d=path, fill=colour))
        elif b.get("copy_number") is None:
            out.append(Element("circle", cx=cx, cy=cy, r="2.2", fill="none", stroke=colour))
        else:
            out.append(Element("circle", cx=cx, cy=cy, r="2.2", fill=colour, fill_opacity="0.75"))
    for s, e, cn in _segments(bins):
        tip = Element("title", f"CN {cn}: {s}-{e}")
        line = {"x1": f.x(s), "x2": f.x(e), "y1": f.y(cn), "y2": f.y(cn), "stroke": cn_colour(cn)}
        out.append(Element("line", tip, **line, stroke_width="3.5", stroke_linecap="round"))
    if not bins:
        note = "No depth bins: copy number not assessed"
        middle = {"x": f.left + f.pw / 2, "y": f.top + f.plot_h / 2}
        out.append(Element("text", note, **middle, font_size="15", text_anchor="middle", fill="#5f6368"))
    return out


def _x_axis(f: _Frame, chrom: str | None, build: str) -> list[Element]:
    """Ticks in Mb at a round step, and the axis title with the build."""
    out = []
    step = _nice_step((f.hi - f.lo) / 1e6)
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    tick = math.ceil(f.lo / 1e6 / step) * step
    while tick * 1e6 <= f.hi:
        tx = f.x(tick * 1e6)
        out.append(Element("line", x1=tx, x2=tx, y1=f.axis_y, y2=f.axis_y + 5, stroke="#5f6368"))
        out.append(_label(tx, f.axis_y + 18, f"{tick:.{decimals}f}", "#5f6368"))
        tick = round(tick + step, 9)
    axis_title = f"{chrom or ''} position (Mb, {text(build)})"
    out.append(_label(f.width - f.right, f.axis_y + 34, axis_title, "#5f6368", "end"))
    return out


def _gene_track(f: _Frame, genes: list[dict], exons: list[dict], target: str) -> tuple[list[Element], float]:
    """Genes as boxes with labels in as many lanes as they need, the target's exons on top; and the svg height."""
    track_y = f.axis_y + 50
    out = [Element("line", x1=f.left, x2=f.width - f.right, y1=track_y + 6, y2=track_y + 6, stroke="#c4cad1")]
    labels = []
    for g in genes:
        arrow = "\u2192" if g.get("strand") == "+" else "\u2190" if g.get("strand") == "-" else ""
        name = f"{g['gene']} {arrow}".strip()
        cx = (f.x(g["start"]) + f.x(g["end"])) / 2
        half = _text_width(name) / 2
        labels.append((name, cx, (cx - half, cx + half)))
    lanes = _label_lanes([span for _, _, span in labels])
    for g, (name, cx, _), lane in zip(genes, labels, lanes, strict=True):
        is_target = g["gene"] == target
        x0, x1 = f.x(g["start"]), f.x(g["end"])
        w = max(x1 - x0, 3.0)
        fill = "#c2185b" if is_target else "#78909c"
        tip = Element("title", f"{g['gene']} {g['start']}-{g['end']}")
        out.append(Element("rect", tip, x=(x0 + x1 - w) / 2, y=track_y, width=w, height="12", fill=fill, rx="2"))
        ly = track_y + 28 + 15 * lane
        if lane:
            out.append(Element("line", x1=cx, x2=cx, y1=track_y + 13, y2=ly - 11, stroke="#c4cad1"))
        colour = "#c2185b" if is_target else "#37474f"
        out.append(_label(cx, ly, name, colour, font_weight="800" if is_target else None))
    for ex in exons:
        x0, x1 = f.x(ex["start"]), f.x(ex["end"])
        w = max(x1 - x0, 1.5)
        tip = Element("title", f"{target} exon {text(ex['exon'])}")
        out.append(Element("rect", tip, x=(x0 + x1 - w) / 2, y=track_y - 4, width=w, height="20", fill="#4a0e2a"))
    n_lanes = (max(lanes) + 1) if lanes else 1
    return out, track_y + 28 + 15 * (n_lanes - 1) + 10


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
