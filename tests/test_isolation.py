"""worker/isolation.py: who was on the engine when it died, and a suspected poison job runs alone."""

from __future__ import annotations

import asyncio

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
