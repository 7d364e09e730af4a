"""Plain-language errors for failures caused by a damaged file or a full disk, whatever command hit them.

A truncated JSON intermediate otherwise gives a ``JSONDecodeError`` traceback without a file name; a truncated
BAM/VCF a pysam ``OSError`` that does not say that Snakemake keeps the damaged file (it exists, so it is not
regenerated); a full disk an ``OSError`` deep in a write. :func:`diagnose` names the file and the fix; the CLI
prints it as the job's last ``ERROR:`` line, which is what ``cohort.tsv`` shows as the failure reason.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dira_genotyper.inputs.sheet import BGZF_EOF, CRAM3_EOF

#: File name endings of BGZF-compressed files (and CRAM) whose end-of-file marker tells a truncated file.
EOF_MARKERS = {".bam": BGZF_EOF, ".vcf.gz": BGZF_EOF, ".bcf": BGZF_EOF, ".bed.gz": BGZF_EOF, ".cram": CRAM3_EOF}


def _paths(args: object) -> list[str]:
    """Every existing file named by a command's arguments (strings and lists of strings)."""
    values: list[str] = []
    for value in vars(args).values() if args is not None else ():
        if isinstance(value, str):
            values.append(value)
        elif isinstance(value, list | tuple):
            values += [v for v in value if isinstance(v, str)]
    return [v for v in dict.fromkeys(values) if os.path.isfile(v)]


def _is_intermediate(path: str) -> bool:
    """Whether a file is one this workflow wrote (under results/ of the working directory)."""
    try:
        Path(path).resolve().relative_to(Path.cwd().resolve() / "results")
    except ValueError:
        return False
    return True


def _fix(path: str) -> str:
    if _is_intermediate(path):
        return (
            f"it is an intermediate of this workflow, which Snakemake does not regenerate while it exists: delete it "
            f"(`rm {path}`) and rerun the workflow"
        )
    return "it is an input: copy or re-create it, then rerun"


def truncated_files(paths: Iterable[str]) -> list[str]:
    """The BGZF/CRAM files among ``paths`` without their end-of-file marker."""
    bad = []
    for path in paths:
        marker = next((m for ext, m in EOF_MARKERS.items() if path.endswith(ext)), None)
        if marker is None:
            continue
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            handle.seek(max(size - len(marker), 0))
            if size < len(marker) or handle.read() != marker:
                bad.append(path)
    return bad


def invalid_json_files(paths: Iterable[str]) -> list[tuple[str, str]]:
    """(path, parser message) of the JSON files among ``paths`` that do not parse."""
    bad = []
    for path in paths:
        if not path.endswith(".json"):
            continue
        try:
            json.loads(Path(path).read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            bad.append((path, str(exc)))
    return bad


def _chain(exc: BaseException) -> list[BaseException]:
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_disk_full(exc: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT) for e in _chain(exc))


#: Free space below which a disk counts as full when a pipe broke (the tool at its other end died writing).
FULL_DISK_BYTES = 100 * 2**20


def full_disk(folders: Iterable[str] | None = None) -> str | None:
    """The first of ``folders`` (default: the working directory and the temporary folder) whose disk is full."""
    for folder in folders or (".", tempfile.gettempdir()):
        try:
            if shutil.disk_usage(folder).free < FULL_DISK_BYTES:
                return folder
        except OSError:
            continue
    return None


def _broken_pipe(exc: BaseException) -> bool:
    """A pipe to or from a tool broke, or the tool failed: what a full disk looks like from the other end."""
    return any(isinstance(e, BrokenPipeError | subprocess.CalledProcessError | ChildProcessError) for e in _chain(exc))


def _disk_full_message(what: str, folder: str) -> str:
    return (
        f"no space left on device ({what}); the partial outputs of this job were removed. Free space on the disk "
        f"that holds {folder} (`df -h {folder}`; results/ and the temporary folder: `df -h . $TMPDIR`), then rerun "
        "the same command: Snakemake redoes only the unfinished jobs"
    )


def diagnose(exc: BaseException, args: object = None) -> str | None:
    """What went wrong and how to fix it, when the cause is a full disk or a damaged file; else None."""
    if is_disk_full(exc):
        folder = next((e.filename for e in _chain(exc) if isinstance(e, OSError) and e.filename), None)
        return _disk_full_message(str(exc), os.path.dirname(os.path.abspath(folder)) if folder else ".")
    folder = full_disk() if _broken_pipe(exc) else None
    if folder:
        free = shutil.disk_usage(folder).free
        return _disk_full_message(f"a pipe broke ({exc}) while {folder} has {free / 2**20:.0f} MiB free", folder)
    paths = _paths(args)
    problems = []
    for path, message in invalid_json_files(paths):
        problems.append(f"{path} is not valid JSON ({message}): it is truncated or damaged; {_fix(path)}")
    for path in truncated_files(paths):
        problems.append(f"{path} is truncated (no end-of-file marker); {_fix(path)}")
    if not problems and isinstance(exc, json.JSONDecodeError):
        # files read by derived paths (a proband's parents' evidence): the JSON files beside the named ones
        folders = {Path(p).parent for p in paths if p.endswith(".json")}
        siblings = [str(f) for folder in sorted(folders) for f in sorted(folder.glob("*.json"))[:5000]]
        for path, message in invalid_json_files(siblings):
            problems.append(f"{path} is not valid JSON ({message}): it is truncated or damaged; {_fix(path)}")
    if problems:
        return "; ".join(problems)
    if isinstance(exc, json.JSONDecodeError):
        return (
            f"a JSON file could not be read ({exc}); an intermediate under results/ may be truncated: delete the "
            "intermediates of this sample (results/*/SAMPLE.*) and rerun"
        )
    return None


def remove_partial(paths: list[str | Path], patterns: list[str] = ()) -> list[str]:
    """Delete a failed job's partial files (and ``dir/glob`` patterns, e.g. samtools sort temporaries)."""
    removed = []
    for path in [*map(Path, paths), *(p for pat in patterns for p in Path(pat).parent.glob(Path(pat).name))]:
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(str(path))
        except FileNotFoundError:
            continue
    return removed
