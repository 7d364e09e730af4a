"""Variants and haplotypes: :class:`Edit` (SNV, deletion, insertion, replacement), :func:`edit_from_hgvs`,
:class:`HapSeq` / :func:`apply_edits` (a haplotype's sequence with each base's reference position), and the
truth's VCF form of an edit (:func:`normalize_vcf`). Positions are 1-based inclusive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dira_devtools.simulate.resources import cds_to_genomic, read_transcript
from dira_devtools.simulate.sequence import _BASES, _ENCODE, revcomp

MAX_INDEL = 50  # edits removing more reference bases than this are "deletion" (structural), else "indel"


@dataclass(frozen=True)
class Edit:
    """Replace reference bases ``start..end`` (1-based inclusive) of ``chrom`` by ``alt``.

    SNV: start == end, one alt base. Deletion: alt "". Insertion before ``start``: end == start - 1.
    ``ref`` (optional) is checked against the reference when the edit is applied. ``hgvs_c`` is a label.
    """

    chrom: str
    start: int
    end: int
    alt: str = ""
    ref: str | None = None
    hgvs_c: str | None = None

    @property
    def ref_length(self) -> int:
        return self.end - self.start + 1

    @property
    def kind(self) -> str:
        if self.ref_length == 1 and len(self.alt) == 1:
            return "snv"
        if self.ref_length > MAX_INDEL and len(self.alt) <= MAX_INDEL:
            return "deletion"
        return "indel"


Haplotype = Sequence[Edit]


def snv(chrom: str, pos: int, alt: str, ref: str | None = None, hgvs_c: str | None = None) -> Edit:
    return Edit(chrom, pos, pos, alt.upper(), ref.upper() if ref else None, hgvs_c)


def deletion(chrom: str, start: int, end: int, hgvs_c: str | None = None) -> Edit:
    """Delete reference bases start..end (1-based inclusive); small (<= 50 bp) or large."""
    if end < start:
        raise ValueError("deletion end < start")
    return Edit(chrom, start, end, "", None, hgvs_c)


def insertion(chrom: str, after: int, seq: str, hgvs_c: str | None = None) -> Edit:
    """Insert ``seq`` after reference base ``after`` (1-based)."""
    return Edit(chrom, after + 1, after, seq.upper(), None, hgvs_c)


_HGVS_SUB = re.compile(r"^c\.(\d+)([ACGT])>([ACGT])$")
_HGVS_DEL = re.compile(r"^c\.(\d+)(?:_(\d+))?del([ACGT]*)$")
_HGVS_INS = re.compile(r"^c\.(\d+)_(\d+)ins([ACGT]+)$")


def edit_from_hgvs(resources_dir: str | Path, hgvs_c: str, gene: str | None = None) -> Edit:
    """Edit for a coding HGVS name on the MANE transcript: ``c.160C>T``, ``c.213_227del``, ``c.100del``,
    ``c.100_101insA`` (within one exon). Reference bases named in the HGVS are checked when applied.
    ``gene``: a differential gene's transcript instead of the target's."""
    tx = read_transcript(resources_dir, gene)
    plus = tx.strand == "+"

    def gspan(c1: int, c2: int) -> tuple[int, int]:
        g1, g2 = cds_to_genomic(resources_dir, c1, gene), cds_to_genomic(resources_dir, c2, gene)
        if abs(g1 - g2) != abs(c1 - c2):
            raise ValueError(f"{hgvs_c}: spans an intron")
        return min(g1, g2), max(g1, g2)

    def strand_seq(s: str) -> str:
        return s if plus else revcomp(s)

    if m := _HGVS_SUB.match(hgvs_c):
        pos = cds_to_genomic(resources_dir, int(m[1]), gene)
        return snv(tx.chrom, pos, strand_seq(m[3]), strand_seq(m[2]), hgvs_c)
    if m := _HGVS_DEL.match(hgvs_c):
        c1 = int(m[1])
        c2 = int(m[2]) if m[2] else c1
        s, e = gspan(c1, c2)
        return Edit(tx.chrom, s, e, "", strand_seq(m[3]) if m[3] else None, hgvs_c)
    if m := _HGVS_INS.match(hgvs_c):
        c1, c2 = int(m[1]), int(m[2])
        if c2 != c1 + 1:
            raise ValueError(f"{hgvs_c}: insertion flanks must be adjacent")
        s, _ = gspan(c1, c2)
        return Edit(tx.chrom, s + 1, s, strand_seq(m[3]), None, hgvs_c)
    raise ValueError(f"unsupported HGVS name {hgvs_c!r} (use c.NX>Y, c.N_Mdel, c.Ndel or c.N_MinsSEQ)")


@dataclass
class HapSeq:
    """One haplotype of one contig: bases and, per base, the 0-based reference position (-1 = inserted)."""

    seq: np.ndarray
    refpos: np.ndarray

    @classmethod
    def from_reference(cls, codes: np.ndarray | str) -> HapSeq:
        if isinstance(codes, str):
            codes = _ENCODE[np.frombuffer(codes.encode(), dtype=np.uint8)]
        return cls(np.asarray(codes, dtype=np.uint8), np.arange(len(codes), dtype=np.int64))

    @property
    def monotone_refpos(self) -> np.ndarray:
        """Reference position of each base, inserted bases taking the preceding reference base's."""
        return np.maximum.accumulate(self.refpos)

    def ref_to_hap(self, ref0: np.ndarray | int) -> np.ndarray:
        """0-based haplotype index of the first base at or after each 0-based reference position."""
        return np.searchsorted(self.monotone_refpos, ref0, side="left")


def apply_edits(reference: Mapping[str, np.ndarray], edits: Haplotype) -> dict[str, HapSeq]:
    """Build one haplotype (every contig of ``reference``) by applying ``edits``."""
    by_chrom: dict[str, list[Edit]] = {}
    for edit in edits:
        if edit.chrom not in reference:
            raise ValueError(f"edit on unknown contig {edit.chrom!r}")
        by_chrom.setdefault(edit.chrom, []).append(edit)
    out = {}
    for chrom, codes in reference.items():
        chrom_edits = sorted(by_chrom.get(chrom, []), key=lambda e: (e.start, e.end))
        if not chrom_edits:
            out[chrom] = HapSeq(codes, np.arange(codes.size, dtype=np.int64))
            continue
        seq_parts, pos_parts = [], []
        cursor = 0  # 0-based next reference base to copy
        for edit in chrom_edits:
            s0 = edit.start - 1
            if s0 < cursor or edit.end > codes.size or s0 > codes.size:
                raise ValueError(f"overlapping or out-of-range edits on {chrom} at {edit.start}")
            if edit.ref is not None:
                actual = _BASES[codes[s0 : edit.end]].tobytes().decode()
                if actual != edit.ref:
                    raise ValueError(f"{edit.hgvs_c or edit}: reference at {chrom}:{edit.start} is {actual}")
            seq_parts.append(codes[cursor:s0])
            pos_parts.append(np.arange(cursor, s0, dtype=np.int64))
            if edit.alt:
                alt = _ENCODE[np.frombuffer(edit.alt.encode(), dtype=np.uint8)]
                seq_parts.append(alt)
                if edit.ref_length == len(edit.alt):  # substitution: bases keep their reference positions
                    pos_parts.append(np.arange(s0, edit.end, dtype=np.int64))
                else:
                    pos_parts.append(np.full(alt.size, -1, dtype=np.int64))
            cursor = max(cursor, edit.end)
        seq_parts.append(codes[cursor:])
        pos_parts.append(np.arange(cursor, codes.size, dtype=np.int64))
        out[chrom] = HapSeq(np.concatenate(seq_parts), np.concatenate(pos_parts))
    return out


def normalize_vcf(codes: np.ndarray, edit: Edit) -> tuple[int, str, str]:
    """Left-aligned, anchored VCF (pos, ref, alt) of a small edit, given the reference codes of its contig.

    Kept independent of production on purpose: it is the truth's oracle for the caller's left-alignment and
    normalisation (``bcftools norm`` in :mod:`dira_genotyper.calling.caller`,
    :func:`dira_genotyper.cnv.breakpoints.left_align`), so the truth must not be computed by the code it checks.
    """

    def base(pos1: int) -> str:
        return chr(_BASES[codes[pos1 - 1]])

    if edit.kind == "snv" or (edit.ref_length == len(edit.alt) and edit.ref_length > 0):
        ref = _BASES[codes[edit.start - 1 : edit.end]].tobytes().decode()
        return edit.start, ref, edit.alt
    start, end, alt = edit.start, edit.end, edit.alt
    if not alt:  # deletion of start..end: shift left while the base before equals the last deleted base
        while start > 1 and base(start - 1) == base(end):
            start, end = start - 1, end - 1
        anchor = start - 1
        ref = _BASES[codes[anchor - 1 : end]].tobytes().decode()
        return anchor, ref, ref[0]
    if edit.ref_length == 0:  # insertion after start-1: rotate left while the inserted last base repeats
        after = edit.start - 1
        while after > 1 and base(after) == alt[-1]:
            alt = alt[-1] + alt[:-1]
            after -= 1
        return after, base(after), base(after) + alt
    anchor = start - 1  # complex replacement: anchored, not shifted
    ref = _BASES[codes[anchor - 1 : end]].tobytes().decode()
    return anchor, ref, ref[0] + alt
