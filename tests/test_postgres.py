"""PostgreSQL, the production database: migrations, seeding, answers, concurrent start-up."""
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from bot.engine import Engine
from bot.reply import Incoming
from knowledge.db import Database
from knowledge.service import StaffService, load_snapshot

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_url():
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = f"jiuye_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
