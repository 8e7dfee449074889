"""Transcripts as tools write them: formats, languages, structure and timestamps (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from worker.engines import ExtractiveEngine, SummaryOptions
from worker.errors import TranscriptError
from worker.meeting import (
    LANGUAGES,
    DecisionSignals,
    Utterance,
    addressed_owner,
    decode,
    detect_language,
    due_date,
    parse_structure,
    parse_transcript,
    spoken_languages,
)
from worker.summarize import Summarizer

HERE = Path(__file__).parent / "transcripts"


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


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


def _decoded(name: str) -> str:
    """The file as the worker reads it: bytes decoded (BOM dropped, CRLF unified)."""
    return decode((HERE / name).read_bytes()).text


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


# ---- languages: decisions and action items as people phrase them -----------------------------

# Per language: the heading of the decisions section, a decision, and (owner, due) of the action
# items the meeting gives, each phrased the way people say it in that language.
MEETINGS = {
    "de": ("Entscheidungen", "Wir haben beschlossen", [("Jonas", "Freitag"), ("Markus", "Mittwoch")]),
    "fr": ("Décisions", "Nous avons décidé", [("Marie", "vendredi"), ("Paul", "jeudi")]),
    "es": ("Decisiones", "Hemos decidido", [("Carlos", "viernes"), ("Carlos", "lunes")]),
    "it": ("Decisioni", "Abbiamo deciso", [("Marco", "giovedì"), ("Marco", "lunedì")]),
    "pt": ("Decisões", "Decidimos trocar", [("João", "até sexta-feira"), ("João", "na segunda")]),
    "nl": ("Besluiten", "We hebben besloten", [("Pieter", "vrijdag"), ("Pieter", "woensdag")]),
    "zh": ("决定", "我们决定", [("李娜", "周四"), ("张伟", "下周一")]),
    "ja": ("決定事項", "決めました", [("佐藤", "金曜日"), ("鈴木", "月曜日")]),
    "ko": ("결정 사항", "결정했습니다", [("이지은", "금요일"), ("박준호", "월요일")]),
}


@pytest.mark.parametrize("code", sorted(MEETINGS))
def test_a_meeting_in_each_language_gets_its_headings_decision_and_owned_dated_action_items(
    code: str,
) -> None:
    heading, decision, actions = MEETINGS[code]
    parsed = parse_transcript(_read(f"meeting_{code}.txt"), f"meeting_{code}.txt")
    assert detect_language(parsed.transcript.sample()) == code
    summary = ExtractiveEngine().summarise(parsed.transcript.body, 600, language=code)
    assert f"\n{heading}\n" in summary
    structure = parse_structure(summary, starts=parsed.transcript.starts)
    assert structure["overview"]
    assert [d["text"] for d in structure["decisions"] if decision in d["text"]]
    assert [(a["owner"], a["due"]) for a in structure["action_items"]] == actions


@pytest.mark.parametrize(
    "sentence",
    [
        "May, who is joining us from Berlin, will present the numbers.",
        "We may need more time for the review.",
        "April, which was our best month, set the target.",
        "They march on with the old plan regardless.",
    ],
)
def test_a_month_that_is_a_name_or_a_verb_is_no_date_and_no_owner(sentence: str) -> None:
    assert due_date(sentence) is None
    assert addressed_owner(sentence) is None
    assert not DecisionSignals("en").is_action(sentence)


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("We launch in May.", "May"),
        ("Dave, please send it by May 3.", "May 3"),
        ("The audit is due March 2027.", "March"),
        ("We ship on June 12th.", "June 12th"),
    ],
)
def test_a_month_beside_a_day_a_year_or_by_is_a_date(sentence: str, when: str) -> None:
    assert due_date(sentence) == when


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Et Paul, tu peux relancer le prestataire avant jeudi ?", "Paul"),
        ("And Dana, please send the deck by Friday.", "Dana"),
        ("Markus soll bis nächsten Mittwoch die Planung fertigstellen.", "Markus"),
        ("Marie s'occupe de prévenir les clients d'ici vendredi.", "Marie"),
        ("Carol will draft the announcement by Monday.", "Carol"),
        ("张伟负责下周一之前联系供应商。", "张伟"),
        ("鈴木さんは月曜日までにテスト計画を準備してください。", "鈴木"),
        ("박준호 씨는 월요일까지 공급업체에 연락해 주세요.", "박준호"),
        ("We will send it by Friday.", None),
        ("Wir schicken es bis Freitag.", None),
    ],
)
def test_the_owner_a_sentence_names(sentence: str, owner: str | None) -> None:
    assert addressed_owner(sentence) == owner


@pytest.mark.parametrize(
    ("text", "code"),
    [("Ok, merci.", "it"), ("Danke, bis morgen.", "de"), ("好的。", "zh"), ("네.", "ko")],
)
def test_a_short_transcript_is_read_as_one_of_the_localized_languages(text: str, code: str) -> None:
    # A few words came out Slovak or Hausa; short samples choose among the localized languages.
    assert detect_language(text) in LANGUAGES
    assert detect_language(text) == code


def test_options_language_overrides_detection_for_headings() -> None:
    body = parse_transcript(_read("meeting_de.txt"), "m.txt").transcript.body
    summary = ExtractiveEngine().summarise(body, 600, language="French")
    assert "\nDécisions\n" in summary and "\nEntscheidungen\n" not in summary


def test_a_mixed_language_meeting_finds_decisions_in_both_languages() -> None:
    text = (
        _read("meeting_de.txt")
        + "\n"
        + (
            "Tom: For the US team, we decided to keep the current release date.\n"
            "Tom: Dana will send the English release notes by Thursday.\n"
        )
    )
    parsed = parse_transcript(text, "m.txt")
    summary = ExtractiveEngine().summarise(parsed.transcript.body, 800)
    structure = parse_structure(summary, starts=parsed.transcript.starts)
    decisions = " ".join(d["text"] for d in structure["decisions"])
    assert "beschlossen" in decisions and "we decided" in decisions
    assert ("Dana", "Thursday") in [(a["owner"], a["due"]) for a in structure["action_items"]]


# ---- structure read back from what LLMs write ---------------------------------------------------

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
@pytest.mark.parametrize("name", sorted(p.name for p in HERE.glob("*.vtt")))
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
