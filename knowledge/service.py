"""Read the knowledge pack from the database; staff edits with history.

`load_snapshot(session)` builds an immutable in-memory view (clauses, FAQ,
offices, lexicon, parameters) that the matcher and calculators use; a staff edit
bumps the pack version so every worker rebuilds its snapshot on the next message.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Clause, Edit, Faq, LexiconEntry, Office, Parameter, ParameterValue, Procedure, Setting
from .parameters import (ORDERS, STRICT_ORDERS, UNITS, DatedValue, ParameterDef, ParameterError, Parameters,
                         format_value, parse_day, to_date)
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


class EditConflict(KnowledgeError):
    """Someone saved the same row since this editor opened it; `current` is what is stored now."""

    code = "conflict"

    def __init__(self, message: str, current: dict[str, Any], by: str, at: Any):
        super().__init__(message, "version")
        self.current, self.by, self.at = current, by, at


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

    @property
    def noted_windows(self) -> tuple[str, ...]:
        """The windows that need a separate "已到期" note: not those the answer already renders in
        place ("{{window}}" shows its dates and whether it has ended) — a trailing note there would
        make the measure the answer is about look ended when only an aside has."""
        return tuple(w for w in self.windows if "{{" + w + "}}" not in self.answer)


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
    verified_by: str = ""
    verified_at: dt.date | None = None

    def contact(self) -> dict[str, str]:
        """The reply-contract contact card; an empty phone means "not yet published"."""
        return {"office": self.name, "phone": self.phone, "address": self.address,
                "hours": self.hours, "hotline": "12333"}


@dataclass(frozen=True)
class ProcedureInfo:
    """How to apply for one measure, as staff entered it, with where that came from."""

    id: int
    clause: str
    calculator: str  # "" when the procedure is for the clause as a whole
    title: str
    steps: tuple[str, ...]
    documents: tuple[str, ...]
    where: str
    source: str  # a document number, or "县人社局电话确认 2026-12-05"
    updated_at: dt.datetime | None
    updated_by: str


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
    procedures: dict[str, tuple[ProcedureInfo, ...]] = field(default_factory=dict)  # by clause

    def procedures_for(self, clause_id: str | None) -> list[ProcedureInfo]:
        """The procedures staff entered for a clause (empty until they do: the plan gives none)."""
        return list(self.procedures.get(clause_id or "", ()))

    @property
    def identity(self) -> dict[str, str]:
        """Who runs the service: operator, plan date, 内容更新于, public address ("" when unset)."""
        return {key: str(self.settings.get(key) or "") for key in IDENTITY_KEYS}

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


IDENTITY_KEYS = ("operator", "plan_date", "content_updated", "public_base_url")


def citation(clause_id: str) -> str:
    if clause_id == "I":
        return "实施方案“总体要求”"
    if clause_id.startswith("III."):
        n = "一二三四"[int(clause_id.split(".")[1]) - 1]
        return f"实施方案第三部分第（{n}）项"
    return f"实施方案第{clause_id}条"


_PACK_VERSION = select(Setting.__table__.c.value).where(Setting.__table__.c.key == "pack_version")


def pack_version(session: Session) -> int:
    """The pack's version in the database (checked before every message and page)."""
    if session.identity_map or session.new or session.dirty:
        # A session already holding ORM objects (an edit in progress) sees its own, unflushed view.
        row = session.get(Setting, "pack_version")
        value = row.value if row is not None else None
    else:
        # The common case, once per message: one Core statement, without the ORM's identity work.
        value = session.connection().execute(_PACK_VERSION).scalar()
    return int(value) if value is not None else 0


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
        o.name: OfficeInfo(o.id, o.name, o.full_name, o.kind, tuple(o.aliases), o.duties, o.phone, o.address, o.hours,
                           o.note, o.verified_by or "", o.verified_at)
        for o in session.scalars(select(Office).order_by(Office.sort))
    }
    procedures: dict[str, list[ProcedureInfo]] = {}
    for p in session.scalars(select(Procedure).where(Procedure.enabled.is_(True)).order_by(Procedure.id)):
        procedures.setdefault(p.clause, []).append(ProcedureInfo(
            p.id, p.clause, p.calculator or "", p.title, tuple(p.steps or ()), tuple(p.documents or ()), p.where or "",
            p.source, p.updated_at, p.updated_by or ""))
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
        procedures={k: tuple(v) for k, v in procedures.items()},
    )


PHONE_RE = re.compile(r"^[0-9０-９+（）()\-\s转,，、]{5,40}$")


def _plain_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    return value


class StaffService:
    """Staff edits: FAQ entries, office contacts, procedures, dated figures, settings. Every edit is
    logged (who, when, before/after, reason) and bumps the pack version, so every worker picks it up
    on its next message without a restart."""

    FAQ_EDITABLE = ("question", "phrasings", "answer", "windows", "calculator", "enabled", "clause")
    OFFICE_EDITABLE = ("phone", "address", "hours", "note", "aliases", "duties", "full_name", "verified_by",
                       "verified_at")
    PROCEDURE_EDITABLE = ("clause", "calculator", "title", "steps", "documents", "where", "source", "enabled")

    def __init__(self, session: Session):
        self.session = session

    def _log(self, entity: str, entity_id: str, before: Any, after: Any, author: str, reason: str) -> None:
        self.session.add(Edit(entity=entity, entity_id=entity_id, before=_plain_value(before) if not isinstance(
            before, dict) else {k: _plain_value(v) for k, v in before.items()},
            after=after if not isinstance(after, dict) else {k: _plain_value(v) for k, v in after.items()},
            author=author, reason=reason))
        _bump_version(self.session)

    def _edit(self, model: type, label: str, entity: str, key: Any, changes: dict[str, Any],
              editable: tuple[str, ...], author: str, reason: str, expected_version: int | None = None) -> Any:
        """Apply a staff edit to one row: known fields only, logged with before/after.

        With `expected_version` (the version the editor opened), a row saved by someone else in
        between raises EditConflict instead of silently overwriting their work.
        """
        row = self.session.get(model, key)
        if row is None:
            raise NotFound(f"没有编号为 {key} 的{label}", "id")
        unknown = set(changes) - set(editable)
        if unknown:
            raise InvalidEdit(f"不能修改字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
        if expected_version is not None and hasattr(row, "version") and int(row.version or 1) != int(expected_version):
            last = self.session.scalars(select(Edit).where(Edit.entity == entity, Edit.entity_id == str(key))
                                        .order_by(Edit.id.desc()).limit(1)).first()
            current = {k: getattr(row, k) for k in editable}
            raise EditConflict(f"这条{label}在您打开之后已被{last.author if last else '其他人'}修改并保存。"
                               "您的内容没有保存，请对照下面的最新内容后再提交。", current,
                               last.author if last else "", last.at if last else None)
        changes = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if not changes:
            return row
        before = {k: getattr(row, k) for k in changes}
        for k, v in changes.items():
            setattr(row, k, v)
        if hasattr(row, "version"):
            row.version = int(row.version or 1) + 1
        self._log(entity, str(key), before, changes, author, reason)
        self.session.flush()
        return row

    # -- FAQ ----------------------------------------------------------------------------------
    def update_faq(self, faq_id: str, changes: dict[str, Any], author: str, reason: str = "",
                   expected_version: int | None = None) -> Faq:
        if "answer" in changes:
            self._check_template(str(changes["answer"]))
            changes["answer"] = str(changes["answer"]).strip()
        if "question" in changes and not str(changes["question"]).strip():
            raise InvalidEdit("标准问法不能为空", "question")
        if "answer" in changes and not changes["answer"]:
            raise InvalidEdit("答案不能为空", "answer")
        if "clause" in changes:
            self._check_clause(str(changes["clause"]))
        if "phrasings" in changes:
            changes["phrasings"] = self._clean_lines(changes["phrasings"])
        faq = self._edit(Faq, "问答", "faq", faq_id, changes, self.FAQ_EDITABLE, author, reason, expected_version)
        faq.updated_by = author
        return faq

    def create_faq(self, data: dict[str, Any], author: str, reason: str = "") -> Faq:
        if not data.get("id") or self.session.get(Faq, data["id"]):
            raise InvalidEdit("问答编号为空或已存在", "id")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,98}", str(data["id"])):
            raise InvalidEdit("编号只能用小写英文字母、数字和连字符，如 internship-documents", "id")
        if not data.get("answer") or not data.get("question") or not data.get("clause"):
            raise InvalidEdit("问题、答案和条款都必须填写", "answer")
        self._check_clause(str(data["clause"]))
        self._check_template(str(data["answer"]))
        last = self.session.scalar(select(Faq.sort).order_by(Faq.sort.desc()).limit(1)) or 0
        faq = Faq(id=data["id"], clause=str(data["clause"]), sort=last + 1, question=str(data["question"]).strip(),
                  phrasings=self._clean_lines(data.get("phrasings") or []), answer=str(data["answer"]).strip(),
                  windows=list(data.get("windows") or []), calculator=data.get("calculator") or "",
                  enabled=bool(data.get("enabled", True)), updated_by=author, version=1)
        self.session.add(faq)
        self._log("faq", faq.id, None, {k: v for k, v in data.items() if k != "id"}, author, reason)
        self.session.flush()
        return faq

    def add_phrasing(self, faq_id: str, text: str, author: str, reason: str = "") -> Faq:
        """Teach an entry one more way residents ask (from the unanswered inbox)."""
        faq = self.session.get(Faq, faq_id)
        if faq is None:
            raise NotFound(f"没有编号为 {faq_id} 的问答", "faq_id")
        text = " ".join(str(text).split())
        if not text:
            raise InvalidEdit("问法不能为空", "text")
        if text in faq.phrasings or text == faq.question:
            return faq
        return self.update_faq(faq_id, {"phrasings": [*faq.phrasings, text]}, author, reason or "未答问题加为问法")

    def history(self, entity: str, entity_id: str) -> list[Edit]:
        return list(self.session.scalars(select(Edit).where(Edit.entity == entity, Edit.entity_id == str(entity_id))
                                         .order_by(Edit.id.desc())))

    def revert(self, edit_id: int, author: str) -> Any:
        """Undo one recorded change: the fields it changed go back to what they were before it."""
        edit = self.session.get(Edit, edit_id)
        if edit is None:
            raise NotFound("没有这条修改记录", "edit")
        reason = f"撤销 {edit.at:%Y-%m-%d %H:%M} {edit.author} 的修改"
        if edit.entity == "faq":
            if edit.before is None:  # the entry was created: reverting takes it out of service
                return self.update_faq(edit.entity_id, {"enabled": False}, author, reason)
            return self.update_faq(edit.entity_id, dict(edit.before), author, reason)
        if edit.entity == "office":
            before = dict(edit.before or {})
            if before.get("verified_at"):
                before["verified_at"] = to_date(before["verified_at"])
            return self.update_office(edit.entity_id, before, author, reason)
        if edit.entity == "procedure":
            if edit.before is None:
                return self.update_procedure(int(edit.entity_id), {"enabled": False}, author, reason)
            return self.update_procedure(int(edit.entity_id), dict(edit.before), author, reason)
        if edit.entity == "parameter":
            after = edit.after or {}
            row = self.session.scalar(select(ParameterValue).where(
                ParameterValue.name == edit.entity_id, ParameterValue.source == "staff",
                ParameterValue.effective == to_date(after.get("effective"))))
            if row is None:
                raise NotFound("这个数字的修改已经不在了", "edit")
            if edit.before is None:
                self.session.delete(row)
                self._log("parameter", edit.entity_id, after, None, author, reason)
            else:
                row.value = edit.before
                self._log("parameter", edit.entity_id, after, {"effective": after.get("effective"),
                                                                "value": edit.before}, author, reason)
            self.session.flush()
            return row
        if edit.entity == "setting":
            self.set_setting(edit.entity_id, edit.before, author, reason)
            return None
        raise InvalidEdit("这类修改不能撤销", "edit")

    # -- offices ------------------------------------------------------------------------------
    def update_office(self, office_id: str, changes: dict[str, Any], author: str, reason: str = "",
                      expected_version: int | None = None) -> Office:
        changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()}
        phone = changes.get("phone")
        if phone and not PHONE_RE.match(phone):
            raise InvalidEdit("电话只能包含数字、-、括号、空格和“转”，如 0936-1234567 或 0936-1234567转8001", "phone")
        for key, limit in (("address", 200), ("hours", 200), ("phone", 64), ("verified_by", 100)):
            if key in changes and len(changes[key] or "") > limit:
                raise InvalidEdit(f"内容太长（最多{limit}个字）", key)
        if "verified_at" in changes and not isinstance(changes["verified_at"], dt.date):
            try:
                changes["verified_at"] = parse_day(changes["verified_at"])
            except ValueError as exc:
                raise InvalidEdit(str(exc), "verified_at") from None
        return self._edit(Office, "单位", "office", office_id, changes, self.OFFICE_EDITABLE, author, reason,
                          expected_version)

    # -- procedures -----------------------------------------------------------------------------
    def _procedure_data(self, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        if "clause" in out:
            self._check_clause(str(out["clause"]))
        for key in ("steps", "documents"):
            if key in out:
                out[key] = self._clean_lines(out[key])
        for key in ("title", "where", "source", "calculator"):
            if key in out:
                out[key] = str(out[key] or "").strip()
        if "title" in out and not out["title"]:
            raise InvalidEdit("请填写事项名称，如“就业见习补贴申领”", "title")
        if "source" in out and not out["source"]:
            raise InvalidEdit("请填写来源：文件号，或“县人社局电话确认 2026-12-05”这样的说明", "source")
        if "steps" in out and not out["steps"]:
            raise InvalidEdit("请至少写一个办理步骤（每行一步）", "steps")
        return out

    def create_procedure(self, data: dict[str, Any], author: str, reason: str = "") -> Procedure:
        data = self._procedure_data({"clause": "", "title": "", "source": "", "steps": [], **data})
        unknown = set(data) - set(self.PROCEDURE_EDITABLE)
        if unknown:
            raise InvalidEdit(f"不能填写字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
        row = Procedure(**{"documents": [], "where": "", "calculator": "", "enabled": True, **data},
                        updated_by=author, version=1)
        self.session.add(row)
        self.session.flush()
        self._log("procedure", str(row.id), None, data, author, reason)
        self.session.flush()
        return row

    def update_procedure(self, procedure_id: int, changes: dict[str, Any], author: str, reason: str = "",
                         expected_version: int | None = None) -> Procedure:
        changes = self._procedure_data(changes)
        row = self._edit(Procedure, "办事指南", "procedure", procedure_id, changes, self.PROCEDURE_EDITABLE, author,
                         reason, expected_version)
        row.updated_by = author
        return row

    # -- settings -------------------------------------------------------------------------------
    def set_setting(self, key: str, value: Any, author: str, reason: str = "") -> None:
        row = self.session.get(Setting, key)
        before = row.value if row else None
        if before == value:
            return
        if row is None:
            self.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        self._log("setting", key, before, value, author, reason)
        self.session.flush()

    def set_identity(self, values: dict[str, str], author: str) -> None:
        """Operator, plan date, 内容更新于, public address (checked, then saved as settings)."""
        for key in values:
            if key not in IDENTITY_KEYS:
                raise InvalidEdit(f"未知设置：{key}", key)
        clean = {k: str(v or "").strip() for k, v in values.items()}
        for key in ("plan_date", "content_updated"):
            if clean.get(key):
                try:
                    clean[key] = parse_day(clean[key]).isoformat()  # type: ignore[union-attr]
                except ValueError as exc:
                    raise InvalidEdit(str(exc), key) from None
        url = clean.get("public_base_url", "")
        if url and not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?(/[^\s<>\"']*)?", url):
            raise InvalidEdit("网址应以 https:// 开头，如 https://jiuye.example.gov.cn", "public_base_url")
        for key, value in clean.items():
            self.set_setting(key, value, author, "服务信息")

    # -- figures ------------------------------------------------------------------------------
    def find_parameters(self, query: str) -> list[Parameter]:
        """Figures found by their Chinese description, clause (第12条) or internal name."""
        from .textnorm import fold as _fold

        q = _fold(query or "").replace(" ", "")
        rows = list(self.session.scalars(select(Parameter).order_by(Parameter.clause, Parameter.name)))
        if not q:
            return rows
        clause = q.removeprefix("第").removesuffix("条")
        return [p for p in rows if q in _fold(p.description).replace(" ", "") or q in p.name.lower()
                or clause == p.clause or q in _fold(p.quote or "").replace(" ", "")]

    def override_parameter(self, name: str, effective: Any, value: Any, author: str, reason: str) -> ParameterValue:
        """Record a new dated value for a figure; it wins over the pack's value from `effective` on.

        `reason` is the reference the value rests on (文号); answers citing the figure name it.
        Refused when it breaks an order the plan sets (ORDERS) or a window ends before it starts.
        """
        param = self.session.get(Parameter, name)
        if param is None:
            raise NotFound(f"没有名为 {name} 的政策参数", "name")
        if not author:
            raise InvalidEdit("请填写修改人", "author")
        reason = (reason or "").strip()
        if not reason:
            raise InvalidEdit("请填写依据的文件号（文号），如“肃人社发〔2026〕12号”", "reason")
        try:
            day = parse_day(effective)
        except ValueError as exc:
            raise InvalidEdit(str(exc), "effective") from None
        if day is None:
            raise InvalidEdit("请填写生效日期", "effective")
        value = self._check_value(param.unit, value)
        self._check_orders(name, day, value)
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

    def _check_orders(self, name: str, day: dt.date, value: Any) -> None:
        params = load_parameters(self.session)
        if name not in params:
            return
        defn = params.definition(name)
        defn.values.append(DatedValue(day, value, "staff"))
        for low, high, rule in ORDERS:
            if name not in (low, high) or low not in params or high not in params:
                continue
            lo, hi = params.definition(low), params.definition(high)
            days = sorted({v.effective for v in lo.values + hi.values if v.effective >= day} | {day})
            for when in days:
                try:
                    a, b = lo.value_at(when), hi.value_at(when)
                except ParameterError:
                    continue
                bad = a >= b if (low, high) in STRICT_ORDERS else a > b
                if bad:
                    raise InvalidEdit(
                        f"不能保存：{rule}。{when.year}年{when.month}月{when.day}日起，"
                        f"“{lo.description}”为{format_value(lo.unit, a)}，“{hi.description}”为{format_value(hi.unit, b)}。"
                        "如果两个数字都要改，请先改会让顺序保持正确的那一个。", "value")

    @staticmethod
    def _check_value(unit: str, value: Any) -> Any:
        if value is None:
            return None  # a repeal
        if unit == "window":
            if not isinstance(value, dict) or "start" not in value:
                raise InvalidEdit("执行期应包含开始日期 start（和可选的结束日期 end）", "value")
            try:
                start, end = parse_day(value["start"]), parse_day(value.get("end"))
            except ValueError as exc:
                raise InvalidEdit(str(exc), "value") from None
            if start is None:
                raise InvalidEdit("请填写执行期的开始日期", "value")
            if end is not None and end < start:
                raise InvalidEdit("执行期的结束日期不能早于开始日期", "value")
            return {"start": start.isoformat(), "end": end.isoformat() if end else None}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            text = str(value).strip().replace(",", "").replace("，", "")
            multiplier = 1
            for suffix, factor in (("万元", 10000), ("万", 10000), ("元", 1), ("%", 1), ("％", 1), ("个月", 1),
                                   ("月", 1), ("年", 1), ("岁", 1), ("人", 1)):
                if text.endswith(suffix):
                    text, multiplier = text[: -len(suffix)].strip(), factor
                    break
            try:
                value = float(text) * multiplier
            except ValueError:
                raise InvalidEdit("请填写数字，如 1200 或 1.5万", "value") from None
        if value < 0:
            raise InvalidEdit("数值不能为负", "value")
        if unit == "percent" and value > 100:
            raise InvalidEdit("百分比不能超过100", "value")
        return int(value) if float(value).is_integer() else value

    def _check_template(self, answer: str) -> None:
        from .parameters import placeholders

        known = {p for p in self.session.scalars(select(Parameter.name))}
        missing = [p for p in placeholders(answer) if p not in known]
        if missing:
            raise InvalidEdit(f"答案中引用了不存在的数字：{', '.join(missing)}（用“数字”页上的名称，如 {{{{internship.rate}}}}）",
                              "answer")

    def _check_clause(self, clause_id: str) -> None:
        if self.session.get(Clause, clause_id) is None:
            raise InvalidEdit(f"没有第{clause_id}条，请从列表中选择条款", "clause")

    @staticmethod
    def _clean_lines(value: Any) -> list[str]:
        if isinstance(value, str):
            value = value.splitlines()
        seen: list[str] = []
        for line in value or []:
            line = " ".join(str(line).split())
            if line and line not in seen:
                seen.append(line)
        return seen


__all__ = ["Snapshot", "StaffService", "ProcedureInfo", "EditConflict", "IDENTITY_KEYS", "load_snapshot", "load_parameters", "citation", "pack_version",
           "KnowledgeError", "NotFound", "InvalidEdit", "ParameterError", "UNITS", "HOTLINES"]
