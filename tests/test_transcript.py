"""Decoding and splitting transcripts."""

from __future__ import annotations

import codecs

import pytest

from worker.engines import sentences, utterances
from worker.errors import TranscriptError
from worker.transcript import decode

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
