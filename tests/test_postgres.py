"""PostgreSQL, the production database: migrations, seeding, answers, concurrent start-up."""
import threading

import pytest
from sqlalchemy import text

from bot.engine import Engine
from bot.reply import Incoming
from knowledge.db import Database
from knowledge.service import StaffService, load_snapshot

pytestmark = pytest.mark.postgres


def test_postgres_migrates_seeds_and_answers(pg_url):
    db = Database(pg_url).init()
    engine = Engine(db, {"TODAY": "2026-11-27"})
    r = engine.handle(Incoming(user="pg", text="见习补贴一个月多少"))
    assert r.clause == "12" and "1000元" in r.reply
    with db.session() as s:
        StaffService(s).override_parameter("internship.rate", "2026-01-01", 1100, "科员", "测试")
        assert load_snapshot(s).parameters.at(engine.clock())["internship.rate"] == 1100
    r = engine.handle(Incoming(user="pg", text="见习补贴一个月多少"))
    assert "1100元" in r.reply
    db.dispose()


def test_concurrent_first_start_seeds_once(pg_url):
    errors = []

    def start():
        try:
            Database(pg_url).init().dispose()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    db = Database(pg_url).init()
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM clauses")).scalar() == 27
    db.dispose()
