# dira-genotyper: IL1RN genotyping for DIRA. This file is the table of contents; the logic lives in
# workflow/dira_genotyper (a tested Python package) and the stages in workflow/rules/*.smk.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


envvars:
    "PATH",


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# every rule's image under --sdm apptainer (config `container`; containers/Dockerfile, containers/Apptainer.def)
container: CONTAINER


include: "workflow/rules/inputs.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/alignment.smk"
include: "workflow/rules/calling.smk"
include: "workflow/rules/cnv.smk"
include: "workflow/rules/annotation.smk"
include: "workflow/rules/samplecheck.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        get_final_outputs(),


onstart:
    keep_previous_reports()


onerror:
    write_partial_cohort()
