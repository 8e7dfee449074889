"""The extractive engine: a real summariser with no model weights, for CPUs and local runs.

It ranks the transcript's own sentences and returns them clean verbatim (no "um", no "it's it's":
`worker.meeting.clean_verbatim`) in the summary's sections
(Overview, Key points, Decisions, Action items by default). Decisions and action items are detected
over the whole transcript, not only among the central sentences (`worker.meeting` says what counts
as a decision stated as made, as talk about deciding and as an action item, who owns it, one item
per commitment or decision, and where a meeting recaps). Recaps and labelled decisions go first, one item per
sentence or number; then the most central talk about deciding (in each language a mixed meeting
speaks) and action item, the rest by the same MMR as the other picks, which never repeat them. A
meeting too short for anything else gets its most central item as the overview. Every item names its
speaker and, where the input has times, starts with its turn's time (`[00:01:02] Speaker: text`,
which a reduce step reads back); an owner the sentence does not name follows it ("(Owner: Priya)").
The label and headings are in the summary's language. Method: TF-IDF centroid similarity, a length
prior, a small bonus for cues, then maximal marginal relevance over the 2,000 best sentences, so a
1M-token transcript takes seconds. On the QMSum validation meetings it beats sumy's TextRank and
LexRank (docs/EVAL.md).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Container
from dataclasses import dataclass, replace
from functools import partial

from contract.profiles import DEFAULT, Profile
from worker.engines.base import Completion, SummaryTask
from worker.meeting import (
    ENGLISH,
    NO_WEIGHTS,
    DecisionSignals,
    Language,
    Utterance,
    addressed_owner,
    clean_verbatim,
    common_words,
    content_count,
    count_word_tokens,
    detect_language,
    due_date,
    found_owners,
    language_for,
    one_per_commitment,
    one_per_decision,
    resolve_language,
    sentences,
    spoken_languages,
    strip_frame,
    term_weights,
    truncate,
    utterances,
)
from worker.meeting.recaps import (
    LABELLED,
    RECAP_OPENER,
    RECAP_POINTER,
    bare_opener,
    join_continued,
    recap_members,
    split_enumeration,
)

# What a section only a language model can write says in an extractive summary (in English: the
# language records hold the four standard sections' words only).
UNFILLED = "Not available from the extractive engine: this section needs a language model."
STYLE_SHARE = {"brief": 0.1, "standard": 0.2, "detailed": 0.35}
# Overview sentences per style; decisions and action items may take this share of the budget.
OVERVIEW = {"brief": 1, "standard": 2, "detailed": 3}
DETECTED_SHARE = 0.25
# A recap's items (the settled version of what was decided) may take this share of the budget.
RECAP_SHARE = 0.5
CUE_BONUS = 1.15
EXPLICIT_SHARE = 0.5
MIN_BUDGET = 150
# MMR looks at the best-ranked sentences only, so selection stays linear in transcript length.
_POOL = 2000
# Cosine similarity above which a sentence counts as a repeat of one already picked.
_DUPLICATE = 0.9
# A sentence far less central than the best one ("Thanks.", "Bye, everyone.") is never picked just
# because the budget has room: a summary may end shorter than its budget.
_FLOOR = 0.1
# Sentences with fewer content words ("Bye, everyone.", "Please don't.") are never picked, however
# roomy the budget, nor detected as decisions or action items.
_MIN_WORDS = 3
# A recap's item needs this many content words as it stands ("Blue case."); a decision stated as
# made, one beside its cue ("So we'll go with HubSpot.", not "So that's decided.").
_DECISION_WORDS = 2


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int
    speaker: str | None
    text: str
    tokens: int
    weights: dict[str, float]
    norm: float
    start: float | None = None
    # An owner the engine found: a request's, the person asked (`person_asked`; None when nobody
    # took it on), or the participant a sentence gives a task ("the Industrial Designer will ...").
    # `owned`: an action item says it ("(Owner: Priya)", "(Owner: Unassigned)"), where the
    # structure would not read it from the sentence itself.
    owned: bool = False
    owner: str | None = None

    def render(self, lang: Language | None = None) -> str:
        """`[00:01:02] Speaker: text`; with `lang`, the owner the engine found after it in `lang`'s
        words."""
        line = Utterance(self.speaker, self.text, self.start).render()
        if lang is None or not self.owned:
            return line
        return f"{line} ({lang.owner_fields[0].capitalize()}: {self.owner or lang.unassigned})"


@dataclass(frozen=True)
class Sections:
    """The engine's picks, section by section, in transcript order within each."""

    language: Language
    overview: list[_Sentence]
    key_points: list[_Sentence]
    decisions: list[_Sentence]
    action_items: list[_Sentence]

    def sentences(self) -> list[str]:
        """Every picked sentence's text, speakers and times left out (what `make eval` scores)."""
        return [
            s.text
            for part in (self.overview, self.key_points, self.decisions, self.action_items)
            for s in part
        ]

    def render(self, profile: Profile = DEFAULT) -> str:
        """The summary in `profile`'s sections (contract/profiles.py), each filled by its kind;
        picks of a kind the profile has no section for join its first `points` section, and a
        section only a language model can write (`notes`, or a kind's second section) says so."""
        lang = self.language
        by_kind = {"overview": self.overview, "points": self.key_points}
        by_kind |= {"decisions": self.decisions, "actions": self.action_items}
        kinds = {section.kind for section in profile.sections}
        for kind in ("decisions", "actions"):
            if kind not in kinds:
                by_kind["points"] = sorted(by_kind["points"] + by_kind[kind], key=lambda s: s.index)
        if "points" not in kinds and "overview" in kinds:
            by_kind["overview"] = by_kind["overview"] + by_kind["points"]
        parts = [lang.label]
        for section, fills in zip(profile.sections, profile.fillable(), strict=True):
            heading = lang.heading(section.key, section.heading(lang.code))
            items = by_kind[section.kind] if fills else []
            if not fills:
                parts.append(f"{heading}\n{UNFILLED}")
            elif section.kind == "overview":
                parts.append(f"{heading}\n{' '.join(s.text for s in items) or lang.none}")
            else:
                owned = lang if section.kind == "actions" else None
                lines = [s.render(owned) for s in items] or [lang.none]
                parts.append(heading + "\n" + "\n".join(f"- {line}" for line in lines))
        return "\n\n".join(parts)


class ExtractiveEngine:
    name = "extractive"
    model = "tfidf-centroid-mmr"
    extractive = True

    def __init__(
        self, max_model_len: int = 200_000, diversity: float = 0.8, saturation: float = 16.0
    ) -> None:
        self.max_model_len = max_model_len
        # Both tuned on the QMSum validation meetings with `make eval` (docs/EVAL.md): meetings
        # circle back to the same topic many times, so novelty is worth more than centrality, and
        # a sentence needs about 12 content words before its length stops counting against it.
        self._diversity = diversity
        self._saturation = saturation

    async def count_tokens(self, text: str) -> int:
        return count_word_tokens(text)

    async def prompt_tokens(self, task: SummaryTask) -> int:
        return count_word_tokens(task.content)

    async def complete(self, task: SummaryTask) -> Completion:
        # CPU-bound ranking off the event loop, so other jobs' transfers keep moving.
        text = await asyncio.to_thread(
            self.summarise,
            task.content,
            task.max_tokens,
            task.options.style,
            task.options.language,
            task.source_tokens,
            task.profile,
        )
        return Completion(
            text=text,
            prompt_tokens=count_word_tokens(task.content),
            completion_tokens=count_word_tokens(text),
        )

    async def aclose(self) -> None:
        return None

    def shutdown(self) -> None:
        return None  # supervises nothing

    def rank(self, content: str, max_tokens: int, *, with_speakers: bool = True) -> list[str]:
        """The selected sentences in transcript order, within `max_tokens` (used by `make eval`)."""
        items, signals = self._sentences(content)
        picked = self._select(items, max_tokens, self._relevance(items, signals), _FLOOR)
        return [s.render() if with_speakers else s.text for s in picked]

    def summarise(
        self,
        content: str,
        max_tokens: int,
        style: str = "standard",
        language: str | None = None,
        source_tokens: int = 0,
        profile: Profile = DEFAULT,
    ) -> str:
        # Never more than granted, even when the label and headings alone do not fit a tiny budget.
        picks = self.sections(content, max_tokens, style, language, source_tokens, profile)
        return truncate(picks.render(profile), max_tokens)

    def sections(
        self,
        content: str,
        max_tokens: int,
        style: str = "standard",
        language: str | None = None,
        source_tokens: int = 0,
        profile: Profile = DEFAULT,
    ) -> Sections:
        """Pick the summary's sentences within `max_tokens`, label and headings included."""
        items, signals = self._sentences(content)
        # `language` chooses only the language the summary is written in.
        lang = language_for(resolve_language(language) or signals.code)
        items = _owned(items, signals, lang, common_words(content))
        overhead = extractive_frame_tokens(lang, profile)
        # A summary is shorter than its source: cap at a share of the input, whatever the budget.
        # The input is the whole transcript, not the partial summaries a reduce step reads.
        source = max(sum(s.tokens for s in items), source_tokens)
        share = int(source * STYLE_SHARE.get(style, STYLE_SHARE["standard"]))
        budget = max(min(max_tokens - overhead, max(share, MIN_BUDGET)), 1)
        relevance = self._relevance(items, signals)
        # Our own partial summaries were vetted once already: no floor when reading them back.
        floor = 0.0 if source_tokens else _FLOOR
        recited, answers = recap_members(items)
        detected = self._detect(items, relevance, signals, budget, floor, (recited, answers))
        chosen = {s.index for s in detected}
        used = sum(s.tokens for s in detected)
        # A recap's opener says nothing by itself ("To sum up what we decided:"): no key point.
        rest = [s for s in items if s.index not in chosen and not bare_opener(s.text)]
        picked = self._select(rest, budget - used, relevance, floor, seen=detected)
        # The overview tells what the meeting was about: no commitment, question or running of the
        # meeting ("let me read back the action items") opens it while other picks can.
        telling = [s for s in picked if _tells(s, signals)] or picked
        central = sorted(telling, key=lambda s: -relevance[s.index])[: OVERVIEW.get(style, 2)]
        overview = {s.index for s in central}
        # A task given to a participant ("the Industrial Designer will ...") is one too.
        actions = [s for s in detected if signals.is_action_item(s.text) or _given(s, signals)]
        # Stated as made; the rest of what was detected is talk about deciding: a key point.
        decisions = [
            s for s in detected if s not in actions and (s.index in answers or signals.is_decision(s.text))
        ]
        talk = [s for s in detected if s not in actions and s not in decisions]
        return Sections(
            language=lang,
            # A meeting short enough to be all decisions and action items still gets an overview:
            # its most central one (the overview is never "None" over a transcript with speech).
            overview=[s for s in picked if s.index in overview]
            or sorted(detected, key=lambda s: -relevance[s.index])[:1],
            # What the meeting is deciding closes the key points, where the decisions follow.
            key_points=[s for s in picked if s.index not in overview] + talk,
            decisions=decisions,
            action_items=actions,
        )

    def _detect(
        self,
        items: list[_Sentence],
        relevance: list[float],
        signals: DecisionSignals,
        budget: int,
        floor: float,
        recaps: tuple[set[int], set[int]],
    ) -> list[_Sentence]:
        """Decisions and action items anywhere in the transcript, picked by MMR like the rest.

        They may take `DETECTED_SHARE` of `budget`, explicit action items (an owner and a due date)
        and decisions stated as made up to `EXPLICIT_SHARE`: a short meeting's "I'll send the budget
        by Friday" or "So we'll go with HubSpot" is not dropped for a less specific item. A share is
        where picking stops, not a knapsack: the item that crosses it is still taken when the whole
        budget has room for it."""
        top = max(relevance, default=0.0)
        recited, answers = recaps

        def substantial(s: _Sentence) -> bool:
            """Enough said to be an item: a recap's item as it stands (no floor: "Blue case."),
            else central enough and long enough (a decision needs fewer words than the rest)."""
            if s.index in answers:
                return relevance[s.index] > 0 and _content_words(s) >= _DECISION_WORDS
            if relevance[s.index] <= 0 or relevance[s.index] < floor * top:
                return False
            short = _content_words(s) < _MIN_WORDS  # a decision says something beside its cue
            return not short or content_count(term_weights([signals.decided(s.text)])[0]) >= 1

        flagged = [
            s
            for s in items
            if substantial(s)
            and not RECAP_OPENER.search(s.text)
            and (s.index in answers or not RECAP_POINTER.search(s.text))
            and (
                s.index in answers
                or signals.is_deliberation(s.text)
                or signals.is_decision(s.text)
                or signals.is_action(s.text)
                or _given(s, signals)
            )
        ]
        # Recaps first, each of their sentences one item: the settled version of what was decided.
        recapped = sorted(
            (s for s in flagged if s.index in recited or s.index in answers or LABELLED.search(s.text)),
            key=lambda s: -relevance[s.index],
        )
        first: list[_Sentence] = []
        for s in recapped:
            if sum(x.tokens for x in first) + s.tokens > int(budget * RECAP_SHARE):
                break
            first.append(s)
        flagged = [s for s in flagged if s not in first]
        # The most central decision and the most central action item first, so one kind never
        # crowds out the other (a Korean meeting's long action items left no room for its decision).
        seeds: list[_Sentence] = list(first)
        # A mixed meeting's decisions in each language it speaks (the German half's decision did
        # not crowd out the French half's).
        kinds: list[Callable[[str], bool]] = [
            partial(signals.is_deliberation_in, code) for code in signals.also
        ]
        for kind in (*(kinds or [signals.is_deliberation]), signals.is_action):
            if any(kind(s.text) for s in first):
                continue
            of_kind = [s for s in flagged if kind(s.text) and s not in seeds]
            best = max(of_kind, key=lambda s: relevance[s.index], default=None)
            if best is not None and sum(s.tokens for s in seeds) + best.tokens <= budget:
                seeds.append(best)
        rest = [s for s in flagged if s not in seeds]
        used = sum(s.tokens for s in seeds)
        share = int(budget * DETECTED_SHARE) - used
        picked = seeds + self._mmr(rest, share, budget - used, relevance, seeds)
        chosen = {s.index for s in picked}
        explicit = [
            s
            for s in flagged
            if s.index not in chosen
            and (signals.is_decision(s.text) or (signals.is_action(s.text) and _owned_and_dated(s)))
        ]
        used = sum(s.tokens for s in picked)
        more = self._mmr(explicit, int(budget * EXPLICIT_SHARE) - used, budget - used, relevance, picked)
        return one_per_decision(
            one_per_commitment(sorted(picked + more, key=lambda s: s.index), signals), signals
        )

    def _sentences(self, content: str) -> tuple[list[_Sentence], DecisionSignals]:
        """The units ranked, and the meeting's own language's cues (detected: a German meeting
        summarised in English keeps its German decisions)."""
        raw: list[tuple[str | None, str, float | None]] = []
        for turn in utterances(strip_frame(content, (UNFILLED,))):
            for whole in sentences(turn.text):
                for sentence in split_enumeration(whole):  # a numbered recap: one unit per number
                    raw.append((turn.speaker, sentence, turn.start))
        spoken = detect_language(" ".join(u[1] for u in raw[:2000]))
        signals = DecisionSignals(spoken, spoken_languages([u[1] for u in raw]))
        # Quoted clean verbatim: no "um" or "it's it's" (a sentence all hesitation stays as said).
        said = (signals.code, *signals.also)
        raw = [(speaker, clean_verbatim(text, said) or text, start) for speaker, text, start in raw]
        raw = join_continued(raw, signals.is_decision)  # a decision said across "Right." is one unit
        out = []
        weighed = term_weights([u[1] for u in raw])
        for i, ((speaker, text, start), weights) in enumerate(zip(raw, weighed, strict=True)):
            norm = math.sqrt(sum(v * v for v in weights.values()))
            unit = _Sentence(i, speaker, text, 0, weights, norm, start)
            # Tokens as rendered in the summary: "- [00:01:02] Speaker: text".
            out.append(replace(unit, tokens=count_word_tokens(unit.render()) + 1))
        return out, signals

    def _relevance(self, items: list[_Sentence], signals: DecisionSignals) -> list[float]:
        """How typical each sentence is of the meeting (centroid cosine × length prior × cue bonus)."""
        centroid: dict[str, float] = {}
        for s in items:
            if s.norm:
                for w, v in s.weights.items():
                    centroid[w] = centroid.get(w, 0.0) + v / s.norm
        c_norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
        # A list indexed by sentence: one float per sentence, not a dict entry.
        relevance = [0.0] * (max((s.index for s in items), default=-1) + 1)
        for s in items:
            if not s.norm:
                continue
            cos = sum(v * centroid.get(w, 0.0) for w, v in s.weights.items()) / (s.norm * c_norm)
            content_words = len(s.weights)
            length_prior = min(1.0, content_words / self._saturation)
            cue = CUE_BONUS if (signals.is_deliberation(s.text) or signals.is_action(s.text)) else 1.0
            relevance[s.index] = cos * length_prior * cue
        return relevance

    def _select(
        self,
        items: list[_Sentence],
        max_tokens: int,
        relevance: list[float],
        floor_share: float,
        seen: list[_Sentence] | None = None,
    ) -> list[_Sentence]:
        """MMR within `max_tokens`, never repeating `seen` (sentences picked already elsewhere)."""
        if not items or max_tokens <= 0:
            return []
        floor = floor_share * max(relevance[s.index] for s in items)
        candidates = [
            s
            for s in items
            if relevance[s.index] > 0 and relevance[s.index] >= floor and _content_words(s) >= _MIN_WORDS
        ]
        picked = self._mmr(candidates, max_tokens, max_tokens, relevance, seen or [])
        if not picked:
            if not candidates and seen:
                return []  # only fillers left ("Um, yeah."): what was detected speaks for the meeting
            # Budget smaller than any sentence: the start of the most central one (with content,
            # where one has it).
            top = max(items, key=lambda s: (relevance[s.index], _content_words(s)))
            # "- " costs a token when rendered; a script without spaces has no words to cut at.
            start = truncate(top.render(), max(max_tokens // 2, 1))
            return [_Sentence(top.index, None, start, count_word_tokens(start) + 1, NO_WEIGHTS, 0.0)]
        return picked

    def _mmr(
        self,
        items: list[_Sentence],
        share: int,
        room: int,
        relevance: list[float],
        seen: list[_Sentence],
    ) -> list[_Sentence]:
        """Maximal marginal relevance: picks while under `share` tokens, each fitting in `room`;
        in transcript order. The best `_POOL` by relevance only, so the cost stays bounded."""
        candidates = sorted(items, key=lambda s: -relevance[s.index])[:_POOL]
        picked: list[_Sentence] = []
        used = 0
        # Each candidate's similarity to its closest pick, updated once per pick (not recomputed).
        redundancy = dict.fromkeys((s.index for s in candidates), 0.0)
        for done in seen:
            for s in candidates:
                redundancy[s.index] = max(redundancy[s.index], _cosine(s, done))
        while candidates and used < share:
            # A near-copy of a pick says nothing new, even when the budget has room left for it.
            fitting = [s for s in candidates if used + s.tokens <= room and redundancy[s.index] < _DUPLICATE]
            if not fitting:
                break
            best = max(
                fitting,
                key=lambda s: (
                    (1 - self._diversity) * relevance[s.index] - self._diversity * redundancy[s.index]
                ),
            )
            candidates.remove(best)
            picked.append(best)
            used += best.tokens
            for s in candidates:
                redundancy[s.index] = max(redundancy[s.index], _cosine(s, best))
        return sorted(picked, key=lambda s: s.index)


def _owned(
    items: list[_Sentence], signals: DecisionSignals, lang: Language, common: Container[str]
) -> list[_Sentence]:
    """`items` with the owners `found_owners` finds, and their tokens as an action item renders them."""
    out = list(items)
    for position, owner, shown in found_owners(items, signals, common):
        found = replace(items[position], owned=shown, owner=owner)
        out[position] = replace(found, tokens=count_word_tokens(found.render(lang)) + 1)
    return out


def _owned_and_dated(s: _Sentence) -> bool:
    return bool(due_date(s.text) and (s.speaker or addressed_owner(s.text)))  # an explicit action item


def _tells(s: _Sentence, signals: DecisionSignals) -> bool:
    text = s.text.rstrip()
    return not (text.endswith(("?", "？")) or signals.is_action(text) or signals.is_deliberation(text))


def _given(s: _Sentence, signals: DecisionSignals) -> bool:
    return s.owner is not None and not signals.asks(s.text)  # a task `found_owners` gave, no request


def _content_words(s: _Sentence) -> int:
    return content_count(s.weights)


def extractive_frame_tokens(lang: Language = ENGLISH, profile: Profile = DEFAULT) -> int:
    """Tokens of a summary's fixed frame in `lang`: the label, the profile's headings, a "None" or
    the unfilled note under each."""
    unfilled = len(profile.model_only())
    return (
        count_word_tokens(lang.label)
        + sum(count_word_tokens(lang.heading(s.key, s.heading(lang.code))) for s in profile.sections)
        + (len(profile.sections) - unfilled) * count_word_tokens(lang.none)
        + unfilled * count_word_tokens(UNFILLED)
    )


def _cosine(a: _Sentence, b: _Sentence) -> float:
    if not a.norm or not b.norm:
        return 0.0
    small, large = (a, b) if len(a.weights) < len(b.weights) else (b, a)
    dot = sum(v * large.weights.get(w, 0.0) for w, v in small.weights.items())
    return dot / (a.norm * b.norm)
