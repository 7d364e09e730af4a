"""The ``sample-sites`` and ``sample-checks`` commands (registered into the CLI by ``commands.PLUGIN_MODULES``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def cmd_sample_sites(args: argparse.Namespace) -> int:
    from dira_genotyper.calling.read_filter import ReadFilter
    from dira_genotyper.samplecheck.sites import SiteCounts, count_sites

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.sites or not Path(args.sites).exists():
        log.warning("no sample-check site list (%s): identity, relatedness and contamination not checked", args.sites)
        SiteCounts.empty().write(out)
        return 0
    counts = count_sites(args.input, args.reference, args.sites, ReadFilter(args.min_mapq, args.min_baseq))
    counts.write(out)
    covered = int((counts.depth >= 10).sum())
    log.info("%s: %d sites, %d with >= 10 reads", args.input, len(counts.pos), covered)
    return 0


def cmd_sample_checks(args: argparse.Namespace) -> int:
    from dira_genotyper.inputs.sheet import read_sample_sheet
    from dira_genotyper.locus import Locus
    from dira_genotyper.samplecheck.checks import CheckSettings
    from dira_genotyper.samplecheck.run import run_sample_checks, write_checks
    from dira_genotyper.samplecheck.sites import SiteCounts

    sheet = [s.to_dict() for s in read_sample_sheet(args.sheet)]
    counts = {}
    for item in args.counts:
        name, _, path = item.partition("=")
        table = SiteCounts.read(path)
        if len(table.pos):
            counts[name] = table
    gene = Locus.load(args.resources)
    gene = gene.gene(gene.target)
    span = (gene.chrom, gene.start, gene.end)
    settings = CheckSettings(
        max_contamination=args.max_contamination,
        max_maternal_contamination=args.max_maternal,
        min_roh_sites=args.min_roh_sites,
        min_roh_length=args.min_roh_length,
    )
    write_checks(run_sample_checks(sheet, counts, span, settings), args.out)
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = subparsers.add_parser("sample-sites", help="read counts at the sample-check SNP sites of one sample")
    p.add_argument("--input", required=True, help="the sample's BAM/CRAM (indexed)")
    p.add_argument("--reference", required=True)
    p.add_argument("--sites", help="sample_sites.tsv.gz (none: an empty table, checks not run)")
    p.add_argument("--min-mapq", type=int, default=20)
    p.add_argument("--min-baseq", type=int, default=20)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sample_sites)

    p = subparsers.add_parser("sample-checks", help="identity, sex, relatedness, contamination, ROH of the run")
    p.add_argument("--sheet", required=True, help="the sample sheet")
    p.add_argument("--counts", nargs="*", default=[], metavar="SAMPLE=TSV")
    p.add_argument("--resources", required=True, help="the run's resources folder (the IL1RN locus)")
    p.add_argument("--max-contamination", type=float, default=0.03)
    p.add_argument("--max-maternal", type=float, default=0.20)
    p.add_argument("--min-roh-length", type=int, default=1_000_000)
    p.add_argument("--min-roh-sites", type=int, default=25)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sample_checks)
