"""Annotation: transcript model, HGVS, consequence, known alleles, PVS1 and classification."""
