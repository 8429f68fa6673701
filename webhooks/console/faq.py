"""FAQ editor: list, search (Chinese, pinyin, pinyin initials), filter by clause; create and edit
with optimistic concurrency; 试一试 (how the assistant answers now); history with revert."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import abort, flash, redirect, render_template, request, url_for
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select

from bot.reply import Incoming
from knowledge.inbox import Inbox
from knowledge.models import Edit, Faq, Parameter
from knowledge.parameters import PLACEHOLDER, ParameterError
from knowledge.service import EditConflict, KnowledgeError, StaffService
from knowledge.textnorm import fold

from ..db import get_db, get_engine
from .common import bp, current_staff, fail, int_list, lines, role_required, snapshot, today

FAQ_FIELDS = ("question", "phrasings", "answer", "clause", "calculator", "enabled")


@lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of a text, letters only: 见习补贴 → ("jianxibutie", "jxbt")."""
    han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "".join(lazy_pinyin(han)), "".join(lazy_pinyin(han, style=Style.FIRST_LETTER))


def matches(row: Faq, query: str) -> bool:
    """Chinese words anywhere in the entry; Latin letters as pinyin or pinyin initials of a phrasing."""
    q = fold(query).replace(" ", "")
    if not q:
        return True
    texts = [row.question, *row.phrasings]
    if q in row.id or any(q in fold(t).replace(" ", "") for t in [*texts, row.answer]):
        return True
    if re.fullmatch(r"[a-z]+", q):
        return any(q in full or q in initials for full, initials in (pinyin_keys(t) for t in texts))
    return False


def faq_rows(query: str, clause: str, state: str) -> list[Faq]:
    with get_db().session() as s:
        rows = list(s.scalars(select(Faq).order_by(Faq.sort, Faq.id)))
    out = []
    for row in rows:
        if clause and row.clause != clause:
            continue
        if state == "on" and not row.enabled or state == "off" and row.enabled:
            continue
        if matches(row, query):
            out.append(row)
    return out


@bp.get("/faq")
def faq_list():
    """Every entry, searchable (汉字, pinyin, initials such as jxbt), filtered by clause and state."""
    query = (request.args.get("q") or "").strip()[:100]
    clause = request.args.get("clause") or ""
    state = request.args.get("state") or ""
    rows = faq_rows(query, clause, state)
    return render_template("console/faq_list.html", rows=rows, query=query, clause=clause, state=state,
                           clauses=snapshot().clauses)


def _form_changes(form) -> dict:  # noqa: ANN001
    return {"question": (form.get("question") or "").strip(), "phrasings": lines(form.get("phrasings")),
            "answer": (form.get("answer") or "").strip(), "clause": form.get("clause") or "",
            "calculator": (form.get("calculator") or "").strip(), "enabled": form.get("enabled") == "on"}


def preview(answer: str) -> tuple[str, str]:
    """How an answer text reads today with its figures filled in, or the error staff must fix."""
    try:
        return snapshot().parameters.at(today()).render(answer), ""
    except (ParameterError, KeyError) as exc:
        return "", f"答案里的数字引用有误：{exc}"


def _figure_names() -> list[tuple[str, str]]:
    with get_db().session() as s:
        return [(p.name, p.description) for p in s.scalars(select(Parameter).order_by(Parameter.clause, Parameter.name))]


def _render_edit(row_data: dict, *, faq_id: str | None, version: int, history: list, conflict=None,
                 preview_text: str = "", preview_error: str = "", try_result=None, status: int = 200,
                 from_ids: str = ""):
    from ..web.calc import calculator_titles

    return render_template("console/faq_edit.html", data=row_data, faq_id=faq_id, version=version, history=history,
                           conflict=conflict, preview_text=preview_text, preview_error=preview_error,
                           clauses=snapshot().clauses, figures=_figure_names(), calculators=calculator_titles(),
                           try_result=try_result, from_ids=from_ids), status


def _history(faq_id: str) -> list[Edit]:
    with get_db().session() as s:
        return StaffService(s).history("faq", faq_id)


@bp.get("/faq/<faq_id>")
def faq_edit(faq_id: str):
    with get_db().session() as s:
        row = s.get(Faq, faq_id)
        if row is None:
            abort(404)
        data = {k: getattr(row, k) for k in (*FAQ_FIELDS, "id", "updated_by", "updated_at")}
        version = row.version
    text, error = preview(data["answer"])
    return _render_edit(data, faq_id=faq_id, version=version, history=_history(faq_id), preview_text=text,
                        preview_error=error)


@bp.post("/faq/<faq_id>")
@role_required("editor")
def faq_save(faq_id: str):
    """Save (or only preview) an entry; a save based on an older version is refused, nothing is lost."""
    changes = _form_changes(request.form)
    reason = (request.form.get("reason") or "").strip()
    try:
        version = int(request.form.get("version") or 0)
    except ValueError:
        version = 0
    data = {**changes, "id": faq_id, "reason": reason}
    if request.form.get("action") == "preview":
        text, error = preview(changes["answer"])
        return _render_edit(data, faq_id=faq_id, version=version, history=_history(faq_id), preview_text=text,
                            preview_error=error)
    try:
        with get_db().session() as s:
            StaffService(s).update_faq(faq_id, changes, current_staff().signature, reason, expected_version=version)
    except EditConflict as exc:
        current = {**exc.current, "answer_rendered": preview(exc.current.get("answer", ""))[0]}
        with get_db().session() as s:
            latest = s.get(Faq, faq_id).version
        return _render_edit(data, faq_id=faq_id, version=latest, history=_history(faq_id),
                            conflict={"message": exc.message, "current": current, "by": exc.by, "at": exc.at},
                            status=409)
    except KnowledgeError as exc:
        fail(exc)
        text, error = preview(changes["answer"])
        return _render_edit(data, faq_id=faq_id, version=version, history=_history(faq_id), preview_text=text,
                            preview_error=error, status=422)
    flash("已保存。所有进程在下一条消息时使用新内容。", "ok")
    return redirect(url_for("console.faq_edit", faq_id=faq_id))


@bp.route("/faq/new", methods=["GET", "POST"])
@role_required("editor")
def faq_new():
    """A new entry; from the inbox, its question and phrasings come from the residents' words."""
    if request.method == "GET":
        from_ids = request.args.get("from") or ""
        data = {"id": "", "question": "", "phrasings": [], "answer": "", "clause": request.args.get("clause") or "",
                "calculator": "", "enabled": True}
        if from_ids:
            with get_db().session() as s:
                texts = Inbox(s).texts(int_list(from_ids))
            data["question"] = texts[0] if texts else ""
            data["phrasings"] = texts[1:]
        return _render_edit(data, faq_id=None, version=0, history=[], from_ids=from_ids)
    changes = _form_changes(request.form)
    new_id = (request.form.get("id") or "").strip()
    from_ids = request.form.get("from_ids") or ""
    data = {**changes, "id": new_id, "reason": request.form.get("reason") or ""}
    if request.form.get("action") == "preview":
        text, error = preview(changes["answer"])
        return _render_edit(data, faq_id=None, version=0, history=[], preview_text=text, preview_error=error,
                            from_ids=from_ids)
    try:
        with get_db().session() as s:
            StaffService(s).create_faq({**changes, "id": new_id}, current_staff().signature,
                                       request.form.get("reason") or "新建")
            if from_ids:
                Inbox(s).mark(int_list(from_ids), "new_entry", current_staff().signature, new_id)
    except KnowledgeError as exc:
        fail(exc)
        return _render_edit(data, faq_id=None, version=0, history=[], from_ids=from_ids, status=422)
    flash("已新建。", "ok")
    return redirect(url_for("console.faq_edit", faq_id=new_id))


@bp.post("/edits/<int:edit_id>/revert")
@role_required("editor")
def revert(edit_id: int):
    """Undo one recorded change (it is itself recorded, so it can be undone too)."""
    back = request.form.get("back") or url_for("console.dashboard")
    try:
        with get_db().session() as s:
            StaffService(s).revert(edit_id, current_staff().signature)
    except KnowledgeError as exc:
        fail(exc)
    else:
        flash("已撤销这次修改。", "ok")
    return redirect(back if back.startswith("/console") else url_for("console.dashboard"))


@bp.route("/try", methods=["GET", "POST"])
def try_it():
    """试一试: what the assistant answers to a question right now (not counted as a resident's question)."""
    question = (request.values.get("q") or "").strip()[:500]
    result = None
    if question and request.method == "POST":
        from knowledge.models import Conversation

        user = f"console:{current_staff().id}"
        with get_db().session() as s:  # each try starts a fresh conversation
            row = s.get(Conversation, user)
            if row is not None:
                s.delete(row)
        reply = get_engine().handle(Incoming(user=user, text=question, channel="console"))
        result = reply
    return render_template("console/try.html", question=question, result=result,
                           faq=(snapshot().faq(result.faq_id) if result is not None and result.faq_id else None))


def placeholders_in(answer: str) -> list[str]:
    return PLACEHOLDER.findall(answer or "")
