"""Are a summary's Decisions and Action items right? (`make eval`; `python -m eval.rouge --structure-only`)

ROUGE of the whole summary cannot see whether the Decisions list states what was decided. This
scores each engine's structure (the summary read back by `worker.meeting.parse_structure`, as the worker
stores it) against the human answers to QMSum's questions about those meetings
(`queries.jsonl`), side by side with baselines that list the same number of items.

References (rules fixed before any engine change, stated in docs/EVAL.md):
- decision references: every sentence of the answer to a query that asks about a decision
  (`DECISION_QUERY`: decide, decision, conclude/conclusion, "agreed upon"), unless the query asks for
  someone's view (`VIEW_QUERY`: think, opinion, respond, (dis)agree with); and every sentence of any
  other answer of the meeting that reports one (`DECISION_SENTENCE`: decided, agreed, concluded,
  settled on, decision);
- action references: the same for plans and next steps (`ACTION_QUERY`: plan, future, next step,
  action item, to-do, follow-up, going to; `ACTION_SENTENCE`: will, going to, plan(s/ned) to, next
  meeting/step, task, assigned).
Matching: content words are `rouge-score`'s stemmed tokens without sumy's English stop words, after
AMI's spelled-out letters are joined ("L_C_D_" is the "LCD" of the human answers; for every system);
an item matches a reference sentence when it shares at least `MIN_SHARED` of them with it and
covers at least `RECALL` of the sentence's (ROUGE-1 recall of the reference sentence by the item).
Coverage: the share of reference sentences some listed item matches. Item precision: the share of
items, in meetings that have references of that kind, that match one. Baselines get, meeting by
meeting, as many items as the engine listed, from the same sentences (`eval.systems.units`, at
least 3 content words): LEAD (the first k), TextRank (sumy's top k), cue words (k sentences with an
English decision or commitment cue, evenly spread over the meeting) and random (k, seeds 0-4,
averaged). Owners: an action item's owner must never be a filler or pronoun, a title that is not
a speaker's label ("Chair", "Professor"), a date ("In May"), or words the meeting writes in lower
case somewhere ("Please", "Only": capitalised only where they open a turn). Duplicates: two items of the
structure (key points, decisions, action items) with the same content words. Beside the references,
`decision_audit.toml` holds a hand verdict on each decision the extractive engine lists (does it state
a decision that was made?); `audit` counts them and names the listed items it has none for.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.data import Meeting
from eval.systems import EngineSystem, units

DECISION_QUERY = re.compile(r"\b(?:decid\w*|decision\w*|conclu\w*|agreed upon)\b", re.I)
ACTION_QUERY = re.compile(
    r"\b(?:plans?|future|next steps?|action items?|to-?dos?|follow[- ]ups?|going to)\b", re.I
)
VIEW_QUERY = re.compile(r"\b(?:think|thought|opinion|respond\w*|disagree\w*|agree with)\b", re.I)
DECISION_SENTENCE = re.compile(r"\b(?:decided|agreed|concluded|settled on|decisions?)\b", re.I)
ACTION_SENTENCE = re.compile(
    r"\b(?:will|going to|plan(?:s|ned)? to|next (?:meeting|steps?)|tasks?|assigned)\b", re.I
)
# Cue-word baseline (English, as the meetings are).
DECISION_CUE = re.compile(
    r"\b(?:decide|decided|decision|agree|agreed|settle|settled|conclude|final|go with)\b", re.I
)
ACTION_CUE = re.compile(
    r"\b(?:i'll|we'll|you'll|will|need to|needs to|have to|has to|should|going to|next time|next meeting|"
    r"action item|homework|task)\b",
    re.I,
)
# AMI transcripts spell letters out ("L_C_D_", "T_V_"); the human answers write "LCD", "TV".
SPELLED = re.compile(r"\b(?:[A-Za-z]_){2,}")
RECALL = 0.3
MIN_SHARED = 2
MIN_CONTENT = 3
SEEDS = range(5)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
KINDS = ("decisions", "action_items")
# The starting point, measured with this harness before the engine changed (issue 22).
BEFORE = (
    "Before issue 22's engine changes (this harness on the engine of commit c354eba): the extractive engine"
    " listed 74"
    " decisions (coverage 5.1 %, precision 8.6 %; best same-k baseline coverage 2.5 %, cue words and"
    " TextRank) and 167 action items (coverage 2.8 %, precision 2.3 %), 18 of their owners a filler or a"
    ' pronoun ("Um", "Uh", "I\'ll I\'ll").'
)

# Owner check: fillers and pronouns, titles, dates (English, as the meetings are).
FILLERS = frozenset(
    """um uh umm uhm erm hmm mm so okay ok yeah yes no well and but oh right alright like now then also
    i we you he she it they this that there""".split()  # noqa: SIM905
)
TITLES = frozenset(
    """chair chairman chairwoman chairperson convener minister secretary president professor prof doctor
    dr mr mrs ms miss madam sir member members deputy committee""".split()  # noqa: SIM905
)
DATE_WORDS = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|yesterday|week|month|"
    r"year|january|february|march|april|may|june|july|august|september|october|november|december)\b|\d",
    re.I,
)


def content(text: str) -> frozenset[str]:
    from rouge_score.tokenizers import DefaultTokenizer
    from sumy.utils import get_stop_words

    global _TOKENIZER, _STOP
    if _TOKENIZER is None:
        _TOKENIZER, _STOP = DefaultTokenizer(use_stemmer=True), frozenset(get_stop_words("english"))
    text = SPELLED.sub(lambda m: m.group(0).replace("_", ""), text)
    return frozenset(w for w in _TOKENIZER.tokenize(text) if w not in _STOP and len(w) > 1)


_TOKENIZER: Any = None
_STOP: frozenset[str] = frozenset()


def matches(item: frozenset[str], reference: frozenset[str]) -> bool:
    shared = len(item & reference)
    return shared >= MIN_SHARED and shared >= RECALL * len(reference)


@dataclass(frozen=True)
class References:
    decisions: tuple[str, ...]
    action_items: tuple[str, ...]


def references(folder: Path, ids: Iterable[str]) -> dict[str, References]:
    """Each meeting's decision and action references from `queries.jsonl` (empty without one)."""
    wanted = set(ids)
    found: dict[str, dict[str, list[str]]] = {i: {k: [] for k in KINDS} for i in wanted}
    path = folder / "queries.jsonl"
    rows = (
        [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        if path.is_file()
        else []
    )
    for row in rows:
        if row["id"] not in wanted:
            continue
        query, answer = str(row["query"]), str(row["answer"])
        for kind, asked, said in (
            ("decisions", DECISION_QUERY, DECISION_SENTENCE),
            ("action_items", ACTION_QUERY, ACTION_SENTENCE),
        ):
            whole = row.get("kind") == "specific" and asked.search(query) and not VIEW_QUERY.search(query)
            for sentence in _SENTENCE.split(answer.strip()):
                sentence = sentence.strip()
                if sentence and (whole or said.search(sentence)) and sentence not in found[row["id"]][kind]:
                    found[row["id"]][kind].append(sentence)
    return {i: References(tuple(v["decisions"]), tuple(v["action_items"])) for i, v in found.items()}


# A structure system maps a transcript to its parsed structure (`worker.meeting.parse_structure`'s dict).
StructureSystem = Callable[[Meeting], dict[str, Any]]


def engine_structure(system: EngineSystem) -> StructureSystem:
    """The structure the worker stores: the engine's summary read back by `worker.meeting.parse_structure`."""
    from worker.meeting import iter_utterances, parse_structure

    def run(meeting: Meeting) -> dict[str, Any]:
        return parse_structure(system.summary(meeting.transcript), list(iter_utterances(meeting.transcript)))

    return run


def item_texts(structure: Mapping[str, Any], kind: str) -> list[str]:
    if kind == "action_items":
        return [str(a.get("task") or "") for a in structure.get(kind, [])]
    return [str(d.get("text") or "") for d in structure.get(kind, [])]


def _candidates(meeting: Meeting) -> list[str]:
    return [s for s in units(meeting.transcript) if len(content(s)) >= MIN_CONTENT]


def lead_k(meeting: Meeting, k: int, kind: str) -> list[str]:
    return _candidates(meeting)[:k]


def cue_k(meeting: Meeting, k: int, kind: str) -> list[str]:
    cue = DECISION_CUE if kind == "decisions" else ACTION_CUE
    flagged = [s for s in _candidates(meeting) if cue.search(s)]
    if k <= 0 or not flagged:
        return []
    step = len(flagged) / min(k, len(flagged))
    return [flagged[int(i * step)] for i in range(min(k, len(flagged)))]


def random_k(seed: int) -> Callable[[Meeting, int, str], list[str]]:
    def run(meeting: Meeting, k: int, kind: str) -> list[str]:
        pool = _candidates(meeting)
        return random.Random(f"{seed}:{meeting.id}:{kind}").sample(pool, min(k, len(pool)))

    return run


def textrank_k(meeting: Meeting, k: int, kind: str) -> list[str]:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    from eval.systems import RegexTokenizer

    if k <= 0:
        return []
    summarizer = TextRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = RegexTokenizer()
    document = ObjectDocumentModel([Paragraph([Sentence(s, tokenizer) for s in _candidates(meeting)])])
    return [str(s) for s in summarizer(document, k)]


Baseline = Callable[[Meeting, int, str], list[str]]
BASELINES: dict[str, list[Baseline]] = {
    "LEAD": [lead_k],
    "TextRank (sumy)": [textrank_k],
    "cue words": [cue_k],
    f"random (seeds {SEEDS.start}-{SEEDS.stop - 1}, mean)": [random_k(s) for s in SEEDS],
}


@dataclass
class KindScore:
    references: float = 0.0
    covered: float = 0.0
    judged_items: float = 0.0  # items listed in meetings that have references of this kind
    matching_items: float = 0.0
    items: float = 0.0  # items listed in all meetings

    @property
    def coverage(self) -> float:
        return 100 * self.covered / self.references if self.references else 0.0

    @property
    def precision(self) -> float:
        return 100 * self.matching_items / self.judged_items if self.judged_items else 0.0


@dataclass
class StructureScore:
    system: str
    kinds: dict[str, KindScore] = field(default_factory=lambda: {k: KindScore() for k in KINDS})
    owners: int = 0
    bad_owners: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    engine: bool = False
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (meeting, item) as listed


def score_items(score: KindScore, items: list[str], refs: tuple[str, ...], weight: float = 1.0) -> None:
    bags = [content(i) for i in items]
    ref_bags = [content(r) for r in refs]
    score.items += weight * len(items)
    if not refs:
        return
    score.references += weight * len(refs)
    score.judged_items += weight * len(items)
    score.matching_items += weight * sum(any(matches(b, r) for r in ref_bags) for b in bags)
    score.covered += weight * sum(any(matches(b, r) for b in bags) for r in ref_bags)


def bad_owner(owner: str, speakers: set[str], common: Collection[str] = ()) -> bool:
    """A filler or pronoun, a title that is not a speaker's label, a date, or words the meeting
    writes in lower case (`common`: "Please", "Only") are never an owner."""
    words = re.findall(r"[^\W_]+", owner.lower())
    if not words or owner.strip().lower() in speakers:
        return False
    return (
        words[0] in FILLERS
        or all(w in TITLES for w in words)
        or bool(DATE_WORDS.search(owner))
        or all(w in common for w in words)
    )


def duplicates(structure: Mapping[str, Any]) -> list[str]:
    seen: set[frozenset[str]] = set()
    repeated = []
    for kind in ("key_points", *KINDS):
        for text in item_texts(structure, kind):
            bag = content(text)
            if bag and bag in seen:
                repeated.append(text)
            seen.add(bag)
    return repeated


def evaluate(
    meetings: list[Meeting], systems: Mapping[str, StructureSystem], refs: Mapping[str, References]
) -> list[StructureScore]:
    """Each engine's structure, then each baseline at the engine's k, meeting by meeting."""
    out: list[StructureScore] = []
    for name, system in systems.items():
        ours = StructureScore(name, engine=True)
        base = {b: StructureScore(f"{b}, k as {name}") for b in BASELINES}
        for meeting in meetings:
            structure = system(meeting)
            speakers = {s.lower() for s in re.findall(r"^([^:\n]{1,60}):", meeting.transcript, re.M)}
            for kind in KINDS:
                items = item_texts(structure, kind)
                wanted: tuple[str, ...] = getattr(refs.get(meeting.id), kind, ())
                score_items(ours.kinds[kind], items, wanted)
                for label, runs in BASELINES.items():
                    for run in runs:
                        picked = run(meeting, len(items), kind)
                        score_items(base[label].kinds[kind], picked, wanted, 1 / len(runs))
            owners = [str(a["owner"]) for a in structure.get("action_items", []) if a.get("owner")]
            ours.owners += len(owners)
            common = set(re.findall(r"(?<![\w'])[a-z][a-z'-]*", meeting.transcript))
            ours.bad_owners += [f"{meeting.id}: {o}" for o in owners if bad_owner(o, speakers, common)]
            ours.duplicates += [f"{meeting.id}: {d}" for d in duplicates(structure)]
            ours.decisions += [(meeting.id, text) for text in item_texts(structure, "decisions")]
        out += [ours, *base.values()]
    return out


def render(results: list[StructureScore], refs: Mapping[str, References], command: str) -> list[str]:
    judged = {k: sum(1 for r in refs.values() if getattr(r, k)) for k in KINDS}
    total = {k: sum(len(getattr(r, k)) for r in refs.values()) for k in KINDS}
    out = [
        "## Decisions and action items (structure)",
        "",
        f"Command: `{command}`. Rules in `eval/structure.py`'s docstring: references are the sentences of the"
        " human answers to QMSum's decision / plan queries of these meetings, and the sentences of any"
        " other answer that report a decision / a plan; an item matches a reference sentence when it"
        f" shares ≥ {MIN_SHARED} content words (stemmed, stop words removed) covering ≥ {RECALL:.0%} of"
        " the sentence's. Baselines list, meeting by meeting, as many items as the engine did. The"
        " engines are scored on their summary as the worker stores it (read back by"
        " `worker.meeting.parse_structure`); the extractive engine at the worker's default budget"
        " (1,024 tokens).",
        "",
        f"Decision references: {total['decisions']} sentences in {judged['decisions']} meetings; action"
        f" references: {total['action_items']} sentences in {judged['action_items']} meetings.",
        "",
        "| system | decisions listed | decision coverage % | decision precision % |"
        " action items listed | action coverage % | action precision % | owners | bad owners | duplicates |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    after_table = ["", BEFORE]
    for r in results:
        d, a = r.kinds["decisions"], r.kinds["action_items"]
        tail = f"{r.owners} | {len(r.bad_owners)} | {len(r.duplicates)}" if r.engine else "– | – | –"
        name = f"**{r.system}**" if r.engine else r.system
        out.append(
            f"| {name} | {d.items:.0f} | {d.coverage:.1f} | {d.precision:.1f} | {a.items:.0f} | "
            f"{a.coverage:.1f} | {a.precision:.1f} | {tail} |"
        )
    for r in results:
        if r.engine:
            out += ["", *render_audit(r)]
    for r in results:
        if r.engine and (r.bad_owners or r.duplicates):
            shown = [
                *(f"bad owner {o}" for o in r.bad_owners[:8]),
                *(f"duplicate {d}" for d in r.duplicates[:8]),
            ]
            out += ["", f"{r.system}: " + "; ".join(f"`{s[:90]}`" for s in shown)]
    return out + after_table


AUDIT = Path(__file__).with_name("decision_audit.toml")


@dataclass(frozen=True)
class Audit:
    made: int
    judged: int
    unjudged: list[str]


def audit(listed: Iterable[tuple[str, str]], path: Path = AUDIT) -> Audit:
    """The hand verdicts (`decision_audit.toml`) on the decisions listed now: how many of those
    judged state a decision that was made, and the items no verdict covers yet."""
    import tomllib

    verdicts = tomllib.loads(path.read_text("utf-8")).get("item", []) if path.is_file() else []
    made = judged = 0
    unjudged = []
    for meeting, text in listed:
        found = next((v for v in verdicts if v["meeting"] == meeting and text.startswith(v["starts"])), None)
        if found is None:
            unjudged.append(f"{meeting}: {text}")
            continue
        judged += 1
        made += bool(found["made"])
    return Audit(made, judged, unjudged)


def render_audit(score: StructureScore) -> list[str]:
    found = audit(score.decisions)
    share = f" ({100 * found.made / found.judged:.0f} %)" if found.judged else ""
    lines = [
        f"{score.system}, judged by hand (`eval/decision_audit.toml`, every meeting): {found.made} of"
        f" the {found.judged} judged decisions it lists state a decision that was made{share};"
        f" {len(found.unjudged)} listed items have no verdict yet."
    ]
    return lines + [f"- no verdict: `{item[:100]}`" for item in found.unjudged[:10]]


@dataclass
class Reach:
    """What sentences can score at all under the matching rule: the transcript's own sentences (at
    least `MIN_CONTENT` content words) of the meetings with decision references, and the references
    some sentence matches."""

    sentences: dict[str, list[int]] = field(default_factory=dict)  # kind of sentence -> [n, matching]
    references: int = 0
    reachable: int = 0


def reach(meetings: list[Meeting], refs: Mapping[str, References]) -> Reach:
    """How precise a decision list of whole sentences can be under this rule, whatever picks them:
    every sentence, those the engine's signals call a decision stated as made, those that talk about
    deciding; and how many references any one sentence matches (the coverage no sentence list beats)."""
    from worker.meeting import DecisionSignals, detect_language

    out = Reach(
        {"every sentence": [0, 0], "stated as made (`is_decision`)": [0, 0], "talk about deciding": [0, 0]}
    )
    for meeting in meetings:
        wanted = [content(r) for r in getattr(refs.get(meeting.id), "decisions", ())]
        if not wanted:
            continue
        signals = DecisionSignals(detect_language(meeting.transcript[:20_000]))
        bags = [(s, content(s)) for s in units(meeting.transcript)]
        bags = [(s, b) for s, b in bags if len(b) >= MIN_CONTENT]
        for text, bag in bags:
            hit = any(matches(bag, r) for r in wanted)
            for kind, flagged in zip(
                out.sentences,
                (True, signals.is_decision(text), signals.is_deliberation(text)),
                strict=True,
            ):
                if flagged:
                    out.sentences[kind][0] += 1
                    out.sentences[kind][1] += hit
        out.references += len(wanted)
        out.reachable += sum(any(matches(b, r) for _, b in bags) for r in wanted)
    return out


def render_reach(found: Reach) -> list[str]:
    lines = [
        "",
        "### What the rule lets a list of sentences reach",
        "",
        "Over the transcript sentences (≥ 3 content words) of the meetings with decision references: the"
        " share of each kind that matches a reference, which is the precision a list of such sentences"
        " gets whatever picks them (`eval.structure.reach`).",
        "",
        "| sentences | count | matching a decision reference | % |",
        "|---|---|---|---|",
    ]
    for kind, (n, hit) in found.sentences.items():
        lines.append(f"| {kind} | {n} | {hit} | {100 * hit / n if n else 0:.1f} |")
    lines += [
        "",
        f"References some single sentence matches: {found.reachable} of {found.references}"
        f" ({100 * found.reachable / found.references if found.references else 0:.0f} %): the most any"
        " list of transcript sentences can cover.",
    ]
    return lines


def headline(results: list[StructureScore]) -> str:
    return " | ".join(
        f"{r.system}: decisions coverage {r.kinds['decisions'].coverage:.1f}%, "
        f"precision {r.kinds['decisions'].precision:.1f}%"
        for r in results
    )
