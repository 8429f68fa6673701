"""Calculator inputs as validated data: errors that name the field, and JSON Schema.

The fields come from the calculator's declaration (eligibility/declarations.py): a `Field`
says what one input is (integer, number, boolean, choice), its label, bounds and options,
whether it is required, and `when` it applies (e.g. only for small businesses). `InputSchema`
validates a JSON object against the fields — unknown fields, missing ones, wrong types (true is
not a number), negatives, unknown options, an input above the one bounding it (留用 ≤ 见习) —
and emits the same description as JSON Schema for `GET /api/v1/calculators` and the web form.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .declarations import Declaration
from .errors import InvalidInput
from .texts import has, number, t

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
    label: str = ""
    describe: str = ""
    option_labels: Mapping[str, str] = field(default_factory=dict)
    max_from: str | None = None  # another field whose value bounds this one

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: type must be one of {TYPES}")
        if self.type == "choice" and not self.options:
            raise ValueError(f"{self.name}: a choice needs options")

    def applies(self, values: Mapping[str, Any]) -> bool:
        for k, v in self.when.items():
            allowed = v if isinstance(v, list) else [v]
            if k not in values or values[k] not in allowed:
                return False
        return True


FIELD_TYPES = {"int": "integer", "number": "number", "choice": "choice", "bool": "boolean"}


def fields_of(decl: Declaration) -> list[Field]:
    """The validated fields of a declaration (its dates and dialogue-only details left out)."""
    return [Field(i.name, FIELD_TYPES[i.type], required=i.required, minimum=i.minimum, maximum=i.maximum,
                  options=tuple(o.value for o in i.options), default=i.default, when=dict(i.when), label=i.label,
                  describe=i.describe, option_labels={o.value: o.name for o in i.options}, max_from=i.max_from)
            for i in decl.inputs if i.type in FIELD_TYPES]


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
        f = self.by_name.get(name)
        return (f.label if f is not None else "") or name

    def option_label(self, name: str, value: Any) -> str:
        f = self.by_name.get(name)
        return (f.option_labels.get(str(value)) if f is not None else None) or str(value)

    def allowed(self, f: Field, plain: bool = False) -> str:
        """What a field accepts, in words: 不小于1的整数, primary（初级）/ intermediate（中级）……
        (`plain`: for a person, the option names without their codes)"""
        if f.type == "choice":
            return t("schema.allowed_choice", options="、".join(
                self.option_label(f.name, v) if plain else f"{v}（{self.option_label(f.name, v)}）"
                for v in f.options))
        if f.type == "boolean":
            return t("schema.allowed_boolean")
        kind = t("schema.integer") if f.type == "integer" else t("schema.number")
        if f.minimum is not None and f.maximum is not None:
            return t("schema.allowed_between", kind=kind, minimum=number(f.minimum), maximum=number(f.maximum))
        if f.minimum is not None:
            return t("schema.allowed_min", kind=kind, minimum=number(f.minimum))
        return kind

    def error(self, f: Field, key: str, **kw: Any) -> InvalidInput:
        words = dict(field=f.name, label=self.label(f.name), allowed=self.allowed(f, plain=False), **kw)
        plain_key = key.replace("schema.", "schema.people.", 1)
        plain = t(plain_key, **dict(words, allowed=self.allowed(f, plain=True))) if has(plain_key) else ""
        return InvalidInput(t(key, **words), f.name, plain)

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
            if f.max_from and f.max_from in values and values[f.name] > values[f.max_from]:
                other = self.by_name[f.max_from]
                words = dict(field=f.name, label=self.label(f.name), got=number(values[f.name]), other=other.name,
                             other_label=self.label(other.name), maximum=number(values[other.name]))
                raise InvalidInput(t("schema.above_other", **words), f.name, t("schema.people.above_other", **words))
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
            # far past any real form (a slip of the keyboard): say so rather than quote the bound
            key = "schema.implausible" if value > f.maximum * 1000 else "schema.too_large"
            raise self.error(f, key, got=_short(value))
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
                            **{"x-labels": {v: self.option_label(f.name, v) for v in f.options}})
            elif f.type == "boolean":
                prop["type"] = "boolean"
            else:
                prop["type"] = f.type
                if f.minimum is not None:
                    prop["minimum"] = f.minimum
                prop["maximum"] = f.maximum if f.maximum is not None else PLAUSIBLE_MAX
            if f.default is not None:
                prop["default"] = f.default
            if f.describe:
                prop["description"] = f.describe
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
