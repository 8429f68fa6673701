"""What one message's handling can read and change: the `Turn` every part of the router gets."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Mapping

from eligibility.dialogue import Form
from eligibility.texts import switch_to
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
    reply_locale: str | None = None  # the reply is in another language than the person's (a note in Chinese)
    session: Any = None            # the turn's database session (services that record something)
    user: str = ""                 # the person's id (namespaced by channel) for what is recorded  # the language the person chose in this turn (kept per person)
    events: list[tuple[str, str]] = field(default_factory=list)  # copied to the reply (Reply.events)

    @property
    def snapshot(self) -> Snapshot:
        return self.scene.snapshot

    @property
    def forms(self) -> dict[str, Form]:
        return self.dialogues.forms

    def m(self, key: str, **kw: Any) -> str:
        return msg(key, self.scene.locale, **kw)

    def switch_locale(self, locale: str) -> None:
        """From now on (this reply included) speak `locale`; the engine keeps it for the person."""
        self.new_locale = locale
        self.scene = replace(self.scene, locale=locale)
        self.dialogues.locale = locale
        switch_to(locale)


# =============================================================================== entry


@lru_cache(maxsize=256)  # pure, and asked of the same message many times per turn
def clean_text(text: str) -> str:
    """NFC, no NUL, lone surrogates or other control characters (they reach no database).

    NFC, not NFKC: the text is stored (question log) and Mongolian needs its narrow no-break
    space (U+202F) and variation selectors kept. Matching folds further (knowledge.textnorm.fold)."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    text = unicodedata.normalize("NFC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs")).strip()


def clean_id(user: str) -> str:
    """A conversation key: NFKC as it always was (changing it would orphan existing conversations)."""
    return unicodedata.normalize("NFKC", clean_text(user))


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
