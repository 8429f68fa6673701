"""The calculator registry: name → Calculator, with an explicit error for an unknown name.

A calculator is registered with the `calculator` decorator on its pure compute function
`(inputs, view, as_of) -> Result`; the docstring states the rule and cites the clause.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from knowledge.parameters import ParameterView

from .errors import UnknownCalculator
from .result import Result
from .declarations import Declaration, declaration
from .schema import InputSchema, fields_of
from .texts import form_text, t

Compute = Callable[[dict[str, Any], ParameterView, dt.date], Result]


@dataclass(frozen=True)
class Calculator:
    name: str
    clause: str
    schema: InputSchema
    compute: Compute
    doc: str = ""
    parameters: tuple[str, ...] = field(default_factory=tuple)  # figures it reads (for staff and tests)

    @property
    def title(self) -> str:
        return form_text(self.name, "title", declaration(self.name).title)

    @property
    def declaration(self) -> Declaration:
        return declaration(self.name)

    def describe(self) -> dict[str, Any]:
        """The entry of `GET /api/v1/calculators` and `python -m eligibility list`."""
        return {"name": self.name, "title": self.title, "clause": self.clause,
                "url": f"/calc/{self.name}", "parameters": list(self.parameters),
                "input_schema": self.schema.json_schema(self.title)}


class Registry:
    def __init__(self) -> None:
        self._items: dict[str, Calculator] = {}

    def register(self, calc: Calculator) -> Calculator:
        if calc.name in self._items:
            raise ValueError(f"calculator {calc.name!r} registered twice")
        self._items[calc.name] = calc
        return calc

    def get(self, name: str) -> Calculator:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise UnknownCalculator(t("errors.unknown_calculator", name=name, names="、".join(self._items)),
                                    "name") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Calculator]:
        return iter(self._items.values())

    def names(self) -> list[str]:
        return list(self._items)

    def for_clause(self, clause: str) -> list[Calculator]:
        return [c for c in self._items.values() if c.clause == clause]


REGISTRY = Registry()


def calculator(name: str, checks: Sequence[Callable[[dict[str, Any]], None]] = (),
               parameters: Sequence[str] = ()) -> Callable[[Compute], Compute]:
    """Register `compute` as the calculator `name`; its clause, title and inputs are its
    declaration (eligibility/forms/<name>.yaml), `checks` cross-field rules beyond the bounds."""
    def wrap(compute: Compute) -> Compute:
        decl = declaration(name)
        REGISTRY.register(Calculator(name, decl.clause, InputSchema(name, fields_of(decl), checks), compute,
                                     (compute.__doc__ or "").strip(), tuple(parameters)))
        return compute

    return wrap
