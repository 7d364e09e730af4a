#!/usr/bin/env bash
# Set up dira-genotyper on a fresh Debian/Ubuntu machine with Python 3.11:
#   a virtual environment in .venv with the pinned Python stack (pyproject.toml), and the non-Python tools
#   (BWA from Debian; with --test also Chromium for the HTML report test and Slurm for the cluster test).
# Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "dira-genotyper needs Python >= 3.11 (found $(python3 --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
else
  .venv/bin/python -m pip install --quiet -e .
fi

debs=()
command -v bwa >/dev/null || debs+=(bwa)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null || debs+=(chromium)
  command -v slurmctld >/dev/null || debs+=(slurmctld slurmd slurm-client munge)
fi
if [ "${#debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
  else
    echo "WARNING: missing tools: ${debs[*]}. Install them with: sudo apt-get install -y ${debs[*]}" >&2
    echo "         (or use conda: envs/tools.yaml, and run snakemake with --sdm conda)" >&2
  fi
fi
echo "setup done: $(.venv/bin/dira-genotyper --version), bwa $(command -v bwa >/dev/null && echo present || echo MISSING)"
