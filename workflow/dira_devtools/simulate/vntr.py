"""The IL1RN intron-2 VNTR: an 86-bp unit repeated 2-6 times, a length polymorphism every real genome carries.

Where: GRCh38 chr2:113,130,529-113,130,872 (344 bp = 4 x 86), as a public adVNTR-based analysis script lists the
IL1RN VNTR (rs2234663); unverified against the reference sequence. On the MANE transcript NM_173842.3 that is
c.205+865_206-173 (intron 2: exon 2 ends at 113,129,664 = c.205, exon 3 starts at 113,131,045 = c.206), the
form kept here so every build places it from its own GFF3. Its sequence is not used: the synthetic reference
gets a random 86-bp unit (:func:`dira_devtools.simulate.reference.lay_vntr`), nearly identical copies as in real VNTRs.

Alleles (published PCR surveys; Europeans, rounded): 4 copies (IL1RN*1, A1) ~0.7, 2 copies (IL1RN*2, A2)
~0.25, 3, 5 and 6 copies (A4, A3, A5) rare. The reference carries IL1RN*1 (4 copies); a haplotype with fewer
copies lacks the last ones (a deletion of whole units at the VNTR's end), one with more repeats the last unit
after it (an insertion). Positions are 1-based inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dira_devtools.simulate.edits import Edit, deletion, insertion
from dira_devtools.simulate.resources import read_transcript
from dira_devtools.simulate.sequence import _BASES

VNTR_UNIT = 86
VNTR_REFERENCE_COPIES = 4
VNTR_C_SPAN = ("205+865", "206-173")  # on the target gene's MANE transcript (see the module docstring)
VNTR_COPY_FREQUENCIES = {2: 0.26, 3: 0.02, 4: 0.66, 5: 0.03, 6: 0.03}
VNTR_COPY_DIVERGENCE = 0.01  # share of bases that differ between a copy and the unit


@dataclass(frozen=True)
class Vntr:
    """The VNTR of a reference: ``chrom:start-end`` holds ``copies`` units of ``unit`` bp."""

    chrom: str
    start: int
    end: int
    unit: int = VNTR_UNIT
    copies: int = VNTR_REFERENCE_COPIES

    def edit(self, copies: int, reference: dict[str, np.ndarray]) -> Edit | None:
        """The edit that turns the reference allele into ``copies`` units (None for the reference allele)."""
        if copies < 1:
            raise ValueError(f"a VNTR allele needs at least one copy, not {copies}")
        if copies == self.copies:
            return None
        if copies < self.copies:
            return deletion(self.chrom, self.start + copies * self.unit, self.end)
        last = _BASES[reference[self.chrom][self.end - self.unit : self.end]].tobytes().decode()
        return insertion(self.chrom, self.end, last * (copies - self.copies))

    def to_dict(self) -> dict:
        return {"chrom": self.chrom, "start": self.start, "end": self.end, "unit": self.unit, "copies": self.copies}


def vntr_locus(resources_dir: str | Path) -> Vntr:
    """The VNTR's span on this build, from the target gene's MANE transcript (``il1rn.gff3``)."""
    tx = read_transcript(resources_dir)
    a, b = (tx.model.c_to_genomic(f"c.{c}") for c in VNTR_C_SPAN)
    start, end = min(a, b), max(a, b)
    if end - start + 1 != VNTR_UNIT * VNTR_REFERENCE_COPIES:
        raise ValueError(f"VNTR span {start}-{end} is not {VNTR_REFERENCE_COPIES} x {VNTR_UNIT} bp")
    return Vntr(tx.chrom, start, end)


def draw_vntr_copies(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` VNTR alleles (copy numbers) drawn from ``VNTR_COPY_FREQUENCIES``."""
    values = np.array(list(VNTR_COPY_FREQUENCIES), dtype=np.int64)
    p = np.array(list(VNTR_COPY_FREQUENCIES.values()), dtype=float)
    return rng.choice(values, size=n, p=p / p.sum())
