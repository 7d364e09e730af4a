"""A stored panel of normals for targeted copy number: `dira-genotyper build-panel`.

Built once from a lab's normal samples of one capture design (their ``{sample}.targets.tsv`` from a run of the
workflow, or ``cnv-count --targets-out``), passed by path (config ``panel_of_normals``), and used as further
reference samples beside the run's own (leave-one-out): a run of two exomes then has a reference. The file is a
TSV of read counts per target (one column per normal) after a header that names the build and a digest of the
target layout; loading checks both against the run, so a panel of another kit or build is refused, not used.
Its content digest is in each report's provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from dira_genotyper.cnv.io import read_counts_tsv
from dira_genotyper.errors import InputError

log = logging.getLogger(__name__)

MAGIC = "# dira-genotyper panel of normals"
LAYOUT_COLUMNS = ["chrom", "start", "end", "kind", "name", "gc"]


def layout_digest(counts: pd.DataFrame) -> str:
    """SHA-256 of the target layout (contig, start, end of every target, in order)."""
    text = "\n".join(f"{c}\t{s}\t{e}" for c, s, e in counts[["chrom", "start", "end"]].itertuples(index=False))
    return hashlib.sha256(text.encode()).hexdigest()


def _build_of(resources_dir: str | os.PathLike) -> str:
    path = Path(resources_dir) / "build.json"
    return json.loads(path.read_text()).get("build", "") if path.exists() else ""


def build_panel(counts_paths: list[str], resources_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the panel: every sample's target read counts, checked to share one layout."""
    if len(counts_paths) < 3:
        raise InputError(f"a panel of normals needs at least 3 samples, got {len(counts_paths)}")
    frames = [read_counts_tsv(p) for p in counts_paths]
    digest = layout_digest(frames[0])
    for path, frame in zip(counts_paths, frames, strict=True):
        if layout_digest(frame) != digest:
            raise InputError(f"{path} was counted over other targets than {counts_paths[0]}: one design per panel")
    table = frames[0][LAYOUT_COLUMNS].copy()
    names = [Path(p).name.removesuffix(".targets.tsv") for p in counts_paths]
    if len(set(names)) != len(names):
        raise InputError("panel samples must have distinct names (file names before .targets.tsv)")
    for name, frame in zip(names, frames, strict=True):
        table[name] = frame["reads"].to_numpy()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = [MAGIC, f"# build\t{_build_of(resources_dir)}", f"# layout_sha256\t{digest}", f"# samples\t{len(names)}"]
    with open(out, "w") as handle:
        handle.write("\n".join(header) + "\n")
        table.to_csv(handle, sep="\t", index=False, float_format="%.4f")
    return out


def load_panel(
    path: str | os.PathLike, counts: pd.DataFrame, resources_dir: str | os.PathLike
) -> tuple[list[pd.DataFrame], list[str]]:
    """The panel's samples as count tables of `counts`' layout, after checking its build and target layout."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"panel of normals {path} not found (config panel_of_normals)")
    lines = path.read_text().splitlines()
    if not lines or lines[0] != MAGIC:
        raise InputError(
            f"{path} is not a dira-genotyper panel of normals (make one with `dira-genotyper build-panel`)"
        )
    meta = dict(line[2:].split("\t", 1) for line in lines[1:4] if line.startswith("# ") and "\t" in line)
    build = _build_of(resources_dir)
    if meta.get("build") != build:
        raise InputError(f"panel of normals {path} is of build {meta.get('build')!r}, this run's is {build!r}")
    if meta.get("layout_sha256") != layout_digest(counts):
        raise InputError(
            f"panel of normals {path} was counted over other targets than this run (another design BED, or the "
            "design inferred from the exons): build it from samples counted with this run's `targets`"
        )
    table = pd.read_csv(path, sep="\t", comment="#", dtype={"chrom": str, "kind": str, "name": str})
    names = [c for c in table.columns if c not in LAYOUT_COLUMNS]
    frames = []
    for name in names:
        frame = table[LAYOUT_COLUMNS].copy()
        frame["reads"] = table[name].to_numpy(dtype=np.int64)
        frame["depth"] = np.nan
        frames.append(frame)
    return frames, [f"panel:{n}" for n in names]


def file_sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cmd_build(args: argparse.Namespace) -> int:
    out = build_panel(list(args.counts), args.resources, args.out)
    log.info("panel of normals of %d samples written to %s (sha256 %s)", len(args.counts), out, file_sha256(out))
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    p = subparsers.add_parser("build-panel", help="store a panel of normals for targeted copy number")
    p.add_argument("--counts", nargs="+", required=True, help="normal samples' target counts ({sample}.targets.tsv)")
    p.add_argument("--resources", required=True, help="resources/<build> folder (the build is recorded)")
    p.add_argument("--out", required=True, help="panel file (TSV) to write")
    p.set_defaults(func=_cmd_build)
