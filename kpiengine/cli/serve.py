"""``kpi serve``: the web portal for ministries and 國發會, served by uvicorn over the same ledger."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from .common import LedgerOpt, RootOpt, fail, load_engine


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    def serve_cmd(host: Annotated[str, typer.Option("--host", help="監聽位址 Address to listen on.")] = "127.0.0.1",
                  port: Annotated[int, typer.Option("--port", help="連接埠 Port.", min=1, max=65535)] = 8000,
                  ledger: LedgerOpt = None, root: RootOpt = None,
                  proxy_headers: Annotated[bool, typer.Option("--proxy-headers", help="信任反向代理的 X-Forwarded-* 標頭 Trust X-Forwarded-* from the local reverse proxy (HTTPS in front).")] = False) -> None:
        """啟動網站（部會填報、國發會審查與帳號管理）Start the web portal."""
        import uvicorn

        from ..accounts import Accounts
        from ..ledger import ledger_path
        from ..web.app import create_app

        engine = load_engine(root)
        if not engine.catalog.years:
            fail("指標目錄沒有任何年度的目標值，無法啟動網站")
        path = ledger_path(engine.root, ledger)
        try:
            application = create_app(engine, path)
        except OSError as exc:
            fail(f"無法使用帳本資料夾 {path.parent}：{exc.strerror or exc}")
        if not any(a.role.value == "admin" and not a.disabled for a in Accounts(path).list()):
            typer.echo("提醒：尚無啟用中的管理者帳號；請先執行 kpi users add NAME --role admin", err=True)
        if not _is_loopback(host) and not proxy_headers:
            typer.echo("提醒：網站以 HTTP 對外服務時密碼與 cookie 未加密；正式環境請置於 HTTPS 反向代理之後並加 --proxy-headers",
                       err=True)
        typer.echo(f"網站啟動於 http://{host}:{port}/（帳本：{path}；按 Ctrl+C 停止）")
        try:
            uvicorn.run(application, host=host, port=port, proxy_headers=proxy_headers,
                        forwarded_allow_ips="127.0.0.1" if proxy_headers else "", log_level="info",
                        server_header=False, access_log=True)
        except OSError as exc:
            fail(f"無法在 {host}:{port} 啟動網站：{exc.strerror or exc}")
