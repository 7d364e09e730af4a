"""Base codes, seeds and the sequence helpers the simulator shares with production.

Sequences are numpy arrays of base codes (0-3 = ACGT, 4 = N). :func:`revcomp` is production's
:func:`dira_genotyper.annotation.transcript.reverse_complement` and :func:`translate` production's
:func:`dira_genotyper.annotation.hgvs.translate` (read through stops, as the simulator's checks need).
"""

from __future__ import annotations

import zlib

import numpy as np

from dira_genotyper.annotation.hgvs import translate as _translate
from dira_genotyper.annotation.transcript import reverse_complement

DEFAULT_SEED = 20261125

_BASES = np.frombuffer(b"ACGTN", dtype=np.uint8)
_ENCODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _ENCODE[_b] = _i
    _ENCODE[_b + 32] = _i  # lower case
_COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)

revcomp = reverse_complement


def translate(seq: str) -> str:
    """Translate a coding sequence (standard code; ``*`` for stops, translation continuing past them)."""
    return _translate(seq, to_stop=False)


def _seed_for(seed: int, *labels: str) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed)] + [zlib.crc32(label.encode()) for label in labels])
