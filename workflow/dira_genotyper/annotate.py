"""Annotate a sample's normalised IL1RN VCF: consequence, HGVS names, known DIRA alleles, classification.

Input is the caller's VCF after ``bcftools norm -m- -f ref`` (one ALT per record, indels left-aligned),
with the sample's FORMAT GT and, where the caller gives them, AD, DP and GQ. Each ALT allele becomes one
flat record (see :func:`annotate_vcf`). HGVS names and consequences come from :mod:`dira_genotyper.hgvs`
on the MANE Select transcript of the GFF3; ``bcftools csq`` is run on the same inputs and its BCSQ string
is kept beside them so that a reader (and a test) can cross-check the two predictions.

Classification follows configurable rules (:data:`DEFAULT_RULES`), checked in this order:

1. a published DIRA allele (``known_dira_variants.tsv``, matched on the left-normalised genomic allele the
   table's c. name resolves to on this build, :mod:`dira_genotyper.known_alleles`) takes the table's
   classification when that is one of ``known_classifications_used``;
2. population allele frequency >= ``ba1_af`` (0.05) is benign (ACMG BA1); above ``benign_af`` (0.01) likely
   benign (BS1: a recessive disease as rare as DIRA cannot be caused by a common allele);
3. a ``lof_consequences`` term is judged by the ClinGen PVS1 tree (:mod:`dira_genotyper.pvs1`): PVS1 or
   PVS1_Strong (with PM2) makes it likely pathogenic, a weaker strength uncertain; the branch is named in
   ``classification_reason``;
4. any ``uncertain_consequences`` term makes it uncertain;
5. an allele outside the MANE transcript (another isoform's exon) cannot change the MANE protein: likely
   benign; when every term is in ``benign_consequences`` (synonymous, intronic beyond the splice region, UTR)
   it is likely benign (BP7); anything else is uncertain. ``benign`` comes only from BA1 or the curated table.

Whole-exon and whole-gene deletions are called from depth elsewhere, not here.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cyvcf2
import pysam
import pysam.utils

from .errors import InputError
from .hgvs import VariantEffect, describe_variant, translate, trim_allele
from .known_alleles import KnownAlleles
from .pvs1 import Pvs1, assess
from .transcript import Transcript, load_transcript

log = logging.getLogger(__name__)

DEFAULT_RULES: dict[str, Any] = {
    "lof_consequences": [
        "stop_gained",
        "frameshift_variant",
        "splice_donor_variant",
        "splice_acceptor_variant",
        "start_lost",
    ],
    "uncertain_consequences": [
        "missense_variant",
        "inframe_deletion",
        "inframe_insertion",
        "splice_region_variant",
        "stop_lost",
        "coding_sequence_variant",
    ],
    "benign_consequences": [
        "synonymous_variant",
        "stop_retained_variant",
        "intron_variant",
        "5_prime_UTR_variant",
        "3_prime_UTR_variant",
    ],
    "benign_af": 0.01,
    "ba1_af": 0.05,
    "known_classifications_used": ["pathogenic", "likely_pathogenic", "likely_benign", "benign"],
}

#: bcftools csq consequence names -> Sequence Ontology terms (as used by :mod:`dira_genotyper.hgvs`).
BCSQ_TO_SO = {
    "stop_gained": "stop_gained",
    "frameshift": "frameshift_variant",
    "inframe_deletion": "inframe_deletion",
    "inframe_insertion": "inframe_insertion",
    "inframe_altering": "inframe_altering",
    "missense": "missense_variant",
    "synonymous": "synonymous_variant",
    "splice_acceptor": "splice_acceptor_variant",
    "splice_donor": "splice_donor_variant",
    "splice_region": "splice_region_variant",
    "start_lost": "start_lost",
    "start_retained": "start_retained_variant",
    "stop_lost": "stop_lost",
    "stop_retained": "stop_retained_variant",
    "5_prime_utr": "5_prime_UTR_variant",
    "3_prime_utr": "3_prime_UTR_variant",
    "intron": "intron_variant",
    "coding_sequence": "coding_sequence_variant",
    "non_coding": "non_coding_transcript_exon_variant",
    "intergenic": "intergenic_variant",
}


# ------------------------------------------------------------------------------------------------ rules
def resolve_rules(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default rules with ``overrides`` applied; unknown keys or wrong types are an InputError."""
    rules = {key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULT_RULES.items()}
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_RULES:
            raise InputError(f"unknown classification rule {key!r}; the rules are: {', '.join(DEFAULT_RULES)}")
        if isinstance(DEFAULT_RULES[key], list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"classification rule {key!r} must be a list of names")
            rules[key] = list(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InputError(f"classification rule {key!r} must be a number from 0 to 1, not {value!r}")
            rules[key] = float(value)
    return rules


def classify(
    consequences: tuple[str, ...] | list[str],
    known: dict[str, str] | None,
    population_af: float | None,
    rules: dict[str, Any],
    pvs1: Pvs1 | None = None,
    disease: str = "DIRA",
) -> tuple[str, str]:
    """Classification and a reason naming the ACMG/AMP criterion that decided it (module docstring: order).

    ``pvs1`` is the ClinGen PVS1 judgement of the allele (:mod:`dira_genotyper.pvs1`); without it a LoF term
    counts as PVS1 (very strong), as before.
    """
    terms = list(consequences)
    known_note = ""
    if known:
        source = known.get("short_citation") or known["citation"]
        published = f"published {disease} allele {known['published_name']} ({source})"
        if known["classification"] in rules["known_classifications_used"]:
            return known["classification"], f"Matches the {published}, listed as {known['classification']}."
        known_note = f" Matches the {published}, listed as {known['classification']}."
    if population_af is not None and population_af >= rules["ba1_af"]:
        return (
            "benign",
            f"BA1: population allele frequency {population_af:.4g} is at least {rules['ba1_af']:g}.{known_note}",
        )
    if population_af is not None and population_af > rules["benign_af"]:
        return (
            "likely_benign",
            f"BS1: population allele frequency {population_af:.4g} is above {rules['benign_af']:g}, too common for "
            f"a disease as rare as {disease}.{known_note}",
        )
    lof = [t for t in terms if t in rules["lof_consequences"]]
    if lof:
        if pvs1 is None:
            return "likely_pathogenic", f"Predicted loss of function ({', '.join(lof)}).{known_note}"
        if pvs1.null_variant:
            return "likely_pathogenic", f"{pvs1.strength}: {pvs1.branch}; with PM2 (not common in the population)."
        if pvs1.strength is not None:
            return "uncertain", f"{pvs1.strength} only: {pvs1.branch}.{known_note}"
    uncertain = [t for t in terms if t in rules["uncertain_consequences"]]
    if uncertain:
        why = f" ({pvs1.branch})" if pvs1 is not None and lof else ""
        return "uncertain", f"Effect on the protein not predictable from {', '.join(uncertain)}{why}.{known_note}"
    if terms and set(terms) <= OUTSIDE_TRANSCRIPT:
        return (
            "likely_benign",
            "Outside the MANE Select transcript (e.g. an exon of another GENCODE isoform): cannot change the "
            f"protein of the transcript of record.{known_note}",
        )
    if terms and all(t in rules["benign_consequences"] for t in terms):
        criterion = (
            "BP7: synonymous, not in a splice region"
            if any(t in ("synonymous_variant", "stop_retained_variant") for t in terms)
            else "BP7 (by analogy): intronic beyond the splice region or UTR; cannot change the protein sequence"
        )
        return "likely_benign", f"{criterion} ({', '.join(terms)}).{known_note}"
    return "uncertain", f"No classification rule covers {', '.join(terms) or 'this allele'}.{known_note}"


#: Consequences of an allele that lies outside the transcript of record (upstream, downstream, intergenic).
OUTSIDE_TRANSCRIPT = {"upstream_gene_variant", "downstream_gene_variant", "intergenic_variant"}


# ------------------------------------------------------------------------------------- known variants
_DROP_BASES = re.compile(r"(del|dup)[ACGTN]+$")


def normalise_c_name(name: str) -> str:
    """``c.213_227delAGATG...`` -> ``c.213_227del`` (HGVS does not list deleted or duplicated bases)."""
    name = name.strip()
    if "delins" in name:
        return name
    return _DROP_BASES.sub(r"\1", name)


def load_known_variants(path: str | Path, transcript: Transcript | None = None) -> dict[str, dict[str, str]]:
    """Published alleles keyed by normalised c. name (``c.160C>T``); '#' lines are comments.

    A name may carry an accession (``NM_173842.3:c.160C>T``); if ``transcript`` is given, rows on another
    transcript are left out.
    """
    try:
        with open(path) as handle:
            rows = [line for line in handle if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise InputError(f"cannot read the known-variant table {path}: {exc.strerror}") from exc
    reader = csv.DictReader(rows, delimiter="\t")
    needed = {"hgvs_c", "published_name", "classification", "citation"}
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise InputError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    accessions = set()
    if transcript is not None:
        accessions = {a.split(".")[0] for a in (transcript.refseq, transcript.ensembl, transcript.transcript_id) if a}
    known = {}
    for row in reader:
        name = row["hgvs_c"].strip()
        if ":" in name:
            accession, name = name.split(":", 1)
            if accessions and accession.split(".")[0] not in accessions:
                continue
        known[normalise_c_name(name)] = {key: (value or "").strip() for key, value in row.items()}
    return known


# --------------------------------------------------------------------------------------- population AF
class PopulationFrequencies:
    """Allele frequencies from a gnomAD-style VCF (bgzipped and indexed, INFO/AF or INFO/AC and AN)."""

    def __init__(self, path: str | Path) -> None:
        try:
            self._vcf = pysam.VariantFile(str(path))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot open the population VCF {path}: {exc}") from exc
        if self._vcf.index is None:
            raise InputError(f"the population VCF {path} has no index: run `bcftools index -t {path}`")
        self._contigs = set(self._vcf.header.contigs) | set(self._vcf.index.keys())
        self.path = path

    def _contig(self, chrom: str) -> str | None:
        for name in (chrom, chrom.removeprefix("chr"), f"chr{chrom}"):
            if name in self._contigs:
                return name
        return None

    def allele_frequency(self, chrom: str, pos: int, ref: str, alt: str) -> float | None:
        """AF of this allele, or None if the population VCF has no record of it."""
        contig = self._contig(chrom)
        if contig is None:
            return None
        wanted = trim_allele(chrom, pos, ref, alt)
        best = None
        for record in self._vcf.fetch(contig, max(pos - 2, 0), pos + len(ref)):
            for index, other in enumerate(record.alts or ()):
                if other.startswith("<") or other == "*":
                    continue
                try:
                    candidate = trim_allele(chrom, record.pos, record.ref, other)
                except ValueError:
                    continue
                if (candidate.start, candidate.ref, candidate.alt) != (wanted.start, wanted.ref, wanted.alt):
                    continue
                af = _record_af(record, index)
                if af is not None and (best is None or af > best):
                    best = af
        return best

    def close(self) -> None:
        self._vcf.close()


def _record_af(record: pysam.VariantRecord, index: int) -> float | None:
    info = record.info
    if "AF" in info:
        value = info["AF"]
        value = value[index] if isinstance(value, tuple) else value
        return None if value is None else float(f"{value:.6g}")
    if "AC" in info and "AN" in info and info["AN"]:
        ac = info["AC"]
        ac = ac[index] if isinstance(ac, tuple) else ac
        return float(f"{ac / info['AN']:.6g}")
    return None


# ------------------------------------------------------------------------------------------ bcftools csq
def bcftools_csq(vcf_path: str | Path, fasta_path: str | Path, gff3_path: str | Path) -> dict[tuple, str]:
    """BCSQ strings of ``bcftools csq -p a -l`` keyed by (chrom, pos, ref, alt) for each ALT allele.

    ``-l`` (local) predicts each record alone, as :func:`describe_variant` does, so that the two can be
    compared allele by allele; without it, csq merges a sample's heterozygous variants on one transcript.
    bcftools csq run in-process through pysam keeps state from one call to the next (a second call in the same
    process fails with "file is not sorted"), so it runs in a child Python process.
    """
    out: dict[tuple, str] = {}
    with tempfile.TemporaryDirectory(prefix="dira-csq-") as tmp:
        annotated = Path(tmp) / "csq.vcf"
        args = [
            "-p",
            "a",
            "-l",
            "-f",
            str(fasta_path),
            "-g",
            str(gff3_path),
            "-O",
            "v",
            "-o",
            str(annotated),
            str(vcf_path),
        ]
        child = subprocess.run([sys.executable, "-c", _CSQ_CHILD, *args], capture_output=True, text=True, check=False)
        if child.returncode != 0:
            raise pysam.utils.SamtoolsError(f"bcftools csq failed: {child.stderr.strip()[-2000:]}")
        with pysam.VariantFile(str(annotated)) as vcf:
            for record in vcf:
                if "BCSQ" not in record.info:
                    continue
                value = record.info["BCSQ"]
                text = ",".join(value) if isinstance(value, tuple) else str(value)
                for alt in record.alts or ():
                    out[(record.chrom, record.pos, record.ref, alt)] = text
    return out


_CSQ_CHILD = "import sys, pysam.bcftools; pysam.bcftools.csq(*sys.argv[1:], catch_stdout=False)"


def bcsq_consequences(bcsq: str | None) -> set[str]:
    """The SO terms in a BCSQ string, without ``@pos`` references and the ``*`` of terms past a stop."""
    terms: set[str] = set()
    for entry in (bcsq or "").split(","):
        if not entry or entry.startswith("@"):
            continue
        for term in entry.split("|")[0].split("&"):
            term = term.lstrip("*")
            terms.add(BCSQ_TO_SO.get(term, term))
    return terms


# --------------------------------------------------------------------------------------------- records
_MISSING_INT = -2147483648  # htslib's missing / end-of-vector integer sentinels as cyvcf2 returns them
_END_OF_VECTOR = -2147483647


@dataclass(frozen=True)
class _Site:
    """One VCF record as read by cyvcf2 (the fast reader; VCFs are written with pysam)."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    qual: float | None
    filters: tuple[str, ...]  # ("PASS",), (".",) when none was set, else the failed filters


@dataclass(frozen=True)
class _Call:
    """One sample's genotype and FORMAT values at a site (None for missing values)."""

    alleles: tuple[int | None, ...]
    phased: bool
    values: dict[str, Any]


def _format_values(variant: Any, index: int, key: str) -> Any:
    """A FORMAT value of one sample from cyvcf2: a scalar, a tuple for Number=R/A/G, None when missing."""
    try:
        array = variant.format(key)
    except KeyError:
        return None
    if array is None:
        return None
    if array.dtype.kind in "SUO":
        text = array[index]
        text = text.decode() if isinstance(text, bytes) else str(text)
        return None if text in ("", ".") else text
    row = [x for x in array[index].tolist() if x != _END_OF_VECTOR]
    clean = [None if x == _MISSING_INT or (isinstance(x, float) and x != x) else x for x in row]
    if not clean:
        return None
    return tuple(clean) if len(clean) > 1 else clean[0]


def _read_sites(vcf: Any, sample_index: int | None) -> Iterator[tuple[_Site, _Call | None]]:
    keys = [h["ID"] for h in vcf.header_iter() if h["HeaderType"] == "FORMAT"]
    for variant in vcf:
        site = _Site(variant.CHROM, variant.POS, variant.REF, tuple(variant.ALT), variant.QUAL,
                     tuple(variant.FILTERS or (".",)))  # fmt: skip
        call = None
        if sample_index is not None:
            gt = variant.genotypes[sample_index] if variant.genotypes else []
            alleles = tuple(None if a < 0 else a for a in gt[:-1]) if gt else ()
            values = {k: _format_values(variant, sample_index, k) for k in keys if k != "GT"}
            call = _Call(alleles, bool(gt[-1]) if gt else False, values)
        yield site, call


def _genotype(call: _Call | None) -> tuple[str | None, tuple]:
    if call is None or not call.alleles:
        return None, ()
    sep = "|" if call.phased else "/"
    return sep.join("." if a is None else str(a) for a in call.alleles), call.alleles


def _format_value(call: _Call | None, key: str) -> Any:
    return None if call is None else call.values.get(key)


def _allele_record(
    record: _Site,
    alt_index: int,
    sample: _Call | None,
    tx: Transcript,
    effect: VariantEffect | None,
    known: dict[str, str] | None,
    population_af: float | None,
    bcsq: str | None,
    rules: dict[str, Any],
    coding: str | None = None,
    disease: str = "DIRA",
) -> dict[str, Any]:
    alt = record.alts[alt_index]
    genotype, alleles = _genotype(sample)
    called = [a for a in alleles if a is not None]
    copies = called.count(alt_index + 1)
    if copies == 0:
        zygosity = None  # not carried by the sample (or not called)
    elif len(called) < len(alleles):
        zygosity = "unknown"  # ./1: one allele not called, so not homozygous
    elif copies == len(called):
        zygosity = "homozygous"
    else:
        zygosity = "heterozygous"
    ad = _format_value(sample, "RAD")  # realigned fragment counts of an indel (calling.py), else bcftools' AD
    if not isinstance(ad, tuple | list) or None in ad:
        ad = _format_value(sample, "AD")
    ad = tuple(ad) if isinstance(ad, tuple | list) else None
    if ad and None in ad:
        ad = None
    alt_depth = ad[alt_index + 1] if ad and len(ad) > alt_index + 1 else None
    ad_total = sum(x for x in ad if x is not None) if ad else 0
    depth = _format_value(sample, "DP")
    if depth is None and ad:
        depth = ad_total
    allele_fraction = round(alt_depth / ad_total, 4) if alt_depth is not None and ad_total else None
    filters = [f for f in record.filters if f != "."]
    consequences = effect.consequences if effect else ("intergenic_variant",)
    pvs1 = assess(effect, tx, coding) if effect is not None and coding else None
    classification, reason = classify(consequences, known, population_af, rules, pvs1, disease)
    protein = tx.protein_accession()
    outside = set(consequences) <= OUTSIDE_TRANSCRIPT
    return {
        "chrom": record.chrom,
        "pos": record.pos,
        "ref": record.ref,
        "alt": alt,
        "filter": "PASS" if filters == ["PASS"] else (filters or "."),
        "qual": None if record.qual is None else round(float(record.qual), 2),
        "genotype": genotype,
        "zygosity": zygosity,
        "depth": depth,
        "alt_depth": alt_depth,
        "allele_fraction": allele_fraction,
        "genotype_quality": _gq(_format_value(sample, "GQ")),
        "kind": "snv" if len(record.ref) == len(alt) == 1 else "indel",
        "consequence": "&".join(consequences),
        "hgvs_c": effect.c_name(tx.accession("refseq")) if effect and not outside else None,
        "hgvs_c_ensembl": effect.c_name(tx.accession("ensembl")) if effect and not outside else None,
        "hgvs_g": _g_name(record.chrom, record.pos, record.ref, alt),
        "hgvs_p": effect.p_name(protein) if effect else None,
        "bcsq": bcsq,
        "classification": classification,
        "classification_reason": reason,
        "known_as": known["published_name"] if known else None,
        "known_citation": known["citation"] if known else None,
        "population_af": population_af,
    }


def _gq(value: Any) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _g_name(chrom: str, pos: int, ref: str, alt: str) -> str:
    """HGVS-style genomic name on the contig (``chr2:g.113129619C>T``), trimmed and left-aligned as in the VCF."""
    allele = trim_allele(chrom, pos, ref, alt)
    first, last = allele.start + 1, allele.end
    span = f"{first}" if first == last else f"{first}_{last}"
    if allele.kind == "substitution":
        return f"{chrom}:g.{first}{allele.ref}>{allele.alt}"
    if allele.kind == "deletion":
        return f"{chrom}:g.{span}del"
    if allele.kind == "insertion":
        return f"{chrom}:g.{allele.start}_{allele.start + 1}ins{allele.alt}"
    return f"{chrom}:g.{span}delins{allele.alt}"


def check_transcript_on_reference(tx: Transcript, fasta: pysam.FastaFile, fasta_path, gff3_path) -> None:
    """Stop when the reference cannot hold the transcript: a wrong build or contig naming would otherwise
    give plausible-looking but wrong names."""
    if tx.chrom not in fasta.references:
        raise InputError(f"the reference {fasta_path} has no contig {tx.chrom}, which {gff3_path} uses")
    if tx.end > fasta.get_reference_length(tx.chrom):
        raise InputError(
            f"{tx.chrom} of {fasta_path} is shorter than {tx.end:,}, where {gff3_path} puts "
            f"{tx.accession()}: the reference and the GFF3 are from different builds"
        )
    if tx.coding:
        cds = tx.cds_sequence(fasta.fetch)
        protein = translate(cds, to_stop=False)
        problems = []
        if not cds.startswith("ATG"):
            problems.append(f"starts with {cds[:3]}, not ATG")
        if len(cds) % 3 or not protein.endswith("*"):
            problems.append("does not end with a stop codon")
        if "*" in protein[:-1]:
            problems.append(f"has a stop at codon {protein.index('*') + 1}")
        if problems:
            raise InputError(
                f"the CDS of {tx.accession()} read from {fasta_path} {' and '.join(problems)}: the reference "
                f"and {gff3_path} are from different builds"
            )


@dataclass
class GeneAnnotation:
    """One gene's transcript of record, its published alleles and the disease they cause."""

    gene: str
    disease: str
    tx: Transcript
    known: KnownAlleles
    coding: str | None
    gff3: Path
    usable: bool = True  # False: the reference does not hold this transcript's CDS (see ``problem``)
    problem: str = ""

    def near(self, chrom: str, pos: int) -> int:
        """Distance from the transcript (0 inside it), a large number on another contig."""
        if chrom != self.tx.chrom:
            return 10**12
        return max(0, self.tx.start - pos, pos - self.tx.end)


def load_gene_annotation(gff3_path, known_path, fasta, fasta_path, disease: str, required: bool):  # noqa: ANN001
    """The annotation context of one gene. A required gene (the headline's) whose CDS the reference does not
    hold is an error; another gene (a differential) is marked unusable with the reason instead."""
    if not Path(gff3_path).is_file():
        raise InputError(f"the GFF3 {gff3_path} does not exist")
    tx = load_transcript(gff3_path)
    gene = tx.gene_name or tx.transcript_id
    try:
        check_transcript_on_reference(tx, fasta, fasta_path, gff3_path)
        known = KnownAlleles.load(known_path, tx, fasta, strict=False)
        for problem in known.skipped:
            log.warning("known allele left out (it cannot be placed on this reference): %s", problem)
    except InputError as exc:
        if required:
            raise
        log.warning("%s (%s) cannot be annotated: %s", gene, disease, exc)
        empty = KnownAlleles([], tx.chrom)
        return GeneAnnotation(gene, disease, tx, empty, None, Path(gff3_path), False, str(exc))
    coding = tx.coding_and_3utr(fasta.fetch) if tx.coding else None
    return GeneAnnotation(gene, disease, tx, known, coding, Path(gff3_path))


def annotate_vcf(
    vcf_path: str | Path,
    fasta_path: str | Path,
    gff3_path: str | Path,
    known_variants_path: str | Path,
    population_vcf: str | Path | None = None,
    rules: dict[str, Any] | None = None,
    sample: str | None = None,
    run_csq: bool = True,
    more_genes: list[dict[str, str]] | None = None,
    disease: str = "DIRA",
) -> list[dict[str, Any]]:
    """One flat record per ALT allele of each VCF record, sorted by contig (header order) and position.

    Fields: chrom, pos, ref, alt (as in the VCF); gene (whose transcript of record named it: the nearest of
    ``gff3_path`` and ``more_genes``); filter ("PASS", "." when the caller set none, else the
    list of failed filters); qual; genotype ("0/1", "1|1", ...); zygosity (heterozygous, homozygous, unknown for
    ``./1``, or None when the sample does not carry the allele; hemizygosity is decided later from copy number);
    depth (FORMAT DP, else the sum of AD), alt_depth and allele_fraction (from FORMAT AD, or RAD where the indel
    was re-genotyped by realignment); genotype_quality
    (FORMAT GQ); kind (snv, or indel for anything else, including MNVs named delins); consequence (SO
    terms joined by "&", most severe first); hgvs_c / hgvs_c_ensembl (RefSeq / Ensembl transcript
    accession); hgvs_p (protein accession; None outside the coding effect, e.g. UTR); hgvs_g; bcsq (bcftools
    csq); classification and classification_reason; known_as and known_citation (published allele);
    population_af (None when not given or not found). Alleles on another contig than the transcript are
    ``intergenic_variant`` with no HGVS names. Symbolic ALTs (``<DEL>``, ``*``) are skipped.

    ``more_genes``: further genes, each ``{"gff3": path, "known": table, "disease": name}`` (the differential);
    ``sample`` picks the VCF sample (default: the first). ``run_csq=False`` skips bcftools csq (bcsq None).
    """
    rules = resolve_rules(rules)
    for label, path in (("VCF", vcf_path), ("reference FASTA", fasta_path), ("GFF3", gff3_path)):
        if not Path(path).is_file():
            raise InputError(f"the {label} {path} does not exist")
    try:
        fasta = pysam.FastaFile(str(fasta_path))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open the reference FASTA {fasta_path} (is it indexed?): {exc}") from exc
    genes = [load_gene_annotation(gff3_path, known_variants_path, fasta, fasta_path, disease, True)]
    for extra in more_genes or []:
        genes.append(load_gene_annotation(extra["gff3"], extra["known"], fasta, fasta_path, extra["disease"], False))
    tx = genes[0].tx
    bcsq: dict[tuple, str] = {}
    if run_csq:
        for gene in genes:
            if not gene.usable:
                continue
            try:
                for key, value in bcftools_csq(vcf_path, fasta_path, gene.gff3).items():
                    bcsq[key] = f"{bcsq[key]},{value}" if key in bcsq else value
            except pysam.utils.SamtoolsError as exc:
                log.warning("bcftools csq failed on %s; BCSQ is left empty: %s", gene.gff3, exc)
    population = PopulationFrequencies(population_vcf) if population_vcf else None
    records = []
    try:
        vcf = cyvcf2.VCF(str(vcf_path))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the VCF {vcf_path}: {exc}") from exc
    try:
        contigs = list(vcf.seqnames)
        if contigs and tx.chrom not in contigs:
            raise InputError(
                f"the VCF {vcf_path} has no contig {tx.chrom} (contigs: {', '.join(contigs[:5])}...): "
                "the VCF and the GFF3 are from different builds or name chromosomes differently"
            )
        samples = list(vcf.samples)
        if sample is not None and sample not in samples:
            raise InputError(f"the VCF {vcf_path} has no sample {sample} (samples: {', '.join(samples)})")
        sample_index = samples.index(sample) if sample is not None else (0 if samples else None)
        order = {name: i for i, name in enumerate(contigs)}
        for record, call in _read_sites(vcf, sample_index):
            for alt_index, alt in enumerate(record.alts):
                if alt.startswith("<") or alt == "*" or "[" in alt or "]" in alt:
                    log.debug("skipping symbolic allele %s:%s %s", record.chrom, record.pos, alt)
                    continue
                gene = min(genes, key=lambda g: (g.near(record.chrom, record.pos), genes.index(g)))
                effect = None
                if record.chrom == gene.tx.chrom and gene.usable:
                    try:
                        effect = describe_variant(gene.tx, fasta.fetch, record.pos, record.ref, alt, record.chrom)
                    except ValueError as exc:
                        raise InputError(
                            f"{vcf_path}: {exc}; is the VCF from the same reference build as {fasta_path}?"
                        ) from exc
                known = gene.known.match_small(record.chrom, record.pos, record.ref, alt)
                af = population.allele_frequency(record.chrom, record.pos, record.ref, alt) if population else None
                row = _allele_record(
                    record,
                    alt_index,
                    call,
                    gene.tx,
                    effect,
                    known,
                    af,
                    bcsq.get((record.chrom, record.pos, record.ref, alt)),
                    rules,
                    gene.coding,
                    gene.disease,
                )
                if not gene.usable:
                    row["classification"] = "uncertain"
                    row["classification_reason"] = f"{gene.gene} could not be annotated: {gene.problem}."
                records.append({"gene": gene.gene, **row})
    finally:
        vcf.close()
    if population:
        population.close()
    records.sort(key=lambda r: (order.get(r["chrom"], len(order)), r["chrom"], r["pos"], r["ref"], r["alt"]))
    return records


# ------------------------------------------------------------------------------------------------- CLI
def read_rules_json(value: str | None) -> dict[str, Any] | None:
    """Rule overrides from ``--rules-json``: a path to a JSON file, or the JSON object itself."""
    if not value:
        return None
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text()
        except OSError as exc:
            raise InputError(f"cannot read the rules JSON {value}: {exc.strerror}") from exc
    try:
        rules = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the classification rules are not valid JSON ({exc}): {value}") from exc
    if not isinstance(rules, dict):
        raise InputError(f"the classification rules must be a JSON object of rule: value, not {value}")
    return rules


def _run_annotate(args: argparse.Namespace) -> int:
    rules = read_rules_json(args.rules_json)
    variants = annotate_vcf(
        args.vcf,
        args.reference,
        args.gff3,
        args.known,
        population_vcf=args.population,
        rules=rules,
        sample=args.sample,
        more_genes=differential_genes(args.resources, args.known) if args.resources else None,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as handle:
        json.dump({"variants": variants}, handle, indent=2)
        handle.write("\n")
    log.info("annotated %d allele(s) -> %s", len(variants), out)
    return 0


def differential_genes(resources_dir: str, known_path: str) -> list[dict[str, str]]:
    """The differential genes of a resources folder (build.json ``differential``): GFF3 in the folder, the
    known-allele table beside the headline's (``known_path``)."""
    meta = json.loads((Path(resources_dir) / "build.json").read_text())
    return [
        {"gff3": str(Path(resources_dir) / d["gff3"]), "known": str(Path(known_path).parent / d["known"]),
         "disease": d["disease"]}
        for d in meta.get("differential", [])
    ]  # fmt: skip


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``annotate`` sub-command to an argparse sub-parser collection."""
    parser = subparsers.add_parser(
        "annotate",
        help="name, classify and match the IL1RN variants of a normalised VCF",
        description="HGVS names, consequences (with bcftools csq beside them), known DIRA alleles, "
        "population frequency and classification for each ALT allele of a normalised VCF.",
    )
    parser.add_argument("--vcf", required=True, help="normalised VCF (bcftools norm -m-), one sample")
    parser.add_argument("--reference", required=True, help="reference FASTA (faidx-indexed)")
    parser.add_argument("--gff3", required=True, help="transcript GFF3 (resources/<build>/il1rn.gff3)")
    parser.add_argument("--known", required=True, help="published DIRA alleles (resources/known_dira_variants.tsv)")
    parser.add_argument("--population", help="gnomAD-style VCF (bgzipped, indexed, INFO/AF) for allele frequencies")
    parser.add_argument(
        "--rules-json",
        help="classification rule overrides (see DEFAULT_RULES): a JSON file, or the JSON object itself",
    )
    parser.add_argument("--sample", help="VCF sample to report (default: the first)")
    parser.add_argument(
        "--resources", help="prepared resources folder: its build.json `differential` genes are annotated too"
    )
    parser.add_argument("--out", required=True, help='output JSON: {"variants": [...]}')
    parser.set_defaults(func=_run_annotate)
    return parser


__all__ = [
    "DEFAULT_RULES",
    "PopulationFrequencies",
    "annotate_vcf",
    "bcftools_csq",
    "bcsq_consequences",
    "check_transcript_on_reference",
    "classify",
    "load_known_variants",
    "normalise_c_name",
    "read_rules_json",
    "register_cli",
    "resolve_rules",
]
