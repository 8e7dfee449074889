"""Poison transcripts end (issue 12), through the local cloud with real worker processes.

The model server is tests/support/fake_openai_server.py standing in as `vllm.entrypoints.openai.api_server`
(on PYTHONPATH, as tests/e2e/test_vllm_supervisor.py does), so each worker's real supervisor starts and
watches it; it dies the moment a prompt holds the marker word. A worker that loses its engine fails
the jobs it holds (`engine_unavailable` metadata) and exits 3; `LocalCloud.replaced_workers()`
starts a fresh one each time, as RunPod replaces a worker. The reconciler runs on a frozen clock:
no deadline ever passes, so every retry here is the engine path's, decided from the metadata.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devstack.cloud import CloudConfig, LocalCloud, free_port
from dispatcher.ledger import Entry
from dispatcher.outcomes import WAITING_EXCUSES
from tests.support.paths import ROOT
from tests.support.procs import fake_vllm_site, scaled, until

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

POISON = "XYZZY-ENGINE-KILLER"
MAX_ATTEMPTS = 2
GENERATION_S = 0.5
INNOCENT = b"""Alice: The migration starts on Monday and the vendor delivers the scanners on Tuesday.
Bob: I will prepare the staffing plan for the parallel running period by Friday.
"""
POISONED = f"""Alice: Please read the attached note aloud.
Bob: It says {POISON} and nothing else.
""".encode()
API_SERVER = "import sys\nfrom tests.support.fake_openai_server import vllm_main\n\nvllm_main(sys.argv[1:])\n"


@pytest.fixture
def fake_vllm(tmp_path: Path) -> Path:
    return fake_vllm_site(tmp_path, API_SERVER)


def entries(cloud: LocalCloud) -> dict[str, Entry]:
    assert cloud.dispatcher is not None and cloud.dispatcher.ledger is not None
    return {e.key: e for e in cloud.dispatcher.ledger.entries()}


def metadata(cloud: LocalCloud, key: str) -> dict[str, Any]:
    return json.loads(cloud.read(cloud.output_keys(key)[1]))  # type: ignore[no-any-return]


def jobs_of(cloud: LocalCloud, key: str) -> list[dict[str, Any]]:
    found = [j for j in cloud.emulator.jobs.values() if j.input["source"]["key"] == key]
    return [j.input for j in sorted(found, key=lambda j: j.created)]


def reconcile_until_closed(
    cloud: LocalCloud, keys: list[str], clock: Callable[[], float]
) -> dict[str, Entry]:
    """The schedule, compressed: a reconciler pass every half second until every entry is closed."""

    def closed() -> dict[str, Entry] | None:
        cloud.reconciler(clock=clock).run()
        found = entries(cloud)
        if all(k in found and found[k].state != "dispatched" for k in keys):
            return found
        time.sleep(0.5)
        return None

    return until(closed, 240, "every upload closed by the reconciler")


def poison_worker_env(fake_vllm: Path) -> dict[str, str]:
    """A worker on the stand-in vLLM server, which dies on the poison transcript."""
    return {
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL": "org/fake-model",
        "WORKER_MAX_MODEL_LEN": "4096",
        "WORKER_VLLM_PYTHON": sys.executable,
        "WORKER_VLLM_PORT": str(free_port()),
        "PYTHONPATH": os.pathsep.join([str(fake_vllm), str(ROOT)]),
        "FAKE_OPENAI_DIE_ON": POISON,
        "FAKE_OPENAI_DELAY_S": str(GENERATION_S),
    }


def test_poison_transcript_ends_as_engine_crashed_and_the_upload_beside_it_ends_ok(
    fake_vllm: Path, tmp_path: Path
) -> None:
    worker_env = {
        **poison_worker_env(fake_vllm),
        # The innocent job's first generation is held until the poison kills the engine under it.
        "FAKE_OPENAI_HOLD_UNTIL_DEATH": str(tmp_path / "engine-died"),
    }
    config = CloudConfig(
        start_worker=False,
        worker_concurrency=2,
        worker_env=worker_env,
        dispatcher_env={"JOB_MAX_ATTEMPTS": str(MAX_ATTEMPTS)},
        log_dir=tmp_path,
    )
    frozen = time.time()
    innocent, poison, after = "poison/innocent.txt", "poison/poisoned.txt", "poison/after.txt"
    log = tmp_path / "worker.log"
    with LocalCloud(config) as cloud, cloud.replaced_workers() as exits:
        until(lambda: cloud.emulator.last_seen, 60, "the first worker polling for jobs")
        cloud.upload(innocent, INNOCENT)
        # The innocent job is generating when the poison one reaches the engine: one worker holds both.
        until(lambda: log.exists() and "generating" in log.read_text(), 60, "the innocent job generating")
        cloud.upload(poison, POISONED)
        closed = reconcile_until_closed(cloud, [innocent, poison], lambda: frozen)

        # The poison upload ends as error metadata, counted against it MAX_ATTEMPTS times only.
        bad = closed[poison]
        assert (bad.state, bad.code) == ("error", "engine_crashed"), bad
        assert bad.attempts == MAX_ATTEMPTS
        meta = metadata(cloud, poison)
        assert meta["status"] == "error" and meta["error"]["code"] == "engine_crashed"
        assert meta["written_by"] == "reconciler" and meta["source"]["key"] == poison
        assert f"gave up after {MAX_ATTEMPTS} attempt(s)" in meta["error"]["message"]
        poison_jobs = jobs_of(cloud, poison)
        assert len(poison_jobs) == bad.attempts + bad.uncharged <= 2 * MAX_ATTEMPTS
        # Each retry told the worker why the last run ended, so it ran alone on the engine.
        assert "previous_error" not in poison_jobs[0]
        for run, job in enumerate(poison_jobs[1:], start=2):
            assert (job["attempt"], job["previous_error"]) == (run, "engine_unavailable")

        # The upload that shared the dying worker is excused, not blamed: it ends ok.
        good = closed[innocent]
        assert good.state == "ok", good
        assert metadata(cloud, innocent)["status"] == "ok"
        assert good.uncharged >= 1  # it was on the engine when the poison killed it
        assert good.attempts == 1  # ... and that death was never counted against it

        # Every engine death cost one worker (exit 3), and only the poison's runs killed one.
        # (The last one may still be stopping: its metadata is written before it exits.)
        until(lambda: len(exits) >= len(poison_jobs), 60, "the last poisoned worker replaced")
        assert exits == [3] * len(poison_jobs)

        # No crash loop: the replaced worker keeps taking work once the poison upload has ended.
        cloud.upload(after, INNOCENT)
        until(lambda: after in entries(cloud), 30, "the next upload dispatched")
        assert cloud.wait_for_metadata(after, scaled(60))["status"] == "ok"
        assert len(exits) == len(poison_jobs)
    lines = log.read_text().splitlines()
    assert sum(line.startswith("fake engine:") for line in lines) == len(poison_jobs)  # the server's own
    assert sum("died with code 70" in line for line in lines) == len(poison_jobs)  # the supervisor's


def test_two_poison_transcripts_among_innocent_ones_end_as_engine_crashed_and_the_others_ok(
    fake_vllm: Path, tmp_path: Path
) -> None:
    worker_env = poison_worker_env(fake_vllm)
    config = CloudConfig(
        start_worker=False,
        worker_concurrency=2,
        worker_env=worker_env,
        dispatcher_env={"JOB_MAX_ATTEMPTS": "1"},  # the lowest setting: one counted death ends it
        log_dir=tmp_path,
    )
    frozen = time.time()
    keys = ["poison/two-a.txt", "poison/fine-1.txt", "poison/two-b.txt", "poison/fine-2.txt"]
    poisoned = {keys[0], keys[2]}
    with LocalCloud(config) as cloud, cloud.replaced_workers() as exits:
        until(lambda: cloud.emulator.last_seen, 60, "the first worker polling for jobs")
        for key in keys:  # interleaved: poison, innocent, poison, innocent
            cloud.upload(key, POISONED if key in poisoned else INNOCENT)
        closed = reconcile_until_closed(cloud, keys, lambda: frozen)
        for key in keys:
            entry = closed[key]
            if key in poisoned:
                assert (entry.state, entry.code) == ("error", "engine_crashed"), entry
                # One counted run; excused runs: one next to others, more while waiting for a seat.
                assert entry.attempts == 1 and len(jobs_of(cloud, key)) <= 1 + WAITING_EXCUSES
                assert metadata(cloud, key)["error"]["code"] == "engine_crashed"
            else:
                assert entry.state == "ok" and entry.attempts == 1, entry
                assert metadata(cloud, key)["status"] == "ok"
        # Bounded: no more worker exits than poison runs (no crash loop).
        runs = sum(len(jobs_of(cloud, key)) for key in poisoned)
        assert len(exits) <= runs
