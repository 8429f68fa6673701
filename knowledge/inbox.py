"""What residents asked that the assistant could not answer well, and how the service is used.

The unanswered inbox gathers every fallback and low-confidence answer from the question log,
groups near-identical questions (so "见习要带啥材料" asked thirty ways is one row with a count
and dates), and remembers what staff did with each. `usage` gives the dashboard's numbers.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Callback, DialogueEvent, InboxMark, QuestionLog
from .textnorm import fold

LOW_CONFIDENCE = 0.33     # an answer scored below this is reviewed too (the matcher's threshold is 0.26)
SIMILAR = 62              # rapidfuzz ratio (0-100) at which two questions are one group
WINDOW_DAYS = 90
STAFF_CHANNELS = ("console",)  # the console's 试一试 box: not residents' questions
MAX_ROWS = 5000


@dataclass
class Group:
    text: str                    # the most asked wording
    count: int
    first: dt.datetime
    last: dt.datetime
    ids: list[int] = field(default_factory=list)
    wordings: list[tuple[str, int]] = field(default_factory=list)  # (wording, times), most asked first
    kinds: Counter = field(default_factory=Counter)
    faq_ids: Counter = field(default_factory=Counter)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _unanswered(row: QuestionLog) -> bool:
    return row.kind == "fallback" or (row.kind == "answer" and row.score is not None and row.score < LOW_CONFIDENCE)


def _key(text: str) -> str:
    return fold(text).replace(" ", "")


class Inbox:
    def __init__(self, session: Session, now: dt.datetime | None = None):
        self.session = session
        self.now = now or dt.datetime.now(dt.timezone.utc)

    def _rows(self, days: int) -> list[QuestionLog]:
        since = self.now - dt.timedelta(days=days)
        marked = select(InboxMark.question_id)
        stmt = (select(QuestionLog).where(QuestionLog.at >= since, QuestionLog.channel.notin_(STAFF_CHANNELS),
                                          QuestionLog.id.notin_(marked))
                .order_by(QuestionLog.id.desc()).limit(MAX_ROWS))
        return [r for r in self.session.scalars(stmt) if _unanswered(r)]

    def groups(self, days: int = WINDOW_DAYS) -> list[Group]:
        """Open unanswered questions grouped by similarity, the most asked first."""
        exact: dict[str, list[QuestionLog]] = defaultdict(list)
        for row in self._rows(days):
            key = _key(row.text)
            if key:
                exact[key].append(row)
        groups: list[tuple[str, Group]] = []
        for key, rows in sorted(exact.items(), key=lambda kv: -len(kv[1])):
            home = next((g for lead, g in groups if fuzz.ratio(key, lead) >= SIMILAR
                         or (min(len(key), len(lead)) >= 6 and fuzz.partial_ratio(key, lead) >= 90)), None)
            if home is None:
                home = Group(rows[0].text.strip(), 0, _aware(rows[-1].at), _aware(rows[0].at))
                groups.append((key, home))
            home.count += len(rows)
            home.ids += [r.id for r in rows]
            home.wordings.append((rows[0].text.strip(), len(rows)))
            home.first = min(home.first, *(_aware(r.at) for r in rows))
            home.last = max(home.last, *(_aware(r.at) for r in rows))
            home.kinds.update(r.kind for r in rows)
            home.faq_ids.update(r.faq_id for r in rows if r.faq_id)
        out = [g for _, g in groups]
        out.sort(key=lambda g: (-g.count, -g.last.timestamp()))
        return out

    def mark(self, question_ids: list[int], action: str, by: str, target: str = "") -> int:
        """Record what staff did with these logged questions; they leave the inbox."""
        done = {m for m in self.session.scalars(select(InboxMark.question_id).where(
            InboxMark.question_id.in_(question_ids)))}
        known = set(self.session.scalars(select(QuestionLog.id).where(QuestionLog.id.in_(question_ids))))
        n = 0
        for qid in question_ids:
            if qid in known and qid not in done:
                self.session.add(InboxMark(question_id=qid, action=action, target=target[:100], by=by))
                n += 1
        self.session.flush()
        return n

    def texts(self, question_ids: list[int]) -> list[str]:
        rows = self.session.scalars(select(QuestionLog.text).where(QuestionLog.id.in_(question_ids)))
        return list(dict.fromkeys(t.strip() for t in rows))


@dataclass
class Usage:
    days: list[dt.date]
    answered: list[int]          # per day: answers, dialogue turns, menus, contacts, smalltalk
    fallback: list[int]          # per day: fallbacks
    weeks: list[tuple[dt.date, int, int]]  # (Monday, questions, fallbacks)
    top_clauses: list[tuple[str, int]]
    dialogues: list[tuple[str, int, int]]  # (calculator, started, completed)
    callbacks_waiting: int
    total: int


def usage(session: Session, today: dt.date, tz: str = "Asia/Shanghai", days: int = 30, weeks: int = 12) -> Usage:
    """Questions per day (answered / fallback), fallback rate per week, top clauses, dialogues, callbacks."""
    zone = ZoneInfo(tz)
    first_day = today - dt.timedelta(days=days - 1)
    first_week = today - dt.timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = dt.datetime.combine(min(first_day, first_week), dt.time(), zone).astimezone(dt.timezone.utc)
    per_day: dict[dt.date, list[int]] = {first_day + dt.timedelta(days=i): [0, 0] for i in range(days)}
    per_week: dict[dt.date, list[int]] = {first_week + dt.timedelta(weeks=i): [0, 0] for i in range(weeks)}
    clauses: Counter = Counter()
    total = 0
    stmt = select(QuestionLog.at, QuestionLog.kind, QuestionLog.clause).where(
        QuestionLog.at >= since, QuestionLog.channel.notin_(STAFF_CHANNELS))
    for at, kind, clause in session.execute(stmt):
        day = _aware(at).astimezone(zone).date()
        fell = kind == "fallback"
        if day in per_day:
            per_day[day][1 if fell else 0] += 1
            total += 1
            if clause and kind in ("answer", "flow", "contacts"):
                clauses[clause] += 1
        monday = day - dt.timedelta(days=day.weekday())
        if monday in per_week:
            per_week[monday][0] += 1
            per_week[monday][1] += int(fell)
    events: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ev_since = dt.datetime.combine(first_day, dt.time(), zone).astimezone(dt.timezone.utc)
    for calc, event in session.execute(select(DialogueEvent.calculator, DialogueEvent.event)
                                       .where(DialogueEvent.at >= ev_since)):
        events[calc][0 if event == "started" else 1] += 1
    waiting = session.scalar(select(func.count()).select_from(Callback)
                             .where(Callback.status == "waiting")) or 0
    return Usage(
        days=list(per_day), answered=[v[0] for v in per_day.values()], fallback=[v[1] for v in per_day.values()],
        weeks=[(d, v[0], v[1]) for d, v in per_week.items()], top_clauses=clauses.most_common(10),
        dialogues=sorted(((c, v[0], v[1]) for c, v in events.items()), key=lambda t: -t[1]),
        callbacks_waiting=int(waiting), total=total)


def record_dialogue(session: Session, user: str, calculator: str, event: str) -> None:
    """Note that a calculator dialogue was `started` or `completed` (the dashboard counts them)."""
    if event not in ("started", "completed"):
        raise ValueError("event must be 'started' or 'completed'")
    session.add(DialogueEvent(user=str(user or "")[:128], calculator=str(calculator)[:64], event=event))
