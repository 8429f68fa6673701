"""The conversation engine: one message in, one reply out, whatever the channel.

Order of one message (ARCHITECTURE.md "The way of one message"):
  1. commands: 菜单 / 测算 / 返回 / 重新开始 / 退出 / 语言, and numbers answering an offered choice
  2. an open eligibility dialogue (bot.flows)
  3. smalltalk, "where / whom / phone" questions (office directory)
  4. the matcher: a cited answer above the confidence threshold, else a fallback with
     "您是不是想问" choices and the hotlines.
State (offered options, locale, dialogue) is stored per user in the database.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.matcher import Matcher, MatchResult
from knowledge.models import Conversation, QuestionLog
from knowledge.service import Snapshot, citation, load_snapshot, pack_version
from knowledge.textnorm import fold, has_mongolian

from . import flows
from .i18n import msg
from .reply import Incoming, Reply

MAX_TEXT = 5000          # longer messages are cut before matching (a politeness, not an error)
THEME_OPTIONS = 8
THEMES = [  # menu order: (theme id, clause ids) — labels come from the catalog
    ("startup", ["10", "11"]),
    ("internship", ["12"]),
    ("training", ["13", "14", "15", "16", "17"]),
    ("enterprise", ["8", "9", "III.4"]),
    ("unemployment", ["18", "19"]),
    ("hardship", ["20"]),
    ("rural", ["4", "5"]),
    ("economy", ["1", "2", "3", "6", "7"]),
    ("monitoring", ["21", "22"]),
    ("overview", ["I", "III.1", "III.2", "III.3"]),
]

COMMANDS = {
    "menu": {"菜单", "目录", "主菜单", "帮助", "menu", "help", "功能", "政策问答", "政策清单", "?", "？"},
    "calc": {"测算", "补贴测算", "计算", "算一算", "资格测算", "calc"},
    "back": {"返回", "上一步", "上一题", "back"},
    "restart": {"重新开始", "重来", "restart"},
    "exit": {"退出", "结束", "取消", "不算了", "exit", "quit"},
    "resume": {"继续", "继续测算", "接着算"},
    "contacts": {"办事指南", "服务机构", "联系方式", "电话", "通讯录"},
    "language": {"语言", "language", "蒙古文", "蒙文", "中文", "汉语"},
}
_COMMAND_OF = {word: name for name, words in COMMANDS.items() for word in words}

CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

CONTACT_RE = re.compile(
    r"电话|手机号|号码|联系方式|怎么联系|咋联系|在哪|在那|哪儿|哪里|哪里办|去哪|到哪|地址|位置|找谁|找哪|哪个部门|哪个单位|"
    r"什么部门|啥部门|哪个窗口|窗口|几点|上班时间|办公时间|周六|周末|投诉|举报|监督电话|打不通|没人接|人社所|服务中心|"
    r"谁管|归谁管|哪个局|联系人"
)
# Words that name an office rather than a place.
OFFICE_WORD_RE = re.compile(r"人社|政府|民政|[^结]局|服务站|服务中心|服务所|办事处|办事大厅|政务大厅|窗口|部门|单位")
COMPLAINT_RE = re.compile(r"投诉|举报|监督|不作为|没发下来|拖着不办|不给办")


def today_in(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


@dataclass
class Context:
    """What one message's handling can see and change."""

    engine: "Engine"
    session: Session
    snapshot: Snapshot
    user: str
    state: dict[str, Any]
    locale: str
    today: dt.date
    channel: str
    new_locale: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def answer_question(self, text: str) -> Reply:
        """Answer a free question (used by dialogues for an interruption)."""
        return self.engine.answer_text(self, text)

    def offer(self, reply: Reply, actions: list[dict[str, Any]]) -> Reply:
        """Remember what each numbered option of `reply` does, for the person's next message."""
        self.state["offered"] = [dict(a, key=o["key"]) for o, a in zip(reply.options, actions)]
        return reply


class Engine:
    """Channel-agnostic engine. Build once per process; `handle` is thread-safe."""

    def __init__(self, db: Database, settings: dict[str, Any] | None = None,
                 clock: Callable[[], dt.date] | None = None, log_questions: bool = True):
        self.db = db.init()
        self.settings = settings or {}
        pinned = self.settings.get("TODAY")
        tz = self.settings.get("TIMEZONE") or "Asia/Shanghai"
        self.clock = clock or ((lambda: dt.date.fromisoformat(pinned)) if pinned else (lambda: today_in(tz)))
        self.log_questions = log_questions
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._matcher: Matcher | None = None
        threshold = self.settings.get("MATCH_THRESHOLD")
        self.threshold = float(threshold) if threshold not in (None, "") else None
        self.refresh()

    # -- knowledge snapshot -------------------------------------------------------------
    def refresh(self, session: Session | None = None) -> Snapshot:
        """Rebuild the in-memory pack when staff changed it (pack version moved)."""
        def load(s: Session) -> Snapshot:
            version = pack_version(s)
            if self._snapshot is None or self._snapshot.version != version:
                with self._lock:
                    if self._snapshot is None or self._snapshot.version != version:
                        snap = load_snapshot(s)
                        self._matcher = Matcher.build(snap, threshold=self.threshold)
                        self._snapshot = snap
            return self._snapshot  # type: ignore[return-value]

        if session is not None:
            return load(session)
        with self.db.session() as s:
            return load(s)

    @property
    def snapshot(self) -> Snapshot:
        assert self._snapshot is not None
        return self._snapshot

    @property
    def matcher(self) -> Matcher:
        assert self._matcher is not None
        return self._matcher

    # -- one message -------------------------------------------------------------------
    def handle(self, incoming: Incoming) -> Reply:
        user = (incoming.user or "anonymous")[:128]
        with self.db.session() as session:
            snapshot = self.refresh(session)
            conv = session.get(Conversation, user)
            if conv is None:
                conv = Conversation(user=user, locale=incoming.locale or "zh", state={})
                session.add(conv)
            state = dict(conv.state or {})
            locale = incoming.locale or conv.locale or "zh"
            ctx = Context(self, session, snapshot, user, state, locale, self.clock(), incoming.channel)
            reply = self._dispatch(ctx, incoming)
            reply.locale = ctx.new_locale or ctx.locale
            conv.state = ctx.state
            conv.locale = ctx.new_locale or conv.locale
            conv.updated_at = dt.datetime.now(dt.timezone.utc)
            if self.log_questions and incoming.text:
                session.add(QuestionLog(user=user, channel=incoming.channel, text=incoming.text[:2000],
                                        kind=reply.kind, clause=reply.clause, faq_id=reply.faq_id,
                                        score=reply.score))
        return reply

    def _dispatch(self, ctx: Context, incoming: Incoming) -> Reply:
        if incoming.event:
            return self._event(ctx, incoming.event)
        raw = (incoming.text or "")[:MAX_TEXT]
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text or not fold(text):
            if text and has_mongolian(text):
                return self._mongolian(ctx)
            if flows.is_open(ctx):  # an emoji or a sticker mid-dialogue: explain and ask again
                reply = flows.handle(ctx, text)
                if reply is not None:
                    return reply
            return self.menu(ctx, intro=msg("empty_text" if not text else "no_words", ctx.locale))
        command = _COMMAND_OF.get(text.lower().rstrip("。.!！"))
        if command:
            reply = self._command(ctx, command)
            if reply is not None:
                return reply
        number = parse_choice(text)
        if number is not None:
            reply = self._choose(ctx, number)
            if reply is not None:
                return reply
        if flows.is_open(ctx):
            reply = flows.handle(ctx, text)
            if reply is not None:
                return reply
            answer = self.answer_text(ctx, text)
            return self._resume_offer(ctx, answer)
        ctx.state.pop("offered", None)
        return self.answer_text(ctx, text)

    # -- commands, events, choices --------------------------------------------------------
    def _command(self, ctx: Context, name: str) -> Reply | None:
        if name in ("back", "restart", "exit", "resume"):
            if flows.is_open(ctx) or name in ("resume", "restart"):
                reply = flows.command(ctx, name)
                if reply is not None:
                    return reply
            if name == "exit":
                ctx.state.pop("dialogue", None)
                return self.menu(ctx, intro=msg("nothing_open", ctx.locale))
            return self.menu(ctx, intro=msg("nothing_open", ctx.locale))
        if name == "menu":
            return self.menu(ctx)
        if name == "calc":
            return flows.list_calculators(ctx)
        if name == "contacts":
            return self.directory(ctx)
        if name == "language":
            return self.menu(ctx, intro=msg("language_zh_only", ctx.locale))
        return None

    def _event(self, ctx: Context, event: str) -> Reply:
        if event == "subscribe":
            return self.menu(ctx, intro=msg("welcome", ctx.locale))
        if event.startswith("menu:"):
            key = event.split(":", 1)[1].upper()
            if key in ("CALC", "CALCULATORS"):
                return flows.list_calculators(ctx)
            if key in ("CONTACTS", "OFFICES", "GUIDE"):
                return self.directory(ctx)
            if key.startswith("CALC_"):
                return flows.start(ctx, key[5:].lower())
            return self.menu(ctx)
        return self.menu(ctx)

    def _choose(self, ctx: Context, number: int) -> Reply | None:
        offered = ctx.state.get("offered") or []
        action = next((a for a in offered if a.get("key") == str(number)), None)
        if action is None:
            if flows.is_open(ctx):
                return None  # a number may be a dialogue answer
            if offered or number in range(0, 11):
                return self.menu(ctx, intro=msg("unknown_choice", ctx.locale))
            return None
        ctx.state.pop("offered", None)
        kind = action.get("type")
        if kind == "theme":
            return self.theme(ctx, action["id"])
        if kind == "faq":
            faq = ctx.snapshot.faq(action["id"])
            if faq:
                return self.faq_reply(ctx, faq, score=1.0)
        if kind == "clause":
            return self.clause_reply(ctx, action["id"])
        if kind == "calc":
            return flows.start(ctx, action["name"])
        if kind in ("calc_list", "calc_menu"):
            return flows.list_calculators(ctx)
        if kind == "resume":
            return flows.command(ctx, "resume") or self.menu(ctx)
        if kind == "exit":
            return flows.command(ctx, "exit") or self.menu(ctx)
        if kind == "contacts":
            return self.directory(ctx)
        if kind == "menu":
            return self.menu(ctx)
        return self.menu(ctx)

    def _resume_offer(self, ctx: Context, answer: Reply) -> Reply:
        answer.reply = answer.reply + "\n\n" + msg("resume_question", ctx.locale)
        answer.options = [{"key": "1", "label": msg("resume_yes", ctx.locale)},
                          {"key": "2", "label": msg("resume_no", ctx.locale)}]
        return ctx.offer(answer, [{"type": "resume"}, {"type": "exit"}])

    def _mongolian(self, ctx: Context) -> Reply:
        return self.menu(ctx, intro=msg("mongolian_received", ctx.locale))

    # -- replies -----------------------------------------------------------------------
    def menu(self, ctx: Context, intro: str = "") -> Reply:
        options = [{"key": str(i), "label": msg(f"theme_{theme}", ctx.locale)}
                   for i, (theme, _) in enumerate(THEMES, 1)]
        options.append({"key": str(len(options) + 1), "label": msg("menu_calc", ctx.locale)})
        options.append({"key": str(len(options) + 1), "label": msg("menu_contacts", ctx.locale)})
        text = (intro + "\n\n" if intro else "") + msg("menu_intro", ctx.locale)
        reply = Reply(text, "menu", options=options, locale=ctx.locale)
        actions = [{"type": "theme", "id": theme} for theme, _ in THEMES]
        actions += [{"type": "calc_list"}, {"type": "contacts"}]
        return ctx.offer(reply, actions)

    def theme(self, ctx: Context, theme: str) -> Reply:
        clause_ids = dict(THEMES).get(theme, [])
        by_clause = {cid: [f for f in ctx.snapshot.faqs if f.clause == cid] for cid in clause_ids}
        # round-robin over the theme's clauses in the pack's order, so each clause shows its
        # leading questions first; at most 8 options keep a chat bubble readable
        picked: list = []
        for rank in range(max((len(v) for v in by_clause.values()), default=0)):
            picked += [faqs[rank] for faqs in by_clause.values() if rank < len(faqs)]
        picked = picked[:THEME_OPTIONS]
        options = [{"key": str(i), "label": f.question} for i, f in enumerate(picked, 1)]
        reply = Reply(msg("theme_intro", ctx.locale, theme=msg(f"theme_{theme}", ctx.locale)), "menu",
                      options=options, locale=ctx.locale)
        return ctx.offer(reply, [{"type": "faq", "id": f.id} for f in picked])

    def faq_reply(self, ctx: Context, faq, score: float | None) -> Reply:
        view = ctx.snapshot.parameters.at(ctx.today)
        text = view.render(faq.answer)
        notes = []
        for name in faq.windows:
            window = view.get(name)
            if window is not None and hasattr(window, "expired") and window.expired(ctx.today):
                lead = "、".join(ctx.snapshot.clauses[faq.clause].lead_offices) if faq.clause in ctx.snapshot.clauses else ""
                notes.append(msg("window_expired", ctx.locale, window=window.text(),
                                 office=lead or msg("lead_office_unknown", ctx.locale)))
        if notes:
            text = text + "\n" + "\n".join(dict.fromkeys(notes))
        links = []
        if faq.calculator:
            links.append({"title": msg("calc_link", ctx.locale), "url": f"/calc/{faq.calculator}"})
        links.append({"title": msg("clause_link", ctx.locale, citation=citation(faq.clause)),
                      "url": f"/policies/{faq.clause}"})
        return Reply(text, "answer", clause=faq.clause, faq_id=faq.id, score=score,
                     contacts=ctx.snapshot.lead_contacts(faq.clause), links=links, locale=ctx.locale)

    def clause_reply(self, ctx: Context, clause_id: str, score: float | None = None) -> Reply:
        clause = ctx.snapshot.clauses[clause_id]
        view = ctx.snapshot.parameters.at(ctx.today)
        text = msg("clause_answer", ctx.locale, title=clause.title, summary=view.render(clause.summary),
                   citation=clause.citation)
        return Reply(text, "answer", clause=clause_id, score=score, contacts=ctx.snapshot.lead_contacts(clause_id),
                     links=[{"title": msg("clause_link", ctx.locale, citation=clause.citation),
                             "url": f"/policies/{clause_id}"}], locale=ctx.locale)

    def directory(self, ctx: Context, intro: str = "") -> Reply:
        snap = ctx.snapshot
        lead = snap.office("县人社局")
        cards = [lead.contact()] if lead else []
        text = (intro + "\n" if intro else "") + msg("directory", ctx.locale, complaint=snap.complaint_hotline)
        return Reply(text, "contacts", contacts=cards,
                     links=[{"title": msg("offices_link", ctx.locale), "url": "/offices"}], locale=ctx.locale)

    def answer_text(self, ctx: Context, text: str) -> Reply:
        """Smalltalk, contacts, or the matcher's cited answer / fallback."""
        match = self.matcher.match(text)
        folded = fold(text)
        asked = clause_reference(folded, ctx.snapshot.clauses)
        if asked and not (match.confident and match.best is not None and match.best.clause == asked):
            return self.clause_reply(ctx, asked, score=1.0)  # "第8条说的啥": the clause itself
        wants_contact = CONTACT_RE.search(folded) is not None
        if match.smalltalk and not wants_contact:
            return Reply(msg(f"smalltalk_{match.smalltalk}", ctx.locale), "smalltalk", locale=ctx.locale)
        if wants_contact and (not match.out_of_scope or COMPLAINT_RE.search(folded) or OFFICE_WORD_RE.search(folded)
                              or any(o.kind != "township" for o in self.offices_named(ctx.snapshot, folded))):
            # "几点/在哪" about a bus or the weather is not a question for an office; a place
            # name alone (红湾寺) does not make it one, an office word (人社服务站) does
            return self.contacts_reply(ctx, folded, match)
        started = flows.maybe_start(ctx, match, text)  # "我能领……吗" opens the eligibility dialogue
        if started is not None:
            return started
        if match.confident and match.best is not None:
            best = match.best
            if best.faq_id:
                faq = ctx.snapshot.faq(best.faq_id)
                if faq:
                    return self.faq_reply(ctx, faq, score=best.score)
            return self.clause_reply(ctx, best.clause, score=best.score)
        return self.fallback(ctx, match)

    def contacts_reply(self, ctx: Context, folded: str, match: MatchResult) -> Reply:
        snap = ctx.snapshot
        offices = self.offices_named(snap, folded)
        clause_id = match.best.clause if match.best is not None and match.best.score >= match.threshold * 0.6 else None
        cards: list[dict[str, str]] = [o.contact() for o in offices[:3]]
        topic = ""
        if not cards and clause_id and clause_id in snap.clauses:
            cards = snap.lead_contacts(clause_id)
            topic = msg("contacts_topic", ctx.locale, title=snap.clauses[clause_id].title,
                        citation=citation(clause_id))
        if not cards:
            lead = snap.office("县人社局")
            cards = [lead.contact()] if lead else []
        names = "、".join(c["office"] for c in cards)
        published = [c for c in cards if c.get("phone")]
        lines = [topic] if topic else []
        if published:
            lines += [msg("contact_line", ctx.locale, office=c["office"], phone=c["phone"],
                          address=c.get("address") or msg("not_published", ctx.locale)) for c in published]
        else:
            lines.append(msg("contacts_unpublished", ctx.locale, offices=names))
        if COMPLAINT_RE.search(folded):
            lines.append(msg("complaint_line", ctx.locale, hotline=snap.complaint_hotline))
        lines.append(msg("hotlines", ctx.locale))
        return Reply("\n".join(lines), "contacts", clause=clause_id, contacts=cards,
                     links=[{"title": msg("offices_link", ctx.locale), "url": "/offices"}], locale=ctx.locale)

    @staticmethod
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

    def fallback(self, ctx: Context, match: MatchResult) -> Reply:
        options, actions = [], []
        if not match.out_of_scope:
            for cand in match.suggestions[:3]:
                label = cand.question or ctx.snapshot.clauses[cand.clause].title
                options.append({"key": str(len(options) + 1), "label": label})
                actions.append({"type": "faq", "id": cand.faq_id} if cand.faq_id else
                               {"type": "clause", "id": cand.clause})
        if match.out_of_scope:
            text = msg("out_of_scope", ctx.locale) + "\n" + msg("hotlines", ctx.locale)
        elif options:
            text = msg("fallback_suggest", ctx.locale)  # names the hotlines itself, before the choices
        else:
            text = msg("fallback", ctx.locale) + "\n" + msg("hotlines", ctx.locale)
        reply = Reply(text, "fallback", score=match.best.score if match.best else None, options=options,
                      locale=ctx.locale)
        return ctx.offer(reply, actions) if options else reply


CLAUSE_REF = re.compile(r"第\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*条")
PART3_REF = re.compile(r"第?三部分\s*第?\s*[(（]?\s*([一二三四1-4])\s*[)）]?\s*项?")


def chinese_number(token: str) -> int | None:
    """1..99 written in digits or Chinese numerals (八, 十二, 二十二)."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, units = token.partition("十")
        value = (CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (CN_DIGITS.get(units, 0) if units else 0)
        return value if (not tens or tens in CN_DIGITS) and (not units or units in CN_DIGITS) else None
    return CN_DIGITS.get(token) if len(token) == 1 else None


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


def parse_choice(text: str) -> int | None:
    """A bare number (1, １, 一, 第二个, 3.) answering an offered choice."""
    t = text.strip().strip("。.、)）").replace("第", "").replace("个", "").replace("项", "").replace("号", "")
    if t.isdigit() and len(t) <= 3:
        return int(t)
    if len(t) == 1 and t in CN_DIGITS:
        return CN_DIGITS[t]
    return None
