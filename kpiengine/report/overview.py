"""The government-wide overview of a year: what 國發會 reads first.

Pure, from the agency reports: agencies ranked by share met (final lights: 複核 where given, else
computed), every red and white KPI with its gap, every disagreement between 初核, the computed
light and 複核, the agencies that have not submitted, and the capped 達成度 of every KPI for the
histogram. Provenance says what the numbers were built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .model import AgencyReport, ReportRow

BINS = tuple(range(0, 101, 10))  # 達成度 histogram edges (percent, capped); the last bin holds 100


@dataclass(frozen=True)
class Provenance:
    """What a report was built from, printed on every report."""

    catalog_hash: str  # SHA-256 of formulas/ and the year's targets/ (content, not file dates)
    catalog_commit: str | None
    policy: str  # e.g. "targets/107/policy.yaml（sha256 1a2b…）：綠燈 ≥100%、…"
    ledger: str  # ledger versions used, or 範例資料
    versions: tuple[tuple[str, int], ...] = ()  # agency code → ledger version

    @property
    def lines(self) -> tuple[str, ...]:
        commit = f"（commit {self.catalog_commit[:12]}）" if self.catalog_commit else ""
        return (f"指標目錄內容雜湊：{self.catalog_hash[:16]}{commit}", f"計分政策：{self.policy}",
                f"資料版本：{self.ledger}")


@dataclass(frozen=True)
class ListedKpi:
    agency: str
    agency_code: str
    row: ReportRow


@dataclass(frozen=True)
class Overview:
    year: int
    agencies: tuple[AgencyReport, ...]  # ranked: share met, highest first; not lit last
    missed: tuple[ListedKpi, ...]  # final red or white, with the gap sentence
    disagreements: tuple[ListedKpi, ...]
    not_submitted: tuple[AgencyReport, ...]
    histogram: tuple[tuple[str, int], ...]  # ("90–99", n) over capped 達成度 of every KPI with one
    sample: bool
    agencies_in_plan_order: tuple[AgencyReport, ...] = ()
    stale: tuple[ListedKpi, ...] = ()  # 需重新複核: reviewed, but the data changed since

    @property
    def kpi_count(self) -> int:
        return sum(a.kpi_count for a in self.agencies)

    def total(self, key: str) -> int:
        return sum(t.count for a in self.agencies for t in a.final if t.key == key)

    @property
    def awaiting(self) -> int:
        return sum(a.awaiting for a in self.agencies)

    @property
    def stale_count(self) -> int:
        return sum(a.stale for a in self.agencies)


def histogram(values: list[Fraction]) -> tuple[tuple[str, int], ...]:
    """Counts of capped 達成度 in tens: 0–9, 10–19, …, 90–99, 100."""
    counts = [0] * (len(BINS))
    for v in values:
        counts[min(int(max(v, 0)) // 10, len(BINS) - 1)] += 1
    labels = [f"{lo}–{lo + 9}" for lo in BINS[:-1]] + ["100"]
    return tuple(zip(labels, counts, strict=True))


def build_overview(year: int, reports: list[AgencyReport]) -> Overview:
    """Rank the agencies and gather the lists a reviewer acts on."""
    def rank(r: AgencyReport):
        return (r.share_met is None, -(r.share_met or 0), -r.final_lit, r.agency_code)

    ranked = tuple(sorted(reports, key=rank))
    missed, disagreements, achieved, stale = [], [], [], []
    for r in reports:
        for row in r.rows:
            if row.final_light in ("red", "white"):
                missed.append(ListedKpi(r.agency, r.agency_code, row))
            if row.disagreement:
                disagreements.append(ListedKpi(r.agency, r.agency_code, row))
            if row.review_state == "stale":
                stale.append(ListedKpi(r.agency, r.agency_code, row))
            if row.achievement_value is not None:
                achieved.append(row.achievement_value)
    missed.sort(key=lambda m: (m.row.final_light != "white", m.row.achievement_value or 0))
    return Overview(year, ranked, tuple(missed), tuple(disagreements),
                    tuple(r for r in reports if not r.submitted), histogram(achieved),
                    any(r.sample for r in reports), tuple(reports), tuple(stale))
