"""The audit trail seen from the web portal: one call, ``audit_to(ledger)``.

Every sign-in, upload, review and download is written by ``Ledger.record_audit`` into the
ledger's append-only, hash-chained ``audit`` table, which ``kpi verify`` checks (account changes
are audited by ``accounts.py`` itself, in the change's own transaction). This module only binds a
ledger path to that call, so the web holds a plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

AuditFn = Callable[[str, str, dict], None]  # (actor, action, detail)


def audit_to(ledger: Path) -> AuditFn:
    """A function ``(actor, action, detail)`` that appends one audit entry to ``ledger``."""

    def record(actor: str, action: str, detail: dict) -> None:
        from .ledger import Ledger

        Ledger(ledger).record_audit(actor, action, detail)

    return record
