"""Sample checks before sign-out: genotypes at a fixed set of common SNP sites, then identity, sex, relatedness
against the pedigree, contamination (maternal contamination of a prenatal sample) and runs of homozygosity.

The models are the ones clinical pipelines use (peddy/somalier for relatedness and sex, VerifyBamID for
contamination, bcftools roh / PLINK for homozygosity), written here so that they need no reference panel and no
allele frequencies: the shipped site list has none (``resources/<build>/sample_sites.tsv.gz``).
"""
