"""Lift the synthetic test data onto a full-length GRCh38 chr2 (and chr18, the LPIN2 window's contig), so a workflow
run exercises resources/GRCh38.

The SYNTH build (resources/SYNTH) is the GRCh38 IL-1 window shifted by ``-grch38_offset`` (112,450,000) onto a
1 Mb contig ``chr2``; the synthetic reference also has contigs that are not part of that window (the unlinked
control contig ``ctrl`` and, with repeats, a ``decoy`` contig holding the repeat families' other copies).

:func:`write_chr2_fasta` writes a bgzipped FASTA with one contig ``chr2`` of the GRCh38 length (242,193,529)
that is N everywhere except:

* the whole SYNTH ``chr2`` at GRCh38 ``1 + offset`` .. ``1,000,000 + offset`` (112,450,001-113,450,000). This
  span holds the whole GRCh38 extraction window (112,557,925-113,350,014) *and* both GRCh38 control regions
  of resources/GRCh38/controls.bed (112,617,925-112,667,924 and 112,717,925-112,747,924, the SYNTH
  controls 167,925-217,924 / 267,925-297,924 plus the offset), so the controls carry sequence and reads
  without anything extra;
* every other SYNTH contig (``ctrl``, ``decoy``, ...) "parked" far from the locus (from chr2:150,000,001, in
  reference order, 1 Mb apart), so that reads aligned there (and mates of window reads aligned there) stay
  mapped and the pairs stay consistent. GRCh38's controls do not use them; they only keep the BAMs whole.

The N runs are streamed in fixed chunks, so memory stays at a few MB whatever the contig length.

Each further window of the resources (build.json ``windows``: SYNTH ``chr18`` with LPIN2) lands on the build's contig
of that name at full length, moved so that its first gene's exons sit where the build has them.

:func:`lift_alignments` rewrites a SYNTH BAM/CRAM onto those contigs: positions, mate positions, SA and XA tags,
a header of the lifted contigs (``@SQ SN:chr2 LN:242193529``, ``SN:chr18``; or ``SN:2``, ``SN:18``) keeping the
read groups; sorted and indexed, as BAM or as CRAM against the lifted FASTA.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import pysam
import pysam.libcbgzf

from dira_genotyper.locus import read_genes

LINE = 60
CHUNK_LINES = 100_000  # 6 Mb of sequence per write
PARK_START = 150_000_001  # 1-based chr2 position of the first parked non-locus contig (after the locus, so a
# BAM sorted chr2, ctrl, decoy stays sorted when lifted)
PARK_GAP = 1_000_000


@dataclass(frozen=True)
class Lift:
    """Where each SYNTH contig lands on the lifted genome (1-based start; SYNTH pos p -> p + delta on its target)."""

    contig: str  # the locus contig's name in the FASTA (chr2)
    length: int  # its length
    delta: dict[str, int]  # SYNTH contig -> added to every 1-based position
    lengths: dict[str, int]  # SYNTH contig lengths
    target: dict[str, str] = field(default_factory=dict)  # SYNTH contig -> lifted contig (default: `contig`)
    targets: dict[str, int] = field(default_factory=dict)  # lifted contigs and lengths, in FASTA order

    def pos(self, synth_contig: str, pos1: int) -> int:
        return pos1 + self.delta[synth_contig]

    def contig_of(self, synth_contig: str) -> str:
        return self.target.get(synth_contig, self.contig)


def _exon_start(resources: Path, build: str, chrom: str | None = None) -> tuple[str, int]:
    """The first gene with exons on ``chrom`` (the locus contig: IL1RN) in `build`: its name and first exon's start
    (the genes of a window shift together between the builds; the window's edges do not quite: they come from
    gene spans that differ by a few bases)."""
    genes = read_genes(resources / build)
    if chrom is None:
        gene = next(g for g in genes if g.name == "IL1RN")
    else:
        gene = next(g for g in genes if g.chrom == chrom and g.exons)
    return gene.name, min(exon.start for exon in gene.exons)


def plan_lift(synth_fasta: str | Path, resources: str | Path, build: str = "GRCh38") -> Lift:
    """The lift onto `build`: the locus contig onto its chr2 (GRCh38 by the SYNTH build's offset; GRCh37 by that
    offset plus the shift of the cluster's genes between the builds, a constant 757,577 bp); every further window
    contig of SYNTH (build.json ``windows``, e.g. chr18 with LPIN2) onto the same-named contig of `build`, moved
    by the difference of its first gene's exon start; the other SYNTH contigs parked on chr2."""
    resources = Path(resources)
    synth = json.loads((resources / "SYNTH" / "build.json").read_text())
    target = json.loads((resources / build / "build.json").read_text())
    offset = int(synth["parameters"]["grch38_offset"])
    offset += _exon_start(resources, build)[1] - _exon_start(resources, "GRCh38")[1]
    locus = synth["locus_contig"]
    with pysam.FastaFile(str(synth_fasta)) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths, strict=True))
    delta, where = {locus: offset}, {locus: target["locus_contig"]}
    targets = {target["locus_contig"]: int(target["locus_contig_length"])}
    for window in synth.get("windows", []):
        chrom = window["window"]["chrom"]
        name, synth_start = _exon_start(resources, "SYNTH", chrom)
        real = next(g for g in read_genes(resources / build) if g.name == name)
        delta[chrom] = min(e.start for e in real.exons) - synth_start
        where[chrom] = real.chrom
        targets[real.chrom] = int(target["contigs"][real.chrom]["length"])
    park = PARK_START
    for name, length in lengths.items():
        if name in delta:
            continue
        delta[name] = park - 1
        park += length + PARK_GAP
    lift = Lift(target["locus_contig"], targets[target["locus_contig"]], delta, lengths, where, targets)
    for contig, length in targets.items():
        spans = sorted((d + 1, d + lengths[c]) for c, d in delta.items() if lift.contig_of(c) == contig)
        for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
            if s2 <= e1:
                raise ValueError(f"lifted contigs overlap on {contig}: {spans}")
        if spans[-1][1] > length or spans[0][0] < 1:
            raise ValueError(f"lifted contigs run past the ends of {contig}")
    return lift


def write_chr2_fasta(
    synth_fasta: str | Path, lift: Lift, out: str | Path, rename: dict[str, str] | None = None
) -> Path:
    """bgzipped FASTA (60 columns) of the lifted contigs (chr2, then the further windows' contigs such as chr18),
    plus .fai and .gzi (pysam.faidx); ``rename`` names them otherwise (e.g. chr2 -> 2)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    chunk = LINE * CHUNK_LINES
    n_chunk = b"\n".join([b"N" * LINE] * CHUNK_LINES) + b"\n"
    with pysam.FastaFile(str(synth_fasta)) as fasta, pysam.libcbgzf.BGZFile(str(out), "wb") as handle:
        for contig, length in (lift.targets or {lift.contig: lift.length}).items():
            pieces = sorted((lift.delta[c], c) for c in lift.delta if lift.contig_of(c) == contig)
            handle.write(f">{(rename or {}).get(contig, contig)}\n".encode())
            for start in range(0, length, chunk):
                end = min(start + chunk, length)
                hits = [(s, c) for s, c in pieces if s < end and s + lift.lengths[c] > start]
                if not hits and end - start == chunk:
                    handle.write(n_chunk)
                    continue
                buf = bytearray(b"N" * (end - start))
                for s, c in hits:
                    lo, hi = max(start, s), min(end, s + lift.lengths[c])
                    buf[lo - start : hi - start] = fasta.fetch(c, lo - s, hi - s).upper().encode()
                handle.write(b"\n".join(bytes(buf[i : i + LINE]) for i in range(0, len(buf), LINE)) + b"\n")
    for suffix in (".fai", ".gzi"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    pysam.faidx(str(out))
    return out


def _lift_tag(text: str, lift: Lift, names: dict[str, str], xa: bool) -> str:
    """SA:Z (rname,pos,strand,CIGAR,mapQ,NM;...) or XA:Z (rname,[+-]pos,CIGAR,NM;...) on the lifted contigs
    (``names``: lifted contig -> its name in the output)."""
    out = []
    for entry in text.split(";"):
        if not entry:
            continue
        fields = entry.split(",")
        if xa:
            fields[1] = fields[1][0] + str(lift.pos(fields[0], int(fields[1][1:])))
        else:
            fields[1] = str(lift.pos(fields[0], int(fields[1])))
        fields[0] = names[lift.contig_of(fields[0])]
        out.append(",".join(fields))
    return "".join(f"{e};" for e in out)


def lift_alignments(
    src: str | Path,
    lift: Lift,
    out: str | Path,
    contig_name: str = "chr2",
    synth_fasta: str | Path | None = None,
    cram_reference: str | Path | None = None,
) -> Path:
    """Write ``src`` (SYNTH BAM/CRAM; CRAM decoded with ``synth_fasta``) onto the lifted contigs as ``out``:
    a BAM (``.bam``) or a CRAM (``.cram``, written against ``cram_reference``, the lifted FASTA, which must
    then name the contigs so). ``contig_name``: the locus contig's name (``2`` for the b37 convention, which
    names the further windows' contigs without ``chr`` too). Sorted and indexed. Reads without a position (unmapped
    pairs) are left out of an indexed input: the workflow reads the windows and controls only."""
    out = Path(out)
    targets = list(lift.targets or {lift.contig: lift.length})
    names = {
        c: contig_name if c == lift.contig else (c.removeprefix("chr") if contig_name == "2" else c) for c in targets
    }
    mode = "rc" if str(src).endswith(".cram") else "rb"
    cram_ref = str(cram_reference) if cram_reference else None
    with pysam.AlignmentFile(str(src), mode, reference_filename=str(synth_fasta) if synth_fasta else None) as inp:
        header = inp.header.to_dict()
        tid = {i: targets.index(lift.contig_of(n)) for i, n in enumerate(inp.references)}
        delta = {i: lift.delta[n] for i, n in enumerate(inp.references)}
        # an indexed, coordinate-sorted input is read contig by contig in the order its contigs land on the lifted
        # ones, so the output is written sorted straight away; otherwise through `samtools sort`
        streamed = header.get("HD", {}).get("SO") == "coordinate" and inp.has_index()
        order = sorted(range(len(inp.references)), key=lambda i: (tid[i], delta[i]))
        new_header = {
            "HD": {"VN": header.get("HD", {}).get("VN", "1.6"), "SO": "coordinate" if streamed else "unsorted"},
            "SQ": [{"SN": names[c], "LN": (lift.targets or {lift.contig: lift.length})[c]} for c in targets],
            "RG": header.get("RG", []),
            "PG": header.get("PG", []),
        }
        target = out if streamed else out.with_name(out.name + ".unsorted.bam")
        wmode = "wc" if target.suffix == ".cram" else "wb"
        reads = (r for i in order for r in inp.fetch(inp.references[i])) if streamed else inp.fetch(until_eof=True)
        with pysam.AlignmentFile(str(target), wmode, header=new_header, reference_filename=cram_ref) as dst:
            for read in reads:
                old, mate = read.reference_id, read.next_reference_id
                if old >= 0:
                    read.reference_start += delta[old]
                    read.reference_id = tid[old]
                if mate >= 0:
                    read.next_reference_start += delta[mate]
                    read.next_reference_id = tid[mate]
                for tag in ("SA", "XA"):
                    if read.has_tag(tag):
                        read.set_tag(tag, _lift_tag(read.get_tag(tag), lift, names, tag == "XA"), "Z")
                dst.write(read)
    if not streamed:
        sort_args = ["-O", "cram", "--reference", cram_ref] if out.suffix == ".cram" else []
        pysam.sort("--no-PG", *sort_args, "-o", str(out), str(target))
        target.unlink()
    pysam.index(str(out))
    return out


def lift_population_vcf(src: str | Path, lift: Lift, out: str | Path) -> Path:
    """A sites VCF on SYNTH coordinates moved onto the lifted contigs (bgzipped + tabix)."""
    out = Path(out)
    targets = lift.targets or {lift.contig: lift.length}
    lines = []
    with gzip.open(src, "rt") as handle:
        text = handle.read()
    for line in text.splitlines():
        if line.startswith("##contig="):
            continue
        if line.startswith("#CHROM"):
            lines += [f"##contig=<ID={c},length={n}>" for c, n in targets.items()]
        if line.startswith("#"):
            lines.append(line)
            continue
        cells = line.split("\t")
        cells[1] = str(lift.pos(cells[0], int(cells[1])))
        cells[0] = lift.contig_of(cells[0])
        lines.append("\t".join(cells))
    plain = out.with_name(out.name.removesuffix(".gz") + ".plain")
    header = [ln for ln in lines if ln.startswith("#")]
    order = list(targets)
    body = sorted(
        (ln for ln in lines if not ln.startswith("#")),
        key=lambda ln: (order.index(ln.split("\t")[0]), int(ln.split("\t")[1])),
    )
    plain.write_text("\n".join(header + body) + "\n")
    pysam.tabix_compress(str(plain), str(out), force=True)
    plain.unlink()
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out
