"""The eligibility package's Chinese sentences (eligibility/messages/<locale>.yaml).

Reasons, error messages, field and option labels all come from the catalog, so the
wording can be edited without touching a rule. `eligibility` never imports `bot`
(ARCHITECTURE.md), hence its own small catalog beside bot's.
"""
from __future__ import annotations

import datetime as dt
import math
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml

from knowledge.parameters import format_value

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
# The lead office's name, for the sentences of the calculation being run: set by the service,
# which knows the office directory, around the pure rule (so a rule never needs the directory).
_OFFICE: ContextVar[str] = ContextVar("eligibility_office", default="")


@lru_cache(maxsize=None)
def _catalog(locale: str) -> dict[str, str]:
    path = MESSAGES_DIR / f"{locale}.yaml"
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        else:
            flat[prefix] = str(node)

    walk("", data)
    return flat


def t(key: str, **kwargs: Any) -> str:
    """The sentence for `key`, formatted with kwargs; `{office}` stays a placeholder for the service."""
    text = _catalog("zh").get(key)
    if text is None:
        raise KeyError(f"eligibility message {key!r} missing from messages/zh.yaml")
    kwargs.setdefault("office", _OFFICE.get() or _catalog("zh").get("service.default_office", ""))
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
    return key in _catalog("zh")


def label(calculator: str, field: str) -> str:
    """An input's label from the calculator's declaration ("见习人数")."""
    from .declarations import declaration

    return declaration(calculator).input(field).label


def option_label(calculator: str, field: str, value: Any) -> str:
    """An option's name as results say it ("个人从事个体经营")."""
    from .declarations import declaration

    option = declaration(calculator).input(field).option(value)
    return option.name if option is not None else str(value)


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
