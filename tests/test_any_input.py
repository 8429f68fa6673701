"""Odd input gets the reply meant for it — checks that can fail.

`r.kind in KINDS` cannot fail (a Reply refuses an unknown kind when it is made) and neither can
`"Traceback" not in r.reply` (the engine does not catch exceptions, so a crash fails the test
before it is reached). These say instead what each odd message must get: the menu for nothing
or only symbols, a fallback with both hotlines for what the plan does not cover, the clause for
a question that is only repeated words — and no sign of the machinery (placeholders, format
codes, markup echoed back, Python's words) in the text.
"""
from __future__ import annotations

import re

import pytest

from bot.reply import Incoming

MENU = "menu"
FALLBACK = "fallback"

CASES = [
    ("", MENU), ("   ", MENU), ("\n\t", MENU), ("😀😀😀", MENU), ("🙏", MENU), ("\x00\x01", MENU), ("？？？", MENU),
    ("a" * 5000, FALLBACK), ("ᠠᠵᠢᠯ ᠡᠷᠬᠢᠯᠡᠬᠦ ᠲᠡᠳᠬᠦᠮᠵᠢ", MENU), ("'; DROP TABLE faqs; --", FALLBACK),
    ("<script>alert(1)</script>", FALLBACK), ("]]><xml>", FALLBACK), ("１２３４５６７８９０", FALLBACK),
    ("见习" * 2500, "answer"),
]
MACHINERY = re.compile(r"\{\{|\}\}|\{\d*\}|%[sd]\b|<script|]]>|Traceback|Error|None|\\u[0-9a-f]{4}")


def ask(engine, text: str):
    return engine.handle(Incoming(user=f"odd-{abs(hash(text)) % 10**8}", text=text, channel="api"))


@pytest.mark.parametrize("text,kind", CASES, ids=[repr(t[:12]) for t, _ in CASES])
def test_odd_input_gets_the_reply_meant_for_it(engine, text, kind):
    r = ask(engine, text)
    assert r.kind == kind, (text[:30], r.kind, r.reply[:80])
    assert r.reply.strip() and not MACHINERY.search(r.reply), r.reply
    if kind == MENU:
        assert len(r.options) >= 3
    elif kind == FALLBACK:
        assert "12333" in r.reply and "12345" in r.reply and r.clause is None
    else:
        assert r.clause == "12" and "（依据：实施方案第12条）" in r.reply


def test_format_codes_and_placeholders_in_a_question_are_never_filled_in(engine):
    r = ask(engine, "%s %d {0} {{internship.rate}}")
    assert r.kind in ("answer", "fallback")
    assert "%s" not in r.reply and "{0}" not in r.reply and "{{" not in r.reply
