"""What a ROUGE run measures for one system: per-meeting F1 (×100) and seconds per meeting.

Its own module because both the scorer (`eval.rouge`, which fills it) and the report
(`eval.report`, which formats it) need it; neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


@dataclass
class Scores:
    """Per-meeting F1 (×100) for one system, plus the seconds each meeting took."""

    system: str
    f1: dict[str, dict[str, float]] = field(default_factory=dict)  # meeting id → metric → F1
    seconds: dict[str, float] = field(default_factory=dict)

    def mean(self, metric: str, ids: list[str] | None = None) -> float:
        values = [self.f1[i][metric] for i in (ids if ids is not None else list(self.f1))]
        return sum(values) / max(len(values), 1)
