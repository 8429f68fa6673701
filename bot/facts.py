"""Facts stated in a question, checked against the figures the answer rests on.

"我25岁 高中毕业 能参加见习吗" is answered by an entry that quotes the 16–24 age range: told
plainly "可以参加", the person would be misled. The ages, months and years a question states are
compared with the bounds among the figures the answer's own placeholders quote ({{...min...}},
{{...max...}}, or a figure the plan phrases "…以上"); one outside them gets a first sentence
that says so, before the answer. Only what the plan states is checked.
"""
from __future__ import annotations

from dataclasses import dataclass

from eligibility.answers import Quantity, convert, find_quantities
from knowledge.parameters import ParameterError, ParameterView, placeholders
from knowledge.service import FaqInfo

CHECKED_UNITS = ("age", "months", "years")


@dataclass(frozen=True)
class Bound:
    name: str
    unit: str
    value: float
    lower: bool          # True: the figure is a minimum ("16岁", "1年以上"); False: a maximum


def bounds(view: ParameterView, template: str) -> list[Bound]:
    """The minimums and maximums among the figures a text quotes, in force on the view's day."""
    found = []
    for name in dict.fromkeys(placeholders(template)):
        try:
            definition = view.params.definition(name)
            value = view[name]
        except (ParameterError, KeyError):
            continue
        if definition.unit not in CHECKED_UNITS or not isinstance(value, (int, float)):
            continue
        leaf = name.rsplit(".", 1)[-1]
        if "min" in leaf or "以上" in (definition.quote or "") and "max" not in leaf:
            found.append(Bound(name, definition.unit, value, True))
        elif "max" in leaf or "不超过" in (definition.quote or "") or "最长" in (definition.quote or ""):
            found.append(Bound(name, definition.unit, value, False))
    return found


def _fits(q: Quantity, unit: str) -> bool:
    if unit == "age":
        return q.unit == "age"
    return q.unit in ("months", "years")


def outside(view: ParameterView, faq: FaqInfo, text: str) -> list[tuple[Quantity, Bound]]:
    """Stated quantities that fall outside a bound the answer quotes."""
    limits = bounds(view, faq.answer)
    if not limits:
        return []
    misses = []
    for q in find_quantities(text):
        if q.vague or q.unit not in CHECKED_UNITS:
            continue
        for b in limits:
            if not _fits(q, b.unit):
                continue
            value = convert(q, b.unit)
            if (b.lower and value < b.value) or (not b.lower and value > b.value):
                misses.append((q, b))
                break
    return misses
