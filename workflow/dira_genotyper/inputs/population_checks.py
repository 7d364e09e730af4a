"""The population VCF (gnomAD-style, INFO/AF) checked up front: bgzipped, indexed, INFO/AF present, the locus
contig in the reference's naming and length.
"""

from __future__ import annotations

import os

import pysam

from dira_genotyper.errors import InputError
from dira_genotyper.inputs.sheet import BGZF_EOF, Naming, _ends_with, contig_candidates, load_build_meta, read_fai


def check_population_vcf(path: str, locus_contig: str, locus_length: int | None = None) -> dict:
    """The optional population VCF, checked before any job: exists, bgzipped (BGZF, not plain gzip), indexed
    (.tbi/.csi), INFO/AF (or INFO/AC and AN) in the header, and the locus contig present in either naming (with
    the reference's length when the header gives one). Without these every frequency would silently be missing.
    """
    label = f"population VCF {path} (config key `population_vcf`)"
    off = 'or set `population_vcf: ""` to run without population frequencies'
    if not os.path.exists(path):
        raise InputError(f"{label} does not exist; fix the path, {off}")
    with open(path, "rb") as handle:
        magic = handle.read(18)
    if magic[:2] != b"\x1f\x8b" or magic[12:16] != b"BC\x02\x00":
        raise InputError(
            f"{label} is not bgzip-compressed; compress and index it: `bgzip -c in.vcf > "
            f"{path}` then `tabix -p vcf {path}`, {off}"
        )
    if not _ends_with(path, BGZF_EOF):
        raise InputError(f"{label} is truncated (no BGZF end-of-file marker); copy it again, {off}")
    if not any(os.path.exists(path + ext) for ext in (".tbi", ".csi")):
        raise InputError(f"{label} has no index ({path}.tbi or .csi); run `tabix -p vcf {path}`, {off}")
    try:
        with pysam.VariantFile(path) as vcf:
            info = set(vcf.header.info)
            contigs = {name: vcf.header.contigs[name].length for name in vcf.header.contigs}
            indexed = set(vcf.index.keys()) if vcf.index is not None else set()
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{label} cannot be read as VCF ({exc}); {off}") from exc
    if "AF" not in info and not {"AC", "AN"} <= info:
        raise InputError(
            f"{label} has no INFO/AF (nor INFO/AC and AN) in its header; use a gnomAD-style "
            f"sites VCF with allele frequencies, {off}"
        )
    names = [n for n in contig_candidates(locus_contig) if n in contigs or n in indexed]
    if not names:
        have = sorted(set(contigs) | indexed)
        raise InputError(
            f"{label} has no contig {' or '.join(contig_candidates(locus_contig))} (the IL1RN contig); it names "
            f"{', '.join(have[:8]) or 'no contigs'}{' ...' if len(have) > 8 else ''}. Use a VCF of the same "
            f"genome build, {off}"
        )
    length = contigs.get(names[0])
    if locus_length and length and length != locus_length:
        raise InputError(
            f"{label}: contig {names[0]} is {length:,} bp but the reference's is {locus_length:,} bp: the VCF is "
            f"of another genome build; use one of the reference's build, {off}"
        )
    return {"path": path, "contig": names[0]}


def check_population_for_run(path: str, reference: str, build: str, resources_dir: str, naming: Naming) -> dict:
    """:func:`check_population_vcf` for the run's reference: its locus contig name and length."""
    contig = naming.to_ref(load_build_meta(resources_dir, build)["locus_contig"])
    return check_population_vcf(path, contig, read_fai(reference).get(contig))
