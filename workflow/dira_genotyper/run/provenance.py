"""What a report came from: digests of the sample's input files, the reference, the resources, the effective
configuration and the package version (report key ``provenance``, schema 1.2).

A file up to :data:`FULL_DIGEST_LIMIT` bytes gets the SHA-256 of its content (method ``sha256``); a bigger one
(a whole-genome BAM, CRAM or FASTA) the cheap method ``quick``: SHA-256 over its size, its modification time
(ns) and its first and last MiB (for BAM/CRAM the header and the end-of-file block), which changes when the file
is replaced or rewritten without reading gigabytes. The same digests, recomputed after a failed run, tell a report
that no longer matches its inputs or settings (:func:`stale_reasons`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dira_genotyper import __version__

if TYPE_CHECKING:
    from dira_genotyper.interpretation.request import GenotypeRequest

#: Files up to this size are digested whole; bigger files with the `quick` method.
FULL_DIGEST_LIMIT = 64 * 1024 * 1024
EDGE = 1024 * 1024


def file_digest(path: str) -> dict:
    """{"path", "size", "method", "sha256"} of one file (see the module docstring for the methods)."""
    size = os.path.getsize(path)
    digest = hashlib.sha256()
    if size <= FULL_DIGEST_LIMIT:
        method = "sha256"
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(EDGE), b""):
                digest.update(block)
    else:
        method = "quick"
        digest.update(f"{size}:{os.stat(path).st_mtime_ns}:".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(EDGE))
            handle.seek(size - EDGE)
            digest.update(handle.read(EDGE))
    return {"path": path, "size": size, "method": method, "sha256": digest.hexdigest()}


def sample_files(sample: dict) -> dict[str, str]:
    """The input files of one sample (sheet dict): fq1 + fq2, or bam (a BAM or CRAM)."""
    keys = ("fq1", "fq2") if sample.get("kind") == "fastq" else ("bam",)
    return {key: sample[key] for key in keys if sample.get(key)}


def input_digests(sample: dict, reference: str) -> dict:
    """Digests of the sample's files and of the reference FASTA (with its .fai: contig names and lengths)."""
    digests = {key: file_digest(path) for key, path in sample_files(sample).items()}
    ref = file_digest(reference)
    fai = f"{reference}.fai"
    if os.path.exists(fai):
        ref["fai_sha256"] = hashlib.sha256(Path(fai).read_bytes()).hexdigest()
    return {"files": digests, "reference": ref}


#: Config keys that only say where a file is: the report records the file's content digest instead (the inputs,
#: the reference, the known-allele tables, the resources, the population VCF, the capture design BED and the
#: panel of normals), so the same data and settings give the same report wherever the files sit; where they sat
#: is in `{sample}.run.json`.
LOCATION_KEYS = (
    "samples",
    "reference",
    "population_vcf",
    "resources_dir",
    "known_variants",
    "targets",
    "panel_of_normals",
)


#: Location keys inside a section (section, key): the sample-check site list.
NESTED_LOCATION_KEYS = (("sample_checks", "sites"),)


def analysis_settings(config: dict) -> dict:
    """The effective configuration without the file locations (:data:`LOCATION_KEYS`, :data:`NESTED_LOCATION_KEYS`)."""
    settings = {key: value for key, value in config.items() if key not in LOCATION_KEYS}
    for section, key in NESTED_LOCATION_KEYS:
        if isinstance(settings.get(section), dict) and key in settings[section]:
            settings[section] = {k: v for k, v in settings[section].items() if k != key}
    return settings


def config_digest(config: dict) -> str:
    """SHA-256 of the analysis settings (the configuration without file locations)."""
    settings = analysis_settings(config)
    return hashlib.sha256(json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _content(digest: dict | None) -> dict | None:
    """A file digest without its path (the report keeps what the file held, not where it was)."""
    return None if digest is None else {key: value for key, value in digest.items() if key != "path"}


def write_run_config(config: dict, path: str | os.PathLike, log: str | os.PathLike | None = None) -> None:
    """The effective configuration (schema defaults filled in) as JSON, for the reports' provenance."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(f"effective configuration (sha256 {config_digest(config)}) written to {path}\n")


def report_provenance(checked: dict, config: dict | None, resources: str, known_tables: list[str]) -> dict:
    """The report's ``provenance`` object from the validated-input record and the run configuration."""
    digests = checked.get("digests") or {}
    population = (config or {}).get("population_vcf")
    design = (config or {}).get("targets")
    panel = (config or {}).get("panel_of_normals")
    return {
        "package_version": __version__,
        "inputs": {key: _content(d) for key, d in digests.get("files", {}).items()},
        "reference": _content(digests.get("reference")),
        "resources": resources,
        "known_alleles": {Path(t).name: file_digest(t)["sha256"] for t in known_tables if os.path.exists(t)},
        "population_vcf": _content(file_digest(population)) if population and os.path.exists(population) else None,
        "targets_bed": _content(file_digest(design)) if design and os.path.exists(design) else None,
        "panel_of_normals": _content(file_digest(panel)) if panel and os.path.exists(panel) else None,
        "config_sha256": config_digest(config) if config is not None else None,
        "config": analysis_settings(config) if config is not None else None,
    }


def stale_reasons(report: dict, sample: dict, reference: str, config: dict | None) -> list[str]:
    """Why a report no longer matches the sample's current inputs, reference or configuration (empty: it does).

    A report without provenance (schema < 1.2) cannot be matched and counts as stale.
    """
    prov = report.get("provenance")
    if not prov:
        return ["the report records no provenance (made by an older version)"]
    reasons = []
    current = (
        input_digests(sample, reference)
        if all(os.path.exists(p) for p in [*sample_files(sample).values(), reference])
        else None
    )
    if current is None:
        reasons.append("an input file of the sample or the reference no longer exists")
    else:
        recorded = prov.get("inputs", {})
        for key, now in current["files"].items():
            before = recorded.get(key)
            if not before or before["sha256"] != now["sha256"]:
                reasons.append(f"its {key} file {now['path']} changed since the report was made")
        if (prov.get("reference") or {}).get("sha256") != current["reference"]["sha256"]:
            reasons.append(f"the reference {reference} changed since the report was made")
    if config is not None and prov.get("config_sha256") != config_digest(config):
        reasons.append("the configuration changed since the report was made")
    for key, recorded, what in (("targets", "targets_bed", "capture design"), ("panel_of_normals", None, "panel")):
        path = (config or {}).get(key)
        if path and os.path.exists(path):
            if (prov.get(recorded or key) or {}).get("sha256") != file_digest(path)["sha256"]:
                reasons.append(f"the {what} {path} changed since the report was made")
    return reasons


def provenance_of(req: GenotypeRequest, checked: dict, resources: str, build_meta: dict) -> dict:
    """The ``provenance`` of a genotype run: its validated-input record, run configuration and known-allele tables."""
    config = json.loads(req.run_config.read_text()) if req.run_config else None
    tables = []
    if req.known:
        tables.append(str(req.known))
        tables += [str(req.known.parent / d["known"]) for d in build_meta.get("differential", [])]
    prov = report_provenance(checked, config, resources, tables)
    sample = req.sample
    if sample.get("bam_sm"):
        prov["bam_sm_override"] = bam_sm_override(sample, checked)
    return prov


def bam_sm_override(sample: dict, checked: dict) -> dict:
    """The sheet's ``bam_sm`` (a file whose read groups name another sample, accepted under this sample's name):
    recorded in the report so a reader sees that the file was not labelled with this patient's name."""
    return {"bam_sm": sample["bam_sm"], "read_group_samples": list(checked.get("read_groups") or [])}
