"""Pedigree checks of the sample sheet (family, father, mother, sex), at parse time.

A parent named in the sheet must be a sample of the sheet (a parent without data cannot phase anything: leave the
cell empty); a father must not be female nor a mother male; one sample cannot be both parents of a child, nor its
own parent or ancestor (no cycles); a parent's family must be the child's. Each error names the sheet line and
the fix.
"""

from __future__ import annotations

from typing import Protocol

from dira_genotyper.errors import InputError


class Sample(Protocol):
    """What the checks read of a sheet row (:class:`dira_genotyper.inputs.sheet.Sample` has it)."""

    name: str
    family: str
    father: str
    mother: str
    sex: str


#: The sex a parent must not have, by role.
WRONG_SEX = {"father": "female", "mother": "male"}


def check_pedigree(samples: list[Sample], lines: dict[str, int] | None = None) -> None:
    """Raise an InputError for the first pedigree inconsistency (samples in sheet order)."""
    lines = lines or {}
    by_name = {s.name: s for s in samples}

    def where(s: Sample) -> str:
        return f"sample {s.name} (sheet line {lines[s.name]})" if s.name in lines else f"sample {s.name}"

    for s in samples:
        if s.father and s.father == s.mother:
            raise InputError(
                f"{where(s)}: {s.father!r} is named as both father and mother; one sample cannot be both "
                "parents: fix the father or mother cell"
            )
        for role in ("father", "mother"):
            parent_name = getattr(s, role)
            if not parent_name:
                continue
            if parent_name == s.name:
                raise InputError(f"{where(s)} is named as its own {role}; fix the {role} cell")
            parent = by_name.get(parent_name)
            if parent is None:
                raise InputError(
                    f"{where(s)}: {role} {parent_name!r} is not a sample in the sheet; add the parent's row or "
                    f"leave the {role} cell empty (a parent without sequence data cannot be used for phase)"
                )
            if parent.sex == WRONG_SEX[role]:
                raise InputError(
                    f"{where(s)}: {role} {parent.name} has sex {parent.sex} in the sheet; fix the {role} cell of "
                    f"{s.name} or the sex cell of {parent.name}"
                )
            if (parent.family or "") != (s.family or ""):
                raise InputError(
                    f"{where(s)}: family {s.family or '(empty)'} but its {role} {parent.name} has family "
                    f"{parent.family or '(empty)'}; a parent belongs to the child's family: make the family cells "
                    "agree"
                )
    for s in samples:
        cycle = _cycle_from(s.name, by_name)
        if cycle:
            raise InputError(
                f"{where(s)}: the pedigree has a cycle ("
                + ", ".join(f"{a}'s parent is {b}" for a, b in zip(cycle, cycle[1:]))
                + "); a sample cannot be its own ancestor: fix the father/mother cells"
            )


def _cycle_from(start: str, by_name: dict[str, Sample]) -> list[str] | None:
    """A path start -> parent -> ... -> start through father/mother links, or None."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        sample = by_name.get(name)
        if sample is None:
            continue
        for parent in (sample.father, sample.mother):
            if not parent:
                continue
            if parent == start:
                return [*path, parent]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None
