"""Read the knowledge pack from the database; staff edits with history.

`load_snapshot(session)` builds an immutable in-memory view (clauses, FAQ,
offices, lexicon, parameters) that the matcher and calculators use; a staff edit
bumps the pack version so every worker rebuilds its snapshot on the next message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Clause, Edit, Faq, LexiconEntry, Office, Parameter, ParameterValue, Setting
from .parameters import UNITS, DatedValue, ParameterDef, ParameterError, Parameters, to_date
from .textnorm import fold

HOTLINES = ("12333", "12345")


class KnowledgeError(Exception):
    """Base error of the knowledge package: a code and a message staff can read."""

    code = "knowledge_error"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(KnowledgeError):
    code = "not_found"


class InvalidEdit(KnowledgeError):
    code = "invalid"


@dataclass(frozen=True)
class ClauseInfo:
    id: str
    sort: int
    section: str
    theme: str
    title: str
    summary: str
    text: str
    lead_offices: tuple[str, ...]
    responsible_offices: tuple[str, ...]
    target_groups: tuple[str, ...]

    @property
    def citation(self) -> str:
        return citation(self.id)


@dataclass(frozen=True)
class FaqInfo:
    id: str
    clause: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    windows: tuple[str, ...]
    calculator: str
    intent: str


@dataclass(frozen=True)
class OfficeInfo:
    id: str
    name: str
    full_name: str
    kind: str
    aliases: tuple[str, ...]
    duties: str
    phone: str
    address: str
    hours: str
    note: str

    def contact(self) -> dict[str, str]:
        """The reply-contract contact card; an empty phone means "not yet published"."""
        return {"office": self.name, "phone": self.phone, "address": self.address,
                "hours": self.hours, "hotline": "12333"}


@dataclass
class Snapshot:
    version: int
    clauses: dict[str, ClauseInfo]
    faqs: list[FaqInfo]
    offices: dict[str, OfficeInfo]  # by name
    terms: list[str]
    synonyms: dict[str, str]
    stopwords: set[str]
    out_of_scope: list[dict[str, Any]]
    smalltalk: list[dict[str, Any]]
    parameters: Parameters
    settings: dict[str, Any] = field(default_factory=dict)

    def faq(self, faq_id: str) -> FaqInfo | None:
        return next((f for f in self.faqs if f.id == faq_id), None)

    def office(self, name: str) -> OfficeInfo | None:
        if name in self.offices:
            return self.offices[name]
        for office in self.offices.values():
            if name in office.aliases:
                return office
        return None

    def lead_contacts(self, clause_id: str | None) -> list[dict[str, str]]:
        """Contact cards of a clause's lead offices (hotline cards when it names none)."""
        clause = self.clauses.get(clause_id or "")
        cards = []
        for name in (clause.lead_offices if clause else ()):
            office = self.office(name)
            cards.append(office.contact() if office else
                         {"office": name, "phone": "", "address": "", "hours": "", "hotline": "12333"})
        return cards

    @cached_property
    def office_terms(self) -> list[tuple[str, "OfficeInfo"]]:
        """(folded name or alias, office) for every term only one office answers to, longest first."""
        owners: dict[str, set[str]] = {}
        for office in self.offices.values():
            if office.kind == "hotline":
                continue
            for term in {office.name, *office.aliases}:
                term = fold(term)
                if len(term) >= 2:
                    owners.setdefault(term, set()).add(office.name)
        unique = [(t, self.offices[next(iter(n))]) for t, n in owners.items() if len(n) == 1]
        return sorted(unique, key=lambda pair: len(pair[0]), reverse=True)

    @property
    def complaint_hotline(self) -> str:
        """The county's complaint number once staff enter it; until then 12345 to call instead."""
        return str(self.settings.get("complaint_hotline") or "12345")

    @property
    def complaint_published(self) -> bool:
        """Whether staff entered the county's own complaint number (12345 is not it: the plan
        asks the county to publish one, and until then one says "投诉电话公布前，可拨打12345")."""
        return bool(str(self.settings.get("complaint_hotline") or "").strip())


def citation(clause_id: str) -> str:
    if clause_id == "I":
        return "实施方案“总体要求”"
    if clause_id.startswith("III."):
        n = "一二三四"[int(clause_id.split(".")[1]) - 1]
        return f"实施方案第三部分第（{n}）项"
    return f"实施方案第{clause_id}条"


def pack_version(session: Session) -> int:
    row = session.get(Setting, "pack_version")
    return int(row.value) if row and row.value is not None else 0


def _bump_version(session: Session) -> None:
    row = session.get(Setting, "pack_version")
    if row is None:
        session.add(Setting(key="pack_version", value=1))
    else:
        row.value = int(row.value or 0) + 1


def load_parameters(session: Session) -> Parameters:
    defs = []
    for p in session.scalars(select(Parameter)):
        values = [DatedValue(v.effective, v.value, v.source, v.author, v.reason) for v in p.values]
        defs.append(ParameterDef(p.name, p.description, p.clause, p.unit, p.quote, values, p.window_param or ""))
    return Parameters(defs)


def load_snapshot(session: Session) -> Snapshot:
    clauses = {
        c.id: ClauseInfo(c.id, c.sort, c.section, c.theme, c.title, c.summary, c.text, tuple(c.lead_offices),
                         tuple(c.responsible_offices), tuple(c.target_groups))
        for c in session.scalars(select(Clause).order_by(Clause.sort))
    }
    faqs = [
        FaqInfo(f.id, f.clause, f.question, tuple(f.phrasings), f.answer, tuple(f.windows), f.calculator, f.intent)
        for f in session.scalars(select(Faq).where(Faq.enabled.is_(True)).order_by(Faq.sort, Faq.id))
    ]
    offices = {
        o.name: OfficeInfo(o.id, o.name, o.full_name, o.kind, tuple(o.aliases), o.duties, o.phone, o.address, o.hours, o.note)
        for o in session.scalars(select(Office).order_by(Office.sort))
    }
    lex = session.scalars(select(LexiconEntry)).all()
    settings = {s.key: s.value for s in session.scalars(select(Setting))}
    return Snapshot(
        version=int(settings.get("pack_version") or 0),
        clauses=clauses,
        faqs=faqs,
        offices=offices,
        terms=[e.term for e in lex if e.kind == "term"],
        synonyms={e.term: e.target for e in lex if e.kind == "synonym"},
        stopwords={e.term for e in lex if e.kind == "stopword"},
        out_of_scope=list(settings.get("out_of_scope") or []),
        smalltalk=list(settings.get("smalltalk") or []),
        parameters=load_parameters(session),
        settings=settings,
    )


class StaffService:
    """Staff edits: FAQ entries, office contacts, dated parameter overrides. Every edit is logged."""

    FAQ_EDITABLE = ("question", "phrasings", "answer", "windows", "calculator", "enabled", "clause")
    OFFICE_EDITABLE = ("phone", "address", "hours", "note", "aliases", "duties", "full_name")

    def __init__(self, session: Session):
        self.session = session

    def _log(self, entity: str, entity_id: str, before: Any, after: Any, author: str, reason: str) -> None:
        self.session.add(Edit(entity=entity, entity_id=entity_id, before=before, after=after,
                              author=author, reason=reason))
        _bump_version(self.session)

    def _edit(self, model: type, label: str, entity: str, key: str, changes: dict[str, Any],
              editable: tuple[str, ...], author: str, reason: str) -> Any:
        """Apply a staff edit to one row: known fields only, logged with before/after."""
        row = self.session.get(model, key)
        if row is None:
            raise NotFound(f"没有编号为 {key} 的{label}", "id")
        unknown = set(changes) - set(editable)
        if unknown:
            raise InvalidEdit(f"不能修改字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
        before = {k: getattr(row, k) for k in changes}
        for k, v in changes.items():
            setattr(row, k, v)
        self._log(entity, key, before, changes, author, reason)
        self.session.flush()
        return row

    def update_faq(self, faq_id: str, changes: dict[str, Any], author: str, reason: str = "") -> Faq:
        if "answer" in changes:
            self._check_template(str(changes["answer"]))
        faq = self._edit(Faq, "问答", "faq", faq_id, changes, self.FAQ_EDITABLE, author, reason)
        faq.updated_by = author
        return faq

    def create_faq(self, data: dict[str, Any], author: str, reason: str = "") -> Faq:
        if not data.get("id") or self.session.get(Faq, data["id"]):
            raise InvalidEdit("问答编号为空或已存在", "id")
        if not data.get("answer") or not data.get("question") or not data.get("clause"):
            raise InvalidEdit("问题、答案和条款都必须填写", "answer")
        self._check_template(str(data["answer"]))
        last = self.session.scalar(select(Faq.sort).order_by(Faq.sort.desc()).limit(1)) or 0
        faq = Faq(id=data["id"], clause=str(data["clause"]), sort=last + 1, question=data["question"],
                  phrasings=list(data.get("phrasings") or []), answer=data["answer"],
                  windows=list(data.get("windows") or []), calculator=data.get("calculator") or "",
                  updated_by=author)
        self.session.add(faq)
        self._log("faq", faq.id, None, data, author, reason)
        self.session.flush()
        return faq

    def update_office(self, office_id: str, changes: dict[str, Any], author: str, reason: str = "") -> Office:
        return self._edit(Office, "单位", "office", office_id, changes, self.OFFICE_EDITABLE, author, reason)

    def set_setting(self, key: str, value: Any, author: str, reason: str = "") -> None:
        row = self.session.get(Setting, key)
        before = row.value if row else None
        if row is None:
            self.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        self._log("setting", key, before, value, author, reason)
        self.session.flush()

    def override_parameter(self, name: str, effective: Any, value: Any, author: str, reason: str) -> ParameterValue:
        """Record a new dated value for a figure; it wins over the pack's value from `effective` on."""
        param = self.session.get(Parameter, name)
        if param is None:
            raise NotFound(f"没有名为 {name} 的政策参数", "name")
        if not author:
            raise InvalidEdit("请填写修改人", "author")
        if not reason:
            raise InvalidEdit("请填写修改原因（如文件号）", "reason")
        try:
            day = to_date(effective)
        except ValueError:
            raise InvalidEdit("生效日期格式应为 YYYY-MM-DD", "effective") from None
        if day is None:
            raise InvalidEdit("请填写生效日期", "effective")
        value = self._check_value(param.unit, value)
        existing = self.session.scalar(select(ParameterValue).where(
            ParameterValue.name == name, ParameterValue.effective == day, ParameterValue.source == "staff"))
        before = existing.value if existing else None
        if existing is None:
            existing = ParameterValue(name=name, effective=day, value=value, source="staff",
                                      author=author, reason=reason)
            self.session.add(existing)
        else:
            existing.value, existing.author, existing.reason = value, author, reason
        self._log("parameter", name, before, {"effective": day.isoformat(), "value": value}, author, reason)
        self.session.flush()
        return existing

    @staticmethod
    def _check_value(unit: str, value: Any) -> Any:
        if value is None:
            return None  # a repeal
        if unit == "window":
            if not isinstance(value, dict) or "start" not in value:
                raise InvalidEdit("执行期应包含开始日期 start（和可选的结束日期 end）", "value")
            try:
                start, end = to_date(value["start"]), to_date(value.get("end"))
            except ValueError:
                raise InvalidEdit("日期格式应为 YYYY-MM-DD", "value") from None
            if start is None or (end is not None and end < start):
                raise InvalidEdit("结束日期不能早于开始日期", "value")
            return {"start": start.isoformat(), "end": end.isoformat() if end else None}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(str(value).strip())
            except ValueError:
                raise InvalidEdit("请填写数字", "value") from None
        if value < 0:
            raise InvalidEdit("数值不能为负", "value")
        return int(value) if float(value).is_integer() else value

    def _check_template(self, answer: str) -> None:
        from .parameters import placeholders

        known = {p for p in self.session.scalars(select(Parameter.name))}
        missing = [p for p in placeholders(answer) if p not in known]
        if missing:
            raise InvalidEdit(f"答案中引用了不存在的参数：{', '.join(missing)}", "answer")


__all__ = ["Snapshot", "StaffService", "load_snapshot", "load_parameters", "citation", "pack_version",
           "KnowledgeError", "NotFound", "InvalidEdit", "ParameterError", "UNITS", "HOTLINES"]
