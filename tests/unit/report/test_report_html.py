"""The report contract (JSON schema) and the clinician's HTML page rendered from it."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import jsonschema
import pytest

from dira_genotyper.report import read_bins_tsv, render_html, write_html
from dira_genotyper.report.svg import Element

try:  # tests/unit as a package or as a plain folder on sys.path (pytest's default import mode)
    from . import dira_report_examples as ex
except ImportError:
    import dira_report_examples as ex

CHROMIUM = Path("/usr/bin/chromium")
ALL = [*ex.STATUSES, *ex.EXTRA]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(ex.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def examples() -> dict[str, tuple[dict, list[dict]]]:
    return ex.all_examples()


def _render(examples, name: str) -> str:
    report, bins = examples[name]
    return render_html(report, bins, ex.genes(), ex.exons())


# ------------------------------------------------------------------------------------------- schema
@pytest.mark.parametrize("name", ALL)
def test_example_reports_validate(validator, examples, name):
    report, _ = examples[name]
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_every_status_has_an_example(examples):
    assert {examples[s][0]["status"] for s in ex.STATUSES} == set(ex.STATUSES)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda r: r.update(status="maybe"), id="unknown-status"),
        pytest.param(lambda r: r.update(extra_field=1), id="extra-top-level-key"),
        pytest.param(lambda r: r.update(reasons=[]), id="no-reasons"),
        pytest.param(lambda r: r.update(sample="-bad name"), id="bad-sample-name"),
        pytest.param(lambda r: r["copy_number"].pop("IL36RN"), id="cluster-gene-missing"),
        pytest.param(lambda r: r.update(schema_version="2.0"), id="wrong-schema-version"),
        pytest.param(lambda r: r["qc"].update(callable_fraction_cds=1.5), id="fraction-above-one"),
        pytest.param(lambda r: r["qc"].update(cnv_status="maybe"), id="bad-cnv-status"),
        pytest.param(lambda r: r["alleles"][0].update(hgvs_p="p.(Met1?)"), id="deletion-with-protein-name"),
        pytest.param(lambda r: r["alleles"][0].update(zygosity="mosaic"), id="bad-zygosity"),
        pytest.param(lambda r: r["alleles"][0].update(hgvs_c="160C>T"), id="hgvs-c-without-c-dot"),
        pytest.param(lambda r: r["alleles"][0].update(hgvs_c="NM_173842.3:p.(Gln54*)"), id="protein-name-as-c"),
        pytest.param(lambda r: r["deletions"][0].pop("breakpoint_support"), id="deletion-without-support"),
        pytest.param(lambda r: r["transcript"].update(gene="IL1B"), id="wrong-gene"),
        pytest.param(lambda r: r["phase"].update(method="guess"), id="bad-phase-method"),
    ],
)
def test_schema_rejects_broken_reports(validator, examples, mutate):
    report = copy.deepcopy(examples["affected"][0])
    mutate(report)
    assert list(validator.iter_errors(report))


@pytest.mark.parametrize(
    ("hgvs_c", "hgvs_p"),
    [("c.160C>T", "p.(Gln54*)"), ("NM_173842.3:c.160C>T", "NP_776214.1:p.(Gln54*)"), ("c.-5G>A", None)],
)
def test_schema_takes_hgvs_names_with_or_without_accession(validator, examples, hgvs_c, hgvs_p):
    report = copy.deepcopy(examples["inconclusive"][0])
    report["alleles"][0].update(hgvs_c=hgvs_c, hgvs_p=hgvs_p)
    assert not list(validator.iter_errors(report))


def test_schema_allows_nulls_where_a_value_can_be_missing(validator, examples):
    report = copy.deepcopy(examples["inconclusive"][0])
    report["qc"]["mean_depth"] = None
    report["qc"]["normalisation_mad"] = None
    report["alleles"][0]["evidence"].update(depth=None, allele_fraction=None, population_af=None)
    report["alleles"][0]["origin"] = None
    report["family"]["mendelian_consistent"] = None
    assert not list(validator.iter_errors(report))


# ------------------------------------------------------------------------------------------- page
@pytest.mark.parametrize("name", ALL)
def test_page_shows_answer_alleles_and_plot(examples, name):
    report, _ = examples[name]
    page = _render(examples, name)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<div class="word">{report["status"]}</div>' in page
    assert report["sample"] in page
    assert page.count("<svg") == 2 and page.count("</svg>") == 2
    for allele in report["alleles"]:
        for name_ in (allele["hgvs_c"], allele["hgvs_p"]):
            if name_:
                assert name_.replace(">", "&gt;") in page
    # The answer comes before the evidence.
    assert page.index('class="badge"') < page.index("IL1RN alleles") < page.index("<svg")


@pytest.mark.parametrize("name", ALL)
def test_page_is_self_contained(examples, name):
    page = _render(examples, name)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=""", page), "no linked resources"
    assert "@import" not in page and "url(" not in page
    assert "@media print" in page


#: Renders every example into a folder, and writes the process's hash of a string beside the pages.
_RENDER_ALL = """
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import dira_report_examples as ex
from dira_genotyper.report import render_html

out = Path(sys.argv[2])
out.mkdir(parents=True)
(out / "hash.txt").write_text(str(hash("dira-genotyper")))
for name, (report, bins) in ex.all_examples().items():
    (out / f"{name}.html").write_bytes(render_html(report, bins, ex.genes(), ex.exons()).encode("utf-8"))
"""


@pytest.fixture(scope="module")
def pages_from_two_processes(tmp_path_factory) -> list[Path]:
    """Every example rendered in two fresh interpreters with different string hashing (PYTHONHASHSEED)."""
    folders = []
    for seed in ("1", "2"):
        out = tmp_path_factory.mktemp("pages") / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-c", _RENDER_ALL, str(Path(ex.__file__).parent), str(out)],
            env=env,
            check=True,
            timeout=300,
        )
        folders.append(out)
    return folders


@pytest.mark.parametrize("name", ALL)
def test_page_is_deterministic(pages_from_two_processes, examples, name):
    """Same report, same bytes: across interpreters whose set and dict-of-str orders differ, and in this one."""
    first, second = pages_from_two_processes
    assert (first / "hash.txt").read_text() != (second / "hash.txt").read_text(), "hash seeds did not differ"
    page = (first / f"{name}.html").read_bytes()
    assert page == (second / f"{name}.html").read_bytes()
    assert page == _render(examples, name).encode("utf-8")


def test_badge_colours_by_status(examples):
    colours = {}
    for status in ex.STATUSES:
        page = _render(examples, status)
        colours[status] = re.search(r'class="badge" style="background:(#[0-9a-f]{6})', page).group(1)
    assert len(set(colours.values())) == 4
    assert colours["affected"] == "#b3261e"  # red
    assert colours["negative"] == "#2e7d32"  # green


def test_synthetic_warning_only_for_synth_build(examples):
    report, bins = copy.deepcopy(examples["negative"])
    assert "SYNTHETIC TEST DATA" in render_html(report, bins, ex.genes(), ex.exons())
    report["build"] = "GRCh38"
    page = render_html(report, bins, ex.genes(), ex.exons())
    assert "SYNTHETIC" not in page
    assert "research use only" in page.lower()


def test_methods_name_the_input_and_research_use_heads_the_page(examples):
    """BAM/CRAM input was not aligned here: the methods must not say "aligned with BWA-MEM"; research use is in the
    header, not only the last limitation."""
    carrier = _render(examples, "carrier")  # a CRAM sample
    assert "aligned with BWA-MEM" not in carrier and "submitted CRAM file" in carrier
    fastq = _render(examples, "affected")
    assert "aligned with BWA-MEM" in fastq
    assert fastq.index("For research use only") < fastq.index('class="badge"')


def test_text_from_the_report_is_escaped(examples):
    """Script and image tags in every free-text field come out as text, never as markup."""
    attack = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    report, bins = copy.deepcopy(examples["carrier"])
    report["summary"] = attack
    report["reasons"] = ["<b>bold</b>", attack]
    report["limitations"] = [attack]
    allele = report["alleles"][0]
    allele.update(
        hgvs_c="c.1" + attack,
        hgvs_p="p.(" + attack + ")",
        hgvs_c_ensembl=attack,
        known_as="<i>E77X</i>",
        classification_reason=attack,
        flags=[attack],
    )
    report["other_variants"] = [
        {
            "name": attack,
            "zygosity": "heterozygous",
            "classification": "benign",
            "classification_reason": attack,
            "population_af": 0.2,
        }
    ]
    page = render_html(report, bins, ex.genes(), ex.exons())
    assert "<script" not in page and "<img" not in page and "<b>bold" not in page and "<i>E77X" not in page
    assert "&lt;script&gt;" in page and "&amp;" in page
    # summary, reason, limitation, c., p., Ensembl name, classification reason, flag, other call's name and reason
    assert page.count("&lt;script&gt;") == 10
    assert "&lt;i&gt;E77X&lt;/i&gt;" in page


def test_svg_element_escapes_attributes_and_text():
    el = Element("text", 'a<b> & "c"', Element("title", "</svg><script>"), x=1.25, y=-0.01, aria_label='x" y')
    svg = el.render()
    assert svg.startswith('<text x="1.2" y="0.0" aria-label="x&#34; y">a&lt;b&gt; &amp; &#34;c&#34;<title>')
    assert "<script" not in svg and "</svg>" not in svg
    assert Element("line", x1=0.0, stroke_width="1", fill=None).render() == '<line x1="0.0" stroke-width="1"/>'


def test_other_calls_flags_and_depth_needed(examples):
    """other_variants get their own table, allele flags sit under the classification, exons show depth needed."""
    report, bins = copy.deepcopy(examples["compound"])
    assert "Other calls" not in _render(examples, "compound")
    report["alleles"][0]["flags"] = ["Allele fraction 0.30: possible mosaic"]
    report["other_variants"] = [
        {
            "name": "NM_173842.3:c.-20A>G",
            "zygosity": "heterozygous",
            "classification": "benign",
            "classification_reason": "Common in the population",
            "population_af": 0.12,
        }
    ]
    for row, needed in zip(report["exon_coverage"], [5, 5, None, 9], strict=True):
        row.update(copy_number=1, required_depth=needed)
    page = render_html(report, bins, ex.genes(), ex.exons())
    other = page[page.index("<h2>Other calls (not reported as alleles)</h2>") :]
    other = other[: other.index("</section>")]
    assert "NM_173842.3:c.-20A&gt;G" in other and "Benign" in other and "0.120" in other
    classification = '<span class="small">' + report["alleles"][0]["classification_reason"] + "</span>"
    assert classification + '<br><span class="flag">Allele fraction 0.30: possible mosaic</span>' in page
    exons = page[page.index("IL1RN exon coverage") :]
    assert '<th class="num">Depth needed</th>' in exons
    assert exons.count('<td class="num">5</td>') == 2 and '<td class="num">9</td>' in exons


def test_limitations_are_the_reports_own_list_escaped(examples):
    """The HTML shows the JSON's limitations (decided once, by decision.limitations), escaped."""
    report, bins = copy.deepcopy(examples["inconclusive"])
    page = render_html(report, bins, ex.genes(), ex.exons())
    section = page[page.index("<h2>Limitations</h2>") :]
    for text in report["limitations"]:
        assert html.escape(text, quote=False) in section
    assert "<script>" not in section and "&lt;script&gt;" in section
    assert "Synthetic test data" in section  # SYNTH build


def test_plot_draws_segments_genes_and_deletion(examples):
    page = _render(examples, "affected")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "deletion, CN 0" in svg
    assert 'stroke="#b3261e" stroke-width="3.5"' in svg  # the CN 0 segment
    for gene in ("IL1RN", "IL36G", "IL1F10", "IL1A"):
        assert f">{gene} " in svg
    assert svg.count("IL1RN exon") == 4
    no_call = _render(examples, "inconclusive")
    assert 'stroke-width="3.5"' not in no_call  # no segments when nothing was called
    assert "NO CALL" in no_call


def test_page_without_bins_or_models_still_renders(examples):
    report, _ = copy.deepcopy(examples["negative"])
    page = render_html(report, [], [], [])
    assert "No depth bins or gene models" in page
    page = render_html(report, [], ex.genes(), ex.exons())
    assert "No depth bins: copy number not assessed" in page


def test_write_html_and_read_bins(tmp_path, examples):
    report, bins = examples["compound"]
    tsv = tmp_path / "bins.tsv"
    lines = ["chrom\tstart\tend\tratio\tcopy_number"]
    lines += [f"{b['chrom']}\t{b['start']}\t{b['end']}\t{b['ratio']}\t{b['copy_number']}" for b in bins[:5]]
    lines.append("chr2\t900001\t901000\tNA\t.")
    tsv.write_text("\n".join(lines) + "\n")
    read = read_bins_tsv(tsv)
    assert read[:5] == bins[:5]
    assert read[5]["ratio"] is None and read[5]["copy_number"] is None
    out = write_html(tmp_path / "sub" / "x.html", report, read, ex.genes(), ex.exons())
    assert out.read_text(encoding="utf-8") == render_html(report, read, ex.genes(), ex.exons())


# ------------------------------------------------------------------------------------------- browser
def _png_pixels_vary(png: bytes) -> bool:
    """True if the PNG's scanlines differ (8-bit RGB/RGBA, non-interlaced).

    Rows are compared after inflating but without undoing the per-row filters: a flat image gives at most
    two distinct filtered rows (the first row and the rest), a page with text and a plot gives hundreds.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bit_depth, colour_type = 8, b"", 0, 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, bit_depth, colour_type = struct.unpack(">IIBB", data[:10])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    assert bit_depth == 8 and colour_type in (2, 6), (bit_depth, colour_type)
    raw = zlib.decompress(idat)
    stride = width * (3 if colour_type == 2 else 4) + 1
    rows = {raw[i * stride + 1 : (i + 1) * stride] for i in range(0, height, max(1, height // 200))}
    return len(rows) > 5


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("name", ALL)
def test_page_renders_in_headless_chromium(tmp_path, examples, name):
    report, bins = examples[name]
    html_path = write_html(tmp_path / f"{name}.html", report, bins, ex.genes(), ex.exons())
    png = tmp_path / f"{name}.png"
    profile = tmp_path / "profile"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        "--window-size=1200,2400",
        "--enable-logging=stderr",
        "--v=0",
        html_path.resolve().as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert png.exists(), "chromium wrote no screenshot"
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, f"console messages from the page: {console}"
    data = png.read_bytes()
    assert len(data) > 20_000
    assert _png_pixels_vary(data), "screenshot is blank"


def test_differential_section_is_shown_with_its_own_status(validator, examples):
    report, bins = copy.deepcopy(examples["carrier"])
    allele = copy.deepcopy(report["alleles"][0])
    allele.update(
        hgvs_c="NM_012275.3:c.80T>C",
        hgvs_p="NP_036407.1:p.(Leu27Pro)",
        zygosity="homozygous",
        known_as="L27P <b>founder</b>",
    )
    report["differential"] = {"DITRA": {
        "gene": "IL36RN", "transcript": {"gene": "IL36RN", "refseq": "NM_012275.3"}, "status": "affected",
        "summary": "Affected: two loss-of-function IL36RN alleles consistent with DITRA.",
        "reasons": ["NM_012275.3:c.80T>C: homozygous, pathogenic"], "alleles": [allele],
        "phase": {"status": "not_applicable", "method": None, "detail": "-"}, "copy_number": 2,
        "exon_copy_number": [], "callable_fraction_cds": 1.0, "other_variants": [], "limitations": ["x"],
        "exon_coverage": [{"exon": 3, "start": 10, "end": 20, "mean_depth": 30.0, "min_depth": 28,
                           "pct_ge_20x": 100.0, "callable": True, "copy_number": 2, "required_depth": 10}],
    }}  # fmt: skip
    validator.validate(report)
    page = render_html(report, bins, ex.genes(), ex.exons())
    section = page[page.index("Differential: DITRA (IL36RN, NM_012275.3)") :]
    assert "affected" in section[:2000] and "c.80T&gt;C" in section and "&lt;b&gt;founder" in section
    assert "<b>founder" not in page


def test_presumed_biallelic_is_shown_and_valid(validator, examples):
    """An inconclusive result with presumed_biallelic: the page names it in the badge and the title, and says that
    it is no confirmed diagnosis; the flag is part of the contract (top level and differential)."""
    report, bins = copy.deepcopy(examples["inconclusive"])
    report["presumed_biallelic"] = True
    validator.validate(report)
    page = render_html(report, bins, ex.genes(), ex.exons())
    badge = page[page.index('class="badge"') : page.index('class="summary"')]
    assert "presumed biallelic" in badge and "Not a confirmed diagnosis: parental testing needed" in badge
    assert "(inconclusive, presumed biallelic)</title>" in page
    assert "presumed biallelic" not in render_html(*examples["inconclusive"], ex.genes(), ex.exons())
    report["presumed_biallelic"] = "yes"
    assert any(e.path[-1] == "presumed_biallelic" for e in validator.iter_errors(report))
