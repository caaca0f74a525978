"""QR codes (model 2) as module matrices, the data mask chosen with numpy.

segno encodes; choosing the data mask is most of its time (it scores all eight masks in pure
Python, about 12 ms of a 15 ms QR code). `qr_rows` asks segno for the symbol with mask 0,
takes the mask off the encoding region, scores the eight masks with the same penalty rules as
segno (ISO/IEC 18004:2015 7.8.3: N1 runs, N2 blocks, N3 finder-like patterns, N4 balance, on
the symbol before format information is written) and writes the format information of the
best. The result is the symbol segno would make (tests/oms/test_canvas.py compares them).
This relies on segno's encoder module (make_matrix, add_finder_patterns, add_alignment_patterns,
add_format_info, mask_scores), pinned in requirements.lock.
"""

from __future__ import annotations

import functools
from itertools import chain, zip_longest

import numpy as np
import segno
from segno import encoder

_N3 = bytes((1, 0, 1, 1, 1, 0, 1))
_ERRORS = {"L": segno.consts.ERROR_LEVEL_L, "M": segno.consts.ERROR_LEVEL_M, "Q": segno.consts.ERROR_LEVEL_Q}
_ERRORS["H"] = segno.consts.ERROR_LEVEL_H


@functools.cache
def _regions(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(encoding region, reserved format/version/dark module region, the 8 mask patterns) of a symbol."""
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1
    bare = encoder.make_matrix(size, size, reserve_regions=False)
    encoder.add_finder_patterns(bare, size, size)
    encoder.add_alignment_patterns(bare, size, size)
    function_a = np.array([list(r) for r in function], dtype=np.uint8)
    bare_a = np.array([list(r) for r in bare], dtype=np.uint8)
    region = function_a > 1
    reserved = (function_a <= 1) & (bare_a > 1)
    i, j = np.indices((size, size))
    patterns = np.array(
        [
            (i + j) % 2 == 0,
            i % 2 == 0,
            j % 3 == 0,
            (i + j) % 3 == 0,
            (i // 2 + j // 3) % 2 == 0,
            (i * j) % 2 + (i * j) % 3 == 0,
            ((i * j) % 2 + (i * j) % 3) % 2 == 0,
            ((i + j) % 2 + (i * j) % 3) % 2 == 0,
        ]
    )
    return region, reserved, (patterns & region).astype(np.uint8)


def _n1(lines: np.ndarray) -> np.ndarray:
    """Per mask: runs of 5 or more same-colour modules along the last axis, each len - 2 points.
    `lines` has shape (masks, lines, size)."""
    masks, count, size = lines.shape
    flat = lines.reshape(masks * count, size).astype(np.int8)
    padded = np.full((masks * count, size + 2), 2, dtype=np.int8)
    padded[:, 1:-1] = flat
    edges = np.flatnonzero(np.diff(padded.ravel()) != 0)  # run boundaries, rows separated by the 2s
    lengths = np.diff(edges)
    starts = edges[:-1] + 1
    row_of_run = starts // (size + 2)
    position = starts % (size + 2)
    valid = (position >= 1) & (position <= size)  # a run inside a row, not a separator
    points = np.where(valid & (lengths >= 5), lengths - 2, 0)
    return np.bincount(row_of_run // count, weights=points, minlength=masks)


def _n3(line: bytes, size: int) -> int:
    """segno's N3 count on one row or column (the same search, skips included)."""
    count = 0
    idx = line.find(_N3)
    while idx != -1:
        offset = idx + 7
        if (
            idx in (0, size - 7)
            or not any(line[max(idx - 4, 0) : idx])
            or not any(line[offset : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = idx + 4
        idx = line.find(_N3, offset)
    return count


def _n3_lines(lines: np.ndarray) -> np.ndarray:
    """Per mask: 40 points for each 1:1:3:1:1 pattern with 4 light modules before or after it along
    the last axis (outside the symbol counts as light). segno's search skips a match that starts 4
    or 6 modules after a counted one; lines where that happens are scored by `_n3` itself."""
    masks, count, size = lines.shape
    padded = np.zeros((masks, count, size + 8), dtype=np.int32)
    padded[..., 4:-4] = lines
    n = size - 6  # possible starts; padded index p = start + 4
    code = np.zeros((masks, count, n), dtype=np.int32)
    for i in range(7):
        code = (code << 1) | padded[..., 4 + i : 4 + i + n]
    match = code == 0b1011101
    run = np.zeros((masks, count, size + 8 + 1), dtype=np.int32)
    run[..., 1:] = padded.cumsum(axis=-1)
    before = (run[..., 4 : 4 + n] - run[..., 0:n]) == 0
    after = (run[..., 15 : 15 + n] - run[..., 11 : 11 + n]) == 0
    counted = match & (before | after)
    points = 40 * counted.sum(axis=-1)  # (masks, lines)
    skipped = np.zeros_like(match)
    for gap in (4, 6):
        skipped[..., gap:] |= counted[..., :-gap] & match[..., gap:]
    for k, line in zip(*np.nonzero(skipped.any(axis=-1)), strict=True):
        points[k, line] = _n3(lines[k, line].tobytes(), size)
    return points.sum(axis=-1)


def mask_penalties(symbols: np.ndarray) -> np.ndarray:
    """Penalty score of each of the (masks, size, size) candidate symbols."""
    size = symbols.shape[1]
    columns = np.ascontiguousarray(symbols.transpose(0, 2, 1))
    n1 = _n1(symbols) + _n1(columns)
    a = symbols
    blocks = (a[:, :-1, :-1] == a[:, 1:, :-1]) & (a[:, :-1, :-1] == a[:, :-1, 1:]) & (a[:, :-1, :-1] == a[:, 1:, 1:])
    n2 = 3 * blocks.sum(axis=(1, 2))
    n3 = _n3_lines(symbols) + _n3_lines(columns)
    dark = a.sum(axis=(1, 2)) / (size * size)
    n4 = 10 * np.floor(np.abs(dark * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


@functools.cache
def _placement(version: int) -> np.ndarray:
    """Flat indices of the encoding region in codeword bit order (segno's add_codewords, run once
    per version with numbered bits instead of the message)."""
    size = encoder.calc_matrix_size(version)
    region, _, _ = _regions(size)
    rows = [[2 if region[i, j] else 0 for j in range(size)] for i in range(size)]
    total = int(region.sum())
    encoder.add_codewords(rows, list(range(1000, 1000 + total)), version)
    order = np.zeros(total, dtype=np.intp)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v >= 1000:
                order[v - 1000] = i * size + j
    return order


@functools.cache
def _function_modules(size: int) -> np.ndarray:
    """Finder, separator, timing and alignment patterns; 0 elsewhere (reserved areas included)."""
    matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(matrix, size, size)
    encoder.add_alignment_patterns(matrix, size, size)
    return np.array([[v if v <= 1 else 0 for v in row] for row in matrix], dtype=np.uint8)


_REMAINDER_BITS = {v: 7 for v in range(2, 7)} | {v: 3 for v in (*range(14, 21), *range(28, 35))}
_REMAINDER_BITS |= {v: 4 for v in range(21, 28)}


def _final_message(version: int, level: int, buff) -> np.ndarray:
    """segno's make_final_message for QR (not micro) codes: data blocks and error correction
    blocks interleaved, as bits, remainder bits appended."""
    data_blocks, error_blocks = encoder.make_blocks(segno.consts.ECC[version][level], buff)
    codewords = bytearray()
    for blocks in (data_blocks, error_blocks):
        codewords += bytes(x for x in chain.from_iterable(zip_longest(*blocks)) if x is not None)
    bits = np.unpackbits(np.frombuffer(bytes(codewords), dtype=np.uint8))
    return np.concatenate([bits, np.zeros(_REMAINDER_BITS.get(version, 0), dtype=np.uint8)])


def qr_symbol(value: str, *, error: str = "m") -> tuple[np.ndarray, int]:
    """(the QR code of `value` as a 0/1 matrix without quiet zone, the chosen mask).

    The steps of segno's encoder._encode (byte mode and version as segno picks them, no error
    boost), with the codeword placement and the mask choice done on numpy arrays."""
    level = _ERRORS[error.upper()]
    segments = encoder.prepare_data(value, None, None)
    version = encoder.find_version(segments, level, eci=False, micro=False)
    buff = encoder.Buffer()
    for segment in segments:
        encoder.write_segment(buff, segment, None, encoder.version_range(version), False)
    capacity = segno.consts.SYMBOL_CAPACITY[version][level]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    bits = _final_message(version, level, buff)
    size = encoder.calc_matrix_size(version)
    region, _, patterns = _regions(size)
    data = np.zeros(size * size, dtype=np.uint8)
    data[_placement(version)] = bits
    data = data.reshape(size, size)
    candidates = (_function_modules(size) | data)[None, :, :] ^ patterns
    best = int(np.argmin(mask_penalties(candidates)))  # the first of equal scores, as segno
    rows = tuple(bytearray(row.tobytes()) for row in candidates[best])
    encoder.add_format_info(rows, version, level, best)
    encoder.add_version_info(rows, version)
    return np.array([list(r) for r in rows], dtype=np.uint8), best


def qr_rows(value: str, *, error: str = "m", border: int = 2) -> np.ndarray:
    """The symbol as a 0/1 (1 = dark) array with `border` light modules around."""
    symbol, _ = qr_symbol(value, error=error)
    size = symbol.shape[0]
    out = np.zeros((size + 2 * border, size + 2 * border), dtype=np.uint8)
    out[border : border + size, border : border + size] = symbol
    return out
