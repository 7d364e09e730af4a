"""What the annotation reads beside the transcript: population allele frequencies (a gnomAD-style VCF) and
bcftools csq's consequence predictions, kept beside :mod:`dira_genotyper.annotation.hgvs`'s for cross-checking."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pysam
import pysam.utils

from dira_genotyper.annotation.classification import PopulationAf
from dira_genotyper.annotation.hgvs import trim_allele
from dira_genotyper.errors import InputError

#: bcftools csq consequence names -> Sequence Ontology terms (as used by :mod:`dira_genotyper.annotation.hgvs`).
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


class PopulationFrequencies:
    """Allele frequencies from a gnomAD-style VCF (bgzipped and indexed, INFO/AF or INFO/AC and AN; continental
    groups from ``AF_<group>``, ``AF_grpmax`` or ``AF_popmax`` where the file has them)."""

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

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> PopulationAf:
        """What the population VCF says about this allele; all None when it has no record of it."""
        contig = self._contig(chrom)
        if contig is None:
            return PopulationAf()
        wanted = trim_allele(chrom, pos, ref, alt)
        best = PopulationAf()
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
                found = _record_population(record, index)
                if found.highest is not None and (best.highest is None or found.highest > best.highest):
                    best = found
        return best

    def close(self) -> None:
        self._vcf.close()


#: Continental groups whose AF counts for BA1/BS1/PM2 (gnomAD's grpmax set). Bottlenecked groups (asj, fin, ami,
#: mid, oth/remaining) are left out, as gnomAD leaves them out of grpmax/popmax: founder alleles are common there.
GROUPS = ("afr", "amr", "eas", "nfe", "sas")
#: A group's AF counts only when it rests on at least this many alleles (``AN_<group>``, when the file has it): the
#: ClinGen SVI BA1 recommendation (Ghosh 2018) asks for >= 2,000 alleles, as a few copies in a small group give a
#: high AF by chance.
MIN_GROUP_AN = 2000
#: gnomAD's own highest-group AF (v4 grpmax, v2/v3 popmax), with the INFO key that names the group.
MAX_KEYS = (("AF_grpmax", "grpmax"), ("AF_popmax", "popmax"))


def _info_value(info: pysam.VariantRecordInfo, key: str, index: int) -> object:
    """The value of an INFO key for ALT number `index` (Number=A keys hold one per ALT), None if absent."""
    if key not in info:
        return None
    value = info[key]
    return value[index] if isinstance(value, tuple) else value


def _record_population(record: pysam.VariantRecord, index: int) -> PopulationAf:
    """The global AF of one ALT and the highest continental-group AF the record gives (:data:`GROUPS`,
    :data:`MAX_KEYS`)."""
    info = record.info
    groups: dict[str, float] = {}
    for group in GROUPS:
        value = _info_value(info, f"AF_{group}", index)
        an = _info_value(info, f"AN_{group}", index)
        if value is not None and (an is None or an >= MIN_GROUP_AN):
            groups[group] = float(value)
    for key, name_key in MAX_KEYS:
        value = _info_value(info, key, index)
        if value is not None:
            groups[str(_info_value(info, name_key, index) or key.removeprefix("AF_"))] = float(value)
    if not groups:
        return PopulationAf(af=_record_af(record, index))
    group = max(groups, key=lambda g: (groups[g], g))
    return PopulationAf(af=_record_af(record, index), max_af=float(f"{groups[group]:.6g}"), group=group)


def _record_af(record: pysam.VariantRecord, index: int) -> float | None:
    info = record.info
    if "AF" in info:
        value = _info_value(info, "AF", index)
        return None if value is None else float(f"{value:.6g}")
    if "AC" in info and "AN" in info and info["AN"]:
        return float(f"{_info_value(info, 'AC', index) / info['AN']:.6g}")
    return None


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
            "--force",  # calls on contigs the GFF3 has no transcript on (the other window's) are passed through
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
