from snakemake.logging import logger

# callable.min_mapq / callable.min_baseq are deprecated and ignored: the callable step uses the calling read
# filter (calling.min_mapq, calling.min_baseq), so that "callable" means the caller could have seen the base.
for _key in ("min_mapq", "min_baseq"):
    _old = config.get("callable", {}).get(_key)
    if _old is not None and _old != config.get("calling", {}).get(_key):
        logger.warning(
            f"callable.{_key} ({_old}) is deprecated and ignored: the callable step uses calling.{_key} "
            f"({config.get('calling', {}).get(_key)}), the caller's own read filter"
        )


rule callable_regions:
    input:
        ref=REF,
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
        min_depth=cfg("callable", "min_depth"),
        min_depth_hemizygous=lambda wc: (
            "null"
            if cfg("callable", "min_depth_hemizygous") is None
            else cfg("callable", "min_depth_hemizygous")
        ),
        min_alt_reads=cfg("calling", "min_alt_reads"),
        # one read filter: the callable step counts the reads and bases the caller (mpileup -q/-Q) uses
        min_mapq=cfg("calling", "min_mapq"),
        min_baseq=cfg("calling", "min_baseq"),
        splice_bp=cfg("callable", "splice_bp"),
        max_depth=cfg("calling", "max_depth"),
        duplicates=lambda wc: (
            [] if cfg("calling", "remove_duplicates") else ["--keep-duplicates"]
        ),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper callable "
        "--bam {input.bam:q} --reference {input.ref:q} "
        "--cds {input.cds:q} --targets {input.targets:q} --min-depth {params.min_depth:q} "
        "--min-depth-hemizygous {params.min_depth_hemizygous:q} --min-alt-reads {params.min_alt_reads:q} "
        "--min-mapq {params.min_mapq:q} --min-baseq {params.min_baseq:q} --splice-bp {params.splice_bp:q} "
        "--max-depth {params.max_depth:q} {params.duplicates:q} --out-bed {output.bed:q} --out-tsv {output.tsv:q} --out-json {output.json:q} > {log:q} 2>&1"


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
        filters=lambda wc: json.dumps(config["calling"], sort_keys=True),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper call "
        "--bam {input.bam:q} --reference {input.ref:q} --targets {input.targets:q} "
        "--callable {input.callable:q} --params-json {params.filters:q} --out {output.vcf:q} > {log:q} 2>&1"
