"""Transcript model from an Ensembl-style GFF3, and mapping between genomic and HGVS c./n. positions.

Coordinates are 1-based inclusive on the genome. A transcript is read, never written, here: every coordinate
comes from the per-build ``resources/<build>/il1rn.gff3`` (see :mod:`dira_devtools.resources.build`).

HGVS numbering (https://hgvs-nomenclature.org, "Numbering"): c.1 is the A of the ATG; bases 5' of it are
c.-1, c.-2, ... and bases 3' of the stop codon are c.*1, c.*2, ...; an intronic base is named from the
nearest exon base plus or minus its distance (c.116+1, c.117-2), the middle base of an odd-length intron
taking ``+``. Bases outside the transcript continue the UTR numbering (c.-30 upstream, c.*1200 downstream).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from dira_genotyper.errors import InputError

#: ``fetch(chrom, start0, end0) -> str`` (0-based, half-open), e.g. ``pysam.FastaFile(...).fetch``.
Fetch = Callable[[str, int, int], str]

_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


class CachedReference:
    """Block-cached access to one contig through ``fetch``; bases past either end read as ''."""

    BLOCK = 1024

    def __init__(self, fetch: Fetch, chrom: str) -> None:
        self._fetch = fetch
        self._chrom = chrom
        self._blocks: dict[int, str] = {}

    def _block(self, index: int) -> str:
        if index not in self._blocks:
            start = index * self.BLOCK
            self._blocks[index] = self._fetch(self._chrom, start, start + self.BLOCK).upper()
        return self._blocks[index]

    def seq(self, start: int, end: int) -> str:
        start = max(start, 0)
        if end <= start:
            return ""
        parts = [self._block(b) for b in range(start // self.BLOCK, (end - 1) // self.BLOCK + 1)]
        offset = start - (start // self.BLOCK) * self.BLOCK
        return "".join(parts)[offset : offset + end - start]

    def base(self, index: int) -> str:
        return self.seq(index, index + 1) if index >= 0 else ""


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class CPos:
    """A position in HGVS c. (coding) or n. (non-coding) numbering.

    ``base`` is the transcript number of the anchoring exon base: negative for c.-N, positive in the CDS,
    and the N of c.*N when ``utr3`` is set. ``offset`` is the intronic distance from that base.
    """

    base: int
    offset: int = 0
    utr3: bool = False

    def __str__(self) -> str:
        text = f"*{self.base}" if self.utr3 else str(self.base)
        if self.offset > 0:
            text += f"+{self.offset}"
        elif self.offset < 0:
            text += f"-{-self.offset}"
        return text


_CPOS_RE = re.compile(r"^(?:[cn]\.)?(\*)?(-?\d+)(?:([+-])(\d+))?$")


def parse_cpos(text: str) -> CPos:
    """Parse ``c.117-2``, ``c.-5``, ``c.*12``, ``160`` (the ``c.`` prefix is optional)."""
    match = _CPOS_RE.match(text.strip())
    if not match:
        raise ValueError(f"not an HGVS c. position: {text!r}")
    star, base, sign, offset = match.groups()
    base_i = int(base)
    if base_i == 0:
        raise ValueError(f"there is no position 0 in HGVS numbering: {text!r}")
    if star and base_i < 0:
        raise ValueError(f"c.*N takes a positive N: {text!r}")
    off = int(offset) * (1 if sign == "+" else -1) if sign else 0
    return CPos(base_i, off, bool(star))


@dataclass(frozen=True)
class Region:
    """Where a genomic position falls on the transcript."""

    feature: str  # cds, five_prime_utr, three_prime_utr, intron, upstream, downstream (noncoding: exon)
    exon: int | None = None  # exon number (5'->3') for exonic positions
    intron: int | None = None  # intron number (intron k lies between exon k and exon k+1)
    intron_offset: int = 0  # HGVS offset from the nearest exon base (+ donor side, - acceptor side)


@dataclass(frozen=True)
class Transcript:
    """One transcript: exons and CDS as 1-based inclusive genomic intervals in ascending genomic order."""

    transcript_id: str  # unversioned stable ID as in the GFF3 ``ID=transcript:...``
    chrom: str
    strand: str  # "+" or "-"
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...] = ()
    gene_id: str | None = None
    gene_name: str | None = None
    refseq: str | None = None  # e.g. NM_173842.3
    ensembl: str | None = None  # versioned, e.g. ENST00000409930.4
    protein_refseq: str | None = None
    protein_ensembl: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: Number of the 5'-most exon of the model (GFF3 ``exon_number``/``rank``): a transcript whose first exon
    #: is not modelled (e.g. a 5' UTR exon of unverified extent) keeps the published exon and intron numbers.
    first_exon: int = 1

    def __post_init__(self) -> None:
        if self.strand not in "+-" or len(self.strand) != 1:
            raise ValueError(f"{self.transcript_id}: strand must be + or -, not {self.strand!r}")
        exons = tuple(sorted((int(s), int(e)) for s, e in self.exons))
        cds = tuple(sorted((int(s), int(e)) for s, e in self.cds))
        if not exons:
            raise ValueError(f"{self.transcript_id}: no exons")
        for (_s1, e1), (s2, _e2) in zip(exons, exons[1:]):
            if s2 <= e1:
                raise ValueError(f"{self.transcript_id}: exons overlap at {s2}")
        for s, e in cds:
            if not any(es <= s and e <= ee for es, ee in exons):
                raise ValueError(f"{self.transcript_id}: CDS {s}-{e} is not inside an exon")
        object.__setattr__(self, "exons", exons)
        object.__setattr__(self, "cds", cds)
        # Transcript (n.) numbering: exon blocks in 5'->3' order with their first n. number.
        blocks = []
        n = 1
        for s, e in self.exons_5to3:
            blocks.append((s, e, n))
            n += e - s + 1
        object.__setattr__(self, "_blocks", tuple(blocks))
        object.__setattr__(self, "_length", n - 1)
        if cds:
            first, last = (cds[0][0], cds[-1][1]) if self.strand == "+" else (cds[-1][1], cds[0][0])
            object.__setattr__(self, "_cds_start_n", self._exonic_n(first))
            object.__setattr__(self, "_cds_end_n", self._exonic_n(last))
            if self._cds_end_n - self._cds_start_n + 1 != self.cds_length:
                raise ValueError(f"{self.transcript_id}: the CDS is not contiguous on the spliced transcript")

    # ----------------------------------------------------------------------------------------- layout
    @property
    def coding(self) -> bool:
        return bool(self.cds)

    @property
    def prefix(self) -> str:
        """HGVS coordinate type: ``c`` for coding transcripts, ``n`` for non-coding ones."""
        return "c" if self.coding else "n"

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]

    @property
    def length(self) -> int:
        """Length of the spliced transcript."""
        return self._length

    @property
    def exons_5to3(self) -> tuple[tuple[int, int], ...]:
        return self.exons if self.strand == "+" else tuple(reversed(self.exons))

    @property
    def introns_5to3(self) -> tuple[tuple[int, int], ...]:
        """Introns as genomic (start, end), numbered like the exon before them in transcript order."""
        ex = self.exons_5to3
        if self.strand == "+":
            return tuple((a[1] + 1, b[0] - 1) for a, b in zip(ex, ex[1:]))
        return tuple((b[1] + 1, a[0] - 1) for a, b in zip(ex, ex[1:]))

    @property
    def cds_length(self) -> int:
        return sum(e - s + 1 for s, e in self.cds)

    @property
    def cds_start(self) -> int:
        """Genomic position of c.1 (the A of the ATG)."""
        self._require_cds()
        return self.cds[0][0] if self.strand == "+" else self.cds[-1][1]

    @property
    def cds_end(self) -> int:
        """Genomic position of the last base of the stop codon."""
        self._require_cds()
        return self.cds[-1][1] if self.strand == "+" else self.cds[0][0]

    def accession(self, source: str = "refseq") -> str:
        """Versioned transcript accession for HGVS names: ``refseq`` (NM_) or ``ensembl`` (ENST)."""
        value = self.refseq if source == "refseq" else self.ensembl
        return value or self.ensembl or self.refseq or self.transcript_id

    def protein_accession(self) -> str | None:
        return self.protein_refseq or self.protein_ensembl

    def _require_cds(self) -> None:
        if not self.cds:
            raise ValueError(f"{self.transcript_id} has no CDS")

    # ------------------------------------------------------------------------------------- positions
    def _exonic_n(self, pos: int) -> int | None:
        for s, e, n0 in self._blocks:
            if s <= pos <= e:
                return n0 + (pos - s if self.strand == "+" else e - pos)
        return None

    def _n_to_genomic(self, n: int) -> int:
        """Genomic position of transcript base n; bases beyond either end extend the first/last exon."""
        if n < 1:
            s, e, _ = self._blocks[0]
            return s - (1 - n) if self.strand == "+" else e + (1 - n)
        if n > self._length:
            s, e, _ = self._blocks[-1]
            return e + (n - self._length) if self.strand == "+" else s - (n - self._length)
        for s, e, n0 in self._blocks:
            if n0 <= n <= n0 + (e - s):
                return s + (n - n0) if self.strand == "+" else e - (n - n0)
        raise AssertionError("unreachable")

    def transcript_n(self, pos: int) -> int | None:
        """n. number of an exonic genomic position (1-based from the transcript's 5' end), else None.

        Positions outside the transcript extend the numbering (0, -1, ... upstream; length+1, ... downstream).
        """
        n = self._exonic_n(pos)
        if n is not None:
            return n
        if (pos < self.start and self.strand == "+") or (pos > self.end and self.strand == "-"):
            return 1 - abs(pos - (self.start if self.strand == "+" else self.end))
        if (pos > self.end and self.strand == "+") or (pos < self.start and self.strand == "-"):
            return self._length + abs(pos - (self.end if self.strand == "+" else self.start))
        return None  # intronic

    def _n_to_cpos(self, n: int, offset: int = 0) -> CPos:
        if not self.cds:
            return CPos(n if n >= 1 else n - 1, offset)  # n. numbering; n.-1 is the base before n.1
        if n < self._cds_start_n:
            return CPos(n - self._cds_start_n, offset)
        if n > self._cds_end_n:
            return CPos(n - self._cds_end_n, offset, utr3=True)
        return CPos(n - self._cds_start_n + 1, offset)

    def _cpos_to_n(self, cpos: CPos) -> int:
        if not self.cds:
            if cpos.utr3:
                raise ValueError("n. numbering has no * positions")
            return cpos.base if cpos.base >= 1 else cpos.base + 1
        if cpos.utr3:
            return self._cds_end_n + cpos.base
        if cpos.base < 0:
            return self._cds_start_n + cpos.base
        return self._cds_start_n + cpos.base - 1

    def genomic_to_c(self, pos: int) -> CPos:
        """HGVS c. (or n.) position of a genomic position; an intronic one is offset from the nearest exon."""
        n = self.transcript_n(pos)
        if n is not None:
            return self._n_to_cpos(n)
        for number, (istart, iend) in enumerate(self.introns_5to3, start=1):
            if istart <= pos <= iend:
                # donor side = 5' end of the intron in transcript orientation
                d5 = pos - istart + 1 if self.strand == "+" else iend - pos + 1
                d3 = iend - pos + 1 if self.strand == "+" else pos - istart + 1
                exon_n_before = self._blocks[number - 1][2] + (
                    self._blocks[number - 1][1] - self._blocks[number - 1][0]
                )
                if d5 <= d3:
                    return self._n_to_cpos(exon_n_before, d5)
                return self._n_to_cpos(exon_n_before + 1, -d3)
        raise AssertionError(f"position {pos} is neither exonic, intronic nor outside {self.transcript_id}")

    def c_to_genomic(self, cpos: CPos | str) -> int:
        """Genomic position of an HGVS c./n. position (``CPos`` or text such as ``c.117-2``)."""
        if isinstance(cpos, str):
            cpos = parse_cpos(cpos)
        n = self._cpos_to_n(cpos)
        anchor = self._n_to_genomic(n)
        if cpos.offset:
            if not 1 <= n <= self._length:
                raise ValueError(f"{cpos}: an intronic offset needs an exonic anchor")
            if self.transcript_n(anchor) is None:
                raise ValueError(f"{cpos}: the anchor is not exonic")
            # the anchor must be an exon end facing the intron in the offset's direction
            step = 1 if self.strand == "+" else -1
            pos = anchor + step * cpos.offset
            if self.transcript_n(anchor + step * (1 if cpos.offset > 0 else -1)) is not None:
                raise ValueError(f"{cpos}: c.{cpos.base} is not at an exon boundary facing that intron")
            if self.region(pos).feature != "intron":
                raise ValueError(f"{cpos}: the offset runs past the intron")
            return pos
        return anchor

    def region(self, pos: int) -> Region:
        """Feature, exon/intron number and intronic offset of a genomic position."""
        for number, (s, e, _n0) in enumerate(self._blocks, start=1):
            if s <= pos <= e:
                if not self.cds:
                    return Region("exon", exon=number)
                n = self._exonic_n(pos)
                if n < self._cds_start_n:
                    return Region("five_prime_utr", exon=number)
                if n > self._cds_end_n:
                    return Region("three_prime_utr", exon=number)
                return Region("cds", exon=number)
        for number, (istart, iend) in enumerate(self.introns_5to3, start=1):
            if istart <= pos <= iend:
                return Region("intron", intron=number, intron_offset=self.genomic_to_c(pos).offset)
        upstream = (pos < self.start) == (self.strand == "+")
        return Region("upstream" if upstream else "downstream")

    # ------------------------------------------------------------------------------------- sequence
    def spliced_sequence(self, fetch: Fetch) -> str:
        """The mature transcript (all exons, 5'->3', upper case)."""
        parts = [fetch(self.chrom, s - 1, e).upper() for s, e in self.exons]
        seq = "".join(parts)
        return seq if self.strand == "+" else reverse_complement(seq)

    def coding_and_3utr(self, fetch: Fetch) -> str:
        """Transcript sequence from c.1 to the transcript's 3' end (CDS, then the 3' UTR)."""
        self._require_cds()
        return self.spliced_sequence(fetch)[self._cds_start_n - 1 :]

    def cds_sequence(self, fetch: Fetch) -> str:
        self._require_cds()
        return self.spliced_sequence(fetch)[self._cds_start_n - 1 : self._cds_end_n]

    def utr5_length(self) -> int:
        self._require_cds()
        return self._cds_start_n - 1


# ------------------------------------------------------------------------------------------------ GFF3
_TRANSCRIPT_ATTRS = ("refseq", "ensembl_version", "protein_refseq", "protein_ensembl")


def _parse_attributes(text: str) -> dict[str, str]:
    attrs = {}
    for item in text.strip().strip(";").split(";"):
        if not item.strip():
            continue
        key, _, value = item.partition("=")
        attrs[unquote(key.strip())] = unquote(value.strip())
    return attrs


def _strip_prefix(identifier: str) -> str:
    return identifier.split(":", 1)[1] if ":" in identifier else identifier


def parse_gff3(path: str | Path) -> list[Transcript]:
    """All transcripts (features that are the Parent of exon rows) in an Ensembl-style GFF3."""
    features: dict[str, tuple[str, str, str, int, int, dict[str, str]]] = {}
    exons: dict[str, list[tuple[int, int]]] = {}
    exon_numbers: dict[str, list[int]] = {}
    cds: dict[str, list[tuple[int, int]]] = {}
    try:
        handle = open(path)
    except OSError as exc:
        raise InputError(f"cannot read the transcript GFF3 {path}: {exc.strerror}") from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if line.startswith("##FASTA"):
                break
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 9:
                raise InputError(f"{path}:{lineno}: a GFF3 row needs 9 tab-separated columns, found {len(cols)}")
            chrom, _src, ftype, start, end, _score, strand, _phase, attr_text = cols
            attrs = _parse_attributes(attr_text)
            start_i, end_i = int(start), int(end)
            if ftype in ("exon", "CDS"):
                target = exons if ftype == "exon" else cds
                for parent in attrs.get("Parent", "").split(","):
                    if parent:
                        target.setdefault(parent, []).append((start_i, end_i))
                        number = attrs.get("exon_number") or attrs.get("rank")
                        if ftype == "exon" and number and number.isdigit():
                            exon_numbers.setdefault(parent, []).append(int(number))
            elif "ID" in attrs:
                features[attrs["ID"]] = (chrom, ftype, strand, start_i, end_i, attrs)
    transcripts = []
    for tid, exon_list in exons.items():
        if tid not in features:
            raise InputError(f"{path}: exons refer to Parent={tid}, which has no row")
        chrom, _ftype, strand, _s, _e, attrs = features[tid]
        gene = features.get(attrs.get("Parent", ""))
        gene_attrs = gene[5] if gene else {}
        stable = attrs.get("transcript_id") or _strip_prefix(tid)
        ensembl = attrs.get("ensembl_version")
        if not ensembl and attrs.get("version"):
            ensembl = f"{stable}.{attrs['version']}"
        try:
            transcripts.append(
                Transcript(
                    transcript_id=stable,
                    chrom=chrom,
                    strand=strand,
                    exons=tuple(exon_list),
                    cds=tuple(cds.get(tid, ())),
                    gene_id=gene_attrs.get("gene_id") or (_strip_prefix(gene[5]["ID"]) if gene else None),
                    gene_name=gene_attrs.get("Name"),
                    refseq=attrs.get("refseq"),
                    ensembl=ensembl or (stable if stable.startswith("ENST") else None),
                    protein_refseq=attrs.get("protein_refseq"),
                    protein_ensembl=attrs.get("protein_ensembl"),
                    attributes=attrs,
                    first_exon=min(exon_numbers.get(tid) or [1]),
                )
            )
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from exc
    return sorted(transcripts, key=lambda t: (t.chrom, t.start, t.transcript_id))


def load_transcript(path: str | Path, transcript_id: str | None = None) -> Transcript:
    """The one transcript of a GFF3: the named one, else the MANE Select one, else the only one."""
    transcripts = parse_gff3(path)
    if not transcripts:
        raise InputError(f"{path} holds no transcript (no exon rows with a Parent)")
    if transcript_id:
        wanted = transcript_id.split(".")[0]
        for tx in transcripts:
            names = {tx.transcript_id, tx.refseq, tx.ensembl}
            if transcript_id in names or wanted in {n.split(".")[0] for n in names if n}:
                return tx
        raise InputError(f"{path} has no transcript {transcript_id}")
    if len(transcripts) == 1:
        return transcripts[0]
    mane = [t for t in transcripts if "MANE_Select" in t.attributes.get("tag", "").split(",")]
    if len(mane) == 1:
        return mane[0]
    raise InputError(f"{path} holds {len(transcripts)} transcripts: name the one to use")
