"""Lift the synthetic test data onto a full-length GRCh38 chr2, so a workflow run exercises resources/GRCh38.

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

:func:`lift_alignments` rewrites a SYNTH BAM/CRAM onto that chr2: positions, mate positions, SA and XA tags,
a one-contig header (``@SQ SN:chr2 LN:242193529``, or ``SN:2``) keeping the read groups; sorted and indexed,
as BAM or as CRAM against the lifted FASTA.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
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
    """Where each SYNTH contig lands on the lifted chr2 (1-based start; SYNTH pos p -> p + delta)."""

    contig: str  # the lifted contig's name in the FASTA (always chr2)
    length: int
    delta: dict[str, int]  # SYNTH contig -> added to every 1-based position
    lengths: dict[str, int]  # SYNTH contig lengths

    def pos(self, synth_contig: str, pos1: int) -> int:
        return pos1 + self.delta[synth_contig]


def _exon_start(resources: Path, build: str) -> int:
    """The first IL1RN exon's start in `build` (the genes of the cluster shift together between the builds;
    the window's edges do not quite: they come from gene spans that differ by a few bases)."""
    il1rn = next(gene for gene in read_genes(resources / build) if gene.name == "IL1RN")
    return min(exon.start for exon in il1rn.exons)


def plan_lift(synth_fasta: str | Path, resources: str | Path, build: str = "GRCh38") -> Lift:
    """The lift onto `build`'s chr2: GRCh38 by the SYNTH build's offset; GRCh37 by that offset plus the shift
    of the cluster's genes between the builds (a constant 757,577 bp)."""
    resources = Path(resources)
    synth = json.loads((resources / "SYNTH" / "build.json").read_text())
    target = json.loads((resources / build / "build.json").read_text())
    offset = int(synth["parameters"]["grch38_offset"])
    offset += _exon_start(resources, build) - _exon_start(resources, "GRCh38")
    locus = synth["locus_contig"]
    with pysam.FastaFile(str(synth_fasta)) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths, strict=True))
    delta = {locus: offset}
    park = PARK_START
    for name, length in lengths.items():
        if name == locus:
            continue
        delta[name] = park - 1
        park += length + PARK_GAP
    lift = Lift(target["locus_contig"], int(target["locus_contig_length"]), delta, lengths)
    spans = sorted((d + 1, d + lengths[c]) for c, d in delta.items())
    for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
        if s2 <= e1:
            raise ValueError(f"lifted contigs overlap: {spans}")
    if spans[-1][1] > lift.length:
        raise ValueError("lifted contigs run past the end of chr2")
    return lift


def write_chr2_fasta(synth_fasta: str | Path, lift: Lift, out: str | Path) -> Path:
    """bgzipped FASTA (60 columns) of the lifted chr2, plus .fai and .gzi (pysam.faidx)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pieces = sorted((lift.delta[c], c) for c in lift.delta)  # 0-based start on chr2, SYNTH contig
    chunk = LINE * CHUNK_LINES
    n_chunk = b"\n".join([b"N" * LINE] * CHUNK_LINES) + b"\n"
    with pysam.FastaFile(str(synth_fasta)) as fasta, pysam.libcbgzf.BGZFile(str(out), "wb") as handle:
        handle.write(f">{lift.contig}\n".encode())
        for start in range(0, lift.length, chunk):
            end = min(start + chunk, lift.length)
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


def _lift_tag(text: str, lift: Lift, name: str, xa: bool) -> str:
    """SA:Z (rname,pos,strand,CIGAR,mapQ,NM;...) or XA:Z (rname,[+-]pos,CIGAR,NM;...) on the lifted contig."""
    out = []
    for entry in text.split(";"):
        if not entry:
            continue
        fields = entry.split(",")
        if xa:
            fields[1] = fields[1][0] + str(lift.pos(fields[0], int(fields[1][1:])))
        else:
            fields[1] = str(lift.pos(fields[0], int(fields[1])))
        fields[0] = name
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
    """Write ``src`` (SYNTH BAM/CRAM; CRAM decoded with ``synth_fasta``) onto the lifted chr2 as ``out``:
    a BAM (``.bam``) or a CRAM (``.cram``, written against ``cram_reference``, the lifted FASTA, which must
    then name the contig ``contig_name``). Sorted and indexed.

    A coordinate-sorted input whose contigs land on chr2 in header order (the SYNTH reference's order) stays
    sorted, so it is written straight to ``out``; otherwise through ``samtools sort``."""
    out = Path(out)
    mode = "rc" if str(src).endswith(".cram") else "rb"
    with pysam.AlignmentFile(str(src), mode, reference_filename=str(synth_fasta) if synth_fasta else None) as inp:
        header = inp.header.to_dict()
        names = list(inp.references)
        starts = [lift.delta[n] for n in names]
        in_order = header.get("HD", {}).get("SO") == "coordinate" and starts == sorted(starts)
        new_header = {
            "HD": {"VN": header.get("HD", {}).get("VN", "1.6"), "SO": "coordinate" if in_order else "unsorted"},
            "SQ": [{"SN": contig_name, "LN": lift.length}],
            "RG": header.get("RG", []),
            "PG": header.get("PG", []),
        }
        target = out if in_order else out.with_name(out.name + ".unsorted.bam")
        wmode = "wc" if target.suffix == ".cram" else "wb"
        cram_ref = str(cram_reference) if cram_reference else None
        with pysam.AlignmentFile(str(target), wmode, header=new_header, reference_filename=cram_ref) as dst:
            delta = [lift.delta[n] for n in names]
            for read in inp.fetch(until_eof=True):
                # in place: the input's tid 0 is SYNTH chr2, and the output has the one contig as tid 0
                tid, mtid = read.reference_id, read.next_reference_id
                if tid >= 0:
                    read.reference_start += delta[tid]
                    read.reference_id = 0
                if mtid >= 0:
                    read.next_reference_start += delta[mtid]
                    read.next_reference_id = 0
                for tag in ("SA", "XA"):
                    if read.has_tag(tag):
                        read.set_tag(tag, _lift_tag(read.get_tag(tag), lift, contig_name, tag == "XA"), "Z")
                dst.write(read)
    if not in_order:
        sort_args = ["-O", "cram", "--reference", cram_ref] if out.suffix == ".cram" else []
        pysam.sort("--no-PG", *sort_args, "-o", str(out), str(target))
        target.unlink()
    pysam.index(str(out))
    return out


def lift_population_vcf(src: str | Path, lift: Lift, out: str | Path) -> Path:
    """A sites VCF on SYNTH coordinates moved onto the lifted chr2 (bgzipped + tabix)."""
    out = Path(out)
    lines = []
    with gzip.open(src, "rt") as handle:
        text = handle.read()
    for line in text.splitlines():
        if line.startswith("##contig="):
            continue
        if line.startswith("#CHROM"):
            lines.append(f"##contig=<ID={lift.contig},length={lift.length}>")
        if line.startswith("#"):
            lines.append(line)
            continue
        cells = line.split("\t")
        cells[1] = str(lift.pos(cells[0], int(cells[1])))
        cells[0] = lift.contig
        lines.append("\t".join(cells))
    plain = out.with_name(out.name.removesuffix(".gz") + ".plain")
    header = [ln for ln in lines if ln.startswith("#")]
    body = sorted((ln for ln in lines if not ln.startswith("#")), key=lambda ln: int(ln.split("\t")[1]))
    plain.write_text("\n".join(header + body) + "\n")
    pysam.tabix_compress(str(plain), str(out), force=True)
    plain.unlink()
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out
