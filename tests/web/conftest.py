"""Portal fixtures: a ledger with one account per role, the ASGI app over it, signed-in clients."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from kpiengine.accounts import Accounts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from kpiengine.web.app import create_app

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # tests only: verify reads params from the hash
PASSWORDS = {"admin": "admin-password-1", "moj-clerk": "moj-password-1", "moi-clerk": "moi-password-1",
             "ndc-reviewer": "ndc-password-1", "spare": "spare-password-1"}
ROLE_ACCOUNTS = {"own": "moj-clerk", "other": "moi-clerk", "reviewer": "ndc-reviewer", "admin": "admin"}


def make_accounts(ledger: Path) -> Accounts:
    acc = Accounts(ledger, hasher=FAST)
    acc.add("admin", PASSWORDS["admin"], role="admin", agency_code=None, by="test")
    acc.add("moj-clerk", PASSWORDS["moj-clerk"], role="ministry", agency_code="moj", by="test")
    acc.add("moi-clerk", PASSWORDS["moi-clerk"], role="ministry", agency_code="moi", by="test")
    acc.add("ndc-reviewer", PASSWORDS["ndc-reviewer"], role="reviewer", agency_code=None, by="test")
    acc.add("spare", PASSWORDS["spare"], role="ministry", agency_code="moj", by="test")
    return acc


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, name: str, password: str | None = None):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password or PASSWORDS[name], "csrf": token},
                       follow_redirects=False)


@pytest.fixture
def portal_ledger(tmp_path: Path) -> Path:
    ledger = tmp_path / "var" / "ledger.sqlite"
    make_accounts(ledger)
    return ledger


@pytest.fixture
def app(engine, portal_ledger):
    return create_app(engine, portal_ledger, secret=b"test-secret-key-32-bytes-long!!!")


@pytest.fixture
def client_for(app) -> Callable[[str | None], TestClient]:
    """``client_for("own")`` → a client signed in as that role (None: anonymous, with a CSRF token)."""
    made: dict = {}

    def make(role: str | None) -> TestClient:
        if role not in made:
            c = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
            if role is not None:
                r = sign_in(c, ROLE_ACCOUNTS[role])
                assert r.status_code == 303, r.text
            made[role] = c
        return made[role]

    return make
