"""The portal's pages, one thin function each: check who asks, call the cycle, render a template.

Ministry clerks: their agency's page, template, upload, history and diff, their KPIs' 複核.
國發會 reviewers: status board, score table, per-KPI page with 複核, reports.
Admins: accounts. Blocking work (workbooks, SQLite, Argon2, Chromium) runs off the event loop.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..accounts import AccountError, Role
from ..evaluation import State
from ..ledger import LedgerError, open_for_reading
from ..review import ReviewError, ReviewState
from ..scoring import Light
from ..services import ServiceError
from . import cycle, reports
from .app import portal, render
from .auth import checked_form, current_user, require_agency, require_role

HOME = {Role.MINISTRY: None, Role.REVIEWER: "/board", Role.ADMIN: "/admin/users"}


def _home(user) -> str:
    if user.role is Role.MINISTRY:
        return f"/agency/{user.agency_code}"
    return HOME[user.role] or "/"


def _safe_next(raw: object) -> str | None:
    """Only a path on this site (``/…`` but not ``//…``) may follow sign-in."""
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return None


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def _take_flash(request: Request) -> str | None:
    return request.session.pop("flash", None)


def _download(data: bytes, name: str, media_type: str) -> Response:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


# --- signing in ---------------------------------------------------------------------------------

async def home(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_home(user), status_code=303)


async def login_page(request: Request) -> Response:
    user = current_user(request)
    if user is not None:
        return RedirectResponse(_home(user), status_code=303)
    return render(request, "login.html.j2", {"next": _safe_next(request.query_params.get("next")) or ""})


async def login(request: Request) -> Response:
    p = portal(request)
    form = await checked_form(request)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    address = _client(request)
    wait = p.throttle.wait_seconds(name, address)
    if wait:
        p.audit(name or "（空白）", "signin.throttled", {"address": address, "wait_seconds": wait})
        return render(request, "login.html.j2", {"error": f"登入失敗次數過多，請於 {wait} 秒後再試。", "name": name,
                                                 "next": _safe_next(form.get("next")) or ""}, status_code=429)
    account = await run_in_threadpool(p.accounts.authenticate, name, password) if name and password else None
    if account is None:
        p.throttle.failed(name, address)
        p.audit(name or "（空白）", "signin.failed", {"address": address})
        return render(request, "login.html.j2", {"error": "帳號或密碼錯誤，或帳號已停用。", "name": name,
                                                 "next": _safe_next(form.get("next")) or ""}, status_code=401)
    p.throttle.succeeded(name)
    request.session.clear()  # a fresh session (and CSRF token) at every sign-in
    request.session["u"] = account.name
    request.scope.pop("kpi.user", None)
    p.audit(account.name, "signin", {"address": address, "role": account.role.value})
    return RedirectResponse(_safe_next(form.get("next")) or _home(account), status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    user = current_user(request)
    if user is not None:
        portal(request).audit(user.name, "signout", {"address": _client(request)})
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# --- an agency's own pages ------------------------------------------------------------------------

async def agency_page(request: Request) -> Response:
    code = request.path_params["code"]
    user, agency = require_agency(request, code)
    p = portal(request)
    year = p.year(request.query_params.get("year"))
    items = await run_in_threadpool(cycle.year_scores, p.engine, p.ledger, year, code)
    subs = await run_in_threadpool(cycle.submissions, p.ledger, year, code)
    return render(request, "agency.html.j2", {"agency": agency, "year": year, "items": items,
                                              "latest": subs[-1] if subs else None, "flash": _take_flash(request),
                                              "places": p.engine.policy(year).places})


async def template_download(request: Request) -> Response:
    code = request.path_params["code"]
    _user, agency = require_agency(request, code)
    p = portal(request)
    year = p.year(request.query_params.get("year"))

    def build() -> tuple[bytes, str]:
        from ..workbook.template import write_template

        with tempfile.TemporaryDirectory(prefix="kpi-template-") as d:
            path = write_template(p.engine, agency.code, year, Path(d))
            return path.read_bytes(), path.name

    data, name = await run_in_threadpool(build)
    return _download(data, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _upload_name(raw: str | None) -> str:
    """The uploaded file's own name, reduced to a safe base name that keeps its extension."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name)[-120:].lstrip(".")
    return name or "upload.xlsx"


async def upload(request: Request) -> Response:
    code = request.path_params["code"]
    user, agency = require_agency(request, code, roles=(Role.MINISTRY,))
    p = portal(request)
    form = await checked_form(request, max_files=1)
    year = p.year(form.get("year"))
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return render(request, "upload_result.html.j2", {"agency": agency, "year": year, "outcome": None,
                                                         "message": "請選擇要上傳的填報表檔案（.xlsx）。"}, status_code=400)
    name = _upload_name(file.filename)
    # the tick confirms the warnings of the file they were shown (its SHA-256 rides along), never another file's
    confirmed_sha = form.get("confirm_sha256") if form.get("confirm_warnings") == "1" else None

    def process() -> cycle.UploadOutcome:
        from ..filehash import file_sha256

        with tempfile.TemporaryDirectory(prefix="kpi-upload-") as d:
            dest = Path(d) / name
            with dest.open("wb") as out:
                file.file.seek(0)
                shutil.copyfileobj(file.file, out)
            confirm = isinstance(confirmed_sha, str) and confirmed_sha == file_sha256(dest)
            return cycle.submit_upload(p.engine, p.ledger, dest, year=year, agency=agency.code, by=user.name,
                                       confirm_warnings=confirm)

    try:
        outcome = await run_in_threadpool(process)
    finally:
        await file.close()
    v = outcome.validation
    detail = {"agency": agency.code, "year": year, "file": name, "sha256": v.sha256,
              "errors": len(v.errors), "warnings": len(v.warnings)}
    if outcome.submission is not None:
        detail["version"] = outcome.submission.version
        p.audit(user.name, "upload.accepted", detail)
    else:
        detail["identical_to"] = outcome.identical_to
        detail["refusal"] = outcome.refusal_code
        p.audit(user.name, "upload.refused", detail)
    items = []
    if outcome.submission is not None:
        items = await run_in_threadpool(cycle.year_scores, p.engine, p.ledger, year, agency.code)
    status = 200 if outcome.submission is not None or outcome.identical_to or outcome.needs_confirmation else 422
    return render(request, "upload_result.html.j2", {"agency": agency, "year": year, "outcome": outcome, "items": items,
                                                     "file_name": name, "places": p.engine.policy(year).places},
                  status_code=status)


async def history(request: Request) -> Response:
    code = request.path_params["code"]
    _user, agency = require_agency(request, code)
    p = portal(request)
    year = p.year(request.query_params.get("year"))
    subs = await run_in_threadpool(cycle.submissions, p.ledger, year, code)
    return render(request, "history.html.j2", {"agency": agency, "year": year, "subs": list(reversed(subs))})


async def diff(request: Request) -> Response:
    """What changed between two versions (the ``kpi diff`` view); the latest two by default."""
    from ..services import ServiceError, diff_versions

    code = request.path_params["code"]
    _user, agency = require_agency(request, code)
    p = portal(request)
    q = request.query_params
    year = p.year(q.get("year"))
    try:
        versions = [int(v) if v not in (None, "") else None for v in (q.get("from"), q.get("to"))]
    except ValueError:
        raise HTTPException(400, "版本必須是數字") from None
    try:
        result = await run_in_threadpool(diff_versions, p.engine, p.ledger, year, agency.code, *versions)
    except ServiceError as exc:
        raise HTTPException(404, str(exc)) from None
    return render(request, "diff.html.j2", {"agency": agency, "year": year, "diff": result,
                                            "places": p.engine.policy(year).places})


# --- one KPI, and 複核 -------------------------------------------------------------------------------

def _kpi_or_404(request: Request):
    p = portal(request)
    kpi = p.engine.catalog.kpi(request.path_params["kpi_id"])
    if kpi is None:
        user = current_user(request)
        raise HTTPException(403 if user is not None and user.role is Role.MINISTRY else 404)
    return kpi


async def kpi_page(request: Request) -> Response:
    require_role(request, Role.MINISTRY, Role.REVIEWER)
    kpi = _kpi_or_404(request)
    user, agency = require_agency(request, kpi.agency_code)
    p = portal(request)
    year = p.year(request.query_params.get("year"))
    items = await run_in_threadpool(cycle.year_scores, p.engine, p.ledger, year, kpi.agency_code)
    (item,) = [i for i in items if i.kpi.id == kpi.id]

    def versions():
        led = open_for_reading(p.ledger)
        if led is None:
            return []
        rows = []
        for s in led.submissions(year, kpi.agency_code):
            inputs = led.inputs_of(s)
            values = dict(inputs.values.get(kpi.id, {}))
            rows.append((s, p.engine.score_one(kpi, year, values), inputs.self_ratings.get(kpi.id)))
        return list(reversed(rows))

    return render(request, "kpi.html.j2", {"agency": agency, "year": year, "item": item, "kpi": kpi,
                                           "target": item.target, "versions": await run_in_threadpool(versions),
                                           "lights": list(Light), "flash": _take_flash(request),
                                           "places": p.engine.policy(year).places,
                                           "can_review": user.role is Role.REVIEWER})


async def review(request: Request) -> Response:
    user = require_role(request, Role.REVIEWER)
    kpi = _kpi_or_404(request)
    p = portal(request)
    form = await checked_form(request)
    year = p.year(form.get("year"))
    light, reason = str(form.get("light", "")), str(form.get("reason", ""))
    try:
        rec = await run_in_threadpool(cycle.record_review, p.engine, p.ledger, kpi.id, year, light, reason, user.name)
    except (ReviewError, LedgerError, ServiceError) as exc:
        _flash(request, f"未記錄複核：{exc}")
        return RedirectResponse(f"/kpi/{kpi.id}?year={year}", status_code=303)
    p.audit(user.name, "review", {"kpi": kpi.id, "year": year, "light": rec.light.value, "reason": rec.reason,
                                  "version": rec.version})
    _flash(request, f"已記錄複核：{rec.light.label}（{rec.reason}）")
    return RedirectResponse(f"/kpi/{kpi.id}?year={year}", status_code=303)


# --- 國發會: board, scores, reports ----------------------------------------------------------------

async def board(request: Request) -> Response:
    require_role(request, Role.REVIEWER)
    p = portal(request)
    year = p.year(request.query_params.get("year"))
    rows = await run_in_threadpool(cycle.status_board, p.engine, p.ledger, year)
    return render(request, "board.html.j2", {"year": year, "rows": rows,
                                             "submitted": sum(1 for r in rows if r.submitted)})


FILTER_LIGHTS = {lt.value: lt.label for lt in Light} | {"none": "無燈號（狀態）"}


async def scores(request: Request) -> Response:
    require_role(request, Role.REVIEWER)
    p = portal(request)
    q = request.query_params
    year = p.year(q.get("year"))
    agency = q.get("agency") or None
    if agency is not None and (p.engine.catalog.agency(agency) is None or p.engine.catalog.agency(agency).code != agency):
        raise HTTPException(404, f"找不到機關代碼「{agency}」")
    light = q.get("light") or None
    if light is not None and light not in FILTER_LIGHTS:
        raise HTTPException(400, f"燈號篩選「{light}」不正確")
    mismatch = q.get("mismatch") == "1"
    awaiting = q.get("awaiting") == "1"
    items = await run_in_threadpool(cycle.year_scores, p.engine, p.ledger, year, agency)
    shown = []
    for i in items:
        computed = i.score.light
        if light == "none" and computed is not None:
            continue
        if light not in (None, "none") and (computed is None or computed.value != light):
            continue
        if mismatch and not (i.self_rating and computed and i.self_rating != computed.label):
            continue
        if awaiting and not (i.submitted and i.review_state in (ReviewState.AWAITING, ReviewState.STALE)):
            continue
        shown.append(i)
    return render(request, "scores.html.j2", {"year": year, "items": shown, "total": len(items), "agency": agency,
                                              "light": light, "mismatch": mismatch, "awaiting": awaiting,
                                              "filter_lights": FILTER_LIGHTS, "places": p.engine.policy(year).places,
                                              "not_submitted": State.NOT_SUBMITTED})


async def reports_page(request: Request) -> Response:
    require_role(request, Role.REVIEWER)
    p = portal(request)
    year = p.year(request.query_params.get("year"))
    return render(request, "reports.html.j2", {"year": year, "agencies": p.engine.catalog.agencies})


async def report_overview(request: Request) -> Response:
    """Every agency at once: the whole-year HTML or PDF, or the reviewers' ``.xlsx``."""
    user = require_role(request, Role.REVIEWER)
    p = portal(request)
    year = p.year(request.path_params["year"])
    fmt = request.path_params["fmt"]
    if fmt not in ("html", "pdf", "xlsx"):
        raise HTTPException(404)
    download = await _build(reports.year_report, p.engine, p.ledger, year, fmt)
    p.audit(user.name, "report.download", {"year": year, "format": fmt})
    return _download(download.data, download.name, download.media_type)


async def agency_report(request: Request) -> Response:
    """One agency's report as HTML, PDF or Word (its ministry and reviewers)."""
    code = request.path_params["code"]
    user, agency = require_agency(request, code)
    p = portal(request)
    fmt = request.path_params["fmt"]
    if fmt not in ("html", "pdf", "docx"):
        raise HTTPException(404)
    year = p.year(request.query_params.get("year"))
    download = await _build(reports.agency_report, p.engine, p.ledger, year, agency.code, fmt)
    p.audit(user.name, "report.download", {"year": year, "agency": agency.code, "format": fmt})
    return _download(download.data, download.name, download.media_type)


async def _build(fn, *args) -> reports.Download:
    from ..report.pdf import PdfError

    try:
        return await run_in_threadpool(fn, *args)
    except PdfError as exc:
        raise HTTPException(503, str(exc)) from None


# --- admins: accounts ---------------------------------------------------------------------------

async def users_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    require_role(request, Role.ADMIN)
    p = portal(request)
    accounts = await run_in_threadpool(p.accounts.list)
    return render(request, "users.html.j2", {"accounts": accounts, "roles": list(Role), "error": error,
                                             "flash": _take_flash(request)}, status_code=status_code)


async def users_add(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    p = portal(request)
    form = await checked_form(request)
    agencies = {a.code for a in p.engine.catalog.agencies}
    try:
        acc = await run_in_threadpool(
            lambda: p.accounts.add(str(form.get("name", "")), str(form.get("password", "")),
                                   role=str(form.get("role", "")), agency_code=str(form.get("agency", "")) or None,
                                   by=admin.name, agencies=agencies))
    except AccountError as exc:
        return await users_page(request, error=str(exc), status_code=400)
    _flash(request, f"已新增帳號「{acc.name}」（{acc.role.label}）")
    return RedirectResponse("/admin/users", status_code=303)


async def users_change(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    p = portal(request)
    await checked_form(request)
    name, action = request.path_params["name"], request.path_params["action"]
    if action not in ("disable", "enable"):
        raise HTTPException(404)
    if action == "disable" and name.casefold() == admin.name.casefold():
        return await users_page(request, error="不可停用自己的帳號。", status_code=400)
    try:
        acc = await run_in_threadpool(getattr(p.accounts, action), name, admin.name)
    except AccountError as exc:
        return await users_page(request, error=str(exc), status_code=400)
    _flash(request, f"已{'停用' if action == 'disable' else '啟用'}帳號「{acc.name}」")
    return RedirectResponse("/admin/users", status_code=303)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/agency/{code}", agency_page, methods=["GET"]),
    Route("/agency/{code}/template.xlsx", template_download, methods=["GET"]),
    Route("/agency/{code}/upload", upload, methods=["POST"]),
    Route("/agency/{code}/history", history, methods=["GET"]),
    Route("/agency/{code}/diff", diff, methods=["GET"]),
    Route("/agency/{code}/report.{fmt}", agency_report, methods=["GET"]),
    Route("/kpi/{kpi_id}", kpi_page, methods=["GET"]),
    Route("/kpi/{kpi_id}/review", review, methods=["POST"]),
    Route("/board", board, methods=["GET"]),
    Route("/scores", scores, methods=["GET"]),
    Route("/reports", reports_page, methods=["GET"]),
    Route("/reports/{year}/all.{fmt}", report_overview, methods=["GET"]),
    Route("/admin/users", users_page, methods=["GET"]),
    Route("/admin/users", users_add, methods=["POST"]),
    Route("/admin/users/{name}/{action}", users_change, methods=["POST"]),
]
