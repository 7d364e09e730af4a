"""Run: provenance, the cohort summary, and recovery after a failed run."""
