"""The bundled test cohort (``dira-genotyper test-cohort``): design (samples, haplotypes, expected status),
truth (``truth.json``), synthetic population VCF, sample sheet, and :func:`make_test_cohort` that writes it
all (reference, FASTQ, BAM/CRAM) behind a stamp file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pysam

from dira_devtools.simulate.align import _BWA_SUFFIXES, align_to_bam, bwa_index
from dira_devtools.simulate.background import Population, SampleGenome, Site, make_population, write_check_sites
from dira_devtools.simulate.edits import Edit, deletion, edit_from_hgvs, normalize_vcf
from dira_devtools.simulate.families import family_genomes
from dira_devtools.simulate.reads import simulate_sample, write_capture_bed
from dira_devtools.simulate.reference import load_reference, make_reference
from dira_devtools.simulate.resources import (
    GeneRecord,
    default_resources_dir,
    differential_diseases,
    differential_genes,
    genomic_to_hgvs_c,
    read_genes,
    read_transcript,
)
from dira_devtools.simulate.sequence import _BASES, DEFAULT_SEED
from dira_genotyper import __version__

SIM_VERSION = "8"
MAJEED_ALLELE = "c.1157C>G"  # LPIN2 p.(Ser386*), resources/known_majeed_variants.tsv (Badiger 2024)
DITRA_FOUNDER = "c.80T>C"  # IL36RN p.(Leu27Pro), the Tunisian founder allele (resources/known_ditra_variants.tsv)


COMMON_MISSENSE = "c.331A>G"  # p.(Thr111Ala) in exon 4; population AF 0.25 (benign, synthetic)
POPULATION_AN = 152_312
POPULATION_AF = {"c.331A>G": 0.25, "c.160C>T": 6.6e-6, "c.229G>T": 1.31e-5}
LOW_DEPTH_FRACTION = 0.2  # DIRA-09 gets depth * 0.2 (6x at the default 30x)
#: DIRA-10-FETUS: the mother's share of the prenatal sample's DNA, above the sample checks' 20 % threshold
MATERNAL_CONTAMINATION = 0.25
WHOLE_DELETION_FLANKS = (9000, 10000)  # bp before IL36G's start / after IL1RN's end
EXON3_DELETION_FLANKS = (800, 900)  # bp before / after IL1RN MANE exon 3


@dataclass
class CohortSample:
    name: str
    haplotypes: tuple[list[Edit], list[Edit]]
    status: str
    input: str  # fastq | bam | cram
    depth_factor: float = 1.0
    family: str = ""
    father: str = ""
    mother: str = ""
    sex: str = ""
    #: Expected status of each differential diagnosis (e.g. {"DITRA": "affected"}); default negative.
    differential: tuple[tuple[str, str], ...] = ()
    #: Two heterozygous LoF alleles that neither the parents nor read pairs phase: `inconclusive`, presumed biallelic.
    presumed_biallelic: bool = False
    prenatal: str = ""  # the sheet's `prenatal` column (yes for a fetal sample)
    # The person behind the sheet row, where it is not what the sheet says (the sample checks' cases):
    genome_sex: str = ""  # M / F of the person; "" = the sheet's `sex`, else F
    bio_father: str | None = None  # biological parents where they differ from the sheet's ("" = not in the run)
    bio_mother: str | None = None
    reads_of: str = ""  # the row's file holds this other design sample's DNA (a swap); "" = its own
    contaminant: str = ""  # a design sample whose DNA makes ``contamination`` of the file's
    contamination: float = 0.0
    #: Sample-check failures the row must get (codes of samplecheck.checks; docs/sample-checks.md), which make its
    #: status `inconclusive` whatever the DNA carries.
    check_failures: tuple[str, ...] = ()

    @property
    def genetic_father(self) -> str:
        return self.father if self.bio_father is None else self.bio_father

    @property
    def genetic_mother(self) -> str:
        return self.mother if self.bio_mother is None else self.bio_mother

    @property
    def male(self) -> bool:
        return (self.genome_sex or self.sex or "F").upper() == "M"


@dataclass(frozen=True)
class CohortDesign:
    samples: list[CohortSample]
    whole_deletion: Edit
    exon3_deletion: Edit
    alleles: dict[str, Edit]  # HGVS name -> edit, for the population VCF
    consanguineous: frozenset[str] = frozenset()  # families whose parents share a haplotype by descent


def cohort_design(resources_dir: str | Path) -> CohortDesign:
    """The bundled cohort: samples, their haplotypes and expected status. Deletion ends are derived from
    ``genes.tsv`` (IL36G start, IL1RN end) and the GFF3 (IL1RN exon 3) with the flanks stated above."""
    genes = read_genes(resources_dir)
    tx = read_transcript(resources_dir)
    q54x = edit_from_hgvs(resources_dir, "c.160C>T")
    e77x = edit_from_hgvs(resources_dir, "c.229G>T")
    del15 = edit_from_hgvs(resources_dir, "c.213_227del")
    common = edit_from_hgvs(resources_dir, COMMON_MISSENSE)
    left, right = genes["IL36G"], genes[tx.gene or "IL1RN"]
    big = deletion(left.chrom, left.start - WHOLE_DELETION_FLANKS[0], right.end + WHOLE_DELETION_FLANKS[1])
    ex3 = sorted(tx.exons)[2] if tx.strand == "+" else sorted(tx.exons, reverse=True)[2]
    e3s, e3e = ex3[0] - EXON3_DELETION_FLANKS[0], ex3[1] + EXON3_DELETION_FLANKS[1]
    name = f"c.{genomic_to_hgvs_c(resources_dir, e3s)}_{genomic_to_hgvs_c(resources_dir, e3e)}del"
    if tx.strand == "-":
        name = f"c.{genomic_to_hgvs_c(resources_dir, e3e)}_{genomic_to_hgvs_c(resources_dir, e3s)}del"
    exdel = deletion(tx.chrom, e3s, e3e, hgvs_c=name)
    for s, e in tx.exons:
        if (s, e) != ex3 and s <= e3e and e >= e3s:
            raise ValueError("exon-3 deletion would reach another exon; check EXON3_DELETION_FLANKS")
    s = CohortSample
    by_disease = dict(zip(differential_diseases(resources_dir), differential_genes(resources_dir), strict=True))
    l27p = edit_from_hgvs(resources_dir, DITRA_FOUNDER, by_disease["DITRA"]) if "DITRA" in by_disease else None
    s386x = edit_from_hgvs(resources_dir, MAJEED_ALLELE, by_disease["Majeed"]) if "Majeed" in by_disease else None
    shallow = tuple((d, "inconclusive") for d in by_disease)  # no gene is callable at that depth
    samples = [
        s(
            "DIRA-01",
            ([q54x], [q54x]),
            "affected",
            "fastq",
            family="F1",
            father="DIRA-01-F",
            mother="DIRA-01-M",
            sex="F",
        ),
        # 45x: this sample draws the cohort's strongest GC bias, and GC-rich exon 4 fell to 8 reads at 30x (then
        # rightly `inconclusive`); a lab tops such a sample up, and the seed case's father is a checked carrier
        s("DIRA-01-F", ([q54x], []), "carrier", "bam", family="F1", sex="M", depth_factor=1.5),
        s("DIRA-01-M", ([], [q54x]), "carrier", "fastq", family="F1", sex="F"),
        s(
            "DIRA-01-FETUS",
            ([q54x], []),
            "carrier",
            "fastq",
            family="F1",
            father="DIRA-01-F",
            mother="DIRA-01-M",
            prenatal="yes",
            genome_sex="M",
        ),
        s("DIRA-02", ([e77x], [e77x]), "affected", "bam", genome_sex="M"),
        # in trans, but exons 2 and 3 are too far apart for read pairs and no parents are in the run
        s("DIRA-03", ([q54x], [del15]), "inconclusive", "fastq", presumed_biallelic=True),
        s("DIRA-04", ([], [q54x]), "carrier", "cram", genome_sex="M"),
        s("DIRA-05", ([big], [big]), "affected", "fastq", differential=(("DITRA", "affected"),)),
        s("DIRA-06", ([big], [e77x]), "affected", "bam", differential=(("DITRA", "carrier"),), genome_sex="M"),
        s("DIRA-07", ([exdel], [exdel]), "affected", "fastq"),
        s("DIRA-08", ([common], []), "negative", "fastq", genome_sex="M"),
        s(
            "DIRA-09",
            ([], []),
            "inconclusive",
            "fastq",
            depth_factor=LOW_DEPTH_FRACTION,
            differential=shallow,
        ),
        # F2, the sample checks' family (docs/sample-checks.md): an affected girl, her carrier parents and a prenatal
        # sample of the next pregnancy. The father's file and the unrelated woman DIRA-11's are swapped, so the
        # sheet's father is not the girl's parent and both rows have the other sex; the prenatal sample, sent with
        # the mother only, is 25 % the mother's DNA. Each failed check withholds that row's answer; the mother's
        # stands.
        s(
            "DIRA-10",
            ([e77x], [e77x]),
            "inconclusive",
            "fastq",
            family="F2",
            father="DIRA-10-F",
            mother="DIRA-10-M",
            sex="F",
            check_failures=("not_parent",),
        ),
        s(
            "DIRA-10-F",
            ([e77x], []),
            "inconclusive",
            "bam",
            family="F2",
            sex="M",
            reads_of="DIRA-11",
            check_failures=("not_parent", "sex_mismatch"),
        ),
        # her checks pass, so nothing is withheld: a carrier. Her GC-rich exon 4 is her thinnest (11 reads at its
        # lowest at 30x; 8, `inconclusive`, before recruitment kept the reads at the sample-check sites).
        s("DIRA-10-M", ([], [e77x]), "carrier", "fastq", family="F2", sex="F"),
        s(
            "DIRA-10-FETUS",
            ([e77x], []),
            "inconclusive",
            "fastq",
            family="F2",
            mother="DIRA-10-M",
            prenatal="yes",
            bio_father="DIRA-10-F",
            contaminant="DIRA-10-M",
            contamination=MATERNAL_CONTAMINATION,
            check_failures=("maternal_contamination",),
        ),
        s("DIRA-11", ([], []), "inconclusive", "bam", sex="F", reads_of="DIRA-10-F", check_failures=("sex_mismatch",)),
    ]
    if l27p is not None:  # the DITRA founder allele, homozygous, with normal IL1RN (the differential's own case)
        samples.append(
            s("DITRA-01", ([l27p], [l27p]), "negative", "bam", differential=(("DITRA", "affected"),), genome_sex="M")
        )
    if s386x is not None:  # Majeed syndrome: a published LPIN2 stop, homozygous, on another chromosome (issue #23)
        samples.append(s("MAJEED-01", ([s386x], [s386x]), "negative", "bam", differential=(("Majeed", "affected"),)))
    alleles = {"c.160C>T": q54x, "c.229G>T": e77x, COMMON_MISSENSE: common}
    # F1: a child homozygous for the founder Q54X, as in the consanguineous families it was found in.
    return CohortDesign(samples, big, exdel, alleles, consanguineous=frozenset({"F1"}))


def _overlapping_genes(genes: Mapping[str, GeneRecord], chrom: str, start: int, end: int) -> list[str]:
    return [g.name for g in genes.values() if g.chrom == chrom and g.start <= end and g.end >= start]


def _sample_truth(
    sample: CohortSample,
    ref: Mapping[str, np.ndarray],
    genes: Mapping[str, GeneRecord],
    depth: float,
    diseases: Sequence[str] = (),
    population: Population | None = None,
    genome: SampleGenome | None = None,
) -> dict:
    """A sample's truth: the planted alleles (``alleles``, ``deletions``, ``haplotypes``), copy numbers and
    statuses; with its background ``genome`` (from ``population``) also ``background`` (every common allele
    carried, ``chrom:pos:ref:alt:GT``), ``background_heterozygous`` and the ``vntr`` alleles."""
    h1, h2 = sample.haplotypes
    edits: list[Edit] = []
    for e in list(h1) + list(h2):
        if e not in edits:
            edits.append(e)
    big = [[e for e in hap if e.kind == "deletion"] for hap in (h1, h2)]
    alleles, deletions = [], []
    for e in edits:
        on = [e in h1, e in h2]
        if all(on):
            zyg = "homozygous"
        else:
            other = big[1] if on[0] else big[0]
            lo, hi = (e.start, e.end) if e.ref_length > 0 else (e.start - 1, e.start)
            zyg = "hemizygous" if any(d.start <= lo and hi <= d.end for d in other) else "heterozygous"
        codes = ref[e.chrom]
        hgvs_g = f"{e.chrom}:g.{e.start}_{e.end}del" if e.kind == "deletion" else None
        entry: dict = {"hgvs_c": e.hgvs_c, "zygosity": zyg, "kind": e.kind, "chrom": e.chrom}
        if e.kind == "deletion":
            anchor = chr(_BASES[codes[e.start - 2]])
            entry.update(
                pos=e.start - 1,
                start=e.start,
                end=e.end,
                ref=anchor,
                alt="<DEL>",
                svlen=-(e.ref_length),
                hgvs_g=hgvs_g,
                genes=_overlapping_genes(genes, e.chrom, e.start, e.end),
            )
            exons = [
                f"{g.name}:{i + 1}"
                for g in genes.values()
                for i, (s, t) in enumerate(g.exons)
                if g.chrom == e.chrom and s <= e.end and t >= e.start
            ]
            deletions.append(
                {
                    "chrom": e.chrom,
                    "start": e.start,
                    "end": e.end,
                    "length": e.ref_length,
                    "zygosity": zyg,
                    "genes": entry["genes"],
                    "exons": exons,
                }
            )
        else:
            pos, r, a = normalize_vcf(codes, e)
            entry.update(pos=pos, ref=r, alt=a)
            if e.kind == "indel":
                entry.update(start=e.start, end=e.end)
        alleles.append(entry)
    copy_number, exon_cn = {}, {}
    for g in genes.values():
        per_exon = {}
        for i, (s, t) in enumerate(g.exons):
            lost = sum(any(d.chrom == g.chrom and d.start <= t and d.end >= s for d in hap) for hap in big)
            per_exon[str(i + 1)] = 2 - lost
        exon_cn[g.name] = per_exon
        copy_number[g.name] = min(per_exon.values()) if per_exon else 2
    differential = dict(sample.differential)
    return {
        "status": sample.status,
        "presumed_biallelic": sample.presumed_biallelic,
        # a failed sample check withholds the whole answer, the differential's too (docs/sample-checks.md)
        "differential": {
            d: "inconclusive" if sample.check_failures else differential.get(d, "negative") for d in diseases
        },
        "alleles": alleles,
        "copy_number": copy_number,
        "exon_copy_number": exon_cn,
        "deletions": deletions,
        "depth": depth,
        "input": sample.input,
        "haplotypes": [[_edit_dict(e) for e in hap] for hap in (h1, h2)],
        **(population.truth(genome) if population is not None and genome is not None else {}),
    }


def _edit_dict(e: Edit) -> dict:
    return {
        "chrom": e.chrom,
        "start": e.start,
        "end": e.end,
        "alt": e.alt,
        "kind": e.kind,
        "hgvs_c": e.hgvs_c,
    }


def write_population_vcf(
    path: str | Path,
    reference: str | Path,
    alleles: Mapping[str, Edit],
    af: Mapping[str, float],
    background: Sequence[Site] = (),
) -> Path:
    """gnomAD-style sites VCF (INFO AC/AN/AF/nhomalt), bgzipped and tabix-indexed with pysam: the named
    ``alleles`` (INFO/HGVSc) and the ``background`` population's common sites, as gnomAD lists real ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ref = load_reference(reference)
    rows = []
    named = [(normalize_vcf(ref[e.chrom], e), e.chrom, af[name], f";HGVSc={name}") for name, e in alleles.items()]
    for (pos, r, a), chrom, freq, extra in named + [(s.vcf, s.edit.chrom, s.af, "") for s in background]:
        ac = max(1, round(freq * POPULATION_AN))
        nhom = round(POPULATION_AN / 2 * freq * freq)
        info = f"AC={ac};AN={POPULATION_AN};AF={freq:.3g};nhomalt={nhom}{extra}"
        rows.append((list(ref).index(chrom), pos, f"{chrom}\t{pos}\t.\t{r}\t{a}\t.\tPASS\t{info}\n"))
    header = ["##fileformat=VCFv4.2", "##source=dira-genotyper simulate (synthetic population frequencies)"]
    header += [f"##contig=<ID={c},length={codes.size}>" for c, codes in ref.items()]
    header += [
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">',
        '##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Number of homozygous alternate individuals">',
        '##INFO=<ID=HGVSc,Number=1,Type=String,Description="HGVS c. name on the MANE transcript">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    plain = path.with_name(path.name.removesuffix(".gz") + ".tmp")
    plain.write_text("\n".join(header) + "\n" + "".join(r[2] for r in sorted(rows)))
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def _resources_digest(resources_dir: Path) -> str:
    h = hashlib.sha256()
    for name in (
        "build.json",
        "il1rn.gff3",
        "genes.tsv",
        "exons.tsv",
        "targets.bed",
        "controls.bed",
        "il1rn_cds_synthetic.fa",
        "mask.bed",
        "il36rn.gff3",
        "il36rn_cds_synthetic.fa",
    ):
        if (resources_dir / name).exists():
            h.update(name.encode() + b"\0" + (resources_dir / name).read_bytes())
    return h.hexdigest()[:16]


def _simulate_job(args: tuple) -> tuple[str, float]:
    reference, resources_dir, haplotypes, depth, seed, prefix, name, weights = args
    t = time.perf_counter()
    simulate_sample(reference, resources_dir, haplotypes, depth, "wgs", seed, prefix, name, weights=weights)
    return name, time.perf_counter() - t


def _file_dna(smp: CohortSample, genomes: Mapping[str, SampleGenome]) -> tuple[list, list[float] | None]:
    """The haplotypes whose reads the row's file holds (another person's after a swap, a contaminant's mixed in)
    and their depth weights (None: the two haplotypes equally)."""
    haplotypes = list(genomes[smp.reads_of or smp.name].edits)
    if not smp.contaminant:
        return haplotypes, None
    a = smp.contamination
    return haplotypes + list(genomes[smp.contaminant].edits), [(1 - a) / 2] * 2 + [a / 2] * 2


def _checks_truth(smp: CohortSample) -> dict:
    """What the sample checks should find for the row: the failures (codes), the sex of the DNA in the file, the
    swap and the contamination."""
    out: dict = {"verdict": "fail" if smp.check_failures else "pass", "failures": sorted(smp.check_failures)}
    if smp.reads_of:
        out["file_holds"] = smp.reads_of
    if smp.contaminant:
        out["contamination"] = {"source": smp.contaminant, "fraction": smp.contamination}
    return out


def make_test_cohort(
    out_dir: str | Path = "test-data",
    seed: int = DEFAULT_SEED,
    depth: float = 30,
    threads: int = 2,
    resources_dir: str | Path | None = None,
    force: bool = False,
) -> Path:
    """Write the bundled test cohort into ``out_dir`` and return the sample sheet's path.

    Skips all work when ``out_dir/.simulate-stamp.json`` records the same seed, depth, simulator version and
    resource files and every output exists (``force`` regenerates). Paths in ``samples.tsv`` start with
    ``out_dir`` as given (relative to the project root when ``out_dir`` is relative).
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    resources_dir = Path(resources_dir) if resources_dir else default_resources_dir()
    design = cohort_design(resources_dir)
    ref_path = out / "reference" / "synth.fa"
    sheet = out / "samples.tsv"
    stamp_path = out / ".simulate-stamp.json"
    stamp = {
        "seed": int(seed),
        "depth": float(depth),
        "sim_version": SIM_VERSION,
        "package": __version__,
        "resources": _resources_digest(resources_dir),
    }

    def sample_files(smp: CohortSample) -> list[Path]:
        if smp.input == "fastq":
            return [out / "fastq" / f"{smp.name}_R1.fastq.gz", out / "fastq" / f"{smp.name}_R2.fastq.gz"]
        if smp.input == "bam":
            return [out / "bam" / f"{smp.name}.bam", out / "bam" / f"{smp.name}.bam.bai"]
        return [out / "bam" / f"{smp.name}.cram", out / "bam" / f"{smp.name}.cram.crai"]

    def write_sheet() -> None:
        lines = ["sample\tfq1\tfq2\tbam\tfamily\tfather\tmother\tsex\tprenatal\n"]
        for smp in design.samples:
            files = [str(p) for p in sample_files(smp)]
            fq1, fq2, bam = (files[0], files[1], "") if smp.input == "fastq" else ("", "", files[0])
            row = [smp.name, fq1, fq2, bam, smp.family, smp.father, smp.mother, smp.sex, smp.prenatal]
            lines.append("\t".join(row) + "\n")
        text = "".join(lines)
        if not sheet.exists() or sheet.read_text() != text:
            sheet.write_text(text)

    population_vcf = out / "population" / "population_af.vcf.gz"
    expected = [
        ref_path,
        Path(str(ref_path) + ".fai"),
        sheet,
        out / "truth.json",
        population_vcf,
        Path(str(population_vcf) + ".tbi"),
        out / "capture_panel.bed",
    ]
    expected += [Path(str(ref_path) + s) for s in _BWA_SUFFIXES]
    for smp in design.samples:
        expected += sample_files(smp)
    if not force and stamp_path.exists() and all(p.exists() for p in expected):
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                write_sheet()  # cheap; paths follow out_dir as given this time
                print(f"test-cohort: {out} is up to date (seed {seed}, depth {depth}); nothing to do")
                return sheet
        except json.JSONDecodeError:
            pass
    stamp_path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    make_reference(resources_dir, ref_path, seed)
    bwa_index(ref_path)
    t_ref = time.perf_counter() - t0
    ref = load_reference(ref_path)
    genes = read_genes(resources_dir)
    population = make_population(ref, resources_dir, seed)
    genomes = family_genomes(population, design.samples, seed, design.consanguineous)

    tmp_dir = out / "tmp"
    jobs = []
    for smp in design.samples:
        d = round(depth * smp.depth_factor, 3)
        d = int(d) if float(d).is_integer() else d
        prefix = (out / "fastq" / smp.name) if smp.input == "fastq" else (tmp_dir / smp.name)
        haplotypes, weights = _file_dna(smp, genomes)
        jobs.append((str(ref_path), str(resources_dir), haplotypes, d, seed, str(prefix), smp.name, weights))
    t1 = time.perf_counter()
    workers = max(1, min(int(threads), len(jobs)))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_simulate_job, jobs))
    else:
        for job in jobs:
            _simulate_job(job)
    t_reads = time.perf_counter() - t1

    t2 = time.perf_counter()
    for smp, job in zip(design.samples, jobs, strict=True):
        if smp.input == "fastq":
            continue
        prefix = job[5]
        fq1, fq2 = f"{prefix}_R1.fastq.gz", f"{prefix}_R2.fastq.gz"
        bam = out / "bam" / f"{smp.name}.bam"
        if smp.input == "bam":
            align_to_bam(ref_path, fq1, fq2, bam, smp.name, threads)
        else:
            align_to_bam(
                ref_path,
                fq1,
                fq2,
                bam,
                smp.name,
                threads,
                cram=out / "bam" / f"{smp.name}.cram",
                keep_bam=False,
            )
        Path(fq1).unlink()
        Path(fq2).unlink()
    shutil.rmtree(tmp_dir, ignore_errors=True)
    t_align = time.perf_counter() - t2

    truth = {}
    by_name = {smp.name: smp for smp in design.samples}
    for smp, job in zip(design.samples, jobs, strict=True):
        diseases = differential_diseases(resources_dir)
        person = by_name[smp.reads_of or smp.name]  # the alleles are those of the DNA in the file
        row = replace(smp, haplotypes=person.haplotypes)
        truth[smp.name] = _sample_truth(row, ref, genes, job[3], diseases, population, genomes[person.name])
        truth[smp.name]["sample_checks"] = _checks_truth(smp)
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    write_sheet()
    write_population_vcf(population_vcf, ref_path, design.alleles, POPULATION_AF, population.sites)
    write_check_sites(out / "reference" / "sample_sites.tsv.gz", population.sites)
    write_capture_bed(resources_dir, out / "capture_panel.bed")
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    total = time.perf_counter() - t0
    print(
        f"test-cohort: {len(design.samples)} samples at {depth}x in {total:.1f} s "
        f"(reference+index {t_ref:.1f} s, reads {t_reads:.1f} s on {workers} workers, "
        f"alignment {t_align:.1f} s with {threads} threads) -> {out}"
    )
    return sheet


# ---------------------------------------------------------------------------------------------------------
# CLI hook
# ---------------------------------------------------------------------------------------------------------


def _cli_test_cohort(args: argparse.Namespace) -> int:
    make_test_cohort(args.out, args.seed, args.depth, args.threads, args.resources, args.force)
    return 0


def register_cli(subparsers) -> None:  # noqa: ANN001 - argparse's private subparsers type
    """Add ``test-cohort`` to the ``dira-genotyper`` sub-commands."""
    p = subparsers.add_parser(
        "test-cohort",
        help="generate the synthetic test cohort (reference, reads, BAM/CRAM, truth, population VCF)",
    )
    p.add_argument("--out", default="test-data", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    p.add_argument("--depth", type=float, default=30, help="read depth (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="worker processes / bwa threads (default: %(default)s)")
    p.add_argument("--resources", default=None, help="build resources folder (default: the project's resources/SYNTH)")
    p.add_argument("--force", action="store_true", help="regenerate even if the stamp file says up to date")
    p.set_defaults(func=_cli_test_cohort)
