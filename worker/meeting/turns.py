"""Transcript text → speaker turns (utterances) → sentences: the units engines rank and chunk.

Pure string work, shared by the summariser (chunks fall on turn and sentence boundaries) and the
extractive engine (which ranks sentences and attributes each to its speaker).

Memory: a 64 MB transcript can be 9M one-word turns, and a Python object per turn costs ~10× the
turn's bytes. So turns are read as a stream (`iter_utterances`, `lines`, `iter_sentences`) and
kept as one rendered string with one turn per line (`Transcript`), never as a list of objects.

Plain-text shapes read: `Name: text` (any script, full-width colon too), a time before or after the
name, and the exports of meeting tools that put a header line above the turn (`Alice Smith  0:03`,
`[10:02 AM] Alice Smith`, a name with its clock on the next line, Zoom's `[Alice] 10:02:15 text`)
or a clock alone on its line (Google Meet). A header is only taken for one when it looks like a
name (no lower-case word but "van", "de", ...) and text follows it: "See you at 10:30" is speech.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
# What a label may hold besides letters: names, titles, roles and handles ("Dr. O'Neil / PM", "sam@corp").
_LABEL_CHAR = r"[\w .'’/@&+-]"
# A label over 40 characters is a name or a role only when its words are capitalised (or short
# joining words): "So what we decided after a long discussion is:" is speech.
_SHORT_LABEL = 40
_JOINING = frozenset("of the and for on at in to with".split())  # noqa: SIM905
# "Alice:", "ALICE SMITH:", "Müller, Jürgen:", "Speaker 1:", "[00:01:02] Bob:", "Bob (00:01:02):",
# "PM:", "Alex Smith (Guest):", "Kim (she/her):", "Jane O'Neil / PM:", "sam@corp:", "李娜（主持人）:"
# at the start of a line; the time, where there is one, is the turn's start.
_SPEAKER = re.compile(
    # A bullet or dash before the label ("- Alice: ...") is list markup, not speech.
    rf"^\s*(?:[-–•*]\s+)?(?:\[?\(?(?P<time>{_TIME})\)?\]?\s*[-–]?\s*)?"
    # "Müller, Jürgen:" (Teams writes surname first) but not "However, the plan is:"; a trailing
    # bracket without a colon in it ("(Guest)", "(she/her)") but not a time ("Bob (00:01:02):").
    rf"(?P<speaker>(?:[^\W\d_]|@){_LABEL_CHAR}{{0,79}}?(?:,\s[^\W\d_a-zß-ÿ]{_LABEL_CHAR}{{0,40}}?)?"
    r"(?:\s?[(（][^()（）:：\n]{1,40}[)）])?)"
    rf"\s*(?:[(\[](?P<after>{_TIME})[)\]])?\s*"
    # A full-width colon (Chinese, Japanese) needs no space after it: "李娜：大家好".
    r"(?::(?:\s+|$)|：\s*)",
)
# A clock as meeting tools print it on a line of its own or beside a name: `0:03`, `1:02:15`,
# `0:0:3.120` (Teams), `10:02 AM` (a time of day).
_CLOCK = r"\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[.,]\d+)?(?:\s*[AaPp]\.?[Mm]\.?)?"
_NAME = r"[^\W\d_][\w.'’,-]*(?:\s[\w.'’,-]+){0,4}"
# A turn's header line, its text on the lines below (Zoom, Otter, Teams, Google Meet exports):
# "Alice Smith  0:03", "Müller, Jürgen   10:02 AM", "[10:02 AM] Alice Smith".
_HEADER = re.compile(
    rf"^\s*(?:[\[(](?P<before>{_CLOCK})[\])]\s*[-–]?\s*(?P<first>{_NAME})|"
    rf"(?P<name>{_NAME}?)\s*[-–|]?\s+[\[(]?(?P<after>{_CLOCK})[\])]?)\s*$"
)
# A clock alone on its line (Google Meet's markers): the next turn's start.
_CLOCK_LINE = re.compile(rf"^\s*[\[(]?(?P<time>{_CLOCK})[\])]?\s*$")
# "[Alice Smith] 10:02:15 text" (Zoom's saved captions) or "[Alice]: text": a bracketed name
# followed by a clock or a colon ("[laughter] yes" is speech).
_BRACKET_SPEAKER = re.compile(
    rf"^\s*\[(?P<speaker>{_NAME})\]\s*(?:(?P<time>{_CLOCK})(?:\s*[-–:]\s*|\s+|$)|[:：]\s*)"
)
# Lower-case words a name may hold ("Ludwig van Beethoven", "María de la Cruz").
_PARTICLES = frozenset(
    "van von der den de del della di da dos das du la le el al bin ibn ten ter zu y e".split()  # noqa: SIM905
)
# "[00:01:02] text" with no speaker: a timed paragraph.
_TIMED_LINE = re.compile(rf"^\s*[\[(](?P<time>{_TIME})[\])]\s*[-–]?\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[^\s])")
# Chinese and Japanese end sentences with full-width marks and no space after them, as Khmer
# (។ ៕), Myanmar (။), Tibetan (། ༎), Ethiopic (።) and the Indic dandas (। ॥) may; a closing
# bracket or quote right after the mark stays with its sentence.
_CLOSERS = "」』”’）)】〕\\]"
_ENDS = "。！？｡។៕။།༎።।॥"
_CJK_END = re.compile(rf"(?:(?<=[{_ENDS}])(?![{_CLOSERS}])|(?<=[{_ENDS}][{_CLOSERS}]))\s*(?=\S)")
# Thai and Lao have no sentence punctuation: a space between their words is where a sentence (or
# clause) ends.
_THAI_GAP = re.compile(r"(?<=[\u0e00-\u0eff])\s+(?=[\u0e00-\u0eff])")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One speaker turn; `start` is its start time in seconds where the input has times."""

    speaker: str | None
    text: str
    start: float | None = None

    def render(self) -> str:
        """`[00:01:02] Speaker: text`: the shape `utterances` reads back, times and speakers kept."""
        head = f"[{clock(self.start)}] " if self.start is not None else ""
        return f"{head}{self.speaker}: {self.text}" if self.speaker else f"{head}{self.text}"


def clock(seconds: float) -> str:
    """Seconds → `hh:mm:ss` (whole seconds, rounded down: a reference points at the turn's start)."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def seconds(stamp: str) -> float:
    """`hh:mm:ss`, `mm:ss` or either with a fraction (`,` or `.`) → seconds; `10:02 AM`, a time of
    day, → seconds since midnight."""
    day = re.search(r"\s*([AaPp])\.?[Mm]\.?$", stamp)
    if day:
        hours, _, rest = stamp[: day.start()].partition(":")
        hour = int(hours) % 12 + (12 if day.group(1).lower() == "p" else 0)
        return hour * 3600 + seconds(f"{rest}:00" if rest.count(":") == 0 else rest)
    value = 0.0
    for part in stamp.replace(",", ".").split(":"):
        value = value * 60 + float(part)
    return value


@dataclass(frozen=True)
class Transcript:
    """The turns as one string, one rendered turn (`Utterance.render`) per line: what chunks are
    cut from, at a few bytes per turn instead of a Python object each."""

    body: str
    turns: int
    # Whole-second start times of the turns that have one (what `worker.meeting.structure` checks against).
    starts: frozenset[int] = frozenset()

    @property
    def timed(self) -> bool:
        return bool(self.starts)

    def utterances(self) -> Iterator[Utterance]:
        return iter_utterances(self.body)

    def sample(self, chars: int = 20_000) -> str:
        """The first turns' text, speakers and times left out, about `chars` long (language detection)."""
        out: list[str] = []
        size = 0
        for turn in self.utterances():
            if size >= chars:
                break
            out.append(turn.text[: chars - size])
            size += len(out[-1]) + 1
        return " ".join(out)


# Rendered turns joined per batch, then the batches: no list of every turn's string at once.
_RENDER_BATCH = 4096


def render_turns(turns: Iterable[Utterance]) -> Transcript:
    """Turns (a list or a stream) → one `Transcript`."""
    batches: list[str] = []
    batch: list[str] = []
    count = 0
    starts: set[int] = set()
    for turn in turns:
        batch.append(turn.render())
        if turn.start is not None:
            starts.add(int(turn.start))
        count += 1
        if len(batch) == _RENDER_BATCH:
            batches.append("\n".join(batch))
            batch.clear()
    if batch:
        batches.append("\n".join(batch))
    body = batches[0] if len(batches) == 1 else "\n".join(batches)
    return Transcript(body, count, frozenset(starts))


def lines(text: str) -> Iterator[str]:
    """`text.split("\\n")` one line at a time."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def utterances(text: str) -> list[Utterance]:
    """Split on speaker turns; lines without a speaker label continue the previous turn.

    A transcript without any labels becomes one utterance per paragraph.
    """
    return list(iter_utterances(text))


def iter_utterances(text: str) -> Iterator[Utterance]:
    """`utterances` as a stream."""
    speaker: str | None = None
    start: float | None = None
    # A clock on a line of its own: the start of the turn that follows it.
    pending: float | None = None
    buffer: list[str] = []
    for line, after in _pairs(lines(text)):
        # Every shape but "Name:" has a clock in the line or the next one: speech without a colon
        # (most lines of a big transcript) skips those patterns.
        clocked = ":" in line or (after is not None and ":" in after)
        match = _speaker_match(line) or (_bracket_speaker(line) if clocked else None)
        header = None if match or not clocked else _header(line, after)
        clock_line = None if match or header or not clocked else _CLOCK_LINE.match(line)
        timed = None if match or header or clock_line or not clocked else _TIMED_LINE.match(line)
        if match:
            yield from _flush(buffer, speaker, start)
            speaker = speaker_label(match.group("speaker"))
            groups = match.groupdict()
            stamp = groups.get("time") or groups.get("after")
            start = seconds(stamp) if stamp else pending
            pending = None
            buffer.append(line[match.end() :])
        elif header:
            yield from _flush(buffer, speaker, start)
            speaker, start = speaker_label(header[0]), header[1]
            pending = None
        elif clock_line:
            yield from _flush(buffer, speaker, start)
            pending = seconds(clock_line.group("time"))
            start = None
        elif timed and speaker is None:
            yield from _flush(buffer, speaker, start)
            start = seconds(timed.group("time"))
            buffer.append(line[timed.end() :])
        elif not line.strip():
            if speaker is None:
                yield from _flush(buffer, speaker, start)
        else:
            if pending is not None and not buffer:
                start, pending = pending, None
            buffer.append(line.strip())
    yield from _flush(buffer, speaker, start)


def _pairs(items: Iterator[str]) -> Iterator[tuple[str, str | None]]:
    """Each line with the one after it (None after the last)."""
    current = next(items, None)
    while current is not None:
        following = next(items, None)
        yield current, following
        current = following


def _header(line: str, after: str | None) -> tuple[str, float | None] | None:
    """(speaker, start) when `line` is a turn's header: a name and a clock alone on their line,
    followed by the turn's text (not by a blank line or another labelled line); or a name alone
    with the clock on the line below it (start None: the clock line gives it)."""
    if after is None or not after.strip():
        return None
    if _CLOCK_LINE.match(after) and _is_name(line.strip()) and not _CLOCK_LINE.match(line):
        return line.strip(), None
    match = _HEADER.match(line)
    if not match:
        return None
    if _speaker_match(after) or _HEADER.match(after) or _TIMED_LINE.match(after) or _CLOCK_LINE.match(after):
        return None
    name = (match.group("first") or match.group("name") or "").strip(" ,-–|")
    if not _is_name(name):
        return None
    return name, seconds(match.group("before") or match.group("after"))


def _is_name(text: str) -> bool:
    """A person's name: "See you at" or "so today" is speech, "Alice Smith" and "李娜" are names."""
    words = text.split()
    if not words or len(text) > 40 or len(words) > 5 or re.search(r"[.!?:;。！？]$", text):
        return False
    if not re.match(r"[^\W\d_]", text):
        return False
    return not any(w[0].islower() and w not in _PARTICLES for w in words)


def _bracket_speaker(line: str) -> re.Match[str] | None:
    match = _BRACKET_SPEAKER.match(line)
    return match if match and _is_name(match.group("speaker")) else None


def _flush(buffer: list[str], speaker: str | None, start: float | None) -> Iterator[Utterance]:
    # One line (the common case) is kept as it is: no second copy of every turn.
    body = (buffer[0] if len(buffer) == 1 else " ".join(buffer)).strip()
    buffer.clear()
    if body:
        yield Utterance(speaker, body, start)


def _speaker_match(line: str) -> re.Match[str] | None:
    match = _SPEAKER.match(line)
    if match is None or len(name := match.group("speaker").strip()) <= _SHORT_LABEL:
        return match
    words = re.sub(r"\s?[(（][^)）]*[)）]$", "", name).split()
    named = all(w[0].isupper() or w[0] in "@&/+-" or w in _JOINING or w in _PARTICLES for w in words)
    return match if named else None


# Blanks that `one_line` must change: a run of two, or any that is not a space.
_ODD_BLANK = re.compile(r"[^\S ]|  ")
_BLANK = re.compile(r"\s")
# A long text is collapsed this many characters at a time: `str.split()` makes an object a word.
_LINE_PIECE = 1 << 20


def one_line(text: str) -> str:
    """`" ".join(text.split())` without a list of every word: one huge cue (32 MB of words) made
    a 50-byte string object per word, 12-16 × its size; now a megabyte of words at a time."""
    if not _ODD_BLANK.search(text):
        return text.strip(" ")
    if len(text) <= _LINE_PIECE:
        return " ".join(text.split())
    pieces = []
    start = 0
    while start < len(text):
        blank = _BLANK.search(text, start + _LINE_PIECE)  # a piece ends between words
        end = blank.start() if blank else len(text)
        if piece := " ".join(text[start:end].split()):
            pieces.append(piece)
        start = end
    return " ".join(pieces)


def speaker_label(raw: str) -> str | None:
    """A reader's speaker label in the one shape a `Label: text` line gives back (`split_speaker`),
    so the body, an answer quoting it and the structure read from either keep the speaker: blanks
    and line breaks as one space; a label no line can hold as written loses what stops it (a colon,
    a bracket, `#`: "Team: Alice" → "Team Alice"), then gets a head ("7" → "Speaker 7"), then is cut
    to 40 characters. None: nothing of a label is left."""
    return _label(raw)


@lru_cache(maxsize=4096)  # tools repeat one label on every cue
def _label(raw: str) -> str | None:
    label = " ".join(raw.split())
    if not label or _reads_back(label):
        return label or None
    plain = " ".join(_UNSAFE.sub(" ", label).split())
    bare = " ".join(re.sub(r"[()（）]", " ", plain).split())
    short = bare[:_SHORT_LABEL].rsplit(" ", 1)[0] if len(bare) > _SHORT_LABEL else bare
    for candidate in (plain, bare, f"Speaker {bare}", short, f"Speaker {short}"):
        if candidate.strip() and _reads_back(candidate):
            return candidate
    return None


_UNSAFE = re.compile(r"[^\w .'’/@&+()（）-]")


def _reads_back(label: str) -> bool:
    match = _speaker_match(f"{label}: x")
    return bool(
        match and match.group("speaker") == label and not match.group("time") and not match.group("after")
    )


def split_speaker(line: str) -> tuple[str | None, str]:
    """`Alice: text` → ("Alice", "text"); a line without a speaker label → (None, line)."""
    match = _speaker_match(line)
    if not match:
        return None, line.strip()
    return match.group("speaker").strip(), line[match.end() :].strip()


def sentences(text: str) -> list[str]:
    """Split text on sentence-final punctuation (Latin, CJK full-width, Thai spacing); text with
    none stays one sentence."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[str]:
    """`sentences` as a stream."""
    for part in _split(_SENTENCE_END, text):
        for piece in _split(_CJK_END, part):
            for s in _split(_THAI_GAP, piece):
                if s := s.strip():
                    yield s


def _split(pattern: re.Pattern[str], text: str) -> Iterator[str]:
    """`pattern.split(text)` one part at a time (the patterns have no groups)."""
    start = 0
    for match in pattern.finditer(text):
        yield text[start : match.start()]
        start = match.end()
    yield text[start:]
