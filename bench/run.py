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
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.machine import ROOT, describe

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
    parser.add_argument("--only", default=ALL, help="comma-separated section numbers")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(DATA_ENV) or DEFAULT_DIR))
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    available = sections(args)
    report = Report(args.out, quick=args.quick, command=_command(chosen, args.quick, argv))
    # A stopped run (Ctrl-C, `timeout`, a CI kill) keeps every section it finished: the report is
    # rewritten after each one, and SIGTERM ends the section in progress like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    for number in chosen:
        title, section = available[number]
        print(f"bench {number}: {title} ...", file=sys.stderr, flush=True)
        tick = time.perf_counter()
        try:
            lines, numbers = section()
        except NotMeasuredError as exc:
            lines = [f"## {number}. {title}", "", f"**Not measured on this run**: {exc}"]
            numbers = {"not_measured": str(exc)}
        except KeyboardInterrupt:
            report.stopped(number, time.perf_counter() - tick)
            print(f"bench {number}: stopped; {args.out} keeps the sections measured", file=sys.stderr)
            return 130
        seconds = time.perf_counter() - tick
        print(f"bench {number}: done in {seconds:.0f} s", file=sys.stderr, flush=True)
        report.measured(number, lines, numbers, seconds)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


ALL = "1,2,3,4,5,6"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _command(chosen: list[str], quick: bool, argv: list[str] | None) -> str:
    if chosen == ALL.split(",") and not quick:
        return "make bench"
    return "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])


class Report:
    """docs/BENCHMARKS.md and its JSON, written after every section.

    A section measured now replaces that section's earlier figures; the sections this run did not
    reach keep the figures of the run that measured them, each under its own date, commit and load,
    so a run stopped in section 6 loses nothing of sections 1-5.
    """

    def __init__(self, out: Path, quick: bool, command: str) -> None:
        self.out, self.quick, self.command = out, quick, command
        self.machine = describe()  # before the run, so the load average is the one the run started with
        self.started = time.perf_counter()
        self.raw: dict[str, Any] = _previous(out.with_suffix(".json"))
        self.running: str | None = None

    def measured(self, number: str, lines: list[str], numbers: dict[str, Any], seconds: float) -> None:
        numbers["_report"] = {"lines": lines, "seconds": round(seconds, 1), "run": self.machine}
        self.raw[number] = numbers
        self._write()

    def stopped(self, number: str, seconds: float) -> None:
        self.running = f"{number} (stopped after {seconds:.0f} s)"
        self._write()

    def _write(self) -> None:
        body: list[str] = []
        for number in sorted(self.raw, key=int):
            section = self.raw[number].get("_report", {})
            body += [*section.get("lines", []), ""]
            run = {line.split(":", 1)[0]: line for line in section.get("run", [])}
            when = ", ".join(
                run[k].removeprefix("- ").strip()
                for k in ("- Date", "- Code", "- Load average when the run started")
                if k in run
            )
            body += [f"_Section run time: {section.get('seconds', 0):.0f} s; {when}._", ""]
        header = [
            "# Benchmarks (`make bench`)",
            "",
            "Written by `make bench` (`bench/run.py`); figures as measured on the machine below, not"
            " edited. Benchmarks report; no test asserts on them. The report is rewritten after each"
            " section; a section that a later run did not reach keeps the figures (and the date) of the"
            " run that measured it.",
            "",
            *self.machine,
            f"- Command: `{self.command.strip()}` ({time.perf_counter() - self.started:.0f} s so far)",
            f"- Raw numbers: `{self.out.with_suffix('.json').name}`",
        ]
        if self.running:
            header += ["", f"**This run was stopped in section {self.running}.**"]
        if self.quick:
            header += ["", "**Quick smoke run: tiny sizes, not results.**"]
        self.out.parent.mkdir(parents=True, exist_ok=True)
        _replace(self.out, "\n".join([*header, "", *body]).rstrip() + "\n")
        _replace(self.out.with_suffix(".json"), json.dumps(self.raw, indent=1, default=str) + "\n")


def _previous(path: Path) -> dict[str, Any]:
    """The sections an earlier run measured, where its JSON carries their report lines."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, dict) and isinstance(v.get("_report"), dict)}


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
