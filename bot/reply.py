"""The channel-neutral message in and reply out (the reply contract of ARCHITECTURE.md)."""
from __future__ import annotations

from copy import deepcopy
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any

KINDS = ("answer", "flow", "contacts", "menu", "smalltalk", "fallback")


def _copied(value: Any) -> Any:
    """A copy of a JSON-like value as asdict makes it (new lists and dicts, leaves deep-copied)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {_copied(k): _copied(v) for k, v in value.items()}
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else deepcopy(value)


@dataclass
class Incoming:
    """One message from a person. `text` for what they typed or said; `event` for clicks
    and subscriptions (e.g. "subscribe", "menu:POLICY")."""

    user: str
    text: str = ""
    event: str | None = None
    locale: str | None = None
    channel: str = "api"  # api | web | wechat | cli
    message_id: str | None = None  # the client's id for this message: a retry gets the same reply


@dataclass
class Reply:
    reply: str
    kind: str
    clause: str | None = None
    faq_id: str | None = None
    score: float | None = None
    options: list[dict[str, str]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    locale: str = "zh"
    extra: dict[str, Any] = field(default_factory=dict)  # channel hints (e.g. a calculator result), not in the contract
    # What each numbered option does (bot.actions), in option order; kept in the conversation
    # state so that the person's next number performs it. Not part of the reply contract.
    actions: list[Any] = field(default_factory=list, repr=False)
    # What happened in the turn that produced this reply, for the channels' counters (webhooks.metrics):
    # ("dialogue_started" | "dialogue_completed", calculator). Never stored, not in the contract:
    # a retried message gets its stored reply without events, so nothing is counted twice.
    events: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown reply kind {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        # What dataclasses.asdict gave, without its deep walk of `extra` and `actions` (dropped
        # here anyway): every reply is turned into a dict twice (the answer, the stored copy).
        data = {name: _copied(getattr(self, name)) for name in _CONTRACT_FIELDS}
        if self.score is not None:
            data["score"] = round(float(self.score), 3)
        if self.extra.get("result") is not None:
            data["result"] = self.extra["result"]
        return data

    def stored(self) -> dict[str, Any]:
        """What the conversation keeps of this reply (to repeat it, or answer a retried message)."""
        data = self.to_dict()
        data["extra"] = {k: v for k, v in self.extra.items() if k in ("result", "dialogue")}
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> "Reply":
        known = {"reply", "kind", "clause", "faq_id", "score", "options", "contacts", "links", "locale", "extra"}
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_text(self) -> str:
        """Plain text for chat channels: the reply, then numbered options, contacts, links."""
        lines = [self.reply]
        if self.options:
            lines.append("")
            lines.extend(f"{o['key']}. {o['label']}" for o in self.options)
        return "\n".join(lines)


# The reply contract's fields, in declaration order (as asdict listed them).
_CONTRACT_FIELDS = tuple(f.name for f in fields(Reply) if f.name not in ("extra", "actions", "events"))
