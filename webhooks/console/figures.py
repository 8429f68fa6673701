"""Figures: find a figure by its Chinese name, record a new dated value with its reference (文号)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from knowledge.models import Parameter
from knowledge.parameters import format_value, to_date
from knowledge.service import KnowledgeError, StaffService

from ..db import get_db
from ..web.figures import figure_row
from .common import bp, current_staff, fail, role_required, snapshot, today


@bp.get("/parameters")
def parameters():
    """Search figures by Chinese name (见习补贴), clause (第12条) or name; the value in force today."""
    query = (request.args.get("q") or "").strip()[:100]
    snap = snapshot()
    day = today()
    with get_db().session() as s:
        found = [p.name for p in StaffService(s).find_parameters(query)]
    rows = [figure_row(snap.parameters.definition(n), snap.parameters, day) for n in found if n in snap.parameters]
    overridden = {n for n in found if n in snap.parameters and
                  any(v.source == "staff" for v in snap.parameters.definition(n).values)}
    return render_template("console/parameters.html", rows=rows, query=query, overridden=overridden,
                           clauses=snap.clauses)


def _render(name: str, form: dict, status: int = 200):
    snap = snapshot()
    if name not in snap.parameters:
        abort(404)
    defn = snap.parameters.definition(name)
    timeline = []
    for v in sorted(defn.values, key=lambda v: (v.effective, v.source)):
        if v.value is None:
            shown = "停止执行"
        elif defn.unit == "window":
            from knowledge.parameters import Window

            shown = format_value("window", Window(to_date(v.value["start"]), to_date(v.value.get("end"))))
        else:
            shown = format_value(defn.unit, v.value)
        timeline.append({"effective": v.effective, "shown": shown, "source": v.source, "author": v.author,
                         "reason": v.reason})
    with get_db().session() as s:
        history = StaffService(s).history("parameter", name)
    row = figure_row(defn, snap.parameters, today())
    faqs = [f for f in snap.faqs if "{{" in f.answer and name in f.answer]
    return render_template("console/parameter.html", defn=defn, row=row, timeline=timeline, form=form,
                           history=history, faqs=faqs, clause=snap.clauses.get(defn.clause)), status


@bp.get("/parameters/<name>")
def parameter(name: str):
    return _render(name, {})


@bp.post("/parameters/<name>")
@role_required("editor")
def parameter_save(name: str):
    """Record a new dated value; refused when it breaks an order the plan sets."""
    form = {k: (request.form.get(k) or "").strip() for k in ("value", "start", "end", "effective", "reason")}
    snap = snapshot()
    if name not in snap.parameters:
        abort(404)
    unit = snap.parameters.definition(name).unit
    value = {"start": form["start"], "end": form["end"] or None} if unit == "window" else form["value"]
    if request.form.get("repeal") == "on":
        value = None
    try:
        with get_db().session() as s:
            StaffService(s).override_parameter(name, form["effective"], value, current_staff().signature,
                                               form["reason"])
    except KnowledgeError as exc:
        fail(exc)
        return _render(name, form, status=422)
    flash("已记录新的数字。回答、测算、标准页和匹配索引都从生效日起使用它。", "ok")
    return redirect(url_for("console.parameter", name=name))
