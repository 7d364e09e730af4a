"""The targeted-data parts of `cnv-count`, `cnv-mode` and `cnv-call` (exome and gene-panel samples).

``cnv-count --targets-out T --capture-out C [--targets-bed BED]`` also counts reads per target and writes the
capture evidence and QC; ``cnv-mode --capture C`` picks ``targeted`` for a sample whose coverage is capture-like
(and never for one whose coverage is whole-genome-like, BED or not); ``cnv-call --decided-mode M`` with
``targeted`` calls the sample per target against the run's other capture samples (``--cohort-list`` lists their
target counts).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pandas as pd

from dira_genotyper.cnv.io import (
    contigs_from,
    read_counts_tsv,
    write_bins_tsv,
    write_counts_tsv,
    write_json,
    write_segments_tsv,
    write_segments_vcf,
)
from dira_genotyper.cnv.panel import load_panel
from dira_genotyper.cnv.params import CnvParams
from dira_genotyper.cnv.reference import call_targeted
from dira_genotyper.cnv.result import CnvResult
from dira_genotyper.cnv.targets import capture_evidence, count_targets, write_capture_json
from dira_genotyper.reasons import Reason

log = logging.getLogger(__name__)

TARGETS_SUFFIX = ".targets.tsv"
CAPTURE_SUFFIX = ".capture.json"


def add_count_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--targets-bed", default="", help="capture design BED (config `targets`); empty: the exons")
    p.add_argument("--targets-out", help="also write read counts per target (TSV)")
    p.add_argument("--capture-out", help="also write the capture evidence and QC (JSON)")
    p.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="count duplicate-flagged reads on targets (calling.remove_duplicates: false, amplicon panels)",
    )


def count_capture(args: argparse.Namespace, bins: pd.DataFrame) -> dict:
    """Count the design's targets, judge capture against the bins, write both files; return the JSON."""
    bed = args.targets_bed or None
    targets, qc = count_targets(args.bam, args.reference, args.resources, bed, args.min_mapq, args.keep_duplicates)
    write_counts_tsv(targets, args.targets_out)
    evidence = capture_evidence(bins, targets, "bed" if bed else "inferred")
    out = args.capture_out or str(args.targets_out).removesuffix(TARGETS_SUFFIX) + CAPTURE_SUFFIX
    write_capture_json(evidence, qc, out)
    log.info(
        "%d targets (%s design): on/off-target depth ratio %s, capture-like: %s; on-target fraction %s",
        len(targets),
        evidence.design,
        evidence.ratio,
        evidence.capture,
        qc["on_target_fraction"],
    )
    return {"evidence": evidence.to_json(), "qc": qc}


def _read_capture(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def decide_mode(mode: str, capture_json: str | Path) -> str:
    """`targeted` for capture-like coverage in auto mode; the configured mode otherwise.

    auto: coverage decides, with or without a BED (a whole-genome sample is never analysed per target, capture
    data never in genome bins); single/cohort/targeted: as configured (call_copy_number and call_targeted
    state it in the reasons when the coverage disagrees).
    """
    if mode != "auto":
        return mode
    return "targeted" if _read_capture(capture_json)["evidence"]["capture"] else "single"


def capture_notes(capture: dict, mode: str) -> list[Reason]:
    """What the report says about the data kind: capture inferred without a BED, or a BED with WGS coverage."""
    ev = capture["evidence"]
    ratio = ev.get("ratio") or 0.0
    if mode == "targeted" and ev["design"] == "inferred":
        return [Reason("cnv_capture_inferred", ratio=ratio)]
    if mode != "targeted" and ev["design"] == "bed" and not ev["capture"]:
        return [Reason("cnv_targets_whole_genome", ratio=ratio)]
    return []


def _pool(paths: list[str], own: str) -> tuple[list[pd.DataFrame], list[str]]:
    """The other samples' target counts whose own coverage is capture-like (a WGS sample of the same run is
    no reference for capture data)."""
    frames, names = [], []
    for path in paths:
        if Path(path).resolve() == Path(own).resolve():
            continue
        sibling = Path(str(path).removesuffix(TARGETS_SUFFIX) + CAPTURE_SUFFIX)
        if sibling.exists() and not _read_capture(sibling)["evidence"]["capture"]:
            log.info("reference: %s left out (whole-genome-like coverage)", path)
            continue
        frames.append(read_counts_tsv(path))
        names.append(Path(path).name.removesuffix(TARGETS_SUFFIX))
    return frames, names


def run_targeted_call(args: argparse.Namespace, cohort_paths: list[str], params: CnvParams) -> CnvResult:
    """`cnv-call` in targeted mode: call, attach capture QC and reference, write the usual four outputs."""
    counts = read_counts_tsv(args.targets_counts)
    frames, names = _pool(cohort_paths, args.targets_counts)
    if getattr(args, "panel", ""):
        more, more_names = load_panel(args.panel, counts, args.resources)
        frames, names = frames + more, names + more_names
    capture = _read_capture(args.capture) if args.capture else None
    notes = capture_notes(capture, "targeted") if capture else []
    result = call_targeted(counts, frames, args.resources, params, args.sample, names, notes)
    if capture:
        result.extra["capture"] = {
            **capture["evidence"],
            **{k: v for k, v in capture["qc"].items() if k != "per_target_depth"},
        }
    prefix = str(args.out_prefix)
    write_bins_tsv(result, prefix + ".bins.tsv")
    write_segments_tsv(result, prefix + ".segments.tsv", args.resources)
    write_segments_vcf(result, prefix + ".vcf.gz", args.sample, contigs_from(args.bam, args.reference), args.reference)
    write_json(result, prefix + ".cnv.json")
    return result
