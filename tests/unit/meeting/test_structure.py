"""Structure read back from what LLMs write (issue 14): checkboxes, bold and dash owners, tables,
fields, JSON, other languages' headings, the ways models say none; and the format, time and
speaker shapes found after the first round (two voices in a cue, SRT positioning, time references,
exported speaker shapes, whisper.cpp offsets, WebVTT read in pieces).
"""

from __future__ import annotations

import pytest

from tests.support.paths import TRANSCRIPTS
from worker.engines import ExtractiveEngine, SummaryOptions
from worker.meeting import DecisionSignals, decode, parse_structure, parse_transcript, spoken_languages


def _read(name: str) -> str:
    return (TRANSCRIPTS / name).read_text(encoding="utf-8")


def _decoded(name: str) -> str:
    """The file as the worker reads it: bytes decoded (BOM dropped, CRLF unified)."""
    return decode((TRANSCRIPTS / name).read_bytes()).text


_STARTS = {1, 4, 65, 3601}


def test_markdown_checkboxes_bold_owners_and_dash_owners() -> None:
    answer = (
        "**Overview:** The team reviewed the launch.\n\n"
        "**Key Points:**\n1. [00:01] Alice: beta feedback is positive\n\n"
        "**Decisions:**\n* Ship the beta on Friday [00:01]\n\n**Action Items:**\n"
        "- [ ] **Bob**: Send the release notes (due: Thursday) [00:04]\n"
        "- [x] Carol — draft the announcement by Monday [1:00:01]\n"
    )
    structure = parse_structure(answer, starts=_STARTS)
    assert structure["action_items"] == [
        {"owner": "Bob", "task": "Send the release notes", "due": "Thursday", "start": 4},
        {"owner": "Carol", "task": "draft the announcement by Monday", "due": "Monday", "start": 3601},
    ]


def test_action_items_as_a_markdown_table() -> None:
    answer = (
        "## Overview\nLaunch review.\n\n## Key points\n- Costs rose.\n\n## Decisions\n- Ship Friday.\n\n"
        "## Action items\n| Task | Owner | Due date |\n|:---|---|---|\n"
        "| Send the release notes | Bob | Thursday |\n| Draft the announcement | Carol | Monday |\n"
    )
    assert parse_structure(answer)["action_items"] == [
        {"owner": "Bob", "task": "Send the release notes", "due": "Thursday"},
        {"owner": "Carol", "task": "Draft the announcement", "due": "Monday"},
    ]


def test_owner_and_due_spelled_out_as_fields() -> None:
    answer = "Overview: x\nKey points:\n- a\nAction items:\n- Send the notes (Owner: Bob, Due: Thursday)\n"
    assert parse_structure(answer)["action_items"] == [
        {"owner": "Bob", "task": "Send the notes", "due": "Thursday"}
    ]


@pytest.mark.parametrize("fence", ["{}", "```json\n{}\n```"])
def test_an_answer_in_json_is_the_structure(fence: str) -> None:
    body = (
        '{"overview": "Launch review.", "key_points": ["Costs rose."], "decisions": ["Ship Friday."],'
        ' "action_items": [{"owner": "Bob", "task": "Send the notes", "due": "Thursday"}]}'
    )
    structure = parse_structure(fence.replace("{}", body))
    assert structure["parsed"] is True
    assert structure["overview"] == "Launch review."
    assert structure["decisions"] == [{"text": "Ship Friday.", "speaker": None}]
    assert structure["action_items"] == [{"owner": "Bob", "task": "Send the notes", "due": "Thursday"}]


@pytest.mark.parametrize(
    ("answer", "owner", "due"),
    [
        (
            "Zusammenfassung:\nDas Team hat den Start besprochen.\n\nBeschlüsse:\n- Start am Freitag.\n\n"
            "Nächste Schritte:\n- Jonas: Vertrag schicken bis Freitag.\n",
            "Jonas",
            "Freitag",
        ),
        (
            "Résumé\nL'équipe a parlé du lancement.\n\nDécisions prises\n- Lancement vendredi.\n\n"
            "Prochaines étapes\n- Marie : prévenir les clients d'ici vendredi.\n",
            "Marie",
            "vendredi",
        ),
        (
            "Resumen:\nRevisión.\nAcuerdos:\n- Lanzar el viernes.\nPróximos pasos:\n"
            "- Carlos: enviar el informe antes del viernes.\n",
            "Carlos",
            "viernes",
        ),
    ],
)
def test_headings_llms_write_in_other_languages(answer: str, owner: str, due: str) -> None:
    structure = parse_structure(answer)
    assert structure["parsed"] is True
    assert structure["overview"] and len(structure["decisions"]) == 1
    assert [(a["owner"], a["due"]) for a in structure["action_items"]] == [(owner, due)]


@pytest.mark.parametrize(
    "line",
    [
        "- None identified.",
        "- No action items were assigned.",
        "- Keine.",
        "- None at this time.",
        "- *None*",
    ],
)
def test_the_ways_models_say_none_leave_the_section_empty(line: str) -> None:
    structure = parse_structure(f"Overview: x\nDecisions:\n{line}\nAction items:\n{line}\n")
    assert structure["decisions"] == [] and structure["action_items"] == []


def test_a_short_item_that_starts_like_none_is_still_an_item() -> None:
    answer = (
        "Overview: x\nDecisions:\n- No changes to the Q3 budget, the freeze stays.\n"
        "- None of the vendors qualified.\n"
    )
    assert len(parse_structure(answer)["decisions"]) == 2


def test_two_voices_in_one_cue_are_two_turns_and_entities_are_decoded() -> None:
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Alice>Hi Bob &amp; Carol, it&#39;s 5 &lt; 6.</v>\n"
        "<v Bob>Hello&nbsp;there.</v>\n\n00:00:03.000 --> 00:00:05.000\n<v Carol>We decided to go.\n"
    )
    assert [(t.speaker, t.text) for t in parse_transcript(text, "x.vtt").turns] == [
        ("Alice", "Hi Bob & Carol, it's 5 < 6."),
        ("Bob", "Hello there."),
        ("Carol", "We decided to go."),
    ]


def test_srt_positioning_and_style_overrides_are_not_text() -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:03,000\n{\\an8}Alice: We decided to go.\n\n"
        "2\n00:00:03,000 --> 00:00:05,000\n{\\i1}Bob:{\\i0} Fine &amp; good.\n"
    )
    assert [(t.speaker, t.text) for t in parse_transcript(text, "x.srt").turns] == [
        ("Alice", "We decided to go."),
        ("Bob", "Fine & good."),
    ]


@pytest.mark.parametrize("ref", ["[01:05]", "(00:01:05)", "[01:05–01:30]", "**[00:01:05]**", "[65:01]"])
def test_time_reference_shapes_keep_the_turn_start_they_name(ref: str) -> None:
    answer = f"Overview: x\nKey points:\n- {ref} Costs rose.\n"
    item = parse_structure(answer, starts={65, 3901})["key_points"][0]
    assert item["text"] == "Costs rose."
    assert item["start"] == (3901 if ref == "[65:01]" else 65)


@pytest.mark.parametrize(
    "text",
    [
        "[Alice Smith] 10:02:15 Good morning everyone.\n[Bob Jones] 10:02:20 We agreed on the budget.\n",
        "Alice Smith\n10:02:15\nGood morning everyone.\n\nBob Jones\n10:02:20\nWe agreed on the budget.\n",
        "- Alice Smith: Good morning everyone.\n- Bob Jones: We agreed on the budget.\n",
        "[Alice Smith]: Good morning everyone.\n[Bob Jones]: We agreed on the budget.\n",
    ],
)
def test_more_exported_speaker_shapes(text: str) -> None:
    turns = parse_transcript(text, "x.txt").turns
    assert [(t.speaker, t.text) for t in turns] == [
        ("Alice Smith", "Good morning everyone."),
        ("Bob Jones", "We agreed on the budget."),
    ]
    assert all(t.start is None for t in turns) or [t.start for t in turns] == [36135.0, 36140.0]


def test_a_bracketed_sound_is_speech_not_a_speaker() -> None:
    assert parse_transcript("[laughter] yes, that works.\n", "x.txt").turns[0].speaker is None


def test_a_meeting_half_in_german_half_in_french_finds_the_french_decision_too() -> None:
    parsed = parse_transcript(_read("meeting_de.txt") + _read("meeting_fr.txt"), "m.txt")
    summary = ExtractiveEngine().summarise(parsed.transcript.body, 800)
    structure = parse_structure(summary, starts=parsed.transcript.starts)
    decisions = " ".join(d["text"] for d in structure["decisions"])
    assert "beschlossen" in decisions and "Nous avons décidé" in decisions
    assert "Marie" in [a["owner"] for a in structure["action_items"]]


def test_an_english_meeting_speaks_no_other_language() -> None:
    text = _read("otter.txt") * 20
    sentences = [t.text for t in parse_transcript(text, "x.txt").turns]
    assert spoken_languages(sentences) in ((), ("en",))


@pytest.mark.parametrize(
    ("given", "expected"),
    [("vtt", "webvtt"), ("SRT", "srt"), ("WebVTT", "webvtt"), ("whisperx", "whisper"), ("txt", "text"),
     ("json", None), ("auto", None)],
)  # fmt: skip
def test_options_format_accepts_extensions_and_tool_names(given: str, expected: str | None) -> None:
    assert SummaryOptions(format=given).format == expected  # type: ignore[arg-type]


def test_whisper_cpp_json_with_millisecond_offsets() -> None:
    parsed = parse_transcript(_decoded("whisper_cpp.json"), "call.json")
    assert parsed.format == "whisper"
    assert [(t.text, t.start) for t in parsed.turns] == [
        ("Good morning everyone, let's review the budget.", 0.0),
        ("We decided to move the launch to the end of March.", 3.24),
    ]


@pytest.mark.parametrize(
    ("code", "sentence", "kind"),
    [
        ("en", "We are going with option B for the hosting.", "decision"),
        ("en", "Bob to send the deck by Friday.", "action"),
        ("de", "Kannst du das Angebot bis Freitag prüfen?", "action"),
        ("de", "Beschluss: der Umzug findet im Juni statt.", "decision"),
        ("fr", "C'est acté, on lance la campagne en mai.", "decision"),
        ("fr", "Je m'en charge pour la semaine prochaine.", "action"),
        ("it", "Me ne occupo io per la settimana prossima.", "action"),
        ("zh", "那就这么定了，下个月上线。", "decision"),
        ("nl", "Ik regel de zaal voor het evenement.", "action"),
    ],
)
def test_more_everyday_phrasings_of_decisions_and_action_items(code: str, sentence: str, kind: str) -> None:
    signals = DecisionSignals(code)
    assert (signals.is_decision(sentence), signals.is_action(sentence)) == (
        kind == "decision",
        kind == "action",
    )


@pytest.mark.parametrize("piece_chars", [64, 300, 1000])
@pytest.mark.parametrize("name", sorted(p.name for p in TRANSCRIPTS.glob("*.vtt")))
def test_webvtt_read_in_pieces_gives_the_same_turns_as_read_whole(
    name: str, piece_chars: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large WebVTT files go to webvtt-py a piece at a time (a `Caption` per cue held at once was
    25 × a file of one-word cues); the pieces must not change a single turn."""
    import worker.meeting.readers

    text = _read(name).removeprefix("\ufeff")  # as decoding hands it over
    whole = parse_transcript(text, name).turns
    monkeypatch.setattr(worker.meeting.readers, "_VTT_PIECE_CHARS", piece_chars)
    assert parse_transcript(text, name).turns == whole
