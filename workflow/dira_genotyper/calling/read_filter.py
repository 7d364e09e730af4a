"""The one read filter shared by the callable step, the caller (bcftools mpileup) and indel realignment.

"Callable" must mean that the caller could have seen the base: the callable step counts exactly the reads
``bcftools mpileup`` keeps. mpileup skips

* reads with any of its skip flags set (default UNMAP, SECONDARY, QCFAIL, DUP; ``--skip-any-set``),
* reads with MAPQ below ``-q``,
* paired reads without the proper-pair flag ("orphans", anomalous pairs) unless ``-A`` (``count_orphans``),

and, within a kept read, bases with (BAQ-adjusted) quality below ``-Q``; at most ``-d`` reads per position are
looked at (bcftools' default of 250 would cap panel and exome depth: ``max_depth``, default 10,000, is passed to
mpileup and to the callable step's pileup alike). Amplicon panels keep duplicates (``FDUP`` left out of the skip
flags, :meth:`ReadFilter.for_calling`): every read of an amplicon starts at the same base, so duplicate marking
would remove nearly all of them. :meth:`ReadFilter.passes` is the
alignment-level part, :meth:`ReadFilter.base_passes` the base-level part and :meth:`ReadFilter.mpileup_args`
the matching mpileup options.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pysam

FUNMAP, FSECONDARY, FQCFAIL, FDUP, FSUPPLEMENTARY = 0x4, 0x100, 0x200, 0x400, 0x800
MPILEUP_SKIP_FLAGS = FUNMAP | FSECONDARY | FQCFAIL | FDUP  # bcftools mpileup --skip-any-set default (0x704)


@dataclass(frozen=True)
class ReadFilter:
    """Which reads and bases count, for the callable step and for the caller alike."""

    min_mapq: int = 20
    min_baseq: int = 20
    skip_flags: int = MPILEUP_SKIP_FLAGS
    count_orphans: bool = False
    max_depth: int = 10000

    @classmethod
    def for_calling(
        cls, min_mapq: int = 20, min_baseq: int = 20, max_depth: int = 10000, remove_duplicates: bool = True
    ) -> ReadFilter:
        """The filter of config ``calling``: duplicates skipped unless ``remove_duplicates`` is false (amplicons)."""
        flags = MPILEUP_SKIP_FLAGS if remove_duplicates else MPILEUP_SKIP_FLAGS & ~FDUP
        return cls(min_mapq=min_mapq, min_baseq=min_baseq, skip_flags=flags, max_depth=max_depth)

    def passes(self, read: pysam.AlignedSegment) -> bool:
        """Alignment-level filter: mapped, no skip flag, MAPQ >= min_mapq, and a proper pair when paired
        (unless ``count_orphans``)."""
        if read.is_unmapped or read.flag & self.skip_flags or read.mapping_quality < self.min_mapq:
            return False
        return self.count_orphans or not read.is_paired or read.is_proper_pair

    def base_passes(self, quality: int) -> bool:
        return quality >= self.min_baseq

    def mpileup_args(self) -> list[str]:
        """The bcftools mpileup options that apply this filter."""
        args = ["-q", str(self.min_mapq), "-Q", str(self.min_baseq), "--skip-any-set", str(self.skip_flags)]
        args += ["-d", str(self.max_depth)]
        return args + (["-A"] if self.count_orphans else [])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def coerce(cls, value: ReadFilter | int) -> ReadFilter:
        """A ReadFilter, or (for callers that pass a minimum MAPQ) the default filter with that MAPQ."""
        return value if isinstance(value, ReadFilter) else cls(min_mapq=int(value))
