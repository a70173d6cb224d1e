"""複核: 國發會's review of a KPI's light, which may override the computed light with a reason.

Pure records. The agency's own rating (初核) arrives with its workbook; the computed light comes
from ``scoring``; a review is the third, separate voice. "Not yet reviewed" is a state, never a light.

A review is bound to the data it judged: the submission version, the computed actual and light,
and a digest of the KPI's inputs. When a later version changes those inputs the review is
*stale* (需重新複核): it stays visible as history but no longer decides the final light.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from .freetext import FreeTextError, check_free_text
from .numbers import fraction_text
from .scoring import Light


class ReviewError(ValueError):
    """A review that cannot be recorded (message in Chinese)."""


class ReviewState(StrEnum):
    """Where 國發會's review of one KPI stands for the data now in force."""

    REVIEWED = "reviewed"
    AWAITING = "awaiting_review"
    STALE = "stale"  # reviewed, but the inputs changed since: 需重新複核

    @property
    def label(self) -> str:
        return {"reviewed": "已複核", "awaiting_review": "待複核", "stale": "需重新複核"}[self.value]


@dataclass(frozen=True)
class Review:
    kpi_id: str
    year: int
    light: Light
    reason: str
    reviewed_by: str
    reviewed_at: str  # UTC ISO 8601
    version: int | None = None  # the submission version judged (None: no submission, e.g. sample data)
    judged_actual: str | None = None  # exact text of the computed actual when judged
    judged_light: Light | None = None  # the computed light when judged
    inputs_digest: str | None = None  # digest of the KPI's inputs when judged (see inputs_digest)

    def overrides(self, computed: Light | None) -> bool:
        return computed is not self.light


def inputs_digest(inputs: Mapping[str, Fraction | None]) -> str:
    """A fingerprint of one KPI's inputs, exact and order-independent; empty values count as given-empty."""
    text = "|".join(f"{k}={fraction_text(v) if v is not None else ''}" for k, v in sorted(inputs.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def review_state(review: Review | None, inputs: Mapping[str, Fraction | None]) -> ReviewState:
    """REVIEWED while the inputs are those the review judged; STALE once they changed."""
    if review is None:
        return ReviewState.AWAITING
    if review.inputs_digest is not None and review.inputs_digest != inputs_digest(inputs):
        return ReviewState.STALE
    return ReviewState.REVIEWED


def make_review(kpi_id: str, year: int, light: str, reason: str, reviewed_by: str, reviewed_at: str, *,
                version: int | None = None, judged_actual: str | None = None, judged_light: Light | None = None,
                inputs: Mapping[str, Fraction | None] | None = None) -> Review:
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
    try:  # a control character once broke every agency's report
        reason = check_free_text(reason, "複核理由（--reason）")
        reviewed_by = check_free_text(reviewed_by, "複核人員（--by）", 100)
    except FreeTextError as exc:
        raise ReviewError(str(exc)) from None
    return Review(kpi_id, year, chosen, reason, reviewed_by or "未具名", reviewed_at,
                  version, judged_actual, judged_light, None if inputs is None else inputs_digest(inputs))
