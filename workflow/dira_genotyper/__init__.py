"""dira-genotyper: IL1RN genotyping for DIRA (deficiency of the interleukin-1 receptor antagonist)."""

__version__ = "0.1.0"
