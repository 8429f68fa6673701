"""Callbacks and the applicant ledger: follow-up status, masking for viewers, export by admins,
retention purge, deletion on the person's request."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from knowledge.callbacks import STATUSES, CallbackService, mask_name, mask_phone, result_text
from knowledge.service import KnowledgeError

from ..db import get_db
from .common import bp, current_staff, fail, role_required, today


@bp.get("/ledger")
def ledger():
    status = request.args.get("status") or ""
    query = (request.args.get("q") or "").strip()[:50]
    staff = current_staff()
    masked = not staff.can("editor")
    with get_db().session() as s:
        svc = CallbackService(s)
        svc.purge()  # entries past the retention period never show
        rows = [{"id": r.id, "created_at": r.created_at, "name": mask_name(r.name) if masked else r.name,
                 "phone": mask_phone(r.phone) if masked else r.phone, "clause": r.clause, "calculator": r.calculator,
                 "result": result_text(r.result), "status": r.status, "note": r.note, "updated_by": r.updated_by,
                 "updated_at": r.updated_at}
                for r in svc.list(status or None, "" if masked else query)]
        counts = svc.counts()
        retention = svc.retention_days()
    from ..web.calc import calculator_titles

    return render_template("console/ledger.html", rows=rows, statuses=STATUSES, status=status, query=query,
                           counts=counts, masked=masked, retention=retention, titles=calculator_titles())


@bp.post("/ledger/<int:callback_id>")
@role_required("editor")
def ledger_update(callback_id: int):
    try:
        with get_db().session() as s:
            CallbackService(s).set_status(callback_id, request.form.get("status") or "", request.form.get("note") or "",
                                          current_staff().signature)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash(f"第{callback_id}号登记已更新。", "ok")
    return redirect(url_for("console.ledger", status=request.args.get("status") or None))


@bp.post("/ledger/<int:callback_id>/delete")
@role_required("editor")
def ledger_delete(callback_id: int):
    """Delete one entry (the person asked us to)."""
    try:
        with get_db().session() as s:
            CallbackService(s).delete(callback_id)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash(f"第{callback_id}号登记已删除。", "ok")
    return redirect(url_for("console.ledger"))


@bp.post("/ledger/delete-person")
@role_required("editor")
def ledger_delete_person():
    """Delete every entry with one phone number (a person's request to be forgotten)."""
    try:
        with get_db().session() as s:
            n = CallbackService(s).delete_for(phone=request.form.get("phone") or "")
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash(f"已删除这个手机号的全部登记（{n}条）。", "ok")
    return redirect(url_for("console.ledger"))


@bp.get("/ledger.csv")
@role_required("admin")
def ledger_export():
    with get_db().session() as s:
        body = CallbackService(s).export_csv()
    name = f"callbacks-{today().isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/ledger/retention")
@role_required("admin")
def ledger_retention():
    """Set how long entries are kept, and delete older ones now."""
    try:
        with get_db().session() as s:
            svc = CallbackService(s)
            days = svc.set_retention_days(request.form.get("days") or "")
            n = svc.purge(days)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash(f"登记保存{days}天；已删除更早的{n}条。", "ok")
    return redirect(url_for("console.ledger"))
