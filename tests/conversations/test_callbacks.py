"""A person on request, with consent: the callback form in the chat, and what reaches the ledger."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.reply import Incoming
from knowledge.models import Callback, DialogueEvent


def say(engine, user, text):
    return engine.handle(Incoming(user=user, text=text))


def ledger(db):
    with db.session() as s:
        return [(c.user_ref, c.name, c.phone, c.calculator, (c.result or {}).get("amount_range"))
                for c in s.scalars(select(Callback))]


def test_after_a_result_a_callback_is_stored_only_with_consent_and_deleted_on_request(fresh_engine, fresh_db):
    user = "api:k:cb"
    say(fresh_engine, user, "帮我算一下孵化基地补助")
    say(fresh_engine, user, "县级")
    result = say(fresh_engine, user, "合格了")
    offer = next(o for o in result.options if "留下姓名和电话" in o["label"])
    consent = say(fresh_engine, user, offer["key"])
    assert "我同意县人社局保存" in consent.reply and ledger(fresh_db) == []
    say(fresh_engine, user, "1")
    assert "手机号码" in say(fresh_engine, user, "张三").reply
    again = say(fresh_engine, user, "1380000")  # not a mobile number: asked again, nothing stored
    assert "11位手机号码" in again.reply and ledger(fresh_db) == []
    done = say(fresh_engine, user, "138 0000 1111")
    assert done.kind == "contacts" and "会联系您" in done.reply
    assert ledger(fresh_db) == [(user, "张三", "13800001111", "incubator", [10000, 30000])]
    assert "已删除" in say(fresh_engine, user, "删除我的电话").reply
    assert ledger(fresh_db) == []


def test_declining_or_leaving_the_form_keeps_nothing(fresh_engine, fresh_db):
    user = "api:k:cb2"
    handoff = say(fresh_engine, user, "转人工")
    assert handoff.kind == "contacts" and any("留下姓名和电话" in o["label"] for o in handoff.options)
    say(fresh_engine, user, "1")
    assert say(fresh_engine, user, "不用了").kind == "menu"
    say(fresh_engine, user, "转人工")
    say(fresh_engine, user, "1")
    say(fresh_engine, user, "同意")
    assert say(fresh_engine, user, "退出").kind == "menu"
    assert ledger(fresh_db) == []


def test_dialogues_started_and_completed_are_counted_for_the_dashboard(fresh_engine, fresh_db):
    say(fresh_engine, "api:k:ev", "帮我算一下技能大师工作室补贴")
    say(fresh_engine, "api:k:ev", "1")
    with fresh_db.session() as s:
        rows = dict(s.execute(select(DialogueEvent.event, func.count()).where(
            DialogueEvent.calculator == "skill_master_studio").group_by(DialogueEvent.event)).all())
    assert rows == {"started": 1, "completed": 1}
