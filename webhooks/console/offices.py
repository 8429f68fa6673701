"""Offices: phone, address, hours, who verified them and when. Shown at once in chat replies,
contact cards, /offices and WeChat (the engine re-reads the pack after every edit)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from knowledge.models import Office
from knowledge.service import EditConflict, KnowledgeError, StaffService

from ..db import get_db
from .common import bp, current_staff, fail, role_required, today

KIND_LABELS = {"county": "县直部门", "township": "乡镇（场）", "central": "金融管理部门", "bank": "经办银行",
               "hotline": "热线"}


@bp.get("/offices")
def offices():
    with get_db().session() as s:
        rows = list(s.scalars(select(Office).order_by(Office.sort)))
    missing = sum(1 for o in rows if o.kind != "hotline" and not o.phone)
    return render_template("console/offices.html", rows=rows, kinds=KIND_LABELS, missing=missing)


def _render(row_id: str, data: dict, version: int, conflict=None, status: int = 200):
    with get_db().session() as s:
        row = s.get(Office, row_id)
        if row is None:
            abort(404)
        history = StaffService(s).history("office", row_id)
        info = {"id": row.id, "name": row.name, "full_name": row.full_name, "kind": row.kind, "duties": row.duties}
    return render_template("console/office_edit.html", office=info, data=data, version=version, history=history,
                           conflict=conflict, kinds=KIND_LABELS, today=today()), status


@bp.get("/offices/<office_id>")
def office_edit(office_id: str):
    with get_db().session() as s:
        row = s.get(Office, office_id)
        if row is None:
            abort(404)
        data = {k: getattr(row, k) for k in ("phone", "address", "hours", "note", "verified_by", "verified_at")}
        version = row.version
    return _render(office_id, data, version)


@bp.post("/offices/<office_id>")
@role_required("editor")
def office_save(office_id: str):
    form = request.form
    changes = {k: (form.get(k) or "").strip() for k in ("phone", "address", "hours", "note", "verified_by",
                                                        "verified_at")}
    if not changes["verified_at"]:
        changes["verified_at"] = None
    try:
        version = int(form.get("version") or 0)
    except ValueError:
        version = 0
    if (changes["phone"] or changes["address"] or changes["hours"]) and not changes["verified_by"]:
        flash("请填写核实人（谁打电话或上门确认过这些信息）。", "error")
        return _render(office_id, changes, version, status=422)
    try:
        with get_db().session() as s:
            StaffService(s).update_office(office_id, changes, current_staff().signature,
                                          (form.get("reason") or "").strip() or "更新联系方式", expected_version=version)
    except EditConflict as exc:
        with get_db().session() as s:
            latest = s.get(Office, office_id).version
        return _render(office_id, changes, latest, conflict={"message": exc.message, "current": exc.current,
                                                             "by": exc.by, "at": exc.at}, status=409)
    except KnowledgeError as exc:
        fail(exc)
        return _render(office_id, changes, version, status=422)
    flash("已保存，问答、办事指南页面和微信回复马上使用新的联系方式。", "ok")
    return redirect(url_for("console.offices"))
