"""`python -m client backfill` and re-summarise, without the whole cloud: the rate, the target, the
progress display, the help; a re-summarise is an upload of its own that the worker honours over an ok
summary of the same version, and that the reconciler closes on its own summary. The runs through
the whole local cloud are tests/e2e/test_backfill_cloud.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from client.backfill import Backfill, Progress, Tally, parse_rate, parse_target
from client.cli import main
from dispatcher.events import ObjectRef, parse_event
from dispatcher.job import build_job_input
from dispatcher.presign import Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload, parse_id
from tests.support.dispatch import DispatcherEnv
from tests.support.jobs import outputs, run_job, upload
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from tests.support.reconcile_stack import Stack

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_bytes()


# ---- pure parts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "rate"), [("5/s", 5.0), ("5", 5.0), ("0.5/s", 0.5)])
def test_rate_reads_per_second(text: str, rate: float) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "-1/s", "fast", "5/m", ""])
def test_a_bad_rate_names_the_flag(text: str) -> None:
    with pytest.raises(ValueError, match="--rate"):
        parse_rate(text)


def test_the_rate_spaces_the_dispatches() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    paced = Backfill(None, None, io.StringIO(), rate=2.0, sleep=sleep, clock=lambda: now[0])  # type: ignore[arg-type]
    for _ in range(5):
        paced._pace()
    assert slept == [0.5, 0.5, 0.5, 0.5]  # five /run calls at 2/s: four half-second waits


def test_target_is_an_s3_url() -> None:
    assert parse_target("s3://transcripts/archive/2025/") == ("transcripts", "archive/2025/")
    assert parse_target("s3://transcripts") == ("transcripts", "")
    for bad in ("transcripts/archive/", "s3:///archive/", "https://x/y"):
        with pytest.raises(ValueError, match="s3://bucket/prefix/"):
            parse_target(bad)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    tally = Tally()
    bar, plain = _Terminal(), io.StringIO()
    for err in (bar, plain):
        progress = Progress(err, 2)
        tally.counts["dispatched"] += 1
        progress.step(tally, "a.txt", "dispatched as job j1")
        progress.step(tally, "b.pdf", "skipped (does not end in '.txt')")
    assert bar.getvalue().startswith("\r[" + "#" * 15) and bar.getvalue().endswith("\n")
    assert "\n" not in bar.getvalue()[:-1]  # redrawn in place
    assert plain.getvalue().splitlines() == [
        "[1/2] dispatched as job j1: a.txt",
        "[2/2] skipped (does not end in '.txt'): b.pdf",
    ]


def test_a_resummarise_is_an_upload_of_its_own_with_the_versions_identity(
    dispatcher_env: DispatcherEnv,
) -> None:
    settings = Settings.from_env(dispatcher_env())
    ref = ObjectRef("b", "in/a.txt", version_id="v1", etag="e")
    first, again = Upload.of(ref, settings), Upload.of(ref, settings, "2026-12-04T16:00:00+00:00")
    assert first.id != again.id and again.metadata_key == first.metadata_key
    assert parse_id(again.id) == parse_id(first.id) == ("b", "in/a.txt", "v1")


def test_backfill_without_the_dispatchers_settings_names_what_is_missing() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["backfill", "s3://transcripts/archive/"], {"AWS_REGION": "us-east-1"}, out, err)
    assert code == 2 and "RUNPOD_ENDPOINT_URL is required but not set" in err.getvalue()
    code = main(["backfill", "transcripts/archive/"], {}, out, err)
    assert code == 2 and "expected s3://bucket/prefix/" in err.getvalue()


def test_backfill_help_works() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "client", "backfill", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    for flag in ("--force", "--dry-run", "--rate", "s3://BUCKET/PREFIX/"):
        assert flag in answer.stdout


# ---- the worker honours a re-summarise ----------------------------------------------------------
def test_a_resummarise_job_writes_over_an_ok_summary_of_the_same_version(
    s3: Any, bucket: str, presigner: Presigner, dispatcher_env: DispatcherEnv
) -> None:
    settings = Settings.from_env(dispatcher_env())
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ref = upload(s3, bucket, "plans/again.txt", SAMPLE)
    job = build_job_input(Upload.of(ref, settings), presigner, settings)
    assert run_job(job)["status"] == "ok"
    summary_key = Upload.of(ref, settings).summary_key
    s3.put_object(Bucket=bucket, Key=summary_key, Body=b"the old model's summary")
    assert run_job(job)["status"] == "duplicate"
    forced = build_job_input(Upload.of(ref, settings, "2026-12-04T16:00:00+00:00"), presigner, settings)
    assert forced["resummarize"] is True
    assert run_job(forced)["status"] == "ok"
    summary, meta = outputs(s3, bucket, "plans/again.txt", settings)
    assert "old model" not in summary and meta["status"] == "ok"


def test_a_resummarise_is_closed_by_its_own_summary_not_the_one_it_replaces(stack: Stack) -> None:
    event = stack.upload("plans/resummarised.txt")
    (ref,) = parse_event(event).objects
    s = stack.dispatcher.settings
    metadata_key = Upload.of(ref, s).metadata_key
    source = {"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id, "etag": ref.etag}
    old = {"schema": 1, "job_id": "old-model", "status": "ok", "source": source}
    stack.s3.put_object(
        Bucket=stack.bucket,
        Key=metadata_key,
        Body=json.dumps(old | {"finished_at": "2026-01-01T00:00:00+00:00"}),
    )
    asked = datetime.now(UTC).isoformat(timespec="seconds")
    assert stack.dispatcher.dispatch(ref, resummarize=asked).job_id
    (forced,) = [e for e in stack.ledger.entries() if e.resummarize == asked]
    stack.reconciler().run()
    assert stack.ledger.get_id(forced.id).state == "dispatched"  # the old summary does not close it
    new = old | {"job_id": forced.job_id, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    stack.s3.put_object(Bucket=stack.bucket, Key=metadata_key, Body=json.dumps(new))
    stack.reconciler().run()
    assert stack.ledger.get_id(forced.id).state == "ok"
