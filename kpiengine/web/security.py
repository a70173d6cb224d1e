"""What guards every request of the portal: signed session cookies, CSRF tokens, security headers,
a request-size limit, and slowing down repeated failed sign-ins.

Pure ASGI middleware and small helpers: no page and no rule of the reporting cycle lives here.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "kpi_session"
SESSION_MAX_AGE = 8 * 3600  # a working day; signing in again after that is fine

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def load_secret(folder: Path, env_value: str | None = None) -> bytes:
    """The key that signs session cookies: ``KPI_SECRET_KEY`` if set, else a random key kept beside the ledger."""
    if env_value:
        return env_value.encode("utf-8")
    path = folder / "web-secret.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        try:
            path.hardlink_to(tmp)  # first writer wins when two servers start at once
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


class SessionMiddleware:
    """A signed (not encrypted) cookie holding the account name and the CSRF token.

    HttpOnly and SameSite=Strict always; Secure when the request came over HTTPS. The cookie is
    re-sent only when the session changed.
    """

    def __init__(self, app: ASGIApp, secret: bytes, max_age: int = SESSION_MAX_AGE):
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="kpiengine.session")
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        data: dict = {}
        if raw:
            try:
                loaded = self.serializer.loads(raw, max_age=self.max_age)
                data = loaded if isinstance(loaded, dict) else {}
            except BadSignature:
                data = {}
        scope["session"] = data
        before = json.dumps(data, sort_keys=True)
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = scope["session"]
                if json.dumps(now, sort_keys=True) != before or (raw and not now):
                    headers = MutableHeaders(scope=message)
                    if now:
                        value = self.serializer.dumps(now)
                        headers.append("set-cookie", f"{SESSION_COOKIE}={value}; Path=/; Max-Age={self.max_age}; "
                                                     f"HttpOnly; SameSite=Strict{secure}")
                    else:
                        headers.append("set-cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; "
                                                     f"SameSite=Strict{secure}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeadersMiddleware:
    """CSP without inline script, nosniff, no framing, and no caching of signed-in pages."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    if k not in headers:
                        headers[k] = v
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """The request body passed the portal's limit (answered 413 with a Chinese page)."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


class BodyLimitMiddleware:
    """Refuse request bodies above ``limit`` bytes: by Content-Length at once, else while streaming."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = HTTPConnection(scope).headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            scope["kpi.body_too_large"] = self.limit
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            if "kpi.body_too_large" in scope:
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting_receive, send)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); every form carries it in a hidden field."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """The form's token matches the session's, and a cross-site Origin is refused."""
    expected = request.session.get("csrf")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own:
            return False
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class SignInThrottle:
    """Slows down guessing: past a few failures per account or per address, each try must wait longer.

    After ``free`` failures within ``window`` seconds the next try is refused until
    ``2 ** (failures - free)`` seconds (at most ``cap``) after the last failure. A success clears
    the account's count (not the address's). In memory: a restart forgets, which is acceptable for a
    slow-down (accounts are not locked out for good).
    """

    def __init__(self, free_per_account: int = 5, free_per_address: int = 20, window: float = 900,
                 cap: float = 900, clock: Callable[[], float] = time.monotonic):
        self.free = {"account": free_per_account, "address": free_per_address}
        self.window, self.cap, self.clock = window, cap, clock
        self._seen: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        return [("account", account.strip().casefold()), ("address", address)]

    def wait_seconds(self, account: str, address: str) -> int:
        """Seconds before another try is allowed (0 = now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(account, address):
                f = self._seen.get(key)
                if f is None or now - f.last > self.window:
                    continue
                over = f.count - self.free[key[0]]
                if over >= 0:
                    wait = max(wait, f.last + min(self.cap, 2.0 ** over) - now)
        return max(0, math.ceil(wait))

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(account, address):
                f = self._seen.get(key)
                if f is None or now - f.last > self.window:
                    f = self._seen[key] = _Failures()
                f.count += 1
                f.last = now

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._seen.pop(("account", account.strip().casefold()), None)
