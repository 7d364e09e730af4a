"""Annotate a sample's normalised IL1RN VCF: consequence, HGVS names, known DIRA alleles, classification.

Input is the caller's VCF after ``bcftools norm -m- -f ref`` (one ALT per record, indels left-aligned),
with the sample's FORMAT GT and, where the caller gives them, AD, DP and GQ. Each ALT allele becomes one
flat record (see :func:`annotate_vcf`). HGVS names and consequences come from :mod:`dira_genotyper.annotation.hgvs`
on the MANE Select transcript of the GFF3; ``bcftools csq`` is run on the same inputs and its BCSQ string
is kept beside them so that a reader (and a test) can cross-check the two predictions.

Classification: :mod:`dira_genotyper.annotation.classification`; the VCF is read with cyvcf2 (:mod:`.vcf_sites`);
population frequencies and bcftools csq: :mod:`.sources`.

Whole-exon and whole-gene deletions are called from depth elsewhere, not here.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cyvcf2
import pysam
import pysam.utils

from dira_genotyper.annotation.classification import (
    OUTSIDE_TRANSCRIPT,
    PopulationAf,
    classify,
    read_rules_json,
    resolve_rules,
)
from dira_genotyper.annotation.hgvs import (
    VariantEffect,
    change_name,
    describe_variant,
    shift_3prime,
    translate,
    trim_allele,
)
from dira_genotyper.annotation.known_alleles import KnownAlleles
from dira_genotyper.annotation.pvs1 import assess
from dira_genotyper.annotation.sources import PopulationFrequencies, bcftools_csq
from dira_genotyper.annotation.transcript import CachedReference, Fetch, Transcript, load_transcript
from dira_genotyper.annotation.vcf_sites import Call, Site, format_value, genotype_string, read_sites
from dira_genotyper.errors import InputError
from dira_genotyper.locus import TARGET_DISEASE, Locus

log = logging.getLogger(__name__)


def _allele_record(
    record: Site,
    alt_index: int,
    sample: Call | None,
    tx: Transcript,
    effect: VariantEffect | None,
    known: dict[str, str] | None,
    population: PopulationAf | None,
    bcsq: str | None,
    rules: dict[str, Any],
    coding: str | None = None,
    *,
    disease: str,
    fetch: Fetch | None = None,
    accession: str | None = None,
    pathogenic_c: tuple[int, ...] = (),
) -> dict[str, Any]:
    alt = record.alts[alt_index]
    genotype, alleles = genotype_string(sample)
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
    ad = format_value(sample, "RAD")  # realigned fragment counts of an indel (calling.py), else bcftools' AD
    if not isinstance(ad, tuple | list) or None in ad:
        ad = format_value(sample, "AD")
    ad = tuple(ad) if isinstance(ad, tuple | list) else None
    if ad and None in ad:
        ad = None
    alt_depth = ad[alt_index + 1] if ad and len(ad) > alt_index + 1 else None
    ad_total = sum(x for x in ad if x is not None) if ad else 0
    depth = format_value(sample, "DP")
    if depth is None and ad:
        depth = ad_total
    allele_fraction = round(alt_depth / ad_total, 4) if alt_depth is not None and ad_total else None
    filters = [f for f in record.filters if f != "."]
    consequences = effect.consequences if effect else ("intergenic_variant",)
    pvs1 = assess(effect, tx, coding, pathogenic_c) if effect is not None and coding else None
    offsets = _intron_offsets(effect, tx) if effect is not None else ()
    analysed = in_analysed_range(effect, tx, rules["analysed_flank"]) if effect is not None else True
    classification, reason = classify(
        consequences, known, population, rules, pvs1, disease=disease, intron_offsets=offsets, analysed=analysed
    )
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
        "genotype_quality": _gq(format_value(sample, "GQ")),
        "kind": "snv" if len(record.ref) == len(alt) == 1 else "indel",
        "consequence": "&".join(consequences),
        "hgvs_c": effect.c_name(tx.accession("refseq")) if effect and not outside else None,
        "hgvs_c_ensembl": effect.c_name(tx.accession("ensembl")) if effect and not outside else None,
        "hgvs_g": _g_name(record.chrom, record.pos, record.ref, alt, fetch, accession),
        "hgvs_p": effect.p_name(protein) if effect else None,
        "bcsq": bcsq,
        "classification": classification,
        "classification_reason": reason,
        "known_as": known["published_name"] if known else None,
        "known_citation": known["citation"] if known else None,
        "population_af": population.af if population else None,
        "population_af_max": population.max_af if population else None,
        "population_group": population.group if population else None,
    }


def _intron_offsets(effect: VariantEffect, tx: Transcript) -> tuple[int, ...]:
    """The HGVS intron offsets (+ donor side, - acceptor side) of the intronic bases the named allele changes."""
    regions = [tx.region(g) for g in effect.allele.touched]
    return tuple(r.intron_offset for r in regions if r.feature == "intron")


def in_analysed_range(effect: VariantEffect, tx: Transcript, flank: int) -> bool:
    """Whether the allele changes a base of the analysed range: the coding sequence, intron bases within ``flank``
    of a coding exon, or UTR bases within ``flank`` of the CDS (classification module docstring, step 6). A
    non-coding transcript is analysed whole."""
    if not tx.cds:
        return True
    for g in effect.allele.touched:
        c = tx.genomic_to_c(g)
        coding_anchor = c.base >= 1 and not c.utr3
        if c.offset:
            if coding_anchor and abs(c.offset) <= flank:
                return True
        elif coding_anchor or (c.utr3 and c.base <= flank) or (c.base < 0 and -c.base <= flank):
            return True
    return False


def _gq(value: Any) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _g_name(chrom: str, pos: int, ref: str, alt: str, fetch: Fetch | None = None, accession: str | None = None) -> str:
    """HGVS genomic name on the contig's `accession` (``NC_000002.12:g.113129619C>T``; the contig name when there
    is none). With the reference (`fetch`), a deletion or insertion takes its most 3' position on the genome (the
    HGVS 3' rule; a VCF left-aligns them) and an insertion of the bases just before it is a ``dup``; without it,
    the VCF's left-aligned position."""
    allele = trim_allele(chrom, pos, ref, alt)
    reference = CachedReference(fetch, chrom) if fetch is not None else None
    if reference is not None:
        allele = shift_3prime(allele, "+", reference)
    return f"{accession or chrom}:g." + change_name(allele, reference, "+", _g_span, lambda s: s)


def _g_span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}_{last}"


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
    *,
    disease: str,
    genomic_accession: str | dict[str, str] | None = None,
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
    accession); hgvs_p (protein accession; None outside the coding effect, e.g. UTR); hgvs_g (on
    ``genomic_accession``: one accession for the transcript's contig, e.g. NC_000002.12, or a contig -> accession
    map, e.g. chr18 -> NC_000018.10 for a further window; on the contig name elsewhere); bcsq
    (bcftools csq); classification and classification_reason; known_as and known_citation (published allele);
    population_af (global), population_af_max and population_group (the most frequent continental group; all None
    when not given or not found). Alleles on another contig than the transcript are
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
        for record, call in read_sites(vcf, sample_index):
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
                af = population.lookup(record.chrom, record.pos, record.ref, alt) if population else None
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
                    disease=gene.disease,
                    fetch=fasta.fetch,
                    accession=(
                        genomic_accession.get(record.chrom)
                        if isinstance(genomic_accession, dict)
                        else genomic_accession
                        if record.chrom == tx.chrom
                        else None
                    ),
                    pathogenic_c=gene.known.pathogenic_c(),
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


def _run_annotate(args: argparse.Namespace) -> int:
    rules = read_rules_json(args.rules_json)
    locus = Locus.load(args.resources) if args.resources else None
    more_genes = differential_genes(args.resources, args.known) if args.resources else []
    variants = annotate_vcf(
        args.vcf,
        args.reference,
        args.gff3,
        args.known,
        population_vcf=args.population,
        rules=rules,
        sample=args.sample,
        more_genes=more_genes,
        disease=locus.disease if locus else TARGET_DISEASE,
        genomic_accession={c: locus.accession(c) for c in locus.contigs} if locus else None,
    )
    coding = coding_sequences(args.reference, [args.gff3] + [g["gff3"] for g in more_genes])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as handle:
        # `population_data`: whether allele frequencies were read (the report says so when they were not)
        json.dump({"variants": variants, "coding": coding, "population_data": bool(args.population)}, handle, indent=2)
        handle.write("\n")
    log.info("annotated %d allele(s) -> %s", len(variants), out)
    return 0


def coding_sequences(fasta_path: str | Path, gff3_paths: list[str]) -> dict[str, str]:
    """Each gene's transcript from c.1 to its 3' end, for the genotype step (which has no reference): the PVS1
    tree follows an exon deletion's new reading frame to its stop with it. A gene whose CDS the reference does
    not hold is left out (its deletions are then judged without the sequence)."""
    out = {}
    with pysam.FastaFile(str(fasta_path)) as fasta:
        for path in gff3_paths:
            tx = load_transcript(path)
            try:
                check_transcript_on_reference(tx, fasta, fasta_path, path)
            except InputError:
                continue
            if tx.coding:
                out[tx.gene_name or tx.transcript_id] = tx.coding_and_3utr(fasta.fetch)
    return out


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
    "GeneAnnotation",
    "annotate_vcf",
    "check_transcript_on_reference",
    "differential_genes",
    "load_gene_annotation",
    "register_cli",
]
