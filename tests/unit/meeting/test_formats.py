"""Transcripts as tools write them (issue 14): WebVTT, SRT, AWS Transcribe and Whisper JSON, plain-text
exports of meeting tools and cue formats with their quirks; the language detected offline and the
extractive summary's sections and times. Fixture files are under tests/transcripts/.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.paths import TRANSCRIPTS
from worker.engines import ExtractiveEngine, SummaryOptions
from worker.errors import TranscriptError
from worker.meeting import Utterance, decode, detect_language, parse_structure, parse_transcript
from worker.summarize import Summarizer


def _read(name: str) -> str:
    return (TRANSCRIPTS / name).read_text(encoding="utf-8")


def _decoded(name: str) -> str:
    """The file as the worker reads it: bytes decoded (BOM dropped, CRLF unified)."""
    return decode((TRANSCRIPTS / name).read_bytes()).text


def test_webvtt_voice_tags_cue_ids_and_multiline_cues() -> None:
    parsed = parse_transcript(_read("meeting.vtt"), "meeting.vtt")
    assert parsed.format == "webvtt"
    first = parsed.turns[0]
    assert first.speaker == "Alice Martin" and first.start == 1.2
    # Three cues of one speaker are one turn; the sentence cut across cues 2 and 3 is whole again.
    assert "the design phase used most of it." in first.text
    assert not any("-->" in t.text or "<v" in t.text for t in parsed.turns)


def test_a_txt_holding_webvtt_is_parsed_as_webvtt() -> None:
    assert parse_transcript(_read("meeting.vtt"), "notes/meeting.txt").format == "webvtt"


def test_srt_with_speaker_labels_and_continuation_cues() -> None:
    parsed = parse_transcript(_read("meeting.srt"), "meeting.srt")
    assert parsed.format == "srt"
    assert [t.speaker for t in parsed.turns] == ["Alice", "Carol", "Alice", "Bob"]
    assert parsed.turns[0].text.endswith("the design phase used most of it.")
    assert parsed.turns[1].start == 12.5


def test_srt_without_speakers_joins_cues_until_a_sentence_ends() -> None:
    turns = parse_transcript(_read("lecture.srt"), "lecture.srt").turns
    assert turns[0].text == "Today we look at how glaciers shape valleys over thousands of years."
    assert [t.start for t in turns] == [0.5, 7.5]


def test_aws_transcribe_json_speakers_and_times() -> None:
    parsed = parse_transcript(_read("aws_transcribe.json"), "job.json")
    assert parsed.format == "aws-transcribe"
    assert [(t.speaker, t.start) for t in parsed.turns] == [("spk_0", 0.54), ("spk_1", 65.0)]
    assert parsed.turns[1].text == "I'll send the budget by Friday."


@pytest.mark.parametrize("name", ["whisper.json", "whisperx.json"])
def test_whisper_segments(name: str) -> None:
    parsed = parse_transcript(_read(name), name)
    assert parsed.format == "whisper" and parsed.timed


@pytest.mark.parametrize("name", ["timed.txt", "timed_after.txt"])
def test_plain_text_with_times_before_or_after_the_speaker(name: str) -> None:
    turns = parse_transcript(_read(name), name).turns
    assert [(t.speaker, t.start) for t in turns] == [("Alice", 1.0), ("Carol", 12.0), ("Alice", 62.0)]


def test_a_named_format_whose_content_differs_is_refused() -> None:
    with pytest.raises(TranscriptError, match="named like a srt"):
        parse_transcript("Alice: hello there.", "call.srt")


def test_explicit_format_wins() -> None:
    assert parse_transcript(_read("timed.txt"), "x.json", "text").format == "text"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Wir haben beschlossen, den Start auf Ende März zu verschieben.", "de"),
        ("Nous avons décidé de reporter le lancement à la fin du mois de mars.", "fr"),
        ("Hemos decidido retrasar el lanzamiento hasta finales de marzo.", "es"),
        ("Abbiamo deciso di rinviare il lancio alla fine di marzo.", "it"),
        ("Decidimos adiar o lançamento para o final de março.", "pt"),
        ("We hebben besloten de lancering uit te stellen tot eind maart.", "nl"),
        ("我们决定把发布推迟到三月底。", "zh"),
        ("来週までに報告書を送ります。", "ja"),
        ("다음 주까지 보고서를 보내겠습니다.", "ko"),
    ],
)
def test_language_is_detected_offline(text: str, code: str) -> None:
    assert detect_language(text) == code


GERMAN = """\
Anna: Guten Morgen, wir besprechen heute das Budget für die neue App.
Bernd: Das Budget liegt bei zwölftausend Euro, die Designphase hat das meiste verbraucht.
Clara: Die Umfrage zeigt, dass junge Nutzer ein dunkles Design und schnellere Suche wollen.
Anna: Nach der Diskussion haben wir beschlossen, den Start auf Ende März zu verschieben.
Bernd: Ich schicke den überarbeiteten Plan bis Freitag an die Finanzabteilung.
"""


def test_german_meeting_gets_german_headings_and_its_decision() -> None:
    summary = ExtractiveEngine().summarise(GERMAN, 600)
    assert summary.startswith("[Extraktive Zusammenfassung")
    structure = parse_structure(summary)
    assert structure["parsed"]
    assert any("beschlossen" in d["text"] for d in structure["decisions"])
    assert any(a["owner"] == "Bernd" and a["due"] == "Freitag" for a in structure["action_items"])


def test_unknown_language_falls_back_to_english_naming_it() -> None:
    summary = ExtractiveEngine().summarise(
        "Vi har bestämt att flytta lanseringen till slutet av mars.", 300, "standard", "sv"
    )
    assert "Swedish (sv)" in summary.splitlines()[0] and "Overview" in summary


def test_every_extractive_summary_has_the_four_sections_with_times() -> None:
    turns = parse_transcript(_read("meeting.vtt"), "meeting.vtt").turns
    result = asyncio.run(Summarizer(ExtractiveEngine()).summarize(turns, 600, SummaryOptions(language="en")))
    structure = parse_structure(result.text, turns)
    assert structure["parsed"] and structure["overview"]
    starts = {int(t.start or 0) for t in turns}
    for item in structure["key_points"] + structure["decisions"] + structure["action_items"]:
        assert item["start"] in starts
    actions = {a["owner"]: a for a in structure["action_items"]}
    assert actions["Dave"]["due"] == "March 3"


@pytest.mark.parametrize("style", ["brief", "standard", "detailed"])
def test_a_short_meetings_explicit_action_items_all_make_the_summary(style: str) -> None:
    # Regression: the detected share (half of a 150-token floor) was a knapsack, so Bob's action
    # item was dropped for want of 5 tokens while the summary had room for it.
    turns = parse_transcript(_read("meeting.vtt"), "meeting.vtt").turns
    options = SummaryOptions(style=style)
    result = asyncio.run(Summarizer(ExtractiveEngine()).summarize(turns, 1024, options))
    actions = {a["owner"]: a["due"] for a in parse_structure(result.text, turns)["action_items"]}
    assert actions == {"Bob Lee": "Friday", "Dave": "March 3"}


def test_llm_time_references_are_kept_only_when_they_match_the_transcript() -> None:
    turns = parse_transcript(_read("timed.txt"), "timed.txt").turns
    answer = (
        "## Overview\nBudget review.\n## Decisions\n- Launch moves to March [01:02]\n- Invented [09:59]\n"
    )
    structure = parse_structure(answer, turns)
    assert structure["decisions"][0]["start"] == 62
    assert "start" not in structure["decisions"][1] and structure["decisions"][1]["text"] == "Invented"


def test_unparseable_llm_output_keeps_the_raw_text() -> None:
    structure = parse_structure("just some prose without sections")
    assert structure["parsed"] is False and structure["raw"] == "just some prose without sections"


def test_a_longer_transcript_never_gets_a_shorter_extractive_summary_than_its_third() -> None:
    lines = [
        f"Speaker {i % 5}: Topic {i} covers budget item {i * 7} and the schedule risk number {i}."
        for i in range(3000)
    ]
    engine = ExtractiveEngine(max_model_len=8000)

    async def tokens(text: str) -> int:
        return (await Summarizer(engine).summarize(text, 1500)).stats.output_tokens

    whole = asyncio.run(tokens("\n".join(lines)))
    third = asyncio.run(tokens("\n".join(lines[:1000])))
    assert whole >= third


# ---- plain-text exports of meeting tools ------------------------------------------------------


def test_a_name_and_clock_on_their_own_line_head_the_turn_below_them() -> None:
    # Otter / Zoom: "Name  0:03" and the speech on the next lines; it was one speakerless blob.
    turns = parse_transcript(_read("otter.txt"), "otter.txt").turns
    assert [(t.speaker, t.start) for t in turns] == [
        ("Alice Smith", 3.0),
        ("Bob Jones", 10.0),
        ("Alice Smith", 3735.0),
    ]
    assert (
        turns[1].text
        == "We decided to move the launch to the end of March. The beta feedback needs another round."
    )


def test_a_bracketed_time_of_day_before_the_name_heads_the_turn() -> None:
    turns = parse_transcript(_read("teams_chat.txt"), "chat.txt").turns
    assert [(t.speaker, t.start) for t in turns] == [
        ("Müller, Jürgen", 10 * 3600 + 120),
        ("Anna Schmidt", 10 * 3600 + 180),
        ("Müller, Jürgen", 13 * 3600 + 900),
    ]
    assert turns[0].text == "Guten Morgen zusammen."


@pytest.mark.parametrize(
    ("header", "speaker", "start"),
    [
        ("Bob Jones   10:02 AM", "Bob Jones", 36120.0),
        ("Bob Jones 0:0:10.450", "Bob Jones", 10.45),
        ("SPEAKER_01  0:10", "SPEAKER_01", 10.0),
        ("Ludwig van Beethoven  0:10", "Ludwig van Beethoven", 10.0),
        ("(0:10) Bob Jones", "Bob Jones", 10.0),
    ],
)
def test_header_line_shapes(header: str, speaker: str, start: float) -> None:
    turns = parse_transcript(f"{header}\nWe agreed on the budget.\n", "x.txt").turns
    assert [(t.speaker, t.text, t.start) for t in turns] == [(speaker, "We agreed on the budget.", start)]


def test_speech_that_ends_in_a_time_is_not_a_header() -> None:
    turns = parse_transcript("Let's meet at 10:30\nand bring the numbers.\n", "x.txt").turns
    assert [(t.speaker, t.text) for t in turns] == [(None, "Let's meet at 10:30 and bring the numbers.")]


def test_a_clock_alone_on_its_line_times_the_next_turn_and_is_not_speech() -> None:
    turns = parse_transcript(_read("google_meet.txt"), "meet.txt").turns
    assert [(t.speaker, t.start) for t in turns[1:]] == [
        ("Alice Smith", 0.0),
        ("Bob Jones", None),
        ("Alice Smith", 300.0),
    ]
    assert not any("00:05:00" in t.text for t in turns)


@pytest.mark.parametrize(
    ("line", "speaker", "text"),
    [
        ("李娜：大家好，我们开始吧。", "李娜", "大家好，我们开始吧。"),
        ("田中：おはようございます。", "田中", "おはようございます。"),
        ("김민수: 안녕하세요.", "김민수", "안녕하세요."),
        ("Dr. José García-López: Buenos días.", "Dr. José García-López", "Buenos días."),
        ("SPEAKER_00: Hello there.", "SPEAKER_00", "Hello there."),
    ],
)
def test_speaker_names_in_any_script_with_either_colon(line: str, speaker: str, text: str) -> None:
    turn = parse_transcript(line + "\n", "x.txt").turns[0]
    assert (turn.speaker, turn.text) == (speaker, text)


# ---- cue formats as tools write them ------------------------------------------------------------


def test_webvtt_with_style_region_note_blocks_settings_classes_and_crlf() -> None:
    parsed = parse_transcript(_decoded("styled.vtt"), "calls/sync.txt")
    assert parsed.format == "webvtt"
    assert [(t.speaker, t.start) for t in parsed.turns] == [
        ("Alice Smith", 1.0),
        ("Bob", 4.5),
        ("Carol Ng", 3601.0),
    ]
    assert parsed.turns[1].text == (
        "I'll send the release notes by Thursday, and then we review them together before the launch."
    )
    assert not any(mark in t.text for t in parsed.turns for mark in ("<", "::cue", "NOTE", "align:", "-->"))


def test_rolling_auto_captions_keep_each_line_once() -> None:
    # YouTube repeats the last line of each cue in the next one; the words came out three times.
    turns = parse_transcript(_decoded("youtube_auto.vtt"), "talk.vtt").turns
    assert [(t.text, t.start) for t in turns] == [
        ("so today we are going to talk about the roadmap and the hiring plan", 0.0)
    ]


def test_speaker_labels_inside_cues_and_a_repeated_short_answer_of_another_speaker() -> None:
    turns = parse_transcript(_decoded("zoom_labels.vtt"), "zoom.vtt").turns
    assert [(t.speaker, t.text) for t in turns] == [
        ("Alice Smith", "Good morning everyone, let's start with the budget."),
        (
            "Bob Jones",
            "We agreed to cut the travel budget by twenty percent."
            " I will send the revised numbers by Friday.",
        ),
        ("Alice Smith", "Yes."),
        ("Bob Jones", "Yes."),
    ]


def test_webvtt_cues_without_a_header_are_webvtt() -> None:
    parsed = parse_transcript("00:01.000 --> 00:03.000\n<v Ann>Hello there.\n", "notes.txt")
    assert parsed.format == "webvtt"
    assert parsed.turns == [Utterance("Ann", "Hello there.", 1.0)]


def test_srt_with_bom_crlf_font_tags_numbering_gaps_dashes_and_caption_speaker_marks() -> None:
    parsed = parse_transcript(_decoded("subtitles_crlf.srt"), "call.srt")
    assert parsed.format == "srt"
    assert [(t.speaker, t.text, t.start) for t in parsed.turns] == [
        ("Alice", "We decided to go with vendor B.", 1.0),
        ("Bob", "I'll draft the contract by next Tuesday.", 3.6),
        # Two dashed lines in one cue are two people: neither joins Bob's turn, no dash is left.
        (None, "Sounds good.", 6.1),
        (None, "Agreed.", 6.1),
        ("SPEAKER 2", "Thanks all.", 8.1),
        ("CAROL", "One more thing about the budget.", 9.1),
    ]


def test_srt_without_cue_numbers_is_srt() -> None:
    parsed = parse_transcript(_decoded("unnumbered.srt"), "unnumbered.srt")
    assert parsed.format == "srt"
    assert [(t.text, t.start) for t in parsed.turns] == [
        ("Hello there everyone.", 1.0),
        ("Welcome to the review.", 4.0),
    ]


@pytest.mark.parametrize("name", ["aws_channels.json", "aws_channels_only.json"])
def test_aws_transcribe_channel_identification_names_each_channel(name: str) -> None:
    parsed = parse_transcript(_decoded(name), name)
    assert parsed.format == "aws-transcribe"
    assert [(t.speaker, t.text, t.start) for t in parsed.turns] == [
        ("ch_0", "Thank you for calling, this is Dana.", 0.5),
        ("ch_1", "Hi, I was charged twice for my order.", 4.0),
        ("ch_0", "I will refund the second charge by Friday.", 8.0),
    ]


def test_whisperx_segment_without_a_speaker_takes_its_words_speaker() -> None:
    turns = parse_transcript(_decoded("whisperx_words.json"), "call.json").turns
    assert [(t.speaker, t.start) for t in turns] == [("SPEAKER_00", 0.51), ("SPEAKER_01", 3.6)]


@pytest.mark.parametrize("key", ["call.jsonl", "call.json", None])
def test_whisper_json_lines(key: str | None) -> None:
    parsed = parse_transcript(_decoded("whisper.jsonl"), key)
    assert parsed.format == "whisper"
    assert [(t.text, t.start) for t in parsed.turns] == [
        ("Hello everyone, thanks for joining.", 0.0),
        ("We agreed on the plan for the spring release.", 2.1),
    ]
