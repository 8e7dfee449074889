"""worker/isolation.py: who was on the engine when it died, and a suspected poison job runs alone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from dispatcher.presign import Presigner
from worker.engines import Completion, SummaryTask
from worker.isolation import EngineSeats


def test_a_job_alone_on_the_engine_is_alone_and_an_overlap_makes_both_shared() -> None:
    async def scenario() -> None:
        seats = EngineSeats()
        async with seats.seat("a", alone=False) as first:
            pass
        assert first.alone
        async with seats.seat("b", alone=False) as second, seats.seat("c", alone=False) as third:
            pass
        # An overlap that ended before a death still counts: never blame an innocent job.
        assert not second.alone and not third.alone

    asyncio.run(scenario())


def test_an_isolated_job_waits_for_the_engine_to_empty_and_keeps_new_jobs_out() -> None:
    async def scenario() -> list[str]:
        seats = EngineSeats()
        order: list[str] = []
        release = asyncio.Event()

        async def job(name: str, alone: bool, hold: asyncio.Event | None = None) -> bool:
            async with seats.seat(name, alone=alone) as seat:
                order.append(f"{name}+")
                if hold is not None:
                    await hold.wait()
                await asyncio.sleep(0.01)
                order.append(f"{name}-")
            return seat.alone

        shared = asyncio.create_task(job("shared", False, release))
        await asyncio.sleep(0.01)
        isolated = asyncio.create_task(job("isolated", True))
        await asyncio.sleep(0.01)
        later = asyncio.create_task(job("later", False))  # queued behind the waiting isolated job
        await asyncio.sleep(0.01)
        assert order == ["shared+"]
        release.set()
        assert await isolated
        await asyncio.gather(shared, later)
        return order

    assert asyncio.run(scenario()) == ["shared+", "shared-", "isolated+", "isolated-", "later+", "later-"]


def test_a_job_seated_after_the_engine_was_lost_is_not_alone() -> None:
    async def scenario() -> bool:
        seats = EngineSeats()
        seats.lost = True
        async with seats.seat("late", alone=True) as seat:
            return seat.alone

    assert asyncio.run(scenario()) is False


def test_a_job_waiting_for_its_seat_when_the_engine_dies_says_it_never_reached_the_engine(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    from tests.support.fakes import FakeEngine
    from worker.errors import EngineUnavailableError
    from worker.runner import JobRunner
    from worker.settings import WorkerSettings
    from worker.transfer import Transfers, UrlPolicy

    class DyingEngine(FakeEngine):
        async def complete(self, task: SummaryTask) -> Completion:
            await asyncio.sleep(0.3)  # the isolated job queues behind this one meanwhile
            raise EngineUnavailableError("the model server exited")

        def shutdown(self) -> None:
            return None

    def job(name: str, **extra: Any) -> dict[str, Any]:
        meta_url = presigner.put(bucket, f"summaries/{name}.json", "application/json")
        return {
            "text": "Alice: We ship on Monday.\nBob: I will test it.\n",
            "metadata_put_url": meta_url,
        } | extra

    async def scenario() -> None:
        transfers = Transfers(UrlPolicy(allow_loopback=True), timeout_s=5, attempts=1, backoff_s=0.01)
        runner = JobRunner(WorkerSettings(allow_loopback_urls=True), DyingEngine(), transfers)
        try:
            first = asyncio.create_task(runner.run("first", job("first")))
            await asyncio.sleep(0.1)
            waiting = asyncio.create_task(
                runner.run("waiting", job("waiting", attempt=2, previous_error="engine_unavailable"))
            )
            for task in (first, waiting):
                with pytest.raises(EngineUnavailableError):
                    await task
        finally:
            await transfers.aclose()

    asyncio.run(scenario())

    def error(name: str) -> dict[str, Any]:
        body = s3.get_object(Bucket=bucket, Key=f"summaries/{name}.json")["Body"].read()
        found: dict[str, Any] = json.loads(body)["error"]
        return found

    assert error("first") | {"message": ""} == {
        "code": "engine_unavailable",
        "message": "",
        "alone_on_engine": True,
        "reached_engine": True,
    }
    assert error("waiting")["alone_on_engine"] is False and error("waiting")["reached_engine"] is False
