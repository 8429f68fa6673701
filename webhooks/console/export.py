"""The knowledge pack in and out: export as a ZIP of YAML, import with a diff preview first;
the review list of a newer bundled pack merged on start."""
from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for

from knowledge import pack
from knowledge.service import KnowledgeError

from ..db import get_db
from .common import bp, current_staff, fail, role_required, today

KIND_LABELS = {"faq": "问答", "office": "办事机构", "parameter": "政策数字", "clause": "条款", "procedure": "办事指南",
               "setting": "设置"}


def _upload_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "jiuye-console-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@bp.get("/export")
@role_required("admin")
def export_page():
    with get_db().session() as s:
        review = pack.review_items(s)
    return render_template("console/export.html", review=review, kinds=KIND_LABELS)


@bp.get("/export/pack.zip")
@role_required("admin")
def export_zip():
    with get_db().session() as s:
        body = pack.export_zip(s)
    name = f"jiuye-pack-{today().isoformat()}.zip"
    return Response(body, mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/export/import")
@role_required("admin")
def import_preview():
    """Unpack the uploaded ZIP and show what importing it would change; nothing is changed yet."""
    upload = request.files.get("pack")
    if upload is None or not upload.filename:
        flash("请选择要导入的ZIP文件。", "error")
        return redirect(url_for("console.export_page"))
    token = secrets.token_hex(12)
    target = _upload_dir() / token
    target.mkdir()
    try:
        root = pack.unpack_zip(upload.read(), target)
        with get_db().session() as s:
            changes = pack.diff(s, root)
    except pack.PackError as exc:
        shutil.rmtree(target, ignore_errors=True)
        flash(str(exc), "error")
        return redirect(url_for("console.export_page"))
    session["import_token"] = token
    total = sum(len(v["added"]) + len(v["removed"]) + len(v["changed"]) for v in changes.values())
    return render_template("console/import_preview.html", changes=changes, kinds=KIND_LABELS, total=total,
                           token=token, filename=upload.filename)


@bp.post("/export/import/confirm")
@role_required("admin")
def import_confirm():
    token = request.form.get("token") or ""
    if not token or token != session.get("import_token"):
        flash("导入已过期，请重新上传。", "error")
        return redirect(url_for("console.export_page"))
    target = _upload_dir() / token
    roots = [p.parent for p in target.rglob("clauses.yaml")]
    if not roots:
        flash("导入已过期，请重新上传。", "error")
        return redirect(url_for("console.export_page"))
    try:
        with get_db().session() as s:
            pack.replace(s, min(roots, key=lambda p: len(p.parts)), current_staff().signature)
    except (KnowledgeError, ValueError, KeyError) as exc:
        current_app.logger.warning("pack import failed: %s", exc)
        flash(f"导入失败，数据库没有改动：{exc}", "error")
        return redirect(url_for("console.export_page"))
    finally:
        shutil.rmtree(target, ignore_errors=True)
        session.pop("import_token", None)
    flash("已导入。所有进程在下一条消息时使用新的知识包。", "ok")
    return redirect(url_for("console.export_page"))


@bp.post("/review/<entity>/<entity_id>")
@role_required("editor")
def review_resolve(entity: str, entity_id: str):
    """Keep our version of an entry, or take the newer bundled pack's."""
    take = request.form.get("take") == "pack"
    try:
        with get_db().session() as s:
            pack.resolve_review(s, entity, entity_id, take, current_staff().signature)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash("已采用新版内容。" if take else "已保留本地内容。", "ok")
    return redirect(request.form.get("back") or url_for("console.review"))


@bp.get("/review")
def review():
    with get_db().session() as s:
        items = pack.review_items(s)
    return render_template("console/review.html", review=items, kinds=KIND_LABELS)
