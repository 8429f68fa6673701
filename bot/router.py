"""Which reply one message gets: the turn interpreter.

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

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from eligibility.dialogue import Dialogue, Form
from eligibility.texts import switch_to
from knowledge.matcher import Matcher, MatchResult
from knowledge.service import Snapshot
from knowledge.textnorm import fold

from knowledge.mongolian import has_mongolian

from . import language, personas, replies, understand
from .actions import (Action, ExitDialogue, ListCalculators, ListPersonas, RequestCallback, ResumeDialogue,
                      SetLanguage, ShowClause, ShowContacts, ShowFaq, ShowMenu, ShowPersona, ShowTheme,
                      StartCalculator, from_json)
from .dialogues import Dialogues, Outcome
from .i18n import msg
from .reply import Reply
from .replies import Scene
from .state import ConversationState
from .topics import aspect_of, own_topic_words, read_in_topic

MAX_TEXT = 5000          # longer messages are cut before matching (a politeness, not an error)
DONE_KEEP_HOURS = 2.0    # a finished dialogue's answers can be corrected this long after its result

CONTACT_RE = re.compile(
    r"电话|手机号|号码|联系方式|怎么联系|咋联系|在哪|在那|哪儿|哪里|哪里办|去哪|到哪|地址|位置|找谁|找哪|哪个部门|哪个单位|"
    r"什么部门|啥部门|哪个窗口|窗口|几点|上班时间|办公时间|周六|周末|投诉|举报|监督电话|打不通|没人接|人社所|服务中心|"
    r"谁管|归谁管|哪个局|联系人|办事的地方|乡上能办|镇上能办|能办不|有人上班"
)
# Words that name an office rather than a place.
OFFICE_WORD_RE = re.compile(r"人社|政府|民政|[^结]局|服务站|服务中心|服务所|办事处|办事大厅|政务大厅|窗口|部门|单位")
# "钱从哪里出" asks where the money comes from, not where to go.
FUNDING_RE = re.compile(r"(钱|资金|经费|补贴|费用)?从哪(里|儿)?(出|来|列支|拿)")
COMPLAINT_RE = re.compile(r"投诉|举报|监督|不作为|没发下来|拖着不办|不给办")
TOWNSHIP_RE = re.compile(r"乡上|镇上|乡里|镇里|乡政府|镇政府|乡镇|村上|村里")
# "我能领……吗": eligibility wording said of oneself opens the dialogue (after a short answer).
ELIGIBILITY_RE = re.compile(
    r"(能不能|能否|可不可以|能|可以|够不够|想|要|准备)(领|拿|贷|申请|享受|办|补|报|批)|符合(条件|资格|要求)|够(条件|格|资格)"
    r"|有(没有)?资格|有没有(我的)?份|有我的份|测算|算一算|算算|帮我算|(能|可以).{0,6}多少"
    r"|有(没有)?(补助|补贴)(没|吗|么|没有)?$|有没有.{0,8}(补贴|补助)|怎么算|咋算|有(什么|啥|哪些)(补贴|补助|政策)"
)
CLAUSE_REF = re.compile(r"第\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*条")
PART3_REF = re.compile(r"第?三部分\s*第?\s*[(（]?\s*([一二三四1-4])\s*[)）]?\s*项?")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
FLOW_SMALLTALK = ("thanks", "ack", "greeting", "bye", "who")
NAMED_OUTRIGHT = 4       # a calculator keyword this long names it outright (一次性创业, 建档立卡)


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
    new_locale: str | None = None  # the language the person chose in this turn (kept per person)
    reply_locale: str | None = None  # the reply is in another language than the person's (a note in Chinese)

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
    dlg = turn.dialogues.load(turn.state.dialogue)
    if dlg is None and turn.state.dialogue is not None:
        turn.state.set_dialogue(None)  # a form that no longer exists
    if dlg is not None:
        return in_dialogue(turn, raw, dlg)
    return outside(turn, raw)


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


def empty(turn: Turn, raw: str) -> Reply:
    dlg = turn.dialogues.load(turn.state.dialogue)
    if raw and understand.script_of(raw).mongolian:
        return replies.menu(turn.scene, intro=turn.m("mongolian_received"))
    if dlg is not None and not turn.dialogues.expired(dlg):
        # an emoji or a sticker mid-dialogue: explain and ask again
        return ask(turn, turn.dialogues.retry(dlg, None))
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
    corrected = correct_finished(turn, text)
    if corrected is not None:
        return corrected
    reply = calculate_request(turn, text)
    if reply is not None:
        return reply
    return offer_resume(turn, answer_question(turn, text))


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
    return human(turn, clause=action.clause or None)


PERFORMERS: dict[type, Callable[[Turn, Any], Reply]] = {
    ShowMenu: lambda turn, a: replies.menu(turn.scene),
    ShowTheme: lambda turn, a: replies.theme(turn.scene, a.id),
    ShowFaq: _show_faq,
    ShowClause: _show_clause,
    ListCalculators: lambda turn, a: calculators(turn),
    StartCalculator: lambda turn, a: start(turn, a.name) if a.name in turn.forms else calculators(turn),
    ResumeDialogue: lambda turn, a: resume(turn, a.name),
    ExitDialogue: lambda turn, a: exit_dialogue(turn),
    ShowContacts: lambda turn, a: (contacts_for_clause(turn, a.clause) if a.clause
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
    return calculators(turn, intro=turn.m("flows_which"))


def states_facts(turn: Turn, names: list[str], text: str, at_least: int = 1, told: bool = False) -> bool:
    """The message tells the writer's own facts that the (single) named calculator asks for:
    two of them ("6个见习生，见习8个月"), or one told as something that happened ("裁了一半人").
    "参保一年就能领吗" asks about the rule, not about a case."""
    if len(names) != 1:
        return False
    probe = Dialogue.begin(turn.forms[names[0]], turn.dialogues.now, turn.dialogues.view)
    found = len(probe.take_facts(text))
    happened = told or re.search(r"了(?![吗么没嘛])", text) is not None
    return found >= max(at_least, 2) or (found >= at_least and happened)


def calculators(turn: Turn, intro: str = "") -> Reply:
    resumable = [n for n in turn.state.suspended if n in turn.forms]
    return replies.calculators(turn.scene, turn.forms, intro=intro, resumable=resumable)


def repeat(turn: Turn) -> Reply:
    last = turn.state.last
    if last is None:
        return replies.menu(turn.scene, intro=turn.m("nothing_to_repeat"))
    reply = Reply.from_stored(last["reply"])
    reply.reply = turn.m("repeat_intro") + "\n" + reply.reply
    offered = turn.state.offered
    if offered:  # the options still do what they did
        reply.actions = [from_json(o) for o in offered]
    return reply


def human(turn: Turn, clause: str | None = None, intro: str = "") -> Reply:
    topic = turn.state.topic
    clause = clause or (topic or {}).get("clause")
    return replies.handoff(turn.scene, clause, intro=intro)


# =============================================================================== answering
def answer_question(turn: Turn, text: str, in_dialogue: bool = False) -> Reply:
    """Contacts, smalltalk, a topic follow-up, the matcher's cited answer, or a fallback."""
    scene, matcher = turn.scene, turn.matcher
    match = matcher.match(text)
    folded = fold(text)
    asked = clause_reference(folded, turn.snapshot.clauses)
    if asked and not (match.confident and match.best is not None and match.best.clause == asked):
        return remember(turn, replies.clause_answer(scene, asked, score=1.0))  # "第8条说的啥"
    wants_contact = CONTACT_RE.search(FUNDING_RE.sub("", folded)) is not None
    if match.smalltalk and not wants_contact:
        return replies.smalltalk(scene, match.smalltalk)
    follow_on = turn.state.topic is not None and not match.oos_term and not match.elsewhere \
        and not own_topic_words(matcher, text)
    if wants_contact and (not match.out_of_scope or follow_on or COMPLAINT_RE.search(folded) or OFFICE_WORD_RE.search(folded)
                          or TOWNSHIP_RE.search(folded)
                          or any(o.kind != "township" for o in offices_named(turn.snapshot, folded))):
        # "几点/在哪" about a bus or the weather is not a question for an office; a place
        # name alone (红湾寺) does not make it one, an office word (人社服务站) does
        return contacts_reply(turn, text, folded, match)
    if getattr(match, "elsewhere", False):
        return replies.out_of_scope(scene, elsewhere=True)
    topic_calc = (turn.state.topic or {}).get("calculator")
    if not in_dialogue and topic_calc in turn.forms and not understand.ASK_RE.search(text) \
            and states_facts(turn, [topic_calc], text, at_least=1, told=True):
        return start(turn, topic_calc, said=text)  # "今年考核没通过" after the incubator answer
    follow = read_in_topic(matcher, turn.state.topic, text, match)
    if follow is not None and in_dialogue and follow.faq_id is None and follow.aspect is None:
        follow = None  # mid-dialogue, a vague message is not a question about the whole clause
    if follow is not None and not own_topic_words(matcher, text):
        return follow_up(turn, follow, text)  # "我老婆也能申请吗" after the loan answer
    if not in_dialogue:
        started = maybe_start(turn, match, text)
        if started is not None:
            return started
    if follow is not None:
        return follow_up(turn, follow, text)
    if match.confident and match.best is not None:
        best = match.best
        turn.state.missed(False)
        faq = turn.snapshot.faq(best.faq_id) if best.faq_id else None
        if faq is not None:
            return remember(turn, with_procedure(turn, replies.faq_answer(scene, faq, score=best.score), text))
        return remember(turn, replies.clause_answer(scene, best.clause or "", score=best.score))
    lone = matcher.lone_word(text) if not in_dialogue and not match.oos_term and not match.elsewhere else None
    if lone is not None and not (match.confident and not match.vague):
        clarified = replies.clarify_word(scene, matcher, lone)  # "贷款", "补贴": which one?
        if clarified is not None:
            turn.state.missed(False)
            main = main_clause(turn.snapshot, lone)
            if main:  # "公司贷的那种" next is read in the policy that names the word most
                turn.state.set_topic(clause=main)
            return clarified
    if match.vague and match.suggestions and not in_dialogue and not match.oos_term and not match.elsewhere:
        turn.state.missed(False)
        return replies.clarify(scene, match)  # "补贴", "贷款": which one?
    if match.out_of_scope:
        turn.state.missed(False)  # understood: it is outside the plan
        return replies.out_of_scope(scene, elsewhere=match.elsewhere)
    twice = turn.state.misses >= 1 and not in_dialogue
    turn.state.missed(True)
    return replies.fallback(scene, match, numbered_choices=not in_dialogue, twice=twice)


def main_clause(snapshot: Snapshot, word: str) -> str | None:
    """The clause whose FAQ questions name `word` most often ("贷款" → 10)."""
    counts: dict[str, int] = {}
    for f in snapshot.faqs:
        if word in f.question:
            counts[f.clause] = counts.get(f.clause, 0) + 1
    return max(counts, key=lambda c: counts[c]) if counts else None


def remember(turn: Turn, reply: Reply) -> Reply:
    """An answer sets the conversation's topic (its clause, FAQ entry and calculator: the entry's
    own, else the clause's only one)."""
    faq = turn.snapshot.faq(reply.faq_id) if reply.faq_id else None
    calculator = faq.calculator if faq is not None and faq.calculator else None
    if calculator is None and reply.clause:
        own = [n for n, f in turn.forms.items() if f.clause == reply.clause]
        if len(own) > 1 and faq is not None:  # the one the entry's question names
            own = pick_calculators(turn.forms, faq.question, reply.clause, "")
        calculator = own[0] if len(own) == 1 else None
    if reply.clause:
        turn.state.set_topic(clause=reply.clause, faq=reply.faq_id, calculator=calculator)
    turn.state.missed(False)
    return reply


def follow_up(turn: Turn, follow: Any, text: str) -> Reply:
    """A follow-up answered in the topic, saying which topic was taken."""
    scene = turn.scene
    clause = turn.snapshot.clauses.get(follow.clause)
    # say which topic was taken when the message itself does not name it
    lead = turn.m("topic_taken", title=clause.title) if clause and not own_topic_words(turn.matcher, text) else ""
    turn.state.touch_topic()
    turn.state.missed(False)
    if follow.aspect == "where" and follow.faq_id is None:
        return contacts_for_clause(turn, follow.clause)
    if follow.aspect in ("documents", "apply") and (follow.faq_id is None or has_procedure(turn, follow.clause)):
        topic = turn.state.topic or {}
        return replies.procedure(scene, follow.clause, follow.aspect, calculator=str(topic.get("calculator") or ""))
    if follow.faq_id:
        faq = turn.snapshot.faq(follow.faq_id)
        if faq is not None:
            reply = replies.faq_answer(scene, faq, score=follow.score, lead=lead)
            topic = turn.state.topic or {}
            turn.state.set_topic(clause=faq.clause, faq=faq.id,
                                 calculator=faq.calculator or topic.get("calculator"))
            return with_procedure(turn, reply, text)
    return replies.clause_answer(scene, follow.clause, score=follow.score, lead=lead)


def has_procedure(turn: Turn, clause: str) -> bool:
    finder = getattr(turn.snapshot, "procedures_for", None)
    return bool(finder and finder(clause))


def with_procedure(turn: Turn, reply: Reply, text: str) -> Reply:
    """An answer to "怎么申请/要什么材料/去哪办" also gives the procedure staff entered for it."""
    aspect = aspect_of(text)
    if aspect is None or not reply.clause or not has_procedure(turn, reply.clause):
        return reply
    extra = replies.procedure(turn.scene, reply.clause, aspect)
    reply.reply = reply.reply + "\n" + "\n".join(extra.reply.split("\n")[1:-1])
    return reply


def maybe_start(turn: Turn, match: MatchResult, text: str) -> Reply | None:
    """Open a dialogue when someone asks whether they qualify ("我能领见习补贴吗", "我们厂能贷多少").

    Needs eligibility wording said of oneself: "个人创业贷款最多能贷多少" asks for the figure and
    gets the cited answer. The calculator is the one whose keywords the question uses (within the
    matched clause when there is one), else the matched FAQ's, else the clause's only one; several
    candidates give a numbered choice. The reply begins with the short cited FAQ answer.
    """
    named = understand.calculators_named(text, turn.forms)
    longest = max((len(k) for n in named for k in turn.forms[n].keywords if k in understand.plain(text)), default=0)
    if match.out_of_scope and longest < NAMED_OUTRIGHT:
        return None  # ("没有欠薪欠保，能申请创业担保贷款吗" names the loan: in scope whatever else it says)
    bare = re.sub(r"[\s，,。.!！?？~～]", "", text)
    if not ELIGIBILITY_RE.search(bare):
        return None
    if not understand.said_of_oneself(bare) and not states_facts(turn, named, text):
        return None
    best = match.best
    near = best is not None and (match.confident or best.score >= match.threshold * 0.6)
    clause = best.clause if near and best is not None else None
    faq = turn.snapshot.faq(best.faq_id) if near and best is not None and best.faq_id else None
    names = pick_calculators(turn.forms, bare, clause, faq.calculator if faq else "")
    if not names and not own_topic_words(turn.matcher, text):
        return calculators(turn, intro=turn.m("flows_which"))  # "我符合条件吗": which one?
    if not names:
        return None
    if clause is None:
        clause = turn.forms[names[0]].clause
    intro = replies.short_answer(turn.scene, faq) if faq is not None and faq.clause == clause else ""
    if len(names) > 1:
        reply = replies.calculators(turn.scene, turn.forms, intro=intro, names=names)
        reply.contacts = turn.snapshot.lead_contacts(clause)
    else:
        reply = start(turn, names[0], intro=intro, said=bare)
        reply.contacts = reply.contacts or turn.snapshot.lead_contacts(clause)
    reply.clause = clause
    if faq is not None and faq.clause == clause:
        reply.faq_id = faq.id
    reply.score = best.score if best is not None else None
    return reply


def pick_calculators(forms: dict[str, Form], text: str, clause: str | None, faq_calculator: str) -> list[str]:
    """Candidate calculators for a question, best first: the ones whose longest keyword the
    question uses (within the matched clause, unless another calculator's keyword is longer)."""
    scores = {n: max((len(k) for k in f.keywords if k in text), default=0) for n, f in forms.items()}
    pool = [n for n, f in forms.items() if clause is None or f.clause == clause]
    top = max((scores[n] for n in pool), default=0)
    overall = max(scores.values(), default=0)
    if overall >= NAMED_OUTRIGHT and overall > top + 1:
        return [n for n in forms if scores[n] == overall]  # "一次性创业补贴" named, whatever the words matched
    if overall and not top and clause is not None and not any(f.clause == clause for f in forms.values()):
        return [n for n in forms if scores[n] == overall]  # the matched clause has no calculator
    if top:
        return [n for n in pool if scores[n] == top]
    if faq_calculator in forms and (clause is None or forms[faq_calculator].clause == clause):
        return [faq_calculator]
    if clause is not None:
        return pool
    return []


# =============================================================================== offices
def offices_named(snap: Snapshot, folded: str) -> list:
    """Offices the message names, by name or by an alias no other office shares (镇政府 is
    everyone's); when one name contains another (红湾寺镇人民政府 ⊃ 红湾寺), keep the longest."""
    found: list = []
    covered: list[str] = []
    for term, office in snap.office_terms:
        if term in folded and not any(term in longer for longer in covered):
            covered.append(term)
            if office not in found:
                found.append(office)
    return found


def contacts_reply(turn: Turn, text: str, folded: str, match: MatchResult) -> Reply:
    """Whom to go to: the offices named; else the lead office of the policy asked about (only when
    the message names one); else of the current topic; else the county HR bureau — and the hotlines."""
    snap = turn.snapshot
    offices = offices_named(snap, folded)
    complaint = COMPLAINT_RE.search(folded) is not None
    if offices:
        cards = [o.contact() for o in offices[:3]]
        township = any(o.kind == "township" for o in offices[:3])
        reply = replies.contacts(turn.scene, cards, complaint=complaint, township=township)
        turn.state.set_topic(office=offices[0].name, clause=(turn.state.topic or {}).get("clause"))
        return reply
    clause_id = None
    topic = turn.state.topic
    follow = read_in_topic(turn.matcher, topic, text, match) if not complaint else None
    if follow is not None:
        clause_id = follow.clause  # "培训去哪报名" after the training answer: the training office
    elif own_topic_words(turn.matcher, text) and match.best is not None and \
            match.best.score >= match.threshold * 0.6 and not match.out_of_scope:
        clause_id = match.best.clause
    if clause_id is None and topic and topic.get("clause") and not complaint and not own_topic_words(turn.matcher, text):
        clause_id = str(topic["clause"])
    township = TOWNSHIP_RE.search(folded) is not None
    if clause_id and clause_id in snap.clauses:
        reply = replies.contacts(turn.scene, snap.lead_contacts(clause_id), clause_id=clause_id,
                                 complaint=complaint, township=township)
        turn.state.set_topic(clause=clause_id, faq=(topic or {}).get("faq"),
                             calculator=(topic or {}).get("calculator"))
        return reply
    return replies.contacts(turn.scene, turn.scene.county_contact(), complaint=complaint, township=True)


def contacts_for_clause(turn: Turn, clause_id: str) -> Reply:
    snap = turn.snapshot
    if clause_id not in snap.clauses:
        return replies.directory(turn.scene)
    return replies.contacts(turn.scene, snap.lead_contacts(clause_id), clause_id=clause_id)


def clause_reference(folded: str, clauses: dict) -> str | None:
    """The clause a message names explicitly: 第8条, 第十二条, 三部分（三）项."""
    m = PART3_REF.search(folded)
    if m:
        n = m.group(1)
        n = str("一二三四".index(n) + 1) if n in "一二三四" else n
        return f"III.{n}" if f"III.{n}" in clauses else None
    m = CLAUSE_REF.search(folded)
    if m:
        n = chinese_number(m.group(1))
        return str(n) if n is not None and str(n) in clauses else None
    return None


def chinese_number(token: str) -> int | None:
    """1..99 written in digits or Chinese numerals (八, 十二, 二十二)."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, units = token.partition("十")
        value = (CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (CN_DIGITS.get(units, 0) if units else 0)
        return value if (not tens or tens in CN_DIGITS) and (not units or units in CN_DIGITS) else None
    return CN_DIGITS.get(token) if len(token) == 1 else None


# =============================================================================== dialogues
def start(turn: Turn, name: str, intro: str = "", said: str = "") -> Reply:
    """Open the dialogue `name` (keeping an open one of another calculator resumable)."""
    state = turn.state
    current = turn.dialogues.load(state.dialogue)
    if current is not None and current.form.calculator != name and current.answers:
        state.suspend(current.form.calculator, current.state)
    state.take_suspended(name)
    form = turn.forms[name]
    outcome = turn.dialogues.begin(name, said=said)
    state.set_topic(clause=form.clause, calculator=name)
    parts = [intro] if intro else []
    if outcome.kind != "done":
        opening = form.intro + turn.m("flows_controls")
        if outcome.taken:
            opening += "\n" + turn.m("flows_prefilled", answers=turn.m("answers_sep").join(outcome.taken))
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
        note = turn.m("flows_noted", answers=turn.m("answers_sep").join(outcome.taken))
    return replies.question(turn.scene, dlg.form, dlg.prompt(), before=note)


def finish(turn: Turn, dlg: Dialogue, outcome: Outcome) -> Reply:
    state = turn.state
    form = dlg.form
    state.set_dialogue(None)
    state.finished(form.calculator)
    state.data["done"] = {"state": dlg.state, "at": turn.dialogues.now.isoformat()}
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
        return with_pending(turn, dlg, human(turn, clause=dlg.form.clause))
    match = turn.matcher.match(text)
    if match.smalltalk in FLOW_SMALLTALK and not Dialogues.looks_like_question(text, False):
        return with_pending(turn, dlg, Reply(turn.m(f"flows_smalltalk_{match.smalltalk}"), "smalltalk",
                                              locale=turn.scene.locale), plain=True)
    if side_question(turn, text, match) and not outcome.error.vague:
        side = answer_question(turn, text, in_dialogue=True)
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
        return ask(turn, Outcome("asked", dlg))
    if command == "human":
        return with_pending(turn, dlg, human(turn, clause=form.clause))
    if command in ("menu", "calc", "contacts"):
        # The dialogue waits (resumable by "继续"); the menu's numbers now pick menu items.
        state.suspend(form.calculator, dlg.state)
        state.set_dialogue(None)
        state.ask_confirm("resume")
        intro = turn.m("flows_paused", title=form.title)
        if command == "calc":
            return calculators(turn, intro=intro)
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
        answer = answer_question(turn, text)
        answer.reply = notice + "\n\n" + answer.reply
        return answer
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
    changed = [n for n in dlg.take_facts(text, overwrite=True) if before.get(n) != dlg.answers.get(n)]
    if not changed:
        return None
    note = turn.m("flows_what_if", answers=turn.m("answers_sep").join(dlg.summary(changed)))
    return after(turn, turn.dialogues.advance(dlg, note=note))


def fresh(turn: Turn, done: dict) -> bool:
    try:
        at = dt.datetime.fromisoformat(str(done.get("at")))
    except ValueError:
        return False
    return turn.dialogues.now - at <= dt.timedelta(hours=DONE_KEEP_HOURS)
