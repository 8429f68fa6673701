"""Procedures per measure (申办流程, plan 三(三)): steps, documents, where to apply, each with its source."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from knowledge.models import Procedure
from knowledge.service import EditConflict, KnowledgeError, StaffService

from ..db import get_db
from .common import bp, current_staff, fail, lines, role_required, snapshot

FIELDS = ("clause", "calculator", "title", "steps", "documents", "where", "source", "enabled")


@bp.get("/procedures")
def procedures():
    """Every clause with its procedures; clauses without one show 待公布 on the public pages."""
    snap = snapshot()
    with get_db().session() as s:
        rows = list(s.scalars(select(Procedure).order_by(Procedure.clause, Procedure.id)))
    by_clause: dict[str, list[Procedure]] = {}
    for r in rows:
        by_clause.setdefault(r.clause, []).append(r)
    return render_template("console/procedures.html", clauses=snap.clauses, by_clause=by_clause)


def _form() -> dict:
    f = request.form
    return {"clause": f.get("clause") or "", "calculator": (f.get("calculator") or "").strip(),
            "title": (f.get("title") or "").strip(), "steps": lines(f.get("steps")),
            "documents": lines(f.get("documents")), "where": (f.get("where") or "").strip(),
            "source": (f.get("source") or "").strip(), "enabled": f.get("enabled") == "on"}


def _render(data: dict, proc_id: int | None, version: int, history=(), conflict=None, status: int = 200):
    from ..web.calc import calculator_titles

    return render_template("console/procedure_edit.html", data=data, proc_id=proc_id, version=version,
                           history=history, conflict=conflict, clauses=snapshot().clauses,
                           calculators=calculator_titles()), status


@bp.route("/procedures/new", methods=["GET", "POST"])
@role_required("editor")
def procedure_new():
    if request.method == "GET":
        data = {"clause": request.args.get("clause") or "", "calculator": "", "title": "", "steps": [],
                "documents": [], "where": "", "source": "", "enabled": True}
        return _render(data, None, 0)
    data = _form()
    try:
        with get_db().session() as s:
            row = StaffService(s).create_procedure(data, current_staff().signature, "新建办事指南")
            new_id = row.id
    except KnowledgeError as exc:
        fail(exc)
        return _render(data, None, 0, status=422)
    flash("已保存。政策页面和回答马上显示这份办事指南。", "ok")
    return redirect(url_for("console.procedure_edit", proc_id=new_id))


@bp.get("/procedures/<int:proc_id>")
def procedure_edit(proc_id: int):
    with get_db().session() as s:
        row = s.get(Procedure, proc_id)
        if row is None:
            abort(404)
        data = {k: getattr(row, k) for k in FIELDS}
        data.update(updated_by=row.updated_by, updated_at=row.updated_at)
        version = row.version
        history = StaffService(s).history("procedure", str(proc_id))
    return _render(data, proc_id, version, history)


@bp.post("/procedures/<int:proc_id>")
@role_required("editor")
def procedure_save(proc_id: int):
    data = _form()
    try:
        version = int(request.form.get("version") or 0)
    except ValueError:
        version = 0
    try:
        with get_db().session() as s:
            StaffService(s).update_procedure(proc_id, data, current_staff().signature,
                                             (request.form.get("reason") or "").strip() or "修改办事指南",
                                             expected_version=version)
    except EditConflict as exc:
        with get_db().session() as s:
            latest = s.get(Procedure, proc_id).version
            history = StaffService(s).history("procedure", str(proc_id))
        return _render(data, proc_id, latest, history, conflict={"message": exc.message, "current": exc.current,
                                                                 "by": exc.by, "at": exc.at}, status=409)
    except KnowledgeError as exc:
        fail(exc)
        with get_db().session() as s:
            history = StaffService(s).history("procedure", str(proc_id))
        return _render(data, proc_id, version, history, status=422)
    flash("已保存。", "ok")
    return redirect(url_for("console.procedure_edit", proc_id=proc_id))
