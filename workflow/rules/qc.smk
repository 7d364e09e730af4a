rule locus_qc:
    input:
        ref=REF,
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
        vcf="results/calls/{sample}.vcf.gz",
        tbi="results/calls/{sample}.vcf.gz.tbi",
    output:
        stats="results/qc/locus/{sample}.samtools_stats.txt",
        flagstat="results/qc/locus/{sample}.flagstat.txt",
        bcftools="results/qc/locus/{sample}.bcftools_stats.txt",
    log:
        "logs/qc/{sample}.locus_qc.log",
    benchmark:
        "benchmarks/qc/{sample}.locus_qc.tsv"
    group:
        "locus"
    conda:
        "../../envs/pysam.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    script:
        "../scripts/locus_qc.py"


rule exon_coverage_mqc:
    input:
        expand("results/callable/{sample}.callable.json", sample=sorted(SAMPLES)),
    output:
        "results/multiqc/exon_coverage_mqc.tsv",
    log:
        "logs/qc/exon_coverage_mqc.log",
    benchmark:
        "benchmarks/qc/exon_coverage_mqc.tsv"
    conda:
        "../../envs/pysam.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        samples=sorted(SAMPLES),
    script:
        "../scripts/exon_coverage_mqc.py"


rule multiqc:
    input:
        dira="results/multiqc/dira_mqc.tsv",
        exons="results/multiqc/exon_coverage_mqc.tsv",
        locus=expand(
            "results/qc/locus/{sample}.{kind}.txt",
            sample=sorted(SAMPLES),
            kind=("samtools_stats", "flagstat", "bcftools_stats"),
        ),
        config=MULTIQC_CONFIG,
    output:
        report(
            "results/multiqc/multiqc_report.html",
            caption="../report/multiqc.rst",
            category="Cohort",
        ),
    log:
        "logs/qc/multiqc.log",
    benchmark:
        "benchmarks/qc/multiqc.tsv"
    conda:
        "../../envs/multiqc.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        python=PYTHON,
        outdir=lambda wc, output: os.path.dirname(output[0]),
    shell:
        "{params.python:q} -m multiqc --force --no-data-dir --config {input.config:q} --outdir {params.outdir:q} "
        "--filename multiqc_report.html {input.dira:q} {input.exons:q} {input.locus:q} > {log:q} 2>&1"
