"""The structure the worker writes into the metadata names owners as the meeting does: a word the
transcript writes in lower case somewhere ("Please, next slide.", "Only buttons we need ...") is
never an owner, while a person it addresses is (issue 22). The lines are real shapes from QMSum's
AMI and ICSI meetings."""

from __future__ import annotations

from typing import Any

from dispatcher.presign import Presigner
from tests.support.jobs import run_engine_job
from worker.engines import ExtractiveEngine
from worker.settings import WorkerSettings

MEETING = """\
Project Manager: Okay, let's start, we have the agenda for today and only thirty minutes.
Industrial Designer: Only buttons we need is on off, volume and channels, and please make a click.
Project Manager: Please, next slide.
Marketing: Just, uh, as a sort of a mental bridge, I'll send the survey results by Friday.
Project Manager: Dana, can you send the cost sheet to the team by Friday?
Dana: Sure, I will send the cost sheet by Friday, it is just a copy of the last one.
Marketing: We should not forget the younger users, they want a remote that looks good.
"""


def test_the_metadata_never_names_a_lower_case_word_of_the_meeting_as_an_owner(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    result, meta = run_engine_job(
        ExtractiveEngine(), s3, bucket, presigner, {"text": MEETING}, WorkerSettings(allow_loopback_urls=True)
    )
    assert result["status"] == "ok", result
    owners = {a["owner"] for a in meta["structure"]["action_items"]}
    assert owners, meta["structure"]
    assert not owners & {"Only", "Please", "Just"}, owners
    # Unassigned (None) is no word: "... and please make a click" asks whoever answers, and nobody did.
    assert owners - {None} <= {"Project Manager", "Industrial Designer", "Marketing", "Dana"}, owners
