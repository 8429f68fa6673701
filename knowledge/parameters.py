"""Dated policy parameters: every figure and window of the plan, queried at a date.

Values are keyed by the date they take effect (OpenFisca style). The pack's YAML
values are the base; a staff override (source "staff") for the same name wins over
a file value with the same or an earlier effective date. `None` ends a parameter.
Answers quote figures through `{{name}}` placeholders and calculators read the same
values, so an answer and a calculator can never disagree.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

UNITS = {"CNY", "percent", "years", "months", "age", "count", "window"}
PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_.]+)\s*\}\}")


class ParameterError(KeyError):
    """An unknown parameter name, or no value in force at the date asked."""


_DAY_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")


def parse_day(text: Any) -> dt.date | None:
    """A date typed the usual ways: 2026-12-01, 2026/12/1, 2026.12.1, 2026年12月1日, 20261201.

    Empty → None; anything else raises ValueError with a message staff can read.
    """
    if isinstance(text, dt.date):
        return text if not isinstance(text, dt.datetime) else text.date()
    raw = str(text or "").strip().translate(_FULLWIDTH)
    if not raw:
        return None
    for pattern in _DAY_PATTERNS:
        m = pattern.match(raw)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise ValueError(f"看不懂日期“{raw}”，请写成 2026-12-01 或 2026年12月1日")


def to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Window:
    """A period a rule applies in; `end` None means open-ended (inclusive bounds)."""

    start: dt.date
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def expired(self, day: dt.date) -> bool:
        return self.end is not None and day > self.end

    def text(self) -> str:
        def d(x: dt.date) -> str:
            return f"{x.year}年{x.month}月{x.day}日"

        return f"{d(self.start)}起" if self.end is None else f"{d(self.start)}至{d(self.end)}"

    def status(self, day: dt.date) -> str:
        """"已到期" / "尚未开始" on `day`, or "" while the window is in force."""
        if self.expired(day):
            return "已到期"
        if day < self.start:
            return "尚未开始"
        return ""


@dataclass
class DatedValue:
    effective: dt.date
    value: Any
    source: str = "file"
    author: str = ""
    reason: str = ""


@dataclass
class ParameterDef:
    name: str
    description: str
    clause: str
    unit: str
    quote: str = ""
    values: list[DatedValue] = field(default_factory=list)
    # The window parameter this figure belongs to: the plan states the figure for that period only
    # (skill_upgrade.primary → skill_upgrade.relaxed_window). "" when the figure has no window.
    window: str = ""

    def timeline(self) -> list[DatedValue]:
        """Effective values in date order; a staff value replaces a file value on the same date."""
        by_date: dict[dt.date, DatedValue] = {}
        for v in sorted(self.values, key=lambda v: (v.effective, v.source == "staff")):
            by_date[v.effective] = v
        return [by_date[d] for d in sorted(by_date)]

    def entry_at(self, day: dt.date) -> DatedValue | None:
        """The dated value in force on `day` (a staff override carries its reference in `reason`)."""
        line = self.timeline()
        idx = bisect.bisect_right([v.effective for v in line], day) - 1
        return line[idx] if idx >= 0 else None

    def value_at(self, day: dt.date) -> Any:
        line = self.timeline()
        idx = bisect.bisect_right([v.effective for v in line], day) - 1
        if idx < 0:
            raise ParameterError(f"{self.name}: no value in force on {day.isoformat()}")
        value = line[idx].value
        if value is None:
            raise ParameterError(f"{self.name}: repealed on {line[idx].effective.isoformat()}")
        if self.unit == "window":
            return Window(to_date(value["start"]), to_date(value.get("end")))
        return value


def format_value(unit: str, value: Any) -> str:
    """Render a value with its unit as an answer quotes it."""
    if unit == "window":
        return value.text()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if unit == "CNY":
        if isinstance(value, int) and value >= 10000 and value % 10000 == 0:
            return f"{value // 10000}万元"
        if isinstance(value, int) and value >= 10000 and value % 1000 == 0:
            return f"{value / 10000:g}万元"
        return f"{value}元"
    suffix = {"percent": "%", "years": "年", "months": "个月", "age": "岁", "count": ""}[unit]
    return f"{value}{suffix}"


class Parameters:
    """All parameter definitions; `at(day)` gives the values in force on that day."""

    def __init__(self, defs: Iterable[ParameterDef]):
        self.defs: dict[str, ParameterDef] = {d.name: d for d in defs}

    def __contains__(self, name: str) -> bool:
        return name in self.defs

    def definition(self, name: str) -> ParameterDef:
        try:
            return self.defs[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}") from None

    def at(self, day: dt.date) -> "ParameterView":
        return ParameterView(self, day)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Parameters":
        """Build from the parsed parameters.yaml mapping."""
        defs = []
        for name, spec in data.items():
            if spec.get("unit") not in UNITS:
                raise ValueError(f"{name}: unit must be one of {sorted(UNITS)}")
            values = [
                DatedValue(to_date(day), _plain(value)) for day, value in (spec.get("values") or {}).items()
            ]
            defs.append(
                ParameterDef(
                    name=name,
                    description=spec.get("description", ""),
                    clause=str(spec["clause"]),
                    unit=spec["unit"],
                    quote=spec.get("quote", ""),
                    values=values,
                    window=spec.get("window") or "",
                )
            )
        params = cls(defs)
        params.check_windows()
        return params

    def check_windows(self) -> None:
        """Every figure's `window` names a window parameter of the same clause."""
        for d in self.defs.values():
            if not d.window:
                continue
            other = self.defs.get(d.window)
            if other is None or other.unit != "window" or other.clause != d.clause or d.unit == "window":
                raise ValueError(f"{d.name}: window {d.window!r} is not a window parameter of clause {d.clause}")


def _plain(value: Any) -> Any:
    """Dates inside window values become ISO strings (JSON-safe, as stored in the database)."""
    if isinstance(value, Mapping):
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in value.items()}
    return value


class ParameterView:
    """The parameters in force on one day."""

    def __init__(self, params: Parameters, day: dt.date):
        self.params = params
        self.day = day

    def __getitem__(self, name: str) -> Any:
        return self.params.definition(name).value_at(self.day)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except ParameterError:
            return default

    def window(self, name: str) -> Window:
        value = self[name]
        if not isinstance(value, Window):
            raise ParameterError(f"{name} is not a window")
        return value

    def text(self, name: str) -> str:
        definition = self.params.definition(name)
        return format_value(definition.unit, definition.value_at(self.day))

    def references(self, template: str) -> list[str]:
        """The references (文号) of staff overrides in force for the figures `template` quotes."""
        refs: list[str] = []
        for name in placeholders(template):
            if name not in self.params:
                continue
            entry = self.params.definition(name).entry_at(self.day)
            if entry is not None and entry.source == "staff" and entry.reason and entry.reason not in refs:
                refs.append(entry.reason)
        return refs

    def render(self, template: str) -> str:
        """Replace every {{name}} with the value in force, formatted with its unit.

        A window says whether it is still in force: "2019年1月1日至2019年12月31日（已到期）", so a
        summary or an answer never presents an ended period as current. When a figure comes from a
        staff override, the answer's citation "（依据：…）" also names the override's reference, so
        a resident can see the amount rests on a newer document.
        """
        def one(m: re.Match) -> str:
            name = m.group(1)
            text = self.text(name)
            if self.params.definition(name).unit == "window":
                status = self.window(name).status(self.day)
                if status:
                    text += f"（{status}）"
            return text

        text = PLACEHOLDER.sub(one, template)
        refs = self.references(template)
        if refs:
            text = cite_references(text, refs)
        return text


CITATION_RE = re.compile(r"（依据：([^）]*)）")


def cite_references(text: str, refs: list[str]) -> str:
    """Add references to the last citation of `text` ("（依据：实施方案第12条；肃人社发〔2026〕1号）")."""
    matches = list(CITATION_RE.finditer(text))
    if not matches:
        return text
    m = matches[-1]
    inner = m.group(1) + "".join(f"；{r}" for r in refs if r not in m.group(1))
    return text[:m.start()] + f"（依据：{inner}）" + text[m.end():]


# Orders the plan sets between figures: (lower, higher, what the plan says). A new value that
# breaks one is refused.
ORDERS: tuple[tuple[str, str, str], ...] = (
    ("internship.rate", "internship.rate_retained", "留用率达标单位的见习补贴标准应高于基本标准（第12条）"),
    ("internship.min_months", "internship.max_months", "见习期限的下限不能高于上限（第12条）"),
    ("internship.youth_min_age", "internship.youth_max_age", "失业青年年龄的下限不能高于上限（第12条）"),
    ("incubator.subsidy_min", "incubator.subsidy_max", "孵化基地补助的下限不能高于上限（第11条）"),
    ("training.skills_min", "training.skills_max", "技能培训补贴的下限不能高于上限（第15条）"),
    ("training.startup_min", "training.startup_max", "创业培训补贴的下限不能高于上限（第15条）"),
    ("skill_upgrade.primary", "skill_upgrade.intermediate", "中级证书的补贴不能低于初级（第16条）"),
    ("skill_upgrade.intermediate", "skill_upgrade.advanced", "高级证书的补贴不能低于中级（第16条）"),
    ("skill_upgrade.insured_years_relaxed", "skill_upgrade.insured_years_standard",
     "放宽后的参保年限不能长于原来的年限（第16条）"),
    ("startup_loan.individual_max", "startup_loan.business_max", "个人创业担保贷款额度不能高于小微企业的额度（第10条）"),
    ("poverty_hire_training.short_contract", "poverty_hire_training.long_contract",
     "1年以上劳动合同的培训补助不能低于短期合同（第16条）"),
    ("poverty_hire_training.min_contract_months", "poverty_hire_training.long_contract_months",
     "短期合同的月数不能多于长期合同（第16条）"),
)
STRICT_ORDERS = {("internship.rate", "internship.rate_retained")}


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)
