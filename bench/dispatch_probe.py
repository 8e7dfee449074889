"""The dispatcher in a fresh process, as a Lambda cold start then warm invocations:
`python -m bench.dispatch_probe`.

Reads `{"env": {...}, "events": [...]}` on stdin. Times `import dispatcher.app`, building the
dispatcher (settings, boto3 client, RunPod client) and the first event, then every further event
on the now-warm instance, and counts the HTTP requests its S3 client sent (the pull design sends
none: presigning is local). Prints JSON with the timings and peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    started = time.perf_counter()
    request = json.load(sys.stdin)
    tick = time.perf_counter()
    from dispatcher.app import Dispatcher

    imported = time.perf_counter()
    dispatcher = Dispatcher.from_env(request["env"])
    built = time.perf_counter()
    s3_requests = 0

    def count(**_: object) -> None:
        nonlocal s3_requests
        s3_requests += 1

    dispatcher._presigner._s3.meta.events.register("before-send", count)
    events = request["events"]
    dispatcher.run(events[0])
    first = time.perf_counter()
    warm = []
    for event in events[1:]:
        t = time.perf_counter()
        dispatcher.run(event)
        warm.append(time.perf_counter() - t)
    json.dump(
        {
            "read_input_s": tick - started,
            "import_s": imported - tick,
            "build_s": built - imported,
            "first_event_s": first - built,
            "cold_s": first - tick,
            "warm_s": warm,
            "s3_requests": s3_requests,
            "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
