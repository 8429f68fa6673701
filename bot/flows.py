"""Bridge between the engine and eligibility dialogues (eligibility/dialogue.py).

The engine calls these hooks; they keep the dialogue state inside the user's
conversation state dict (key "dialogue") so it survives restarts and moves
between workers with the database.

Contract (used by bot.engine):
- `list_calculators(ctx) -> Reply`          the 测算 menu (numbered)
- `start(ctx, name, intro="") -> Reply`     open a dialogue, ask its first question
- `is_open(ctx) -> bool`                    an unexpired dialogue is open
- `handle(ctx, text) -> Reply | None`       an answer to the open dialogue; None when the
                                            text is not an answer but looks like a new
                                            question (the engine then answers it and asks
                                            "继续刚才的测算吗？")
- `command(ctx, name) -> Reply | None`      back / restart / exit / resume inside a dialogue
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .i18n import msg
from .reply import Reply

if TYPE_CHECKING:
    from .engine import Context


def list_calculators(ctx: "Context") -> Reply:
    return Reply(msg("calc_unavailable", ctx.locale), "menu", locale=ctx.locale)


def start(ctx: "Context", name: str, intro: str = "") -> Reply:
    return Reply(msg("calc_unavailable", ctx.locale), "flow", locale=ctx.locale)


def is_open(ctx: "Context") -> bool:
    return False


def handle(ctx: "Context", text: str) -> Reply | None:
    return None


def command(ctx: "Context", name: str) -> Reply | None:
    return None
