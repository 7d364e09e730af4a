"""Interpretation: alleles, gene state, phase, pedigree and the decision table."""
