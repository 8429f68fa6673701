"""A person on request, with consent: "留下姓名和电话，由县人社局联系您？"

Offered after a dialogue's result and whenever someone asks for a person. A small form owned by
the engine (kept in the conversation's `aside`): the consent text first (nothing is kept without
a yes), then the name, then a mobile number; stored in the applicant ledger
(knowledge.callbacks) with the dialogue's result, in the same transaction as the turn. "删除我的
电话" deletes everything the person left. "退出" or "不用了" at any step leaves nothing behind.
"""
from __future__ import annotations

import re
from typing import Any

from knowledge.callbacks import CONSENT_TEXT, CallbackService
from knowledge.service import KnowledgeError

from . import replies, understand
from .reply import Reply
from .turn import Turn

FORGET_RE = re.compile(r"(删除|删掉|删了|去掉|撤销|撤回|不要保存).{0,6}(电话|号码|手机|信息|登记|资料|姓名)")
ASIDE = "callback"


def forget_requested(text: str) -> bool:
    return FORGET_RE.search(understand.plain(text)) is not None


def begin(turn: Turn, clause: str | None, result: dict[str, Any] | None = None) -> Reply:
    """Ask for consent first."""
    calculator = str(result.get("calculator") or "") if isinstance(result, dict) else ""
    turn.state.set_aside({"form": ASIDE, "step": "consent", "clause": clause or "", "calculator": calculator,
                          "result": result})
    office = turn.scene.lead_office(clause)
    reply = Reply(turn.m("callback_consent", office=office, consent=CONSENT_TEXT), "flow", clause=clause or None,
                  locale=turn.scene.locale)
    reply.options = [{"key": "1", "label": turn.m("callback_agree")}, {"key": "2", "label": turn.m("callback_decline")}]
    return reply


def handle(turn: Turn, text: str) -> Reply:
    """The person's answer at the current step."""
    aside = turn.state.aside or {}
    step = aside.get("step")
    office = turn.scene.lead_office(aside.get("clause"))
    if understand.cancels(text) or understand.command_of(text) in ("exit", "menu"):
        turn.state.set_aside(None)
        return replies.menu(turn.scene, intro=turn.m("callback_cancelled"))
    if step == "consent":
        said = understand.yes_or_no(text)
        number = understand.choice_number(text)
        agreed = said is True or number == 1 or "同意" in text and "不同意" not in text
        declined = said is False or number == 2 or "不同意" in text
        if agreed:
            turn.state.set_aside(dict(aside, step="name"))
            return _ask(turn, "callback_ask_name")
        if declined:
            turn.state.set_aside(None)
            return replies.menu(turn.scene, intro=turn.m("callback_cancelled"))
        return _ask(turn, "callback_consent_again")
    if step == "name":
        from knowledge.callbacks import normalize_name

        try:
            name = normalize_name(text.strip())
        except KnowledgeError as exc:
            return _ask(turn, "callback_ask_name", before=exc.message)
        turn.state.set_aside(dict(aside, step="phone", name=name))
        return _ask(turn, "callback_ask_phone")
    if step == "phone":
        try:
            CallbackService(turn.session).request(turn.user, str(aside.get("name") or ""), text.strip(),
                                                  clause=aside.get("clause") or None,
                                                  calculator=aside.get("calculator") or None,
                                                  result=aside.get("result"), consent=True)
        except KnowledgeError as exc:
            return _ask(turn, "callback_ask_phone", before=exc.message)
        turn.state.set_aside(None)
        return Reply(turn.m("callback_saved", office=office), "contacts", clause=aside.get("clause") or None,
                     contacts=turn.snapshot.lead_contacts(aside.get("clause")) or turn.scene.county_contact(),
                     locale=turn.scene.locale)
    turn.state.set_aside(None)
    return replies.menu(turn.scene)


def forget(turn: Turn) -> Reply:
    """Delete what this person left in the ledger."""
    removed = CallbackService(turn.session).delete_for(user_ref=turn.user)
    turn.state.set_aside(None)
    return Reply(turn.m("callback_forgotten" if removed else "callback_nothing"), "smalltalk", locale=turn.scene.locale)


def _ask(turn: Turn, key: str, before: str = "") -> Reply:
    return Reply((before + "\n" if before else "") + turn.m(key), "flow", locale=turn.scene.locale)
