"""`python -m client backfill` and re-summarise: objects already in the bucket go through the
upload's own path (dispatcher filters, ledger claim, job input) in the whole local cloud; `--force`
gets past the ledger and the worker's duplicate check; an unchanged `submit --wait` returns at once.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from client.backfill import Backfill, Progress, Tally, parse_rate, parse_target
from client.cli import main
from devstack.cloud import CloudConfig, LocalCloud
from dispatcher.events import ObjectRef, parse_event
from dispatcher.job import build_job_input
from dispatcher.presign import Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload, parse_id
from tests.conftest import ROOT, DispatcherEnv
from tests.test_freshness import outputs, upload
from tests.test_runner import _run

if TYPE_CHECKING:
    from tests.reconcile_stack import Stack

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_bytes()
MEETINGS = sorted((ROOT / "tests" / "transcripts").glob("meeting*.txt"))  # ten languages


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
    assert _run(job)["status"] == "ok"
    summary_key = Upload.of(ref, settings).summary_key
    s3.put_object(Bucket=bucket, Key=summary_key, Body=b"the old model's summary")
    assert _run(job)["status"] == "duplicate"
    forced = build_job_input(Upload.of(ref, settings, "2026-12-04T16:00:00+00:00"), presigner, settings)
    assert forced["resummarize"] is True
    assert _run(forced)["status"] == "ok"
    summary, meta = outputs(s3, bucket, "plans/again.txt", settings)
    assert "old model" not in summary and meta["status"] == "ok"


# ---- through the whole local cloud --------------------------------------------------------------
@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # The deployed stack's shape: uploads under incoming/ trigger; archive/ holds older files.
    with LocalCloud(CloudConfig(worker_concurrency=4, input_prefix="incoming/")) as running:
        yield running


def _cli(cloud: LocalCloud, *argv: str) -> tuple[int, str, str]:
    env = cloud.dispatcher_env() | {"TRANSCRIPTS_BUCKET": cloud.config.bucket}
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env, out, err)
    return code, out.getvalue(), err.getvalue()


def _jobs(cloud: LocalCloud) -> int:
    return len(cloud.emulator.jobs)


@pytest.mark.e2e
def test_backfill_of_a_prefix_of_twenty_files_counts_what_it_did(cloud: LocalCloud) -> None:
    keys = [f"archive/{n:02d}-{path.name}" for n, path in enumerate(MEETINGS * 2)][:18]
    for key, path in zip(keys, MEETINGS * 2, strict=False):
        cloud.upload(key, path.read_bytes())
    cloud.upload("archive/slides.pdf", b"%PDF-1.4")  # not an input suffix
    cloud.upload("archive/old_summary.txt", b"a summary")  # looks like our own output
    assert _jobs(cloud) == 0  # outside the trigger's prefix: nothing was summarised

    code, out, err = _cli(cloud, "--prefix", "/", "backfill", "s3://transcripts/archive/", "--dry-run")
    assert code == 0, err
    assert out.strip() == "would dispatch 18, already summarised 0, skipped 2, failed 0"
    assert _jobs(cloud) == 0

    code, out, err = _cli(cloud, "--prefix", "/", "backfill", "s3://transcripts/archive/", "--rate", "50/s")
    assert code == 0, err
    assert out.strip() == "dispatched 18, already summarised 0, skipped 2, failed 0"
    assert "[20/20]" in err and "does not end in" in err and "looks like a summary" in err
    assert _jobs(cloud) == 18
    for key in keys:
        assert cloud.wait_for_metadata(key, 180)["status"] == "ok"

    # Again: every version has its ok summary, so nothing is sent.
    code, out, err = _cli(cloud, "--prefix", "/", "backfill", "s3://transcripts/archive/")
    assert out.strip() == "dispatched 0, already summarised 18, skipped 2, failed 0", err
    assert _jobs(cloud) == 18


@pytest.mark.e2e
def test_force_resummarises_what_has_an_ok_summary(cloud: LocalCloud) -> None:
    key = "incoming/forced.txt"
    cloud.upload(key, SAMPLE)
    first = cloud.wait_for_metadata(key, 120)
    assert first["status"] == "ok"
    # Without --force the ledger and the existing summary both say done.
    assert _cli(cloud, "backfill", "s3://transcripts/incoming/forced")[1].startswith("dispatched 0")
    code, out, err = _cli(cloud, "backfill", "s3://transcripts/incoming/forced", "--force")
    assert code == 0 and out.strip() == "dispatched 1, already summarised 0, skipped 0, failed 0", err
    meta = _rewritten(cloud, key, first["job_id"])
    assert meta["status"] == "ok" and meta["source"]["etag"] == first["source"]["etag"]
    # The forced claim is an entry of its own; it closes on the new summary.
    cloud.reconciler().run()
    (entry,) = [e for e in cloud.dispatcher.ledger.entries() if e.key == key and e.resummarize]
    assert entry.state == "ok" and entry.job_id == meta["job_id"]


def _rewritten(cloud: LocalCloud, key: str, old_job: str, timeout_s: float = 120) -> dict[str, Any]:
    """The metadata of `key` once a job other than `old_job` wrote it."""
    deadline = time.monotonic() + timeout_s
    while (meta := cloud.wait_for_metadata(key, timeout_s))["job_id"] == old_job:
        assert time.monotonic() < deadline, f"the metadata of {key} was never rewritten"
        time.sleep(0.2)
    return meta


@pytest.mark.e2e
def test_an_unchanged_resubmit_with_wait_returns_the_existing_summary_at_once(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    meeting = tmp_path / "unchanged.txt"
    meeting.write_bytes(SAMPLE)
    code, first, err = _cli(cloud, "submit", str(meeting), "--wait", "--interval", "0.3", "--timeout", "120")
    assert code == 0, err
    assert "job " in err  # the job id, from the ledger
    jobs = _jobs(cloud)
    # The same bytes again: a timeout far below a job's length, and no new job.
    code, again, err = _cli(cloud, "submit", str(meeting), "--wait", "--interval", "0.3", "--timeout", "2")
    assert code == 0, err
    assert again == first and "unchanged" in err
    assert _jobs(cloud) == jobs


@pytest.mark.e2e
def test_submit_prints_the_job_id_on_stdout(cloud: LocalCloud, tmp_path: Path) -> None:
    meeting = tmp_path / "printed.txt"
    meeting.write_bytes(SAMPLE)
    code, out, err = _cli(cloud, "submit", str(meeting))
    assert code == 0, err
    assert out.strip() in cloud.emulator.jobs


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
