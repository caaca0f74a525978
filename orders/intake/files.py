"""Reading uploaded and dropped files: encodings that Chinese Excel writes, streaming, and
cells that a spreadsheet would execute."""

import codecs
import io
from pathlib import Path

from oms.exports import escape_formula  # noqa: F401 - re-exported for importers

SAMPLE_BYTES = 256 * 1024


class FileUnusable(Exception):
    """The file as a whole cannot be used (empty, unreadable, wrong columns)."""


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK) — what Chinese Excel writes.

    A UTF-8 file with a stray bad byte stays UTF-8 (the byte becomes U+FFFD), so a single
    broken byte does not turn every Chinese character into mojibake.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # a character cut by the sample's end
            return "utf-8"
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good_multibyte = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good_multibyte >= 4 * bad:
        return "utf-8"
    try:
        sample.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "utf-8"


def open_text(path: Path) -> tuple[io.TextIOWrapper, str]:
    """Open a file as text in its detected encoding; undecodable bytes become U+FFFD."""
    if not path.exists():
        raise FileUnusable(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise FileUnusable(f"{path.name}: the file is empty.")
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip(b" \r\n\t\xef\xbb\xbf"):
        raise FileUnusable(f"{path.name}: the file is empty.")
    encoding = detect_encoding(sample)
    return open(path, encoding=encoding, errors="replace", newline=""), encoding  # noqa: SIM115
