"""Running a calculator: as_of, validation, the pure rule, then the lead office's contacts.

`evaluate` is what the CLI, the JSON API and the dialogues call. It takes the parameters
(file values with staff overrides, from the knowledge snapshot) and the snapshot for the
office directory, so a staff override changes every calculator at once.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from knowledge.parameters import Parameters
from knowledge.service import Snapshot

from .errors import InvalidInput
from .registry import REGISTRY, Calculator
from .result import Result
from .texts import office_named, t

DEFAULT_TZ = "Asia/Shanghai"


def today(settings: Mapping[str, Any] | None = None) -> dt.date:
    """Today in the county (Asia/Shanghai), or the pinned TODAY setting."""
    settings = settings or {}
    pinned = settings.get("TODAY")
    if pinned:
        return dt.date.fromisoformat(str(pinned))
    return dt.datetime.now(ZoneInfo(settings.get("TIMEZONE") or DEFAULT_TZ)).date()


def parse_as_of(payload: Any, default: dt.date) -> dt.date:
    if not isinstance(payload, Mapping) or payload.get("as_of") in (None, ""):
        return default
    raw = payload["as_of"]
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(t("errors.bad_as_of", value=raw), "as_of") from None


def parse_json(raw: str | bytes, field: str | None) -> Any:
    """The JSON text of a request or a --json option; InvalidInput (naming `field`) if it is not JSON.

    An empty text is None (the schema then asks for an object). Numbers of thousands of digits and
    nesting deeper than Python recurses are refused here as bad JSON, never a crash.
    """
    if not (raw.strip() if isinstance(raw, (str, bytes)) else raw):
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(t("errors.bad_json", detail=f"{exc.msg}（第{exc.pos + 1}个字符）"), field) from None
    except (ValueError, RecursionError):  # not UTF-8, a 5000-digit number, [[[[…]]]] nested too deep
        raise InvalidInput(t("errors.bad_json", detail=t("errors.json_unreadable")), field) from None


def evaluate(name: str, payload: Any, parameters: Parameters, default_day: dt.date,
             snapshot: Snapshot | None = None) -> Result:
    """Validate `payload` for calculator `name` and compute it at its as_of (default: default_day)."""
    calc: Calculator = REGISTRY.get(name)
    as_of = parse_as_of(payload, default_day)
    inputs = calc.schema.validate(payload)
    contacts = snapshot.lead_contacts(calc.clause) if snapshot is not None else []
    office = "、".join(c["office"] for c in contacts) or t("service.default_office")
    with office_named(office):
        result = calc.compute(inputs, parameters.at(as_of), as_of)
    return result.finalize(contacts)


def catalogue() -> list[dict[str, Any]]:
    """Every calculator with its JSON Schema (GET /api/v1/calculators, `python -m eligibility list`)."""
    return [calc.describe() for calc in REGISTRY]
