"""The bin-counts intermediate (results/cnv/S.counts.tsv): a table cut short is an error, never a null call."""

import pandas as pd
import pytest

from dira_genotyper.cnv.io import read_counts_tsv, write_counts_tsv
from dira_genotyper.errors import InputError


def _counts(n=50):
    return pd.DataFrame(
        {
            "chrom": ["chr2"] * n,
            "start": [1 + 100 * i for i in range(n)],
            "end": [100 + 100 * i for i in range(n)],
            "kind": ["control"] * n,
            "name": ["."] * n,
            "gc": [0.45] * n,
            "reads": [30] * n,
            "depth": [30.0] * n,
        }
    )


def test_counts_round_trip(tmp_path):
    path = write_counts_tsv(_counts(), tmp_path / "S.counts.tsv")
    back = read_counts_tsv(path)
    assert len(back) == 50 and back["depth"].tolist() == [30.0] * 50


@pytest.mark.parametrize("keep", ["lines", "bytes"])
def test_truncated_counts_fail_naming_the_file_and_the_fix(tmp_path, keep):
    path = write_counts_tsv(_counts(), tmp_path / "S.counts.tsv")
    text = path.read_text()
    cut = "".join(text.splitlines(keepends=True)[:20]) if keep == "lines" else text[: len(text) // 2]
    path.write_text(cut)
    with pytest.raises(InputError) as err:
        read_counts_tsv(path)
    message = str(err.value)
    assert str(path) in message and "truncated" in message and f"rm {path}" in message and "rerun" in message


def test_counts_with_a_row_too_many_fail(tmp_path):
    """The trailer counts the rows: a table with a row appended after it (or an edited table) is not trusted."""
    path = write_counts_tsv(_counts(3), tmp_path / "S.counts.tsv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], lines[1], lines[-1]]) + "\n")
    with pytest.raises(InputError, match="truncated or damaged"):
        read_counts_tsv(path)
