"""Inputs of the report page: the depth-bin table written by the copy-number step."""

from __future__ import annotations

import csv
from pathlib import Path

_MISSING = ("", ".", "NA", "nan", "None")


def _int_or_none(text: str | None) -> int | None:
    if text is None or text.strip() in _MISSING:
        return None
    return int(float(text))


def _float_or_none(text: str | None) -> float | None:
    if text is None or text.strip() in _MISSING:
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
