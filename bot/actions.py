"""Typed actions behind numbered options, with a registry for storing them as JSON.

A reply that offers numbered options carries one action per option; the conversation keeps
them (as {"key": "1", "type": ..., fields}) so that the person's next number performs the
action. The router performs each type with one handler (bot.router). Types written by older
versions ("calc_menu", the stored shape itself) still load.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

ACTIONS: dict[str, type["Action"]] = {}


@dataclass(frozen=True)
class Action:
    kind: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, **asdict(self)}


def action(cls: type[Action]) -> type[Action]:
    """Register an action type under its kind (and old names)."""
    for name in (cls.kind, *cls.aliases):
        if name in ACTIONS:
            raise ValueError(f"action type {name!r} registered twice")
        ACTIONS[name] = cls
    return cls


def from_json(data: Any) -> Action | None:
    """The action stored as `data`, or None for anything unknown or malformed."""
    if not isinstance(data, dict):
        return None
    cls = ACTIONS.get(str(data.get("type")))
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: str(v) for k, v in data.items() if k in names})
    except TypeError:
        return None


@action
@dataclass(frozen=True)
class ShowMenu(Action):
    kind = "menu"


@action
@dataclass(frozen=True)
class ShowTheme(Action):
    kind = "theme"
    id: str


@action
@dataclass(frozen=True)
class ShowFaq(Action):
    kind = "faq"
    id: str


@action
@dataclass(frozen=True)
class ShowClause(Action):
    kind = "clause"
    id: str


@action
@dataclass(frozen=True)
class ListCalculators(Action):
    kind = "calc_list"
    aliases = ("calc_menu",)


@action
@dataclass(frozen=True)
class StartCalculator(Action):
    kind = "calc"
    name: str


@action
@dataclass(frozen=True)
class ResumeDialogue(Action):
    kind = "resume"
    name: str = ""   # a suspended dialogue by calculator name; "" = the open one


@action
@dataclass(frozen=True)
class ExitDialogue(Action):
    kind = "exit"


@action
@dataclass(frozen=True)
class ShowContacts(Action):
    kind = "contacts"
    clause: str = ""


@action
@dataclass(frozen=True)
class RequestCallback(Action):
    kind = "callback"
    clause: str = ""


@action
@dataclass(frozen=True)
class SetLanguage(Action):
    kind = "language"
    locale: str = "zh"


@action
@dataclass(frozen=True)
class ListPersonas(Action):
    kind = "personas"


@action
@dataclass(frozen=True)
class ShowPersona(Action):
    kind = "persona"
    id: str
