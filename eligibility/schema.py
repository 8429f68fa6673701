"""Calculator inputs declared once: validation with errors that name the field, and JSON Schema.

A `Field` says what one input is (integer, number, boolean, choice), its bounds and options,
whether it is required, and `when` it applies (e.g. only for small businesses). `InputSchema`
validates a JSON object against the fields — unknown fields, missing ones, wrong types (true is
not a number), negatives, unknown options — and emits the same description as JSON Schema for
`GET /api/v1/calculators` and the web form.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .errors import InvalidInput
from .texts import has, label, number, option_label, t

TYPES = ("integer", "number", "boolean", "choice")
RESERVED = ("as_of",)  # accepted by every calculator, handled by the service
# A sanity ceiling for counts, months and yuan without a maximum of their own: no county form comes
# near it, and past it the arithmetic would only print figures with hundreds of digits (or overflow).
PLAUSIBLE_MAX = 10**12


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[str, ...] = ()
    default: Any = None
    when: Mapping[str, Any] = field(default_factory=dict)  # applies only when earlier fields have these values

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: type must be one of {TYPES}")
        if self.type == "choice" and not self.options:
            raise ValueError(f"{self.name}: a choice needs options")

    def applies(self, values: Mapping[str, Any]) -> bool:
        return all(values.get(k) == v for k, v in self.when.items())


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return t("schema.got_string", value=value[:20])
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return t("schema.got_not_finite", value=value)
        return t("schema.got_decimal", value=_short(value))
    if isinstance(value, (list, tuple)):
        return t("schema.got_list")
    if isinstance(value, dict):
        return t("schema.got_object")
    return str(value)


def _short(value: int | float) -> str:
    """A huge number as people can read it in a message (1e+308, not 309 digits)."""
    if isinstance(value, int) and abs(value) >= 10**15:
        # An int past a float's range (309+ digits) cannot go through "{:g}": write it from its digits.
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"
    return f"{value:.3g}" if abs(value) >= 1e15 else number(value)


class InputSchema:
    """The inputs of one calculator; `checks` are cross-field rules run after the fields."""

    def __init__(self, calculator: str, fields: Sequence[Field],
                 checks: Sequence[Callable[[dict[str, Any]], None]] = ()):
        self.calculator = calculator
        self.fields = list(fields)
        self.by_name = {f.name: f for f in self.fields}
        self.checks = list(checks)

    # -- descriptions -----------------------------------------------------------------------
    def label(self, name: str) -> str:
        return label(self.calculator, name)

    def allowed(self, f: Field) -> str:
        """What a field accepts, in words: 不小于1的整数, primary（初级）/ intermediate（中级）……"""
        if f.type == "choice":
            return t("schema.allowed_choice", options="、".join(
                f"{v}（{option_label(self.calculator, f.name, v)}）" for v in f.options))
        if f.type == "boolean":
            return t("schema.allowed_boolean")
        kind = t("schema.integer") if f.type == "integer" else t("schema.number")
        if f.minimum is not None and f.maximum is not None:
            return t("schema.allowed_between", kind=kind, minimum=number(f.minimum), maximum=number(f.maximum))
        if f.minimum is not None:
            return t("schema.allowed_min", kind=kind, minimum=number(f.minimum))
        return kind

    def error(self, f: Field, key: str, **kw: Any) -> InvalidInput:
        return InvalidInput(t(key, field=f.name, label=self.label(f.name), allowed=self.allowed(f), **kw), f.name)

    # -- validation -------------------------------------------------------------------------
    def validate(self, payload: Any) -> dict[str, Any]:
        """The inputs, checked and with defaults filled in; only fields that apply are kept."""
        if not isinstance(payload, Mapping):
            raise InvalidInput(t("schema.not_object", example=self.example()), None)
        known = set(self.by_name) | set(RESERVED)
        for name in payload:
            if name not in known:
                raise InvalidInput(t("schema.unknown_field", field=name,
                                     allowed="、".join(f.name for f in self.fields)), str(name))
        values: dict[str, Any] = {}
        for f in self.fields:
            if not f.applies(values):
                continue
            if name_missing(payload, f.name):
                if f.required:
                    raise self.error(f, "schema.missing")
                if f.default is not None:
                    values[f.name] = f.default
                continue
            values[f.name] = self.check(f, payload[f.name])
        for check in self.checks:
            check(values)
        return values

    def check(self, f: Field, value: Any) -> Any:
        if f.type == "boolean":
            if not isinstance(value, bool):
                raise self.error(f, "schema.wrong_type", got=_got(value))
            return value
        if f.type == "choice":
            if not isinstance(value, str) or value not in f.options:
                raise self.error(f, "schema.unknown_option", got=_got(value))
            return value
        if isinstance(value, bool):
            raise self.error(f, "schema.bool_not_number")
        if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
            raise self.error(f, "schema.wrong_type", got=_got(value))
        if f.maximum is None and value > PLAUSIBLE_MAX:  # checked before any arithmetic
            raise self.error(f, "schema.implausible", got=_short(value))
        if f.type == "integer":
            if isinstance(value, float):
                if not value.is_integer():
                    raise self.error(f, "schema.wrong_type", got=_got(value))
                value = int(value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if f.minimum is not None and value < f.minimum:
            key = "schema.negative" if value < 0 <= f.minimum else "schema.too_small"
            raise self.error(f, key, got=_short(value))
        if f.maximum is not None and value > f.maximum:
            raise self.error(f, "schema.too_large", got=_short(value))
        return value

    def example(self) -> str:
        sample: dict[str, Any] = {}
        for f in self.fields:
            if f.when or not f.required:
                continue
            sample[f.name] = (f.options[0] if f.type == "choice" else True if f.type == "boolean"
                              else int(f.minimum or 0) + 1)
        return json.dumps(sample, ensure_ascii=False)

    # -- JSON Schema --------------------------------------------------------------------------
    def json_schema(self, title: str = "") -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in self.fields:
            prop: dict[str, Any] = {"title": self.label(f.name)}
            if f.type == "choice":
                prop.update(type="string", enum=list(f.options),
                            **{"x-labels": {v: option_label(self.calculator, f.name, v) for v in f.options}})
            elif f.type == "boolean":
                prop["type"] = "boolean"
            else:
                prop["type"] = f.type
                if f.minimum is not None:
                    prop["minimum"] = f.minimum
                prop["maximum"] = f.maximum if f.maximum is not None else PLAUSIBLE_MAX
            if f.default is not None:
                prop["default"] = f.default
            if has(f"describe.{self.calculator}.{f.name}"):
                prop["description"] = t(f"describe.{self.calculator}.{f.name}")
            props[f.name] = prop
        props["as_of"] = {"type": "string", "format": "date", "title": t("schema.as_of_title"),
                          "description": t("schema.as_of_description")}
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "title": title,
            "properties": props,
            "required": [f.name for f in self.fields if f.required and not f.when],
            "additionalProperties": False,
        }
        conditional: dict[tuple, list[str]] = {}
        for f in self.fields:
            if f.when and f.required:
                conditional.setdefault(tuple(sorted(f.when.items())), []).append(f.name)
        if conditional:
            schema["allOf"] = [
                {"if": {"properties": {k: {"const": v} for k, v in cond}, "required": [k for k, _ in cond]},
                 "then": {"required": names}}
                for cond, names in conditional.items()
            ]
        return schema


def name_missing(payload: Mapping[str, Any], name: str) -> bool:
    return name not in payload or payload[name] is None
