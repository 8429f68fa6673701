"""The common result contract of every calculator (docs/calculators.md "Common contract")."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


# exact: what is paid; max: a ceiling (a loan limit); monthly: paid per month, for a period the plan
# does not fix (docs/calculators.md)
AMOUNT_KINDS = ("exact", "max", "monthly", None)


@dataclass
class Result:
    calculator: str
    clause: str
    as_of: dt.date
    eligible: bool | None
    amount: int | float | None = None
    amount_kind: str | None = None
    amount_range: list[int | float] | None = None
    expired: bool = False
    reasons: list[str] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    title: str = ""
    would_change: list[str] = field(default_factory=list)   # what would change the outcome
    # the inputs each would_change sentence proposes (parallel to would_change): running the
    # calculator on the inputs with these changes gives the changed outcome (tests check it)
    would_change_inputs: list[dict[str, Any]] = field(default_factory=list)
    expired_notes: list[str] = field(default_factory=list)  # windows that do not cover as_of, said plainly
    notes: list[str] = field(default_factory=list)          # related facts (loan term, unpriced extras)
    inputs: dict[str, Any] = field(default_factory=dict)
    # For tests of the hints, not part of the JSON: the catalog key of each reason, and for each
    # would_change sentence the key of the failed condition it fixes.
    reason_keys: list[str] = field(default_factory=list, repr=False)
    fixes: list[str | None] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.amount_kind not in AMOUNT_KINDS:
            raise ValueError(f"amount_kind must be one of {AMOUNT_KINDS}")
        if self.amount_range is not None and self.amount is not None:
            raise ValueError("a range has no single amount")

    def finalize(self, contacts: list[dict[str, str]]) -> "Result":
        """Attach the lead office's directory cards."""
        self.contacts = contacts
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "calculator": self.calculator,
            "clause": self.clause,
            "as_of": self.as_of.isoformat(),
            "eligible": self.eligible,
            "amount": self.amount,
            "amount_kind": self.amount_kind,
            "amount_range": list(self.amount_range) if self.amount_range is not None else None,
            "expired": self.expired,
            "reasons": list(self.reasons),
            "contacts": [dict(c) for c in self.contacts],
            "title": self.title,
            "would_change": list(self.would_change),
            "would_change_inputs": [dict(c) for c in self.would_change_inputs],
            "expired_notes": list(self.expired_notes),
            "notes": list(self.notes),
            "inputs": dict(self.inputs),
        }
