"""Who is asking, and may they: the signed-in account, role checks, agency checks, form checks.

Every route calls one of ``require_role`` / ``require_agency`` before it reads or writes anything,
so authorisation is decided on the server for each request (the page hiding a link is never the
check). A disabled account's session stops working on its next request.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..accounts import Account, Role
from ..model import Agency
from .security import csrf_ok


def current_user(request: Request) -> Account | None:
    """The enabled account of this session, or None (looked up once per request)."""
    if "session" not in request.scope:
        return None
    if "kpi.user" in request.scope:
        return request.scope["kpi.user"]
    from .app import portal

    name = request.session.get("u")
    account = portal(request).accounts.get(name) if isinstance(name, str) and name else None
    if account is not None and account.disabled:
        request.session.clear()
        account = None
    request.scope["kpi.user"] = account
    return account


def require_role(request: Request, *roles: Role) -> Account:
    """The signed-in account if its role is one of ``roles``; else sign in (401) or 403."""
    from .app import NotSignedIn

    user = current_user(request)
    if user is None:
        raise NotSignedIn()
    if user.role not in roles:
        raise HTTPException(403)
    return user


def require_agency(request: Request, code: str, *, roles: tuple[Role, ...] = (Role.MINISTRY, Role.REVIEWER)) -> tuple[Account, Agency]:
    """Reviewers see every agency; a ministry account only its own (403 for any other)."""
    from .app import portal

    user = require_role(request, *roles)
    agency = portal(request).engine.catalog.agency(code)
    if agency is None or agency.code != code:
        if user.role is Role.MINISTRY:
            raise HTTPException(403)  # a ministry user learns nothing about which codes exist
        raise HTTPException(404, f"找不到機關代碼「{code}」")
    if user.role is Role.MINISTRY and user.agency_code != agency.code:
        raise HTTPException(403)
    return user, agency


async def checked_form(request: Request, *, max_files: int = 0) -> FormData:
    """The posted form, refused (403) unless its CSRF token matches the session's."""
    try:
        form = await request.form(max_files=max_files, max_fields=20)
    except HTTPException:
        raise
    except Exception as exc:  # malformed multipart bodies
        from .security import BodyTooLarge

        if isinstance(exc, BodyTooLarge):
            raise
        raise HTTPException(400, "表單內容無法解讀，請重新整理頁面後再送出。") from None
    if not csrf_ok(request, form.get("csrf")):
        raise HTTPException(403, "表單已逾時或來源不明（CSRF 檢查未通過），請重新整理頁面後再送出。")
    return form
