"""Configuration keys checked against the schema before any job starts: a misspelt key is an error naming its full
path and the nearest valid key, not a silently ignored setting (`interpretation.strict_phse`) or a failure of
every sample after extraction (`calling.min_depthh`)."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from dira_genotyper.errors import InputError
from dira_genotyper.shipped import shipped

CONFIG_SCHEMA = shipped("schemas", "config.schema.yaml")


def load_schema(path: str | Path = CONFIG_SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


def unknown_keys(config: dict, schema: dict, prefix: str = "") -> list[tuple[str, str | None]]:
    """(full key path, nearest valid key path or None) for every key the schema does not define, at every level."""
    found: list[tuple[str, str | None]] = []
    if not isinstance(config, dict) or schema.get("type") not in ("object", None):
        return found
    properties = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    for key, value in config.items():
        path = f"{prefix}{key}"
        if key in properties:
            found += unknown_keys(value, properties[key], f"{path}.")
        elif closed:
            near = difflib.get_close_matches(str(key), list(properties), n=1, cutoff=0.6)
            found.append((path, f"{prefix}{near[0]}" if near else None))
    return found


def check_config_keys(config: dict, schema: dict | None = None, source: str = "the configuration") -> None:
    """Raise an InputError listing every unknown key with the nearest valid one."""
    schema = schema if schema is not None else load_schema()
    problems = unknown_keys(config, schema)
    if not problems:
        return
    lines = []
    for path, near in problems:
        parent = path.rpartition(".")[0]
        valid = _valid_keys(schema, parent)
        where = f" of {parent}" if parent else ""
        hint = f"did you mean `{near}`?" if near else f"valid keys{where}: {', '.join(valid)}"
        lines.append(f"unknown key `{path}` in {source}: {hint}")
    lines.append("fix or remove the key (every key is documented in workflow/schemas/config.schema.yaml)")
    raise InputError("\n  ".join(lines))


def _valid_keys(schema: dict, dotted: str) -> list[str]:
    node = schema
    for part in [p for p in dotted.split(".") if p]:
        node = node.get("properties", {}).get(part, {})
    return sorted(node.get("properties", {}))
