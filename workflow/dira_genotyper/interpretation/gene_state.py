"""What the copy-number calls say about one gene: the copy number at each exon and base, which losses a
called deletion explains, duplications, and which exons the caller could have seen at that copy number.

The rules (docs/interpretation.md "Clinical decision table"):

* an exon's copy number is the copy number of the called deletion segment that covers it, else its own call;
* a loss (CN < 2) of an exon or of the gene that no called deletion explains, an exon or gene without a
  copy-number call, and any duplication (CN >= 3) are blockers: `negative` and `carrier` need the gene and
  every exon at two copies, or the deletion that explains the loss. The gene call is the lowest copy number
  anywhere in the gene, so only a deletion at that same copy number explains it (a gene at 0 with every exon at
  two copies is explained by a homozygous deletion between the exons, never by a one-copy one);
* the depth a base needs to be callable depends on how many copies are there: on two copies a heterozygous
  allele must show (``min_depth``), on one copy every read shows the allele (``min_depth_hemizygous``); bases
  of a homozygous deletion need none. A called deletion's own bases never count against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dira_genotyper.annotation.pvs1 import NMD_BOUNDARY_NT, CodingExon, Layout
from dira_genotyper.reasons import Reason

Interval = tuple[str, int, int]  # chrom, 0-based start, end (half-open)


@dataclass(frozen=True)
class GeneModel:
    """Exons and coding parts of the transcript of record (1-based inclusive; exons numbered 5'->3')."""

    gene: str
    chrom: str
    strand: str
    exons: tuple[tuple[int, int, int], ...]  # (number, start, end)
    cds: tuple[tuple[int, int, int], ...]  # (exon number, start, end) of the coding part of each exon
    coding: str | None = field(default=None, compare=False, repr=False)  # c.1 to the 3' end (annotate writes it)

    @property
    def start(self) -> int:
        return min(s for _, s, _ in self.exons)

    @property
    def end(self) -> int:
        return max(e for _, _, e in self.exons)

    @property
    def cds_length(self) -> int:
        return sum(e - s + 1 for _, s, e in self.cds)

    def exons_hit(self, chrom: str, start: int, end: int) -> list[int]:
        return sorted(n for n, s, e in self.exons if chrom == self.chrom and s <= end and start <= e)

    def coding_nt_lost(self, chrom: str, start: int, end: int) -> dict[int, int]:
        """Coding bases of each exon that fall inside [start, end]."""
        if chrom != self.chrom:
            return {}
        lost = {}
        for n, s, e in self.cds:
            overlap = min(e, end) - max(s, start) + 1
            if overlap > 0:
                lost[n] = overlap
        return lost

    def c_ranges(self, chrom: str, start: int, end: int) -> list[tuple[int, int]]:
        """The coding bases inside [start, end] as c. ranges (inclusive), one per exon, 5'->3'."""
        out, c_first = [], 1
        for _n, s, e in sorted(self.cds):
            lo, hi = max(s, start), min(e, end)
            if chrom == self.chrom and lo <= hi:
                a, b = (lo - s, hi - s) if self.strand == "+" else (e - hi, e - lo)
                out.append((c_first + a, c_first + b))
            c_first += e - s + 1
        return out

    def layout(self) -> Layout:
        """The transcript as the PVS1 tree reads it: coding exons in c. terms, the NMD boundary (50 nt 5' of the
        last exon-exon junction) and the coding sequence when known."""
        coding, c_first = [], 1
        for n, s, e in sorted(self.cds):
            coding.append(CodingExon(n, c_first, c_first + e - s))
            c_first += e - s + 1
        ordered = sorted(self.exons)
        boundary = None
        if len(ordered) > 1:
            cds_5 = min(s for _, s, _ in self.cds) if self.strand == "+" else max(e for _, _, e in self.cds)
            utr5 = sum(
                max(0, (min(e, cds_5 - 1) - s + 1) if self.strand == "+" else (e - max(s, cds_5 + 1) + 1))
                for _, s, e in ordered
            )
            before_last = sum(e - s + 1 for _, s, e in ordered[:-1])
            boundary = before_last + 1 - utr5 - NMD_BOUNDARY_NT
        return Layout(tuple(coding), boundary, self.cds_length, self.coding)

    def first_exon(self) -> int:
        return min(n for n, _, _ in self.exons)

    def last_exon(self) -> int:
        return max(n for n, _, _ in self.exons)

    def transcription_start(self) -> int:
        first = next(x for x in self.exons if x[0] == self.first_exon())
        return first[1] if self.strand == "+" else first[2]


def gene_model(gene, coding: str | None = None) -> GeneModel:  # noqa: ANN001 - a locus.Gene
    """The genotype's view of a :class:`dira_genotyper.locus.Gene` (its exons and coding parts; ``coding``: its
    transcript from c.1 to the 3' end, as annotate wrote it)."""
    exons = tuple((e.number, e.start, e.end) for e in gene.exons)
    by_label = {e.label: e.number for e in gene.exons}
    cds = tuple(sorted((by_label[iv.name], iv.start, iv.end) for iv in gene.cds))
    return GeneModel(gene.name, gene.chrom, gene.strand, exons, cds, coding)


@dataclass
class CopyState:
    """Copy number of a gene and its exons as the genotype uses them."""

    called: bool
    gene_cn: int | None
    exon_cn: dict[int, int | None]  # effective: the covering deletion's CN, else the exon's call
    explained: dict[int, bool]  # exon loss explained by a called deletion
    deletions: list[dict]  # called deletions overlapping the gene
    all_deletions: list[dict] = field(default_factory=list)  # every called deletion (for positions outside)
    blockers: list[Reason] = field(default_factory=list)
    duplications: list[str] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)  # how a state was settled (reported, not blocking)

    def at(self, model: GeneModel, chrom: str, pos: int, margin: int = 25) -> int | None:
        """Copy number at a base: a called deletion covering it, else the nearest exon (within ``margin``), else
        the gene call. None when not called: a missing call is never read as two copies."""
        if not self.called:
            return None
        for d in self.all_deletions:
            if d["chrom"] == chrom and d["start"] <= pos <= d["end"]:
                return d["copy_number"]
        for n, s, e in model.exons:
            if chrom == model.chrom and s - margin <= pos <= e + margin:
                return self.exon_cn.get(n)
        gene_cn = self.gene_cn
        if gene_cn is not None and gene_cn < 2 and any(d["copy_number"] == gene_cn for d in self.deletions):
            # the gene call is the lowest copy number anywhere in the gene, and a called deletion accounts for it: a
            # base outside every deletion has the two copies of the rest of the gene
            return 2
        return self.gene_cn


def copy_state(cnv: dict, model: GeneModel) -> CopyState:
    called = cnv.get("status") == "called"
    gene_entry = (cnv.get("genes") or {}).get(model.gene) or {}
    deletions = [
        d
        for d in cnv.get("deletions", [])
        if called and d["chrom"] == model.chrom and d["start"] <= model.end and model.start <= d["end"]
    ]
    state = CopyState(
        called,
        gene_entry.get("copy_number") if called else None,
        {},
        {},
        deletions,
        list(cnv.get("deletions", [])) if called else [],
    )
    if not called:
        why = "; ".join(cnv.get("reasons", [])) or "copy number could not be called"
        state.blockers.append(Reason("cn_not_called", gene=model.gene, why=why))
        state.exon_cn = {n: None for n, _, _ in model.exons}
        return state
    calls = {int(e["exon"]): e.get("copy_number") for e in cnv.get("exons", []) if e.get("gene") == model.gene}
    ratios = {int(e["exon"]): e.get("ratio") for e in cnv.get("exons", []) if e.get("gene") == model.gene}
    for n, s, e in model.exons:
        covering = [d for d in deletions if d["start"] <= e and s <= d["end"]]
        if covering:
            state.exon_cn[n] = min(d["copy_number"] for d in covering)
            state.explained[n] = True
            continue
        cn = calls.get(n)
        beside = _spared_by_precise_deletion(ratios.get(n), s, e, deletions) if cn is None else None
        if beside is not None:
            cn = 2  # depth alone cannot separate it from the loss next to it; the split reads can
            state.notes.append(
                Reason(
                    "exon_spared",
                    gene=model.gene,
                    exon=n,
                    ratio=ratios[n],
                    chrom=beside["chrom"],
                    start=beside["start"],
                    end=beside["end"],
                )
            )
        state.exon_cn[n] = cn
        state.explained[n] = cn == 2
        if cn is None:
            state.blockers.append(Reason("exon_no_call", gene=model.gene, exon=n))
        elif cn < 2:
            state.blockers.append(Reason("exon_loss_unexplained", gene=model.gene, exon=n, copy_number=cn))
        elif cn > 2:
            state.duplications.append(f"{model.gene} exon {n} at copy number {cn}")
    gene_cn = state.gene_cn
    if gene_cn is None:
        state.blockers.append(Reason("gene_no_call", gene=model.gene))
    elif gene_cn < 2 and not any(d["copy_number"] == gene_cn for d in deletions):
        # the gene call is the lowest copy number anywhere in the gene: a deletion at that copy number explains it,
        # one at another copy number contradicts it (a gene at 0 beside a one-copy deletion is not one copy lost)
        state.blockers.append(Reason("gene_loss_unexplained", gene=model.gene, copy_number=gene_cn))
    elif gene_cn > 2:
        state.duplications.append(f"{model.gene} at copy number {gene_cn}")
    if state.duplications:
        state.blockers.append(Reason("duplication", duplications=tuple(state.duplications)))
    return state


#: An exon whose depth ratio is at least this is read as two copies when a precise deletion beside it spares it
#: (short exon bins are noisy: 0.6 is well above a one-copy 0.5, and a lower ratio keeps the no-call).
SPARED_EXON_MIN_RATIO = 0.6
SPARED_EXON_MAX_GAP = 5000  # bp between the exon and the deletion's breakpoint


def _spared_by_precise_deletion(ratio: float | None, start: int, end: int, deletions: list[dict]) -> dict | None:
    """The called deletion next to an exon whose split-read breakpoints leave the exon out, when the exon's own depth
    is that of two copies. A deletion's two-copy test around an exon cannot tell the exon from a real loss beside it
    (the alternative 'a loss that also takes the exon' fits the neighbouring bins); precise breakpoints can."""
    if ratio is None or ratio < SPARED_EXON_MIN_RATIO:
        return None
    for d in deletions:
        precise = (d.get("breakpoint_support") or {}).get("precise")
        gap = max(d["start"] - end, start - d["end"])
        if precise and 0 < gap <= SPARED_EXON_MAX_GAP:
            return d
    return None


# ---------------------------------------------------------------------------------------------- callability
def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    out = []
    for chrom, s, e in intervals:
        pieces = [(s, e)]
        for hc, hs, he in holes:
            if hc != chrom:
                continue
            pieces = [p for a, b in pieces for p in ((a, min(b, hs)), (max(a, he), b)) if p[1] > p[0]]
        out.extend((chrom, a, b) for a, b in pieces)
    return out


def _overlaps(intervals: list[Interval], chrom: str, start0: int, end: int) -> bool:
    return any(c == chrom and s < end and start0 < e for c, s, e in intervals)


#: Bases either side of an indel whose read alignments the indel itself disturbs (soft clips, BAQ lowers the
#: base qualities next to a gap), at least; a longer indel reaches as far as its own length.
INDEL_FLANK_BP = 5


def own_bases(variant: dict) -> list[Interval]:
    """The reference bases an indel explains the absence of reads at (0-based half-open): the bases a deletion
    removes (the VCF anchor excluded) or an insertion's point, extended on both sides by the bases whose
    alignments the event disturbs (``INDEL_FLANK_BP``, or the indel's length if longer). A call is never failed for
    the lack of reads it explains itself. SNVs explain nothing."""
    ref, alt = variant["ref"], variant["alt"]
    if len(ref) == len(alt):
        return []
    shared = 0
    while shared < min(len(ref), len(alt)) and ref[shared] == alt[shared]:
        shared += 1
    start0 = variant["pos"] - 1 + shared
    end = variant["pos"] - 1 + len(ref) if len(ref) > len(alt) else start0
    flank = max(INDEL_FLANK_BP, abs(len(ref) - len(alt)))
    return [(variant["chrom"], max(0, start0 - flank), end + flank)]


@dataclass
class Callability:
    """Uncallable intervals at each threshold, from the callable step's JSON."""

    at_two: list[Interval]
    at_one: list[Interval]
    min_depth: int | None
    min_depth_hemizygous: int | None
    splice_bp: int
    exons: list[dict]  # the callable step's per-exon entries (CDS start/end, 1-based)
    legacy_uncallable: list[int] | None  # exon numbers, when the JSON has no intervals

    @classmethod
    def from_json(cls, coverage: dict) -> Callability:
        has = "uncallable_intervals" in coverage
        two = [tuple(x) for x in coverage.get("uncallable_intervals", [])]
        one = [tuple(x) for x in coverage.get("uncallable_intervals_hemizygous", two)]
        return cls(
            two,
            one,
            coverage.get("min_depth"),
            coverage.get("min_depth_hemizygous"),
            int(coverage.get("splice_bp", 2)),
            list(coverage.get("exons", [])),
            None if has else list(coverage.get("uncallable_exons", [])),
        )

    def uncallable_for(self, copy_number: int | None) -> list[Interval]:
        return self.at_one if copy_number == 1 else self.at_two

    def required_depth(self, copy_number: int | None) -> int | None:
        if copy_number == 0:
            return 0
        return self.min_depth_hemizygous if copy_number == 1 else self.min_depth

    def variant_uncallable(self, variant: dict, copy_number: int | None) -> bool:
        """Does the variant overlap a base the caller could not have seen at this copy number, leaving out the
        bases the variant itself deletes?"""
        intervals = _subtract(self.uncallable_for(copy_number), own_bases(variant))
        end = variant["pos"] - 1 + max(len(variant["ref"]), 1)
        return _overlaps(intervals, variant["chrom"], variant["pos"] - 1, end)

    def exon_table(self, model: GeneModel, state: CopyState, explained_bases: list[Interval]) -> list[dict]:
        """Per coding exon: copy number, depth required, and whether the CDS +/- splice bases were callable."""
        rows = []
        entries = self.exons or [{"exon": n, "start": s, "end": e} for n, s, e in model.cds]
        for entry in entries:
            number = next((n for n, s, e in model.exons if s <= entry["start"] and entry["end"] <= e), entry["exon"])
            cn = state.exon_cn.get(number) if state.called else None
            if self.legacy_uncallable is not None:
                ok = entry["exon"] not in self.legacy_uncallable or (cn == 0 and state.explained.get(number, False))
            elif cn == 0 and state.explained.get(number, False):
                ok = True  # deleted on both copies: its bases are the deletion's own
            else:
                holes = _subtract(self.uncallable_for(cn), explained_bases)
                ok = not _overlaps(
                    holes, model.chrom, entry["start"] - 1 - self.splice_bp, entry["end"] + self.splice_bp
                )
            rows.append(
                {"exon": number, "copy_number": cn, "required_depth": self.required_depth(cn), "callable": bool(ok)}
            )
        return rows
