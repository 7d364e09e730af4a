import json
import os
import sys
import time
import tomllib

import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.sourcecache import LocalSourceFile
from snakemake.utils import validate
from snakemake_interface_executor_plugins.settings import DeploymentMethod

import dira_genotyper
from dira_genotyper import __version__ as DIRA_VERSION
from dira_genotyper import shipped as _shipped
from dira_genotyper.inputs import fastq_checks, population_checks
from dira_genotyper.inputs import sheet as inputs
from dira_genotyper.inputs.config_check import check_config_keys
from dira_genotyper.errors import InputError
from dira_genotyper.run.provenance import write_run_config
from dira_genotyper.run import stale
from dira_genotyper.samplecheck.run import check_groups

# The package comes from the Python environment that runs Snakemake (installed at the workflow's version: checked
# here), not from a folder next to this file, so the Snakefile may also be a URL or a git host (a Snakemake module
# with `snakefile: github(...)`, snakedeploy). Resources, schemas and the MultiQC settings come with the package
# (dira_genotyper.shipped); the workflow's own files (rules, schemas for `validate`, scripts, environments) are read
# by Snakemake through its source cache.
with open(workflow.source_path("../../pyproject.toml"), "rb") as _handle:
    WORKFLOW_VERSION = tomllib.load(_handle)["project"]["version"]
try:
    _shipped.check_version(WORKFLOW_VERSION)
except RuntimeError as _exc:
    raise WorkflowError(f"dira-genotyper: {_exc}")
_PACKAGE_HOME = os.path.dirname(
    os.path.dirname(os.path.abspath(dira_genotyper.__file__))
)
_basedir = workflow.current_basedir
if workflow.is_main_process and isinstance(_basedir, LocalSourceFile):
    _own = os.path.join(
        os.path.dirname(_basedir.get_path_or_uri(secret_free=True)), "dira_genotyper"
    )
    if os.path.isdir(_own) and _shipped.differs_from(_own):
        logger.warning(
            f"dira-genotyper: the jobs use the package installed at {_PACKAGE_HOME}, which differs from the copy "
            f"next to this Snakefile ({_own}); `pip install -e` the workflow's folder to run that copy"
        )

# onerror: a MultiQC page older than this was not renewed by this run
RUN_STARTED = time.time()


def _stop(what, message):
    """A failure before any job: earlier results are moved to stale/ (a real run only), then the run stops."""
    moved = (
        stale.mark_run_failed("results", message)
        if stale.executes_jobs(workflow)
        else []
    )
    note = (
        f"\n(the earlier run's {len(moved)} result files were moved to stale/ folders under results/: "
        "they are not this run's)"
        if moved
        else ""
    )
    raise WorkflowError(
        f"dira-genotyper {what} failed:\n  {message}\n(no job was started){note}"
    )


try:  # a misspelt key names itself and the nearest valid one, before any job
    check_config_keys(config)
except InputError as _exc:
    _stop("config check", _exc)
try:
    validate(config, schema="../schemas/config.schema.yaml")
except WorkflowError as _exc:
    _stop("config check", _exc)

# Jobs run `python -m dira_genotyper <command>` with PACKAGE_DIR on PYTHONPATH:
# - no --sdm: the Python that runs Snakemake and the folder it imported the package from (the version checked above);
# - --sdm conda: the environment's `python` (envs/tools.yaml: the dependencies) and a copy of that same package,
#   staged in .snakemake/dira-genotyper/<version>/ (conda cannot install the workflow's own package);
# - --sdm apptainer: the image's `python` and its installed package (containers/), nothing added.
_sdm = workflow.deployment_settings.deployment_method
if DeploymentMethod.APPTAINER in _sdm:
    PYTHON, PACKAGE_DIR = "python", ""
elif DeploymentMethod.CONDA in _sdm:
    PYTHON = "python"
    PACKAGE_DIR = os.path.abspath(
        os.path.join(".snakemake", "dira-genotyper", DIRA_VERSION)
    )
    if workflow.is_main_process:
        _shipped.stage_package(PACKAGE_DIR)
else:
    PYTHON, PACKAGE_DIR = sys.executable, _PACKAGE_HOME
# the image of each job under --sdm apptainer (the Snakefile's container directive), built from containers/ at this version
CONTAINER = config.get("container") or f"docker://dira-genotyper:{WORKFLOW_VERSION}"
# the MultiQC settings shipped with the package
MULTIQC_CONFIG = str(_shipped.shipped("multiqc_config.yaml"))


def in_project(path):
    """A relative path from the config: as given when it exists from the working directory, else the file the
    package ships under that name (`resources`, `resources/known_dira_variants.tsv`), so a run elsewhere finds
    the shipped files."""
    return _shipped.shipped_or_given(path)


config["resources_dir"] = in_project(config["resources_dir"])
config["known_variants"] = in_project(config["known_variants"])


def _fail(message):
    _stop("input check", message)


def _check_inputs():
    """Parse-time checks: everything cheap, so a bad sheet or file stops the run before any work."""
    hint = ""
    if config["samples"] == "config/samples.tsv" and not os.path.exists("test-data"):
        hint = " The default sheet lists the bundled test cohort: run `dira-genotyper test-cohort` first."
    try:
        samples = inputs.read_sample_sheet(config["samples"])
        # one parser: the schema sees the cells read_sample_sheet read
        header, rows = inputs.read_sheet_rows(config["samples"])
        validate(
            pd.DataFrame([row for _, row in rows], columns=header, dtype=str),
            schema="../schemas/samples.schema.yaml",
        )
        if not os.path.exists(config["reference"]):
            raise InputError(
                f"reference FASTA {config['reference']} does not exist; set `reference:` in the config.{hint}"
            )
        build, naming = inputs.resolve_reference(
            config["reference"], config["build"], config["resources_dir"]
        )
        if not workflow.is_main_process:
            # a cluster or group job parses this file again: the files were checked once, by the main process
            return samples, build, naming, {}
        if config["population_vcf"]:
            population_checks.check_population_for_run(
                config["population_vcf"],
                config["reference"],
                build,
                config["resources_dir"],
                naming,
            )
        checked = {}
        for sample in samples:
            if sample.kind == "fastq":
                checked[sample.name] = fastq_checks.check_fastq_quick(sample)
            else:
                checked[sample.name] = inputs.check_alignment_header(
                    sample, config["reference"], build, config["resources_dir"], naming
                )
    except InputError as exc:
        _fail(f"{exc}{hint if 'does not exist' in str(exc) else ''}")
    return samples, build, naming, checked


SAMPLE_LIST, BUILD, NAMING, CHECKED = _check_inputs()
SAMPLES = {s.name: s for s in SAMPLE_LIST}
# Parents whose analysis failed (config `failed_parents`, which the error handler proposes after such a failure):
# their children's genotype jobs run without their data, and the reports say so. A deliberate rerun, so that a
# report without parental phase is made by a rule (log, environment, resources) and asked for by the user.
FAILED_PARENTS = set(config.get("failed_parents") or [])
_parents_in_sheet = {p for s in SAMPLE_LIST for p in (s.father, s.mother) if p}
if FAILED_PARENTS - _parents_in_sheet:
    _fail(
        f"failed_parents: {', '.join(sorted(FAILED_PARENTS - _parents_in_sheet))} is no sample's father or "
        "mother in the sheet (failed_parents lists the parents whose children are genotyped without them)"
    )
# the sample checks run per family (or pedigree-linked samples): a sample's report waits for its own group only
CHECK_GROUP = check_groups(
    [s.to_dict() for s in SAMPLE_LIST if s.name not in FAILED_PARENTS]
)
# a parent in failed_parents is checked alone: its family's checks (and so its children's reports) do not wait for it
CHECK_GROUP.update({p: p for p in FAILED_PARENTS})
CHECK_MEMBERS = {
    g: sorted(n for n, grp in CHECK_GROUP.items() if grp == g)
    for g in set(CHECK_GROUP.values())
}
RESOURCES = os.path.join(config["resources_dir"], BUILD)
LOCUS_RES = "results/resources"
# the sample-check sites: the config's list, else the build's shipped list, else none (checks not run)
SAMPLE_SITES = in_project(config.get("sample_checks", {}).get("sites") or "")
if not SAMPLE_SITES and os.path.exists(os.path.join(RESOURCES, "sample_sites.tsv.gz")):
    SAMPLE_SITES = os.path.join(RESOURCES, "sample_sites.tsv.gz")
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
    group="|".join(sorted(CHECK_MEMBERS)),


def cfg(section, key):
    return config.get(section, {}).get(key)


def sample_info_json(sample):
    return json.dumps(SAMPLES[sample].to_dict(), sort_keys=True)


def get_bwa_index(wildcards):
    from dira_genotyper.alignment.locus_bam import bwa_index_prefix

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


def sample_input_files(sample):
    from dira_genotyper.run.provenance import sample_files

    return list(sample_files(SAMPLES[sample].to_dict()).values())


def get_parents(wildcards):
    """The sample's parents whose data the genotype step reads: those in the sheet, less `failed_parents`."""
    sample = SAMPLES[wildcards.sample]
    return [p for p in (sample.father, sample.mother) if p and p not in FAILED_PARENTS]


def get_failed_parent_args(wildcards):
    """`--failed-parent ROLE=WHY` for each parent of the sample listed in `failed_parents`: the report says that
    the sample was genotyped without that parent and what is missing (dira_genotyper.interpretation.parent_failure).
    """
    sample = SAMPLES[wildcards.sample]
    args = []
    for role in ("father", "mother"):
        if getattr(sample, role) in FAILED_PARENTS:
            args += ["--failed-parent", f"{role}=listed in the config's failed_parents"]
    return args


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
        mode = handle.read().strip()
    lists = {
        "cohort": "results/cnv/cohort.counts.list",
        "targeted": "results/cnv/cohort.targets.list",
    }
    return [lists[mode]] if mode in lists else []


def get_final_outputs():
    outputs = [
        "results/cohort.tsv",
        "results/multiqc/dira_mqc.tsv",
        "results/multiqc/multiqc_report.html",
    ]
    for s in sorted(SAMPLES):
        outputs += [
            f"results/reports/{s}.dira.json",
            f"results/reports/{s}.dira.html",
        ]
    return outputs


def write_partial_cohort():
    """After a failed run (e.g. with --keep-going): stale reports moved to results/reports/stale/, the cohort table
    written with every failure's reason; a proband of a failed parent is not genotyped here: its row names the
    rerun that reports it without that parent (`failed_parents`, the genotype rule). Logic:
    dira_genotyper.run.recovery."""
    from dira_genotyper.run.recovery import recover

    try:
        recover(
            [SAMPLES[s].to_dict() for s in sorted(SAMPLES)],
            REF,
            config,
            started=RUN_STARTED,
        )
    except Exception as exc:  # the error handler must not hide the run's own error
        logger.error(
            f"dira-genotyper: the cohort table of the failed run could not be written: {exc}"
        )


def keep_previous_reports():
    """onstart: the reports as they are before any job, hard-linked into results/reports/.previous/ (Snakemake
    deletes a job's outputs before rerunning it; a failed genotype job's old report then goes to stale/).
    """
    stale.keep_previous_reports("results/reports")


def sample_group_before_locus(wildcards):
    """Cluster job groups (Slurm profile): a FASTQ sample's input check runs in its alignment job, a BAM/CRAM
    sample's in its locus job (extraction up to the copy-number mode): in the locus group, a FASTQ sample's
    locus job would be needed both before and after its alignment.
    """
    return "align" if SAMPLES[wildcards.sample].kind == "fastq" else "locus"
