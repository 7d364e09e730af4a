rule sample_sites:
    input:
        ref=REF,
        aln=get_alignment,
        checked="results/qc/{sample}.input.json",
    output:
        "results/checks/{sample}.sites.tsv",
    log:
        "logs/checks/{sample}.sites.log",
    benchmark:
        "benchmarks/checks/{sample}.sites.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        sites=["--sites", SAMPLE_SITES] if SAMPLE_SITES else [],
        min_mapq=cfg("calling", "min_mapq"),
        min_baseq=cfg("calling", "min_baseq"),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper sample-sites "
        "--input {input.aln:q} --reference {input.ref:q} {params.sites:q} "
        "--min-mapq {params.min_mapq:q} --min-baseq {params.min_baseq:q} --out {output:q} > {log:q} 2>&1"


rule sample_checks:
    input:
        sheet=config["samples"],
        res=f"{LOCUS_RES}/build.json",
        counts=lambda wc: expand(
            "results/checks/{sample}.sites.tsv", sample=CHECK_MEMBERS[wc.group]
        ),
    output:
        "results/checks/{group}.checks.json",
    log:
        "logs/checks/{group}.checks.log",
    benchmark:
        "benchmarks/checks/{group}.checks.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        res=lambda wc, input: os.path.dirname(input.res),
        counts=lambda wc, input: [
            f"{s}={path}" for s, path in zip(CHECK_MEMBERS[wc.group], input.counts)
        ],
        max_contamination=cfg("sample_checks", "max_contamination"),
        max_maternal=cfg("sample_checks", "max_maternal_contamination"),
        roh=lambda wc: [
            "--min-roh-length",
            cfg("sample_checks", "min_roh_length"),
            "--min-roh-sites",
            cfg("sample_checks", "min_roh_sites"),
        ],
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper sample-checks "
        "--sheet {input.sheet:q} --resources {params.res:q} --counts {params.counts:q} "
        "--max-contamination {params.max_contamination:q} --max-maternal {params.max_maternal:q} "
        "{params.roh:q} --out {output:q} > {log:q} 2>&1"
