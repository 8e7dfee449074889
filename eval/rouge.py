"""`python -m eval.rouge`: ROUGE of the extractive engine (and optionally an LLM) against human
summaries, side by side with LEAD, LexRank and TextRank in the same run; writes docs/EVAL.md.

ROUGE-1/2/L/Lsum F1 ×100 from Google's `rouge-score` with stemming on, macro-averaged over
meetings, overall and per domain. Every system's output is cut to its reference's length in words
(see `eval.systems` for the fairness rules). `--engine openai --url …` adds an OpenAI-compatible
server (vLLM, TGI, llama.cpp, …) through the worker's own engine and summariser, so the LLM's
numbers come from the same harness. It never downloads anything: the meetings are a local folder.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from eval import compare, report, structure
from eval.data import DATA_ENV, DEFAULT_DIR, ROOT, DataMissingError, Meeting, load
from eval.machine import describe
from eval.scores import METRICS, Scores
from eval.systems import (
    System,
    build_llm,
    cut,
    extractive,
    extractive_engine_system,
    extractive_rank,
    lead,
    sumy_system,
)
from worker.errors import WorkerError

BASELINES = ("lead", "lexrank", "textrank", "extractive-rank", "extractive")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def reference_lines(reference: str) -> str:
    """The reference one sentence a line, for ROUGE-Lsum."""
    return "\n".join(s.strip() for s in _SENTENCE_END.split(reference.strip()) if s.strip())


def score_all(meetings: list[Meeting], systems: Mapping[str, System], progress: bool = True) -> list[Scores]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    results = {name: Scores(name) for name in systems}
    for meeting in meetings:
        target = reference_lines(meeting.reference)
        words = meeting.reference_words
        for name, system in systems.items():
            tick = time.perf_counter()
            picked = system(meeting.transcript, words)
            results[name].seconds[meeting.id] = time.perf_counter() - tick
            got = scorer.score(target, cut(picked, words))
            results[name].f1[meeting.id] = {m: got[m].fmeasure * 100 for m in METRICS}
        if progress:
            line = "  ".join(f"{n} {results[n].f1[meeting.id]['rouge1']:5.1f}" for n in systems)
            print(f"{meeting.id:>14}  R-1  {line}", file=sys.stderr)
    return list(results.values())


def before_and_after(ref: str | None, data: Path, results: list[Scores]) -> list[str]:
    """The engine at `ref` against this run, paired by meeting (`eval.compare`); nothing without `ref`."""
    if not ref:
        return []
    after = {r.system: r.f1 for r in results if r.system in compare.SYSTEMS}
    if not after:
        return []
    print(f"scoring the engine at {ref} for the before-and-after table", file=sys.stderr)
    try:
        before = compare.scores_at(ref, data)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"make eval: cannot score the engine at {ref} (EVAL_BEFORE= leaves it out): {exc}"
        ) from exc
    return [
        f"## Before and after: the engine at {ref} against this run",
        "",
        "Paired by meeting (`eval.compare`): the difference of the macro averages, a 95 % bootstrap interval"
        " of it (10,000 resamples of the meetings), and how many meetings went up and down. An interval"
        " that holds 0 is no measured change.",
        "",
        *compare.render(before, after, (ref, "this run")),
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.rouge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(DATA_ENV) or DEFAULT_DIR))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "EVAL.md", help="report to write")
    parser.add_argument("--no-write", action="store_true", help="print the report, write nothing")
    parser.add_argument("--systems", default=",".join(BASELINES), help="comma-separated subset")
    parser.add_argument("--limit", type=int, default=None, help="first N meetings only (smoke runs)")
    parser.add_argument("--engine", choices=("extractive", "openai"), default="extractive")
    parser.add_argument("--url", help="OpenAI-compatible server root, e.g. http://127.0.0.1:8000")
    parser.add_argument("--model", help="model name the server serves")
    parser.add_argument("--max-tokens", type=int, default=256, help="LLM summary budget")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra worker setting for the LLM"
    )
    parser.add_argument(
        "--before",
        metavar="COMMIT",
        help="also score the engine at COMMIT and compare it with this run, meeting by meeting",
    )
    parser.add_argument(
        "--structure-only",
        action="store_true",
        help="print the structure table only (no ROUGE, writes nothing)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        meetings = load(args.data, args.limit)
    except DataMissingError as exc:
        print(f"make eval: {exc}", file=sys.stderr)
        return 2
    factories = {
        "lead": lambda: lead,
        "lexrank": lambda: sumy_system("lexrank"),
        "textrank": lambda: sumy_system("textrank"),
        "extractive-rank": lambda: extractive_rank(),
        "extractive": lambda: extractive(),
    }
    wanted = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in factories]
    if unknown:
        print(f"unknown system(s): {', '.join(unknown)}; choose from {', '.join(factories)}", file=sys.stderr)
        return 2
    systems: dict[str, System] = {name: factories[name]() for name in wanted}
    try:
        llm = build_llm(args) if args.engine == "openai" else None
    except WorkerError as exc:
        print(f"cannot use the {args.engine} engine: {exc}", file=sys.stderr)
        return 2
    if llm is not None:
        systems["llm"] = llm
    machine = describe()
    command = "python -m eval.rouge " + " ".join(argv if argv is not None else sys.argv[1:])
    # The structure of what users get: the extractive engine at the worker's default budget, and
    # the LLM's own summaries (the ones ROUGE scores, made once).
    engines = {"extractive": extractive_engine_system()} if "extractive" in wanted else {}
    if llm is not None:
        engines["llm"] = llm
    refs = structure.references(args.data, [m.id for m in meetings])
    print(f"scoring {len(systems)} systems on {len(meetings)} meetings from {args.data}", file=sys.stderr)
    try:
        results = [] if args.structure_only else score_all(meetings, systems)
        shapes = structure.evaluate(
            meetings, {n: structure.engine_structure(e) for n, e in engines.items()}, refs
        )
    finally:
        for engine in engines.values():
            engine.close()
    table = structure.render(shapes, refs, command.strip()) + structure.render_reach(
        structure.reach(meetings, refs)
    )
    print(structure.headline(shapes))
    if args.structure_only:
        print("\n".join(table))
        return 0
    text = report.render(
        meetings,
        results,
        args.data,
        command.strip(),
        machine,
        table,
        before_and_after(args.before, args.data, results),
    )
    print(report.headline(results))
    if args.no_write:
        print(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
