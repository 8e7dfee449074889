"""One worker job in a fresh process, for the overhead benchmark: `python -m bench.job_probe`.

Reads `{"env": {...}, "input": {...}}` on stdin, builds settings, engine and transfers exactly as
`handler.py` does (but without the runpod SDK loop), runs `JobRunner.run` once and prints JSON:
the runner's own stage timings, the wall time around the whole job (metadata upload included),
and peak RSS before and after the job. A fresh process per size keeps each peak RSS its own.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    request = json.load(sys.stdin)
    from worker.engines import build_engine
    from worker.meeting import warm
    from worker.runner import JobRunner
    from worker.settings import WorkerSettings
    from worker.transfer import Transfers

    settings = WorkerSettings.from_env(request["env"])
    engine = build_engine(settings.engine_settings)
    transfers = Transfers.from_settings(settings)
    runner = JobRunner(settings, engine, transfers)
    warm()  # as handler.py does before the SDK takes a job
    rss_before = _rss_mib()

    async def run() -> dict[str, object]:
        try:
            return await runner.run("bench-job", request["input"])
        finally:
            await transfers.aclose()

    tick = time.perf_counter()
    result = asyncio.run(run())
    wall = time.perf_counter() - tick
    json.dump(
        {"result": result, "wall_s": wall, "rss_before_mib": rss_before, "rss_peak_mib": _rss_mib()},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
