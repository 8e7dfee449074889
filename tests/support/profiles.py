"""The README's example user profile, shared by the profile tests and the local-cloud test."""

from __future__ import annotations

from typing import Any

# The README's example user profile (README.md, "Summary profiles"): kept equal by a test below.
RETRO: dict[str, Any] = {
    "name": "retro",
    "description": "A sprint retrospective.",
    "instructions": "Summarise the retrospective for the team; name who raised each point.",
    "max_tokens": 500,
    "sections": [
        {"key": "overview", "title": "Overview", "kind": "overview", "instructions": "two sentences."},
        {"key": "went_well", "title": "Went well", "kind": "points", "instructions": "a bulleted list."},
        {"key": "to_improve", "title": "To improve", "kind": "notes", "instructions": "a bulleted list."},
        {"key": "action_items", "title": "Action items", "kind": "actions", "instructions": "Owner: task."},
    ],
}
