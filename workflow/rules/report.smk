from snakemake.logging import logger

# interpretation.strict_phase is deprecated and ignored: two heterozygous LoF alleles of unknown phase are always
# `inconclusive` (presumed_biallelic), never `affected` (docs/interpretation.md, decision table row 7).
if cfg("interpretation", "strict_phase") is False:
    logger.warning(
        "interpretation.strict_phase: false is deprecated and ignored: two heterozygous LoF alleles of unknown "
        "phase are reported inconclusive (presumed biallelic, parental testing needed), never affected"
    )


rule genotype:
    input:
        res=f"{LOCUS_RES}/build.json",
        ref=REF,
        checked="results/qc/{sample}.input.json",
        variants="results/annotation/{sample}.variants.json",
        cnv="results/cnv/{sample}.cnv.json",
        bins="results/cnv/{sample}.bins.tsv",
        callable="results/callable/{sample}.callable.json",
        bam="results/locus/{sample}.bam",
        known=config["known_variants"],
        run_config="results/run/config.json",
        checks=lambda wc: f"results/checks/{CHECK_GROUP[wc.sample]}.checks.json",
        parents=get_parent_files,
    output:
        json="results/reports/{sample}.dira.json",
        html=report(
            "results/reports/{sample}.dira.html",
            caption="../report/sample.rst",
            category="Per-sample reports",
            labels={"sample": "{sample}"},
        ),
        meta="results/reports/{sample}.run.json",
    log:
        "logs/reports/{sample}.log",
    benchmark:
        "benchmarks/reports/{sample}.tsv"
    group:
        "report"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        res=lambda wc, input: os.path.dirname(input.res),
        sample=lambda wc: sample_info_json(wc.sample),
        parents=get_parents,
        failed_parents=get_failed_parent_args,
        min_alt=cfg("calling", "min_alt_reads"),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper genotype "
        "--sample-json {params.sample:q} "
        "--checked {input.checked:q} "
        "--variants {input.variants:q} --cnv {input.cnv:q} --bins {input.bins:q} "
        "--callable {input.callable:q} --bam {input.bam:q} --resources {params.res:q} "
        "--parents {params.parents:q} {params.failed_parents:q} "
        "--reference {input.ref:q} --known {input.known:q} "
        "--min-alt-reads {params.min_alt:q} --run-config {input.run_config:q} "
        "--sample-checks {input.checks:q} --out-json {output.json:q} "
        "--out-html {output.html:q} --out-meta {output.meta:q} > {log:q} 2>&1"


rule run_config:
    output:
        "results/run/config.json",
    log:
        "logs/run_config.log",  # not under logs/<stage>/: no sample's log pattern matches it
    localrule: True
    params:
        # a changed setting rewrites this file, so every report is remade with the configuration it records
        config=json.dumps(config, sort_keys=True),
    run:
        write_run_config(config, output[0], log[0])


rule cohort_summary:
    input:
        expand("results/reports/{sample}.dira.json", sample=sorted(SAMPLES)),
    output:
        tsv=report(
            "results/cohort.tsv", caption="../report/cohort.rst", category="Cohort"
        ),
        mqc="results/multiqc/dira_mqc.tsv",
    log:
        "logs/reports/cohort.log",
    benchmark:
        "benchmarks/reports/cohort.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper cohort "
        "--reports {input:q} --out-tsv {output.tsv:q} "
        "--out-mqc {output.mqc:q} > {log:q} 2>&1"
