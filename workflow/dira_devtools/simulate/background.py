"""Background variation: what makes a simulated sample look like a genome rather than the reference plus the
planted alleles.

A :class:`Population` is a fixed set of common variant sites with allele frequencies, drawn once per reference
and seed (:func:`make_population`), so that samples share sites as real people do:

- SNVs at ``SNV_SITES_PER_KB`` (minor allele frequency uniform in ``MAF_RANGE``, the reference carrying the minor
  allele at a share ``ALT_MAJOR_SHARE`` of sites, transitions twice as likely as transversions), which gives a
  sample ~0.8 heterozygous SNVs per kb (one per ~1.25 kb) and about half as many homozygous ones;
- short indels (1-``INDEL_MAX_BP`` bp deletions and insertions) at ``INDEL_SITES_PER_KB``, a share
  ``HOMOPOLYMER_INDEL_SHARE`` of them one base more or less in a homopolymer run;
- the IL1RN intron-2 VNTR (:mod:`.vntr`), 2-6 copies.

Sites stay out of what decides the truth: the CDS of the truth genes' MANE transcripts (the target and the
differential genes) +/- ``SPLICE_PAD`` bp and every exon boundary of those transcripts +/- ``SPLICE_PAD`` bp
(canonical splice sites and the splice region; ``SPLICE_PAD`` also covers published intronic alleles such as
IL36RN c.115+6T>C), and the VNTR +/- ``SITE_SPACING``. Introns, UTRs, other isoforms' exons, flanks and the
control contig get them. Sites are at least ``SITE_SPACING`` bp apart (left-normalised spans), so no two
overlap and each keeps one VCF form.

A :class:`Genome` is a sample's two haplotypes over the population's sites (and its VNTR alleles): founders
draw each site from its allele frequency (:meth:`Population.founder`), children take one haplotype of each
parent, optionally with a crossover (:meth:`Population.child`); a consanguineous couple shares one haplotype
over a long stretch (:meth:`Population.share_stretch`), so their child is homozygous there. On the sex chromosomes
(``SEX_CONTIGS`` of :mod:`.reference`, when the reference has them) a male's first haplotype is his Y (from his
father) and his second his X (from his mother), a female's two haplotypes are X; the copy a person lacks is a
whole-contig deletion in :meth:`Population.haplotype_edits` (no reads) and ``-`` in the truth's genotypes. No
crossovers on the sex chromosomes (they are 80 and 20 kb).
:meth:`Population.haplotype_edits` gives the edits of each haplotype with the planted alleles, dropping
background edits that a planted edit removes or touches (within ``PLANTED_MARGIN`` bp). Positions are 1-based
inclusive.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dira_devtools.simulate.edits import Edit, deletion, insertion, normalize_vcf, snv
from dira_devtools.simulate.reference import SEX_CONTIGS
from dira_devtools.simulate.resources import differential_genes, read_build, read_transcript
from dira_devtools.simulate.sequence import _BASES, _seed_for
from dira_devtools.simulate.vntr import Vntr, draw_vntr_copies, vntr_locus

SNV_SITES_PER_KB = 2.5
INDEL_SITES_PER_KB = 0.3
HOMOPOLYMER_INDEL_SHARE = 0.5
HOMOPOLYMER_MIN = 4  # runs of at least this many identical bases take homopolymer indels
INDEL_MAX_BP = 4
INDEL_LENGTH_WEIGHTS = (0.5, 0.25, 0.15, 0.1)  # 1, 2, 3, 4 bp
MAF_RANGE = (0.01, 0.5)
ALT_MAJOR_SHARE = 0.2
SPLICE_PAD = 10
SITE_SPACING = 12
PLANTED_MARGIN = 10
RECOMBINATION_PER_MB = 0.01  # crossovers per Mb and meiosis (~1 cM/Mb)


@dataclass(frozen=True)
class Site:
    """One common variant site: its edit, alternate allele frequency and left-normalised VCF form."""

    edit: Edit
    af: float
    vcf: tuple[int, str, str]  # pos, ref, alt

    @property
    def kind(self) -> str:
        return self.edit.kind

    def record(self, genotype: str) -> str:
        """``chrom:pos:ref:alt:genotype``, the truth's one-line form."""
        pos, ref, alt = self.vcf
        return f"{self.edit.chrom}:{pos}:{ref}:{alt}:{genotype}"


@dataclass(frozen=True)
class Genome:
    """A sample's two haplotypes: per population site whether it carries the alternate allele, and VNTR copies."""

    alt: tuple[np.ndarray, np.ndarray]
    vntr: tuple[int, int]
    male: bool = False  # haplotype 1 then holds his Y at the sex-chromosome sites, haplotype 2 his X


@dataclass(frozen=True)
class SampleGenome:
    """What :meth:`Population.haplotype_edits` applied: each haplotype's edits (planted + background + VNTR),
    the background sites carried ("1"), not carried ("0") or removed by a planted edit of that haplotype ("-":
    inside a planted deletion, or carried but dropped within ``PLANTED_MARGIN`` bp of a planted edit), and
    the VNTR copies per haplotype (None where a planted edit removes the VNTR)."""

    edits: tuple[list[Edit], list[Edit]]
    calls: dict[int, str]  # site index -> two-character genotype, e.g. "10", "11", "1-"
    vntr: tuple[int | None, int | None]
    sex: str | None = None  # "male" / "female" when the reference has sex chromosomes


@dataclass(frozen=True)
class Population:
    sites: tuple[Site, ...]
    vntr: Vntr | None
    reference: Mapping[str, np.ndarray] = field(repr=False)

    @functools.cached_property
    def af(self) -> np.ndarray:
        return np.array([s.af for s in self.sites], dtype=float)

    @functools.cached_property
    def chroms(self) -> np.ndarray:
        return np.array([s.edit.chrom for s in self.sites], dtype=object)

    @functools.cached_property
    def starts(self) -> np.ndarray:
        return np.array([s.edit.start for s in self.sites], dtype=np.int64)

    @functools.cached_property
    def n_autosomal(self) -> int:
        """Sites before the sex chromosomes' (which come last, as their contigs do)."""
        sex = np.isin(self.chroms, list(SEX_CONTIGS))
        n = int((~sex).sum())
        if sex[:n].any():
            raise ValueError("the sex chromosomes' sites must come after the other contigs'")
        return n

    def absent(self, genome: Genome) -> tuple[set[str], set[str]]:
        """The sex-chromosome contigs each haplotype lacks: a male's first has no X, his second no Y; a female
        has no Y. Only contigs of this population's reference."""
        x, y = ({c} & set(self.reference) for c in SEX_CONTIGS)
        return (x, y) if genome.male else (y, set(y))

    def founder(self, rng: np.random.Generator, male: bool = False) -> Genome:
        """A person of the population: each site drawn from its allele frequency (the sex chromosomes' last, so
        the rest of the genome is the same draw as without them)."""
        af, n = self.af, self.n_autosomal
        haps = [rng.random(n) < af[:n] for _ in range(2)]
        copies = draw_vntr_copies(rng, 2)
        if n < af.size:
            haps = [np.concatenate([h, rng.random(af.size - n) < af[n:]]) for h in haps]
        return Genome((haps[0], haps[1]), (int(copies[0]), int(copies[1])), male)

    def _crossover_sites(self, rng: np.random.Generator, keep: tuple[str, int] | None) -> list[int]:
        """Site indices where a transmitted haplotype switches parental copy (at most one per contig, with
        probability ``RECOMBINATION_PER_MB`` per Mb); never between ``keep`` (chrom, pos) and the VNTR."""
        out = []
        for chrom in dict.fromkeys(self.chroms):
            if chrom in SEX_CONTIGS:
                continue
            idx = np.flatnonzero(self.chroms == chrom)
            length = self.reference[chrom].size
            if idx.size < 2 or rng.random() >= RECOMBINATION_PER_MB * length / 1e6:
                continue
            cut = int(rng.integers(idx[0] + 1, idx[-1] + 1))
            anchors = [p for c, p in ([keep] if keep else []) + self._vntr_anchor() if c == chrom]
            pos = int(self.starts[cut])
            if anchors and min(anchors) <= pos <= max(anchors):
                continue
            out.append(cut)
        return out

    def _vntr_anchor(self) -> list[tuple[str, int]]:
        return [(self.vntr.chrom, self.vntr.start)] if self.vntr else []

    def transmit(
        self, rng: np.random.Generator, parent: Genome, which: int, keep: tuple[str, int] | None = None
    ) -> tuple[np.ndarray, int]:
        """One haplotype a parent passes on: copy ``which`` (0/1), switching to the other copy after a crossover
        on the far side from ``keep`` (a planted allele's position, which stays on copy ``which``)."""
        hap = parent.alt[which].copy()
        other = parent.alt[1 - which]
        anchor = keep or (self._vntr_anchor() or [None])[0]
        for cut in self._crossover_sites(rng, keep):
            chrom = self.chroms[cut]
            idx = np.flatnonzero(self.chroms == chrom)
            if anchor and anchor[0] == chrom and anchor[1] < self.starts[cut]:
                sel = idx[idx >= cut]
            else:
                sel = idx[idx < cut]
            hap[sel] = other[sel]
        return hap, parent.vntr[which]

    def child(
        self,
        rng: np.random.Generator,
        father: Genome,
        mother: Genome,
        from_father: int,
        from_mother: int,
        keep: tuple[str, int] | None = None,
        male: bool = False,
        x_copy: int = 0,
    ) -> Genome:
        """A child of ``father`` and ``mother`` taking their copies ``from_father`` / ``from_mother`` (crossovers
        away from ``keep``, the planted alleles' position); on the sex chromosomes a son takes his father's Y, a
        daughter his X, and both the mother's X copy ``x_copy``."""
        h0, v0 = self.transmit(rng, father, from_father, keep)
        h1, v1 = self.transmit(rng, mother, from_mother, keep)
        sex = slice(self.n_autosomal, None)
        h0[sex] = father.alt[0 if male or not father.male else 1][sex]
        h1[sex] = mother.alt[x_copy][sex]
        return Genome((h0, h1), (v0, v1), male)

    def share_stretch(
        self, rng: np.random.Generator, source: Genome, which: int, target: Genome, target_which: int, around: tuple
    ) -> Genome:
        """``target`` with its copy ``target_which`` identical by descent to ``source``'s copy ``which`` over a
        long stretch of ``around``'s contig (at least half of it, always covering ``around`` = (chrom, pos)),
        as between the parents of a consanguineous family; the VNTR allele is shared when inside."""
        chrom, pos = around
        length = self.reference[chrom].size
        span = int(rng.integers(length // 2, length + 1))
        lo = int(np.clip(pos - rng.integers(0, span + 1), 1, max(1, length - span)))
        hi = lo + span
        lo, hi = min(lo, pos), max(hi, pos)
        sel = (self.chroms == chrom) & (self.starts >= lo) & (self.starts <= hi)
        haps = [target.alt[0].copy(), target.alt[1].copy()]
        haps[target_which][sel] = source.alt[which][sel]
        vntr = list(target.vntr)
        if self.vntr and self.vntr.chrom == chrom and lo <= self.vntr.start <= hi:
            vntr[target_which] = source.vntr[which]
        return Genome((haps[0], haps[1]), (vntr[0], vntr[1]), target.male)

    def haplotype_edits(self, genome: Genome, planted: Sequence[Sequence[Edit]]) -> SampleGenome:
        """Each haplotype's edits: the planted ones, the VNTR allele and the background alleles it carries,
        leaving out those within ``PLANTED_MARGIN`` bp of a planted edit of the same haplotype."""
        edits: list[list[Edit]] = []
        calls: dict[int, list[str]] = {}
        vntr: list[int | None] = []
        absent = self.absent(genome)
        for h, hap_planted in enumerate(planted):
            spans = [(e.chrom, e.start - 1 - PLANTED_MARGIN, e.end + PLANTED_MARGIN) for e in hap_planted]

            def touched(e: Edit, spans: list = spans) -> bool:
                return any(c == e.chrom and lo <= e.end and e.start - 1 <= hi for c, lo, hi in spans)

            out = list(hap_planted)
            out += [deletion(c, 1, self.reference[c].size) for c in sorted(absent[h])]  # no such chromosome
            for i in np.flatnonzero(genome.alt[h]):
                site = self.sites[int(i)]
                if site.edit.chrom in absent[h]:
                    continue
                calls.setdefault(int(i), ["0", "0"])[h] = "-" if touched(site.edit) else "1"
                if not touched(site.edit):
                    out.append(site.edit)
            copies: int | None = genome.vntr[h]
            if self.vntr is not None:
                locus = Edit(self.vntr.chrom, self.vntr.start, self.vntr.end)
                edit = self.vntr.edit(genome.vntr[h], self.reference)
                if touched(locus):
                    copies = None
                elif edit is not None:
                    out.append(edit)
            vntr.append(copies)
            edits.append(out)
        for i, gt in calls.items():  # a site this haplotype lacks may still lie in its planted deletion
            for h, hap_planted in enumerate(planted):
                e = self.sites[i].edit
                if e.chrom in absent[h]:
                    gt[h] = "-"
                elif gt[h] == "0" and any(
                    d.kind == "deletion" and d.chrom == e.chrom and d.start <= e.start and e.end <= d.end
                    for d in hap_planted
                ):
                    gt[h] = "-"
        sex = ("male" if genome.male else "female") if any(absent) else None
        return SampleGenome((edits[0], edits[1]), {i: "".join(g) for i, g in calls.items()}, (vntr[0], vntr[1]), sex)

    def truth(self, sample: SampleGenome) -> dict:
        """The truth's record of a sample's background: carried sites (``chrom:pos:ref:alt:GT``, GT phased as
        haplotype 1|2 with ``-`` where a planted deletion removed the site or the haplotype has no such chromosome),
        the VNTR alleles and, with sex chromosomes, the ``sex``."""
        rows = [self.sites[i].record("|".join(gt)) for i, gt in sorted(sample.calls.items()) if "1" in gt]
        het = sum(1 for gt in sample.calls.values() if sorted(gt) == ["0", "1"])
        return {
            "background": rows,
            "background_heterozygous": het,
            "vntr": None if self.vntr is None else {**self.vntr.to_dict(), "alleles": list(sample.vntr)},
            **({"sex": sample.sex} if sample.sex else {}),
        }


def _free_mask(resources_dir: Path, contigs: Mapping[str, int], vntr: Vntr | None) -> dict[str, np.ndarray]:
    """Per contig, True where a background site may lie (see the module docstring)."""
    free = {c: np.ones(n, dtype=bool) for c, n in contigs.items()}
    for gene in [None, *differential_genes(resources_dir)]:
        tx = read_transcript(resources_dir, gene)
        if tx.chrom not in free:
            continue
        block = free[tx.chrom]
        for s, e in tx.cds:
            block[max(0, s - 1 - SPLICE_PAD) : e + SPLICE_PAD] = False
        exons = sorted(tx.exons)
        for (_, e1), (s2, _) in zip(exons, exons[1:], strict=False):
            block[max(0, e1 - 1 - SPLICE_PAD) : e1 + SPLICE_PAD] = False
            block[max(0, s2 - 1 - SPLICE_PAD) : s2 + SPLICE_PAD] = False
    if vntr is not None and vntr.chrom in free:
        free[vntr.chrom][max(0, vntr.start - 1 - SITE_SPACING) : vntr.end + SITE_SPACING] = False
    return free


def _homopolymer_runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based starts and lengths of runs of >= HOMOPOLYMER_MIN identical bases (N excluded)."""
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [codes.size])))
    keep = (lengths >= HOMOPOLYMER_MIN) & (codes[starts] < 4)
    return starts[keep], lengths[keep]


def _candidates(rng: np.random.Generator, chrom: str, codes: np.ndarray) -> list[Edit]:
    """Unfiltered candidate edits of one contig: SNVs, random short indels, homopolymer indels."""
    n = codes.size
    text = _BASES[codes].tobytes().decode()
    out: list[Edit] = []
    n_snv = rng.poisson(SNV_SITES_PER_KB * n / 1000)
    for p0 in rng.integers(1, n - 1, size=n_snv):
        ref = text[p0]
        if ref == "N":
            continue
        code = int(codes[p0])
        alt = (code + 2) % 4 if rng.random() < 2 / 3 else (code + (1 if rng.random() < 0.5 else 3)) % 4
        out.append(snv(chrom, int(p0) + 1, "ACGT"[alt], ref))
    n_indel = rng.poisson(INDEL_SITES_PER_KB * n / 1000)
    n_hp = int(rng.binomial(n_indel, HOMOPOLYMER_INDEL_SHARE))
    starts, lengths = _homopolymer_runs(codes)
    if starts.size and n_hp:
        for k in rng.choice(starts.size, size=min(n_hp, starts.size), replace=False):
            s0, length = int(starts[k]), int(lengths[k])
            last = s0 + length  # 1-based position of the run's last base
            if rng.random() < 0.5:
                out.append(Edit(chrom, last, last, "", text[last - 1]))
            else:
                out.append(insertion(chrom, last, text[last - 1]))
    sizes = rng.choice(np.arange(1, INDEL_MAX_BP + 1), size=n_indel - n_hp, p=INDEL_LENGTH_WEIGHTS)
    for p0, size in zip(rng.integers(1, n - INDEL_MAX_BP - 1, size=sizes.size), sizes, strict=True):
        p0, size = int(p0), int(size)
        if rng.random() < 0.5:
            out.append(Edit(chrom, p0 + 1, p0 + size, "", text[p0 : p0 + size]))
        else:
            out.append(insertion(chrom, p0 + 1, "".join("ACGT"[b] for b in rng.integers(0, 4, size=size))))
    return out


def _spaced_sites(
    rng: np.random.Generator, codes: np.ndarray, candidates: list[Edit], free: np.ndarray
) -> list[tuple[Edit, tuple[int, str, str]]]:
    """The candidates whose left-normalised span lies in ``free`` sequence without N, each at least
    ``SITE_SPACING`` bp from the previous one kept; in position order."""
    blocked = np.concatenate(([0], np.cumsum(~free | (codes > 3))))
    spans = []
    for edit in candidates:
        if "N" in (edit.ref or "") or "N" in edit.alt:
            continue
        vcf = normalize_vcf(codes, edit)
        lo, hi = vcf[0], max(edit.end, edit.start, vcf[0] + len(vcf[1]) - 1)
        spans.append((lo, hi, edit, vcf))
    spans.sort(key=lambda t: (t[0], t[1]))
    out, last_hi = [], -SITE_SPACING
    for lo, hi, edit, vcf in spans:
        if lo - last_hi < SITE_SPACING or blocked[hi] - blocked[max(0, lo - 1)] > 0 or edit.start < 2:
            continue
        out.append((edit, vcf))
        last_hi = hi
    return out


def make_population(
    reference: Mapping[str, np.ndarray], resources_dir: str | Path, seed: int, contigs: Sequence[str] | None = None
) -> Population:
    """The population of common sites of a reference (codes as :func:`.reference.load_reference` gives them):
    every contig of the build (``build.json``; not the decoy), then the sex chromosomes the reference has, unless
    ``contigs`` is given. Deterministic from ``seed`` (own random stream; the sex chromosomes' sites are drawn
    last, so the other contigs' are the same as without them)."""
    resources_dir = Path(resources_dir)
    rng = np.random.default_rng(_seed_for(seed, "background"))
    if contigs is None:
        contigs = [c for c in read_build(resources_dir).contigs if c in reference]
        contigs += [c for c in SEX_CONTIGS if c in reference]
    names = list(contigs)
    vntr = vntr_locus(resources_dir)
    vntr = vntr if vntr.chrom in reference else None
    free = _free_mask(resources_dir, {c: reference[c].size for c in names}, vntr)
    sites = []
    for chrom in names:
        codes = reference[chrom]
        for edit, vcf in _spaced_sites(rng, codes, _candidates(rng, chrom, codes), free[chrom]):
            maf = rng.uniform(*MAF_RANGE)
            af = 1 - maf if rng.random() < ALT_MAJOR_SHARE else maf
            sites.append(Site(edit, round(float(af), 4), vcf))
    return Population(tuple(sites), vntr, reference)


def edits_from_truth(sample_truth: Mapping, reference: Mapping[str, np.ndarray]) -> list[list[Edit]]:
    """A sample's whole haplotypes from its ``truth.json`` entry: the planted edits (``haplotypes``), the VNTR
    alleles (``vntr``) and the background sites carried (``background``), as :func:`.edits.apply_edits` takes
    them, with the sex chromosomes a haplotype lacks (``sex``) as whole-contig deletions. Reference bases are not
    checked (the truth does not record them for planted edits)."""
    haps = [
        [Edit(e["chrom"], e["start"], e["end"], e["alt"], None, e.get("hgvs_c")) for e in hap]
        for hap in sample_truth["haplotypes"]
    ]
    if sample_truth.get("sex"):
        x, y = ([c] if c in reference else [] for c in SEX_CONTIGS)
        for h, lacks in enumerate((x, y) if sample_truth["sex"] == "male" else (y, y)):
            haps[h] += [deletion(c, 1, reference[c].size) for c in lacks]
    for row in sample_truth.get("background", []):
        chrom, pos, ref, alt, gt = row.rsplit(":", 4)
        pos = int(pos)
        if len(ref) == len(alt):
            edit = snv(chrom, pos, alt, ref)
        elif len(ref) > len(alt):
            edit = Edit(chrom, pos + 1, pos + len(ref) - 1, "")
        else:
            edit = insertion(chrom, pos, alt[1:])
        for h, allele in enumerate(gt.split("|")):
            if allele == "1":
                haps[h].append(edit)
    vntr = sample_truth.get("vntr")
    if vntr:
        locus = Vntr(vntr["chrom"], vntr["start"], vntr["end"], vntr["unit"], vntr["copies"])
        for h, copies in enumerate(vntr["alleles"]):
            edit = None if copies is None else locus.edit(copies, reference)
            if edit is not None:
                haps[h].append(edit)
    return haps


#: Sample-check sites of the synthetic build: the population's common SNVs (both alleles at >= 5 %).
CHECK_SITE_MAF = 0.05


def write_check_sites(path: Path, sites: Sequence[Site]) -> int:
    """The SYNTH build's sample-check site list (the layout of ``resources/<build>/sample_sites.tsv.gz``): the
    population's common biallelic SNVs, ``kind`` A (autosomal) or X / Y on the sex chromosomes; the test cohort's
    config points ``sample_checks.sites`` here."""
    import gzip

    rows = [s for s in sites if s.kind == "snv" and CHECK_SITE_MAF <= s.af <= 1 - CHECK_SITE_MAF]
    rows.sort(key=lambda s: (s.edit.chrom, s.vcf[0]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        lines = ["#chrom\tpos\tref\talt\trsid\tkind\texonic\n"]
        for i, s in enumerate(rows):
            pos, ref, alt = s.vcf
            kind = s.edit.chrom[-1] if s.edit.chrom in SEX_CONTIGS else "A"  # chrX -> X, chrY -> Y
            lines.append(f"{s.edit.chrom}\t{pos}\t{ref}\t{alt}\tsynth{i}\t{kind}\t0\n")
        raw.write("".join(lines).encode())
    return len(rows)
