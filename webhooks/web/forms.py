"""Calculator forms generated from a calculator's input JSON Schema, and the form's answers
turned back into the JSON object the calculator validates.

Schema → field: an enum becomes a row of choices (labels from `x-labels`), a boolean 是/否,
an integer or number a numeric input with its bounds, a date a date input (kept under "more
options"). `allOf: [{if: {properties: {f: {const: v}}}, then: {required: [...]}}]` marks fields
that only apply when f is v; the page script shows them then, and the server accepts them always.
Validation itself stays with the calculator: a value that does not parse is passed on as typed,
so the calculator's own message names the field.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping

BOOL_LABELS = (("true", "是"), ("false", "否"))
SKIP_LABEL = "不填"


@dataclass
class FormField:
    name: str
    title: str
    kind: str                       # number | choice | date
    required: bool                  # always required
    hint: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: str = "1"
    inputmode: str = "numeric"
    options: list[tuple[str, str]] = field(default_factory=list)
    when: dict[str, str] = field(default_factory=dict)  # required (and shown) only when these answers are given
    value: str = ""
    error: str = ""

    @property
    def advanced(self) -> bool:
        return self.kind == "date"

    @property
    def when_json(self) -> str:
        return json.dumps(self.when, ensure_ascii=False) if self.when else ""


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conditions(schema: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Field name → the answers that make it required, read from allOf if/then."""
    out: dict[str, dict[str, str]] = {}
    for rule in schema.get("allOf") or []:
        props = ((rule.get("if") or {}).get("properties") or {})
        cond = {k: _as_text(v["const"]) for k, v in props.items() if isinstance(v, Mapping) and "const" in v}
        if not cond:
            continue
        for name in ((rule.get("then") or {}).get("required") or []):
            out.setdefault(name, {}).update(cond)
    return out


def form_fields(schema: Mapping[str, Any], values: Mapping[str, str] | None = None,
                error: Mapping[str, Any] | None = None) -> list[FormField]:
    """The fields of a calculator form, in schema order, filled with the submitted `values` (None: the
    schema's defaults) and the error of one field."""
    required = set(schema.get("required") or [])
    conditions = _conditions(schema)
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        f = FormField(name=name, title=prop.get("title") or name, kind="number", required=name in required,
                      hint=prop.get("description", ""), when=conditions.get(name, {}))
        if "enum" in prop:
            labels = prop.get("x-labels") or {}
            f.kind = "choice"
            f.options = [(_as_text(v), labels.get(v, str(v))) for v in prop["enum"]]
        elif kind == "boolean":
            f.kind = "choice"
            f.options = list(BOOL_LABELS)
        elif kind == "string" and prop.get("format") == "date":
            f.kind = "date"
        elif kind in ("integer", "number"):
            f.minimum, f.maximum = prop.get("minimum"), prop.get("maximum")
            if kind == "number":
                f.step, f.inputmode = "any", "decimal"
        else:
            f.kind = "text"
        if f.kind == "choice" and not f.required and not f.when and "default" not in prop:
            f.options.append(("", SKIP_LABEL))  # an optional choice can be taken back
        f.value = _as_text(prop.get("default")) if values is None else str(values.get(name, ""))
        if error and error.get("field") == name:
            f.error = str(error.get("plain") or error.get("error") or "")  # the calculator's words for a person
        fields.append(f)
    return fields


def _number(raw: str, integer: bool) -> Any:
    text = unicodedata.normalize("NFKC", raw).strip().replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return raw  # the calculator says what is wrong, naming the field
    if integer or value.is_integer():
        return int(value) if value.is_integer() else value
    return value


def payload_from_form(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON object for the calculator: typed values, empty answers left out."""
    payload: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        raw = (form.get(name) or "").strip()
        if raw == "":
            continue
        kind = prop.get("type")
        if "enum" in prop:
            payload[name] = raw
        elif kind == "boolean":
            payload[name] = {"true": True, "false": False}.get(raw, raw)
        elif kind in ("integer", "number"):
            payload[name] = _number(raw, kind == "integer")
        else:
            payload[name] = raw
    return payload
