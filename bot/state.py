"""One person's conversation state: a JSON dict in the `conversations` row, read through a typed view.

Keys (all optional, so a state written by an older version still loads and resumes):
  turn          messages handled so far (topic memory is bounded in turns)
  offered       numbered options of the last reply: [{"key": "1", "type": ..., ...action fields}]
  dialogue      the open eligibility dialogue (eligibility.dialogue state)
  suspended     dialogues left by a switch, resumable by name: {calculator: dialogue state}
  topic         what the conversation is about now: {"clause", "faq", "calculator", "office", "turn", "at"}
  confirm       a yes/no the last reply asked outside a dialogue ("resume": 继续刚才的测算吗？)
  last          the last reply, for "再说一遍" and for a retried message id: {"id", "reply"}
  misses        messages in a row that got no confident answer (twice → say so, offer a person)
  last_calculator  the calculator of the last finished dialogue (重新开始 after a result)
  aside         a small engine-owned form in progress (the callback request)
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any

TOPIC_TURNS = 8          # a topic is forgotten after this many messages about something else
TOPIC_HOURS = 2.0        # ... or after this long


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def _parse(stamp: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (what the state is: it comes from and goes to a JSON
    column), several times faster than copy.deepcopy; anything else is deep-copied as before."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


class ConversationState:
    """A typed view over the stored JSON (a deep copy: nothing changes until the turn commits)."""

    def __init__(self, data: dict[str, Any] | None, now: dt.datetime):
        self.data: dict[str, Any] = _json_copy(data) if isinstance(data, dict) else {}
        self.now = now
        # Shapes written by older versions: "offered" entries without "type", a non-dict dialogue.
        if not isinstance(self.data.get("offered"), list):
            self.data.pop("offered", None)
        if not isinstance(self.data.get("dialogue"), dict):
            self.data.pop("dialogue", None)
        if not isinstance(self.data.get("suspended"), dict):
            self.data.pop("suspended", None)

    # -- turns ------------------------------------------------------------------------------
    @property
    def turn(self) -> int:
        try:
            return int(self.data.get("turn") or 0)
        except (TypeError, ValueError):
            return 0

    def next_turn(self) -> None:
        self.data["turn"] = self.turn + 1

    # -- offered choices ----------------------------------------------------------------------
    @property
    def offered(self) -> list[dict[str, Any]]:
        return [o for o in self.data.get("offered") or [] if isinstance(o, dict)]

    def offer(self, entries: list[dict[str, Any]]) -> None:
        if entries:
            self.data["offered"] = entries
        else:
            self.data.pop("offered", None)

    def clear_offer(self) -> None:
        self.data.pop("offered", None)

    # -- dialogues ----------------------------------------------------------------------------
    @property
    def dialogue(self) -> dict[str, Any] | None:
        value = self.data.get("dialogue")
        return value if isinstance(value, dict) else None

    def set_dialogue(self, state: dict[str, Any] | None) -> None:
        if state is None:
            self.data.pop("dialogue", None)
        else:
            self.data["dialogue"] = copy.deepcopy(state)
            self.data.pop("confirm", None)

    @property
    def suspended(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in (self.data.get("suspended") or {}).items() if isinstance(v, dict)}

    def suspend(self, name: str, state: dict[str, Any]) -> None:
        suspended = self.suspended
        suspended[name] = copy.deepcopy(state)
        self.data["suspended"] = suspended

    def take_suspended(self, name: str) -> dict[str, Any] | None:
        suspended = self.suspended
        state = suspended.pop(name, None)
        if suspended:
            self.data["suspended"] = suspended
        else:
            self.data.pop("suspended", None)
        return state

    @property
    def last_calculator(self) -> str | None:
        value = self.data.get("last_calculator")
        return value if isinstance(value, str) else None

    def finished(self, calculator: str) -> None:
        self.data["last_calculator"] = calculator

    # -- topic memory ---------------------------------------------------------------------------
    def set_topic(self, clause: str | None = None, faq: str | None = None, calculator: str | None = None,
                  office: str | None = None) -> None:
        if not (clause or calculator or office):
            return
        self.data["topic"] = {"clause": clause, "faq": faq, "calculator": calculator, "office": office,
                              "turn": self.turn, "at": _iso(self.now)}

    @property
    def topic(self) -> dict[str, Any] | None:
        """The current topic, while it is fresh (bounded in turns and time)."""
        topic = self.data.get("topic")
        if not isinstance(topic, dict):
            return None
        at = _parse(topic.get("at"))
        try:
            age_turns = self.turn - int(topic.get("turn") or 0)
        except (TypeError, ValueError):
            return None
        if at is None or age_turns > TOPIC_TURNS or self.now - at > dt.timedelta(hours=TOPIC_HOURS):
            return None
        return topic

    def touch_topic(self) -> None:
        """A follow-up read in the topic keeps it alive."""
        topic = self.data.get("topic")
        if isinstance(topic, dict):
            topic["turn"], topic["at"] = self.turn, _iso(self.now)

    # -- small flags ------------------------------------------------------------------------------
    @property
    def confirm(self) -> str | None:
        value = self.data.get("confirm")
        return value if isinstance(value, str) else None

    def ask_confirm(self, what: str | None) -> None:
        if what:
            self.data["confirm"] = what
        else:
            self.data.pop("confirm", None)

    @property
    def misses(self) -> int:
        try:
            return int(self.data.get("misses") or 0)
        except (TypeError, ValueError):
            return 0

    def missed(self, yes: bool) -> None:
        if yes:
            self.data["misses"] = self.misses + 1
        else:
            self.data.pop("misses", None)

    @property
    def aside(self) -> dict[str, Any] | None:
        value = self.data.get("aside")
        return value if isinstance(value, dict) else None

    def set_aside(self, value: dict[str, Any] | None) -> None:
        if value is None:
            self.data.pop("aside", None)
        else:
            self.data["aside"] = value

    # -- the last reply ------------------------------------------------------------------------------
    @property
    def last(self) -> dict[str, Any] | None:
        value = self.data.get("last")
        return value if isinstance(value, dict) and isinstance(value.get("reply"), dict) else None

    def remember(self, message_id: str | None, reply: dict[str, Any]) -> None:
        self.data["last"] = {"id": message_id, "reply": reply}
