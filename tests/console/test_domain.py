"""The knowledge side of the console (no Flask): callbacks, pack merge on start, dates, references."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from knowledge.callbacks import CallbackService, ConsentRequired, mask_name, mask_phone
from knowledge.db import Database
from knowledge.models import Callback, Faq, Office
from knowledge.pack import DATA_DIR, review_items, resolve_review
from knowledge.parameters import parse_day
from knowledge.service import InvalidEdit, StaffService, load_snapshot


@pytest.mark.parametrize("text", ["2026-12-01", "2026/12/1", "2026.12.01", "2026年12月1日", "20261201", "２０２６－１２－０１",
                                  " 2026 年 12 月 1 日 "])
def test_dates_typed_the_usual_ways(text):
    assert parse_day(text) == dt.date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026-13-01", "明天", "12/1/2026", "2026-02-30"])
def test_dates_that_cannot_be_read_say_so(text):
    with pytest.raises(ValueError, match="看不懂日期"):
        parse_day(text)


def test_callbacks_need_consent_and_a_valid_name_and_mobile_number(fresh_db):
    with fresh_db.session() as s:
        svc = CallbackService(s)
        with pytest.raises(ConsentRequired):
            svc.request("web:test", "测试", "13800000000", "12", "internship", {"amount": 1000})
        for name, phone, field in [("测试", "12345", "phone"), ("测试", "23800000000", "phone"),
                                   ("", "13800000000", "name"), ("<b>x</b>", "13800000000", "name")]:
            with pytest.raises(InvalidEdit) as info:
                svc.request("web:test", name, phone, consent=True)
            assert info.value.field == field
        cid = svc.request("web:test", "测试甲", "+86 138-0000-0000", "12", "internship",
                          {"summary": "测试结果"}, consent=True)
        row = s.get(Callback, cid)
        assert row.phone == "13800000000" and row.status == "waiting" and row.result == {"summary": "测试结果"}
        assert row.consent_text
    assert mask_phone("13800000000") == "138****0000" and mask_name("测试甲") == "测**"


def test_callbacks_are_deleted_on_request_and_purged_after_the_retention_period(fresh_db):
    with fresh_db.session() as s:
        svc = CallbackService(s)
        a = svc.request("web:a", "测试甲", "13800000001", consent=True)
        svc.request("web:a", "测试甲", "13800000001", consent=True)
        b = svc.request("web:b", "测试乙", "13800000002", consent=True)
        assert svc.delete_for("web:a") == 2
        assert s.get(Callback, a) is None and s.get(Callback, b) is not None
        s.get(Callback, b).created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
        s.flush()
        assert svc.retention_days() == 365
        assert svc.purge() == 1 and s.get(Callback, b) is None
        d = svc.request("web:d", "测试丁", "13800000004", consent=True)
        s.get(Callback, d).created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
        s.flush()
        c = svc.request("web:c", "测试丙", "13800000003", consent=True)  # a new entry purges the old one
        assert s.get(Callback, d) is None and s.get(Callback, c) is not None
        assert svc.delete_for(phone="138 0000 0003") == 1
        with pytest.raises(InvalidEdit):
            svc.set_retention_days(5)
        csv = svc.export_csv()
        assert csv.startswith("\ufeff编号")


def test_the_ledger_csv_does_not_run_formulas(fresh_db):
    with fresh_db.session() as s:
        svc = CallbackService(s)
        cid = svc.request("web:x", "测试", "13800000009", consent=True)
        svc.set_status(cid, "contacted", "=HYPERLINK(\"http://x\")", "测试")
        assert "'=HYPERLINK" in svc.export_csv()


def _pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(DATA_DIR, target)
    return target


def _faq_file(folder: Path, faq_id: str) -> tuple[Path, dict, dict]:
    for path in sorted((folder / "faq").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in doc.get("faqs") or []:
            if entry["id"] == faq_id:
                return path, doc, entry
    raise KeyError(faq_id)


def _set_answer(folder: Path, faq_id: str, answer: str) -> None:
    path, doc, entry = _faq_file(folder, faq_id)
    entry["answer"] = answer
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_newer_bundled_pack_is_merged_on_start_and_staff_edits_are_kept_for_review(tmp_path: Path, new_db_url):
    pack = _pack_copy(tmp_path)
    url = new_db_url("merge", empty=True)
    db = Database(url, data_dir=pack).init()
    with db.session() as s:
        ids = [f.id for f in s.scalars(select(Faq).order_by(Faq.sort))]
        edited, untouched, dropped = ids[0], ids[1], ids[2]
        svc = StaffService(s)
        svc.update_faq(edited, {"answer": "测试：工作人员改过的答案。（依据：实施方案第1条）"}, "测试")
        svc.update_office("hrss", {"phone": "0000-0000000"}, "测试")
        version = load_snapshot(s).version
    db.dispose()
    # the upgrade: the pack changes the edited entry and an untouched one, drops one, adds one
    _set_answer(pack, edited, "测试：新版知识包的答案A。（依据：实施方案第1条）")
    _set_answer(pack, untouched, "测试：新版知识包的答案B。（依据：实施方案第1条）")
    path, doc, _ = _faq_file(pack, dropped)
    doc["faqs"] = [e for e in doc["faqs"] if e["id"] != dropped]
    doc["faqs"].append({"id": "test-added-by-pack", "clause": "1", "question": "测试新版问题",
                        "phrasings": ["测试新版问法"], "answer": "测试新版答案。（依据：实施方案第1条）", "windows": []})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    offices = yaml.safe_load((pack / "offices.yaml").read_text(encoding="utf-8"))
    hrss = next(o for o in offices["offices"] if o["id"] == "hrss")
    hrss["duties"] = "测试：新版职责说明"
    (pack / "offices.yaml").write_text(yaml.safe_dump(offices, allow_unicode=True, sort_keys=False), encoding="utf-8")

    db = Database(url, data_dir=pack).init()
    with db.session() as s:
        assert s.get(Faq, edited).answer.startswith("测试：工作人员改过的答案")      # staff work kept
        assert s.get(Faq, untouched).answer.startswith("测试：新版知识包的答案B")   # untouched follows the pack
        assert s.get(Faq, dropped).enabled is False                               # gone from the pack: off
        assert s.get(Faq, "test-added-by-pack").enabled is True                   # new in the pack: added
        assert s.get(Office, "hrss").phone == "0000-0000000"                      # staff field kept
        assert s.get(Office, "hrss").duties == "测试：新版职责说明"                 # pack field updated
        items = review_items(s)
        assert {(i["entity"], i["id"], i["kind"]) for i in items} == {("faq", edited, "changed"),
                                                                       ("faq", dropped, "removed")}
        assert load_snapshot(s).version > version                                 # every worker reloads
        resolve_review(s, "faq", edited, take_pack=True, author="测试")
        assert s.get(Faq, edited).answer.startswith("测试：新版知识包的答案A")
        resolve_review(s, "faq", dropped, take_pack=False, author="测试")
        assert s.get(Faq, dropped).enabled is True and review_items(s) == []
    db.dispose()
    # a start with the same pack changes nothing
    db = Database(url, data_dir=pack).init()
    with db.session() as s:
        assert review_items(s) == [] and s.get(Faq, edited).answer.startswith("测试：新版知识包的答案A")
    db.dispose()


def test_an_override_names_its_reference_in_the_answer_citation(fresh_db):
    with fresh_db.session() as s:
        StaffService(s).override_parameter("internship.rate", "2026-01-01", 1100, "测试", "测试文号〔2026〕9号")
        snap = load_snapshot(s)
    view = snap.parameters.at(dt.date(2026, 11, 27))
    faq = snap.faq("internship-rate")
    text = view.render(faq.answer)
    assert "1100元" in text and text.endswith("（依据：实施方案第12条；测试文号〔2026〕9号）")
    before = snap.parameters.at(dt.date(2025, 12, 31)).render(faq.answer)
    assert "测试文号" not in before and before.endswith("（依据：实施方案第12条）")


@pytest.mark.postgres
def test_workers_starting_together_after_an_upgrade_merge_once(pg_url, tmp_path: Path):
    import threading

    pack = _pack_copy(tmp_path)
    Database(pg_url, data_dir=pack).init().dispose()
    first = next(iter(sorted((pack / "faq").glob("*.yaml"))))
    doc = yaml.safe_load(first.read_text(encoding="utf-8"))
    faq_id = doc["faqs"][0]["id"]
    _set_answer(pack, faq_id, "测试：升级后的答案。（依据：实施方案第1条）")
    errors: list[Exception] = []

    def start() -> None:
        try:
            Database(pg_url, data_dir=pack).init().dispose()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    db = Database(pg_url, data_dir=pack).init()
    with db.session() as s:
        assert s.get(Faq, faq_id).answer.startswith("测试：升级后的答案") and review_items(s) == []
    db.dispose()
