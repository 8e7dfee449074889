"""`python -m bench.run` (`make bench`): run the benchmarks and write docs/BENCHMARKS.md.

Benchmarks report; they assert nothing about speed. Each section runs on its own and a section
that cannot run here (no QMSum folder, no vLLM CPU venv) is written down as not measured, with the
reason, instead of failing the others. `--quick` shrinks every section to a few seconds (the smoke
test uses it); its figures are not results. Raw numbers go to a JSON file next to the report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import ROOT, describe

Section = Callable[[], tuple[list[str], dict[str, Any]]]


class NotMeasuredError(Exception):
    """A section cannot run on this machine; the message says why and how to run it."""


def sections(args: argparse.Namespace) -> dict[str, tuple[str, Section]]:
    from bench import dispatcher_bench, extractive_speed, memory_shapes, throughput, vllm_map, worker_overhead

    def extractive() -> tuple[list[str], dict[str, Any]]:
        from eval.data import DataMissingError, load

        try:
            load(args.data, limit=1)
        except DataMissingError as exc:
            raise NotMeasuredError(str(exc).splitlines()[0] + " (see `make eval`)") from exc
        return extractive_speed.run(args.data)

    def vllm() -> tuple[list[str], dict[str, Any]]:
        missing = vllm_map.missing()
        if missing:
            raise NotMeasuredError(missing)
        return vllm_map.run(args.quick)

    return {
        "1": ("Dispatcher vs the seed's push Lambda", lambda: dispatcher_bench.run(args.quick)),
        "2": ("Worker overhead outside inference", lambda: worker_overhead.run(args.quick)),
        "3": ("Throughput vs worker concurrency", lambda: throughput.run(args.quick)),
        "4": ("vLLM (tiny model, CPU): concurrent vs sequential map phase", vllm),
        "5": ("Extractive engine vs sumy: speed", extractive),
        "6": ("Peak worker memory per transcript shape", lambda: memory_shapes.run(args.quick)),
    }


def main(argv: list[str] | None = None) -> int:
    from eval.data import DATA_ENV, DEFAULT_DIR

    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="1,2,3,4,5,6", help="comma-separated section numbers")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(DATA_ENV) or DEFAULT_DIR))
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    available = sections(args)
    body: list[str] = []
    raw: dict[str, Any] = {}
    started = time.perf_counter()
    machine = describe()  # before the run, so the load average is the one the run started with
    for number in chosen:
        title, section = available[number]
        print(f"bench {number}: {title} ...", file=sys.stderr, flush=True)
        tick = time.perf_counter()
        try:
            lines, numbers = section()
        except NotMeasuredError as exc:
            lines = [f"## {number}. {title}", "", f"**Not measured on this run**: {exc}"]
            numbers = {"not_measured": str(exc)}
        seconds = time.perf_counter() - tick
        print(f"bench {number}: done in {seconds:.0f} s", file=sys.stderr, flush=True)
        body += [*lines, "", f"_Section run time: {seconds:.0f} s._", ""]
        raw[number] = numbers
    command = (
        "make bench"
        if chosen == list("12345") and not args.quick
        else "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    )
    header = [
        "# Benchmarks (`make bench`)",
        "",
        "Written by `make bench` (`bench/run.py`); figures as measured on the machine below, not"
        " edited. Benchmarks report; no test asserts on them.",
        "",
        *machine,
        f"- Command: `{command.strip()}` (total {time.perf_counter() - started:.0f} s)",
        f"- Raw numbers: `{args.out.with_suffix('.json').name}`",
    ]
    if args.quick:
        header += ["", "**Quick smoke run: tiny sizes, not results.**"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join([*header, "", *body]).rstrip() + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
