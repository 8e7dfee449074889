"""`options.language` chooses the summary's language only; decisions and action items are found by
the cues of the language the meeting is spoken in (issue 20 part 6: a German meeting summarised in
English listed none)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT
from worker.engines import ExtractiveEngine
from worker.meeting import LANGUAGES
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

TRANSCRIPTS = ROOT / "tests" / "transcripts"
# (the meeting's language, the summary's): every pair crosses scripts or cue vocabularies.
PAIRS = [("de", "en"), ("ja", "en"), ("it", "fr"), ("es", "de"), ("zh", "en"), ("fr", "ko"), ("nl", "en")]


def run_inline(text: str, options: dict[str, Any]) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        transfers = Transfers(UrlPolicy(), timeout_s=5, attempts=1)
        try:
            raw = {"text": text, "options": options}
            return await JobRunner(WorkerSettings(), ExtractiveEngine(), transfers).run("job-lang", raw)
        finally:
            await transfers.aclose()

    return asyncio.run(go())


def meeting(code: str) -> str:
    return Path(TRANSCRIPTS / f"meeting_{code}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(("spoken", "written"), PAIRS)
def test_a_language_override_keeps_the_meetings_decisions_and_action_items(spoken: str, written: str) -> None:
    engine = ExtractiveEngine()
    own = engine.sections(meeting(spoken), 800)
    assert own.decisions and own.action_items, "the fixture has both in its own language"
    other = engine.sections(meeting(spoken), 800, language=written)
    assert other.language.code == written  # headings in the language asked for
    assert [s.text for s in other.decisions] == [s.text for s in own.decisions]
    assert [s.text for s in other.action_items] == [s.text for s in own.action_items]


@pytest.mark.parametrize(("spoken", "written"), [("de", "en"), ("ja", "en"), ("it", "fr")])
def test_through_the_runner_the_structure_has_them_under_the_chosen_languages_headings(
    spoken: str, written: str
) -> None:
    result = run_inline(meeting(spoken), {"language": written})
    assert result["status"] == "ok", result
    headings = LANGUAGES[written].headings
    assert all(h in result["summary"] for h in headings)
    structure = result["structure"]
    assert structure["parsed"] and structure["decisions"] and structure["action_items"]
