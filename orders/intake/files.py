"""Reading uploaded and dropped files: encodings that Chinese Excel writes, streaming, and
cells that a spreadsheet would execute."""

import io
from pathlib import Path

from oms.encoding import detect_encoding
from oms.exports import escape_formula  # noqa: F401 - re-exported for importers

SAMPLE_BYTES = 256 * 1024


class FileUnusable(Exception):
    """The file as a whole cannot be used (empty, unreadable, wrong columns)."""


def open_text(path: Path) -> tuple[io.TextIOWrapper, str]:
    """Open a file as text in its detected encoding (oms/encoding.py, the whole file is looked at).
    An undecodable byte becomes a lone surrogate, which the row readers report as that row's error."""
    if not path.exists():
        raise FileUnusable(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise FileUnusable(f"{path.name}: the file is empty.")
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip(b" \r\n\t\xef\xbb\xbf"):
        raise FileUnusable(f"{path.name}: the file is empty.")
    encoding = detect_encoding(path)
    return open(path, encoding=encoding, errors="surrogateescape", newline=""), encoding  # noqa: SIM115
