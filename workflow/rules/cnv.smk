rule cnv_count:
    input:
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        res=f"{LOCUS_RES}/build.json",
    output:
        "results/cnv/{sample}.counts.tsv",
    log:
        "logs/cnv/{sample}.count.log",
    benchmark:
        "benchmarks/cnv/{sample}.count.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        bin_size=cfg("cnv", "bin_size"),
        min_mapq=cfg("cnv", "min_mapq"),
    shell:
        "dira-genotyper cnv-count --bam {input.bam:q} --reference {REF:q} --resources {LOCUS_RES} "
        "--bin-size {params.bin_size} --min-mapq {params.min_mapq} --out {output:q} > {log:q} 2>&1"


rule cnv_call:
    input:
        counts="results/cnv/{sample}.counts.tsv",
        cohort=get_cohort_counts,
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
    output:
        bins="results/cnv/{sample}.bins.tsv",
        segments="results/cnv/{sample}.segments.tsv",
        vcf="results/cnv/{sample}.vcf.gz",
        json="results/cnv/{sample}.cnv.json",
    log:
        "logs/cnv/{sample}.call.log",
    benchmark:
        "benchmarks/cnv/{sample}.call.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        mode=cfg("cnv", "mode"),
        prefix="results/cnv/{sample}",
    shell:
        "dira-genotyper cnv-call --counts {input.counts:q} --cohort-counts {input.cohort:q} "
        "--bam {input.bam:q} --reference {REF:q} --resources {LOCUS_RES} --mode {params.mode} "
        "--sample {wildcards.sample} --out-prefix {params.prefix:q} > {log:q} 2>&1"
