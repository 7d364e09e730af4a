"""Config typos: every schema level is closed, and the error names the key's full path and the nearest valid key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dira_genotyper.errors import InputError
from dira_genotyper.inputs.config_check import check_config_keys, load_schema, unknown_keys

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def schema() -> dict:
    return load_schema()


def _objects(node: dict, path: str = "") -> list[tuple[str, dict]]:
    out = []
    if node.get("type") == "object" or "properties" in node:
        out.append((path or "(top)", node))
        for key, child in node.get("properties", {}).items():
            out += _objects(child, f"{path}.{key}" if path else key)
    return out


def test_every_object_level_is_closed(schema):
    open_levels = [path for path, node in _objects(schema) if node.get("additionalProperties") is not False]
    assert open_levels == []


@pytest.mark.parametrize(
    ("extra", "named", "nearest"),
    [
        ({"buidl": "GRCh38"}, "`buidl`", "`build`"),
        ({"calling": {"min_depthh": 5}}, "`calling.min_depthh`", "`calling.min_depth`"),
        ({"interpretation": {"strict_phse": True}}, "`interpretation.strict_phse`", "`interpretation.strict_phase`"),
        (
            {"interpretation": {"classification": {"benign_aff": 0.02}}},
            "`interpretation.classification.benign_aff`",
            "`interpretation.classification.benign_af`",
        ),
        ({"cnv": {"bin_sise": 500}}, "`cnv.bin_sise`", "`cnv.bin_size`"),
    ],
)
def test_typo_is_named_with_the_nearest_key(extra, named, nearest):
    config = {"samples": "s.tsv", "reference": "r.fa", **extra}
    with pytest.raises(InputError) as err:
        check_config_keys(config)
    assert f"unknown key {named}" in str(err.value)
    assert f"did you mean {nearest}?" in str(err.value)


def test_unrelated_key_lists_the_valid_keys():
    with pytest.raises(
        InputError,
        match=r"unknown key `alignment.zzz`.*valid keys of alignment: mark_duplicates, mode, "
        r"recruit_max_kmer_count, threads",
    ):
        check_config_keys({"samples": "s", "reference": "r", "alignment": {"zzz": 1}})


def test_default_config_has_no_unknown_key(schema):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert unknown_keys(config, schema) == []


def test_every_schema_default_is_a_known_key(schema):
    """The defaults the schema fills in (what the tests and benchmarks run with) pass the closed schema."""
    import jsonschema

    config = {"samples": "s.tsv", "reference": "r.fa"}
    for key, node in schema["properties"].items():
        if "default" in node:
            config[key] = node["default"]
        if node.get("type") == "object":
            config[key] = {k: v["default"] for k, v in node.get("properties", {}).items() if "default" in v}
    assert unknown_keys(config, schema) == []
    jsonschema.Draft202012Validator(schema).validate(config)
