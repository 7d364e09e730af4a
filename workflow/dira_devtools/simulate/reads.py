"""Illumina-like paired-end reads: fragment sizes, GC-dependent acceptance, cycle-dependent substitution
errors with calibrated qualities, rare 1-bp indel errors and no-calls; WGS-like or exome-like (capture panel
of :func:`capture_baits`). FASTQ is gzip with mtime 0, so the same seed gives the same bytes.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dira_devtools.simulate.edits import Haplotype, HapSeq, apply_edits
from dira_devtools.simulate.reference import load_reference
from dira_devtools.simulate.resources import read_build, read_genes
from dira_devtools.simulate.sequence import _BASES, _COMPLEMENT, _seed_for
from dira_genotyper.locus import read_bed

READ_LENGTH = 150

# Fragment sizes and errors -------------------------------------------------------------------------------
FRAGMENT_MEAN = 350.0
FRAGMENT_SD = 40.0
FRAGMENT_MIN = 200
FRAGMENT_MAX = 600
SUB_RATE_FIRST = 0.001  # substitution error rate at cycle 1 of read 1
SUB_RATE_LAST = 0.010  # ... at the last cycle of read 1
READ2_FACTOR = 1.5  # read 2 is worse
INDEL_RATE = 1e-5  # 1-bp indel errors per base
N_RATE_FIRST = 2e-4  # no-calls (N, Q2) in the first two cycles
N_RATE = 2e-5  # ... elsewhere
Q_HIGH = (30, 40)  # quality of "good" bases (inclusive range)
Q_LOW = (5, 20)  # quality of "poor" bases; the poor fraction per cycle is solved to give the error rate
Q_NOCALL = 2

# GC bias: acceptance = exp(-0.5 ((gc - peak) / width)^2); 0.16 gives ~35% loss at GC 0.30 and 0.60
GC_PEAK = 0.45
GC_WIDTH = 0.16

# Exome-like capture ------------------------------------------------------------------------------------
CAPTURE_PAD = 150  # fragments must overlap a bait +/- this many bp
CONTROL_BAIT_EVERY = 3000  # pseudo-exon baits laid in the controls.bed regions (for normalisation)
CONTROL_BAIT_LEN = 200

# Pairs written per block; a read's name is ``{sample}:{n}`` with n its 1-based index over the whole sample (all
# contigs, haplotypes and blocks), so every fragment's name is unique in the sample.
CHUNK_PAIRS = 50_000


@dataclass
class ReadStats:
    """What :func:`simulate_reads` did (counts over both reads; index 0 = read 1, 1 = read 2)."""

    n_pairs: int
    read_length: int
    substitutions: np.ndarray  # (2, read_length) substitution errors per cycle
    called_bases: np.ndarray  # (2, read_length) non-N bases per cycle
    indel_errors: int
    no_calls: int
    mean_q_error: float
    mean_q_correct: float
    candidates: int  # fragments drawn before GC-dependent acceptance
    gc_peak: float
    gc_width: float
    pairs_per_contig: dict[str, int] = field(default_factory=dict)

    def substitution_rate(self, read: int | None = None) -> float:
        sel = slice(None) if read is None else slice(read, read + 1)
        return float(self.substitutions[sel].sum() / max(1, self.called_bases[sel].sum()))


def _low_quality_fraction(rates: np.ndarray) -> np.ndarray:
    """Per cycle, the fraction of bases drawn from Q_LOW so the mean error 10^(-Q/10) equals ``rates``."""
    e_hi = np.mean(10 ** (-np.arange(Q_HIGH[0], Q_HIGH[1] + 1) / 10))
    e_lo = np.mean(10 ** (-np.arange(Q_LOW[0], Q_LOW[1] + 1) / 10))
    return np.clip((rates - e_hi) / (e_lo - e_hi), 0.0, 1.0)


def substitution_rates(read_length: int = READ_LENGTH) -> np.ndarray:
    """Target substitution error rate per cycle, shape (2, read_length): rising along the read, R2 worse."""
    x = np.arange(read_length) / max(1, read_length - 1)
    r1 = SUB_RATE_FIRST + (SUB_RATE_LAST - SUB_RATE_FIRST) * x**2
    return np.vstack([r1, r1 * READ2_FACTOR])


def gc_acceptance(gc: np.ndarray, peak: float = GC_PEAK, width: float = GC_WIDTH) -> np.ndarray:
    """Probability that a fragment of GC fraction ``gc`` is sequenced (1 at the peak)."""
    return np.exp(-0.5 * ((np.asarray(gc, dtype=float) - peak) / width) ** 2)


def _fragment_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, size=n)).astype(np.int64)
    bad = (out < FRAGMENT_MIN) | (out > FRAGMENT_MAX)
    while bad.any():
        out[bad] = np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, size=int(bad.sum()))).astype(np.int64)
        bad = (out < FRAGMENT_MIN) | (out > FRAGMENT_MAX)
    return out


def _sample_fragments(
    rng: np.random.Generator,
    hap_len: int,
    gc_cum: np.ndarray | None,
    n_target: int,
    windows: np.ndarray | None,
    gc_peak: float,
    gc_width: float,
    efficiency: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Draw ``n_target`` accepted fragments (starts, lengths) on one haplotype sequence.

    ``windows`` (k, 2) 0-based half-open capture intervals in haplotype coordinates, or None for WGS;
    ``efficiency`` (k,) each window's relative capture efficiency (None: all equal).
    """
    starts, lengths = [], []
    have, drawn, est = 0, 0, 0.8
    if windows is not None:
        weights = (windows[:, 1] - windows[:, 0] + FRAGMENT_MEAN - 1).astype(float)
        if efficiency is not None:
            weights = weights * efficiency
        cum_w = np.cumsum(weights) / weights.sum()
    while have < n_target:
        m = int((n_target - have) / max(est, 0.05) * 1.1) + 64
        flen = _fragment_lengths(rng, m)
        if windows is None:
            start = (rng.random(m) * (hap_len - flen + 1)).astype(np.int64)
        else:
            k = np.minimum(np.searchsorted(cum_w, rng.random(m), side="right"), windows.shape[0] - 1)
            lo = windows[k, 0] - flen + 1
            hi = windows[k, 1] - 1  # fragment [s, s+flen) overlaps [lo_w, hi_w)
            start = lo + (rng.random(m) * (hi - lo + 1)).astype(np.int64)
            start = np.clip(start, 0, hap_len - flen)
        ok = start + flen <= hap_len
        if gc_cum is not None:
            gc = (gc_cum[start + flen] - gc_cum[start]) / flen
            ok &= rng.random(m) < gc_acceptance(gc, gc_peak, gc_width)
        drawn += m
        starts.append(start[ok])
        lengths.append(flen[ok])
        have += int(ok.sum())
        est = max(have / drawn, 0.01)
    return np.concatenate(starts)[:n_target], np.concatenate(lengths)[:n_target], drawn


def _apply_indel_errors(rng: np.random.Generator, templates: np.ndarray, read_length: int) -> tuple[np.ndarray, int]:
    """Reads (n, read_length) from templates (n, read_length+1), with rare 1-bp insertion/deletion errors."""
    reads = templates[:, :read_length].copy()
    p_read = 1.0 - (1.0 - INDEL_RATE) ** read_length
    hit = np.flatnonzero(rng.random(reads.shape[0]) < p_read)
    if hit.size:
        cycles = rng.integers(1, read_length - 1, size=hit.size)
        is_ins = rng.random(hit.size) < 0.5
        new_bases = rng.integers(0, 4, size=hit.size, dtype=np.uint8)
        for i, c, ins, b in zip(hit, cycles, is_ins, new_bases, strict=True):
            if ins:
                reads[i, c + 1 :] = templates[i, c : read_length - 1]
                reads[i, c] = b
            else:
                reads[i, c:] = templates[i, c + 1 : read_length + 1]
    return reads, int(hit.size)


def _qualities_and_errors(
    rng: np.random.Generator, reads: np.ndarray, low_frac: np.ndarray, n_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw Phred qualities per base, then substitution errors with probability 10^(-Q/10) (calibrated).

    Returns (bases, quals, error mask); no-calls are N with Q2 and not counted as errors.
    """
    n, length = reads.shape
    u = rng.random((n, length), dtype=np.float32)
    w = low_frac.astype(np.float32)[None, :]
    low = u < w
    n_lo = Q_LOW[1] - Q_LOW[0] + 1
    n_hi = Q_HIGH[1] - Q_HIGH[0] + 1
    q_lo = Q_LOW[0] + np.minimum((u / np.maximum(w, 1e-9) * n_lo).astype(np.uint8), n_lo - 1)
    q_hi = Q_HIGH[0] + np.minimum(((u - w) / np.maximum(1 - w, 1e-9) * n_hi).astype(np.uint8), n_hi - 1)
    quals = np.where(low, q_lo, q_hi).astype(np.uint8)
    perr = (10 ** (-np.arange(64) / 10)).astype(np.float32)
    v = rng.random((n, length), dtype=np.float32)
    err = v < perr[quals]
    nocall = v > (1 - n_rate.astype(np.float32))[None, :]
    err &= ~nocall
    bases = reads.copy()
    idx = np.nonzero(err)
    if idx[0].size:
        shift = rng.integers(1, 4, size=idx[0].size, dtype=np.uint8)
        bases[idx] = (bases[idx] + shift) % 4
    bases[nocall] = 4
    quals[nocall] = Q_NOCALL
    return bases, quals, err


def _fastq_block(sample: bytes, first: int, bases: np.ndarray, quals: np.ndarray) -> bytes:
    n, length = bases.shape
    width = 2 * length + 4
    rows = np.empty((n, width), dtype=np.uint8)
    rows[:, :length] = _BASES[bases]
    rows[:, length : length + 3] = np.frombuffer(b"\n+\n", dtype=np.uint8)
    rows[:, length + 3 : 2 * length + 3] = quals + 33
    rows[:, -1] = 10
    body = rows.tobytes()
    parts = []
    for j in range(n):
        parts.append(b"@%s:%d\n" % (sample, first + j))
        parts.append(body[j * width : (j + 1) * width])
    return b"".join(parts)


def _open_gz(path: Path, level: int):  # noqa: ANN202 - file object
    raw = open(path, "wb")  # closed by the caller, after the gzip wrapper
    return raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level)


def _as_hapseqs(haplotype: Mapping[str, HapSeq | np.ndarray | str]) -> dict[str, HapSeq]:
    return {c: h if isinstance(h, HapSeq) else HapSeq.from_reference(h) for c, h in haplotype.items()}


def simulate_reads(
    haplotypes: Sequence[Mapping[str, HapSeq | np.ndarray | str]],
    depth: float,
    out_fq1: str | Path,
    out_fq2: str | Path,
    sample: str,
    seed: int,
    mode: str = "wgs",
    targets: Sequence[tuple[str, int, int]] | None = None,
    read_length: int = READ_LENGTH,
    gc_bias: bool = True,
    truth_tsv: str | Path | None = None,
    compresslevel: int = 1,
    target_efficiency: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
) -> ReadStats:
    """Simulate Illumina-like 2x``read_length`` paired-end reads from haplotype sequences.

    ``haplotypes``: one mapping contig -> :class:`HapSeq` (or plain sequence) per haplotype (usually two);
    each haplotype gets ``depth / len(haplotypes)`` read depth, or ``depth * weights[h]`` (a mixture of two people:
    a sample's two haplotypes and a contaminating person's two). ``mode`` "wgs" draws fragments along whole
    contigs; "exome" only fragments overlapping ``targets`` (0-based half-open reference intervals, padded
    already; see :func:`capture_targets`), with the depth reached on the targets on average, each target
    weighted by ``target_efficiency`` (one per target; None: all equal). Fragment GC decides
    acceptance (:func:`gc_acceptance`, with a per-sample random peak/width). Reads are written in random
    order as gzip FASTQ named ``{sample}:{n}`` (same name in R1 and R2); ``truth_tsv`` (optional, gzip)
    records each pair's origin (contig, haplotype, 1-based reference span of the fragment, R1 strand).
    """
    if mode not in ("wgs", "exome"):
        raise ValueError(f"mode must be 'wgs' or 'exome', not {mode!r}")
    if mode == "exome" and not targets:
        raise ValueError("exome mode needs targets")
    rng = np.random.default_rng(_seed_for(seed, "reads", sample))
    haps = [_as_hapseqs(h) for h in haplotypes]
    contigs = list(haps[0])
    gc_peak = GC_PEAK + rng.normal(0, 0.015) if gc_bias else GC_PEAK
    gc_width = GC_WIDTH * float(np.exp(rng.normal(0, 0.1))) if gc_bias else GC_WIDTH
    if weights is not None and (len(weights) != len(haps) or abs(sum(weights) - 1) > 1e-9):
        raise ValueError("weights: one per haplotype, summing to 1")
    depth_hap = [depth / len(haps) if weights is None else depth * w for w in (weights or [None] * len(haps))]

    groups: list[tuple[str, int, HapSeq]] = []
    g_ids, g_starts, g_lens = [], [], []
    candidates = 0
    per_contig: dict[str, int] = {}
    for contig in contigs:
        for h, hap in enumerate(haps):
            hs = hap[contig]
            length = hs.seq.size
            windows = eff = None
            if mode == "exome":
                iv = np.array([(s, e) for c, s, e in targets if c == contig], dtype=np.int64).reshape(-1, 2)
                if iv.size == 0:
                    continue
                hw = np.stack([hs.ref_to_hap(iv[:, 0]), hs.ref_to_hap(iv[:, 1])], axis=1)
                kept = hw[:, 1] > hw[:, 0]
                windows = hw[kept]
                if windows.size == 0:
                    continue
                eff = np.ones(len(windows))
                if target_efficiency is not None:  # per target, shared by the samples of one design
                    eff = np.array([x for (c, _, _), x in zip(targets, target_efficiency, strict=True) if c == contig])
                    eff = eff[kept]
                span = float(((windows[:, 1] - windows[:, 0] + FRAGMENT_MEAN - 1) * eff).sum())
            else:
                span = float(length)
            n_target = int(round(depth_hap[h] * span / (2 * read_length)))
            if n_target == 0 or length < FRAGMENT_MAX:
                continue
            gc_cum = None
            if gc_bias:
                gc_cum = np.concatenate(([0], np.cumsum((hs.seq == 1) | (hs.seq == 2), dtype=np.int64)))
            starts, lens, drawn = _sample_fragments(rng, length, gc_cum, n_target, windows, gc_peak, gc_width, eff)
            candidates += drawn
            g_ids.append(np.full(starts.size, len(groups), dtype=np.int32))
            g_starts.append(starts)
            g_lens.append(lens)
            groups.append((contig, h, hs))
            per_contig[contig] = per_contig.get(contig, 0) + int(starts.size)
    gid = np.concatenate(g_ids) if g_ids else np.zeros(0, np.int32)
    start = np.concatenate(g_starts) if g_starts else np.zeros(0, np.int64)
    flen = np.concatenate(g_lens) if g_lens else np.zeros(0, np.int64)
    n_pairs = gid.size
    order = rng.permutation(n_pairs)
    gid, start, flen = gid[order], start[order], flen[order]
    forward = rng.random(n_pairs) < 0.5

    rates = substitution_rates(read_length)
    low_frac = [_low_quality_fraction(rates[0]), _low_quality_fraction(rates[1])]
    n_rate = np.full(read_length, N_RATE)
    n_rate[:2] = N_RATE_FIRST
    subs = np.zeros((2, read_length), dtype=np.int64)
    called = np.zeros((2, read_length), dtype=np.int64)
    q_err_sum = q_err_n = q_ok_sum = q_ok_n = 0
    indels = nocalls = 0
    k = np.arange(read_length + 1, dtype=np.int64)

    out_fq1, out_fq2 = Path(out_fq1), Path(out_fq2)
    out_fq1.parent.mkdir(parents=True, exist_ok=True)
    out_fq2.parent.mkdir(parents=True, exist_ok=True)
    tmp1 = out_fq1.with_name(out_fq1.name + ".tmp")
    tmp2 = out_fq2.with_name(out_fq2.name + ".tmp")
    raw1, gz1 = _open_gz(tmp1, compresslevel)
    raw2, gz2 = _open_gz(tmp2, compresslevel)
    truth = truth_raw = None
    if truth_tsv is not None:
        truth_raw, truth = _open_gz(Path(truth_tsv), 6)
        truth.write(b"name\tcontig\thaplotype\tref_start\tref_end\tr1_strand\n")
    sample_b = sample.encode()
    monotone: dict[int, np.ndarray] = {}
    try:
        for c0 in range(0, n_pairs, CHUNK_PAIRS):
            c1 = min(n_pairs, c0 + CHUNK_PAIRS)
            g, s, f, fw = gid[c0:c1], start[c0:c1], flen[c0:c1], forward[c0:c1]
            m = c1 - c0
            t1 = np.empty((m, read_length + 1), dtype=np.uint8)
            t2 = np.empty((m, read_length + 1), dtype=np.uint8)
            for gi in np.unique(g):
                sel = np.flatnonzero(g == gi)
                seq = groups[gi][2].seq
                fwd = seq[s[sel, None] + k[None, :]]
                rev = _COMPLEMENT[seq[(s[sel] + f[sel] - 1)[:, None] - k[None, :]]]
                fm = fw[sel, None]
                t1[sel] = np.where(fm, fwd, rev)
                t2[sel] = np.where(fm, rev, fwd)
            blocks = []
            for r, tmpl in enumerate((t1, t2)):
                reads, n_indel = _apply_indel_errors(rng, tmpl, read_length)
                bases, quals, err = _qualities_and_errors(rng, reads, low_frac[r], n_rate)
                is_n = bases == 4
                indels += n_indel
                nocalls += int(is_n.sum())
                subs[r] += err.sum(axis=0)
                called[r] += (~is_n).sum(axis=0)
                q_err_sum += int(quals[err].sum(dtype=np.int64))
                q_err_n += int(err.sum())
                ok = ~err & ~is_n
                q_ok_sum += int(quals[ok].sum(dtype=np.int64))
                q_ok_n += int(ok.sum())
                blocks.append(_fastq_block(sample_b, c0 + 1, bases, quals))
            gz1.write(blocks[0])
            gz2.write(blocks[1])
            if truth is not None:
                ref_a = np.empty(m, dtype=np.int64)
                ref_b = np.empty(m, dtype=np.int64)
                for gi in np.unique(g):
                    sel = np.flatnonzero(g == gi)
                    if gi not in monotone:
                        monotone[gi] = groups[gi][2].monotone_refpos
                    ref_a[sel] = monotone[gi][s[sel]] + 1
                    ref_b[sel] = monotone[gi][s[sel] + f[sel] - 1] + 1
                lines = [
                    f"{sample}:{c0 + j + 1}\t{groups[g[j]][0]}\t{groups[g[j]][1] + 1}\t{ref_a[j]}\t{ref_b[j]}"
                    f"\t{'+' if fw[j] else '-'}\n"
                    for j in range(m)
                ]
                truth.write("".join(lines).encode())
    finally:
        gz1.close()
        raw1.close()
        gz2.close()
        raw2.close()
        if truth is not None:
            truth.close()
            truth_raw.close()
    os.replace(tmp1, out_fq1)
    os.replace(tmp2, out_fq2)
    return ReadStats(
        n_pairs=n_pairs,
        read_length=read_length,
        substitutions=subs,
        called_bases=called,
        indel_errors=indels,
        no_calls=nocalls,
        mean_q_error=q_err_sum / max(1, q_err_n),
        mean_q_correct=q_ok_sum / max(1, q_ok_n),
        candidates=candidates,
        gc_peak=float(gc_peak),
        gc_width=float(gc_width),
        pairs_per_contig=per_contig,
    )


def capture_baits(resources_dir: str | Path) -> list[tuple[str, int, int]]:
    """The exome-like panel (0-based half-open, merged, unpadded): ``targets.bed`` + every exon of
    ``exons.tsv`` + pseudo-exon baits every 3 kb in the ``controls.bed`` regions (normalisation loci)."""
    resources_dir = Path(resources_dir)
    iv = [x.bed() for x in read_bed(resources_dir / "targets.bed")]
    for gene in read_genes(resources_dir).values():
        iv += [(gene.chrom, s - 1, e) for s, e in gene.exons]
    for c, s, e in (x.bed() for x in read_bed(resources_dir / "controls.bed")):
        for b in range(s + CONTROL_BAIT_EVERY // 3, e - CONTROL_BAIT_LEN, CONTROL_BAIT_EVERY):
            iv.append((c, b, b + CONTROL_BAIT_LEN))
    return _merge(iv)


def _merge(intervals: Sequence[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for c, s, e in sorted(intervals):
        if out and out[-1][0] == c and s <= out[-1][2]:
            out[-1] = (c, out[-1][1], max(out[-1][2], e))
        else:
            out.append((c, s, e))
    return out


def capture_targets(resources_dir: str | Path, pad: int = CAPTURE_PAD) -> list[tuple[str, int, int]]:
    """:func:`capture_baits` padded by ``pad`` bp each side (what exome-mode fragments must overlap)."""
    contigs = read_build(resources_dir).contigs
    return _merge(
        [(c, max(0, s - pad), min(contigs.get(c, e + pad), e + pad)) for c, s, e in capture_baits(resources_dir)]
    )


def write_capture_bed(resources_dir: str | Path, path: str | Path) -> Path:
    """Write the unpadded capture panel as BED (name ``bait``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{c}\t{s}\t{e}\tbait\n" for c, s, e in capture_baits(resources_dir)))
    return path


def simulate_sample(
    reference: str | Path,
    resources_dir: str | Path,
    haplotypes: Sequence[Haplotype],
    depth: float,
    mode: str,
    seed: int,
    out_prefix: str | Path,
    sample: str,
    truth_tsv: bool = False,
    target_efficiency: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[Path, Path]:
    """Simulate one sample: apply each haplotype's edits to ``reference`` and write
    ``{out_prefix}_R1.fastq.gz`` / ``_R2`` (and ``{out_prefix}.origins.tsv.gz`` if ``truth_tsv``).

    ``haplotypes``: usually two lists of :class:`Edit` (``[[], []]`` = reference genotype); four with
    ``weights`` for a mixture of two people (:func:`simulate_reads`).
    ``mode``: "wgs" or "exome" (panel of :func:`capture_targets`); ``target_efficiency`` one relative capture
    efficiency per :func:`capture_targets` interval (shared by the samples of a design; None: all equal).
    """
    ref = load_reference(reference)
    haps = [apply_edits(ref, edits) for edits in haplotypes]
    targets = capture_targets(resources_dir) if mode == "exome" else None
    fq1 = Path(f"{out_prefix}_R1.fastq.gz")
    fq2 = Path(f"{out_prefix}_R2.fastq.gz")
    origins = Path(f"{out_prefix}.origins.tsv.gz") if truth_tsv else None
    simulate_reads(
        haps,
        depth,
        fq1,
        fq2,
        sample,
        seed,
        mode=mode,
        targets=targets,
        truth_tsv=origins,
        target_efficiency=target_efficiency,
        weights=weights,
    )
    return fq1, fq2
