"""`dira-genotyper cnv-count`, `cnv-mode` and `cnv-call`."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from dira_genotyper.cnv.bins import count_bins
from dira_genotyper.cnv.io import (
    contigs_from,
    read_counts_tsv,
    write_bins_tsv,
    write_counts_tsv,
    write_json,
    write_segments_tsv,
    write_segments_vcf,
)
from dira_genotyper.cnv.normalise import looks_targeted
from dira_genotyper.cnv.panel import register_cli as register_panel_cli
from dira_genotyper.cnv.params import CnvParams
from dira_genotyper.cnv.reads import add_read_evidence
from dira_genotyper.cnv.resources import load_resources
from dira_genotyper.cnv.result import CnvResult
from dira_genotyper.cnv.segments import call_copy_number
from dira_genotyper.cnv.targeted_cli import (
    add_count_options,
    capture_notes,
    count_capture,
    decide_mode,
    run_targeted_call,
)

log = logging.getLogger(__name__)


def _cmd_count(args: argparse.Namespace) -> int:
    counts = count_bins(args.bam, args.reference, args.resources, bin_size=args.bin_size, min_mapq=args.min_mapq)
    write_counts_tsv(counts, args.out)
    log.info("wrote %d bins to %s", len(counts), args.out)
    if args.targets_out:
        count_capture(args, counts)
    return 0


def run_cnv_call(
    counts_path: str,
    resources: str,
    out_prefix: str,
    cohort_paths: list[str] | None = None,
    bam: str | None = None,
    reference: str | None = None,
    mode: str = "auto",
    sample: str | None = None,
    params: CnvParams | None = None,
    capture: dict | None = None,
) -> CnvResult:
    """Call, refine breakpoints (given a BAM), write {prefix}.bins.tsv, .segments.tsv, .vcf.gz, .cnv.json.

    `capture`: the sample's capture JSON (cnv-count --capture-out), whose verdict replaces the bins' own guess
    of capture data and whose notes (a BED with whole-genome coverage) go to the reasons."""
    params = params or CnvParams()
    counts = read_counts_tsv(counts_path)
    cohort = [read_counts_tsv(p) for p in (cohort_paths or []) if Path(p).resolve() != Path(counts_path).resolve()]
    targeted = capture["evidence"]["capture"] if capture else None
    result = call_copy_number(counts, resources, mode, cohort, params, sample, targeted)
    if capture:
        result.reasons = capture_notes(capture, result.mode) + result.reasons
    bin_size = int(np.median((counts["end"] - counts["start"] + 1)[counts["kind"] != "exon"]))
    if bam:
        add_read_evidence(result, bam, resources, reference, bin_size, params)
    prefix = str(out_prefix)
    write_bins_tsv(result, prefix + ".bins.tsv")
    write_segments_tsv(result, prefix + ".segments.tsv", resources)
    write_segments_vcf(result, prefix + ".vcf.gz", sample, contigs_from(bam, reference), reference)
    write_json(result, prefix + ".cnv.json")
    return result


def _read_list(path: str | None) -> list[str]:
    """Paths listed one per line (the workflow's cohort list: one file instead of N inputs per job)."""
    if not path:
        return []
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def _cmd_call(args: argparse.Namespace) -> int:
    params = CnvParams(min_mapq=args.min_mapq)
    decided = Path(args.decided_mode).read_text().strip() if args.decided_mode else args.mode
    if decided == "targeted":
        result = run_targeted_call(args, _read_list(args.cohort_list), params)
        log.info("CNV %s (targeted mode): %d deletion(s)", result.status, len(result.deletions))
        return 0
    result = run_cnv_call(
        args.counts,
        args.resources,
        args.out_prefix,
        list(args.cohort_counts) + _read_list(args.cohort_list),
        args.bam,
        args.reference,
        args.mode,
        args.sample,
        params,
        json.loads(Path(args.capture).read_text()) if args.capture else None,
    )
    log.info("CNV %s (%s mode): %d deletion(s)", result.status, result.mode, len(result.deletions))
    return 0


def needs_cohort(counts_path: str, resources_dir: str, mode: str) -> bool:
    """Whether this sample's copy number needs the cohort reference (cohort mode, or auto on targeted data).

    The workflow asks this per sample, so WGS-like samples never wait for (or fail with) the rest of the run.
    """
    if mode == "single":
        return False
    if mode == "cohort":
        return True
    return looks_targeted(read_counts_tsv(counts_path), load_resources(resources_dir))


def _cmd_mode(args: argparse.Namespace) -> int:
    if args.capture:
        choice = decide_mode(args.mode, args.capture)
    else:
        choice = "cohort" if needs_cohort(args.counts, args.resources, args.mode) else "single"
    Path(args.out).write_text(choice + "\n")
    log.info("copy-number reference for this sample: %s (configured mode %s)", choice, args.mode)
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """Add `cnv-mode`, `cnv-count`, `cnv-call` and `build-panel` to the dira-genotyper CLI."""
    register_panel_cli(subparsers)
    p = subparsers.add_parser("cnv-mode", help="decide whether a sample needs the cohort reference (auto mode)")
    p.add_argument("--counts", required=True)
    p.add_argument("--resources", required=True)
    p.add_argument("--mode", choices=["auto", "single", "cohort", "targeted"], default="auto")
    p.add_argument("--capture", help="the sample's capture JSON (cnv-count --capture-out): targeted or not")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_mode)

    p = subparsers.add_parser("cnv-count", help="count read depth in bins over the IL-1 cluster window")
    p.add_argument("--bam", required=True, help="indexed locus BAM/CRAM")
    p.add_argument("--reference", required=True, help="reference FASTA (GC content; CRAM decoding)")
    p.add_argument("--resources", required=True, help="resources/<build> folder")
    p.add_argument("--out", required=True, help="output counts TSV")
    p.add_argument("--bin-size", type=int, default=1000, help="window bin size in bp (default: %(default)s)")
    p.add_argument("--min-mapq", type=int, default=20, help="minimum mapping quality (default: %(default)s)")
    add_count_options(p)
    p.set_defaults(func=_cmd_count)

    p = subparsers.add_parser("cnv-call", help="call copy number, deletions and breakpoints from bin counts")
    p.add_argument("--counts", required=True, help="this sample's counts TSV (cnv-count)")
    p.add_argument("--cohort-counts", nargs="*", default=[], help="other samples' counts TSVs (cohort mode)")
    p.add_argument("--cohort-list", help="a file listing the cohort's counts TSVs, one per line (own sample skipped)")
    p.add_argument("--bam", default=None, help="locus BAM/CRAM for breakpoint refinement (optional)")
    p.add_argument("--reference", default=None, help="reference FASTA (VCF REF bases, CRAM decoding)")
    p.add_argument("--resources", required=True, help="resources/<build> folder")
    p.add_argument(
        "--mode",
        choices=["auto", "single", "cohort", "targeted"],
        default="auto",
        help="normalisation: single (WGS), cohort (bins against other samples), targeted (per target against the "
        "run's other samples) or auto (default: %(default)s)",
    )
    p.add_argument("--decided-mode", help="the cnv-mode output: `targeted` calls per target (--targets-counts)")
    p.add_argument("--targets-counts", help="this sample's target counts TSV (cnv-count --targets-out)")
    p.add_argument("--capture", help="this sample's capture JSON (cnv-count --capture-out)")
    p.add_argument("--panel", default="", help="stored panel of normals (build-panel): more reference samples")
    p.add_argument("--sample", default=None, help="sample name for the VCF and JSON")
    p.add_argument("--min-mapq", type=int, default=20, help="minimum MAPQ of breakpoint reads (default: %(default)s)")
    p.add_argument(
        "--out-prefix",
        required=True,
        help="writes {prefix}.bins.tsv, .segments.tsv, .vcf.gz(+.tbi), .cnv.json",
    )
    p.set_defaults(func=_cmd_call)
