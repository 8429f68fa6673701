"""A turn inside an eligibility dialogue, and opening, switching, resuming and ending dialogues.

In a dialogue, in this order: commands (退出, 返回, 重新开始, 菜单, 再说一遍, 人工) → another
calculator named with a wish to calculate (switch; the old one stays resumable by name) → a
correction of an earlier answer → an answer to the pending question, parsed strictly against its
type → facts for other questions said in passing → a cancellation → thanks or chitchat (one line)
→ a side question (answered, then the pending question asked again, plainly, so that the next
number answers it) → an answer it cannot use (why, and the question again). Conversation repair
(CONVERSATION.md) is handled here once, for every calculator; the forms only declare questions.
"""
from __future__ import annotations

import datetime as dt
import re

from eligibility.dialogue import Dialogue
from knowledge.inbox import record_dialogue
from knowledge.matcher import MatchResult

from . import answering, replies, understand
from .answering import StartPlan
from .dialogues import Dialogues, Outcome
from .reply import Reply
from .turn import Turn


DONE_KEEP_HOURS = 2.0    # a finished dialogue's answers can be corrected this long after its result


FLOW_SMALLTALK = ("thanks", "ack", "greeting", "bye", "who")


def record(turn: Turn, calculator: str, event: str) -> None:
    """Dialogues started and completed, per calculator, for the staff dashboard (a row committed with
    the turn) and for the channels' counters (an event on the reply; bot knows no metrics library)."""
    turn.events.append((f"dialogue_{event}", calculator))
    if turn.session is not None:
        record_dialogue(turn.session, turn.user, calculator, event)


def begin(turn: Turn, plan: StartPlan) -> Reply:
    """Open the dialogue a plan names (with its short answer first)."""
    reply = start(turn, plan.name, intro=plan.intro, said=plan.said)
    if plan.clause:
        reply.clause = plan.clause
        reply.contacts = reply.contacts or turn.snapshot.lead_contacts(plan.clause)
    if plan.faq_id:
        reply.faq_id = plan.faq_id
    if plan.score is not None:
        reply.score = plan.score
    return reply


def answer(turn: Turn, text: str) -> Reply:
    """answering.answer_question, with a planned dialogue opened."""
    result = answering.answer_question(turn, text)
    return begin(turn, result) if isinstance(result, StartPlan) else result


def start(turn: Turn, name: str, intro: str = "", said: str = "") -> Reply:
    """Open the dialogue `name` (keeping an open one of another calculator resumable)."""
    state = turn.state
    current = turn.dialogues.load(state.dialogue)
    if current is not None and current.form.calculator != name and current.answers:
        state.suspend(current.form.calculator, current.state)
    state.take_suspended(name)
    form = turn.forms[name]
    outcome = turn.dialogues.begin(name, said=said)
    record(turn, name, "started")
    state.set_topic(clause=form.clause, calculator=name)
    parts = [intro] if intro else []
    if outcome.kind != "done":
        # a measure whose figures the plan gives for an ended period says so before asking anything
        ended = replies.window_notes(turn.scene, [form.declaration.window], form.clause) if form.declaration.window else []
        opening = "".join(ended) + ("\n" if ended else "") + form.intro + turn.m("flows_controls")
        if outcome.taken:
            opening += "\n" + turn.m("flows_prefilled", answers="；".join(outcome.taken))
            outcome.taken = []
        parts.append(opening)
    outcome.note = "\n\n".join(parts)
    reply = after(turn, outcome)
    reply.contacts = reply.contacts or turn.snapshot.lead_contacts(form.clause)
    return reply


def after(turn: Turn, outcome: Outcome) -> Reply:
    """The reply for a dialogue outcome: the next question, or the result."""
    dlg = outcome.dialogue
    if outcome.kind == "done" and outcome.result is not None:
        return finish(turn, dlg, outcome)
    turn.state.set_dialogue(dlg.state)
    return ask(turn, outcome)


def ask(turn: Turn, outcome: Outcome) -> Reply:
    dlg = outcome.dialogue
    turn.state.set_dialogue(dlg.state)
    note = outcome.note
    if outcome.kind == "asked" and outcome.taken and not note:
        note = turn.m("flows_noted", answers="；".join(outcome.taken))
    return replies.question(turn.scene, dlg.form, dlg.prompt(), before=note)


def finish(turn: Turn, dlg: Dialogue, outcome: Outcome) -> Reply:
    state = turn.state
    form = dlg.form
    state.set_dialogue(None)
    state.finished(form.calculator)
    state.data["done"] = {"state": dlg.state, "at": turn.dialogues.now.isoformat(),
                          "result": outcome.result.to_dict() if outcome.result is not None else None}
    record(turn, form.calculator, "completed")
    state.set_topic(clause=form.clause, calculator=form.calculator)
    resumable = [(n, turn.forms[n].title) for n in state.suspended if n in turn.forms]
    reply = replies.result(turn.scene, form, outcome.result, taken=outcome.taken, resumable=resumable)
    if outcome.note:
        reply.reply = outcome.note + "\n" + reply.reply
    return reply


def in_dialogue(turn: Turn, text: str, dlg: Dialogue) -> Reply:
    state, dialogues = turn.state, turn.dialogues
    command = understand.command_of(text) or ("repeat" if understand.wants_repeat(text) else None)
    if dialogues.expired(dlg):
        state.set_dialogue(None)
        if command == "restart":
            return start(turn, dlg.form.calculator, intro=turn.m("flows_restarted", title=dlg.form.title))
        if command == "exit":
            return replies.exited(turn.scene, dlg.form.title)
        return expired(turn, dlg, "" if command else text)
    if command:
        reply = dialogue_command(turn, dlg, command, text)
        if reply is not None:
            return reply
    state.clear_offer()
    names = understand.calculators_named(text, turn.forms)
    if understand.resumes(text) and names and names[0] != dlg.form.calculator and names[0] in state.suspended:
        return resume(turn, names[0])  # "继续算稳岗返还": back to the one left by a switch
    other = [n for n in names if n != dlg.form.calculator]
    if len(other) == 1 and understand.CALC_WORDS_RE.search(understand.plain(text)):
        return switch(turn, dlg, other[0], text)  # "先不算了，帮我算一下技能提升补贴"
    outcome = dialogues.answer(dlg, text)
    if outcome.kind != "not_answer":
        return after(turn, outcome)
    # Not an answer to the pending question.
    other = [n for n in names if n != dlg.form.calculator]
    if other and len(other) == 1 and (understand.asks_to_calculate(text) or understand.cancels(text)):
        return switch(turn, dlg, other[0], text)
    if understand.cancels(text):
        return exit_dialogue(turn)
    if understand.wants_human(text):
        return with_pending(turn, dlg, answering.human(turn, clause=dlg.form.clause))
    match = turn.matcher.match(text)
    if match.smalltalk in FLOW_SMALLTALK and not Dialogues.looks_like_question(text, False):
        return with_pending(turn, dlg, Reply(turn.m(f"flows_smalltalk_{match.smalltalk}"), "smalltalk",
                                              locale=turn.scene.locale), plain=True)
    if side_question(turn, text, match) and not outcome.error.vague:
        side = answering.answer_question(turn, text, in_dialogue=True)
        return with_pending(turn, dlg, side)
    return after(turn, dialogues.retry(dlg, outcome.error))


def side_question(turn: Turn, text: str, match: MatchResult) -> bool:
    """A message in a dialogue that is a question of its own: phrased as one, or naming at least
    two policy words without a number ("稳岗返还 比例"). A statement ("都是大学毕业回来的娃娃")
    is an attempt at an answer: it gets the question explained, not an FAQ."""
    if Dialogues.looks_like_question(text, False):
        return True
    return match.confident and len(set(turn.matcher.policy_words(text))) >= 2 and not re.search(r"\d", text)


def with_pending(turn: Turn, dlg: Dialogue, reply: Reply, plain: bool = False) -> Reply:
    """`reply`, then the pending question asked again (its options are the dialogue's: a number
    now answers the question, so no other numbered menu goes with it)."""
    turn.state.set_dialogue(dlg.state)
    prompt = dlg.prompt()
    back = "" if plain else turn.m("flows_back_to", title=dlg.form.title)
    reply.reply = reply.reply + "\n\n" + back + prompt.text
    reply.options = prompt.options
    reply.actions = []
    reply.links = reply.links + [replies.calc_link(turn.scene, dlg.form)]
    reply.extra = dict(reply.extra, dialogue={"calculator": dlg.form.calculator, "slot": prompt.slot})
    return reply


def dialogue_command(turn: Turn, dlg: Dialogue, command: str, text: str) -> Reply | None:
    state, form = turn.state, dlg.form
    now = turn.dialogues.now
    if command == "exit":
        return exit_dialogue(turn)
    if command == "back":
        note = turn.m("flows_back" if dlg.back() else "flows_at_first")
        dlg.touch(now)
        return ask(turn, Outcome("asked", dlg, note=note))
    if command == "restart":
        dlg.restart(now)
        return ask(turn, Outcome("asked", dlg, note=turn.m("flows_restarted", title=form.title)))
    if command == "resume":
        dlg.touch(now)
        return ask(turn, Outcome("asked", dlg, note=turn.m("flows_resumed", title=form.title)))
    if command == "repeat" or understand.wants_repeat(text):
        dlg.touch(now)
        # "啥意思 再说一遍": the whole last message (with its expiry note or explanation) while it
        # was this dialogue's; else the pending question
        last = turn.state.last
        if last is not None and (last["reply"].get("extra") or {}).get("dialogue", {}).get("calculator") \
                == form.calculator and last["reply"].get("kind") == "flow":
            return repeat_last(turn)
        return ask(turn, Outcome("asked", dlg))
    if command == "human":
        return with_pending(turn, dlg, answering.human(turn, clause=form.clause))
    if command in ("menu", "calc", "contacts"):
        # The dialogue waits (resumable by "继续"); the menu's numbers now pick menu items.
        state.suspend(form.calculator, dlg.state)
        state.set_dialogue(None)
        state.ask_confirm("resume")
        intro = turn.m("flows_paused", title=form.title)
        if command == "calc":
            return answering.calculators(turn, intro=intro)
        if command == "contacts":
            return replies.directory(turn.scene, intro=intro)
        return replies.menu(turn.scene, intro=intro)
    return None


def exit_dialogue(turn: Turn) -> Reply:
    dlg = turn.dialogues.load(turn.state.dialogue)
    turn.state.set_dialogue(None)
    if dlg is None:
        return replies.menu(turn.scene, intro=turn.m("nothing_open"))
    return replies.exited(turn.scene, dlg.form.title)


def switch(turn: Turn, dlg: Dialogue, name: str, text: str) -> Reply:
    """Another calculator named mid-dialogue: start it; the old one stays resumable by name."""
    old = dlg.form
    turn.state.suspend(old.calculator, dlg.state)
    turn.state.set_dialogue(None)
    intro = turn.m("flows_switched", old=old.title, new=turn.forms[name].title)
    return start(turn, name, intro=intro, said=text)


def resume(turn: Turn, name: str) -> Reply:
    """Continue a dialogue left by a switch or a menu, at the same step with the answers kept."""
    state = turn.state
    suspended = state.suspended
    name = name or next(reversed(list(suspended)), "")
    stored = state.take_suspended(name) if name else None
    dlg = turn.dialogues.load(stored)
    if dlg is None:
        return replies.menu(turn.scene, intro=turn.m("nothing_open"))
    current = turn.dialogues.load(state.dialogue)
    if current is not None and current.form.calculator != name:
        state.suspend(current.form.calculator, current.state)
    if turn.dialogues.expired(dlg):
        return expired(turn, dlg, "")
    dlg.touch(turn.dialogues.now)
    state.ask_confirm(None)
    return after(turn, turn.dialogues.advance(dlg, note=turn.m("flows_resumed", title=dlg.form.title)))


def expired(turn: Turn, dlg: Dialogue, text: str) -> Reply:
    """Say the old dialogue expired; answer the message if it is a question, else offer a restart."""
    turn.state.set_dialogue(None)
    hours = turn.dialogues.ttl_hours
    notice = turn.m("flows_expired", title=dlg.form.title, hours=f"{hours:g}")
    if text and Dialogues.looks_like_question(text, turn.matcher.match(text).confident):
        reply = answer(turn, text)
        reply.reply = notice + "\n\n" + reply.reply
        return reply
    return replies.expired_dialogue(turn.scene, dlg.form, notice)


def correct_finished(turn: Turn, text: str) -> Reply | None:
    """Right after a result: "不对，是4个人" changes that answer, and a new fact or a what-if
    ("留下来两个吧", "那要是见习满3个月呢") is applied; either way the result is computed again."""
    done = turn.state.data.get("done")
    if not isinstance(done, dict):
        return None
    if not understand.corrects(text):
        return what_if(turn, done, text)
    try:
        at = dt.datetime.fromisoformat(str(done.get("at")))
    except ValueError:
        return None
    if turn.dialogues.now - at > dt.timedelta(hours=DONE_KEEP_HOURS):
        return None
    dlg = turn.dialogues.load(done.get("state"))
    if dlg is None:
        return None
    outcome = turn.dialogues.correct(dlg, text)
    if outcome is None:
        return None
    return after(turn, outcome)


WHAT_IF_RE = re.compile(r"要是|如果|假如|假设|万一|换成|改成|呢$|的话")


def repeat_last(turn: Turn) -> Reply:
    """The last reply again, introduced as a repeat (`state.last` must be set)."""
    reply = Reply.from_stored(turn.state.last["reply"])  # type: ignore[index]
    reply.reply = turn.m("repeat_intro") + "\n" + reply.reply
    return reply


def what_if(turn: Turn, done: dict, text: str) -> Reply | None:
    """Facts for the dialogue just finished, said after its result: compute it again with them."""
    if not fresh(turn, done) or understand.calculators_named(text, turn.forms) and \
            done.get("state", {}).get("calc") not in understand.calculators_named(text, turn.forms):
        return None
    asks = understand.ASK_RE.search(text) is not None
    if asks and not WHAT_IF_RE.search(text):
        return None  # a question of its own ("这个比例是怎么算的")
    dlg = turn.dialogues.load(done.get("state"))
    if dlg is None:
        return None
    before = dict(dlg.answers)
    taken = dlg.take_facts(text, overwrite=True)
    changed = [n for n in taken if before.get(n) != dlg.answers.get(n)]
    if not changed:
        if taken and not asks:  # "没裁员" again: the result stands (never a fresh dialogue)
            return after(turn, turn.dialogues.advance(dlg, note=turn.m("flows_same_facts")))
        return None
    note = turn.m("flows_what_if", answers="；".join(dlg.summary(changed)))
    return after(turn, turn.dialogues.advance(dlg, note=note))


def fresh(turn: Turn, done: dict) -> bool:
    try:
        at = dt.datetime.fromisoformat(str(done.get("at")))
    except ValueError:
        return False
    return turn.dialogues.now - at <= dt.timedelta(hours=DONE_KEEP_HOURS)
