"""Which reply one message gets: the turn interpreter (dialogue turns: bot.conversing; answers:
bot.answering).

Outside a dialogue (ARCHITECTURE.md, "The way of one message"):
  commands → a number picking an offered option → a request for a person → a request to
  calculate ("帮我算算", "算一下见习补贴") → a follow-up read in the current topic → the
  matcher's cited answer, or the start of a dialogue for "我能领……吗" → fallback.
Inside a dialogue, in this order:
  commands (退出, 返回, 重新开始, 菜单, 再说一遍, 人工) → a correction of an earlier answer →
  an answer to the pending question, parsed strictly against its type → facts for other
  questions said in passing → another calculator named with a wish to calculate (switch; the
  old dialogue stays resumable by name) → a cancellation → thanks or chitchat (one line) →
  a side question (answered, then the pending question asked again, plainly, so that the
  next number answers it) → an answer it cannot use (why, and the question again).
Conversation repair (CONVERSATION.md) is handled here once, for every calculator; the forms
only declare their questions.
"""
from __future__ import annotations

from typing import Any, Callable

from knowledge.textnorm import fold

from knowledge.mongolian import has_mongolian

from . import answering, callbacks, conversing, language, personas, replies, understand
from .actions import (Action, ExitDialogue, ListCalculators, ListPersonas, RequestCallback, ResumeDialogue,
                      SetLanguage, ShowClause, ShowContacts, ShowFaq, ShowMenu, ShowPersona, ShowTheme,
                      StartCalculator, from_json)
from .answering import calculators, human, pick_calculators, remember, states_facts
from .conversing import exit_dialogue, resume, start
from .topics import aspect_of, own_topic_words
from .reply import Reply
from .turn import Turn, clean_id, clean_text  # noqa: F401  (the engine keys conversations with clean_id)


MAX_TEXT = 5000          # longer messages are cut before matching (a politeness, not an error)


def route(turn: Turn, text: str | None, event: str | None) -> Reply:
    if event:
        return on_event(turn, event)
    raw = clean_text(text or "")[:MAX_TEXT]
    turn.text = raw
    chosen = language.handle(turn, raw)  # "语言", "蒙文", Mongolian script, Cyrillic, Tibetan
    if chosen is not None:
        return chosen
    if not raw or not fold(raw):
        return empty(turn, raw)
    if callbacks.forget_requested(raw):
        return callbacks.forget(turn)  # "删除我的电话"
    if turn.state.aside:
        return callbacks.handle(turn, raw)  # the callback request in progress
    dlg = turn.dialogues.load(turn.state.dialogue)
    if dlg is None and turn.state.dialogue is not None:
        turn.state.set_dialogue(None)  # a form that no longer exists
    if dlg is not None:
        return conversing.in_dialogue(turn, raw, dlg)
    return outside(turn, raw)


def empty(turn: Turn, raw: str) -> Reply:
    dlg = turn.dialogues.load(turn.state.dialogue)
    if raw and understand.script_of(raw).mongolian:
        return replies.menu(turn.scene, intro=turn.m("mongolian_received"))
    if dlg is not None and not turn.dialogues.expired(dlg):
        # an emoji or a sticker mid-dialogue: explain and ask again
        return conversing.ask(turn, turn.dialogues.retry(dlg, None))
    return replies.menu(turn.scene, intro=turn.m("empty_text" if not raw else "no_words"))


def on_event(turn: Turn, event: str) -> Reply:
    if event == "subscribe":
        return replies.menu(turn.scene, intro=turn.m("welcome"))
    if event.startswith("menu:"):
        key = event.split(":", 1)[1].upper()
        if key in ("CALC", "CALCULATORS"):
            return calculators(turn)
        if key in ("CONTACTS", "OFFICES", "GUIDE"):
            return replies.directory(turn.scene)
        if key.startswith("CALC_") and key[5:].lower() in turn.forms:
            return start(turn, key[5:].lower())
    return replies.menu(turn.scene)


# =============================================================================== outside a dialogue


def outside(turn: Turn, text: str) -> Reply:
    state = turn.state
    command = understand.command_of(text)
    if command:
        reply = outside_command(turn, command)
        if reply is not None:
            return reply
    if state.confirm == "resume":
        said = understand.yes_or_no(text)
        state.ask_confirm(None)
        if said is True:
            return resume(turn, "")
        if said is False:
            return replies.menu(turn.scene, intro=turn.m("resume_declined"))
    number = understand.choice_number(text)
    if number is not None:
        reply = choose(turn, number)
        if reply is not None:
            return reply
    state.clear_offer()
    if has_mongolian(text) and not language.CJK_RE.search(text):
        return language.mongolian_reply(turn, text, perform)  # the Chinese matcher cannot read it
    group = personas.named(text)
    if group is not None:
        return replies.persona(turn.scene, group, turn.forms)  # "我是牧民": what applies to me
    if understand.wants_repeat(text):
        return repeat(turn)
    if understand.wants_human(text):
        return human(turn)
    if understand.cancels(text) and not understand.calculators_named(text, turn.forms):
        return replies.smalltalk(turn.scene, "later")  # "先不弄了 我问问娃娃再说"
    corrected = conversing.correct_finished(turn, text)
    if corrected is not None:
        return corrected
    reply = calculate_request(turn, text)
    if reply is not None:
        return reply
    return offer_resume(turn, not_again(turn, conversing.answer(turn, text)))


def not_again(turn: Turn, reply: Reply) -> Reply:
    """The same answer as the last reply means it did not help ("县级的", said again and again):
    say so, and who can tell more, instead of an identical bubble."""
    last = turn.state.last
    if last is None or reply.kind != "answer" or last["reply"].get("kind") != "answer" \
            or last["reply"].get("faq_id") != reply.faq_id or last["reply"].get("clause") != reply.clause:
        return reply
    reply.reply = turn.m("answered_again", office=turn.scene.lead_office(reply.clause)) + "\n" + reply.reply
    return reply


def offer_resume(turn: Turn, reply: Reply) -> Reply:
    """A dialogue paused by the menu waits: after the next answer, ask once whether to go on
    (a yes/no, never numbered: the person may be about to answer its question with a number)."""
    state = turn.state
    paused = [n for n in state.suspended if n in turn.forms]
    if not paused or state.data.get("resume_offered") == paused[-1] or reply.options:
        return reply
    state.data["resume_offered"] = paused[-1]
    state.ask_confirm("resume")
    reply.reply = reply.reply + "\n\n" + turn.m("resume_hint", title=turn.forms[paused[-1]].title)
    return reply


def outside_command(turn: Turn, name: str) -> Reply | None:
    state = turn.state
    if name == "menu":
        return replies.menu(turn.scene)
    if name == "calc":
        return calculators(turn)
    if name == "contacts":
        return replies.directory(turn.scene)
    if name == "repeat":
        return repeat(turn)
    if name == "human":
        return human(turn)
    if name == "language":
        return language.choose_reply(turn)
    if name == "resume":
        if state.suspended:
            return resume(turn, "")
        return replies.menu(turn.scene, intro=turn.m("nothing_open"))
    if name == "restart":
        last = state.last_calculator
        if last and last in turn.forms:
            return start(turn, last, intro=turn.m("flows_restarted", title=turn.forms[last].title))
        return replies.menu(turn.scene, intro=turn.m("nothing_open"))
    if name in ("back", "exit"):
        if name == "exit" and state.suspended:
            titles = turn.m("list_sep").join(turn.forms[n].title for n in state.suspended if n in turn.forms)
            for n in list(state.suspended):
                state.take_suspended(n)
            return replies.menu(turn.scene, intro=turn.m("flows_exited", title=titles))
        if name == "exit":
            return replies.menu(turn.scene, intro=turn.m("ended"))
        return replies.menu(turn.scene, intro=turn.m("nothing_open"))
    return None


def choose(turn: Turn, number: int) -> Reply | None:
    """A number picking one of the options the last reply offered."""
    offered = turn.state.offered
    entry = next((o for o in offered if o.get("key") == str(number)), None)
    if entry is None:
        if offered or 0 <= number <= 10:
            return replies.menu(turn.scene, intro=turn.m("unknown_choice"))
        return None
    turn.state.clear_offer()
    action = from_json(entry)
    return perform(turn, action) if action is not None else replies.menu(turn.scene)


def perform(turn: Turn, action: Action) -> Reply:
    """Do what a numbered option stood for."""
    handler = PERFORMERS.get(type(action))
    return handler(turn, action) if handler else replies.menu(turn.scene)


def _show_faq(turn: Turn, action: ShowFaq) -> Reply:
    faq = turn.snapshot.faq(action.id)
    if faq is None:
        return replies.menu(turn.scene)
    return remember(turn, replies.faq_answer(turn.scene, faq, score=1.0))


def _show_clause(turn: Turn, action: ShowClause) -> Reply:
    if action.id not in turn.snapshot.clauses:
        return replies.menu(turn.scene)
    return remember(turn, replies.clause_answer(turn.scene, action.id, score=1.0))


def _callback(turn: Turn, action: RequestCallback) -> Reply:
    """"留下姓名和电话": the request form, with the result of the dialogue just finished."""
    done = turn.state.data.get("done")
    result = done.get("result") if isinstance(done, dict) and conversing.fresh(turn, done) else None
    if isinstance(result, dict) and action.clause and str(result.get("clause")) != action.clause:
        result = None
    return callbacks.begin(turn, action.clause or None, result)

PERFORMERS: dict[type, Callable[[Turn, Any], Reply]] = {
    ShowMenu: lambda turn, a: replies.menu(turn.scene),
    ShowTheme: lambda turn, a: replies.theme(turn.scene, a.id),
    ShowFaq: _show_faq,
    ShowClause: _show_clause,
    ListCalculators: lambda turn, a: calculators(turn),
    StartCalculator: lambda turn, a: start(turn, a.name) if a.name in turn.forms else calculators(turn),
    ResumeDialogue: lambda turn, a: resume(turn, a.name),
    ExitDialogue: lambda turn, a: exit_dialogue(turn),
    ShowContacts: lambda turn, a: (answering.contacts_for_clause(turn, a.clause) if a.clause
                                   else replies.directory(turn.scene)),
    RequestCallback: _callback,
    SetLanguage: lambda turn, a: language.set_language(turn, a.locale if a.locale in ("zh", "mn") else "zh"),
    ListPersonas: lambda turn, a: replies.personas(turn.scene),
    ShowPersona: lambda turn, a: replies.persona(turn.scene, a.id, turn.forms),
}


def calculate_request(turn: Turn, text: str) -> Reply | None:
    """Everyday ways to start: "帮我算算", "算一下见习补贴", "计算器", "我能领多少钱", "继续算稳岗返还"."""
    names = understand.calculators_named(text, turn.forms)
    if understand.resumes(text) and names and names[0] in turn.state.suspended:
        return resume(turn, names[0])
    wants = understand.asks_to_calculate(text)
    explicit = understand.CALC_WORDS_RE.search(understand.plain(text)) is not None
    if not wants or not (explicit or understand.said_of_oneself(text)):
        if len(names) == 1 and understand.said_of_oneself(text) and states_facts(turn, names, text, at_least=2) \
                and not aspect_of(text):
            return start(turn, names[0], said=text)  # "我们公司有6个见习生，见习8个月": facts to compute
        return None
    if not (explicit and names):
        match = turn.matcher.match(text)
        if match.oos_term or match.elsewhere:
            return None  # "残疾人两项补贴一个月能领多少": not a subsidy of the plan
    topic_calc = (turn.state.topic or {}).get("calculator")
    if not names and topic_calc in turn.forms:
        names = [topic_calc]  # "公司招了我们3个，一个月能有多少" right after the graduate answer
    if not names:  # no calculator named: the one of the policy the words match ("学了个育婴师 考过了")
        match = turn.matcher.match(text)
        best = match.best
        if best is not None and not match.out_of_scope and best.score >= match.threshold * 0.6:
            faq = turn.snapshot.faq(best.faq_id) if best.faq_id else None
            names = pick_calculators(turn.forms, understand.plain(text), best.clause, faq.calculator if faq else "")
    if len(names) == 1:
        return start(turn, names[0], said=text)
    if len(names) > 1:
        return replies.calculators(turn.scene, turn.forms, intro=turn.m("flows_which"), names=names)
    if explicit or not own_topic_words(turn.matcher, text):
        return calculators(turn, intro=turn.m("flows_which"))  # "帮我算算我能领多少钱"
    return None  # "临时生活补助能给多少": a policy with no calculator gets its answer


def repeat(turn: Turn) -> Reply:
    if turn.state.last is None:
        return replies.menu(turn.scene, intro=turn.m("nothing_to_repeat"))
    reply = conversing.repeat_last(turn)
    offered = turn.state.offered
    if offered:  # the options still do what they did
        reply.actions = [from_json(o) for o in offered]
    return reply
