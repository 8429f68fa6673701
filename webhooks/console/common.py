"""What every console page shares: the blueprint, the signed-in account, role checks, headers."""
from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError

from knowledge.accounts import ROLE_LABELS, Accounts
from knowledge.service import KnowledgeError, Snapshot

from ..db import get_db, get_engine

bp = Blueprint("console", __name__, url_prefix="/console")

RANK = {"viewer": 1, "editor": 2, "admin": 3}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
PUBLIC_ENDPOINTS = {"console.login"}


class Staff:
    """The signed-in account as the views see it (detached from any session)."""

    def __init__(self, row: Any):
        self.id, self.username, self.role = row.id, row.username, row.role
        self.display_name = row.display_name or row.username

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def signature(self) -> str:
        """How edits are signed in the history: the display name (and the account when it differs)."""
        return self.display_name if self.display_name == self.username else f"{self.display_name}（{self.username}）"


def current_staff() -> Staff | None:
    if "staff" not in g:
        g.staff = None
        info = session.get("staff")
        if isinstance(info, dict):
            with get_db().session() as s:
                row = Accounts(s).get(int(info.get("id") or 0))
                if row is not None and row.active and row.session_generation == info.get("gen"):
                    g.staff = Staff(row)
    return g.staff


@bp.before_request
def require_login():
    """Every console page needs a signed-in account; every POST a valid CSRF token."""
    if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
        from . import csrf

        csrf.protect()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_staff() is None:
        if request.method == "GET":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        abort(401)
    return None


@bp.after_request
def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"  # personal data and drafts stay off shared computers
    return response


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    from flask import render_template

    return render_template("console/error.html", title="页面已过期",
                           message="表单已过期或来源不对（为了安全，每个表单只在打开后的一段时间内有效）。"
                                   "请返回上一页，刷新后再提交一次。"), 400


@bp.errorhandler(401)
def unauthorized(exc):  # noqa: ANN001
    from flask import render_template

    return render_template("console/error.html", title="请先登录",
                           message="登录已过期，请重新登录后再操作。"), 401


@bp.errorhandler(403)
def forbidden(exc):  # noqa: ANN001
    from flask import render_template

    return render_template("console/error.html", title="没有权限",
                           message="您的账号没有这项操作的权限。需要的话请联系管理员。"), 403


def role_required(role: str) -> Callable:
    """Refuse (403) an account below `role`."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            staff = current_staff()
            if staff is None or not staff.can(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


@bp.app_template_global("console_user")
def console_user() -> Staff | None:
    return current_staff() if request.blueprint == "console" else None


@bp.app_template_filter("clause_label")
def clause_label(clause_id: str | None) -> str:
    """A clause as staff say it: 第12条, 总体要求, 第三部分（三）."""
    cid = str(clause_id or "")
    if cid == "I":
        return "总体要求"
    if cid.startswith("III.") and cid[4:].isdigit() and 1 <= int(cid[4:]) <= 4:
        return f"第三部分（{'一二三四'[int(cid[4:]) - 1]}）"
    return f"第{cid}条" if cid else ""


@bp.app_template_filter("local_time")
def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")).strftime(fmt)


def snapshot() -> Snapshot:
    return get_engine().refresh()


def today() -> dt.date:
    """The assistant's "today" (pinned by the TODAY setting in demos and tests): the day figures apply to."""
    return get_engine().clock()


def calendar_today() -> dt.date:
    """The real local date: the question log is stamped with real time, so usage charts count from it."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")).date()


def fail(exc: KnowledgeError) -> None:
    flash(exc.message, "error")


def lines(text: str | None) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def int_list(raw: str | None) -> list[int]:
    out = []
    for part in (raw or "").replace("，", ",").split(","):
        part = part.strip()
        if part.isdigit():
            out.append(int(part))
    return out[:5000]
