import json
import os
import sys

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dira_genotyper import __version__ as DIRA_VERSION
from dira_genotyper import inputs
from dira_genotyper.errors import InputError

validate(config, schema="../schemas/config.schema.yaml")

# Rules call the `dira-genotyper` command of the Python environment that runs Snakemake.
os.environ["PATH"] = (
    os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
)


def _fail(message):
    raise WorkflowError(
        f"dira-genotyper input check failed:\n  {message}\n(no job was started)"
    )


def _check_inputs():
    """Parse-time checks: everything cheap, so a bad sheet or file stops the run before any work."""
    hint = ""
    if config["samples"] == "config/samples.tsv" and not os.path.exists("test-data"):
        hint = " The default sheet lists the bundled test cohort: run `dira-genotyper test-cohort` first."
    try:
        samples = inputs.read_sample_sheet(config["samples"])
        sheet = pd.read_csv(
            config["samples"], sep="\t", dtype=str, comment="#", keep_default_na=False
        )
        validate(sheet, schema="../schemas/samples.schema.yaml")
        if not os.path.exists(config["reference"]):
            raise InputError(
                f"reference FASTA {config['reference']} does not exist; set `reference:` in the config.{hint}"
            )
        build, naming = inputs.resolve_reference(
            config["reference"], config["build"], config["resources_dir"]
        )
        checked = {}
        for sample in samples:
            if sample.kind == "fastq":
                checked[sample.name] = inputs.check_fastq_quick(sample)
            else:
                checked[sample.name] = inputs.check_alignment_header(
                    sample, config["reference"], build, config["resources_dir"], naming
                )
    except InputError as exc:
        _fail(f"{exc}{hint if 'does not exist' in str(exc) else ''}")
    return samples, build, naming, checked


SAMPLE_LIST, BUILD, NAMING, CHECKED = _check_inputs()
SAMPLES = {s.name: s for s in SAMPLE_LIST}
RESOURCES = os.path.join(config["resources_dir"], BUILD)
LOCUS_RES = "results/resources"
REF = config["reference"]
# Differential genes of this build (build.json `differential`): their GFF3 and known-allele table.
DIFFERENTIAL = json.loads(open(os.path.join(RESOURCES, "build.json")).read()).get(
    "differential", []
)
DIFF_GFF3 = [f"{LOCUS_RES}/{d['gff3']}" for d in DIFFERENTIAL]
DIFF_KNOWN = [
    os.path.join(os.path.dirname(config["known_variants"]), d["known"])
    for d in DIFFERENTIAL
]


wildcard_constraints:
    sample="|".join(sorted(SAMPLES)),


def cfg(section, key):
    return config.get(section, {}).get(key)


def sample_info_json(sample):
    return json.dumps(SAMPLES[sample].to_dict(), sort_keys=True)


def get_bwa_index(wildcards):
    from dira_genotyper.locus_bam import bwa_index_prefix

    prefix = bwa_index_prefix(REF)
    if prefix:
        return [f"{prefix}.{ext}" for ext in ("amb", "ann", "bwt", "pac", "sa")]
    return [
        f"results/reference/bwa/reference.{ext}"
        for ext in ("amb", "ann", "bwt", "pac", "sa")
    ]


def get_recruit_index(wildcards):
    """The k-mer index of the window and controls when FASTQ pairs are recruited before alignment."""
    if cfg("alignment", "mode") == "recruit":
        return "results/reference/recruit/kmers.npy"
    return []


def get_alignment(wildcards):
    """The sample's BAM/CRAM as given, or the BWA-MEM alignment of its FASTQ."""
    sample = SAMPLES[wildcards.sample]
    if sample.kind == "fastq":
        return f"results/mapping/{sample.name}.bam"
    return sample.bam


def get_parents(wildcards):
    sample = SAMPLES[wildcards.sample]
    return [p for p in (sample.father, sample.mother) if p]


def get_parent_files(wildcards):
    files = []
    for parent in get_parents(wildcards):
        files += [
            f"results/annotation/{parent}.variants.json",
            f"results/cnv/{parent}.cnv.json",
            f"results/callable/{parent}.callable.json",
        ]
    return files


def get_cnv_cohort(wildcards):
    """The cohort list only for samples that need it (targeted data in auto mode, or cohort mode): a failed
    sample elsewhere in the run then cannot block the copy number of WGS-like samples.
    """
    mode_file = checkpoints.cnv_mode.get(sample=wildcards.sample).output[0]
    with open(mode_file) as handle:
        return (
            ["results/cnv/cohort.counts.list"]
            if handle.read().strip() == "cohort"
            else []
        )


def get_final_outputs():
    outputs = ["results/cohort.tsv", "results/multiqc/dira_mqc.tsv"]
    for s in sorted(SAMPLES):
        outputs += [
            f"results/reports/{s}.dira.json",
            f"results/reports/{s}.dira.html",
        ]
    return outputs


def failure_reason(sample):
    """The last error line from the sample's rule logs, for the cohort table of a partly failed run."""
    from pathlib import Path

    for log in sorted(
        Path("logs").glob(f"*/{sample}.*log"), key=os.path.getmtime, reverse=True
    ):
        lines = [
            ln
            for ln in log.read_text(errors="replace").splitlines()
            if "ERROR" in ln or "Error" in ln
        ]
        if lines:
            return f"{lines[-1].strip()[:300]} (see {log})"
    return "a job of this sample failed or did not run (see logs/)"


def write_partial_cohort():
    """After a failed run (e.g. with --keep-going), mark the samples without a report in the cohort table."""
    import subprocess

    done = [
        s for s in sorted(SAMPLES) if os.path.exists(f"results/reports/{s}.dira.json")
    ]
    failed = [f"{s}={failure_reason(s)}" for s in sorted(SAMPLES) if s not in done]
    cmd = [
        "dira-genotyper",
        "cohort",
        "--out-tsv",
        "results/cohort.tsv",
        "--out-mqc",
        "results/multiqc/dira_mqc.tsv",
        "--reports",
        *[f"results/reports/{s}.dira.json" for s in done],
        "--failed",
        *failed,
    ]
    if not done:
        cmd.remove("--reports")
    subprocess.run(cmd, check=False)
