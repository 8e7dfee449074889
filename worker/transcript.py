"""Turn downloaded bytes into clean transcript text (splitting it into turns is `worker.engines.text`).

Decoding: UTF-8 (a BOM is dropped), then UTF-16/32 when a BOM says so, then cp1252/Latin-1 for the
legacy exports that meeting tools still produce. Mostly-valid UTF-8 stays UTF-8: a body cut
mid-character, or with a few bad bytes among many valid multi-byte characters, is decoded with
U+FFFD replacement characters (counted in `Decoded.replacements`, reported in the metadata); the
share of invalid sequences among non-ASCII ones decides, so a real cp1252 file (whose accented
letters are all invalid UTF-8) still decodes as cp1252. A body with NUL bytes and no UTF-16 BOM is binary
and refused, as is a body with no letters at all. Line endings become `\n`. Nothing here knows
about tokens or models.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from worker.errors import TranscriptError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LETTER = re.compile(r"[^\W\d_]")
# At most this share of the non-ASCII sequences may be invalid for a body to count as UTF-8.
_MAX_INVALID_SHARE = 0.05
_REPLACEMENT = "\ufffd"
# What `str.rstrip()` takes off each line: whitespace other than the newline itself.
_TRAILING_SPACE = re.compile(r"[^\S\n]+(?=\n|\Z)")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    # Invalid UTF-8 sequences replaced by U+FFFD (mostly-valid UTF-8 only).
    replacements: int = 0


def decode(data: bytes) -> Decoded:
    """Decode transcript bytes; raise TranscriptError for empty or binary content."""
    if not data.strip():
        raise TranscriptError("transcript is empty")
    encoding = _detect(data)
    replacements = 0
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        damaged = _mostly_utf8(data) if encoding == "utf-8" else None
        if damaged is None:  # a lying BOM
            raise TranscriptError(f"transcript is not valid {encoding}: {exc.reason}") from exc
        text, replacements = damaged
    text = normalise(text)
    if "\x00" in text or _control_share(text) > 0.05:
        raise TranscriptError("transcript looks binary, not text (control characters)")
    if not _LETTER.search(text):
        raise TranscriptError("transcript has no words (whitespace, digits or punctuation only)")
    return Decoded(text=text, encoding=encoding.removesuffix("-sig"), replacements=replacements)


def _detect(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data:
        raise TranscriptError("transcript looks binary, not text (NUL bytes and no UTF-16 BOM)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if _mostly_utf8(data) is not None:
            return "utf-8"
        # Not UTF-8: cp1252 covers Windows exports; Latin-1 decodes any byte sequence.
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8"


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """(text, invalid sequences replaced) when `data` is UTF-8 with a little damage, else None."""
    text = data.decode("utf-8", "replace")
    invalid = text.count(_REPLACEMENT) - data.count(_REPLACEMENT.encode("utf-8"))
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - invalid
    if non_ascii <= 0:
        return None  # nothing valid beyond ASCII: a legacy 8-bit file
    # Cut mid-character at the very end (a truncated export) and valid everywhere else.
    cut_at_end = invalid == 1 and _valid_prefix(data)
    if cut_at_end or invalid <= _MAX_INVALID_SHARE * non_ascii:
        return text, invalid
    return None


def _valid_prefix(data: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _control_share(text: str) -> float:
    sample = text[:100_000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    return controls / max(len(sample), 1)


def normalise(text: str) -> str:
    """Unify line endings and Unicode form, drop trailing spaces and runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    # Trailing whitespace of every line in one pass: a list of 9M lines would cost ~10× the text.
    text = _TRAILING_SPACE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
