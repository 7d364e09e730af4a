"""The per-sample DIRA report (``{sample}.dira.json``) as one self-contained HTML page.

The page is for a clinician: the answer comes first, then the evidence behind it. It is a single file with
inline CSS and inline SVG, no JavaScript and no external requests, so it can be archived with the case, sent
by mail or printed. Output is deterministic (no timestamps) so that re-running the workflow on the same data
gives a byte-identical page.

Modules: ``html`` (what each section says, and rendering of ``templates/report.html.j2`` with autoescape),
``plots`` (the cluster copy-number plot and the IL1RN exon model), ``svg`` (SVG elements that escape their
attributes and text), ``style`` (colours, labels, number formats), ``io`` (the depth-bin table).
"""

from __future__ import annotations

from dira_genotyper.report.html import page_context, render_html, write_html
from dira_genotyper.report.io import read_bins_tsv
from dira_genotyper.report.plots import cluster_plot_svg, il1rn_exon_svg

__all__ = ["cluster_plot_svg", "il1rn_exon_svg", "page_context", "read_bins_tsv", "render_html", "write_html"]
