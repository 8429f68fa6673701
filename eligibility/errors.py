"""The eligibility package's exceptions: one base with a code, a message and the field at fault.

Mapped once, at the edge: the CLI prints `{"error", "field"}` and exits 2, the API answers 400
(or 404 for an unknown calculator). A dialogue never raises at a person: it explains and asks again.
"""
from __future__ import annotations


class EligibilityError(Exception):
    """Base error: `code` for programs, `message` (Chinese) for people, `field` at fault or None."""

    code = "eligibility_error"

    def __init__(self, message: str, field: str | None = None, plain: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field
        self.plain = plain or message  # for a person filling in a form: no field codes

    def to_dict(self) -> dict[str, str | None]:
        return {"error": self.message, "field": self.field}


class InvalidInput(EligibilityError):
    """An input the calculator cannot use: missing, wrong type, out of range, unknown option or field."""

    code = "invalid_input"


class UnknownCalculator(EligibilityError):
    """No calculator of that name is registered."""

    code = "unknown_calculator"
