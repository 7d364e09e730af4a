"""A proband reported without a parent whose analysis failed.

The genotype job of a proband reads its parents' variants and copy number for the phase and the family check, so
Snakemake cannot run it when a parent fails. After the failed run the workflow's error handler
(:func:`dira_genotyper.run.recovery.recover`) names such a proband and the rerun that reports it without the
parent: with the parent in the config's ``failed_parents``, the genotype rule runs from the proband's own evidence
and passes the failed parents here (``--failed-parent``): the report then says which parent failed, that the
parental phase and the family check are missing, and how to add them (fix the parent's data and rerun without
the setting: the report is then remade with the parents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dira_genotyper.interpretation.decision import Interpretation


def parse_failed_parents(values: list[str] | dict[str, str] | None) -> dict[str, str]:
    """``ROLE=description`` items (CLI) or a dict -> {role: description}; roles are father and mother."""
    if not values:
        return {}
    if isinstance(values, dict):
        items = values.items()
    else:
        items = [v.split("=", 1) if "=" in v else (v, "") for v in values]
    out = {}
    for role, description in items:
        if role not in ("father", "mother"):
            raise ValueError(f"--failed-parent {role}={description}: the role must be father or mother")
        out[role] = description
    return out


def note_failed_parents(interp: Interpretation, failed: dict[str, str], sample: dict, cause: str = "analysis") -> None:
    """Say in the interpretation (reasons, limitations, phase, family) which parent is missing and why: its
    analysis failed in this run (``cause="analysis"``) or its sample checks failed (``cause="checks"``: the file
    may not be that parent's, or it is contaminated; :func:`~.genotype.untrusted_parents`)."""
    if not failed:
        return
    named = [f"{role} {sample.get(role) or '?'}" + (f" ({why})" if why else "") for role, why in sorted(failed.items())]
    who = " and ".join(named)
    if cause == "checks":
        reason = (
            f"reported without parental phase: the sample checks of the {who} failed, so that parent's calls were "
            "not used for phase, the family check or a fetus's maternal alleles"
        )
        limitation = (
            f"Parental phase missing: the sample checks of the {who} failed (the file may not be that parent's, or "
            "it is contaminated). Phase was judged from this sample's reads alone and the family (Mendelian) check "
            "was not done. Resolve the check (the right file, or a new sample) and rerun the workflow."
        )
    else:
        reason = (
            f"reported without parental phase: the analysis of the {who} failed in this run, so the parents' data "
            "could not be used for phase or the family check"
        )
        limitation = (
            f"Parental phase missing: the analysis of the {who} failed. Phase was judged from this sample's reads "
            "alone and the family (Mendelian) check was not done. Fix the parent's data and rerun the workflow to "
            "add them."
        )
    interp.reasons.append(reason)
    interp.limitations.insert(0, limitation)
    if interp.phase.get("method") != "parents" and interp.phase.get("status") in ("unknown", "not_applicable"):
        interp.phase["detail"] = f"{interp.phase['detail']}; parental data missing (failed: {who})"
    interp.family["detail"] = f"not checked against the failed {who}; " + interp.family.get("detail", "")
    interp.family["failed_parents"] = interp.family.get("failed_parents", []) + [
        {"role": role, "sample": sample.get(role), "reason": why} for role, why in sorted(failed.items())
    ]
