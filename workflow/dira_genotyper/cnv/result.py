"""The caller's result records: segments, deletions, exon/gene call specs and the whole result."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dira_genotyper.cnv.params import _round
from dira_genotyper.reasons import Reason


@dataclass
class Segment:
    chrom: str
    start: int  # 1-based inclusive
    end: int
    n_bins: int
    copy_number: int
    quality: float
    ratio: float

    def to_json(self) -> dict:
        return {
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "n_bins": self.n_bins,
            "copy_number": self.copy_number,
            "quality": round(self.quality, 1),
            "ratio": _round(self.ratio, 4),
        }


@dataclass
class Deletion:
    chrom: str
    start: int  # first deleted base, 1-based
    end: int  # last deleted base, 1-based
    copy_number: int
    quality: float
    genes: list[str] = field(default_factory=list)
    il1rn_exons: list[int] = field(default_factory=list)
    split_reads: int = 0
    discordant_pairs: int = 0
    precise: bool = False
    source: str = "depth"

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def to_json(self) -> dict:
        return {
            "chrom": self.chrom,
            "start": self.start,
            "end": self.end,
            "size": self.size,
            "copy_number": self.copy_number,
            "quality": round(self.quality, 1),
            "genes": list(self.genes),
            "il1rn_exons": list(self.il1rn_exons),
            "breakpoint_support": {
                "split_reads": self.split_reads,
                "discordant_pairs": self.discordant_pairs,
                "precise": self.precise,
            },
        }


@dataclass
class _CallSpec:
    """An exon or gene call as the HMM makes it, and (two copies) the bins of its deletion test.

    `first`/`last` are rows of the contig's HMM (not of `bins`); `contain` the rows the deletion must cover.
    """

    kind: str  # "exon" or "gene"
    key: int | str  # index into CnvResult.exons, or the gene name
    gene: str
    chrom: str
    best: int
    hmm_quality: float
    first: int = -1
    last: int = -1
    contain: tuple[int, int] | None = None
    junction_reads: int | None = None
    junction_loglik: tuple[float, float] = (0.0, 0.0)


@dataclass
class CnvResult:
    mode: str
    status: str
    reasons: list[Reason]
    mad: float | None
    control_median_depth: float | None
    genes: dict[str, dict]
    exons: list[dict]
    deletions: list[Deletion]
    segments: list[Segment]
    bins: pd.DataFrame
    sample: str | None
    target_gene: str  # the headline gene (build.json `transcript`), from CnvResources
    n_cohort: int = 0
    expected_depth: np.ndarray | None = field(default=None, repr=False)
    kappa: float = 1.0
    read_length: float = 150.0
    # Per contig, the HMM's log emissions and the rows of `bins` they belong to; the exon and gene calls
    # before their two-copy test (see `_finalise_calls`).
    log_emissions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    call_specs: list[_CallSpec] = field(default_factory=list, repr=False)
    # Additive JSON sections (targeted data: "capture" evidence and QC, "reference" samples and correlation).
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        out = {
            "mode": self.mode,
            "status": self.status,
            "reasons": list(self.reasons),
            "mad": _round(self.mad, 4),
            "control_median_depth": _round(self.control_median_depth, 2),
            "genes": {g: dict(v) for g, v in self.genes.items()},
            "exons": [dict(e) for e in self.exons],
            "deletions": [d.to_json() for d in self.deletions],
        }
        out.update({k: v for k, v in self.extra.items() if v is not None})
        if self.sample is not None:
            out = {"sample": self.sample, **out}
        return out
