"""Fake but schema-valid DIRA reports and depth bins on the SYNTH build, one per status, for report tests.

Everything is seeded so that the tests (and the pages rendered from these examples) are deterministic.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

from dira_genotyper.locus import Locus

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "dira_report.schema.json"
SYNTH = ROOT / "resources" / "SYNTH"
BIN_SIZE = 1000
#: SYNTH = GRCh38 - 112,450,000 (resources/SYNTH/build.json).
SYNTH_OFFSET = 112_450_000

STATUSES = ["affected", "carrier", "negative", "inconclusive"]
#: Extra examples beyond one per status: name -> status.
EXTRA = {"compound": "affected"}


def genes() -> list[dict]:
    return Locus.load(SYNTH).gene_rows()


def exons() -> list[dict]:
    return Locus.load(SYNTH).exon_rows()


def _il1rn_exons() -> list[dict]:
    return [e for e in exons() if e["gene"] == "IL1RN"]


def _exon_coverage(depths: list[float], pct_ge_20x: list[float]) -> list[dict]:
    """Exon coverage rows; an exon is callable here when >= 90% of its bases have >= 20x."""
    rows = []
    for ex, depth, pct in zip(_il1rn_exons(), depths, pct_ge_20x, strict=True):
        rows.append(
            {
                "exon": ex["exon"],
                "start": ex["start"],
                "end": ex["end"],
                "mean_depth": depth,
                "min_depth": int(depth * 0.6),
                "pct_ge_20x": pct,
                "callable": pct >= 90.0,
            }
        )
    return rows


def _snv(hgvs_c, hgvs_p, grch38_pos, ref, alt, zygosity, known_as, af, origin=None, classification="pathogenic"):
    pos = grch38_pos - SYNTH_OFFSET
    return {
        "kind": "snv",
        "hgvs_c": hgvs_c,
        "hgvs_p": hgvs_p,
        "hgvs_c_ensembl": f"ENST00000409930.4:{hgvs_c.split(':')[-1]}",
        "consequence": "stop_gained",
        "genomic": {"chrom": "chr2", "pos": pos, "end": pos, "ref": ref, "alt": alt},
        "zygosity": zygosity,
        "classification": classification,
        "classification_reason": "Published DIRA allele (known_dira_variants.tsv); nonsense, loss of function",
        "known_as": known_as,
        "copy_number": None,
        "evidence": {
            "depth": 48,
            "alt_depth": round(48 * af),
            "allele_fraction": af,
            "quality": 225.0,
            "genotype_quality": 99.0,
            "filter": "PASS",
            "population_af": 0.0,
        },
        "origin": origin,
    }


def _base(sample: str, status: str) -> dict:
    return {
        "schema_version": "1.0",
        "sample": sample,
        "status": status,
        "summary": "",
        "reasons": [],
        "alleles": [],
        "copy_number": {
            g: 2
            for g in [
                "IL1A",
                "IL1B",
                "IL37",
                "IL36G",
                "IL36A",
                "IL36B",
                "IL36RN",
                "IL1F10",
                "IL1RN",
                "PSD4",
                "PAX8",
            ]
        },
        "copy_number_quality": {
            g: 42.0
            for g in [
                "IL1A",
                "IL1B",
                "IL37",
                "IL36G",
                "IL36A",
                "IL36B",
                "IL36RN",
                "IL1F10",
                "IL1RN",
                "PSD4",
                "PAX8",
            ]
        },
        "exon_copy_number": [
            {"gene": "IL1RN", "exon": e["exon"], "copy_number": 2, "quality": 30.0} for e in _il1rn_exons()
        ],
        "deletions": [],
        "phase": {
            "status": "not_applicable",
            "method": None,
            "detail": "Fewer than two heterozygous alleles.",
        },
        "family": {
            "family": None,
            "father": None,
            "mother": None,
            "mendelian_consistent": None,
            "detail": "No relatives in the sample sheet.",
        },
        "qc": {
            "mean_depth": 46.3,
            "callable_fraction_cds": 1.0,
            "uncallable_exons": [],
            "normalisation_mad": 0.061,
            "cnv_mode": "single_sample_controls",
            "cnv_status": "called",
            "sex": "female",
            "input_kind": "fastq",
        },
        "exon_coverage": _exon_coverage([51.2, 47.8, 44.0, 45.9], [100.0, 100.0, 100.0, 99.1]),
        "build": "SYNTH",
        "transcript": {
            "gene": "IL1RN",
            "refseq": "NM_173842.3",
            "ensembl": "ENST00000409930.4",
            "protein_refseq": "NP_776214.1",
            "protein_ensembl": "ENSP00000387173.3",
        },
        "versions": {
            "workflow": "0.1.0",
            "tools": {"bwa": "0.7.19", "bcftools": "1.21", "samtools": "1.21", "python": "3.11"},
            "resources": "SYNTH resources (GRCh38 shifted)",
        },
    }


def report(status: str) -> dict:
    """One example report per status."""
    if status == "affected":
        r = _base("PR-001", "affected")
        start, end = 520_001, 690_000
        il1_genes = ["IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"]
        for g in il1_genes:
            r["copy_number"][g] = 0
        r["exon_copy_number"] = [dict(e, copy_number=0) for e in r["exon_copy_number"]]
        r["exon_coverage"] = _exon_coverage([0.4, 0.0, 0.2, 0.3], [0.0] * 4)
        r["qc"].update(mean_depth=0.2, callable_fraction_cds=0.0, uncallable_exons=[1, 2, 3, 4])
        r["deletions"] = [
            {
                "chrom": "chr2",
                "start": start,
                "end": end,
                "size": end - start + 1,
                "copy_number": 0,
                "zygosity": "homozygous",
                "genes": il1_genes,
                "il1rn_exons": [1, 2, 3, 4],
                "quality": 58.3,
                "breakpoint_support": {"split_reads": 0, "discordant_pairs": 0, "precise": False},
            }
        ]
        r["alleles"] = [
            {
                "kind": "deletion",
                "hgvs_c": None,
                "hgvs_p": None,
                "hgvs_c_ensembl": None,
                "consequence": "transcript_ablation",
                "genomic": {"chrom": "chr2", "pos": start, "end": end, "ref": None, "alt": None},
                "zygosity": "homozygous",
                "classification": "pathogenic",
                "classification_reason": "Deletion of the whole IL1RN gene (loss of function)",
                "known_as": "~175 kb IL-1 cluster deletion (Puerto Rican founder)",
                "copy_number": 0,
                "evidence": {
                    "depth": None,
                    "alt_depth": None,
                    "allele_fraction": None,
                    "quality": 58.3,
                    "genotype_quality": None,
                    "filter": "PASS",
                    "population_af": None,
                },
                "origin": None,
            }
        ]
        r["summary"] = (
            "Homozygous deletion of IL1RN and five neighbouring IL-1 family genes: genotype consistent with DIRA."
        )
        r["reasons"] = [
            "Copy number 0 over 170.0 kb including all four IL1RN exons (quality 58.3).",
            "Both copies of IL1RN are deleted (biallelic loss of function).",
        ]
        r["phase"] = {"status": "not_applicable", "method": "zygosity", "detail": "Homozygous deletion."}
        return r
    if status == "carrier":
        r = _base("NF-017", "carrier")
        r["alleles"] = [
            _snv(
                "NM_173842.3:c.229G>T",  # as annotate.py names them: with the accession
                "NP_776214.1:p.(Glu77*)",
                113_131_068,
                "G",
                "T",
                "heterozygous",
                "E77X",
                0.47,
                origin="maternal",
            )
        ]
        r["summary"] = "One pathogenic IL1RN allele, c.229G>T p.(Glu77*), heterozygous: carrier of DIRA."
        r["reasons"] = [
            "c.229G>T p.(Glu77*) (E77X) heterozygous, allele fraction 0.47, depth 48.",
            "No second allele: no other qualifying variant and IL1RN copy number 2.",
        ]
        r["family"] = {
            "family": "NF",
            "father": "NF-015",
            "mother": "NF-016",
            "mendelian_consistent": True,
            "detail": "Allele inherited from the mother (NF-016).",
        }
        r["phase"] = {"status": "not_applicable", "method": "parents", "detail": "Only one allele."}
        r["qc"]["input_kind"] = "cram"
        return r
    if status == "negative":
        r = _base("CTRL-42", "negative")
        r["summary"] = "No pathogenic IL1RN variant and no deletion found; DIRA is not supported by this test."
        r["reasons"] = [
            "All four IL1RN exons callable (100% of the coding sequence at >= 20x).",
            "IL1RN copy number 2 (quality 42.0).",
        ]
        r["qc"]["sex"] = "male"
        return r
    if status == "inconclusive":
        r = _base("LOWQ-3", "inconclusive")
        r["alleles"] = [_snv("c.160C>T", "p.(Gln54*)", 113_129_619, "C", "T", "heterozygous", "Q54X", 0.31)]
        r["alleles"][0]["evidence"].update(
            depth=13, alt_depth=4, quality=31.0, genotype_quality=22.0, filter="LowDepth"
        )
        r["copy_number"] = {g: None for g in r["copy_number"]}
        r["copy_number_quality"] = {g: None for g in r["copy_number_quality"]}
        r["exon_copy_number"] = [dict(e, copy_number=None, quality=None) for e in r["exon_copy_number"]]
        r["exon_coverage"] = _exon_coverage([24.2, 22.9, 11.1, 28.0], [93.5, 90.4, 35.5, 97.0])
        r["qc"].update(
            mean_depth=23.4,
            callable_fraction_cds=0.79,
            uncallable_exons=[3],
            normalisation_mad=0.31,
            cnv_status="no_call",
            input_kind="bam",
        )
        r["phase"] = {
            "status": "not_applicable",
            "method": None,
            "detail": "One heterozygous allele; a second allele (e.g. a deletion) cannot be excluded.",
        }
        r["summary"] = (
            "One pathogenic IL1RN allele found, but exon 3 and copy number could not be assessed: "
            "a second allele is not excluded."
        )
        r["reasons"] = [
            "c.160C>T p.(Gln54*) (Q54X) heterozygous, filtered LowDepth (depth 13).",
            "Exon 3 not callable (35.5% of bases at >= 20x).",
            "Copy number no call: normalisation MAD 0.31 above the limit 0.15.",
        ]
        return r
    if status == "compound":
        return _compound()
    raise ValueError(status)


def _compound() -> dict:
    """Hemizygous Q54X over a heterozygous deletion of IL1RN: in trans, shown by zygosity."""
    r = _base("PAL-2", "affected")
    start, end = 640_001, 700_000
    r["copy_number"].update(IL1RN=1)
    r["exon_copy_number"] = [dict(e, copy_number=1) for e in r["exon_copy_number"]]
    r["exon_coverage"] = _exon_coverage([25.3, 23.0, 22.1, 24.9], [92.0, 91.0, 90.5, 95.2])
    r["qc"].update(mean_depth=24.1, input_kind="bam")
    r["deletions"] = [
        {
            "chrom": "chr2",
            "start": start,
            "end": end,
            "size": end - start + 1,
            "copy_number": 1,
            "zygosity": "heterozygous",
            "genes": ["IL1RN"],
            "il1rn_exons": [1, 2, 3, 4],
            "quality": 31.7,
            "breakpoint_support": {"split_reads": 6, "discordant_pairs": 11, "precise": True},
        }
    ]
    snv = _snv("NM_173842.3:c.160C>T", "NP_776214.1:p.(Gln54*)", 113_129_619, "C", "T", "hemizygous", "Q54X", 0.98)
    snv["copy_number"] = 1
    snv["evidence"].update(depth=24, alt_depth=24)
    deletion = {
        "kind": "deletion",
        "hgvs_c": None,
        "hgvs_p": None,
        "hgvs_c_ensembl": None,
        "consequence": "transcript_ablation",
        "genomic": {"chrom": "chr2", "pos": start, "end": end, "ref": None, "alt": None},
        "zygosity": "heterozygous",
        "classification": "pathogenic",
        "classification_reason": "Deletion of the whole IL1RN gene (loss of function)",
        "known_as": None,
        "copy_number": 1,
        "evidence": {
            "depth": None,
            "alt_depth": None,
            "allele_fraction": None,
            "quality": 31.7,
            "genotype_quality": None,
            "filter": "PASS",
            "population_af": None,
        },
        "origin": None,
    }
    r["alleles"] = [snv, deletion]
    r["phase"] = {
        "status": "in_trans",
        "method": "zygosity",
        "detail": "Q54X is hemizygous (allele fraction 0.98) inside a heterozygous deletion: the two alleles "
        "are on different copies.",
    }
    r["summary"] = (
        "Q54X on one copy of IL1RN and a deletion of the whole gene on the other: genotype consistent with DIRA."
    )
    r["reasons"] = [
        "c.160C>T p.(Gln54*) (Q54X) hemizygous, allele fraction 0.98, depth 24.",
        "Heterozygous deletion of IL1RN (copy number 1, 60.0 kb, precise breakpoints).",
        "The alleles are in trans (the variant lies within the deleted interval).",
    ]
    return r


def bins(status: str, seed: int = 7) -> list[dict]:
    """Depth bins over the SYNTH extraction window, with noise, matching the example's copy number."""
    rng = random.Random(f"{status}-{seed}")  # str seeds are hashed deterministically (not PYTHONHASHSEED)
    rep = report(status)
    deletions = rep["deletions"]
    no_call = rep["qc"]["cnv_status"] == "no_call"
    sd = 0.16 if no_call else 0.045
    out = []
    for start in range(108_001, 900_001, BIN_SIZE):
        end = start + BIN_SIZE - 1
        cn = 2
        for d in deletions:
            if start >= d["start"] and end <= d["end"]:
                cn = d["copy_number"]
        ratio = max(0.0, cn / 2 + rng.gauss(0, sd if cn else 0.01))
        out.append(
            {
                "chrom": "chr2",
                "start": start,
                "end": end,
                "ratio": round(ratio, 4),
                "copy_number": None if no_call else cn,
            }
        )
    return out


LIMITATIONS = [  # research use first, as decision.limitations puts it
    "For research use only until this workflow is validated in an accredited laboratory.",
    "Tested: IL1RN coding exons and splice sites (+/- 2 bp) of the MANE Select transcript for small variants.",
    "Not tested: deep intronic and regulatory variants & structural changes other than deletions <script>.",
]


def _contract_fields(r: dict) -> dict:
    """Fields every report carries since schema 1.1: flags per allele, other calls, limitations."""
    for allele in r["alleles"]:
        allele.setdefault("flags", [])
    r.setdefault("other_variants", [])
    r.setdefault("limitations", list(LIMITATIONS))
    r.setdefault("differential", {})
    r["schema_version"] = "1.1"
    return r


def all_examples() -> dict[str, tuple[dict, list[dict]]]:
    """name -> (report, bins) for every example: one per status plus the extras."""
    return {s: (_contract_fields(copy.deepcopy(report(s))), bins(s)) for s in [*STATUSES, *EXTRA]}
