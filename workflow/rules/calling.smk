rule callable_regions:
    input:
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        cds=f"{LOCUS_RES}/cds.bed",
        targets=f"{LOCUS_RES}/targets.bed",
    output:
        bed="results/callable/{sample}.callable.bed",
        tsv="results/callable/{sample}.exons.tsv",
        json="results/callable/{sample}.callable.json",
    log:
        "logs/callable/{sample}.log",
    benchmark:
        "benchmarks/callable/{sample}.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        min_depth=cfg("callable", "min_depth"),
        min_mapq=cfg("callable", "min_mapq"),
        min_baseq=cfg("callable", "min_baseq"),
        splice_bp=cfg("callable", "splice_bp"),
    shell:
        "dira-genotyper callable --bam {input.bam:q} --cds {input.cds:q} --targets {input.targets:q} "
        "--min-depth {params.min_depth} --min-mapq {params.min_mapq} --min-baseq {params.min_baseq} "
        "--splice-bp {params.splice_bp} --out-bed {output.bed:q} --out-tsv {output.tsv:q} "
        "--out-json {output.json:q} > {log:q} 2>&1"


rule call_variants:
    input:
        ref=REF,
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        targets=f"{LOCUS_RES}/targets.bed",
        callable="results/callable/{sample}.callable.json",
    output:
        vcf="results/calls/{sample}.vcf.gz",
        tbi="results/calls/{sample}.vcf.gz.tbi",
    log:
        "logs/calls/{sample}.log",
    benchmark:
        "benchmarks/calls/{sample}.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        filters=lambda wc: json.dumps(config["calling"], sort_keys=True),
    shell:
        "dira-genotyper call --bam {input.bam:q} --reference {input.ref:q} --targets {input.targets:q} "
        "--callable {input.callable:q} --params-json '{params.filters}' --out {output.vcf:q} > {log:q} 2>&1"
