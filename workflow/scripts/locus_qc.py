"""Per-sample locus QC for MultiQC (rule locus_qc): `samtools stats` and `samtools flagstat` of the locus BAM and
`bcftools stats` of the filtered calls, run in-process by pysam (its bundled samtools/bcftools 1.24, the same code
as the command-line tools). MultiQC recognises each file by its content and names the sample from the file name.
"""

from pathlib import Path

import pysam.bcftools
import pysam.samtools


def write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


def locus_qc(bam: str, vcf: str, reference: str, stats: str, flagstat: str, bcftools_stats: str) -> None:
    write(stats, pysam.samtools.stats("--reference", reference, bam))
    write(flagstat, pysam.samtools.flagstat(bam))
    write(bcftools_stats, pysam.bcftools.stats("--fasta-ref", reference, vcf))


if __name__ == "__main__":
    smk = globals()["snakemake"]  # set by Snakemake's `script:` directive
    locus_qc(smk.input.bam, smk.input.vcf, smk.input.ref, smk.output.stats, smk.output.flagstat, smk.output.bcftools)
    write(smk.log[0], f"samtools stats, flagstat of {smk.input.bam}; bcftools stats of {smk.input.vcf}: done\n")
