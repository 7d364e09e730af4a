"""Copy number of the IL-1 cluster from read depth: bins, GC correction, an HMM over CN 0-4, breakpoints.

DIRA is caused by loss of both IL1RN copies, often through a ~175 kb founder deletion of the cluster. The
caller counts depth in bins over the extraction window (IL1RN and every cluster exon in a bin of its own),
normalises it against control regions of the same sample (WGS) or against other samples of the run
(exome/panel: per capture target, see ``reference``), and decides the copy number of every bin with a hidden
Markov model whose posterior gives each gene, exon and deletion a Phred-scaled quality. Weak evidence is a
no-call with a reason, never a 2: a two-copy call must rule out a deletion of >= 1 kb with the sample's own
depth and, given the BAM, with the junction reads such a deletion would leave (split/clipped reads,
long-insert pairs).

Coordinates: BED files and pysam are 0-based half-open; every TSV, JSON and VCF written here is 1-based
inclusive (as are genes.tsv and exons.tsv).

Package map (each module owns one concern; this module re-exports the names callers use, so
``from dira_genotyper import cnv`` and ``cnv.call_copy_number`` etc. keep working):

- ``resources``: the caller's view of a build's resources (windows, controls, targets, genes, exons, mask)
- ``params``: ``CnvParams`` (every threshold) and the Phred scale
- ``bins``: bin layout, depth counting from a BAM/CRAM, mask fractions and the per-bin mask
- ``normalise``: GC loess, single-sample and cohort normalisation, targeted-data detection
- ``hmm``: emissions and the copy-number HMM
- ``evidence``: the two-copy test (``evidence_against_loss``) and the junction-read likelihood
- ``result``: ``Segment``, ``Deletion``, ``CnvResult``
- ``segments``: the calls (segments, exons, genes, deletions) and their two-copy finalisation
- ``reads``: read evidence given the BAM (breakpoints, junction-found deletions, reconciliation)
- ``io``: TSV, bedGraph, VCF and JSON writers and the counts reader
- ``targets``: capture data: the design's targets, counts and capture QC per target, capture detection
- ``reference``: targeted copy number against the run's other samples (reference choice, ratios, calls)
- ``exon_test``: per-exon copy number of IL1RN and IL36RN on capture data; one allele never split
- ``targeted_cli``: the targeted parts of ``cnv-count``, ``cnv-mode``, ``cnv-call``
- ``cli``: ``cnv-count``, ``cnv-mode``, ``cnv-call``
"""

from __future__ import annotations

from dira_genotyper.cnv.bins import (
    BIN_COLUMNS,
    COUNT_COLUMNS,
    OPTIONAL_BIN_COLUMNS,
    OPTIONAL_COUNT_COLUMNS,
    bin_layout,
    bin_mask,
    count_bins,
)
from dira_genotyper.cnv.cli import needs_cohort, register_cli, run_cnv_call
from dira_genotyper.cnv.evidence import _poisson_cdf as _poisson_cdf
from dira_genotyper.cnv.evidence import _poisson_logcdf as _poisson_logcdf
from dira_genotyper.cnv.evidence import evidence_against_loss, junction_loglik
from dira_genotyper.cnv.hmm import CopyNumberHmm
from dira_genotyper.cnv.io import (
    contigs_from,
    read_counts_tsv,
    write_bins_bedgraph,
    write_bins_tsv,
    write_counts_tsv,
    write_json,
    write_segments_tsv,
    write_segments_vcf,
)
from dira_genotyper.cnv.normalise import looks_targeted
from dira_genotyper.cnv.params import MAX_QUALITY, CnvParams, phred
from dira_genotyper.cnv.reads import (
    add_junction_evidence,
    add_read_evidence,
    apply_refined,
    genotype_deletion,
    refine_breakpoints,
)
from dira_genotyper.cnv.resources import LocusResources, Region, load_resources, mask_fractions, merged_spans
from dira_genotyper.cnv.result import CnvResult, Deletion, Segment
from dira_genotyper.cnv.segments import call_copy_number, copy_number_at

__all__ = [
    "BIN_COLUMNS",
    "COUNT_COLUMNS",
    "CnvParams",
    "CnvResult",
    "CopyNumberHmm",
    "Deletion",
    "LocusResources",
    "MAX_QUALITY",
    "OPTIONAL_BIN_COLUMNS",
    "OPTIONAL_COUNT_COLUMNS",
    "Region",
    "Segment",
    "add_junction_evidence",
    "add_read_evidence",
    "apply_refined",
    "bin_layout",
    "bin_mask",
    "call_copy_number",
    "contigs_from",
    "copy_number_at",
    "count_bins",
    "evidence_against_loss",
    "genotype_deletion",
    "junction_loglik",
    "load_resources",
    "looks_targeted",
    "mask_fractions",
    "merged_spans",
    "needs_cohort",
    "phred",
    "read_counts_tsv",
    "refine_breakpoints",
    "register_cli",
    "run_cnv_call",
    "write_bins_bedgraph",
    "write_bins_tsv",
    "write_counts_tsv",
    "write_json",
    "write_segments_tsv",
    "write_segments_vcf",
]
