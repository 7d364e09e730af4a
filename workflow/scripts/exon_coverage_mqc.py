"""Per-exon coverage of the cohort as MultiQC custom content (rule exon_coverage_mqc): one row per sample, per
exon of IL1RN (first) and of the differential genes the mean depth and the percentage of bases at >= 20x, from
results/callable/{sample}.callable.json.
"""

import json
from pathlib import Path

HEADER = (
    "# id: 'dira_exon_coverage'\n"
    "# section_name: 'Exon coverage (IL1RN, IL36RN)'\n"
    "# description: 'Per exon (MANE exon numbers): mean depth of the reads the caller uses, and the share "
    "of bases at 20x or more. An exon below the callable depth makes the sample a no-call there.'\n"
    "# plot_type: 'table'\n"
    "# pconfig:\n"
    "#     id: 'dira_exon_coverage_table'\n"
    "#     namespace: 'exons'\n"
    "#     title: 'dira-genotyper: exon coverage'\n"
)


def exon_table(callable_jsons: list[str], samples: list[str]) -> str:
    rows = []
    columns: list[str] = []
    for sample, path in zip(samples, callable_jsons, strict=True):
        exons = json.loads(Path(path).read_text())["exons"]
        row = {}
        for exon in sorted(exons, key=lambda e: e.get("gene", "IL1RN") != "IL1RN"):  # headline gene first
            name = f"{exon.get('gene', 'IL1RN')}_exon{exon['exon']}"
            row[f"{name}_mean_depth"] = exon["mean_depth"]
            row[f"{name}_pct_ge_20x"] = exon["pct_ge_20x"]
        columns += [c for c in row if c not in columns]
        rows.append((sample, row))
    lines = ["sample\t" + "\t".join(columns)]
    for sample, row in rows:
        lines.append(sample + "\t" + "\t".join("" if row.get(c) is None else str(row[c]) for c in columns))
    return HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    smk = globals()["snakemake"]  # set by Snakemake's `script:` directive
    Path(smk.output[0]).write_text(exon_table(list(smk.input), list(smk.params.samples)))
    Path(smk.log[0]).write_text(f"per-exon coverage of {len(smk.input)} samples: {smk.output[0]}\n")
