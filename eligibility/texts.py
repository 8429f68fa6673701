"""The eligibility package's sentences: gettext catalogs eligibility/locale/<locale>.po (zh, mn).

Reasons, error messages, field and option labels all come from the catalog, so the
wording can be edited without touching a rule. `eligibility` never imports `bot`
(ARCHITECTURE.md), hence its own catalog beside bot's (knowledge.catalogs reads both).

The language: `t(key, locale=…)`; without one, the language of the conversation being answered
(`speaking(locale)`, set by the engine for one turn, like gettext's active language), else zh.
Form texts (questions, options, intros) stay in the form YAML, the Chinese source; their
translations are catalog entries `forms.<calculator>.<slot>.question` etc., read by `form_text`.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import math
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

from knowledge.catalogs import DEFAULT_LOCALE, LOCALES, Catalogs
from knowledge.parameters import format_value

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOGS = Catalogs(LOCALE_DIR)
# The lead office's name, for the sentences of the calculation being run: set by the service,
# which knows the office directory, around the pure rule (so a rule never needs the directory).
_OFFICE: ContextVar[str] = ContextVar("eligibility_office", default="")
_SPEAKING: contextvars.ContextVar[str] = contextvars.ContextVar("eligibility_locale", default=DEFAULT_LOCALE)


@contextlib.contextmanager
def speaking(locale: str | None) -> Iterator[None]:
    """Within the block, sentences without an explicit locale are in `locale` (one turn of one person)."""
    token = _SPEAKING.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _SPEAKING.reset(token)


def switch_to(locale: str) -> None:
    """Inside a `speaking` block: speak `locale` from now on (the person chose it mid-turn)."""
    _SPEAKING.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def current_locale() -> str:
    return _SPEAKING.get()


def t(key: str, locale: str | None = None, **kwargs: Any) -> str:
    """The sentence for `key`, formatted with kwargs; `{office}` stays a placeholder for the service."""
    text = CATALOGS.text(key, locale or _SPEAKING.get())
    if text is None:
        raise KeyError(f"eligibility message {key!r} missing from locale/zh.po")
    kwargs.setdefault("office", _OFFICE.get() or CATALOGS.text("service.default_office", locale or _SPEAKING.get()) or "")
    return text.format(**kwargs)


@contextmanager
def office_named(name: str) -> Iterator[None]:
    """Sentences composed inside name `name` as the office that handles it."""
    token = _OFFICE.set(name)
    try:
        yield
    finally:
        _OFFICE.reset(token)


def has(key: str) -> bool:
    return CATALOGS.has(key)


def form_text(calculator: str, key: str, zh: str, locale: str | None = None) -> str:
    """A form text (`key` as "intro", "months.question", "layoffs.none") in `locale`: the catalog's
    `forms.<calculator>.<key>` translation, else `zh`, the form YAML's own text (the source)."""
    locale = locale or _SPEAKING.get()
    if locale == DEFAULT_LOCALE or not zh:
        return zh
    full = f"forms.{calculator}.{key}"
    return CATALOGS.text(full, locale) if CATALOGS.translated(full, locale) else zh


def label(calculator: str, field: str) -> str:
    """An input's label from the calculator's declaration ("见习人数")."""
    from .declarations import declaration

    return form_text(calculator, f"{field}.label", declaration(calculator).input(field).label)


def option_label(calculator: str, field: str, value: Any) -> str:
    """An option's name as results say it ("个人从事个体经营")."""
    from .declarations import declaration

    option = declaration(calculator).input(field).option(value)
    if option is None:
        return str(value)
    return form_text(calculator, f"{field}.{option.value}.short" if option.short else f"{field}.{option.value}",
                     option.name)


def money(value: float | int) -> str:
    """Yuan as a reply quotes them: 36000元, 28800.5元, and whole ten-thousands as 15万元."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") + "元"
    if value >= 10000 and value % 10000 == 0:
        return format_value("CNY", value)
    return f"{value}元"


def number(value: float | int) -> str:
    """A count or a number of years without a trailing .0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def percent(ratio: Fraction) -> str:
    """A share as a percentage, truncated (never rounded up to a threshold it does not reach)."""
    hundredths = math.floor(ratio * 10000)
    return number(hundredths / 100) + "%"


def plain_amount(value: Any) -> Any:
    """Whole yuan as int; otherwise at most two decimals (JSON-friendly)."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = float(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 2)
    return value


def listing(items: list[str], named: int = 2) -> str:
    """At most `named` items joined with 、, then 等标准."""
    return "、".join(items[:named]) + (t("common.and_more") if len(items) > named else "")


def day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"
