"""Inputs: the sample sheet, input files, configuration and population file checked before any work."""
