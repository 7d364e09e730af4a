rule validate_input:
    input:
        ref=REF,
        sheet=config["samples"],
        # the sample's own files: a replaced file is validated (and digested for the report) again
        files=lambda wc: sample_input_files(wc.sample),
    output:
        "results/qc/{sample}.input.json",
    log:
        "logs/qc/{sample}.validate_input.log",
    benchmark:
        "benchmarks/qc/{sample}.validate_input.tsv"
    group:
        sample_group_before_locus
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        sample=lambda wc: sample_info_json(wc.sample),
        build=BUILD,
        resources_dir=config["resources_dir"],
        # recruit: only the first records here, the align rule's recruitment pass checks every record
        mode=cfg("alignment", "mode"),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper validate-input "
        "--sample-json {params.sample:q} --alignment-mode {params.mode:q} "
        "--reference {input.ref:q} "
        "--build {params.build:q} --resources-dir {params.resources_dir:q} --out {output:q} > {log:q} 2>&1"


rule prepare_resources:
    input:
        ref=REF,
        fai=f"{REF}.fai",
        build=f"{RESOURCES}/build.json",
    output:
        multiext(
            f"{LOCUS_RES}/",
            "window.bed",
            "controls.bed",
            "targets.bed",
            "cds.bed",
            "mask.bed",
            "il1rn.gff3",
            "genes.tsv",
            "exons.tsv",
            "build.json",
        ),
        diff_gff3=DIFF_GFF3,
    log:
        "logs/resources/prepare_resources.log",
    benchmark:
        "benchmarks/resources/prepare_resources.tsv"
    conda:
        "../../envs/tools.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        python=PYTHON,
        pythonpath=PACKAGE_DIR,
        resources=lambda wc, input: os.path.dirname(input.build),
        out=lambda wc, output: os.path.dirname(output[0]),
    shell:
        "PYTHONPATH={params.pythonpath:q} {params.python:q} -m dira_genotyper prepare-resources "
        "--resources {params.resources:q} --reference {input.ref:q} "
        "--out {params.out:q} > {log:q} 2>&1"
