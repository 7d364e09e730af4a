"""The committed locus resources are exactly what the builder makes from the audited tables."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

from dira_devtools.resources.build import build_all
from dira_genotyper.samplecheck.sites import SITES_FILE

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT.parent / "shared" / "locus"


@pytest.mark.skipif(
    not (SOURCE / "FACTS.md").exists(), reason="shared/locus (the source tables) is not beside the project"
)
def test_resources_regenerate_identically(tmp_path):
    build_all(SOURCE, tmp_path)

    def files(folder: Path) -> list[str]:  # every file below the build folder (windows/<gene>/ included)
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    for build in ("GRCh38", "GRCh37", "SYNTH"):
        # the sample-check sites come from their own builder (dira_devtools.resources.sites, test_sites.py)
        names = [name for name in files(ROOT / "resources" / build) if name != SITES_FILE]
        assert names == files(tmp_path / build)
        match, mismatch, errors = filecmp.cmpfiles(ROOT / "resources" / build, tmp_path / build, names, shallow=False)
        assert not mismatch and not errors, (build, mismatch, errors)


def cds_rows(build: str) -> list[tuple[int, int]]:
    rows = [ln.split("\t") for ln in (ROOT / "resources" / build / "il1rn.gff3").read_text().splitlines()]
    return [(int(r[3]), int(r[4])) for r in rows if len(r) > 3 and r[2] == "CDS"]


def c_to_genomic(build: str, c: int) -> int:
    done = 0
    for start, end in cds_rows(build):
        if done + (end - start + 1) >= c:
            return start + (c - done - 1)
        done += end - start + 1
    raise ValueError(c)


def test_mane_cds_matches_facts():
    cds = cds_rows("GRCh38")
    assert cds == [(113127625, 113127740), (113129576, 113129664), (113131045, 113131157), (113132656, 113132871)]
    assert sum(e - s + 1 for s, e in cds) == 534
    assert c_to_genomic("GRCh38", 160) == 113_129_619 and c_to_genomic("GRCh38", 229) == 113_131_068
    assert c_to_genomic("GRCh37", 160) == 113_129_619 + 757_577
    assert c_to_genomic("SYNTH", 160) == 113_129_619 - 112_450_000


def test_window_has_200kb_flanks_around_the_cluster():
    genes = {
        ln.split("\t")[0]: ln.split("\t")
        for ln in (ROOT / "resources" / "GRCh38" / "genes.tsv").read_text().splitlines()[1:]
    }
    chrom, start, end, _ = (ROOT / "resources" / "GRCh38" / "window.bed").read_text().splitlines()[0].split("\t")
    assert int(genes["IL1A"][2]) - (int(start) + 1) >= 200_000
    assert int(end) - int(genes["IL1RN"][3]) >= 200_000


def test_controls_are_documented_and_clear_of_the_blacklist():
    for build in ("GRCh38", "GRCh37", "SYNTH"):
        meta = json.loads((ROOT / "resources" / build / "build.json").read_text())
        doc = meta["controls"]
        assert "blacklist" in doc["why"] and doc["regions"]
        used = [t for t in doc["tiles"] if t["used"]]
        assert used and all(t["repeat_fraction"] <= 0.5 for t in used)
        mask = [ln.split("\t") for ln in (ROOT / "resources" / build / "mask.bed").read_text().splitlines()]
        black = [(int(m[1]), int(m[2])) for m in mask if m[3] == "blacklist"]
        assert black and {m[3] for m in mask} == {"blacklist", "repeat"}
        for r in doc["regions"]:
            assert all(r["end"] <= s or r["start"] > e for s, e in black), (build, r)
    grch38 = json.loads((ROOT / "resources" / "GRCh38" / "build.json").read_text())["controls"]["regions"]
    assert all(r["end"] < 113_302_425 for r in grch38)  # not in chr2:113,302,425-113,684,323 (FACTS.md)
