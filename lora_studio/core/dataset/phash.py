"""Core/dataset: perceptual hashes and near-duplicate groups (Pillow + numpy, no extra package).

Why not ImageHash: it pulls SciPy and PyWavelets (~100 MB) for the one function we need. The
pHash here follows ImageHash's `phash` exactly: greyscale, resize to 32×32 (LANCZOS), 2-D DCT-II,
keep the 8×8 lowest frequencies, one bit per coefficient above their median — 64 bits. Resized,
recompressed or slightly edited copies differ in a handful of bits; unrelated pictures in ~32.

`group_near_duplicates` compares every pair with XOR + popcount on a uint64 array (one vectorised
row per picture: ≈0.2 s for 10,000 pictures) and joins pairs within `max_distance` into groups
(union–find), so A≈B and B≈C end up in one group to review together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

HASH_SIZE = 8
_SAMPLE = HASH_SIZE * 4  # ImageHash's highfreq_factor = 4
DEFAULT_MAX_DISTANCE = 6  # bits of 64; ImageHash users commonly pick 4–8 for "same picture"


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    return np.cos(np.pi * (2 * x + 1) * k / (2 * n))


_DCT = _dct_matrix(_SAMPLE)


def phash(image: Image.Image) -> int:
    """64-bit perceptual hash of a (decoded, any mode) picture."""
    grey = image.convert("L").resize((_SAMPLE, _SAMPLE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    # Unnormalised DCT-II along both axes; scale factors do not change the median comparison.
    coefficients = _DCT @ pixels @ _DCT.T
    low = coefficients[:HASH_SIZE, :HASH_SIZE]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def group_near_duplicates(
    hashes: Sequence[int], max_distance: int = DEFAULT_MAX_DISTANCE
) -> list[list[int]]:
    """Indices of `hashes` grouped by near-equality; only groups of two or more, in index order."""
    count = len(hashes)
    if count < 2:
        return []
    values = np.array(hashes, dtype=np.uint64)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(count - 1):
        distances = np.bitwise_count(values[i + 1 :] ^ values[i])
        for offset in np.nonzero(distances <= max_distance)[0]:
            a, b = find(i), find(i + 1 + int(offset))
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(find(i), []).append(i)
    return [members for members in groups.values() if len(members) > 1]
