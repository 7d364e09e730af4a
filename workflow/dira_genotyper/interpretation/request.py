"""What one genotype run reads and writes: the `genotype` command's options as a typed request.

The command line (:func:`dira_genotyper.commands.cmd_genotype`) and the recovery after a failed run
(:mod:`dira_genotyper.run.recovery`) both build a :class:`GenotypeRequest`; the domain code
(:func:`dira_genotyper.interpretation.genotype.run_genotype`) reads nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dira_genotyper.interpretation.parent_failure import parse_failed_parents

#: calling.min_alt_reads when none is given (the config schema's default; a unit test keeps them equal)
DEFAULT_MIN_ALT_READS = 3


@dataclass(frozen=True)
class GenotypeRequest:
    """One sample's genotype step: its evidence, the run's settings, and where the report goes."""

    sample: dict[str, Any]  # the sheet's row (sample, kind, father, mother, sex, prenatal, ...)
    checked: Path  # results/qc/{s}.input.json: the validated input record
    variants: Path  # results/annotation/{s}.variants.json
    cnv: Path  # results/cnv/{s}.cnv.json
    bins: Path  # results/cnv/{s}.bins.tsv
    callable: Path  # results/callable/{s}.callable.json
    bam: Path  # results/locus/{s}.bam (read-backed phase)
    resources: Path  # the run's resources folder (build.json, gene models)
    out_json: Path
    out_html: Path
    out_meta: Path
    parents: tuple[str, ...] = ()  # parents of this sample whose evidence is in the run
    reference: str | None = None  # the FASTA the BAM was aligned to (indel phase)
    known: Path | None = None  # the target disease's known-allele table (differential tables beside it)
    min_alt_reads: int = DEFAULT_MIN_ALT_READS
    run_config: Path | None = None  # the run's effective configuration, recorded in the report
    sample_checks: Path | None = None  # results/checks/{group}.checks.json
    failed_parents: dict[str, str] = field(default_factory=dict)  # role -> why its analysis failed

    @classmethod
    def from_args(cls, args: Any) -> GenotypeRequest:  # noqa: ANN401 - an argparse.Namespace
        """The request of the `genotype` command line."""

        def path(value: str | None) -> Path | None:
            return Path(value) if value else None

        return cls(
            sample=json.loads(args.sample_json),
            checked=Path(args.checked),
            variants=Path(args.variants),
            cnv=Path(args.cnv),
            bins=Path(args.bins),
            callable=Path(args.callable),
            bam=Path(args.bam),
            resources=Path(args.resources),
            out_json=Path(args.out_json),
            out_html=Path(args.out_html),
            out_meta=Path(args.out_meta),
            parents=tuple(args.parents or ()),
            reference=args.reference or None,
            known=path(args.known),
            min_alt_reads=int(args.min_alt_reads),
            run_config=path(args.run_config),
            sample_checks=path(args.sample_checks),
            failed_parents=parse_failed_parents(args.failed_parents),
        )

    def input_files(self) -> dict[str, str]:
        """Every file the request names that exists, by option name, as absolute paths (the run record)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path | str) and not f.name.startswith("out_") and os.path.exists(value):
                out[f.name] = os.path.abspath(value)
        return out
