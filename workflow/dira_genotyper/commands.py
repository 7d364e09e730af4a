"""Sub-commands that the Snakemake rules call (registered into the CLI). Each is a thin wrapper."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from dira_genotyper.interpretation.request import DEFAULT_MIN_ALT_READS

log = logging.getLogger("dira_genotyper")

#: Modules that add their own sub-commands through `register_cli(subparsers)`, with the commands each adds. A run of
#: one command imports only the module of that command: importing them all (pandas, the simulator) cost every
#: Snakemake job about a second of CPU.
PLUGIN_MODULES = {
    "dira_devtools.simulate": ("test-cohort",),
    "dira_genotyper.annotation.annotate": ("annotate",),
    "dira_genotyper.cnv": ("cnv-mode", "cnv-count", "cnv-call", "build-panel"),
    "dira_genotyper.samplecheck.cli": ("sample-sites", "sample-checks"),
}
#: The commands of this module (see :func:`register`).
CORE_COMMANDS = (
    "validate-input",
    "prepare-resources",
    "align",
    "recruit-index",
    "extract",
    "callable",
    "call",
    "genotype",
    "cohort",
)


def _sample(args: argparse.Namespace):
    from dira_genotyper.inputs.sheet import Sample

    data = json.loads(args.sample_json)
    return Sample(
        data["sample"],
        data["kind"],
        data.get("fq1", ""),
        data.get("fq2", ""),
        data.get("bam", ""),
        data.get("family") or "",
        data.get("father") or "",
        data.get("mother") or "",
        data.get("sex", "unknown"),
        data.get("bam_sm") or "",
    )


def cmd_validate_input(args: argparse.Namespace) -> int:
    from dira_genotyper.inputs import fastq_checks
    from dira_genotyper.inputs import sheet as inputs

    sample = _sample(args)
    if sample.kind == "fastq" and args.alignment_mode == "recruit":
        info = fastq_checks.check_fastq_head(sample)  # the recruiter checks every record when it aligns
        log.info("sample %s: first %d pairs OK; %s", sample.name, info["checked_records"], info["full_check"])
    elif sample.kind == "fastq":
        info = fastq_checks.validate_fastq_pair(sample)  # `full` mode: BWA alone would not stop on unequal counts
    else:
        _build, naming = inputs.resolve_reference(args.reference, args.build, args.resources_dir)
        info = inputs.check_alignment_header(sample, args.reference, args.build, args.resources_dir, naming)
        info.pop("index", None)
    info["sex"] = sample.sex
    from dira_genotyper.run.provenance import input_digests

    info["digests"] = input_digests(sample.to_dict(), args.reference)  # the report's provenance
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    log.info("sample %s: input OK (%s)", sample.name, sample.kind)
    return 0


def translate_naming(text: str, mapping: dict[str, str], tsv_header: bool) -> str:
    """Rewrite the contig column (BED/GFF first column, TSV `chrom` column) into the reference's names."""
    lines = text.splitlines()
    column = lines[0].split("\t").index("chrom") if tsv_header else 0
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#") or not line.strip() or (tsv_header and i == 0):
            out.append(line)
            continue
        fields = line.split("\t")
        fields[column] = mapping.get(fields[column], fields[column])
        out.append("\t".join(fields))
    return "\n".join(out) + "\n"


def cmd_prepare_resources(args: argparse.Namespace) -> int:
    from dira_genotyper.inputs import sheet as inputs

    meta = json.loads((Path(args.resources) / "build.json").read_text())
    build, naming = inputs.resolve_reference(args.reference, meta["build"], str(Path(args.resources).parent))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gff3 = ["il1rn.gff3", *(d["gff3"] for d in meta.get("differential", []))]
    for name in ("window.bed", "controls.bed", "targets.bed", "cds.bed", "mask.bed", *gff3):
        if name == "mask.bed" and not (Path(args.resources) / name).exists():
            continue  # optional
        text = (Path(args.resources) / name).read_text()
        (out / name).write_text(translate_naming(text, naming.mapping, tsv_header=False))
    for name in ("genes.tsv", "exons.tsv"):
        text = (Path(args.resources) / name).read_text()
        (out / name).write_text(translate_naming(text, naming.mapping, tsv_header=True))
    meta["naming"] = naming.mapping
    meta["locus_contig_in_reference"] = naming.to_ref(meta["locus_contig"])
    meta["resources_source"] = str(args.resources)
    (out / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    log.info("resources for %s written to %s with contig names %s", build, out, naming.mapping)
    return 0


def cmd_align(args: argparse.Namespace) -> int:
    import signal

    from dira_genotyper.alignment.locus_bam import align_fastq

    # SIGTERM (Snakemake or Slurm cancelling the job) unwinds like an error, so temporary files are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    summary = align_fastq(args.fq1, args.fq2, args.index, args.sample, args.out, args.threads,
                          not args.no_markdup, args.recruit_index, args.recruit_stride)  # fmt: skip
    log.info("alignment: %s", summary)
    return 0


def cmd_recruit_index(args: argparse.Namespace) -> int:
    from dira_genotyper.alignment.locus_bam import merged_regions
    from dira_genotyper.alignment.recruit import write_recruit_index

    info = write_recruit_index(args.reference, merged_regions(args.regions), args.max_count, args.out, args.sites)
    log.info("recruitment index of %s: %d k-mers in the regions, %d unique, %d shared (at most %d times in the "
             "reference), the rest frequent", args.reference, info.region_kmers, info.unique_kmers,
             info.shared_kmers, info.max_count)  # fmt: skip
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from dira_genotyper.alignment.locus_bam import extract_locus

    meta = json.loads((Path(args.resources) / "build.json").read_text())
    counts = extract_locus(
        args.input, args.reference, args.regions, args.out, args.index_fallback, meta["locus_contig_in_reference"]
    )
    log.info(
        "extracted %s reads (%s on the locus contig); renamed contigs: %s",
        counts["reads"],
        counts["locus_contig_reads"],
        counts["renamed_contigs"] or "none",
    )
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from dira_genotyper.calling.callable_regions import read_uncallable
    from dira_genotyper.calling.caller import CallingParams, call_variants

    params = CallingParams(**json.loads(args.params_json or "{}"))
    summary = call_variants(
        args.bam,
        args.reference,
        args.targets,
        args.out,
        params,
        read_uncallable(args.callable) if args.callable else [],
    )
    log.info("%s records, %s PASS", summary["records"], summary["pass"])
    return 0


def cmd_genotype(args: argparse.Namespace) -> int:
    from dira_genotyper.interpretation.genotype import run_genotype
    from dira_genotyper.interpretation.request import GenotypeRequest

    run_genotype(GenotypeRequest.from_args(args))
    return 0


def cmd_cohort(args: argparse.Namespace) -> int:
    from dira_genotyper.run.cohort import cohort_rows, differential_headers, write_cohort_tsv, write_multiqc

    reports = [json.loads(Path(p).read_text()) for p in args.reports]
    failed = {}
    for spec in args.failed or []:
        name, _, reason = spec.partition("=")
        failed[name] = reason
    rows = cohort_rows(reports, failed)
    write_cohort_tsv(args.out_tsv, rows)
    write_multiqc(args.out_mqc, rows, differential_headers(reports))
    log.info("cohort table: %d samples", len(rows))
    return 0


def register(sub, command: str | None = None) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """Add the sub-commands to ``sub``. With ``command`` (the one about to run), the `callable` command and the plugin
    modules are added only if it is theirs, so that a job does not import what it does not run; without it (help,
    or a name that is no command), every command is added."""
    if command not in CORE_COMMANDS and all(command not in names for names in PLUGIN_MODULES.values()):
        command = None
    p = sub.add_parser("validate-input", help="check one sample's input files (run by the workflow)")
    p.add_argument("--sample-json", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--resources-dir", default="resources")
    p.add_argument(
        "--alignment-mode",
        choices=("recruit", "full"),
        default="full",
        help="recruit: check only the first FASTQ records here (the recruitment pass checks the rest)",
    )
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_validate_input)

    p = sub.add_parser("prepare-resources", help="copy a build's resources in the reference's contig naming")
    p.add_argument("--resources", required=True, help="resources/<build>")
    p.add_argument("--reference", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_prepare_resources)

    p = sub.add_parser("align", help="BWA-MEM paired FASTQ -> sorted, duplicate-marked, indexed BAM")
    p.add_argument("--fq1", required=True)
    p.add_argument("--fq2", required=True)
    p.add_argument("--index", required=True, help="BWA index prefix")
    p.add_argument("--sample", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-markdup", action="store_true")
    p.add_argument("--recruit-index", help="k-mer index from `recruit-index`: align only the recruited pairs")
    p.add_argument("--recruit-stride", type=int, default=4, help="look up every n-th k-mer of a read")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_align)

    p = sub.add_parser("recruit-index", help="k-mers of the window + control regions that are rare in the reference")
    p.add_argument("--reference", required=True)
    p.add_argument("--regions", nargs="+", required=True, help="BED files")
    p.add_argument("--max-count", type=int, default=8, help="leave out k-mers seen more often in the reference")
    p.add_argument("--sites", help="sample-check site table: the reads over its sites are recruited too")
    p.add_argument("--out", required=True, help=".npy file (a .json description is written beside it)")
    p.set_defaults(func=cmd_recruit_index)

    p = sub.add_parser("extract", help="copy the IL-1 cluster window + control regions to a small BAM")
    p.add_argument("--input", required=True, help="BAM or CRAM")
    p.add_argument("--reference", required=True)
    p.add_argument("--regions", nargs="+", required=True, help="BED files")
    p.add_argument("--index-fallback", required=True, help="where to write an index if the input has none")
    p.add_argument("--resources", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_extract)

    if command in (None, "callable"):
        from dira_genotyper.calling.callable_regions import add_callable_arguments, run_callable

        p = sub.add_parser("callable", help="callable regions and per-exon coverage, with the caller's read filter")
        add_callable_arguments(p)
        p.set_defaults(func=run_callable)

    p = sub.add_parser("call", help="SNV/indel calls over the targets (bcftools mpileup/call/norm + filters)")
    p.add_argument("--bam", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--targets", required=True)
    p.add_argument("--callable", help="callable JSON: calls in uncallable positions get FILTER Uncallable")
    p.add_argument("--params-json", default="{}")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("genotype", help="combine calls and copy number into the DIRA genotype report")
    p.add_argument("--sample-json", required=True)
    p.add_argument("--checked", required=True)
    p.add_argument("--variants", required=True)
    p.add_argument("--cnv", required=True)
    p.add_argument("--bins", required=True)
    p.add_argument("--callable", required=True)
    p.add_argument("--bam", required=True)
    p.add_argument("--resources", required=True)
    p.add_argument("--parents", nargs="*", default=[])
    p.add_argument("--reference", help="the FASTA the BAM was aligned to (read-backed phase of indels)")
    p.add_argument("--known", help="known-allele table (published deletions are matched by the genes they remove)")
    p.add_argument(
        "--min-alt-reads",
        type=int,
        default=DEFAULT_MIN_ALT_READS,
        help="calling.min_alt_reads (depth needed on one copy)",
    )
    p.add_argument("--run-config", help="the run's effective configuration (JSON), recorded in the report")
    p.add_argument(
        "--sample-checks", help="the run's sample checks (results/checks/{group}.checks.json: the sample's family)"
    )
    p.add_argument(
        "--failed-parent",
        dest="failed_parents",
        action="append",
        metavar="ROLE=WHY",
        help="a parent (father/mother) whose analysis failed: the report says that phase is missing",
    )
    p.add_argument("--out-json", required=True)
    p.add_argument("--out-html", required=True)
    p.add_argument("--out-meta", required=True)
    p.set_defaults(func=cmd_genotype)

    p = sub.add_parser("cohort", help="cohort table and MultiQC custom content from the per-sample reports")
    p.add_argument("--reports", nargs="*", default=[])
    p.add_argument("--failed", nargs="*", help="SAMPLE=reason for samples whose jobs failed")
    p.add_argument("--out-tsv", required=True)
    p.add_argument("--out-mqc", required=True)
    p.set_defaults(func=cmd_cohort)

    for name, names in PLUGIN_MODULES.items():
        if command is not None and command not in names:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register_cli(sub)
