"""Recaps: where a meeting says what it decided, in every language the engine localises.

Most decisions are stated twice: once while deciding, once in a recap ("So, to recap: ...",
"Let me read back the action items", the answer to "So what have we decided?"). The recap is the
settled version, so the extractive engine favours it: `recap_members` finds the sentences of a
recap (the rest of the turn after an opener, or the next speaker's turn after a recap question),
each sentence one item, so a numbered recap gives one item per number, also when it is said in one
sentence (`split_enumeration`: "To sum up: first, X; second, Y; and third, Z."). "So this is what we
decided." points at the statements that follow it the same way, up to one that points back
again ("It's also copy paste from what we made together."). A decision said across turns, the others
only saying "Right." in between, is one unit (`join_continued`): "we're going with a simple battery" /
"Right." / "and a curved case made of rubber".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Protocol

from worker.meeting.words import NUMBER_WORDS, STOP_WORDS, content_count, terms

# A sentence that opens a recap (it is no item itself).
RECAP_OPENER = re.compile(
    r"\b(?:to recap|quick recap|recap|to sum up|to summari[sz]e|in summary|let me read back|read back|"
    r"so what we(?:'ve| have) (?:decided|agreed)|zusammengefasst|zusammenfassend|fasse zusammen|"
    r"en résumé|pour résumer|je récapitule|récapitul\w*|en resumen|para resumir|resumiendo|riassumendo|"
    r"ricapitol\w*|em resumo|resumindo|recapitulando|samengevat|samenvattend|om samen te vatten)\b"
    r"|总结一下|总结来说|まとめると|まとめます|정리하면|정리하자면",
    re.IGNORECASE,
)
# A sentence that points at the decisions it is followed by: "So this is what we decided.", "Here's
# what we agreed on:" (the cue ends it: "What we decided is X" states X itself). After a colon the
# rest of the sentence is the first statement ("Here's what we agreed: rubber.").
RECAP_POINTER = re.compile(
    r"\b(?:what we(?:'ve| have)?|was wir|ce que (?:nous avons|l'on a|on a)|ce qu'on a|lo que (?:hemos)?|"
    r"quello che abbiamo|o que|wat we)\s+(?:(?:\w+\s+){0,5}?)"
    r"(?:decided|agreed(?: on)?|settled on|beschlossen(?: haben)?|vereinbart(?: haben)?|"
    r"entschieden(?: haben)?|décidé|convenu|decidido|decidimos|acordado|acordamos|deciso|concordato|"
    r"besloten(?: hebben)?|"
    r"afgesproken(?: hebben)?)(?:,?\s+(?:then|today|so far|now))?(?:[^\w:：]*$|\s*[:：]\s*(?P<stated>\S))",
    re.IGNORECASE,
)
# A sentence after a pointer that points back again ("It's also copy paste from what we made
# together.", said over a slide) comments on the statements instead of making one: the pointer's
# items end there.
_POINTS_BACK = re.compile(
    r"\bwhat (?:we|you|i|they)(?:'ve| have| had)?(?: \w+){0,2}? (?:made|did|done|discussed|said|wrote|"
    r"written|presented|showed|shown|prepared|came up with|talked about|went through)\b|"
    r"\bwas wir(?: \w+){0,4}? (?:gemacht|besprochen|gesagt|geschrieben|vorgestellt|erarbeitet)\b|"
    r"\bce qu(?:e nous avons|'on a)(?: \w+){0,2}? (?:fait|discuté|dit|présenté|préparé)\b|"
    r"\blo que (?:hemos )?(?:hecho|hicimos|discutido|discutimos|dicho|dijimos)\b|"
    r"\bquello che abbiamo (?:fatto|discusso|detto)\b|\bo que (?:fizemos|discutimos|dissemos)\b|"
    r"\bwat we (?:hebben )?(?:gedaan|besproken|gezegd)\b",
    re.IGNORECASE,
)
# A question whose answer is a recap: "So what have we decided?", "Was haben wir beschlossen?".
RECAP_QUESTION = re.compile(
    r"(?:\b(?:decided|agreed|decisions|settled|beschlossen|entschieden|vereinbart|entscheidungen|décidé|"
    r"convenu|décisions|decidido|acordado|decisiones|deciso|concordato|decisioni|decidimos|combinamos|"
    r"decisões|besloten|afgesproken|beslissingen)\b|决定|決ま|決定|결정).{0,40}[?？]\s*$",
    re.IGNORECASE,
)
# An answer to a recap question that says nothing is decided yet ("Not yet, we still need to
# compare the offers.", "Noch nicht", "Pas encore", "还没有"): it recaps nothing.
_NOTHING_YET = re.compile(
    r"^[\W_]*(?:(?:um|uh|well|so|hm+|ähm?|euh|bueno|beh|bem|nou|ja|oui|sí)\W+)*"
    r"(?:(?:no|nope|nah|not yet|nothing|none|nein|nicht|noch nicht|nichts|keine?|non|pas encore|rien|"
    r"aucune?|todavía no|aún no|nada|ningun[oa]?|non ancora|niente|nulla|nessun[oa]?|não|ainda não|"
    r"nenhum[a]?|nee|nog niet|niets|geen)\b|还没|没有|いいえ|まだ|何も|아직|아니|아무것도)",
    re.IGNORECASE,
)
# An opener that says it recaps outcomes, wherever it comes.
_OUTCOME = re.compile(
    r"\b(?:read back|decided|agreed|decisions|action items?|next steps|beschlossen|entschieden|aufgaben|"
    r"décidé|décisions|actions|decidido|decisiones|tareas|deciso|decisioni|azioni|decisões|tarefas|"
    r"besloten|besluiten|actiepunten)\b|决定|行动项|決定|アクション|결정|실행 항목",
    re.IGNORECASE,
)
# A decision under a label: "Decision: ...", "So, decision three: ...", "Beschluss: ...".
LABELLED = re.compile(
    r"\b(?:decision|beschluss|entscheidung|décision|decisión|decisione|decisão|besluit|beslissing)"
    r"(?:\s+\w+)?\s*[:：]|(?:决定|決定|결정)\s*[:：]",
    re.IGNORECASE,
)
# A pointer has at most this many words before its "what we decided" ("So uh this is").
_POINTER_LEAD = 6
# A recap is this many sentences at most (a read-back of a long meeting's items).
RECAP_SENTENCES = 12
# An item of a numbered list: "1)", "2.", "(3)", "One, ...", "Two: ...", "First(ly), ...", "Erstens",
# "Premièrement", "第一", "첫째" (a number word only with its comma: "One client called" is none).
_NUMBERS = "|".join(NUMBER_WORDS)
_ORDINALS = (
    "first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth(?:ly)?|fifth(?:ly)?|lastly|erstens|zweitens|"
    "drittens|viertens|fünftens|premièrement|deuxièmement|troisièmement|quatrièmement|primero|segundo|"
    "tercero|cuarto|primo|secondo|terzo|quarto|primeiro|terceiro|ten eerste|ten tweede|ten derde"
)
_MARK = (
    rf"(?:\(?\d{{1,2}}[.):](?!\d)|(?:number\s+)?(?:{_NUMBERS})[,:]|(?:{_ORDINALS})\b,?|"
    r"第[一二三四五六七八九十]|首先|其次|最后|[一二三四五]つ目|첫째|둘째|셋째|넷째)"
)
_AND = r"(?:(?:and|und|et|y|e|en)\s+)?"
ENUMERATED = re.compile(rf"^[\W_]*{_AND}{_MARK}", re.IGNORECASE)
# Where a sentence's next numbered item starts: after a colon, semicolon or comma ("...: first, X;
# second, Y; and third, Z", "... decisions: 1) X, 2) Y, 3) Z").
_NEXT_ITEM = re.compile(rf"(?<=[:;,：；，])\s*(?={_AND}{_MARK})", re.IGNORECASE)


def bare_opener(sentence: str) -> bool:
    """A recap's opener that says nothing by itself ("To sum up what we decided:")."""
    return sentence.rstrip().endswith((":", "：")) and bool(RECAP_OPENER.search(sentence))


def split_enumeration(sentence: str) -> list[str]:
    """A recap's numbered items said in one sentence, one piece each ("To sum up what we decided:
    first, X; second, Y; and third, Z." → the opener, then X, Y and Z with their numbers); any
    other sentence as it is. Only a sentence that opens a recap or names its outcome ("decided",
    "decisions") is split, and only at two numbers or more."""
    if not (RECAP_OPENER.search(sentence) or _OUTCOME.search(sentence)):
        return [sentence]
    cuts = [m.start() for m in _NEXT_ITEM.finditer(sentence)]
    if len(cuts) < 2:
        return [sentence]
    bounds = [0, *cuts, len(sentence)]
    pieces = (sentence[a:b].strip().rstrip(",;，；").strip() for a, b in pairwise(bounds))
    return [p for p in pieces if p]


class _Unit(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def speaker(self) -> str | None: ...
    @property
    def text(self) -> str: ...


def recap_members(items: Sequence[_Unit]) -> tuple[set[int], set[int]]:
    """Indices of the sentences that state a recap's items (not the opener, the pointer or the
    question): those after an opener (items when they carry a cue), and those after a pointer ("This
    is what we decided.", the rest of its speaker's turn) or answering a recap question (the next
    speaker's turn): items as they stand ("The hotfix ships alone.")."""
    recited: set[int] = set()
    answers: set[int] = set()
    for position, unit in enumerate(items):
        opener = bool(RECAP_OPENER.search(unit.text))
        asked = unit.text.rstrip().endswith(("?", "？"))  # "qu'est-ce qu'on a décidé ?" asks
        pointed = None if opener or asked else RECAP_POINTER.search(unit.text)
        # A pointer is said as one ("So this is what we decided."), not at the end of a long
        # sentence about something else ("a look at the notes ..., what we thought we had decided").
        if pointed is not None and len(unit.text[: pointed.start()].split()) > _POINTER_LEAD:
            pointed = None
        pointer = pointed is not None
        if pointed is not None and pointed.group("stated"):
            answers.add(unit.index)
        if not opener and not pointer and not RECAP_QUESTION.search(unit.text):
            continue
        # "Quick recap" of where things stand opens a meeting; the recap of its outcome ends it
        # (or names what it recaps: "let me read back the action items", or numbers its items
        # past the meeting's first quarter or at its end: "So, to recap. One, ... Two, ...").
        numbered = position + 1 < len(items) and bool(ENUMERATED.match(items[position + 1].text))
        last = len(items) - position - 1 <= RECAP_SENTENCES
        if (
            opener
            and position < 0.75 * len(items)
            and not _OUTCOME.search(unit.text)
            and not (numbered and (position >= 0.25 * len(items) or last))
        ):
            continue
        following = items[position + 1 : position + 1 + 2 * RECAP_SENTENCES]
        # An opener's recap is the rest of its speaker's turn; a question's, the next speaker's.
        speaker = (
            unit.speaker
            if opener or pointer
            else next((u.speaker for u in following if u.speaker != unit.speaker), None)
        )
        taken = 0
        for later in following:
            if later.speaker != speaker:
                if taken or opener or pointer:
                    break
                continue
            if later.text.rstrip().endswith(("?", "？")):
                break
            if not (taken or opener or pointer) and _NOTHING_YET.match(later.text):
                break  # "Have we decided on the vendor?" "Not yet, ..."
            if pointer and _POINTS_BACK.search(later.text):
                break  # "This is what we decided. It's also copy paste from what we made together."
            # A pointer's statements are items as they stand, like a recap question's answer and
            # a recap's numbered items ("Two, Dana leads the pilot.").
            (recited if opener and not ENUMERATED.match(later.text) else answers).add(later.index)
            taken += 1
            if taken >= RECAP_SENTENCES:
                break
    return recited, answers


# A sentence left unfinished (no final mark: "we're going with a simple battery, the advanced chip"),
# and a turn that goes on with one ("and a curved case", "plus the buttons").
_UNFINISHED = re.compile(r"[^.!?。！？…\s]\s*$")
_GOES_ON = re.compile(r"^\W*(?:and|or|plus|with|und|oder|sowie|et|ou|y|o|e|en|of)\b", re.IGNORECASE)
# Between the parts, at most this many sentences of others that say nothing ("Right.", "Yep.").
_BACKCHANNELS = 3
# A decision joined with its rest is this many words at most (an unpunctuated transcript's turns
# are all unfinished: a long next turn is no rest of a sentence).
_JOINED_WORDS = 80


def _says_nothing(text: str) -> bool:
    return not content_count(w for w in terms(text) if w not in STOP_WORDS)


def join_continued(
    units: Sequence[tuple[str | None, str, float | None]], decided: Callable[[str], bool]
) -> list[tuple[str | None, str, float | None]]:
    """(speaker, sentence, start) units, each decision its speaker left unfinished and went on with
    after the others only said "Right." or "Yep." joined with its rest, each rest starting in lower
    case or with "and": QMSum ES2006c's "So we've basically worked out that we're going with a simple
    battery, the advanced chip" / "Right." / "and a curved on one side case ..." / "Yep." / "and the
    buttons are also rubber." is one unit."""
    out = list(units)
    gone: set[int] = set()
    for head, (speaker, text, start) in enumerate(units):
        if head in gone or speaker is None or not _UNFINISHED.search(text) or not decided(text):
            continue
        at, current = head + 1, text
        while _UNFINISHED.search(current):
            skipped = 0
            while (
                at < len(units)
                and units[at][0] != speaker
                and skipped < _BACKCHANNELS
                and _says_nothing(units[at][1])
            ):
                at, skipped = at + 1, skipped + 1
            rest = units[at][1].lstrip() if at < len(units) and units[at][0] == speaker else ""
            if not (rest[:1].islower() or _GOES_ON.match(rest)):
                break
            if len(current.split()) + len(rest.split()) > _JOINED_WORDS:
                break
            current = f"{current} {rest}"
            gone.add(at)
            at += 1
        out[head] = (speaker, current, start)
    return [u for i, u in enumerate(out) if i not in gone]
