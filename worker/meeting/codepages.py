"""Bytes that are not Unicode: which legacy code page a transcript is in, and UTF-8 with a few
Windows-1252 bytes pasted in.

A legacy file (Windows-1251 Russian, ISO-8859-2 Polish, Windows-1253 Greek, GBK, Big5,
Shift-JIS, EUC-KR, Windows-1252) is told by `charset-normalizer` (a maintained detector: it
decodes a sample with every plausible code page and keeps the ones whose text is least chaotic)
from its first 256 KB, cut at a line break. Single-byte code pages of one region often decode a
text about as cleanly (ISO-8859-2 Polish also reads as ISO-8859-10 with `ē` for `ł`), so among the
cleanest the one whose letters are one language's alphabet wins, then Windows-1252 (what Windows
exports write), then the detector's order. Its confidence is the detector's (1 − chaos).

UTF-8 with pasted-in Windows-1252 bytes (curly quotes, a dash, `é` typed on an old system) is read
sequence by sequence: a short run of non-ASCII bytes that holds no valid UTF-8 and stands between
ASCII characters is that code page's characters; any other invalid sequence (damage inside
UTF-8 text) is U+FFFD.
"""

from __future__ import annotations

import codecs

from worker.errors import TranscriptError

_SAMPLE_BYTES = 256 * 1024
# A run of pasted legacy bytes is short (a quote, a dash, a letter): longer runs are another code page.
_MAX_RUN = 4
_REPLACEMENT = "\ufffd"
# Candidates this much more chaotic than the cleanest still compete on their alphabet: a short
# French cp1252 line reads as Mac Latin-2 with chaos 0.0 ("cafť") and as cp1252 with 0.044.
_CHAOS_WINDOW = 0.1
# Lower-case letters beyond ASCII of the languages written in single-byte code pages.
_ALPHABETS = (
    "äöüß",  # German
    "àâæçéèêëîïôœùûüÿ",  # French
    "áéíñóúü",  # Spanish
    "àèéìíîòóùú",  # Italian
    "ãáâàçéêíóôõú",  # Portuguese
    "åäöæøéü",  # Nordic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Bosnian, Serbian (Latin), Slovene
    "ăâîșțşţ",  # Romanian
    "çğıöşü",  # Turkish
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äöõüšž",  # Estonian
    "абвгдежзийклмнопрстуфхцчшщъыьэюяё",  # Russian
    "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",  # Ukrainian
    "абвгдежзийклмнопрстуфхцчшщъьюя",  # Bulgarian
    "абвгдђежзијклљмнњопрстћуфхцчџш",  # Serbian (Cyrillic)
    "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",  # Greek
)


def guess(data: bytes) -> tuple[str, str, float, int]:
    """(text, code page, the detector's confidence 0-1, U+FFFD written) for bytes in no Unicode
    encoding; TranscriptError when no code page reads them as text."""
    # The vendor detector, loaded on first use only.
    from charset_normalizer import from_bytes
    from charset_normalizer.constant import IANA_SUPPORTED_SIMILAR
    from charset_normalizer.md import mess_ratio

    sample = data[:_SAMPLE_BYTES]
    if len(data) > _SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]
    matches = list(from_bytes(sample))
    if not matches:
        raise TranscriptError("transcript looks binary, not text (no code page reads it as text)")
    cleanest = min(m.chaos for m in matches)
    # The cleanest, and the code pages the detector skipped as similar to them (it tries one of
    # ISO-8859-2 and Windows-1250, say), each read again and scored the same way.
    names = list(
        dict.fromkeys(
            n for m in matches if m.chaos <= cleanest + _CHAOS_WINDOW for n in m.could_be_from_charset
        )
    )
    for name in list(names):
        names += [n for n in IANA_SUPPORTED_SIMILAR.get(name, []) if n not in names]
    scored = []
    for order, name in enumerate(names):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        chaos = mess_ratio(text, 1.0)
        scored.append(((_alphabet_fit(text), -round(chaos, 2), name == "cp1252", -order), name, chaos))
    _, best, chaos = max(scored)
    name = "cp1252" if best == "cp1252" else codecs.lookup(best).name
    text = data.decode(name, "replace")
    return text, name, round(1.0 - chaos, 3), text.count(_REPLACEMENT) - _genuine(data, name)


def _genuine(data: bytes, name: str) -> int:
    return 0 if _REPLACEMENT.encode(name, "ignore") == b"" else data.count(_REPLACEMENT.encode(name))


def _alphabet_fit(text: str) -> float:
    """The share of the non-ASCII letters that one alphabet holds (letters of other scripts, CJK
    among them, fit any); 1.0 without such letters."""
    letters = [c.lower() for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return 1.0
    other = sum(1 for c in letters if ord(c) >= 0x0530)
    held = max(sum(1 for c in letters if c in alphabet) for alphabet in _ALPHABETS)
    return (other + held) / len(letters)


def utf8_with_pasted_bytes(data: bytes) -> tuple[str, int, int]:
    """(text, invalid sequences written as U+FFFD, bytes read as Windows-1252): UTF-8 decoded
    sequence by sequence, each invalid run among ASCII read as Windows-1252."""
    view = memoryview(data)
    parts: list[str] = []
    position = replaced = pasted = 0
    while position < len(data):
        try:
            parts.append(codecs.utf_8_decode(view[position:], "strict", True)[0])
            break
        except UnicodeDecodeError as exc:
            start, end = position + exc.start, position + exc.end
        parts.append(codecs.utf_8_decode(view[position:start], "strict", True)[0])
        run_end = start
        while run_end < len(data) and data[run_end] >= 0x80 and run_end - start <= _MAX_RUN:
            run_end += 1
        run = data[start:run_end]
        # Between ASCII characters (not at either end of the file): "said \x93yes\x94", "na\xefve", " \x96 ".
        around = data[start - 1 : start] + data[run_end : run_end + 1] if start else b""
        if (
            len(around) == 2
            and around.isascii()
            and len(run) <= _MAX_RUN
            and run.decode("utf-8", "replace").count(_REPLACEMENT) == len(run)
        ):
            legacy = run.decode("cp1252", "replace")
            parts.append(legacy)
            replaced += legacy.count(_REPLACEMENT)
            pasted += len(run)
            position = run_end
        else:
            parts.append(_REPLACEMENT)
            replaced += 1
            position = end
    return "".join(parts), replaced, pasted
