"""The unanswered inbox: fallbacks and low-confidence answers grouped by similarity, with actions."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from knowledge.inbox import Inbox, usage
from knowledge.service import KnowledgeError, StaffService

from ..db import get_db, get_engine
from .charts import rate_line
from .common import bp, calendar_today, current_staff, fail, int_list, role_required, snapshot
from .dashboard import weekly_rates

MAX_GROUPS = 60


@bp.get("/inbox")
def inbox():
    """Groups of unanswered questions (count, first and last asked) and the weekly fallback rate."""
    snap = snapshot()
    with get_db().session() as s:
        groups = Inbox(s).groups()
        use = usage(s, calendar_today(), current_app.config.get("TIMEZONE") or "Asia/Shanghai")
    matcher = get_engine().matcher
    suggestions = {}
    for i, g in enumerate(groups[:MAX_GROUPS]):
        match = matcher.match(g.text)
        picks = [c.faq_id for c in match.suggestions if c.faq_id]
        picks += [f for f, _ in g.faq_ids.most_common(2) if f not in picks]
        suggestions[i] = [snap.faq(f) for f in picks[:3] if snap.faq(f)]
    labels, rates = weekly_rates(use.weeks)
    weeks = [(d, n, fb, (round(100.0 * fb / n, 1) if n else None)) for d, n, fb in use.weeks]
    return render_template("console/inbox.html", groups=groups[:MAX_GROUPS], total=len(groups),
                           suggestions=suggestions, weeks=weeks, rate_chart=rate_line(labels, rates, "每周未答率"),
                           faqs=snap.faqs)


@bp.post("/inbox/phrasing")
@role_required("editor")
def inbox_phrasing():
    """Add a resident's question as a phrasing of an existing entry; the group leaves the inbox."""
    ids = int_list(request.form.get("ids"))
    faq_id = (request.form.get("faq_other") or request.form.get("faq_id") or "").strip()
    text = (request.form.get("text") or "").strip()
    try:
        with get_db().session() as s:
            StaffService(s).add_phrasing(faq_id, text, current_staff().signature, "未答问题加为问法")
            Inbox(s).mark(ids, "phrasing", current_staff().signature, faq_id)
    except KnowledgeError as exc:
        fail(exc if faq_id else KnowledgeError("请选择或填写要加到哪条问答"))
    else:
        flash(f"已把“{text}”加为问答 {faq_id} 的问法。", "ok")
    return redirect(url_for("console.inbox"))


@bp.post("/inbox/handled")
@role_required("editor")
def inbox_handled():
    """Mark a group handled (e.g. out of scope, or answered elsewhere)."""
    ids = int_list(request.form.get("ids"))
    with get_db().session() as s:
        n = Inbox(s).mark(ids, "handled", current_staff().signature)
    flash(f"已标记处理（{n}条提问）。", "ok")
    return redirect(url_for("console.inbox"))
