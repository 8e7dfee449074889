"""Turn downloaded bytes into clean transcript text (splitting it into turns is `worker.meeting.turns`).

Decoding: UTF-8 (a BOM is dropped), then UTF-16/32 when a BOM says so or, without one, when the
NUL bytes fall where UTF-16/32 puts them (every other byte of mostly-ASCII text), then the legacy
code page a detector finds (`worker.meeting.codepages`: Windows-1251, ISO-8859-2, GBK, Shift-JIS,
…, Windows-1252 for Western exports), reported as a guess with its confidence. Mostly-valid text
stays in its encoding: a body cut mid-character (even when that character is its only non-ASCII
one), or with a few bad bytes among many valid multi-byte characters, is decoded with U+FFFD
replacement characters (counted in `Decoded.replacements`, reported in the metadata); UTF-8 with a
few Windows-1252 bytes pasted among ASCII (curly quotes) reads those bytes as that code page's
characters. For UTF-8 the share of invalid sequences among non-ASCII ones decides, so a real
cp1252 file (whose accented letters are all invalid UTF-8) still decodes as cp1252. A body with
NUL bytes in no UTF-16/32 pattern is binary and refused, as is a body with no letters at all; one
that is only whitespace (or a BOM) is empty.
Every line or paragraph boundary `str.splitlines` knows (CR, CRLF, VT, FF, the file, group and
record separators, NEL, U+2028, U+2029) becomes `\n`: the body is split on `\n` alone, and so is
every summary read back, so no other separator can start a line one reader sees and another does
not. Nothing here knows about tokens or models.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from worker.errors import TranscriptError
from worker.meeting.codepages import guess, utf8_with_pasted_bytes

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
_LEGACY = "legacy"  # `_detect`'s answer for bytes in no Unicode encoding
# Every line boundary of `str.splitlines` but "\n" itself (CRLF first: one break, not two).
_BREAKS = re.compile("\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# What `str.rstrip()` takes off each line: whitespace other than the newline itself.
_TRAILING_SPACE = re.compile(r"[^\S\n]+(?=\n|\Z)")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    # Invalid sequences replaced by U+FFFD.
    replacements: int = 0
    # The encoding is a detector's guess (a legacy code page, or UTF-8 with pasted-in bytes).
    guessed: bool = False
    # The detector's confidence (0-1) in a legacy code page.
    confidence: float | None = None
    # Bytes read as Windows-1252 inside UTF-8 text.
    pasted: int = 0


def decode(data: bytes) -> Decoded:
    """Decode transcript bytes; raise TranscriptError for empty or binary content."""
    if not data.strip():
        raise TranscriptError("transcript is empty")
    encoding = _detect(data)
    replacements = pasted = 0
    confidence = None
    if encoding == _LEGACY:
        text, encoding, confidence, replacements = guess(data)
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            damaged = _mostly_valid(data, encoding)
            if damaged is None:  # a lying BOM, or more damage than text
                raise TranscriptError(f"transcript is not valid {encoding}: {exc.reason}") from exc
            text, replacements, pasted = damaged
    text = normalise(text)
    if not text:
        raise TranscriptError("transcript is empty (whitespace only)")
    if "\x00" in text or _control_share(text) > 0.05:
        raise TranscriptError("transcript looks binary, not text (control characters)")
    if not _LETTER.search(text):
        raise TranscriptError("transcript has no words (whitespace, digits or punctuation only)")
    return Decoded(
        text=text,
        encoding=encoding.removesuffix("-sig"),
        replacements=replacements,
        guessed=confidence is not None or pasted > 0,
        confidence=confidence,
        pasted=pasted,
    )


def _detect(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data:
        wide = _wide_without_bom(data)
        if wide is None:
            raise TranscriptError("transcript looks binary, not text (NUL bytes and no UTF-16 BOM)")
        return wide
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if _mostly_valid(data, "utf-8") is not None:
            return "utf-8"
        return _LEGACY  # a code page: the detector tells which
    return "utf-8"


def _wide_without_bom(data: bytes) -> str | None:
    """UTF-16/32 without a BOM, told by where its NUL bytes fall: in mostly-ASCII text every
    character has a NUL in the same places of its code unit (the high bytes), and never elsewhere;
    in CJK text only some (newlines, spaces) do, so there the whole body must also decode, and must
    not be 8-bit text with a few stray NULs (which is valid UTF-8 once they are taken out)."""
    sample = data[:65_536]
    for width, name in ((4, "utf-32"), (2, "utf-16")):
        units = len(sample) // width
        if units == 0:
            continue
        nuls = [sample[i::width][:units].count(0) / units for i in range(width)]
        for order, low in (("le", 0), ("be", width - 1)):
            high = [n for i, n in enumerate(nuls) if i != low]
            encoding = f"{name}-{order}"
            if nuls[low] <= 0.02 and min(high) >= 0.3:
                return encoding
            stray = _decodes(data.replace(b"\x00", b""), "utf-8")
            if nuls[low] == 0 and min(high) > 0 and not stray and _decodes(data, encoding):
                return encoding
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_valid(data: bytes, encoding: str) -> tuple[str, int, int] | None:
    """(text, invalid sequences replaced, bytes read as Windows-1252) when `data` is `encoding` with
    a little damage or a few pasted-in bytes, else None."""
    text = data.decode(encoding, "replace")
    genuine = text.count(_REPLACEMENT) if encoding in ("utf-8", "utf-8-sig") else 0
    if genuine:  # U+FFFD written as such in the file is not damage
        genuine = data.count(_REPLACEMENT.encode("utf-8"))
    invalid = text.count(_REPLACEMENT) - genuine
    # Cut mid-character at the very end (a truncated export) and valid everywhere else.
    if invalid == 1 and _valid_prefix(data, encoding):
        return text, invalid, 0
    if not encoding.startswith("utf-8"):  # UTF-16/32: a few bad code units among many
        return (text, invalid, 0) if invalid <= _MAX_INVALID_SHARE * len(text) else None
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - invalid
    if non_ascii <= 0:
        return None  # nothing valid beyond ASCII: a legacy 8-bit file
    del text
    mixed, replaced, pasted = utf8_with_pasted_bytes(data)
    # A little damage, or only short runs of pasted-in bytes among ASCII (however many).
    if invalid <= _MAX_INVALID_SHARE * non_ascii or (replaced == 0 and pasted):
        return mixed, replaced, pasted
    return None


def _valid_prefix(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _control_share(text: str) -> float:
    sample = text[:100_000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    return controls / max(len(sample), 1)


def unify_breaks(text: str) -> str:
    """Every line or paragraph separator as `\n` (what `str.splitlines` splits on, `\n` alone)."""
    return _BREAKS.sub("\n", text)


def normalise(text: str) -> str:
    """Unify line breaks and Unicode form, drop trailing spaces and runs of blank lines."""
    text = unify_breaks(text).replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    # Trailing whitespace of every line in one pass: a list of 9M lines would cost ~10× the text.
    text = _TRAILING_SPACE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
