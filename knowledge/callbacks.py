"""Callbacks and the applicant ledger (实名制动态管理服务台账, plan 三(三)).

At the end of a dialogue, or when someone asks for a person, the engine may offer
"留下姓名和电话，由县人社局联系您？"; only with explicit consent is anything stored, together
with the dialogue's result. Staff follow up (status), admins export, a retention setting purges
old entries, and a person's entries are deleted on request.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import Callback, Setting
from .service import InvalidEdit, KnowledgeError, NotFound

OFFER_TEXT = "留下姓名和电话，由县人社局联系您？"
CONSENT_TEXT = "我同意县人社局保存我的姓名、电话和本次测算结果，仅用于联系我办理就业服务；我可以随时要求删除。"
STATUSES = {"waiting": "待联系", "contacted": "已联系", "done": "已办结", "unreachable": "联系不上"}
RETENTION_KEY = "ledger_retention_days"
DEFAULT_RETENTION_DAYS = 365
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
NAME_RE = re.compile(r"^[\u4e00-\u9fff·A-Za-z][\u4e00-\u9fff·A-Za-z .]{0,29}$")


class ConsentRequired(KnowledgeError):
    code = "consent_required"


def normalize_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits (spaces, dashes, +86 and full-width digits allowed)."""
    text = (raw or "").translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not MOBILE_RE.match(digits):
        raise InvalidEdit("请填写11位手机号码，如 138 0000 0000", "phone")
    return digits


def normalize_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not NAME_RE.match(name):
        raise InvalidEdit("请填写姓名（汉字或字母，最多30个字）", "name")
    return name


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class CallbackService:
    """Record, follow up, export and delete callback requests (one session, committed by the caller)."""

    def __init__(self, session: Session):
        self.session = session

    def request(self, user_ref: str, name: str, phone: str, clause: str | None = None,
                calculator: str | None = None, result: Any = None, consent: bool = False) -> int:
        """Store a callback request; refused without consent or with an invalid name or phone."""
        if consent is not True:
            raise ConsentRequired("需要您同意后才能记录姓名和电话", "consent")
        row = Callback(user_ref=str(user_ref or "")[:128], name=normalize_name(name), phone=normalize_phone(phone),
                       clause=str(clause or "")[:16], calculator=str(calculator or "")[:64], result=result,
                       consent_text=CONSENT_TEXT, status="waiting", note="")
        self.session.add(row)
        self.purge()  # the retention period is kept whenever the ledger grows
        self.session.flush()
        return row.id

    def get(self, callback_id: int) -> Callback:
        row = self.session.get(Callback, callback_id)
        if row is None:
            raise NotFound("没有这条登记", "id")
        return row

    def list(self, status: str | None = None, query: str = "", limit: int = 500) -> list[Callback]:
        stmt = select(Callback).order_by(Callback.created_at.desc(), Callback.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(Callback.status == status)
        rows = list(self.session.scalars(stmt))
        q = (query or "").strip()
        if q:
            rows = [r for r in rows if q in r.name or q in r.phone or q == str(r.id)]
        return rows

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(select(Callback.status, func.count()).group_by(Callback.status)).all()
        return {status: n for status, n in rows}

    def set_status(self, callback_id: int, status: str, note: str, author: str) -> Callback:
        if status not in STATUSES:
            raise InvalidEdit("跟进状态不对", "status")
        row = self.get(callback_id)
        row.status = status
        row.note = (note or "").strip()[:2000]
        row.updated_by = author
        row.updated_at = dt.datetime.now(dt.timezone.utc)
        self.session.flush()
        return row

    def delete(self, callback_id: int) -> None:
        self.session.delete(self.get(callback_id))
        self.session.flush()

    def delete_for(self, user_ref: str | None = None, phone: str | None = None) -> int:
        """Delete every entry of one person (their chat identity, or their phone number)."""
        if not user_ref and not phone:
            return 0
        stmt = delete(Callback)
        stmt = stmt.where(Callback.user_ref == user_ref) if user_ref else stmt.where(
            Callback.phone == normalize_phone(phone or ""))
        n = self.session.execute(stmt).rowcount or 0
        self.session.flush()
        return n

    def retention_days(self) -> int:
        row = self.session.get(Setting, RETENTION_KEY)
        try:
            return int(row.value) if row and row.value not in (None, "") else DEFAULT_RETENTION_DAYS
        except (TypeError, ValueError):
            return DEFAULT_RETENTION_DAYS

    def set_retention_days(self, days: Any) -> int:
        try:
            value = int(str(days).strip())
        except ValueError:
            raise InvalidEdit("保存天数应为整数", "days") from None
        if not 30 <= value <= 3650:
            raise InvalidEdit("保存天数应在30到3650天之间", "days")
        row = self.session.get(Setting, RETENTION_KEY)
        if row is None:
            self.session.add(Setting(key=RETENTION_KEY, value=value))
        else:
            row.value = value
        self.session.flush()
        return value

    def purge(self, older_than_days: int | None = None, now: dt.datetime | None = None) -> int:
        """Delete entries older than the retention period; returns how many."""
        days = self.retention_days() if older_than_days is None else int(older_than_days)
        cutoff = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)
        n = self.session.execute(delete(Callback).where(Callback.created_at < cutoff)).rowcount or 0
        self.session.flush()
        return n

    def export_csv(self) -> str:
        """Every entry as CSV (UTF-8 with BOM so a spreadsheet opens it in Chinese)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(["编号", "登记时间", "姓名", "手机", "条款", "测算", "测算结果", "跟进状态", "备注", "跟进人"])
        for r in self.list(limit=100000):
            writer.writerow([r.id, f"{r.created_at:%Y-%m-%d %H:%M}", _cell(r.name), _cell(r.phone), r.clause,
                             r.calculator, _cell(result_text(r.result)), STATUSES.get(r.status, r.status),
                             _cell(r.note), _cell(r.updated_by)])
        return out.getvalue()


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(text or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def result_text(result: Any) -> str:
    """A short line for a stored dialogue result (whatever shape the engine stored)."""
    if result is None or result == "":
        return ""
    if isinstance(result, dict):
        for key in ("summary", "text", "verdict"):
            if result.get(key):
                return str(result[key])
        parts = [f"{k}: {v}" for k, v in result.items() if isinstance(v, (str, int, float, bool))]
        return "；".join(parts)[:300]
    return str(result)[:300]
