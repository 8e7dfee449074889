"""Words without a model: a token count that needs no tokenizer, and a sentence's content terms.

`count_word_tokens` counts words, punctuation marks and, in scripts written without spaces, single
characters: the token of the engines that have no model (extractive, fixed) and of the benchmarks'
and evaluation's budgets; `truncate` cuts a text at the same count. `terms` is what a ranking
compares sentences by: lower-cased words, and character bigrams of a run without spaces (CJK,
Thai); `STOP_WORDS` (English function words, a meeting's fillers, the backchannels of the scripts
without spaces, and numbers spelled out, as digits are no words) are the terms it leaves out;
`term_weights` weighs each sentence's terms by TF-IDF over the meeting, and `content_count` counts
a sentence's content words. `clean_verbatim` is a sentence as a summary quotes it, without the
hesitations and stutters of speech.
Nothing here knows a model's tokenizer: an engine with a model counts with its own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from worker.meeting.languages import LANGUAGES

# Scripts written without spaces between words (Thai, Lao, Tibetan, Myanmar, Khmer, Chinese with
# its radicals and the ideographs beyond the BMP, Japanese kana full- and half-width, Bopomofo, Yi)
# and Hangul: one character is about one model token, so each counts as one here. Counted as
# runs, 200K characters of Khmer were 20K "tokens" and a 512-token summary held 2,700 characters.
_DENSE = (
    "\u0e00-\u0fff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fdf\u3040-\u30ff"
    "\u3100-\u318f\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f"
)
_TOKEN = re.compile(rf"[{_DENSE}]|[^\W{_DENSE}]+|[^\w\s]")
_WORD = re.compile(rf"[{_DENSE}]+|[^\W\d_{_DENSE}]+")
DENSE_RUN = re.compile(rf"[{_DENSE}]+")
# One to ten as the Latin-script languages spell them: the marks of a numbered recap ("Two: ...").
NUMBER_WORDS = tuple(
    """one two three four five six seven eight nine ten eins zwei drei vier fünf un deux trois quatre
    cinq uno dos tres cuatro cinco due tre quattro dois três quatro een twee drie""".split()  # noqa: SIM905
)
STOP_WORDS = (
    frozenset(
        """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    um uh umm uhm mm mmm hmm yeah yes okay ok oh ah like well right really actually just gonna
    wanna kind sort thing things think know mean guess get got go going one also maybe something
    stuff lot bit alright yep nope mhm mhmm hm huh aha""".split()  # noqa: SIM905 (a word list reads better as prose)
    )
    | frozenset(
        # A number spelled out is no more content than its digits, which are no word at all (`_WORD`):
        # "twelve" in one transcript is "12" in another's, and "Fifty one, one, two, three" is a
        # microphone check, not the meeting's most central sentence. Italian "due" (two) is also an
        # English word ("The deck is due Friday.").
        (
            *(w for w in NUMBER_WORDS if w != "due"),
            *"""eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty
    forty fifty sixty seventy eighty ninety hundred thousand million zero""".split(),  # noqa: SIM905
        )
    )
    | frozenset(
        # Backchannels and copulas of the scripts without spaces, as their terms (characters and
        # bigrams): "了解です。", "なるほど。", "아, 그렇군요.", "嗯，好的。" say nothing.
        """はい ええ えー うん あの 了解 解で です すね ます なる るほ ほど そう うで
    네 아 음 어 그렇 렇군 군요 렇죠 맞아 아요 알겠 겠습 습니 니다
    嗯 啊 哦 呃 好的 对对 是的 对的 那个 这个 就是 然后""".split()  # noqa: SIM905
    )
    | frozenset(
        # The other languages' fillers, pronouns and articles ("Gut, fangen wir an." says nothing); a
        # single letter ("y", "e", "l") stays a term, as AMI spells acronyms letter by letter ("L_C_D_").
        word
        for code, lang in LANGUAGES.items()
        if code != "en"
        for word in (*lang.fillers, *lang.articles)
        if len(word) > 1
    )
)


def count_word_tokens(text: str) -> int:
    """Words, punctuation marks and CJK/Thai characters: the extractive engine's token."""
    return sum(1 for _ in _TOKEN.finditer(text))


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` with at most `max_tokens` tokens."""
    if max_tokens <= 0:
        return ""
    for n, match in enumerate(_TOKEN.finditer(text), 1):
        if n == max_tokens:
            return text[: match.end()]
    return text


def terms(text: str) -> list[str]:
    """Content terms: lower-cased words, and character bigrams of a run without spaces (CJK, Thai),
    the usual unit for ranking those scripts."""
    out: list[str] = []
    for w in _WORD.findall(text):
        if DENSE_RUN.fullmatch(w) and len(w) > 1:
            out.extend(w[i : i + 2] for i in range(len(w) - 1))
        else:
            out.append(w.lower())
    return out


# Texts without content terms share one empty weight map (never mutated).
NO_WEIGHTS: dict[str, float] = {}
# What a contraction leaves behind: the "ll" of "we'll" is no content word.
_CONTRACTED = frozenset({"ll", "ve", "re"})


def term_weights(texts: Sequence[str]) -> list[dict[str, float]]:
    """Each text's content terms (`terms` less `STOP_WORDS`) weighed (1 + log tf) × idf over
    `texts`. Memory is linear in the texts with a small constant (200K one-word turns are 200K
    texts): one string per distinct word, one dict per text with content (its counts, turned into
    weights in place), `NO_WEIGHTS` for a text without."""
    vocab: dict[str, str] = {}
    bags: list[dict[str, float]] = []
    df: Counter[str] = Counter()
    for text in texts:
        bag = Counter(vocab.setdefault(w, w) for w in terms(text) if w not in STOP_WORDS)
        if bag:
            df.update(bag.keys())
            bags.append(bag)  # type: ignore[arg-type]
        else:
            bags.append(NO_WEIGHTS)
    n = max(len(bags), 1)
    idf = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
    del df, vocab
    for weights in bags:
        for w, c in weights.items():
            weights[w] = (1 + math.log(c)) * idf[w]
    return bags


def content_count(weighed: Iterable[str]) -> int:
    """Content words of two letters or more among a sentence's weighed terms (the "s" of "that's",
    the "ll" of "we'll" are none; a CJK bigram is one)."""
    return sum(1 for w in weighed if (len(w) > 1 and w not in _CONTRACTED) or DENSE_RUN.fullmatch(w))


# A word as it stands between spaces in a clean-verbatim sentence (letters, an inner apostrophe).
_EDGE = r"(?<![\w'’-])"
_END = r"(?![\w'’-])"
_SAID_TWICE = re.compile(rf"{_EDGE}([^\W\d_]+(?:['’][^\W\d_]+)?)\s+(?=\1{_END})", re.IGNORECASE)
# "to the to the shop", "you can you can": two words said twice.
_PAIR_TWICE = re.compile(rf"{_EDGE}([^\W\d_]+\s+[^\W\d_]+)\s+(?=\1{_END})", re.IGNORECASE)
# "we we've", "I I'll": a word, then its own contraction.
_BEFORE_CONTRACTION = re.compile(rf"{_EDGE}([^\W\d_]+)\s+(?=\1['’][^\W\d_]+{_END})", re.IGNORECASE)
# "th that", "s so", "th that's": an English word broken off and started again (lower case, one or
# two letters).
_BROKEN_OFF = re.compile(rf"{_EDGE}([a-z]{{1,2}})\s+(?=\1[a-z]{{2,}}(?:['’][a-z]+)?{_END})")
# What a left-out hesitation leaves: "right, ." or "so , we".
_STRANDED = re.compile(r"\s*[,;](?=\s*[.?!…]|\s*$)|\s+(?=[,.?!…;:])")


@lru_cache(maxsize=64)
def _left_out(
    codes: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, frozenset[str]]:
    """The hesitations of `codes`' records as one pattern (each with the commas around it), their
    asides set off by commas as another, and the words they say twice on purpose; English's for a
    language without a record. A hesitation of one is kept where it is a word of another (English
    "um" is Portuguese "a", "er" German "he")."""
    records = [LANGUAGES[c] for c in codes if c in LANGUAGES] or [LANGUAGES["en"]]
    words = {w for r in records for w in (*r.fillers, *r.articles) if w not in r.hesitations}
    sounds = sorted({w for r in records for w in r.hesitations} - words, key=len, reverse=True)
    hesitation = (
        re.compile(rf"(?:,\s*)?{_EDGE}(?:{'|'.join(map(re.escape, sounds))}){_END}[,;]?\s*", re.IGNORECASE)
        if sounds
        else None
    )
    said = "|".join(
        re.escape(a) for a in sorted({a for r in records for a in r.asides}, key=len, reverse=True)
    )
    # ", you know, " between commas, "You know, " opening the sentence, ", you know." closing it.
    aside = (
        re.compile(
            rf"(,)\s*(?:{said})\s*,\s*|(^)(?:{said})\s*,\s*|,\s*(?:{said})(?=\s*[.?!…]|\s*$)", re.IGNORECASE
        )
        if said
        else None
    )
    return hesitation, aside, frozenset(w for r in records for w in r.said_twice)


def _without_hesitation(m: re.Match[str]) -> str:
    """What a hesitation leaves: "I think, uh, the blue one" → "I think the blue one" (the commas
    were the pause it filled); after an opening word, that word's own comma ("Yes, uh, no" → "Yes,
    no"; "So, um, we" → "So, we")."""
    said = m.group(0)
    if said[0] != ",":
        return ""
    opening = " " not in m.string[: m.start()].strip()
    return ", " if opening and said.rstrip()[-1] in ",;" else " "


def clean_verbatim(text: str, languages: tuple[str, ...] = ("en",)) -> str:
    """`text` as a clean-verbatim transcript writes it: the hesitations of the meeting's
    `languages` ("um", "äh", "euh"), their asides set off by commas (", you know,", ", weißt du,")
    and its stutters left out ("it's it's grey to to give" → "it's grey to give", "to the to the
    shop", "we we've", English's "th that"); a word said twice on purpose stays ("I think that that
    works"), and so does an aside that is part of the sentence ("Do you know the price?"). Every
    other word is kept as said; a sentence that was all hesitation comes back empty."""
    hesitation, aside, twice = _left_out(languages)
    out = hesitation.sub(_without_hesitation, text) if hesitation else text
    if aside:
        # "Weißt du, wann der Termin ist?" asks: an opening aside of a question is its question.
        question = out.rstrip().endswith("?")
        out = aside.sub(
            lambda m: " " if m.group(1) else m.group(0) if question and m.group(2) is not None else "", out
        )
    if out != text:
        out = _STRANDED.sub("", re.sub(r"\s{2,}", " ", out)).strip()
    out = _PAIR_TWICE.sub("", out)
    out = _SAID_TWICE.sub(lambda m: m.group(0) if m.group(1).lower() in twice else "", out)
    out = _BEFORE_CONTRACTION.sub(lambda m: m.group(0) if m.group(1).lower() in twice else "", out)
    if "en" in languages[:1]:
        out = _BROKEN_OFF.sub(lambda m: m.group(0) if m.group(1) in STOP_WORDS else "", out)
    if not _WORD.search(out):
        return ""
    if out[:1].islower() and text[:1].isupper():  # "Um, so we ..." → "So we ..."
        out = out[0].upper() + out[1:]
    return out
