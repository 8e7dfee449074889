"""Decoding what uploads really hold: damaged UTF-8, legacy encodings and BOMs, empty and binary
bodies. Each decodes to its own words with the damage counted in the metadata, or is refused with
the reason (through `decode` and through the worker's JobRunner against moto over HTTP).
"""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import metadata, pull_job, run_job
from worker.errors import TranscriptError
from worker.meeting import decode

CHINESE = "张伟：我们决定周五发布新版本。李娜：我会在周四之前更新文档。王芳：预算已经批准了。\n" * 40


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ((CHINESE + "会").encode("utf-8")[:-1], 1),
        (CHINESE.encode("utf-8").replace("发布".encode(), b"\xff", 1), 1),
    ],
    ids=["cut_mid_character", "one_bad_byte"],
)
def test_damaged_utf8_is_summarised_as_utf8_and_the_replacements_are_in_the_metadata(
    body: bytes, bad: int, s3: Any, bucket: str, presigner: Presigner
) -> None:
    assert run_job(pull_job(s3, bucket, presigner, body))["status"] == "ok"
    meta = metadata(s3, bucket)
    assert meta["input"]["encoding"] == "utf-8"
    assert meta["input"]["replacement_chars"] == bad


# Round three: every shape of encoding a meeting tool writes, and the damage a transfer does to it.
ENGLISH = "Alice: We ship the export on Friday.\nBob: Agreed, the café budget is approved.\n" * 20
ENCODED: dict[str, tuple[bytes, str, int, str]] = {
    # name: (body, encoding reported, replacement characters, a word the text must hold)
    "utf8_bom": (codecs.BOM_UTF8 + ENGLISH.encode(), "utf-8", 0, "café"),
    # A BOM made damaged UTF-8 "not valid utf-8-sig": refused instead of replaced.
    "utf8_bom_with_a_bad_byte": (codecs.BOM_UTF8 + CHINESE.encode() + b"\xff", "utf-8", 1, "发布"),
    "utf8_bom_cut_mid_character": (codecs.BOM_UTF8 + ("Alice: hi €").encode()[:-1], "utf-8", 1, "Alice"),
    "utf16_le_bom": (ENGLISH.encode("utf-16"), "utf-16", 0, "café"),
    "utf16_be_bom": (codecs.BOM_UTF16_BE + ENGLISH.encode("utf-16-be"), "utf-16", 0, "café"),
    # Without a BOM, UTF-16 was refused as binary ("NUL bytes").
    "utf16_le_without_bom": (ENGLISH.encode("utf-16-le"), "utf-16-le", 0, "café"),
    "utf16_be_without_bom": (ENGLISH.encode("utf-16-be"), "utf-16-be", 0, "café"),
    "utf16_le_chinese_without_bom": (CHINESE.encode("utf-16-le"), "utf-16-le", 0, "发布"),
    "utf32_le_without_bom": (ENGLISH.encode("utf-32-le"), "utf-32-le", 0, "café"),
    # UTF-16 cut to an odd length, or with a lone surrogate, was refused as "not valid utf-16".
    "utf16_cut_to_an_odd_length": (ENGLISH.encode("utf-16") + b"A", "utf-16", 1, "café"),
    "utf16_with_a_lone_surrogate": (ENGLISH.encode("utf-16") + b"\x00\xd8A\x00", "utf-16", 1, "café"),
    "latin1": (ENGLISH.encode("latin-1"), "cp1252", 0, "café"),
    "cp1252_quotes": ((ENGLISH + "“quoted” – €5").encode("cp1252"), "cp1252", 0, "“quoted”"),
    # Its only non-ASCII character cut at the end: decoded as cp1252 ("5 â‚") before.
    "ascii_cut_mid_euro": (("Alice: it costs 5 €").encode()[:-1], "utf-8", 1, "costs 5 \ufffd"),
    "ascii_cut_mid_emoji": (("Alice: great work 😀").encode()[:-2], "utf-8", 1, "work \ufffd"),
    "a_few_bad_bytes_in_long_chinese": (
        CHINESE.encode().replace("发布".encode(), b"\xff\xfe", 3),
        "utf-8",
        6,
        "周四",
    ),
}


@pytest.mark.parametrize("name", ENCODED)
def test_every_encoding_shape_decodes_to_its_own_words_with_damage_counted(name: str) -> None:
    body, encoding, replaced, word = ENCODED[name]
    decoded = decode(body)
    assert (decoded.encoding, decoded.replacements) == (encoding, replaced)
    assert word in decoded.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "transcript is empty"),
        (b" \n\t\r\n", "transcript is empty"),
        (codecs.BOM_UTF8, "transcript is empty"),
        (codecs.BOM_UTF8 + b"  \n", "transcript is empty"),
        (" \n ".encode("utf-16"), "transcript is empty"),
        ("\u00a0\u3000\n".encode(), "transcript is empty"),
        (ENGLISH.encode() + b"\x00", "looks binary"),
        (ENGLISH.encode().replace(b"Friday", b"Fri\x00day"), "looks binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "looks binary"),
    ],
    ids=[
        "empty",
        "whitespace",
        "bom_only",
        "bom_and_whitespace",
        "utf16_whitespace",
        "unicode_spaces",
        "trailing_nul",
        "nul_inside",
        "binary",
    ],
)
def test_empty_and_binary_bodies_are_refused_with_the_reason(body: bytes, fragment: str) -> None:
    with pytest.raises(TranscriptError, match=fragment):
        decode(body)


@pytest.mark.parametrize(
    "name",
    ["utf8_bom_with_a_bad_byte", "utf16_le_without_bom", "ascii_cut_mid_euro", "utf16_cut_to_an_odd_length"],
)
def test_encoding_shapes_are_summarised_with_the_encoding_in_the_metadata(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body, encoding, replaced, _word = ENCODED[name]
    assert run_job(pull_job(s3, bucket, presigner, body))["status"] == "ok"
    meta = metadata(s3, bucket)
    assert (meta["input"]["encoding"], meta["input"]["replacement_chars"]) == (encoding, replaced)
