"""The route-by-role authorisation test: every route of the portal, walked as every role.

Cases live in routes_by_role.yaml; a route added to the app without a case fails
``test_every_route_has_a_case``. A ministry clerk of another agency gets 403 on 法務部's pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpiengine.web.routes import ROUTES

from .conftest import csrf_of

CASES = yaml.safe_load((Path(__file__).with_name("routes_by_role.yaml")).read_text(encoding="utf-8"))
ROLES = ("anon", "own", "other", "reviewer", "admin")


def _pattern(path: str) -> str:
    """/agency/moj/report.html → the route path that serves it (by matching against the route table)."""
    for route in ROUTES:
        if route.path_regex.match(path):
            return route.path
    raise AssertionError(f"no route serves {path}")


def test_every_route_has_a_case():
    covered = {(c["method"], _pattern(c["path"])) for c in CASES}
    declared = {(m, r.path) for r in ROUTES for m in r.methods if m != "HEAD"}
    assert declared - covered == set()


@pytest.mark.parametrize("role", ROLES)
def test_route_by_role(role, client_for):
    client = client_for(None if role == "anon" else role)
    failures = []
    for case in CASES:
        if case["path"] == "/logout":
            continue  # walked last, in its own test, so the session survives the walk
        failures += _check(client, case, role)
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_logout_by_role(role, client_for):
    client = client_for(None if role == "anon" else role)
    (case,) = [c for c in CASES if c["path"] == "/logout"]
    assert _check(client, case, role) == []
    if role != "anon":
        assert client.get("/board", follow_redirects=False).status_code == 303  # signed out: back to sign-in


def _check(client, case, role) -> list[str]:
    if case["method"] == "GET":
        r = client.get(case["path"], follow_redirects=False)
    else:
        token = csrf_of(client.get("/login").text) if role == "anon" else _token(client)
        r = client.post(case["path"], data={**case.get("data", {}), "csrf": token}, follow_redirects=False)
    expected = case[role]
    out = []
    if r.status_code != expected:
        out.append(f"{case['method']} {case['path']} as {role}: {r.status_code} (expected {expected})")
    if role == "anon" and expected == 303 and case["method"] == "GET" and case["path"] not in ("/", "/login"):
        if not r.headers["location"].startswith("/login?next="):
            out.append(f"{case['path']} as anon redirects to {r.headers['location']}")
    if r.status_code >= 400:
        body = r.text
        if "Traceback" in body or 'class="error" role="alert"' not in body:
            out.append(f"{case['path']} as {role}: no Chinese error message on the page")
    return out


def _token(client) -> str:
    r = client.get("/", follow_redirects=True)
    return csrf_of(r.text)
