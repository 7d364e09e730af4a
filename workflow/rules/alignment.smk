rule bwa_index:
    input:
        REF,
    output:
        multiext("results/reference/bwa/reference.", "amb", "ann", "bwt", "pac", "sa"),
    log:
        "logs/mapping/bwa_index.log",
    benchmark:
        "benchmarks/mapping/bwa_index.tsv"
    conda:
        "../../envs/bwa.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        prefix=lambda wc, output: output[0][: -len(".amb")],
    shell:
        "bwa index -p {params.prefix:q} {input:q} > {log:q} 2>&1"


rule recruit_index:
    input:
        ref=REF,
        window=f"{LOCUS_RES}/window.bed",
        controls=f"{LOCUS_RES}/controls.bed",
        # the sample-check sites: their reads are recruited too, so the checks run in recruit mode
        sites=SAMPLE_SITES or [],
    output:
        kmers="results/reference/recruit/kmers.npy",
        info="results/reference/recruit/kmers.npy.json",
    log:
        "logs/mapping/recruit_index.log",
    benchmark:
        "benchmarks/mapping/recruit_index.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        max_count=cfg("alignment", "recruit_max_kmer_count"),
        # = recruit.INDEX_VERSION (a unit test checks): a new version re-makes an index left by an older one
        index_version=4,
        sites=lambda wc, input: ["--sites", input.sites] if input.sites else [],
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper recruit-index "
        "--reference {input.ref:q} --regions {input.window:q} {input.controls:q} "
        "--max-count {params.max_count:q} {params.sites:q} --out {output.kmers:q} > {log:q} 2>&1"


rule align:
    input:
        fq1=lambda wc: SAMPLES[wc.sample].fq1,
        fq2=lambda wc: SAMPLES[wc.sample].fq2,
        checked="results/qc/{sample}.input.json",
        index=get_bwa_index,
        recruit=get_recruit_index,
    output:
        bam="results/mapping/{sample}.bam",
        bai="results/mapping/{sample}.bam.bai",
    log:
        "logs/mapping/{sample}.align.log",
    benchmark:
        "benchmarks/mapping/{sample}.align.tsv"
    group:
        "align"
    conda:
        "../../envs/tools.yaml"
    threads: cfg("alignment", "threads")
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        prefix=lambda wc, input: input.index[0][: -len(".amb")],
        markdup=[] if cfg("alignment", "mark_duplicates") else ["--no-markdup"],
        recruit=lambda wc, input: (
            ["--recruit-index", input.recruit] if input.recruit else []
        ),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper align "
        "--fq1 {input.fq1:q} --fq2 {input.fq2:q} --index {params.prefix:q} "
        "--sample {wildcards.sample:q} --threads {threads:q} {params.markdup:q} {params.recruit:q} "
        "--out {output.bam:q} > {log:q} 2>&1"


rule extract_locus:
    input:
        res=f"{LOCUS_RES}/build.json",
        ref=REF,
        aln=get_alignment,
        checked="results/qc/{sample}.input.json",
        window=f"{LOCUS_RES}/window.bed",
        controls=f"{LOCUS_RES}/controls.bed",
    output:
        bam="results/locus/{sample}.bam",
        bai="results/locus/{sample}.bam.bai",
    log:
        "logs/locus/{sample}.extract.log",
    benchmark:
        "benchmarks/locus/{sample}.extract.tsv"
    group:
        "locus"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        res=lambda wc, input: os.path.dirname(input.res),
        index_fallback="results/inputs/{sample}.bai",
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper extract "
        "--input {input.aln:q} --reference {input.ref:q} --regions {input.window:q} "
        "{input.controls:q} --index-fallback {params.index_fallback:q} "
        "--resources {params.res:q} --out {output.bam:q} > {log:q} 2>&1"
