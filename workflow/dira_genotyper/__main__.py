"""`python -m dira_genotyper <command>`: what every Snakemake rule runs (the workflow's own source on PYTHONPATH)."""

import sys

from dira_genotyper.cli import main

sys.exit(main())
