"""Publicity pages required by clause III.3 of the plan: policy list, each policy, standards,
offices and contacts, complaint hotline. Server-rendered, readable without JavaScript."""
from __future__ import annotations

import re

from flask import render_template, url_for

from knowledge.runtime import THEMES
from bot.i18n import msg
from knowledge.parameters import ParameterError, ParameterView
from knowledge.service import ClauseInfo, FaqInfo, Snapshot

from .calc import calculator_titles, calculators_for
from .common import bp, not_found, snapshot, theme_of, today  # noqa: F401  (not_found: callers import it here)
from .figures import figure_rows

# FAQ questions about applying: shown under "怎么办理" on a clause page.
APPLY_RE = re.compile(r"怎么申请|如何申请|怎么报名|怎么办理|如何办理|哪些材料|什么材料|带什么|去哪|找谁|怎么领")
OFFICE_KINDS = (("county", "县直部门"), ("township", "各乡镇"), ("central", "金融管理部门"),
                ("bank", "经办银行"))


# A fixed sentence: the page never repeats the unknown path, which anyone can fill with a
# false notice ("补贴已改为电话领取，请拨打…") on an official-looking page.
NO_SUCH_CLAUSE = "没有找到这一条政策，请从政策清单中选择。"


def office_card(snap: Snapshot, name: str) -> dict[str, str]:
    """A contact card for an office named in the plan ("各乡镇" and unknown names get a bare card)."""
    office = snap.office(name)
    if office is None:
        url = url_for("web.offices", _anchor="township") if "乡" in name or "镇" in name else ""
        return {"office": name, "phone": "", "address": "", "hours": "", "duties": "", "url": url}
    card = office.contact()
    card["duties"] = ""
    card["url"] = url_for("web.offices", _anchor=office.id)
    return card


def answer_text(snap: Snapshot, faq: FaqInfo, view: ParameterView) -> tuple[str, list[str]]:
    """An FAQ answer as the chat gives it: figures in force, and a note for each ended window."""
    text = view.render(faq.answer)
    lead = "、".join(snap.clauses[faq.clause].lead_offices) if faq.clause in snap.clauses else ""
    notes = []
    for name in faq.noted_windows:
        try:
            window = view.window(name)
        except ParameterError:
            continue
        if window.expired(view.day):
            notes.append(msg("window_expired", window=window.text(), office=lead or msg("lead_office_unknown")))
    return text, list(dict.fromkeys(notes))


def clause_calculators(snap: Snapshot, clause_id: str) -> list[str]:
    return list(dict.fromkeys(f.calculator for f in snap.faqs if f.clause == clause_id and f.calculator))


def theme_groups(snap: Snapshot) -> list[tuple[str, str, list[ClauseInfo]]]:
    """(theme id, label, clauses) in menu order; clauses the menu does not list come last."""
    groups, seen = [], set()
    for theme, ids in THEMES:
        clauses = [snap.clauses[i] for i in ids if i in snap.clauses]
        seen.update(ids)
        if clauses:
            groups.append((theme, msg(f"theme_{theme}"), clauses))
    rest = [c for cid, c in snap.clauses.items() if cid not in seen]
    if rest:
        groups.append(("other", "其他", rest))
    return groups


@bp.get("/policies")
def policies():
    """The policy list by theme (政策清单)."""
    snap = snapshot()
    view = snap.parameters.at(today())
    return render_template("web/policies.html", groups=theme_groups(snap), render=view.render)


@bp.get("/policies/<clause_id>")
def policy(clause_id: str):
    """One clause: summary, original text, figures, how to apply, offices, FAQ, calculator."""
    snap = snapshot()
    clause = snap.clauses.get(clause_id)
    if clause is None:
        return not_found(NO_SUCH_CLAUSE)
    day = today()
    view = snap.parameters.at(day)
    faqs = [f for f in snap.faqs if f.clause == clause_id]
    answers = {f.id: answer_text(snap, f, view) for f in faqs}
    apply_faqs = [f for f in faqs if APPLY_RE.search(f.question)][:3]
    other_faqs = [f for f in faqs if f not in apply_faqs]
    titles = calculator_titles()
    theme = theme_of(clause_id)
    ids = list(snap.clauses)
    pos = ids.index(clause_id)
    return render_template(
        "web/policy.html", clause=clause, summary=view.render(clause.summary), today=day,
        figures=figure_rows(snap.parameters, day, clause_id),
        leads=[office_card(snap, n) for n in clause.lead_offices],
        responsible=[office_card(snap, n) for n in clause.responsible_offices if n not in clause.lead_offices],
        apply_faqs=apply_faqs, other_faqs=other_faqs, answers=answers,
        calculators=[n for n in dict.fromkeys(clause_calculators(snap, clause_id) + calculators_for(clause_id))
                     if n in titles], calc_titles=titles,
        theme_label=msg(f"theme_{theme}") if theme else "", procedures=snap.procedures_for(clause_id),
        prev=snap.clauses[ids[pos - 1]] if pos > 0 else None,
        next=snap.clauses[ids[pos + 1]] if pos + 1 < len(ids) else None,
    )


@bp.get("/standards")
def standards():
    """Every figure of the plan with its clause, value, unit and window; expired ones marked."""
    snap = snapshot()
    day = today()
    order = {cid: i for i, cid in enumerate(snap.clauses)}
    rows = sorted(figure_rows(snap.parameters, day), key=lambda r: order.get(r.clause, len(order)))
    groups: list[tuple[ClauseInfo | None, str, list]] = []
    for row in rows:
        if not groups or groups[-1][1] != row.clause:
            groups.append((snap.clauses.get(row.clause), row.clause, []))
        groups[-1][2].append(row)
    return render_template("web/standards.html", groups=groups, today=day,
                           expired=sum(1 for r in rows if r.expired))


@bp.get("/offices")
def offices():
    """The service offices and how to reach them; "待公布" where staff have not entered a number."""
    snap = snapshot()
    lead_of: dict[str, list[str]] = {}
    for clause in snap.clauses.values():
        for name in clause.lead_offices:
            office = snap.office(name)
            if office:
                lead_of.setdefault(office.name, []).append(clause.id)
    groups = []
    for kind, label in OFFICE_KINDS:
        cards = []
        for office in snap.offices.values():
            if office.kind != kind:
                continue
            card = office.contact()
            card["duties"] = office.duties
            card["id"] = office.id
            card["verified"] = (f"{office.verified_by} {office.verified_at.year}年{office.verified_at.month}月"
                                f"{office.verified_at.day}日核实") if office.verified_at and office.phone else ""
            cards.append(card)
        if cards:
            groups.append((kind, label, cards))
    return render_template("web/offices.html", groups=groups, lead_of=lead_of,
                           complaint=snap.complaint_hotline, complaint_published=snap.complaint_published)


@bp.get("/complaints")
def complaints():
    """The supervision and complaint hotline (12345 until staff set a local number)."""
    snap = snapshot()
    hotline = snap.complaint_hotline
    clause = snap.clauses.get("III.3")
    return render_template("web/complaints.html", hotline=hotline, local=snap.complaint_published, clause=clause)
