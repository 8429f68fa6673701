"""Answering a message outside a dialogue: contacts, smalltalk, a follow-up read in the topic, the
matcher's cited answer, a clarification, a fallback — or the plan to open a dialogue.

Reads the conversation state (topic, misses) and keeps the topic up to date; builds replies with
bot.replies. Opening a dialogue is left to the caller (bot.conversing): `answer_question` returns a
`StartPlan` for it, so answering never depends on the dialogue flow.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eligibility.dialogue import Dialogue, Form
from knowledge.matcher import MatchResult
from knowledge.runtime import theme_of
from knowledge.service import Snapshot
from knowledge.textnorm import fold

from . import facts, replies, understand
from .reply import Reply
from .topics import aspect_of, own_topic_words, read_in_topic
from .turn import Turn


CONTACT_RE = re.compile(
    r"电话|手机号|号码|联系方式|怎么联系|咋联系|在哪|在那(儿|里)?(办|申请|报名|交|领)|哪儿|哪里|哪里办|去哪|到哪|地址|位置|找谁|找哪|哪个部门|哪个单位|"
    r"什么部门|啥部门|哪个窗口|窗口|几点|上班时间|办公时间|周六|周末|投诉|举报|监督电话|打不通|没人接|人社所|服务中心|"
    r"谁管|归谁管|哪个局|联系人|办事的地方|能办.{0,8}的地方|乡上能办|镇上能办|有人上班|"
    # English ("What's the phone number of…", "Where do I go to apply…")
    r"\bphone\b|telephone|contact (number|details|information)|\baddress\b|which office|what office|"
    r"township office|office hours|opening hours|where (do|can|should|could|would) (i|we)\b|where to (go|apply)|"
    r"(have|need) to go (to|there)"
)
# "还有别的能申请的吗", "其他政策呢": what else there is — not "还有什么条件" about the same measure.
OTHERS_RE = re.compile(r"(别的|其他|其它|另外|还有(啥|什么|哪些))[^，,。？?]{0,6}"
                       r"(政策|补贴|补助|扶持|优惠|好处|帮扶|项目|申请|能领|可以领|享受)|(别的|其他的?|其它的?|还有(啥|什么|哪些))(呢|吗|没有?)?$")
# After another place's policy: "那咱肃南的呢", "我们这边呢", "本县呢" ask the same for Sunan.
LEADING_DE_RE = re.compile(r"^\s*的")  # "高台县的创业贷款…" without the county
HERE_TOO_RE = re.compile(r"(肃南|咱|我们|本县|县上|县里|这边|这里).{0,6}(呢|吗|咋样|怎么样|有没有|多少)")
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


NAMED_OUTRIGHT = 4       # a calculator keyword this long names it outright (一次性创业, 建档立卡)


@dataclass(frozen=True)


class StartPlan:
    """A dialogue to open: the calculator, what to say first, the words that may answer its questions."""

    name: str
    intro: str = ""
    said: str = ""
    clause: str | None = None
    faq_id: str | None = None
    score: float | None = None


def answer_question(turn: Turn, text: str, in_dialogue: bool = False) -> Reply | StartPlan:
    """Contacts, smalltalk, a topic follow-up, the matcher's cited answer, or a fallback — or the
    plan to open a dialogue ("我能领……吗", facts for the topic's calculator), which the caller starts
    (never `in_dialogue`: there a question is a side question)."""
    scene, matcher = turn.scene, turn.matcher
    match = matcher.match(text)
    folded = fold(text)
    asked = clause_reference(folded, turn.snapshot.clauses)
    if asked and not (match.confident and match.best is not None and match.best.clause == asked):
        return remember(turn, replies.clause_answer(scene, asked, score=1.0))  # "第8条说的啥"
    wants_contact = CONTACT_RE.search(FUNDING_RE.sub("", folded)) is not None
    if not in_dialogue and len(folded) <= 24 and OTHERS_RE.search(folded.replace(" ", "")) \
            and not own_topic_words(matcher, text):
        return what_else(turn)
    if match.smalltalk and not wants_contact:
        return replies.smalltalk(scene, match.smalltalk)
    follow_on = turn.state.topic is not None and not match.oos_term and not match.elsewhere \
        and not own_topic_words(matcher, text)
    office_named = any(o.kind != "township" for o in offices_named(turn.snapshot, folded))
    if wants_contact and (not match.out_of_scope or not (match.oos_term or match.elsewhere) or follow_on
                          or COMPLAINT_RE.search(folded) or office_named):
        # "咨询电话给一个", "周末有人上班吗": asking for an office is in scope unless the message
        # names something outside the plan ("公积金在哪办", "事业单位招考在哪报名", a bus, the
        # weather) — and even then when it names one of the plan's offices or complains
        return contacts_reply(turn, text, folded, match)
    if match.elsewhere or compares_elsewhere(turn, folded):
        turn.state.data["elsewhere_asked"] = text  # "那咱肃南的呢" next asks it for Sunan
        return replies.out_of_scope(scene, elsewhere=True)
    asked_elsewhere = turn.state.data.pop("elsewhere_asked", None)
    if isinstance(asked_elsewhere, str) and not in_dialogue and HERE_TOO_RE.search(folded.replace(" ", "")) \
            and not own_topic_words(matcher, text):
        here = asked_elsewhere
        for place in (*matcher.decisive_terms, *matcher.weak_decisive_terms):
            here = here.replace(place, "")
        if here != asked_elsewhere and here.strip():
            return answer_question(turn, LEADING_DE_RE.sub("", here).strip())
    topic_calc = (turn.state.topic or {}).get("calculator")
    if not in_dialogue and topic_calc in turn.forms and not understand.ASK_RE.search(text) \
            and states_facts(turn, [topic_calc], text, at_least=1, told=True):
        return StartPlan(topic_calc, said=text)  # "今年考核没通过" after the incubator answer
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
            return remember(turn, faq_reply(turn, faq, best.score, text))
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


# "山丹县的创业补贴跟肃南一样不": naming Sunan to compare is still asking about the other place.
COMPARE_RE = re.compile(r"一样|相比|比较|区别|不同|差别|哪个(好|高|多)|比肃南|比咱")


def compares_elsewhere(turn: Turn, folded: str) -> bool:
    return COMPARE_RE.search(folded) is not None and any(t in folded for t in turn.matcher.decisive_terms)


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
            reply = faq_reply(turn, faq, follow.score, text, lead=lead)
            topic = turn.state.topic or {}
            turn.state.set_topic(clause=faq.clause, faq=faq.id,
                                 calculator=faq.calculator or topic.get("calculator"))
            return with_procedure(turn, reply, text)
    return replies.clause_answer(scene, follow.clause, score=follow.score, lead=lead)


def faq_reply(turn: Turn, faq: Any, score: float | None, text: str, lead: str = "") -> Reply:
    """An FAQ answer to `text`: a fact the question states outside a figure the answer quotes
    ("我25岁…能参加见习吗") is said first; the procedure staff entered goes with "怎么申请"."""
    view = turn.scene.params
    warnings = [turn.m("facts_outside", said=text_of(q, text), relation=turn.m("facts_below" if b.lower else "facts_above"),
                       what=view.params.definition(b.name).description, limit=view.text(b.name))
                for q, b in facts.outside(view, faq, text)]
    lead = "".join(warnings) + lead
    return with_procedure(turn, replies.faq_answer(turn.scene, faq, score=score, lead=lead), text)


def text_of(q: Any, text: str) -> str:
    from eligibility.answers import clean

    return clean(text)[q.start:q.end]


def has_procedure(turn: Turn, clause: str) -> bool:
    return bool(turn.snapshot.procedures_for(clause))


def with_procedure(turn: Turn, reply: Reply, text: str) -> Reply:
    """An answer to "怎么申请/要什么材料/去哪办" also gives the procedure staff entered for it."""
    aspect = aspect_of(text)
    if aspect is None or not reply.clause or not has_procedure(turn, reply.clause):
        return reply
    extra = replies.procedure(turn.scene, reply.clause, aspect)
    reply.reply = reply.reply + "\n" + "\n".join(extra.reply.split("\n")[1:-1])
    return reply


def maybe_start(turn: Turn, match: MatchResult, text: str) -> Reply | StartPlan | None:
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
    faq_id = faq.id if faq is not None and faq.clause == clause else None
    score = best.score if best is not None else None
    if len(names) == 1:
        return StartPlan(names[0], intro=intro, said=bare, clause=clause, faq_id=faq_id, score=score)
    reply = replies.calculators(turn.scene, turn.forms, intro=intro, names=names)
    reply.contacts = turn.snapshot.lead_contacts(clause)
    reply.clause = clause
    reply.faq_id = faq_id
    reply.score = score
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


def human(turn: Turn, clause: str | None = None, intro: str = "") -> Reply:
    topic = turn.state.topic
    clause = clause or (topic or {}).get("clause")
    return replies.handoff(turn.scene, clause, intro=intro)


# =============================================================================== answering


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


def what_else(turn: Turn) -> Reply:
    """The other measures of the topic's theme (the entry just answered left out), or the menu."""
    topic = turn.state.topic or {}
    theme_id = theme_of(str(topic.get("clause") or ""))
    turn.state.missed(False)
    if theme_id is None:
        return replies.menu(turn.scene)
    return replies.theme(turn.scene, theme_id, others_than=str(topic.get("faq") or ""))


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
    # the words that ask for an office (电话, 投诉电话, 地址) name no policy of their own
    words = [w for w in own_topic_words(turn.matcher, text) if not CONTACT_RE.search(w) and not COMPLAINT_RE.search(w)]
    follow = read_in_topic(turn.matcher, topic, text, match) if not complaint else None
    topic_clause = str(topic["clause"]) if topic and topic.get("clause") else None
    if follow is not None:
        clause_id = follow.clause  # "培训去哪报名" after the training answer: the training office
    elif words and not complaint and topic_clause and \
            all(topic_clause in turn.matcher.clauses_using(w) for w in words):
        clause_id = topic_clause  # every word it names fits the topic (培训, mid-way through the training sum)
    elif words and not complaint and match.best is not None and \
            match.best.score >= match.threshold * 0.6 and not match.out_of_scope:
        clause_id = match.best.clause
    if clause_id is None and topic and topic.get("clause") and not complaint and not words:
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
