"""Calculators as mobile forms: /calc (the list) and /calc/NAME (a form from the input schema).

The form posts back to its own page; the page runs `eligibility.evaluate` — the engine behind
POST /api/v1/calculators/NAME and the chat dialogues — and shows the result with its reasons,
the figures it used (expired windows marked) and the office to go to. Works without JavaScript;
calc.js only shows the fields that apply and lets the browser check bounds before sending.
"""
from __future__ import annotations

import math
from typing import Any

from flask import render_template, request

from knowledge.parameters import format_value

from .common import bp, not_found, snapshot, today
from .figures import figure_row
from .forms import form_fields, payload_from_form

from eligibility import EligibilityError, UnknownCalculator, catalogue, evaluate


def _catalogue() -> list[dict[str, Any]]:
    return catalogue()


def calculator_titles() -> dict[str, str]:
    """Calculator name → title, for links from the policy pages."""
    return {c["name"]: c["title"] for c in _catalogue()}


def calculators_for(clause_id: str) -> list[str]:
    """Names of the calculators that compute a rule of this clause."""
    return [c["name"] for c in _catalogue() if str(c.get("clause")) == clause_id]


@bp.app_template_filter("yuan")
def yuan(amount: Any) -> str:
    """An amount of money: whole ten-thousands as 万元 (15万元), anything else to the yuan (36000元)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return ""
    if isinstance(amount, float):
        if not math.isfinite(amount):
            return ""
        if not amount.is_integer():
            return f"{amount:g}元"
        amount = int(amount)
    return format_value("CNY", amount) if amount >= 10000 and amount % 10000 == 0 else f"{amount}元"


# Never the path's own words: /calc/<any sentence> must not print that sentence on an official page.
NO_SUCH_CALCULATOR = "没有这个测算项目，请从测算列表中选择。"


@bp.get("/calc")
def calculators():
    """Every calculator, with the clause it computes."""
    snap = snapshot()
    items = []
    for c in _catalogue():
        clause = snap.clauses.get(str(c.get("clause")))
        items.append({"name": c["name"], "title": c["title"], "citation": clause.citation if clause else "",
                      "description": clause.title if clause else ""})
    return render_template("web/calc_index.html", calculators=items)


@bp.route("/calc/<name>", methods=["GET", "POST"])
def calculator(name: str):
    """One calculator as a form; a POST computes it and shows the result above the form."""

    spec = next((c for c in _catalogue() if c["name"] == name), None)
    if spec is None:
        return not_found(NO_SUCH_CALCULATOR)
    schema = spec["input_schema"]
    snap = snapshot()
    clause = snap.clauses.get(str(spec.get("clause")))
    # A form with a mistake is shown again with the message (200: it is a page, not a failure).
    result, error, figures, as_of = None, None, [], None
    values = None
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in (schema.get("properties") or {})}
        try:
            res = evaluate(name, payload_from_form(schema, request.form), snap.parameters, today(), snap)
        except UnknownCalculator:
            return not_found(NO_SUCH_CALCULATOR)
        except EligibilityError as exc:
            error = dict(exc.to_dict(), plain=getattr(exc, "plain", "") or exc.message)
        else:
            result, as_of = res.to_dict(), res.as_of
            figures = [figure_row(snap.parameters.definition(p), snap.parameters, res.as_of)
                       for p in spec.get("parameters") or [] if p in snap.parameters]
    fields = form_fields(schema, values, error)
    return render_template("web/calc.html", spec=spec, clause=clause, fields=fields, result=result,
                           error=error, figures=figures, as_of=as_of,
                           error_text=error["plain"] if error else "")
