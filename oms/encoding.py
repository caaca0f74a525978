"""The one encoding detector for every file the OMS reads (order files, the generic imports, drop
folders).

A file is read as UTF-8 (with or without a byte-order mark), as UTF-16 when it starts with a UTF-16
byte-order mark, or as GB18030 (a superset of GBK, what Chinese Excel writes). An encoding other
than UTF-8 is chosen only when the WHOLE file decodes cleanly in it and reads like Chinese text;
otherwise the file stays UTF-8 and the rows holding undecodable bytes are flagged by the reader
(``errors="surrogateescape"`` turns each such byte into a lone surrogate, which no valid text
contains: ``has_undecodable`` finds them). One Latin-1 byte in a UTF-8 file therefore spoils its
own row only, never every accented name of the file.
"""

import codecs
import re
from pathlib import Path

CHUNK = 1 << 20
UNDECODABLE = re.compile("[\udc80-\udcff]")
# An encoding is taken for GB18030 only if most of its non-ASCII characters are in GB2312, the
# common set real Chinese text is written in (a stray Latin-1 letter pairs into a rare character).
GB2312_SHARE = 0.8


def _chunks(source: bytes | str | Path):
    if isinstance(source, bytes | bytearray):
        for start in range(0, len(source), CHUNK):
            yield bytes(source[start : start + CHUNK])
        return
    with Path(source).open("rb") as handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


def _head(source: bytes | str | Path) -> bytes:
    return next(_chunks(source), b"")[:4]


def _utf8_counts(source) -> tuple[int, int]:
    """(undecodable bytes, valid non-ASCII characters) when the whole file is read as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    bad = non_ascii = 0
    for chunk in _chunks(source):
        text = decoder.decode(chunk)
        if text.isascii():
            continue
        errors = len(UNDECODABLE.findall(text))
        bad += errors
        non_ascii += len(text) - len(text.encode("ascii", "ignore")) - errors
    text = decoder.decode(b"", final=True)
    bad += len(UNDECODABLE.findall(text))
    return bad, non_ascii


def _reads_as_gb18030(source) -> bool:
    """The whole file decodes as GB18030 without error and looks like Chinese text."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    non_ascii = common = 0
    try:
        for chunk in _chunks(source):
            text = decoder.decode(chunk)
            if text.isascii():
                continue
            ascii_count = len(text.encode("ascii", "ignore"))
            non_ascii += len(text) - ascii_count
            common += (len(text.encode("gb2312", "ignore")) - ascii_count) // 2
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return non_ascii > 0 and common >= GB2312_SHARE * non_ascii


def detect_encoding(source: bytes | str | Path) -> str:
    """The encoding to read ``source`` (the file's bytes or its path) with; see the module doc.

    Open the file with ``errors="surrogateescape"`` and check each row with ``has_undecodable``.
    """
    head = _head(source)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bad, non_ascii = _utf8_counts(source)
    if not bad or non_ascii >= bad:
        return "utf-8"  # clean, or mostly UTF-8 with a few bad bytes: those rows are flagged
    if _reads_as_gb18030(source):
        return "gb18030"
    return "utf-8"


def has_undecodable(text: str) -> bool:
    """True when ``text`` (read with errors="surrogateescape") holds bytes its encoding could not read."""
    return bool(UNDECODABLE.search(text))


def printable(text: str) -> str:
    """``text`` with each undecodable byte shown as U+FFFD, for messages and previews."""
    return UNDECODABLE.sub("\ufffd", text)


def storable(text: str) -> str:
    """Text every database column takes: a NUL or a lone surrogate is shown as U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def storable_json(value):
    """A JSON value (result, headers) with every string made `storable`, keys included."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value
