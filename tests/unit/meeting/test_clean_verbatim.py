"""Clean verbatim: a summary quotes what was said without the hesitations and stutters of speech
("um", "äh", "it's it's", "to the to the"), and keeps every word said on purpose, in each language
the engine localises."""

from __future__ import annotations

import pytest

from worker.meeting import clean_verbatim


@pytest.mark.parametrize(
    ("said", "languages", "quoted"),
    [
        ("Um, so we decided to go with rubber.", ("en",), "So we decided to go with rubber."),
        ("I think, uh, the blue one.", ("en",), "I think the blue one."),
        ("So we, um, decided on blue.", ("en",), "So we decided on blue."),
        ("That's the price, erm.", ("en",), "That's the price."),
        ("Äh, wir nehmen, ähm, das blaue Gehäuse.", ("de",), "Wir nehmen das blaue Gehäuse."),
        ("Euh, on prend le boîtier bleu.", ("fr",), "On prend le boîtier bleu."),
        ("Eh, we nemen de blauwe.", ("nl",), "We nemen de blauwe."),
        ("Ehm, prendiamo quello blu.", ("it",), "Prendiamo quello blu."),
        # An opening word keeps its own comma: "Yes, no" answers, "Yes no" does not read.
        ("Yes, uh, no, we keep the rubber.", ("en",), "Yes, no, we keep the rubber."),
        ("So, um, we go with rubber.", ("en",), "So, we go with rubber."),
        ("Ja, äh, nein, das bleibt so.", ("de",), "Ja, nein, das bleibt so."),
        ("Bon, euh, on garde le bleu.", ("fr",), "Bon, on garde le bleu."),
    ],
)
def test_hesitations_are_left_out(said: str, languages: tuple[str, ...], quoted: str) -> None:
    assert clean_verbatim(said, languages) == quoted


@pytest.mark.parametrize(
    ("said", "languages", "quoted"),
    [
        ("it's it's grey to to to give it an iron look", ("en",), "it's grey to give it an iron look"),
        ("we can go to the to the shop", ("en",), "we can go to the shop"),
        ("you can you can take the deck", ("en",), "you can take the deck"),
        ("and we we've more or less agreed", ("en",), "and we've more or less agreed"),
        ("I I'll send it", ("en",), "I'll send it"),
        ("th th th that middle ring", ("en",), "that middle ring"),
        ("so th that's the price", ("en",), "so that's the price"),
        ("and wh what's the budget", ("en",), "and what's the budget"),
        ("The the price is fine.", ("en",), "The price is fine."),
        ("Wir wir nehmen das blaue.", ("de",), "Wir nehmen das blaue."),
        ("On on prend le bleu.", ("fr",), "On prend le bleu."),
    ],
)
def test_stutters_are_said_once(said: str, languages: tuple[str, ...], quoted: str) -> None:
    assert clean_verbatim(said, languages) == quoted


@pytest.mark.parametrize(
    ("said", "languages"),
    [
        ("I think that that works.", ("en",)),
        ("I think that that's right.", ("en",)),
        ("If it had had a screen, we'd keep it.", ("en",)),
        ("No, no, we keep the price.", ("en",)),  # said twice with a comma: emphasis
        ("We decide on one tomorrow.", ("en",)),  # "on" is no broken-off "one"
        ("Talk to tomorrow's team.", ("en",)),
        ("Nous nous sommes mis d'accord.", ("fr",)),
        ("Ik denk dat dat goed is.", ("nl",)),
        ("Antes de decidir el precio.", ("es",)),  # a broken-off word is read only in English
        ("We sold 2 2 units.", ("en",)),  # numbers are said as written
        ("The umbrella stand stays.", ("en",)),  # a hesitation inside a word is the word
        ("Uh-huh, that works.", ("en",)),  # an answer, not a hesitation
    ],
)
def test_words_said_on_purpose_are_kept(said: str, languages: tuple[str, ...]) -> None:
    assert clean_verbatim(said, languages) == said


@pytest.mark.parametrize(
    ("said", "languages", "quoted"),
    [
        ("We decided, you know, to go with rubber.", ("en",), "We decided to go with rubber."),
        ("You know, the price is fine.", ("en",), "The price is fine."),
        ("The price is fine, you see.", ("en",), "The price is fine."),
        ("Wir nehmen, sozusagen, das blaue Gehäuse.", ("de",), "Wir nehmen das blaue Gehäuse."),
        ("On garde, tu vois, le boîtier bleu.", ("fr",), "On garde le boîtier bleu."),
        ("We nemen, zeg maar, de blauwe.", ("nl",), "We nemen de blauwe."),
    ],
)
def test_asides_set_off_by_commas_are_left_out(said: str, languages: tuple[str, ...], quoted: str) -> None:
    assert clean_verbatim(said, languages) == quoted


@pytest.mark.parametrize(
    ("said", "languages"),
    [
        ("Do you know the price?", ("en",)),
        ("You know the vendor, so you call them.", ("en",)),
        ("You see the problem.", ("en",)),
        ("Weißt du, wann der Termin ist?", ("de",)),  # it opens a question: it asks
        ("You know, what is the price?", ("en",)),
        ("Tu sais que le prix monte.", ("fr",)),
    ],
)
def test_an_aside_that_is_part_of_the_sentence_is_kept(said: str, languages: tuple[str, ...]) -> None:
    assert clean_verbatim(said, languages) == said


@pytest.mark.parametrize(
    ("said", "languages", "quoted"),
    [
        # Portuguese "um" is "a": kept where Portuguese is spoken, left out where only English is.
        ("Vamos usar um sensor.", ("pt", "en"), "Vamos usar um sensor."),
        ("Um, we use a sensor.", ("en",), "We use a sensor."),
        # German "er" is "he": an English hesitation, a German word.
        ("Er schickt das Protokoll.", ("de", "en"), "Er schickt das Protokoll."),
        ("Er, we send the minutes.", ("en",), "We send the minutes."),
    ],
)
def test_a_hesitation_of_one_language_is_a_word_of_another(
    said: str, languages: tuple[str, ...], quoted: str
) -> None:
    assert clean_verbatim(said, languages) == quoted


@pytest.mark.parametrize("said", ["Um.", "Uh, um...", "Hmm?"])
def test_a_sentence_that_is_all_hesitation_is_empty(said: str) -> None:
    assert clean_verbatim(said) == ""


def test_a_language_without_a_record_is_read_with_englishs_hesitations() -> None:
    assert clean_verbatim("Um, vi tar den blå.", ("sv",)) == "Vi tar den blå."
