rule cnv_count:
    input:
        ref=REF,
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        res=f"{LOCUS_RES}/build.json",
        design=[config["targets"]] if config.get("targets") else [],
    output:
        counts="results/cnv/{sample}.counts.tsv",
        targets="results/cnv/{sample}.targets.tsv",
        capture="results/cnv/{sample}.capture.json",
    log:
        "logs/cnv/{sample}.count.log",
    benchmark:
        "benchmarks/cnv/{sample}.count.tsv"
    group:
        "locus"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        res=lambda wc, input: os.path.dirname(input.res),
        bin_size=cfg("cnv", "bin_size"),
        min_mapq=cfg("cnv", "min_mapq"),
        design=lambda wc, input: (
            ["--targets-bed", input.design[0]] if input.design else []
        ),
        duplicates=lambda wc: (
            [] if cfg("calling", "remove_duplicates") else ["--keep-duplicates"]
        ),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper cnv-count "
        "--bam {input.bam:q} --reference {input.ref:q} --resources {params.res:q} "
        "--bin-size {params.bin_size:q} --min-mapq {params.min_mapq:q} --out {output.counts:q} "
        "{params.design:q} --targets-out {output.targets:q} "
        "--capture-out {output.capture:q} {params.duplicates:q} > {log:q} 2>&1"


checkpoint cnv_mode:
    input:
        counts="results/cnv/{sample}.counts.tsv",
        capture="results/cnv/{sample}.capture.json",
        res=f"{LOCUS_RES}/build.json",
    output:
        "results/cnv/{sample}.mode.txt",
    log:
        "logs/cnv/{sample}.mode.log",
    benchmark:
        "benchmarks/cnv/{sample}.mode.tsv"
    group:
        "locus"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        mode=cfg("cnv", "mode"),
        res=lambda wc, input: os.path.dirname(input.res),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper cnv-mode "
        "--counts {input.counts:q} --capture {input.capture:q} --resources {params.res:q} "
        "--mode {params.mode:q} --out {output:q} > {log:q} 2>&1"


rule cnv_cohort:
    input:
        expand("results/cnv/{sample}.counts.tsv", sample=sorted(SAMPLES)),
    output:
        "results/cnv/cohort.counts.list",
    log:
        "logs/cnv/cohort.list.log",
    benchmark:
        "benchmarks/cnv/cohort.list.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    shell:
        "printf '%s\\n' {input:q} > {output:q} 2> {log:q}"


rule cnv_cohort_targets:
    input:
        targets=expand("results/cnv/{sample}.targets.tsv", sample=sorted(SAMPLES)),
        capture=expand("results/cnv/{sample}.capture.json", sample=sorted(SAMPLES)),
    output:
        "results/cnv/cohort.targets.list",
    log:
        "logs/cnv/cohort.targets.log",
    benchmark:
        "benchmarks/cnv/cohort.targets.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    shell:
        "printf '%s\\n' {input.targets:q} > {output:q} 2> {log:q}"


rule cnv_call:
    input:
        res=f"{LOCUS_RES}/build.json",
        ref=REF,
        counts="results/cnv/{sample}.counts.tsv",
        targets="results/cnv/{sample}.targets.tsv",
        capture="results/cnv/{sample}.capture.json",
        mode="results/cnv/{sample}.mode.txt",
        cohort=get_cnv_cohort,
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        panel=[config["panel_of_normals"]] if config.get("panel_of_normals") else [],
    output:
        bins="results/cnv/{sample}.bins.tsv",
        segments="results/cnv/{sample}.segments.tsv",
        vcf="results/cnv/{sample}.vcf.gz",
        json="results/cnv/{sample}.cnv.json",
    log:
        "logs/cnv/{sample}.call.log",
    benchmark:
        "benchmarks/cnv/{sample}.call.tsv"
    group:
        "report"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        res=lambda wc, input: os.path.dirname(input.res),
        mode=cfg("cnv", "mode"),
        cohort=lambda wc, input: (
            ["--cohort-list", *input.cohort] if input.cohort else []
        ),
        prefix=lambda wc, output: output.json[: -len(".cnv.json")],
        panel=lambda wc, input: ["--panel", input.panel[0]] if input.panel else [],
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper cnv-call "
        "--counts {input.counts:q} {params.cohort:q} --decided-mode {input.mode:q} "
        "--targets-counts {input.targets:q} --capture {input.capture:q} {params.panel:q} "
        "--bam {input.bam:q} --reference {input.ref:q} --resources {params.res:q} --mode {params.mode:q} "
        "--sample {wildcards.sample:q} --out-prefix {params.prefix:q} > {log:q} 2>&1"
