"""Alignment: FASTQ recruitment of the locus pairs, BWA-MEM, and extraction of the locus BAM."""
