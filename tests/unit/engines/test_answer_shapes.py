"""The tolerant parser keeps an action item's owner and due date from the shapes models write them
in after the task (issue 22, the LLM path), and leaves in the task what only looks like an owner."""

from __future__ import annotations

import pytest

from worker.meeting import common_words, parse_structure


# More shapes models write an action item in: the owner and the date after the task, after a dash
# or an arrow, in brackets, as sentences of their own, or as sub-bullets under the task.
@pytest.mark.parametrize(
    ("lines", "task", "owner", "due"),
    [
        ("- [ ] Send the deck — @bob, due Friday", "Send the deck", "bob", "Friday"),
        ("1. Send the deck - Bob - Friday", "Send the deck", "Bob", "Friday"),
        ("- Send the deck. Owner: Bob. Due: Friday.", "Send the deck", "Bob", "Friday"),
        ("- Send the deck\n  - Owner: Bob\n  - Due: Friday", "Send the deck", "Bob", "Friday"),
        ("- Task: Send the deck\n- Owner: Bob\n- Due: Friday", "Send the deck", "Bob", "Friday"),
        ("- Send the deck [Bob, Friday]", "Send the deck", "Bob", "Friday"),
        ("- Send the deck (Bob, by Friday)", "Send the deck", "Bob", "Friday"),
        ("- Send the deck → Bob (Friday)", "Send the deck", "Bob", "Friday"),
        ("- Send the deck (assigned to Bob; deadline: Friday)", "Send the deck", "Bob", "Friday"),
        ("- Send the deck — Bob Stone, next Tuesday", "Send the deck", "Bob Stone", "next Tuesday"),
        ("- Envoyer le compte rendu (Marie, d'ici vendredi)", "Envoyer le compte rendu", "Marie", "vendredi"),
        ("- Planung fertigstellen — Markus — bis Freitag", "Planung fertigstellen", "Markus", "Freitag"),
        ("- Bob: Send the deck — by Friday", "Send the deck", "Bob", "Friday"),
        ("- Compare plan A - plan B — Bob — Friday", "Compare plan A - plan B", "Bob", "Friday"),
    ],
)
def test_the_parser_reads_owner_and_date_after_the_task(lines: str, task: str, owner: str, due: str) -> None:
    answer = f"Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n{lines}\n"
    (item,) = parse_structure(answer)["action_items"]
    assert (item["task"].rstrip("."), item["owner"], item["due"]) == (task, owner, due), item


# What only looks like an owner or a date stays the task's: a product, a platform, a team in lower
# case, words after a dash that are more of the task.
@pytest.mark.parametrize(
    "line",
    [
        "- Update the app (Android, iOS)",
        "- Fix the login bug — Android",
        "- Compare the prices - check both vendors by Friday",
        "- Review the budget — finance team",
        "- Send the revised estimate (Android 9 devices)",
    ],
)
def test_the_parser_leaves_what_only_looks_like_an_owner_in_the_task(line: str) -> None:
    answer = f"Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n{line}\n"
    (item,) = parse_structure(answer)["action_items"]
    assert item["task"] == line.removeprefix("- ") and item["owner"] is None, item


# An owner or a date a model leaves open is none: "TBD", "Unknown", "N/A", "Offen", "À définir",
# "待定"; a name with a hedge after it is the name ("Anna (TBC)").
@pytest.mark.parametrize(
    ("line", "task", "owner", "due"),
    [
        ("- TBD: write the press release", "write the press release", None, None),
        ("- Write the FAQ (Owner: TBD, Due: TBD)", "Write the FAQ", None, None),
        ("- Owner: Unknown — Task: file the taxes", "file the taxes", None, None),
        ("- N/A: clean the backlog by Friday", "clean the backlog by Friday", None, "Friday"),
        ("- Anna (TBC): order the samples", "order the samples", "Anna", None),
        ("- Offen: Pressemitteilung schreiben", "Pressemitteilung schreiben", None, None),
        ("- N. N.: Wiki aktualisieren", "Wiki aktualisieren", None, None),
        ("- À définir : rédiger le communiqué", "rédiger le communiqué", None, None),
        ("- Por definir: enviar el informe", "enviar el informe", None, None),
        ("- 待定：更新文档", "更新文档", None, None),
    ],
)
def test_an_owner_or_date_left_open_is_none(line: str, task: str, owner: str | None, due: str | None) -> None:
    answer = f"Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n{line}\n"
    (item,) = parse_structure(answer)["action_items"]
    assert (item["task"].rstrip("."), item["owner"], item["due"]) == (task, owner, due), item


# A numbered item, or one that names its own task, is an item of its own, never fields of the one
# above it: "7. Owner: Unknown — Task: file the taxes" was read as the owner of item 6, and its
# task was lost.
def test_an_item_that_names_its_own_task_is_never_joined_to_the_one_above() -> None:
    answer = (
        "Overview\nPlanning.\n\nAction items\n6. Team: test the build\n"
        "7. Owner: Carol — Task: file the taxes\n"
    )
    items = parse_structure(answer)["action_items"]
    assert [(i["task"], i["owner"]) for i in items] == [
        ("test the build", "Team"),
        ("file the taxes", "Carol"),
    ], items


# A label before a decision or key point is its speaker only when the meeting has a speaker of
# that name: a model's "**Vendor:** Acme was chosen." names a topic, and keeps it in the text.
def test_a_topic_label_is_no_speaker_of_a_meeting_that_has_none_of_that_name() -> None:
    from worker.meeting import iter_utterances

    turns = list(iter_utterances("Anna: We pick Acme.\nBob: Fine, Acme it is.\n"))
    answer = (
        "## Overview\nVendor choice.\n\n## Key points\n- **Budget:** capped at 40k\n\n"
        "## Decisions\n- **Vendor:** Acme was chosen.\n- Anna: we go with Acme.\n"
    )
    structure = parse_structure(answer, turns)
    assert structure["decisions"] == [
        {"text": "Vendor: Acme was chosen.", "speaker": None},
        {"text": "we go with Acme.", "speaker": "Anna"},
    ]
    assert structure["key_points"] == [{"text": "Budget: capped at 40k", "speaker": None}]
    # The worker passes the transcript's rendered turns ("[00:00:05] Anna: ...") as `common`.
    from worker.meeting import common_words

    body = "[00:00:01] Anna: We pick Acme.\n[00:00:05] Bob: Fine, Acme it is.\n"
    decisions = parse_structure(answer, starts={1, 5}, common=common_words(body))["decisions"]
    assert [d["speaker"] for d in decisions] == [None, "Anna"], decisions
    # Without the meeting's turns, a label is read as a speaker, as before.
    assert parse_structure(answer)["decisions"][0] == {"text": "Acme was chosen.", "speaker": "Vendor"}


# A weekday as models shorten it ("(Fri)", "— Thu"), end-of-period shorthands ("by EOW"), and a
# bracket that holds only a name: the owner when the meeting has a speaker of that name (a
# platform, "(Android)", stays the task's).
@pytest.mark.parametrize(
    ("lines", "task", "owner", "due"),
    [
        ("- Send the deck → Bob (Fri)", "Send the deck", "Bob", "Fri"),
        ("- Send the deck — Bob — Thu", "Send the deck", "Bob", "Thu"),
        ("- Bob to send the deck by EOW", "Bob to send the deck by EOW", "Bob", "EOW"),
        ("- Send the deck by Friday (Bob)", "Send the deck by Friday", "Bob", "Friday"),
        ("- Release the app by Friday (Android)", "Release the app by Friday (Android)", None, "Friday"),
    ],
)
def test_short_weekdays_and_a_speakers_name_in_brackets_are_read(
    lines: str, task: str, owner: str | None, due: str
) -> None:
    answer = f"Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n{lines}\n"
    turns = "Bob: I can do the deck.\nAlice: Thanks.\n"
    (item,) = parse_structure(answer, common=common_words(turns))["action_items"]
    assert (item["task"].rstrip("."), item["owner"], item["due"]) == (task, owner, due), item
