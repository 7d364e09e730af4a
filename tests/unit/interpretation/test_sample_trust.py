"""The sample checks applied to a genotype: a failed check withholds the answer, a prenatal sample is read as a
fetal genotype against its maternal contamination, and a homozygous call of a child of related parents outside a
run of homozygosity is flagged."""

from __future__ import annotations

import json

from test_genotype import FULL, MODEL, Q54X, SAMPLE, cnv, parent, var

from dira_genotyper.interpretation.decision import interpret
from dira_genotyper.interpretation.sample_trust import apply_checks, checks_block, load_checks, reinterpret_fetal


def model_of(gene):
    return MODEL


def test_a_failed_identity_check_withholds_a_carrier_answer():
    result = interpret(SAMPLE, [Q54X], cnv(), FULL, model=MODEL, disease="DIRA")
    assert result.status == "carrier"
    entry = {"findings": [{"level": "fail", "code": "not_parent", "text": "the listed father X is not a parent"}]}
    apply_checks(result, entry, SAMPLE, copy_number_two=True)
    assert result.status == "inconclusive"
    assert result.reasons[0].startswith("sample check failed") and "not a parent" in result.summary
    passed = interpret(SAMPLE, [Q54X], cnv(), FULL, model=MODEL, disease="DIRA")
    apply_checks(passed, {"findings": [{"level": "warn", "code": "x", "text": "y"}]}, SAMPLE, True)
    assert passed.status == "carrier"


def test_fetal_calls_are_judged_against_maternal_contamination():
    """15 % maternal cells: the mother's allele alone (3 of 40 reads) is not the fetus's; a paternal allele at
    17 of 40 reads (mother reference) is a fetal heterozygote, its fraction corrected to ~0.5 (not mosaic)."""
    maternal_only = var(3043, "C", "T", depth=40, alt_depth=3)
    paternal = var(4423, "G", "T", hgvs="c.229G>T", known="E77X", depth=40, alt_depth=17)
    mother = parent(var(3043, "C", "T"))  # heterozygous for c.160C>T, reference (callable) at c.229
    kept, maternal = reinterpret_fetal([maternal_only, paternal], mother, 0.15, model_of)
    assert [v["pos"] for v in maternal] == [3043] and "maternal contamination 15.0%" in maternal[0]["note"]
    assert len(kept) == 1 and kept[0]["zygosity"] == "heterozygous" and 0.45 <= kept[0]["allele_fraction"] <= 0.55
    fetus = dict(SAMPLE, prenatal="yes", mother="M")
    assert interpret(fetus, kept, cnv(), FULL, model=MODEL, disease="DIRA").status == "carrier"
    # without the correction the maternal allele makes a second, low-fraction call: not a clean carrier answer
    raw = interpret(fetus, [maternal_only, paternal], cnv(), FULL, model=MODEL, disease="DIRA")
    assert raw.status == "inconclusive"
    # a mother whose site cannot be read (filtered call) leaves the call as it is
    unknown = parent(dict(var(3043, "C", "T"), filter=["LowGQ"]))
    assert reinterpret_fetal([maternal_only], unknown, 0.15, model_of) == ([maternal_only], [])


def test_homozygous_call_outside_a_run_of_homozygosity_in_a_consanguineous_child_is_flagged():
    hom = var(3043, "C", "T", gt="1/1")
    result = interpret(SAMPLE, [hom], cnv(), FULL, model=MODEL, disease="DIRA")
    apply_checks(result, {"findings": [], "parents_related": True, "locus_in_roh": False}, SAMPLE, True)
    assert result.status == "affected" and any("uniparental disomy" in r for r in result.reasons)
    inside = interpret(SAMPLE, [hom], cnv(), FULL, model=MODEL, disease="DIRA")
    apply_checks(inside, {"findings": [], "parents_related": True, "locus_in_roh": True}, SAMPLE, True)
    assert not any("uniparental disomy" in r for r in inside.reasons)


def test_checks_block_and_loading(tmp_path):
    assert checks_block(None, SAMPLE, [])["verdict"] == "not_run"
    run = {
        "samples": {
            "S": {"verdict": "pass", "sites_called": 900, "median_depth": 31.0, "findings": [],
                  "sex": {"inferred": "female", "x_het": 0.3, "x_ratio": 1.0, "y_ratio": 0.0},
                  "contamination": {"fraction": 0.0, "low": 0.0, "high": 0.005, "sites": 900, "model": "x"},
                  "f_roh": 0.01, "locus_in_roh": False},
        },
        "pairs": [{"a": "F", "b": "S", "kinship": 0.25, "ibs0": 0.0, "sites": 800, "degree": "first"},
                  {"a": "S", "b": "U", "kinship": 0.0, "ibs0": 0.05, "sites": 800, "degree": "unrelated"}],
    }  # fmt: skip
    path = tmp_path / "samples.json"
    path.write_text(json.dumps(run))
    entry = load_checks(str(path), "S")
    block = checks_block(entry, dict(SAMPLE, sex="female"), [])
    assert block["verdict"] == "pass" and block["sex_inferred"] == "female" and block["sex_sheet"] == "female"
    assert [r["other"] for r in block["relatives"]] == ["F"]
    assert load_checks(str(path), "other") is None and load_checks(str(tmp_path / "none.json"), "S") is None
