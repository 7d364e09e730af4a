"""`failed_parents`: the rerun that reports a proband without a parent whose analysis failed, by the genotype rule
(the error handler itself genotypes nobody; tests/workflow/test_bad_input.py runs the whole sequence)."""

from __future__ import annotations

import shlex

import pytest

from tests.conftest import make_workdir, run_snakemake

pytestmark = pytest.mark.workflow
KID, DAD, MUM = "DIRA-02", "DIRA-01-F", "DIRA-06"  # BAM samples of the bundled cohort, as a trio here
HEADER = "sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\n"
SHEET = HEADER + (
    f"{KID}\t\t\ttest-data/bam/{KID}.bam\tF1\t{DAD}\t{MUM}\t\n"
    f"{DAD}\t\t\ttest-data/bam/{DAD}.bam\tF1\t\t\tM\n"
    f"{MUM}\t\t\ttest-data/bam/{MUM}.bam\tF1\t\t\tF\n"
)


def dry_run(tmp_path, *config: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(SHEET)
    workdir = make_workdir(tmp_path / "run", sheet)
    return run_snakemake(workdir, "-n", "--cores", "1", "--printshellcmds", *(("--config", *config) if config else ()))


def genotype_line(proc, sample: str) -> list[str]:
    for line in (proc.stdout + proc.stderr).splitlines():
        if "Shell command: " in line and " genotype " in line and f'"sample": "{sample}"' in line:
            return shlex.split(line.split("Shell command: ", 1)[1])
    raise AssertionError(f"no genotype command of {sample}:\n{proc.stdout[-3000:]}")


def test_a_listed_parent_is_left_out_of_the_childs_genotype_rule(cohort_dir, tmp_path):
    both = genotype_line(dry_run(tmp_path / "a"), KID)
    assert both[both.index("--parents") + 1 : both.index("--parents") + 3] == [DAD, MUM]
    assert "--failed-parent" not in both
    assert both[both.index("--sample-checks") + 1] == f"results/checks/{DAD}.checks.json"  # the family's checks
    proc = dry_run(tmp_path / "b", f"failed_parents=[{DAD}]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    words = genotype_line(proc, KID)
    assert words[words.index("--parents") + 1] == MUM and DAD not in words[words.index("--parents") + 2]
    assert words[words.index("--failed-parent") + 1] == "father=listed in the config's failed_parents"
    assert "--failed-parent" not in genotype_line(proc, DAD)
    # the family's checks run without the failed parent (who is checked alone), so they do not wait for him
    assert words[words.index("--sample-checks") + 1] == f"results/checks/{KID}.checks.json"


def test_failed_parents_must_be_parents_in_the_sheet(cohort_dir, tmp_path):
    proc = dry_run(tmp_path, f"failed_parents=[{KID}]")
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"failed_parents: {KID} is no sample's father or mother in the sheet" in text, text[-3000:]
