rule annotate:
    input:
        ref=REF,
        vcf="results/calls/{sample}.vcf.gz",
        tbi="results/calls/{sample}.vcf.gz.tbi",
        gff3=f"{LOCUS_RES}/il1rn.gff3",
        known=config["known_variants"],
        res=f"{LOCUS_RES}/build.json",
        diff_gff3=DIFF_GFF3,
        diff_known=DIFF_KNOWN,
    output:
        "results/annotation/{sample}.variants.json",
    log:
        "logs/annotation/{sample}.log",
    benchmark:
        "benchmarks/annotation/{sample}.tsv"
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
        population=(
            ["--population", config["population_vcf"]]
            if config["population_vcf"]
            else []
        ),
        res=lambda wc, input: os.path.dirname(input.res),
        rules=lambda wc: json.dumps(
            config["interpretation"].get("classification", {}), sort_keys=True
        ),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper annotate "
        "--vcf {input.vcf:q} --reference {input.ref:q} --gff3 {input.gff3:q} "
        "--known {input.known:q} {params.population:q} --rules-json {params.rules:q} "
        "--resources {params.res:q} "
        "--out {output:q} > {log:q} 2>&1"
