#!/usr/bin/env bash
# The test gate (README command 2 and .ci/run call exactly this): set-up, then fast static checks that fail
# within a minute or two with the command to fix them, then the whole test suite.
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -k cohort  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$1"; }
fail() {
  printf '\nGATE FAILED at: %s\n  fix: %s\n' "$1" "$2" >&2
  exit 1
}

step "set-up (scripts/setup.sh --test)"
bash scripts/setup.sh --test || fail "set-up" "see the message above (Python >= 3.11, pip, apt-get for bwa)"

step "ruff check"
.venv/bin/ruff check . || fail "ruff check" ".venv/bin/ruff check --fix . (then fix what remains by hand)"

step "ruff format --check"
.venv/bin/ruff format --check . || fail "ruff format --check" ".venv/bin/ruff format ."

step "snakefmt --check"
.venv/bin/snakefmt --check . || fail "snakefmt --check" ".venv/bin/snakefmt ."

step "test cohort (dira-genotyper test-cohort; nothing to do when test-data/ is current)"
.venv/bin/dira-genotyper test-cohort || fail "test cohort" "remove test-data/ and run .venv/bin/dira-genotyper test-cohort"

step "snakemake --lint"
.venv/bin/snakemake --lint || fail "snakemake --lint" "follow the lint messages above"

step "dry run (snakemake -n)"
.venv/bin/snakemake -n --quiet rules --cores 2 || fail "dry run" "the workflow does not build its job graph: see above"

# pytest on a lane: exit code 5 (no test selected, e.g. `-k` naming only tests of the other lane) is no failure
lane() {
  local rc=0
  .venv/bin/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder "$@" || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ]
}

step "fast lane: unit tests (pytest tests/unit, 2 pytest-xdist workers)"
# The unit tests first (about two minutes): a broken rule of the package stops the gate before the workflow runs.
lane tests/unit "$@" ||
  fail "unit tests" "see the failures above; run them alone with .venv/bin/python -m pytest tests/unit -x"

step "workflow lane: end-to-end tests (pytest tests/workflow tests/slurm, 2 workers, one module each at a time)"
# Two workers: while one waits on a single-threaded step (a dry run, Snakemake's own start-up), the other keeps the
# second core busy. A module stays on one worker (its module fixtures are made once); the session's workflow runs
# are made once for both workers (tests/conftest.py, once_per_session).
lane tests/workflow tests/slurm "$@" || fail "workflow tests" "see the failures above"
