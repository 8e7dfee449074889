"""Who is on the engine: a suspected poison job runs alone, and a job whose engine died learns
whether it was alone on it.

A transcript that kills the model server also fails every other job the worker holds (they all get
`engine_unavailable` metadata). The reconciler (dispatcher/reconciler.py) must not count those
deaths against the innocent jobs, or an upload that shared a worker with a poison one a few times
would end as `engine_crashed`. So each job's engine work takes a seat here:

- `alone=False` (a normal run): seats are shared, up to the worker's concurrency.
- `alone=True` (the reconciler's retry of a job whose engine died before, `previous_error:
  engine_unavailable` in its input): it waits until no other job is on the engine and keeps the
  others out while it runs, so if the engine dies again the evidence is this transcript's alone.
  Waiting isolated jobs go before new shared ones (no starvation).

`Seat.alone` is what the metadata reports (`error.alone_on_engine`): true only when no other job was
on the engine at any moment of this job's engine work, and the engine was not already lost when the
job sat down. It leans towards "not alone" (an overlap that ended before the death still counts), the
direction that never blames an innocent job; the isolated retry then gives a clear answer.

Per worker process and event loop (the runpod SDK runs one); no threads, no I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class Seat:
    job_id: str
    exclusive: bool
    shared: bool = False  # another job was on the engine at some moment while this one was
    late: bool = False  # the engine was already lost when this job sat down

    @property
    def alone(self) -> bool:
        return not self.shared and not self.late


class EngineSeats:
    def __init__(self) -> None:
        self._cond: asyncio.Condition | None = None
        self._seated: dict[str, Seat] = {}
        self._exclusive = False
        self._waiting_exclusive = 0
        self.lost = False  # set by the runner when a job's engine work ended with the engine gone

    @asynccontextmanager
    async def seat(self, job_id: str, *, alone: bool) -> AsyncIterator[Seat]:
        cond = self._condition()
        seat = Seat(job_id, exclusive=alone)
        async with cond:
            if alone:
                self._waiting_exclusive += 1
                try:
                    await cond.wait_for(lambda: not self._seated)
                finally:
                    self._waiting_exclusive -= 1
                    cond.notify_all()  # shared seats wait while an exclusive one is waiting
                self._exclusive = True
            else:
                await cond.wait_for(lambda: not self._exclusive and not self._waiting_exclusive)
            if self._seated:
                seat.shared = True
                for other in self._seated.values():
                    other.shared = True
            seat.late = self.lost
            self._seated[job_id] = seat
        try:
            yield seat
        finally:
            async with cond:
                del self._seated[job_id]
                if alone:
                    self._exclusive = False
                cond.notify_all()

    def _condition(self) -> asyncio.Condition:
        # Created in the loop that uses it (the SDK's), not at import or in __init__.
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond
