"""One declaration per calculator (eligibility/forms/<name>.yaml): everything about its inputs.

A declaration names the calculator's clause, title and keywords, the dialogue's opening line,
and its inputs in the order they are asked: type, label, bounds, default, whether required,
when it applies, and how a person is asked for it (question, options with their labels and
everyday words, what to say for an answer that cannot be used). From this one file come the
input validation and its JSON Schema (eligibility.schema), the dialogue (eligibility.dialogue),
the web form (built from the JSON Schema) and every label in results and errors — so a bound
or a label cannot disagree between them.

This module only reads data; it imports nothing of the package, so the registry, the schema and
the dialogue can all depend on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

FORMS_DIR = Path(__file__).resolve().parent / "forms"
INPUT_TYPES = ("int", "number", "choice", "bool", "date")
UNITS = ("people", "months", "years", "age", "yuan", "")


class DeclarationError(ValueError):
    """A declaration file that cannot describe a calculator (found when the package loads)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str                      # as offered in a question ("个人从事个体经营（个体户）")
    short: str = ""                 # as named in a result or an error ("个人从事个体经营"); default: label
    says: tuple[str, ...] = ()      # everyday words for it
    status: bool = False            # an official status: chosen only by number or one of `names`
    names: tuple[str, ...] = ()     # the status's own names (就业困难人员, 已认定)
    confirm: str = ""               # the question asked when loose words hint at this status
    otherwise: str = ""             # the option taken when the person says it was not recognised

    @property
    def name(self) -> str:
        return self.short or self.label


@dataclass(frozen=True)
class Input:
    """One input of a calculator, and how a dialogue asks for it."""

    name: str
    type: str                       # int | number | choice | bool | date
    label: str                      # "见习人数"
    question: str
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_from: str | None = None     # another input's answer is the upper bound (留用 ≤ 见习)
    unit: str = ""                  # people | months | years | age | yuan: lets "一年" answer a months input
    when: Mapping[str, Any] = field(default_factory=dict)  # applies (and is asked) only after these answers
    when_window: str | None = None  # asked only while this window of the plan covers today
    describe: str = ""              # a hint for API clients and the web form
    options: tuple[Option, ...] = ()
    invalid: str = ""
    too_small: str = ""
    too_large: str = ""
    yes_label: str = ""
    no_label: str = ""
    yes_words: tuple[str, ...] = ()
    no_words: tuple[str, ...] = ()
    prefill: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cues: tuple[str, ...] = ()
    loose: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # option value -> descriptive words

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "number")

    def option(self, value: Any) -> Option | None:
        return next((o for o in self.options if o.value == str(value)), None)

    def applies_to(self, values: Mapping[str, Any]) -> bool:
        """Whether the input applies given earlier answers (a `when` value may be a list)."""
        for name, wanted in self.when.items():
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if name not in values or values[name] not in allowed:
                return False
        return True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Input":
        options = tuple(Option(str(o["value"]), str(o.get("label") or o["value"]), str(o.get("short") or ""),
                               tuple(str(w) for w in o.get("says") or ()), bool(o.get("status")),
                               tuple(str(w) for w in o.get("names") or ()), str(o.get("confirm") or ""),
                               str(o.get("otherwise") or ""))
                        for o in data.get("options") or ())
        return cls(
            name=data["name"], type=data["type"], label=str(data.get("label") or data["name"]),
            question=data.get("question", ""), required=bool(data.get("required", True)),
            default=data.get("default"), minimum=data.get("min"), maximum=data.get("max"),
            max_from=data.get("max_from"), unit=data.get("unit", ""), when=dict(data.get("when") or {}),
            when_window=data.get("when_window"), describe=str(data.get("describe") or ""), options=options,
            invalid=data.get("invalid", ""), too_small=data.get("too_small", ""), too_large=data.get("too_large", ""),
            yes_label=data.get("yes_label", ""), no_label=data.get("no_label", ""),
            yes_words=tuple(data.get("yes_words") or ()), no_words=tuple(data.get("no_words") or ()),
            prefill={str(k).lower(): tuple(v) for k, v in (data.get("prefill") or {}).items()},
            cues=tuple(str(w) for w in data.get("cues") or ()),
            loose={str(k): tuple(str(w) for w in v) for k, v in (data.get("loose") or {}).items()},
        )


@dataclass(frozen=True)
class Declaration:
    calculator: str
    clause: str
    title: str
    intro: str
    keywords: tuple[str, ...]
    inputs: tuple[Input, ...]
    window: str | None = None      # the window the plan gives the measure's figures for (said when it has ended)

    @property
    def by_name(self) -> dict[str, Input]:
        return {i.name: i for i in self.inputs}

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Declaration":
        decl = cls(calculator=data["calculator"], clause=str(data["clause"]), title=str(data["title"]),
                   intro=data.get("intro", ""), keywords=tuple(data.get("keywords") or ()),
                   inputs=tuple(Input.from_mapping(s) for s in data["slots"]), window=data.get("window"))
        decl.check()
        return decl

    def check(self) -> None:
        """Types and units known, every dependency on an earlier input, status options complete."""
        seen: set[str] = set()
        for i in self.inputs:
            where = f"{self.calculator}.{i.name}"
            if i.type not in INPUT_TYPES:
                raise DeclarationError(f"{where}: type must be one of {INPUT_TYPES}")
            if i.unit not in UNITS:
                raise DeclarationError(f"{where}: unknown unit {i.unit!r}")
            if i.type == "choice" and not i.options:
                raise DeclarationError(f"{where}: a choice needs options")
            for name in list(i.when) + ([i.max_from] if i.max_from else []):
                if name not in seen:
                    raise DeclarationError(f"{where} depends on a later input {name}")
            for value in i.loose:
                option = i.option(value)
                if option is None or not option.status or not option.confirm or not i.option(option.otherwise):
                    raise DeclarationError(f"{where}: loose words for {value!r} need a status option with "
                                           "`confirm` and an `otherwise` option")
            seen.add(i.name)


@lru_cache(maxsize=1)
def declarations() -> dict[str, Declaration]:
    """Every declaration by calculator name (file order)."""
    found: dict[str, Declaration] = {}
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            decl = Declaration.from_mapping(yaml.safe_load(fh))
        found[decl.calculator] = decl
    return found


def declaration(name: str) -> Declaration:
    try:
        return declarations()[name]
    except KeyError:
        raise DeclarationError(f"no declaration eligibility/forms/{name}.yaml") from None
