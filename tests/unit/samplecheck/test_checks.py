"""The run's sample checks against the sheet: swaps, non-parents, one person twice, sex, contamination."""

from __future__ import annotations

import pysam
import pytest

from dira_devtools.simulate.pedigrees import Population, layout
from dira_genotyper.samplecheck.checks import CheckSettings
from dira_genotyper.samplecheck.run import run_sample_checks
from dira_genotyper.samplecheck.sites import SiteCounts, count_sites

LOCUS = ("chr2", 50_000_000, 50_010_000)


@pytest.fixture(scope="module")
def family():
    pop = Population(*layout(autosome_sites=2400, chromosomes=4), seed=3)
    people = {"F": pop.founder(), "M": pop.founder(), "X": pop.founder()}
    people["C"] = pop.child(people["F"], people["M"])
    sexes = {"F": True, "M": False, "X": True, "C": False}
    counts = {n: pop.counts(p, male=sexes[n]) for n, p in people.items()}
    return pop, people, counts


def sheet(**over):
    rows = [
        {"sample": "F", "family": "fam", "sex": "male"},
        {"sample": "M", "family": "fam", "sex": "female"},
        {"sample": "C", "family": "fam", "sex": "female", "father": "F", "mother": "M"},
        {"sample": "X", "family": "other", "sex": "male"},
    ]
    for row in rows:
        row.update(over.get(row["sample"], {}))
    return rows


def run(rows, counts):
    return run_sample_checks(rows, counts, LOCUS, CheckSettings())["samples"]


def codes(result, name):
    return {f["code"] for f in result[name]["findings"]}


def test_a_true_family_passes(family):
    _, _, counts = family
    result = run(sheet(), counts)
    assert {n: r["verdict"] for n, r in result.items()} == {"F": "pass", "M": "pass", "C": "pass", "X": "pass"}
    assert result["C"]["sex"]["inferred"] == "female" and result["F"]["sex"]["inferred"] == "male"


def test_a_son_passes_with_his_father(family):
    """A son's X is his mother's, so at X sites he and his father are often opposite homozygotes (hemizygous calls):
    relatedness is judged on the autosomes, or every father-son pair looks like a non-parent (IBS0 1.3 % here, over
    the 1 % limit)."""
    pop, people, counts = family
    son = {**counts, "C": pop.counts(pop.child(people["F"], people["M"]), male=True)}
    result = run(sheet(C={"sex": "male"}), son)
    assert result["C"]["verdict"] == "pass" and result["F"]["verdict"] == "pass", result["C"]["findings"]
    assert result["C"]["sex"]["inferred"] == "male"


def test_an_unrelated_man_listed_as_father_fails_child_and_father(family):
    _, _, counts = family
    result = run(sheet(C={"father": "X"}, X={"family": "fam"}), counts)
    assert "not_parent" in codes(result, "C") and "not_parent" in codes(result, "X")
    assert result["C"]["verdict"] == "fail"


def test_swapped_files_are_caught_by_sex_and_parentage(family):
    _, _, counts = family
    swapped = {**counts, "F": counts["M"], "M": counts["F"]}
    result = run(sheet(), swapped)
    assert "sex_mismatch" in codes(result, "F") and "sex_mismatch" in codes(result, "M")


def test_two_files_of_one_person(family):
    pop, people, counts = family
    twin = {**counts, "X": pop.counts(people["C"], male=False)}
    result = run(sheet(X={"sex": "female"}), twin)
    assert "duplicate" in codes(result, "X") and "duplicate" in codes(result, "C")


def test_contaminated_sample_fails_and_prenatal_uses_the_mother(family):
    pop, people, counts = family
    dirty = {**counts, "C": pop.counts(people["C"], male=False, other=people["X"], alpha=0.08)}
    result = run(sheet(), dirty)
    assert "contamination" in codes(result, "C")
    fetal = {**counts, "C": pop.counts(people["C"], male=False, other=people["M"], alpha=0.12)}
    result = run(sheet(C={"prenatal": "yes"}), fetal)
    mcc = result["C"]["maternal_contamination"]
    assert abs(mcc["fraction"] - 0.12) <= 0.015 and result["C"]["verdict"] == "pass"
    heavy = {**counts, "C": pop.counts(people["C"], male=False, other=people["M"], alpha=0.35)}
    assert "maternal_contamination" in codes(run(sheet(C={"prenatal": "yes"}), heavy), "C")


def test_site_counts_are_read_through_the_index(tmp_path):
    seq = "".join("ACGT"[(i * 7 + i // 3) % 4] for i in range(2000))
    fasta = tmp_path / "ref.fa"
    fasta.write_text(f">chr2\n{seq}\n")
    pysam.faidx(str(fasta))
    site_pos = 1000  # 1-based
    ref_base = seq[site_pos - 1]
    alt_base = "A" if ref_base != "A" else "C"
    sites = tmp_path / "sites.tsv.gz"
    import gzip

    with gzip.open(sites, "wt") as out:
        out.write("#chrom\tpos\tref\talt\trsid\tkind\texonic\n")
        out.write(f"2\t{site_pos}\t{ref_base}\t{alt_base}\trs1\tA\t0\n")  # no-chr naming in the site table
        out.write(f"2\t{site_pos + 30}\t{seq[site_pos + 29]}\t{alt_base}\trs2\tA\t0\n")  # same span, no alt read
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr2", "LN": 2000}]}
    bam = tmp_path / "s.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for i in range(24):
            start = site_pos - 60 + i
            read = pysam.AlignedSegment()
            read.query_name = f"r{i}"
            bases = list(seq[start : start + 100])
            if i % 3 == 0:
                bases[site_pos - 1 - start] = alt_base
            read.query_sequence = "".join(bases)
            read.flag, read.reference_id, read.reference_start = 0, 0, start
            read.mapping_quality, read.cigarstring = 60, "100M"
            read.query_qualities = pysam.qualitystring_to_array("I" * 100)
            out.write(read)
    pysam.index(str(bam))
    counts = count_sites(str(bam), str(fasta), sites)
    assert (counts.ref_n[0], counts.alt_n[0]) == (16, 8)
    assert (counts.ref_n[1], counts.alt_n[1]) == (24, 0)
    out = tmp_path / "s.sites.tsv"
    counts.write(out)
    again = SiteCounts.read(out)
    assert again.alt_n.tolist() == [8, 0] and again.chrom.tolist() == ["2", "2"]


def test_sites_close_together_are_read_in_one_span():
    from dira_genotyper.samplecheck.sites import site_spans

    sites = [
        ("2", 5000, "A", "G"),
        ("2", 1000, "A", "G"),
        ("2", 2500, "C", "T"),
        ("X", 10, "A", "G"),
        ("9", 1, "A", "C"),
    ]
    names = {"2": "chr2", "X": "chrX"}  # no contig 9 in the alignment
    assert site_spans(sites, names, gap=2000) == [("chr2", 1000, 2500), ("chr2", 5000, 5000), ("chrX", 10, 10)]
    assert site_spans(sites, names, gap=1) == [("chr2", 1000, 1000), ("chr2", 2500, 2500), ("chr2", 5000, 5000),
                                               ("chrX", 10, 10)]  # fmt: skip


def test_too_few_sites_is_said_not_passed(family):
    pop, people, counts = family
    thin = {n: pop.counts(p, male=m, depth=2) for n, (p, m) in zip(people, [(people[n], n in "FX") for n in people])}
    result = run(sheet(), thin)
    assert all(r["verdict"] == "warn" for r in result.values())
    assert all("too_few_sites" in codes(result, n) for n in result)


def test_a_sheet_sex_the_sites_cannot_check_is_said(family):
    """M's file without its X and Y sites (a panel, an exome without them): the sheet's sex is unchecked, a
    warning, not a silent pass; the others are sexed as the sheet says and get no such warning."""
    import dataclasses

    _, _, counts = family
    m = counts["M"]
    autosomal = m.kind == "A"
    no_xy = dataclasses.replace(m, **{f.name: getattr(m, f.name)[autosomal] for f in dataclasses.fields(m)})
    result = run(sheet(), {**counts, "M": no_xy})
    assert result["M"]["sex"]["inferred"] == "unknown" and "sex_unchecked" in codes(result, "M")
    assert result["M"]["verdict"] == "warn"
    assert all("sex_unchecked" not in codes(result, n) for n in "FXC")


def test_sex_finding():
    from dira_genotyper.samplecheck.checks import sex_finding

    assert sex_finding("male", "female")["code"] == "sex_mismatch"
    assert sex_finding("Female", "unknown")["level"] == "warn"
    assert sex_finding("female", "unknown")["code"] == "sex_unchecked"
    assert sex_finding("", "unknown") is None and sex_finding(None, "male") is None
    assert sex_finding("male", "male") is None


def test_check_groups_follow_families_and_parent_links():
    from dira_genotyper.samplecheck.run import check_groups

    rows = [
        {"sample": "C", "family": "f1", "father": "F", "mother": "M"},
        {"sample": "F", "family": "f1"},
        {"sample": "M", "family": "f1"},
        {"sample": "K", "father": "P"},  # no family column: linked by the pedigree
        {"sample": "P"},
        {"sample": "S"},
        {"sample": "T", "family": "f1"},  # same family, no parent link
    ]
    groups = check_groups(rows)
    assert groups == {"C": "C", "F": "C", "M": "C", "T": "C", "K": "K", "P": "K", "S": "S"}
