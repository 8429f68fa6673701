"""Accounts (admin) and the service's identity: operator, plan date, 内容更新于, public address."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from knowledge.accounts import ROLE_LABELS, ROLES, Accounts
from knowledge.service import KnowledgeError, StaffService

from ..db import get_db
from .common import bp, current_staff, fail, role_required, snapshot


@bp.get("/accounts")
@role_required("admin")
def accounts():
    with get_db().session() as s:
        rows = [{"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
                 "active": u.active, "last_login_at": u.last_login_at,
                 "locked": bool(Accounts(s).locked_until(u.username, "-"))} for u in Accounts(s).all()]
    return render_template("console/accounts.html", rows=rows, roles=ROLES, role_labels=ROLE_LABELS)


@bp.post("/accounts")
@role_required("admin")
def account_add():
    f = request.form
    try:
        with get_db().session() as s:
            Accounts(s).add(f.get("username") or "", f.get("password") or "", f.get("role") or "",
                            f.get("display_name") or "")
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash(f"已新建账号 {f.get('username')}。", "ok")
    return redirect(url_for("console.accounts"))


@bp.post("/accounts/<int:user_id>")
@role_required("admin")
def account_update(user_id: int):
    f = request.form
    action = f.get("action")
    try:
        with get_db().session() as s:
            accounts = Accounts(s)
            if action == "role":
                accounts.update(user_id, role=f.get("role") or "")
            elif action == "disable":
                accounts.update(user_id, active=False)
            elif action == "enable":
                accounts.update(user_id, active=True)
            elif action == "password":
                user = accounts.update(user_id, password=f.get("password") or "")
                accounts.unlock(user.username)
            elif action == "unlock":
                user = accounts.get(user_id)
                if user:
                    accounts.unlock(user.username)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash("已保存。", "ok")
    return redirect(url_for("console.accounts"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Who runs the service, the plan's date, 内容更新于 and the public address (admins change them)."""
    identity = snapshot().identity
    if request.method == "POST":
        if not current_staff().can("admin"):
            from flask import abort

            abort(403)
        values = {k: request.form.get(k, "") for k in identity}
        try:
            with get_db().session() as s:
                StaffService(s).set_identity(values, current_staff().signature)
        except KnowledgeError as exc:
            fail(exc)
            return render_template("console/settings.html", identity=values), 422
        flash("已保存。问答页面和宣传海报马上显示新的信息。", "ok")
        return redirect(url_for("console.settings"))
    return render_template("console/settings.html", identity=identity)
