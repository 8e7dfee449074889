"""Our own summaries read back as a reduce step's input: the frame goes, every content line stays."""

from __future__ import annotations

from worker.meeting import LANGUAGES, part_heading, strip_frame


def test_the_frame_goes_in_every_language_and_the_content_stays_in_its_place() -> None:
    for lang in LANGUAGES.values():
        overview, points = lang.headings[0], lang.headings[1]
        summary = f"{lang.label}\n\n{overview}\nAlice opened the review.\n\n{points}\n- {lang.none}"
        joined = f"{part_heading(1)}\n{summary}\n\n{part_heading(2)}\n  - Bob: I'll send it by Friday."
        assert strip_frame(joined).split("\n") == [
            "",
            "Alice opened the review.",
            "",
            "",
            "Bob: I'll send it by Friday.",
        ], lang.code


def test_an_engines_own_fixed_lines_go_only_when_it_names_them() -> None:
    note = "Not available from this engine."
    assert strip_frame(f"Notes\n{note}\n- {note}", (note,)) == "Notes"
    assert strip_frame(f"- {note}") == note


def test_a_line_that_only_quotes_a_heading_is_content() -> None:
    line = "Carol: the Part 2 heading and the word None are fine mid-sentence."
    assert strip_frame(line) == line
