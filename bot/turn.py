"""What one message's handling can read and change: the `Turn` every part of the router gets."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping

from eligibility.dialogue import Form
from knowledge.matcher import Matcher
from knowledge.service import Snapshot

from .dialogues import Dialogues
from .i18n import msg
from .replies import Scene
from .state import ConversationState


@dataclass


class Turn:
    """One message's handling: what it may read (the pack, the matcher) and change (the state)."""

    scene: Scene
    matcher: Matcher
    state: ConversationState
    dialogues: Dialogues
    channel: str = "api"
    settings: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    new_locale: str | None = None
    session: Any = None            # the turn's database session (services that record something)
    user: str = ""                 # the person's id (namespaced by channel) for what is recorded  # the language the person chose in this turn (kept per person)

    @property
    def snapshot(self) -> Snapshot:
        return self.scene.snapshot

    @property
    def forms(self) -> dict[str, Form]:
        return self.dialogues.forms

    def m(self, key: str, **kw: Any) -> str:
        return msg(key, self.scene.locale, **kw)


# =============================================================================== entry


def clean_text(text: str) -> str:
    """NFKC, no NUL, lone surrogates or other control characters (they reach no database)."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs")).strip()


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
