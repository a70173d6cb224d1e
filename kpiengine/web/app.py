"""The portal's ASGI application: middleware, error pages, and the route table.

``create_app(engine, ledger)`` builds one Starlette app over the same engine and ledger the CLI
uses. Every route checks the signed-in account's role (and, for agency pages, its agency) on the
server through ``auth``; pages are server-rendered Jinja2 templates in Traditional Chinese; every
asset is served from ``static/``. Nothing here computes a score: see ``cycle`` and the engine.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..accounts import Accounts
from ..audit import audit_to
from ..engine import Engine
from ..numbers import display
from ..workbook.safety import Limits
from .security import (
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    BodyTooLarge,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    SignInThrottle,
    csrf_token,
    load_secret,
)

log = logging.getLogger("kpiengine.web")

STATUS_MESSAGES = {
    400: "要求內容不正確。",
    401: "請先登入。",
    403: "您沒有權限檢視或操作此頁面。",
    404: "找不到此頁面或資料。",
    405: "不支援此操作方式。",
    413: "上傳的檔案過大。",
    429: "嘗試次數過多，請稍後再試。",
    500: "系統發生錯誤，請稍後再試；若持續發生請聯絡系統管理者。",
}


class NotSignedIn(Exception):
    """Raised by ``auth`` when a page needs an account: GET goes to the sign-in page, POST gets 401."""


@dataclass
class Portal:
    """What every route needs: the engine, the ledger file, the accounts, the audit trail, the throttle."""

    engine: Engine
    ledger: Path
    accounts: Accounts
    throttle: SignInThrottle
    templates: Jinja2Templates
    upload_limit: int
    audit_fn: object = field(repr=False, default=None)

    def audit(self, actor: str, action: str, detail: dict) -> None:
        self.audit_fn(actor, action, detail)  # type: ignore[operator]

    @property
    def years(self) -> tuple[int, ...]:
        return self.engine.catalog.years

    def year(self, raw: object) -> int:
        """The year asked for (default: the latest with targets); an unknown year is a 404."""
        if raw in (None, ""):
            if not self.years:
                raise HTTPException(404, "指標目錄沒有任何年度的目標值")
            return max(self.years)
        try:
            year = int(str(raw))
        except ValueError:
            raise HTTPException(404, f"年度「{raw}」不正確") from None
        if year not in self.years:
            raise HTTPException(404, f"沒有 {year} 年度的目標值（可用年度：{'、'.join(map(str, self.years))}）")
        return year


def portal(request: Request) -> Portal:
    return request.app.state.portal


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> Response:
    """A page: the template with the account, the CSRF token and the year list filled in."""
    from .auth import current_user

    p = portal(request)
    ctx = {"user": current_user(request), "csrf": csrf_token(request), "years": p.years,
           "catalog": p.engine.catalog, **(context or {})}
    return p.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _environment() -> Environment:
    from .cycle import taipei_time

    env = Environment(loader=PackageLoader("kpiengine.web", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["taipei"] = taipei_time
    env.filters["display"] = display
    return env


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else None
    message = detail or STATUS_MESSAGES.get(exc.status_code, "無法處理此要求。")
    return render(request, "error.html.j2", {"status": exc.status_code, "message": message},
                  status_code=exc.status_code)


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return render(request, "error.html.j2", {"status": 401, "message": STATUS_MESSAGES[401]}, status_code=401)


async def _too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    message = f"上傳的檔案過大（上限 {exc.limit / 1024 / 1024:g} MB），請刪除多餘內容後另存再上傳。"
    return render(request, "error.html.j2", {"status": 413, "message": message}, status_code=413)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Starlette answers an unhandled error outside every middleware, so the security headers are set here too."""
    log.exception("未預期的錯誤：%s %s", request.method, request.url.path, exc_info=exc)
    try:
        response = render(request, "error.html.j2", {"status": 500, "message": STATUS_MESSAGES[500]}, status_code=500)
    except Exception:  # the error page itself failed: plain text, still Chinese, still no traceback
        response = Response(STATUS_MESSAGES[500], status_code=500, media_type="text/plain; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    return response


def create_app(engine: Engine, ledger: Path, *, secret: bytes | None = None,
               throttle: SignInThrottle | None = None, upload_limit: int | None = None) -> Starlette:
    """The portal over ``engine`` and the ledger file ``ledger`` (created on first write)."""
    from . import routes

    ledger = Path(ledger)
    audit = audit_to(ledger)
    limit = upload_limit or Limits.from_env().max_bytes
    state = Portal(engine=engine, ledger=ledger, accounts=Accounts(ledger),
                   throttle=throttle or SignInThrottle(), templates=Jinja2Templates(env=_environment()),
                   upload_limit=limit, audit_fn=audit)
    key = secret or load_secret(ledger.parent, os.environ.get("KPI_SECRET_KEY"))
    static = Path(__file__).resolve().parent / "static"
    app = Starlette(
        routes=[*routes.ROUTES, Mount("/static", app=StaticFiles(directory=static), name="static")],
        middleware=[Middleware(SecurityHeadersMiddleware), Middleware(SessionMiddleware, secret=key),
                    Middleware(BodyLimitMiddleware, limit=limit + 64 * 1024)],
        exception_handlers={HTTPException: _http_error, NotSignedIn: _not_signed_in, BodyTooLarge: _too_large,
                            Exception: _server_error},
    )
    app.state.portal = state
    return app


__all__ = ["NotSignedIn", "Portal", "Route", "create_app", "portal", "render"]
