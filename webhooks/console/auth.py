"""Sign in and out. Five wrong passwords make the account and this client wait 15 minutes."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for

from knowledge.accounts import Accounts, LoginRefused

from ..db import get_db
from .common import bp, current_staff


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (never another site) is a place to go after login."""
    if target and target.startswith("/console") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form: username, password, csrf_token."""
    error = ""
    username = ""
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        refused = None
        with get_db().session() as s:  # committed either way: a wrong password must be counted
            try:
                user = Accounts(s).authenticate(username, password, request.remote_addr or "unknown")
                info = {"id": user.id, "gen": user.session_generation}
            except LoginRefused as exc:
                refused = exc
        if refused is not None:
            error = refused.message
            status = 429 if refused.code == "locked" else 401
        else:
            session.clear()
            session.permanent = True
            session["staff"] = info
            return redirect(_safe_next(request.args.get("next")))
    elif current_staff() is not None:
        return redirect(url_for("console.dashboard"))
    return render_template("console/login.html", error=error, username=username), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("console.login"))
