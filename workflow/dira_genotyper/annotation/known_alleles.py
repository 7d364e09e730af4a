"""Published DIRA alleles (``resources/known_dira_variants.tsv``) matched on the genomic allele, per build.

Matching by HGVS c. name depends on every caller shifting indels by the 3' rule on the real reference; here each
small-variant row is instead resolved once, when the table is loaded, to a VCF-style allele on the build in use
and left-normalised as ``bcftools norm`` does (trim the bases REF and ALT share, shift left through repeats, keep
one anchor base for an indel). A query allele is normalised the same way, so a deletion written left-aligned,
right-shifted, with or without an anchor base or with extra padding finds the same row.

* ``kind=small`` rows: ``hgvs_c`` (substitution, ``del``, ``dup``, ``ins``, ``delins``, with intronic offsets such as
  ``c.318+2T>G``) is mapped with :meth:`Transcript.c_to_genomic`; the bases the name states (``C`` of ``c.160C>T``,
  the ``ref_seq`` column, bases after ``del``) are checked against the FASTA, and a mismatch is an
  :class:`~dira_genotyper.errors.InputError` naming the row and the build.
* ``kind=deletion`` rows (the Puerto Rican ~175 kb founder deletion) have no coordinates: a called deletion is
  consistent with one when it removes exactly the row's ``genes`` and its size is within :data:`SIZE_TOLERANCE` of
  the row's ``size_kb`` (:meth:`KnownAlleles.match_deletion`): a 700 kb deletion that also removes PSD4 and PAX8
  holds the founder's genes but is another allele.

Use::

    tx = load_transcript("resources/GRCh38/il1rn.gff3")
    known = KnownAlleles.load("resources/known_dira_variants.tsv", tx, "ref.fa", build="GRCh38")
    known.match_small("chr2", 113129619, "C", "T")    # -> row dict (published_name, citation, ...)
    known.match_deletion(["IL36G", "IL36A", "IL36B", "IL36RN", "IL1F10", "IL1RN"])
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dira_genotyper.annotation.transcript import CachedReference, Fetch, Transcript, reverse_complement
from dira_genotyper.errors import InputError

CLASSIFICATIONS = ("pathogenic", "likely_pathogenic", "uncertain", "likely_benign", "benign")
EVIDENCE_LEVELS = ("established", "reported", "uncertain")
KINDS = ("small", "deletion")
REQUIRED_COLUMNS = ("hgvs_c", "hgvs_p", "published_name", "classification", "evidence", "citation", "kind")
#: A called deletion within this share of a row's published size (``size_kb``) is size-compatible: depth calls place
#: breakpoints to a bin or two, and published sizes are rounded ("~175 kb"); the founder's six genes span 156 kb, so
#: a deletion holding exactly them is 156-255 kb, and 140-210 kb leaves out the larger ones.
SIZE_TOLERANCE = 0.2

#: Old IL-1 family gene symbols (as in Aksentijevich 2009) -> current HGNC symbols.
GENE_ALIASES = {
    "IL1F9": "IL36G",
    "IL1F6": "IL36A",
    "IL1F8": "IL36B",
    "IL1F5": "IL36RN",
    "IL38": "IL1F10",
    "IL1RA": "IL1RN",
}

_POS = r"[-*]?\d+(?:[+-]\d+)?"
_C_NAME = re.compile(
    rf"^c\.(?P<start>{_POS})(?:_(?P<end>{_POS}))?"
    r"(?:(?P<sub_ref>[ACGT])>(?P<sub_alt>[ACGT])"
    r"|(?P<op>delins|del|dup|ins)(?P<bases>[ACGT]*))$"
)


def canonical_gene(name: str) -> str:
    symbol = name.strip().upper()
    return GENE_ALIASES.get(symbol, symbol)


# ------------------------------------------------------------------------------------------ normalisation
def left_normalise(pos: int, ref: str, alt: str, base_at: Callable[[int], str]) -> tuple[int, str, str]:
    """``bcftools norm``-style normal form of a VCF allele: trimmed, left-shifted, anchored if an indel.

    ``base_at(p)`` is the reference base at 1-based position ``p`` ('' outside the contig). Raises ValueError
    for an allele that changes nothing.
    """
    ref, alt = ref.upper(), alt.upper()
    if ref == alt:
        raise ValueError(f"{pos} {ref}>{alt} is not a change")
    while True:
        changed = False
        if ref and alt and ref[-1] == alt[-1]:  # drop a shared last base
            ref, alt = ref[:-1], alt[:-1]
            changed = True
        if not ref or not alt:  # an allele went empty: extend both one base to the left
            if pos <= 1:
                break
            pos -= 1
            base = base_at(pos).upper()
            if not base:
                raise ValueError(f"no reference base at {pos}")
            ref, alt = base + ref, base + alt
            changed = True
        if not changed:
            break
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:  # drop shared first bases, keeping one anchor
        ref, alt = ref[1:], alt[1:]
        pos += 1
    return pos, ref, alt


def _contig_key(chrom: str) -> str:
    return chrom.removeprefix("chr")


# ------------------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class KnownAllele:
    """One row of the known-allele table, with its genomic allele on the loaded build (small rows)."""

    line: int  # line number in the table file
    kind: str  # small | deletion
    hgvs_c: str
    hgvs_p: str
    published_name: str
    classification: str
    evidence: str
    citation: str
    genes: tuple[str, ...] = ()
    ref_seq: str = ""
    source_checked: str = ""
    size_kb: float | None = None  # kind=deletion: the published size
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # resolved on the build (kind=small): left-normalised VCF allele
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None

    @property
    def label(self) -> str:
        return self.hgvs_c or self.published_name

    def as_dict(self) -> dict[str, str]:
        """The row as :func:`dira_genotyper.annotation.classification.classify` takes it (string values)."""
        row = dict(self.extra)
        row.update(
            hgvs_c=self.hgvs_c,
            hgvs_p=self.hgvs_p,
            published_name=self.published_name,
            classification=self.classification,
            evidence=self.evidence,
            citation=self.citation,
            short_citation=short_citation(self.citation),
            kind=self.kind,
            genes=",".join(self.genes),
            ref_seq=self.ref_seq,
            source_checked=self.source_checked,
        )
        if self.pos is not None:
            row["genomic"] = f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"
        return row


# ------------------------------------------------------------------------------------------- reference
class _Genome:
    """Base access to one contig through a fetch(chrom, start0, end0), 1-based and cached
    (:class:`dira_genotyper.annotation.transcript.CachedReference`); a contig the fetch does not know reads as ''."""

    def __init__(self, fetch: Fetch, chrom: str) -> None:
        self.chrom = chrom

        def tolerant(contig: str, start: int, end: int) -> str:
            try:
                return fetch(contig, start, end) or ""
            except (KeyError, ValueError, IndexError):
                return ""

        self._reference = CachedReference(tolerant, chrom)

    def seq(self, start1: int, end1: int) -> str:
        """Bases start1..end1 (1-based, inclusive), upper case; '' past either end."""
        if end1 < start1 or end1 < 1:
            return ""
        return self._reference.seq(max(start1 - 1, 0), end1)

    def base(self, pos1: int) -> str:
        return self.seq(pos1, pos1) if pos1 >= 1 else ""


def _open_fetch(fasta: Any, chrom: str) -> tuple[Fetch, str, str]:
    """(fetch, contig name in the FASTA, description) for a path, an open pysam.FastaFile or a fetch callable."""
    if callable(fasta) and not hasattr(fasta, "references"):
        return fasta, chrom, getattr(fasta, "__name__", "reference")
    handle = fasta
    if isinstance(fasta, str | Path):
        import pysam

        try:
            handle = pysam.FastaFile(str(fasta))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot open the reference FASTA {fasta}: {exc}") from exc
    names = set(getattr(handle, "references", ()) or ())
    filename = getattr(handle, "filename", None)
    description = filename.decode() if isinstance(filename, bytes) else str(filename or fasta)
    for name in (chrom, chrom.removeprefix("chr"), f"chr{chrom}"):
        if name in names:
            return handle.fetch, name, Path(description).name
    raise InputError(
        f"the reference FASTA {fasta} has no contig {chrom} (the transcript's chromosome): "
        "use the FASTA of the build the GFF3 belongs to"
    )


# ------------------------------------------------------------------------------------------- resolving
def _resolve(row: KnownAllele, tx: Transcript, genome: _Genome, where: str) -> KnownAllele:
    """The row with its left-normalised genomic allele; InputError naming the row and build on any problem."""

    def fail(message: str) -> InputError:
        return InputError(f"known-allele table line {row.line} ({row.label}) on {where}: {message}")

    match = _C_NAME.match(row.hgvs_c.strip())
    if not match:
        raise fail(
            "not an HGVS c. name this table supports (substitution, del, dup, ins, delins; e.g. c.160C>T, "
            "c.213_227del, c.318+2T>G)"
        )
    minus = tx.strand == "-"

    def genomic(cpos: str) -> int:
        try:
            return tx.c_to_genomic(cpos)
        except ValueError as exc:
            raise fail(f"cannot place c.{cpos} on {tx.transcript_id}: {exc}") from exc

    def to_genome_strand(bases: str) -> str:
        return reverse_complement(bases) if minus else bases

    start_c, end_c = match["start"], match["end"] or match["start"]
    g1, g2 = genomic(start_c), genomic(end_c)
    lo, hi = min(g1, g2), max(g1, g2)
    stated = ""  # bases the row says the reference has at lo..hi (transcript orientation)
    if match["sub_ref"]:
        if lo != hi:
            raise fail("a substitution names one position")
        stated = match["sub_ref"]
        alt_seq = match["sub_alt"]
    else:
        op, bases = match["op"], match["bases"]
        if op == "del":
            stated = bases
        elif op == "dup":
            stated = bases
        elif op == "ins":
            if not bases:
                raise fail("an insertion lists its bases")
            if hi - lo != 1:
                raise fail("an insertion is named by the two flanking positions (c.N_N+1insX)")
        elif op == "delins" and not bases:
            raise fail("a delins lists its new bases")
        alt_seq = bases
    if row.ref_seq:
        if stated and stated != row.ref_seq:
            raise fail(f"the name states {stated} but ref_seq says {row.ref_seq}")
        if not (match["op"] == "ins"):
            stated = row.ref_seq

    genome_ref = genome.seq(lo, hi)
    if len(genome_ref) != hi - lo + 1:
        raise fail(f"{genome.chrom}:{lo}-{hi} is outside the reference sequence")
    if stated and match["op"] != "ins":
        expected = to_genome_strand(stated)
        if expected != genome_ref:
            raise fail(
                f"the table gives {stated} (transcript strand) at {genome.chrom}:{lo}-{hi}, but the reference has "
                f"{to_genome_strand(genome_ref)}: the row or the reference/GFF3 build is wrong"
            )

    op = match["op"]
    if match["sub_ref"]:
        pos, ref, alt = lo, genome_ref, to_genome_strand(alt_seq)
    elif op == "del":
        pos, ref, alt = lo, genome_ref, ""
    elif op == "dup":
        pos, ref, alt = hi + 1, "", genome_ref  # the copy inserted after the duplicated bases
    elif op == "ins":
        pos, ref, alt = hi, "", to_genome_strand(alt_seq)  # inserted before genomic hi
    else:  # delins
        pos, ref, alt = lo, genome_ref, to_genome_strand(alt_seq)
    if not ref or not alt:  # pad with the base to the left, as a VCF would
        pos -= 1
        anchor = genome.base(pos)
        ref, alt = anchor + ref, anchor + alt
    try:
        pos, ref, alt = left_normalise(pos, ref, alt, genome.base)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    return replace(row, chrom=genome.chrom, pos=pos, ref=ref, alt=alt)


# ------------------------------------------------------------------------------------------------ table
def read_table(path: str | Path) -> list[KnownAllele]:
    """Rows of the table as unresolved records ('#' lines are comments); InputError on a malformed table."""
    try:
        with open(path) as handle:
            lines = [(n, line) for n, line in enumerate(handle, start=1) if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise InputError(f"cannot read the known-allele table {path}: {exc.strerror}") from exc
    if not lines:
        raise InputError(f"the known-allele table {path} has no header row")
    reader = csv.DictReader((line for _n, line in lines), delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"the known-allele table {path} lacks the column(s) {', '.join(missing)}")
    known_fields = set(REQUIRED_COLUMNS) | {"genes", "ref_seq", "source_checked", "size_kb"}
    rows = []
    for (lineno, _line), raw in zip(lines[1:], reader):
        if None in raw or any(v is None for v in raw.values()):
            raise InputError(f"{path} line {lineno}: expected {len(reader.fieldnames)} tab-separated columns")
        values = {key: (value or "").strip() for key, value in raw.items()}
        label = values["hgvs_c"] or values["published_name"] or f"line {lineno}"

        def bad(message: str, lineno: int = lineno, label: str = label) -> InputError:
            return InputError(f"{path} line {lineno} ({label}): {message}")

        kind = values["kind"]
        if kind not in KINDS:
            raise bad(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if values["classification"] not in CLASSIFICATIONS:
            raise bad(f"classification must be one of {', '.join(CLASSIFICATIONS)}, not {values['classification']!r}")
        if values["evidence"] not in EVIDENCE_LEVELS:
            raise bad(f"evidence must be one of {', '.join(EVIDENCE_LEVELS)}, not {values['evidence']!r}")
        if not values["citation"]:
            raise bad("every row needs a citation")
        genes = tuple(canonical_gene(g) for g in values.get("genes", "").split(",") if g.strip())
        ref_seq = values.get("ref_seq", "").upper()
        if ref_seq and not set(ref_seq) <= set("ACGT"):
            raise bad(f"ref_seq must be bases (A, C, G, T), not {ref_seq!r}")
        if kind == "small" and not values["hgvs_c"]:
            raise bad("a small-variant row needs hgvs_c")
        if kind == "deletion" and not genes:
            raise bad("a deletion row lists the genes it removes (genes column)")
        size_kb = values.get("size_kb", "")
        if size_kb and not re.fullmatch(r"\d+(\.\d+)?", size_kb):
            raise bad(f"size_kb must be a number of kb, not {size_kb!r}")
        hgvs_c = values["hgvs_c"]
        if ":" in hgvs_c:
            hgvs_c = hgvs_c.split(":", 1)[1]
        rows.append(
            KnownAllele(
                line=lineno,
                kind=kind,
                hgvs_c=hgvs_c,
                hgvs_p=values["hgvs_p"],
                published_name=values["published_name"],
                classification=values["classification"],
                evidence=values["evidence"],
                citation=values["citation"],
                genes=genes,
                ref_seq=ref_seq,
                source_checked=values.get("source_checked", ""),
                size_kb=float(size_kb) if size_kb else None,
                extra={k: v for k, v in values.items() if k not in known_fields},
            )
        )
    return rows


_REFERENCE = re.compile(r"[A-Z][A-Za-z'-]+ [A-Z]{1,3} et al\. \d{4}[^()]*(?:\(\d+\)[^()]*)?\([^)]*\)")


def short_citation(citation: str) -> str:
    """The references of a citation cell ("Author X et al. Year Journal vol:page (PMID ...)"), without the
    description of what each reported; up to three, joined by '; '."""
    found = [m.group(0).strip() for m in _REFERENCE.finditer(citation)]
    return "; ".join(dict.fromkeys(found[:3])) or citation


class KnownAlleles:
    """The known-allele table resolved on one build: look-ups by genomic allele and by deleted gene set."""

    def __init__(self, rows: list[KnownAllele], chrom: str, genome: _Genome | None = None) -> None:
        self.skipped: list[str] = []  # rows left out by a non-strict load, with the reason
        self.rows = tuple(rows)
        self.chrom = chrom
        self._genome = genome
        self._small: dict[tuple[str, int, str, str], KnownAllele] = {}
        for row in self.rows:
            if row.kind != "small" or row.pos is None:
                continue
            key = (_contig_key(row.chrom or chrom), row.pos, row.ref or "", row.alt or "")
            if key in self._small:
                other = self._small[key]
                raise InputError(
                    f"known-allele table lines {other.line} ({other.label}) and {row.line} ({row.label}) are the same "
                    f"allele ({row.chrom}:{row.pos} {row.ref}>{row.alt}): keep one row"
                )
            self._small[key] = row

    @classmethod
    def load(
        cls,
        table_path: str | Path,
        transcript: Transcript,
        fasta: Any,
        build: str | None = None,
        strict: bool = True,
    ) -> KnownAlleles:
        """Read the table and resolve every small-variant row on ``transcript``'s build.

        ``fasta``: a FASTA path, an open ``pysam.FastaFile``, or a ``fetch(chrom, start0, end0)`` callable.
        ``build`` only names the build in error messages (default: the FASTA's name). ``strict=False`` (the
        workflow) leaves out, with a warning in ``skipped``, a row that cannot be placed on this reference (e.g. its
        stated bases differ from it): such a row can match no call here, and one doubtful row must not stop every
        sample's annotation.
        """
        rows = read_table(table_path)
        fetch, contig, description = _open_fetch(fasta, transcript.chrom)
        genome = _Genome(fetch, contig)
        where = f"build {build}" if build else f"reference {description}"
        resolved, skipped = [], []
        for row in rows:
            if row.kind != "small":
                resolved.append(row)
                continue
            try:
                resolved.append(_resolve(row, transcript, genome, f"{where} ({Path(table_path).name})"))
            except InputError as exc:
                if strict:
                    raise
                skipped.append(str(exc))
        table = cls(resolved, contig, genome)
        table.skipped = skipped
        return table

    # ------------------------------------------------------------------------------------------ look-ups
    def normalise(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, str, str] | None:
        """The query in the table's normal form, or None if it cannot be (symbolic, no change, other contig)."""
        if _contig_key(chrom) != _contig_key(self.chrom) or self._genome is None:
            return None
        ref, alt = (ref or "").upper(), (alt or "").upper()
        if not set(ref + alt) <= set("ACGTN") or (not ref and not alt):
            return None
        if not ref or not alt:  # an unanchored indel (ref or alt written '' or '-')
            pos -= 1
            anchor = self._genome.base(pos)
            ref, alt = anchor + ref, anchor + alt
        try:
            return left_normalise(pos, ref, alt, self._genome.base)
        except ValueError:
            return None

    def match_small(self, chrom: str, pos: int, ref: str, alt: str) -> dict[str, str] | None:
        """The table row of this VCF-style allele (any representation), as a dict, else None."""
        ref = "" if ref in ("-", ".") else ref
        alt = "" if alt in ("-", ".") else alt
        normal = self.normalise(chrom, pos, ref, alt)
        if normal is None:
            return None
        row = self._small.get((_contig_key(chrom), *normal))
        return row.as_dict() if row else None

    def match_deletion(self, genes: Iterable[str], size_bp: int | None = None) -> dict[str, str] | None:
        """The published deletion row a called deletion is consistent with: it removes exactly the row's genes
        (``genes``: every gene the call removes) and, when both sizes are known, its size ``size_bp`` is within
        :data:`SIZE_TOLERANCE` of the row's ``size_kb``. A larger deletion that holds the row's genes and more is
        another allele, not the published one."""
        deleted = {canonical_gene(g) for g in genes if g and g.strip()}
        fits = [
            row
            for row in self.rows
            if row.kind == "deletion" and set(row.genes) == deleted and _size_fits(row.size_kb, size_bp)
        ]
        if not fits:
            return None
        return max(fits, key=lambda row: (len(row.genes), -row.line)).as_dict()

    def pathogenic_c(self) -> tuple[int, ...]:
        """The c. base (coding position, or the exon base an intronic name hangs on) of each (likely) pathogenic
        small-variant row: ClinGen's start-loss branch asks whether one lies upstream of the next in-frame Met."""
        out = []
        for row in self.rows:
            found = re.match(r"c\.(\d+)", row.hgvs_c or "")
            if row.kind == "small" and row.classification in ("pathogenic", "likely_pathogenic") and found:
                out.append(int(found.group(1)))
        return tuple(sorted(out))

    def __len__(self) -> int:
        return len(self.rows)


def _size_fits(size_kb: float | None, size_bp: int | None) -> bool:
    return size_kb is None or size_bp is None or abs(size_bp / 1000 - size_kb) <= SIZE_TOLERANCE * size_kb
