"""`python -m client backfill` and `--force` through the whole local cloud: objects already in the
bucket go through the upload's own path (dispatcher filters, ledger claim, job input); `--force` gets
past the ledger and the worker's duplicate check; an unchanged `submit --wait` returns at once.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client.cli import main
from devstack.cloud import CloudConfig, LocalCloud
from tests.support.paths import ROOT

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_bytes()
MEETINGS = sorted((ROOT / "tests" / "transcripts").glob("meeting*.txt"))  # ten languages


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
