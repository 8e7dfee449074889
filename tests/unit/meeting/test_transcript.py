"""Decoding and splitting transcripts."""

from __future__ import annotations

import codecs

import pytest

from worker.errors import TranscriptError
from worker.meeting import decode, sentences, utterances

TEXT = "Ana: Olá, café às três?\nBob: Yes — 3 pm works.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-16"), "utf-16"),  # with BOM
        (TEXT.replace("—", "-").encode("latin-1"), "cp1252"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_common_encodings_decode_to_the_same_text(data: bytes, encoding: str) -> None:
    decoded = decode(data)
    assert decoded.encoding == encoding
    assert decoded.text.startswith("Ana: Olá, café às três?\nBob: Yes")


def test_crlf_and_lone_cr_become_newlines() -> None:
    assert decode(b"A: one\r\nB: two\rC: three").text == "A: one\nB: two\nC: three"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n\t\r\n ", "empty"),
        (bytes(range(256)) * 4, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"12:00 13:00 ... !!!", "no words"),
    ],
)
def test_unusable_bytes_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(TranscriptError, match=message):
        decode(data)


def test_utterances_follow_speaker_turns_and_continuation_lines() -> None:
    turns = utterances("Alice: Hello there.\nit continues here\n[00:01:02] Bob Smith: Hi.\nSpeaker 2: Ok.")
    assert [(t.speaker, t.text) for t in turns] == [
        ("Alice", "Hello there. it continues here"),
        ("Bob Smith", "Hi."),
        ("Speaker 2", "Ok."),
    ]


def test_speaker_labels_without_speech_give_no_utterances() -> None:
    assert utterances("Alice:\nBob:\n") == []


def test_unlabelled_paragraphs_are_utterances() -> None:
    assert [t.text for t in utterances("first para\nline two\n\nsecond para")] == [
        "first para line two",
        "second para",
    ]


def test_sentences_split_on_final_punctuation() -> None:
    assert sentences("One. Two? Three! four") == ["One.", "Two?", "Three!", "four"]


CHINESE = "张伟：我们决定周五发布新版本。李娜：我会在周四之前更新文档。王芳：预算已经批准了。\n" * 40
DAMAGED_UTF8 = {
    # Cut mid-character at the end (a truncated export): the last 会 loses its last byte.
    "cut_mid_character_at_the_end": ((CHINESE + "会").encode("utf-8")[:-1], 1),
    "one_bad_byte_in_chinese": (CHINESE.encode("utf-8").replace("发布".encode(), b"\xff", 1), 1),
    "a_few_bad_bytes_in_chinese": (CHINESE.encode("utf-8").replace("文档".encode(), b"\xe6\x96", 3), 3),
    "latin_text_cut_mid_character": ((TEXT * 3 + "Zoë").encode("utf-8")[:-1], 1),
    # Read as the Windows-1252 "ï" it is since issue 21 (tests/test_encodings.py), not replaced.
    "a_stray_cp1252_byte_in_utf8": ((TEXT * 20).encode("utf-8") + b"Bob: na\xefve\n", 0),
}


@pytest.mark.parametrize("name", DAMAGED_UTF8)
def test_mostly_valid_utf8_stays_utf8_with_replacement_characters_counted(name: str) -> None:
    data, bad = DAMAGED_UTF8[name]
    decoded = decode(data)
    assert decoded.encoding == "utf-8"
    assert decoded.replacements == bad
    assert decoded.text.count("\ufffd") == bad
    if "chinese" in name or "end" in name:
        assert "我们决定周五" in decoded.text


@pytest.mark.parametrize(
    "text",
    [
        "Zoë: the café opens at nine.\n" * 50,  # every accented letter is an invalid UTF-8 byte
        "Ana: Olá, café às três?\nBob: Sí, señor.\n",
        "André: one accent, at the very end: é",
    ],
)
def test_real_cp1252_files_still_decode_as_cp1252(text: str) -> None:
    decoded = decode(text.encode("cp1252"))
    assert decoded.encoding == "cp1252" and decoded.replacements == 0
    assert decoded.text == text.strip()


def test_a_genuine_replacement_character_in_valid_utf8_is_not_counted() -> None:
    decoded = decode("Ana: the export showed \ufffd here.\n".encode())
    assert decoded.encoding == "utf-8" and decoded.replacements == 0
