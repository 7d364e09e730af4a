"""Phase of two alleles (parents first, then read pairs) and the family (Mendelian) check."""

from __future__ import annotations

from dira_genotyper.interpretation.alleles import allele_label


def _carries(allele: dict, variants: list[dict], cnv: dict | None) -> bool | None:
    """Does a relative carry this allele? None when the relative's data cannot tell."""
    if allele["kind"] == "deletion":
        if cnv is None or cnv.get("status") != "called":
            return None
        g = allele["genomic"]
        return any(d["start"] <= g["end"] and g["pos"] <= d["end"] for d in cnv.get("deletions", []))
    g = allele["genomic"]
    for v in variants:
        if v["chrom"] == g["chrom"] and v["pos"] == g["pos"] and v["ref"] == g["ref"] and v["alt"] == g["alt"]:
            return True
    return False


def phase_from_reads(bam: str, first: dict, second: dict, min_pairs: int = 3) -> tuple[str, str]:
    """Read-backed phase of two small variants: count fragments that carry both, one or neither alt."""
    import pysam

    g1, g2 = first["genomic"], second["genomic"]
    if g1["chrom"] != g2["chrom"] or abs(g1["pos"] - g2["pos"]) > 800 or "deletion" in (first["kind"], second["kind"]):
        return "unknown", "too far apart to be read on one fragment"
    states: dict[str, dict[int, str]] = {}
    lo, hi = min(g1["pos"], g2["pos"]) - 1, max(g1["end"], g2["end"])
    with pysam.AlignmentFile(bam) as handle:
        for read in handle.fetch(g1["chrom"], lo, hi):
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_duplicate:
                continue
            pairs = {ref: qpos for qpos, ref in read.get_aligned_pairs() if ref is not None}
            for index, g in enumerate((g1, g2)):
                state = _allele_in_read(read, pairs, g)
                if state:
                    states.setdefault(read.query_name, {})[index] = state
    cis = trans = 0
    for seen in states.values():
        if len(seen) == 2 and "alt" in seen.values():
            if seen[0] == seen[1]:
                cis += 1
            else:
                trans += 1
    if cis + trans < min_pairs:
        return "unknown", f"only {cis + trans} read pairs cover both variants"
    if trans >= 0.8 * (cis + trans):
        return "in_trans", f"{trans} of {cis + trans} read pairs carry one variant each"
    if cis >= 0.8 * (cis + trans):
        return "in_cis", f"{cis} of {cis + trans} read pairs carry both variants together"
    return "unknown", f"read pairs disagree ({cis} cis, {trans} trans)"


def _allele_in_read(read, pairs: dict[int, int | None], g: dict) -> str | None:
    pos0 = g["pos"] - 1
    ref, alt = g["ref"], g["alt"]
    if pos0 not in pairs or pairs[pos0] is None:
        return None
    if len(ref) == len(alt) == 1:
        base = read.query_sequence[pairs[pos0]]
        return "alt" if base == alt else "ref" if base == ref else None
    if len(ref) > len(alt):  # deletion after the anchor base
        span = range(pos0 + 1, pos0 + len(ref))
        if any(p not in pairs for p in span) or pos0 + len(ref) not in pairs:
            return None
        gaps = [pairs[p] is None for p in span]
        return "alt" if all(gaps) else "ref" if not any(gaps) else None
    return None


def resolve_phase(lof: list[dict], bam: str | None, parents: dict[str, dict]) -> dict:
    """Phase of two heterozygous LoF events: parents first, then reads; otherwise unknown."""
    first, second = lof[0], lof[1]
    father, mother = parents.get("father"), parents.get("mother")
    if father and mother:
        f1, f2 = (_carries(a, father["variants"], father["cnv"]) for a in (first, second))
        m1, m2 = (_carries(a, mother["variants"], mother["cnv"]) for a in (first, second))
        if None not in (f1, f2, m1, m2):
            if (f1 and not f2 and m2 and not m1) or (f2 and not f1 and m1 and not m2):
                return {
                    "status": "in_trans",
                    "method": "parents",
                    "detail": "each parent carries one of the two alleles",
                }
            if (f1 and f2 and not m1 and not m2) or (m1 and m2 and not f1 and not f2):
                return {"status": "in_cis", "method": "parents", "detail": "both alleles come from the same parent"}
    if bam:
        status, detail = phase_from_reads(bam, first, second)
        if status != "unknown":
            return {"status": status, "method": "reads", "detail": detail}
        return {
            "status": "unknown",
            "method": None,
            "detail": f"phase could not be told: {detail}; no parental samples resolve it",
        }
    return {"status": "unknown", "method": None, "detail": "phase could not be told"}


def family_check(sample: dict, alleles: list[dict], parents: dict[str, dict], gene: str) -> dict:
    info = {
        "family": sample.get("family"),
        "father": sample.get("father"),
        "mother": sample.get("mother"),
        "mendelian_consistent": None,
        "detail": "no parents in this run",
    }
    present = {role: data for role, data in parents.items() if data}
    if not present:
        return info
    problems = []
    for allele in alleles:
        carried = {role: _carries(allele, data["variants"], data["cnv"]) for role, data in present.items()}
        label = allele_label(allele, gene)
        if allele["zygosity"] == "homozygous":
            missing = [role for role, has in carried.items() if has is False]
            if missing:
                problems.append(f"{label} is homozygous but the {' and '.join(missing)} does not carry it")
        elif allele["zygosity"] == "heterozygous":
            carriers = [role for role, has in carried.items() if has]
            if len(present) == 2 and not carriers:
                problems.append(f"{label} is carried by neither parent (de novo, or a sample mix-up)")
                allele["origin"] = "de_novo_or_unknown"
            elif carriers == ["father"]:
                allele["origin"] = "paternal"
            elif carriers == ["mother"]:
                allele["origin"] = "maternal"
        elif allele["zygosity"] == "hemizygous":
            carriers = [role for role, has in carried.items() if has]
            if len(carriers) == 1:
                allele["origin"] = "paternal" if carriers == ["father"] else "maternal"
    info["mendelian_consistent"] = not problems
    names = ", ".join(f"{role} {sample.get(role)}" for role in present)
    info["detail"] = (
        f"checked against {names}: consistent with Mendelian inheritance" if not problems else "; ".join(problems)
    )
    return info
