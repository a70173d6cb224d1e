"""The audit trail seen from the web portal and the account commands: one call, ``audit_to(ledger)``.

Every sign-in, upload, review and account change is written by ``Ledger.record_audit`` into the
ledger's append-only, hash-chained ``audit`` table, which ``kpi verify`` checks. This module only
binds a ledger path to that call, so callers (accounts, web) hold a plain function.
"""

from __future__ import annotations

from pathlib import Path

from .accounts import AuditFn


def audit_to(ledger: Path) -> AuditFn:
    """A function ``(actor, action, detail)`` that appends one audit entry to ``ledger``."""

    def record(actor: str, action: str, detail: dict) -> None:
        from .ledger import Ledger

        Ledger(ledger).record_audit(actor, action, detail)

    return record
