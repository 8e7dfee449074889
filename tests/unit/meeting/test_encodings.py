"""Legacy encodings (issue 21, class 7): anything not mostly UTF-8 was read as Windows-1252, so
Cyrillic, Central-European, Greek, Chinese and Korean transcripts became mojibake with `ok`, and
Shift-JIS was refused as "binary"; UTF-8 with a few Windows-1252 quote bytes pasted in lost them.

The texts are Article 1 of the Universal Declaration of Human Rights in the United Nations'
published translations (OHCHR, "Universal Declaration of Human Rights — translations",
https://www.ohchr.org/en/human-rights/universal-declaration/translations), encoded here with
Python's codecs in the code page each language's Windows and Unix tools wrote. Each is tried in
several shapes: one short turn, a long meeting of turns, names and English words mixed in, and
the bare text without labels. The metadata says the encoding was a guess and how confident.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import summarise
from worker.meeting import decode, parse_transcript

# language: (the code page its legacy files are in, Article 1)
ARTICLE_1 = {
    "russian": (
        "cp1251",
        "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены "
        "разумом и совестью и должны поступать в отношении друг друга в духе братства.",
    ),
    "polish": (
        "iso-8859-2",
        "Wszyscy ludzie rodzą się wolni i równi pod względem swej godności i swych praw. Są oni "
        "obdarzeni rozumem i sumieniem i powinni postępować wobec innych w duchu braterstwa.",
    ),
    "czech": (
        "iso-8859-2",
        "Všichni lidé rodí se svobodní a sobě rovní co do důstojnosti a práv. Jsou nadáni rozumem "
        "a svědomím a mají spolu jednat v duchu bratrství.",
    ),
    "greek": (
        "cp1253",
        "Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα. "
        "Είναι προικισμένοι με λογική και συνείδηση, και οφείλουν να συμπεριφέρονται μεταξύ "
        "τους με πνεύμα αδελφοσύνης.",
    ),
    "chinese_simplified": (
        "gbk",
        "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。",
    ),
    "chinese_traditional": (
        "big5",
        "人人生而自由，在尊嚴和權利上一律平等。他們賦有理性和良心，並應以兄弟關係的精神相對待。",
    ),
    "japanese": (
        "shift_jis",
        "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
        "人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。",
    ),
    "korean": (
        "euc-kr",
        "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 "
        "이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다.",
    ),
}


def _short(text: str) -> str:
    return f"Alice: {text}"


def _long(text: str) -> str:
    return "\n".join(f"{('Alice', 'Bob', 'Carol')[i % 3]}: {text}" for i in range(60))


def _mixed(text: str) -> str:
    return (
        f"[00:00:01] Alice Martin: OK, the Q3 budget review on Zoom. {text}\n"
        f"[00:00:09] Bob Lee (PM): {text} Thanks, Alice.\n"
        f"[00:00:20] Alice Martin: Agreed. {text[: len(text) // 2]}\n"
    )


def _bare(text: str) -> str:
    return text


SHAPES = {"short": _short, "long": _long, "names_mixed_in": _mixed, "bare": _bare}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("language", ARTICLE_1)
def test_a_legacy_code_page_is_read_as_its_own_text_and_called_a_guess(language: str, shape: str) -> None:
    codepage, article = ARTICLE_1[language]
    text = SHAPES[shape](article)
    decoded = decode(text.encode(codepage))
    assert decoded.text == text.strip()
    assert decoded.replacements == 0
    assert decoded.guessed and decoded.confidence is not None and 0 < decoded.confidence <= 1
    assert text.encode(codepage).decode(decoded.encoding) == text  # the code page named reads it


# UTF-8 files with Windows-1252 bytes pasted in: curly quotes, dashes, an ellipsis, a Latin-1
# letter typed on an old system; beside real UTF-8 (accents, Chinese, an emoji).
PASTED = {
    "curly_quotes_beside_utf8_accents": (
        "Zoë: the café said “we ship on Friday” to everyone.\n" * 3,
        "Zoë: the café said \x93we ship on Friday\x94 to everyone.\n",
    ),
    "dashes_and_an_ellipsis_beside_chinese": (
        "李娜：我们决定周五发布。\n" * 5,
        "Bob: budget \x96 approved\x85 next \x97 the launch.\n",
    ),
    "a_latin1_letter_beside_an_emoji": (
        "Ana: great work 😀 team.\n" * 4,
        "Bob: na\xefve question: caf\xe9 at nine?\n",
    ),
    "many_quotes_in_a_long_file": (
        "José: el presupuesto está aprobado.\n" * 2,
        "Bob: \x93yes\x94, \x91ok\x92 \x96 fine.\n" * 200,
    ),
}


@pytest.mark.parametrize("name", PASTED)
def test_utf8_with_windows_1252_bytes_pasted_in_keeps_both(name: str) -> None:
    utf8, legacy = PASTED[name]
    data = utf8.encode("utf-8") + legacy.encode("latin-1")
    decoded = decode(data)
    assert decoded.text == (utf8 + legacy.encode("latin-1").decode("cp1252")).strip()
    assert decoded.encoding == "utf-8" and decoded.replacements == 0
    assert decoded.guessed and decoded.pasted == sum(1 for c in legacy if ord(c) > 127)


@pytest.mark.parametrize("language", ["russian", "czech", "japanese", "korean", "chinese_traditional"])
def test_a_legacy_transcript_is_summarised_with_the_guess_in_the_metadata(
    language: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    codepage, article = ARTICLE_1[language]
    text = _mixed(article)
    result, meta, summary = summarise(s3, bucket, presigner, text.encode(codepage))
    assert result["status"] == "ok", result
    facts = meta["input"]
    assert facts["encoding_guessed"] is True and 0 < facts["encoding_confidence"] <= 1
    assert facts["replacement_chars"] == 0
    assert article[:12] in summary
    turns = parse_transcript(decode(text.encode(codepage)).text).turns
    assert [t.speaker for t in turns] == ["Alice Martin", "Bob Lee (PM)", "Alice Martin"]


def test_pasted_bytes_are_counted_in_the_metadata(s3: Any, bucket: str, presigner: Presigner) -> None:
    utf8, legacy = PASTED["curly_quotes_beside_utf8_accents"]
    result, meta, _ = summarise(s3, bucket, presigner, utf8.encode() + legacy.encode("latin-1"))
    assert result["status"] == "ok", result
    assert meta["input"]["encoding"] == "utf-8" and meta["input"]["pasted_bytes"] == 4  # ë é “ ”
    assert meta["input"]["encoding_guessed"] is True and "encoding_confidence" not in meta["input"]


def test_a_utf8_transcript_is_no_guess(s3: Any, bucket: str, presigner: Presigner) -> None:
    _, meta, _ = summarise(s3, bucket, presigner, _long(ARTICLE_1["russian"][1]).encode())
    assert meta["input"]["encoding"] == "utf-8" and meta["input"]["encoding_guessed"] is False
    assert "encoding_confidence" not in meta["input"] and "pasted_bytes" not in meta["input"]
