"""Calling: callable bases, SNV/indel calls (bcftools), and indel realignment."""
