"""The language of the conversation: choosing it ("语言", "蒙文", a message in Mongolian script)
and answering writing the assistant does not read (Cyrillic Mongolian, Tibetan, legacy fonts).

`handle(turn, text)` runs before everything else in a turn; it returns a reply when the message
is about the language, else None. A new choice is set on `turn.new_locale` and kept per person.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .reply import Reply

if TYPE_CHECKING:
    from .router import Turn


def handle(turn: "Turn", text: str) -> Reply | None:
    return None
