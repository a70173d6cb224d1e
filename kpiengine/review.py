"""複核: 國發會's review of a KPI's light, which may override the computed light with a reason.

Pure records. The agency's own rating (初核) arrives with its workbook; the computed light comes
from ``scoring``; a review is the third, separate voice. "Not yet reviewed" is a state, never a light.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import Light


class ReviewError(ValueError):
    """A review that cannot be recorded (message in Chinese)."""


@dataclass(frozen=True)
class Review:
    kpi_id: str
    year: int
    light: Light
    reason: str
    reviewed_by: str
    reviewed_at: str  # UTC ISO 8601

    def overrides(self, computed: Light | None) -> bool:
        return computed is not self.light


def make_review(kpi_id: str, year: int, light: str, reason: str, reviewed_by: str, reviewed_at: str) -> Review:
    """Check and build a review: a known light and a non-empty reason (required when overriding)."""
    try:
        chosen = Light(light)
    except ValueError:
        labels = {lt.label: lt for lt in Light}
        if light not in labels:
            raise ReviewError(f"燈號「{light}」不正確，請用 green/yellow/red/white 或 綠燈/黃燈/紅燈/白燈") from None
        chosen = labels[light]
    if not reason.strip():
        raise ReviewError("複核必須填寫理由（--reason）")
    return Review(kpi_id, year, chosen, reason.strip(), reviewed_by.strip() or "未具名", reviewed_at)
