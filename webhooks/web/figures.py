"""The dated figures as the publicity pages show them: value in force, unit, window, status.

The knowledge pack stores windows (unit "window") as parameters of their own, and a figure the
plan states for one period only names that window (`window:` in parameters.yaml):
`skill_upgrade.primary` (1000元) follows `skill_upgrade.relaxed_window` (2019–2020), so no page
shows the figure without its period. Everything else stands on its own dates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from knowledge.parameters import ParameterDef, ParameterError, Parameters, Window, format_value, to_date

UNIT_LABELS = {"CNY": "元", "percent": "%", "years": "年", "months": "个月", "age": "岁", "count": "人/个",
               "window": "执行期"}


@dataclass
class WindowInfo:
    name: str
    description: str
    text: str
    expired: bool
    started: bool


@dataclass
class FigureRow:
    name: str
    description: str
    clause: str
    unit: str
    unit_label: str
    value_text: str          # the value in force, formatted; "" when none is in force
    status: str              # in_force | expired | not_started | repealed
    since: dt.date | None    # when the value in force took effect
    quote: str
    windows: list[WindowInfo] = field(default_factory=list)
    upcoming: list[tuple[dt.date, str]] = field(default_factory=list)  # later dated values
    changed: bool = False    # the figure has more than one dated value (show since when)

    @property
    def is_window(self) -> bool:
        return self.unit == "window"

    @property
    def expired(self) -> bool:
        return self.status == "expired" or any(w.expired for w in self.windows)


def related_windows(defn: ParameterDef, params: Parameters) -> list[ParameterDef]:
    """The window parameter a figure follows (the one its definition names), as a list."""
    if defn.unit == "window" or not defn.window or defn.window not in params:
        return []
    return [params.definition(defn.window)]


def _window_at(defn: ParameterDef, day: dt.date) -> Window | None:
    try:
        value = defn.value_at(day)
    except ParameterError:
        return None
    return value if isinstance(value, Window) else None


def window_info(defn: ParameterDef, day: dt.date) -> WindowInfo | None:
    window = _window_at(defn, day)
    if window is None:
        return None
    return WindowInfo(defn.name, defn.description, window.text(), window.expired(day), window.start <= day)


def figure_row(defn: ParameterDef, params: Parameters, day: dt.date) -> FigureRow:
    """One figure (or window) as shown on /standards and on a clause page, as of `day`."""
    line = defn.timeline()
    past = [v for v in line if v.effective <= day]
    current = past[-1] if past else None
    value_text, status, since = "", "not_started", None
    if current is not None:
        since = current.effective
        if current.value is None:
            status = "repealed"
        else:
            value = defn.value_at(day)
            value_text = format_value(defn.unit, value)
            status = "expired" if isinstance(value, Window) and value.expired(day) else "in_force"
            if isinstance(value, Window) and value.start > day:
                status = "not_started"
    upcoming = []
    for v in line:
        if v.effective > day:
            shown = "停止执行" if v.value is None else format_value(
                defn.unit, Window(to_date(v.value["start"]), to_date(v.value.get("end")))
                if defn.unit == "window" else v.value)
            upcoming.append((v.effective, shown))
    windows = [w for w in (window_info(d, day) for d in related_windows(defn, params)) if w]
    return FigureRow(defn.name, defn.description, defn.clause, defn.unit, UNIT_LABELS.get(defn.unit, ""),
                     value_text, status, since, defn.quote, windows, upcoming, changed=len(line) > 1)


def figure_rows(params: Parameters, day: dt.date, clause: str | None = None) -> list[FigureRow]:
    """Every figure (optionally of one clause), in the pack's order."""
    return [figure_row(d, params, day) for d in params.defs.values() if clause is None or d.clause == clause]
