"""Eligibility: the plan's subsidy rules as pure functions over dated figures, and guided dialogues.

- `REGISTRY` — the ten calculators (eligibility/rules.py), each with clause, title, input schema
  and a pure `compute(inputs, view, as_of) -> Result` (docs/calculators.md).
- `evaluate(name, payload, parameters, default_day, snapshot)` — validate, compute, attach contacts.
- `eligibility.dialogue` — forms declared as data (eligibility/forms/*.yaml) and their runner.

Imports only `knowledge`; never Flask or `bot`.
"""
from __future__ import annotations

from . import rules  # noqa: F401  (registers the calculators)
from .errors import EligibilityError, InvalidInput, UnknownCalculator
from .registry import REGISTRY, Calculator
from .result import Result
from .service import catalogue, evaluate, parse_as_of, today

__all__ = ["REGISTRY", "Calculator", "Result", "EligibilityError", "InvalidInput", "UnknownCalculator",
           "evaluate", "catalogue", "parse_as_of", "today"]
