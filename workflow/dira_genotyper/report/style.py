"""Colours, labels and plain-text number formats shared by the page and the plots (no markup here)."""

from __future__ import annotations


def headline_gene(report: dict) -> str:
    """The gene the report is about (build.json `transcript`, copied into every report)."""
    return report["transcript"]["gene"]


DASH = "\u2014"

#: Badge colours (background, text) and a plain-language line for each status. Colour is never the only cue:
#: the status word is always written out.
STATUS_STYLE = {
    "affected": ("#b3261e", "#ffffff", "Genotype consistent with DIRA: two IL1RN disease alleles"),
    "carrier": ("#f0a202", "#1f1f1f", "Heterozygous carrier: one IL1RN disease allele"),
    "negative": ("#2e7d32", "#ffffff", "No IL1RN disease allele found"),
    "inconclusive": ("#616161", "#ffffff", "No reliable answer from this test: see the reasons"),
}
#: The badge meaning of an inconclusive result with ``presumed_biallelic`` (two disease alleles, phase unknown).
PRESUMED_BIALLELIC_MEANING = (
    "Presumed biallelic: two IL1RN disease alleles of unknown phase. Not a confirmed diagnosis: parental testing needed"
)


def status_style(status: str, disease: str, gene: str) -> tuple[str, str, str]:
    """Badge colours and meaning of a status, worded for the disease and gene it is about."""
    bg, fg, meaning = STATUS_STYLE.get(status, STATUS_STYLE["inconclusive"])
    return bg, fg, meaning.replace("DIRA", disease).replace("IL1RN", gene)


#: Chip colours (background, text) and label for each classification.
CLASSIFICATION_STYLE = {
    "pathogenic": ("#b3261e", "#ffffff", "Pathogenic"),
    "likely_pathogenic": ("#d84315", "#ffffff", "Likely pathogenic"),
    "uncertain": ("#f0a202", "#1f1f1f", "Uncertain significance"),
    "likely_benign": ("#558b2f", "#ffffff", "Likely benign"),
    "benign": ("#2e7d32", "#ffffff", "Benign"),
    "not_assessed": ("#e0e0e0", "#1f1f1f", "Not assessed (outside the analysed range)"),
}

#: Point / segment colour by called copy number; None (no call) is grey.
CN_COLOURS = {0: "#b3261e", 1: "#e8710a", 2: "#3f6fa8", 3: "#2e7d32", 4: "#7b1fa2"}
NO_CALL_COLOUR = "#9e9e9e"

ORIGIN_LABELS = {
    "paternal": "paternal",
    "maternal": "maternal",
    "de_novo_or_unknown": "de novo or unknown",
}


def classification_style(classification: str | None) -> tuple[str, str, str | None]:
    """(background, text colour, label); an unknown classification is grey with its own name."""
    return CLASSIFICATION_STYLE.get(classification, ("#616161", "#fff", classification))


def cn_colour(cn: int | None) -> str:
    if cn is None:
        return NO_CALL_COLOUR
    return CN_COLOURS.get(min(cn, 4), CN_COLOURS[4])


def text(value: object) -> str:
    """Any value as text; None is empty."""
    return "" if value is None else str(value)


def num(value: float | int | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def pct(fraction: float | None, digits: int = 1) -> str:
    return DASH if fraction is None else f"{100 * fraction:.{digits}f}%"


def af(value: float | None) -> str:
    """Allele frequency: 3 decimals, scientific below 0.001."""
    if value is None:
        return DASH
    if value == 0:
        return "0"
    if value < 0.001:
        return f"{value:.1e}"
    return f"{value:.3f}"


def words(value: str | None) -> str:
    """An enum value as words (``stop_gained`` -> ``stop gained``)."""
    return DASH if value is None else value.replace("_", " ")
