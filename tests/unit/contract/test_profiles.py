"""Summary profiles (issue 20 part 2): the built-in table, the user's own document, and every engine
writing the chosen profile's sections (prompts, the extractive engine, the structure JSON)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from contract.profiles import PROFILES, SECTION_KINDS, STANDARD_KEYS, ProfileError, parse_document
from dispatcher.app import Dispatcher
from dispatcher.errors import SettingsError
from tests.support.dispatch import DispatcherEnv
from tests.support.paths import ROOT
from tests.support.profiles import RETRO
from worker.engines import ExtractiveEngine, SummaryOptions, SummaryTask, instructions
from worker.job import JobInput
from worker.meeting import LANGUAGES, parse_structure
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

MEETING = (ROOT / "tests" / "transcripts" / "meeting.vtt").read_text(encoding="utf-8")
GERMAN = (ROOT / "tests" / "transcripts" / "meeting_de.txt").read_text(encoding="utf-8")


# ---- the table -------------------------------------------------------------------------------------
def test_every_built_in_profile_is_complete() -> None:
    assert {"meeting", "standup", "sales-call", "interview", "lecture", "one-on-one"} <= set(PROFILES)
    for name, profile in PROFILES.items():
        assert profile.name == name and profile.description
        assert profile.instructions or name == "meeting"  # the meeting's sections say it all
        keys = [s.key for s in profile.sections]
        assert len(set(keys)) == len(keys) and keys[0] == "overview"
        for section in profile.sections:
            assert section.title and section.instructions and section.kind in SECTION_KINDS
            if section.key in STANDARD_KEYS:  # its heading comes from the language records
                assert (
                    section.kind
                    == ("overview", "points", "decisions", "actions")[STANDARD_KEYS.index(section.key)]
                )
        # What the worker gets is what the table says.
        assert parse_document(json.dumps({"profiles": [profile.as_dict() | {"name": "x" + name}]}))
    assert [s.key for s in PROFILES["meeting"].sections] == list(STANDARD_KEYS)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("not json", "not JSON"),
        ('{"profiles": {}}', '{"profiles": [...]}'),
        (json.dumps({"profiles": [RETRO | {"name": "meeting"}]}), "profiles[0].name 'meeting'"),
        (json.dumps({"profiles": [RETRO | {"name": "Retro!"}]}), "profiles[0]: must be a profile name"),
        (json.dumps({"profiles": [RETRO | {"max_tokens": 10}]}), "must be at least 96"),
        (json.dumps({"profiles": [RETRO | {"sections": []}]}), "profiles[0].sections must be a list"),
        (
            json.dumps({"profiles": [RETRO | {"sections": [RETRO["sections"][0] | {"kind": "poem"}]}]}),  # type: ignore[index]
            "profiles[0].sections[0].kind must be one of overview, points, decisions, actions, notes",
        ),
        (
            json.dumps({"profiles": [RETRO | {"sections": [RETRO["sections"][0]] * 2}]}),  # type: ignore[index]
            "each key must be used once",
        ),
        (
            json.dumps(
                {"profiles": [RETRO | {"sections": [{"key": "a", "title": "## A\nB", "kind": "notes"}]}]}
            ),
            "sections[0].title must be one line",
        ),
        (json.dumps({"profiles": [RETRO | {"colour": "red"}]}), "unknown fields ['colour']"),
    ],
)
def test_a_bad_profiles_document_is_refused_naming_the_place(document: str, named: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_document(document)
    assert named in str(caught.value)


def test_the_readme_example_profile_is_this_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index('{"profiles": [')
    document = readme[start : readme.index("\n```", start)]
    assert parse_document(document)["retro"].as_dict() == RETRO


# ---- every engine honours the sections ------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_prompt_asks_for_the_profiles_sections_in_order(name: str) -> None:
    profile = PROFILES[name]
    text = instructions(SummaryTask("single", "Alice: hi.", 256, profile=profile))
    positions = [text.index(f"{s.title}: {s.instructions}") for s in profile.sections]
    assert positions == sorted(positions)
    assert profile.instructions in text


def test_a_localized_prompt_names_the_language_records_headings_and_translates_the_profiles_own() -> None:
    text = instructions(
        SummaryTask("single", "x", 256, SummaryOptions(language="de"), profile=PROFILES["standup"])
    )
    assert "Überblick, Kernpunkte, Blockers, Aufgaben" in text
    # Blockers has no German form in the built-in table: it is written as given, so it reads back.
    assert "exactly these section headings" in text


def test_the_extractive_engine_fills_what_it_can_and_says_which_it_cannot() -> None:
    profile = PROFILES["standup"]
    text = ExtractiveEngine().summarise(MEETING, 600, profile=profile)
    headings = [
        line for line in text.splitlines() if line in {"Overview", "Key points", "Blockers", "Action items"}
    ]
    assert headings == ["Overview", "Key points", "Blockers", "Action items"]
    blockers = text.split("Blockers\n", 1)[1].split("\n\n", 1)[0]
    assert "needs a language model" in blockers
    assert profile.model_only() == ["blockers"]
    # The meeting's decisions have no section here: they are kept among the key points.
    plain = ExtractiveEngine().sections(MEETING, 600)
    for decision in plain.decisions:
        assert decision.text in text


def test_the_extractive_engine_localizes_the_standard_headings_and_keeps_the_profiles_own() -> None:
    text = ExtractiveEngine().summarise(GERMAN, 600, profile=PROFILES["one-on-one"])
    de = LANGUAGES["de"]
    for heading in (de.overview, de.key_points, "Feedback", de.decisions, de.action_items):
        assert f"\n{heading}\n" in text


def test_a_profiles_own_localized_heading_is_written_and_read_back() -> None:
    retro = RETRO | {
        "sections": [*RETRO["sections"][:2], RETRO["sections"][2] | {"titles": {"de": "Verbessern"}}]
    }  # type: ignore[index]
    result = run_inline({"text": GERMAN, "options": {"profile": "retro"}, "profile": retro})
    assert result["status"] == "ok", result
    assert (
        "\nVerbessern\n" in result["summary"] and "\nWent well\n" in result["summary"]
    )  # the stated fallback
    sections = result["structure"]["sections"]
    assert sections["went_well"] and sections["to_improve"] == []  # read back; the note is no item
    prompt = instructions(
        SummaryTask(
            "single",
            "x",
            256,
            SummaryOptions(language="de"),
            profile=JobInput.parse(
                {"text": "x", "options": {"profile": "retro"}, "profile": retro}
            ).summary_profile(),
        )
    )
    assert "Überblick, Went well, Verbessern" in prompt


def test_the_structure_reads_a_profiles_own_sections() -> None:
    answer = (
        "## Overview\nThe sprint went fine.\n\n## Went well\n- The release shipped on time.\n\n"
        "## To improve\n- Reviews take too long [00:01:05]\n\n"
        "## Action items\n- Dana: shorten reviews (Friday)\n"
    )
    structure = parse_structure(
        answer, own_sections=[("went_well", "Went well"), ("to_improve", "To improve")]
    )
    assert structure["parsed"] and structure["overview"] == "The sprint went fine."
    assert structure["sections"] == {
        "went_well": ["The release shipped on time."],
        "to_improve": ["Reviews take too long"],
    }
    assert structure["action_items"][0]["owner"] == "Dana"


# ---- through the worker ------------------------------------------------------------------------------
def run_inline(raw: dict[str, Any]) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        transfers = Transfers(UrlPolicy(), timeout_s=5, attempts=1)
        try:
            return await JobRunner(WorkerSettings(), ExtractiveEngine(), transfers).run("job-profile", raw)
        finally:
            await transfers.aclose()

    return asyncio.run(go())


def test_a_user_profile_sent_with_the_job_shapes_the_summary_and_its_structure() -> None:
    result = run_inline({"text": MEETING, "options": {"profile": "retro"}, "profile": RETRO})
    assert result["status"] == "ok", result
    assert "Went well" in result["summary"] and "To improve" in result["summary"]
    structure = result["structure"]
    assert set(structure["sections"]) == {"went_well", "to_improve"}


def test_a_profile_the_worker_does_not_know_is_refused_naming_it() -> None:
    result = run_inline({"text": MEETING, "options": {"profile": "retro"}})
    assert "options.profile 'retro' is not a built-in profile" in result["error"]
    mismatch = run_inline(
        {"text": MEETING, "options": {"profile": "retro"}, "profile": RETRO | {"name": "other"}}
    )
    assert "is not options.profile" in mismatch["error"]


def test_a_profiles_length_is_the_request_when_the_upload_names_none() -> None:
    job = JobInput.parse({"text": "x", "options": {"profile": "standup"}})
    assert job.summary_profile().max_tokens == 400


# ---- through the dispatcher -------------------------------------------------------------------------
def test_the_dispatcher_reads_the_users_profiles_once_and_sends_the_chosen_definition(
    dispatcher_env: DispatcherEnv, emulator: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="config/profiles.json", Body=json.dumps({"profiles": [RETRO]}).encode())
    s3.put_object(
        Bucket=bucket, Key="sprint.txt", Body=b"Alice: ok.\n", Metadata={"summary-profile": "retro"}
    )
    dispatcher = Dispatcher.from_env(
        dispatcher_env(SUMMARY_PROFILES_URI=f"s3://{bucket}/config/profiles.json")
    )
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-12-04T10:15:30.123Z",
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": "sprint.txt", "size": 11, "eTag": "0" * 32},
                },
            }
        ]
    }
    dispatcher.run(event)
    (job,) = emulator.jobs.values()
    assert job.input["options"]["profile"] == "retro" and job.input["profile"] == RETRO
    assert JobInput.parse(job.input).summary_profile().name == "retro"


def test_a_broken_profiles_document_stops_the_cold_start_naming_the_setting(
    dispatcher_env: DispatcherEnv,
) -> None:
    with pytest.raises(SettingsError, match=r"SUMMARY_PROFILES_URI: profiles\[0\]\.sections"):
        Dispatcher.from_env(
            dispatcher_env(SUMMARY_PROFILES_URI=json.dumps({"profiles": [RETRO | {"sections": 1}]}))
        )
    with pytest.raises(SettingsError, match=r"SUMMARY_PROFILES_URI: GET s3://nowhere-bucket/profiles\.json"):
        Dispatcher.from_env(dispatcher_env(SUMMARY_PROFILES_URI="s3://nowhere-bucket/profiles.json"))
    inline = Dispatcher.from_env(dispatcher_env(SUMMARY_PROFILES_URI=json.dumps({"profiles": [RETRO]})))
    assert "retro" in inline.options.profile_names
