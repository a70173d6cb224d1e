"""Security of the portal: cookie flags, CSRF, headers, sign-in throttling, upload limit, no traceback."""

from __future__ import annotations

import re
import warnings

from kpiengine.web.security import CSP, SignInThrottle

from .conftest import PASSWORDS, csrf_of, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_session_cookie_flags(client_for, app):
    c = TestClient(app, base_url="http://127.0.0.1")
    r = sign_in(c, "moj-clerk")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    s = TestClient(app, base_url="https://127.0.0.1")
    r = sign_in(s, "moj-clerk")
    assert "Secure" in r.headers["set-cookie"]


def test_tampered_cookie_is_anonymous(app):
    c = TestClient(app, base_url="http://127.0.0.1")
    sign_in(c, "ndc-reviewer")
    value = c.cookies.get("kpi_session")
    c.cookies.set("kpi_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert c.get("/board", follow_redirects=False).status_code == 303


def test_security_headers_everywhere(client_for):
    for path in ("/login", "/static/portal.css", "/nowhere"):
        r = client_for(None).get(path)
        assert r.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in client_for("reviewer").get("/board").text  # no inline script anywhere


def test_csrf_required_on_every_form(client_for):
    c = client_for("reviewer")
    for path, data in [("/kpi/moj.1.1/review", {"year": "107", "light": "red", "reason": "x"}), ("/logout", {})]:
        assert c.post(path, data=data, follow_redirects=False).status_code == 403
        assert c.post(path, data={**data, "csrf": "forged"}, follow_redirects=False).status_code == 403
    assert c.get("/board").status_code == 200  # still signed in
    anon = client_for(None)
    assert anon.post("/login", data={"name": "admin", "password": PASSWORDS["admin"]},
                     follow_redirects=False).status_code == 403
    token = csrf_of(c.get("/board").text)
    r = c.post("/logout", data={"csrf": token}, headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403


def test_disabled_account_loses_its_session(app, client_for):
    c = client_for("own")
    assert c.get("/agency/moj").status_code == 200
    app.state.portal.accounts.disable("moj-clerk", "admin")
    assert c.get("/agency/moj", follow_redirects=False).status_code == 303


def test_failed_sign_ins_slow_down_per_account(app):
    c = TestClient(app, base_url="http://127.0.0.1")
    codes = [sign_in(c, "moj-clerk", "wrong-password").status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    r = sign_in(c, "moj-clerk")  # even the right password waits
    assert r.status_code == 429 and re.search(r"請於 \d+ 秒後再試", r.text)
    assert sign_in(c, "moi-clerk").status_code == 303  # another account is not blocked


def test_throttle_policy_per_address_and_backoff():
    now = [1000.0]
    t = SignInThrottle(free_per_account=2, free_per_address=3, window=900, cap=60, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        t.failed(name, "10.0.0.1")
    assert t.wait_seconds("d", "10.0.0.1") == 1  # the address passed its free tries
    assert t.wait_seconds("d", "10.0.0.2") == 0
    for _ in range(4):
        t.failed("e", "10.0.0.9")
    assert t.wait_seconds("e", "10.0.0.9") == 4  # 2 ** (4 - 2)
    now[0] += 4
    assert t.wait_seconds("e", "10.0.0.9") == 0
    for _ in range(20):
        t.failed("e", "10.0.0.9")
    assert t.wait_seconds("e", "10.0.0.9") == 60  # capped
    now[0] += 901
    assert t.wait_seconds("e", "10.0.0.9") == 0  # forgotten after the window
    t.failed("f", "x")
    t.succeeded("f")
    assert t.wait_seconds("f", "y") == 0


def test_upload_size_limit(engine, portal_ledger):
    from kpiengine.web.app import create_app

    small = create_app(engine, portal_ledger, secret=b"k" * 32, upload_limit=10_000)
    c = TestClient(small, base_url="http://127.0.0.1")
    sign_in(c, "moj-clerk")
    token = csrf_of(c.get("/agency/moj").text)
    r = c.post("/agency/moj/upload", data={"csrf": token, "year": "107"},
               files={"file": ("big.xlsx", b"PK\x03\x04" + b"0" * 200_000)})
    assert r.status_code == 413 and "上傳的檔案過大" in r.text


def test_hostile_uploads_get_the_same_codes_as_kpi_validate(client_for):
    c = client_for("own")
    token = csrf_of(c.get("/agency/moj").text)
    for name, data, code in [("a.xlsx", b"not a zip at all", "wb-not-xlsx"),
                             ("a.xlsm", b"PK\x03\x04junk", "wb-macro"),
                             ("a.xlsx", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 100, "wb-encrypted"),
                             ("../../etc/passwd.xlsx", b"", "wb-file-empty")]:
        r = c.post("/agency/moj/upload", data={"csrf": token, "year": "107"}, files={"file": (name, data)})
        assert r.status_code == 422, (name, r.status_code)
        assert f'data-code="{code}"' in r.text, (name, r.text[:2000])


def test_server_errors_are_chinese(app, client_for, monkeypatch):
    from kpiengine.web import cycle

    def boom(*a, **k):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(cycle, "status_board", boom)
    r = client_for("reviewer").get("/board")
    assert r.status_code == 500 and "系統發生錯誤" in r.text
    assert "internal detail" not in r.text and "Traceback" not in r.text
    from kpiengine.web.security import SECURITY_HEADERS

    for name, value in SECURITY_HEADERS.items():  # the error page is guarded like every other page
        assert r.headers.get(name) == value, name
