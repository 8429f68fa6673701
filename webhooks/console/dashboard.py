"""The console's home: how the assistant is used, with charts, and what waits for staff."""
from __future__ import annotations

from flask import current_app, render_template

from knowledge.inbox import Inbox, usage
from knowledge.pack import review_items

from ..db import get_db
from .charts import hbars, rate_line, stacked_bars
from .common import bp, calendar_today, snapshot


def weekly_rates(weeks: list) -> tuple[list[str], list[float | None]]:
    labels = [f"{d.month}/{d.day}" for d, _, _ in weeks]
    rates = [round(100.0 * fb / n, 1) if n else None for _, n, fb in weeks]
    return labels, rates


@bp.get("/")
def dashboard():
    """Questions per day, answered vs fallback, top clauses and unanswered, dialogues, callbacks."""
    snap = snapshot()

    with get_db().session() as s:
        use = usage(s, calendar_today(), current_app.config.get("TIMEZONE") or "Asia/Shanghai")
        top_unanswered = Inbox(s).groups()[:5]
        review = len(review_items(s))
    labels = [f"{d.month}/{d.day}" for d in use.days]
    per_day = stacked_bars(labels, [("有回答", use.answered, "s1"), ("未答", use.fallback, "s2")],
                           "近30天每天的提问数（蓝：有回答，橙：未答）")
    week_labels, rates = weekly_rates(use.weeks)
    clause_items = [(f"{snap.clauses[c].title}" if c in snap.clauses else c, n) for c, n in use.top_clauses]
    dialogue_started = hbars([(c, started) for c, started, _ in use.dialogues], "测算对话开始次数")
    dialogue_done = hbars([(c, done) for c, _, done in use.dialogues], "测算对话完成次数", "s3")
    no_phone = [o for o in snap.offices.values() if o.kind != "hotline" and not o.phone]
    week_total = use.weeks[-1][1] if use.weeks else 0
    week_rate = rates[-1] if rates else None
    return render_template(
        "console/dashboard.html", use=use, per_day=per_day,
        rate_chart=rate_line(week_labels, rates, "每周未答率"), week_total=week_total, week_rate=week_rate,
        clauses_chart=hbars(clause_items, "被问得最多的条款"), dialogue_started=dialogue_started,
        dialogue_done=dialogue_done, top_unanswered=top_unanswered, review=review, no_phone=len(no_phone),
        offices_total=sum(1 for o in snap.offices.values() if o.kind != "hotline"),
        procedures=sum(len(v) for v in snap.procedures.values()), identity=snap.identity)
