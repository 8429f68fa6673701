"""A database behind (or ahead of) the code: `flask db upgrade` for deployments, and a clear refusal.

AUTO_MIGRATE (default on: the embedded SQLite file migrates itself) off is the production setting
for a database that several workers share: there the schema moves only by `db upgrade`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from knowledge.db import KNOWN_REVISIONS, MIGRATIONS, SCHEMA_HEAD, Database, SchemaError

ROOT = Path(__file__).resolve().parents[1]


def migrate_to(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def app_on(url: str, **config):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "TODAY": "2026-11-27",
                       "AUTO_MIGRATE": False, **config})


def test_the_newest_migration_is_the_codes_head():
    assert KNOWN_REVISIONS[-1] == SCHEMA_HEAD and len(KNOWN_REVISIONS) == len(set(KNOWN_REVISIONS))


def test_an_older_schema_is_refused_with_what_to_run_then_upgraded(new_db_url):
    url = new_db_url("old", empty=True)
    migrate_to(url, "0005")
    app = app_on(url)
    client = app.test_client()
    r = client.post("/api/v1/ask", json={"text": "见习补贴一个月多少"})
    assert r.status_code == 503 and r.headers.get("Retry-After")  # not a 500, not a migration behind the others' backs
    assert Database(url).schema_revision() == "0005"

    runner = app.test_cli_runner()
    out = runner.invoke(args=["db", "current"])
    assert out.exit_code == 1 and "database: 0005" in out.output and f"code: {SCHEMA_HEAD}" in out.output
    assert "db upgrade" in out.output

    out = runner.invoke(args=["db", "upgrade"])
    assert out.exit_code == 0, out.output
    assert f"0005 -> {SCHEMA_HEAD}" in out.output
    assert runner.invoke(args=["db", "current"]).exit_code == 0
    # the same app now serves (its Database object saw the refusal before: nothing sticks)
    r = client.post("/api/v1/ask", json={"text": "见习补贴一个月多少"})
    assert r.status_code == 200 and "第12条" in r.get_json()["reply"]
    # and an upgrade of an up-to-date database changes nothing
    out = runner.invoke(args=["db", "upgrade"])
    assert out.exit_code == 0 and f"{SCHEMA_HEAD} -> {SCHEMA_HEAD}" in out.output


def test_an_empty_database_is_refused_without_auto_migrate_and_created_by_upgrade(new_db_url):
    url = new_db_url("empty", empty=True)
    with pytest.raises(SchemaError, match="empty.*db upgrade"):
        Database(url, auto_migrate=False).init()
    app = app_on(url)
    out = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert out.exit_code == 0 and f"empty -> {SCHEMA_HEAD}" in out.output
    r = app.test_client().post("/api/v1/ask", json={"text": "创业担保贷款最多贷多少"})
    assert r.status_code == 200 and r.get_json()["kind"] == "answer"


def test_the_default_still_creates_and_fills_an_empty_database_on_first_use(new_db_url):
    """The stable interface: `make run` on a fresh machine needs no upgrade step."""
    url = new_db_url("auto", empty=True)
    db = Database(url).init()
    assert db.schema_revision() == SCHEMA_HEAD


def test_a_schema_newer_than_the_code_is_refused_even_with_auto_migrate(new_db_url):
    url = new_db_url("ahead")
    stamp(url, "0099")
    for auto in (True, False):
        with pytest.raises(SchemaError, match="0099.*newer than this code"):
            Database(url, auto_migrate=auto).init()
    out = app_on(url).test_cli_runner().invoke(args=["db", "upgrade"])
    assert out.exit_code != 0 and "newer than this code" in out.output
    assert Database(url).schema_revision() == "0099"  # left as it was


def test_a_database_of_something_else_is_not_taken_over(new_db_url):
    url = new_db_url("foreign", empty=True)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="not created by jiuye"):
        Database(url, auto_migrate=False).init()


def test_a_worker_refuses_to_start_on_a_schema_behind_its_code(new_db_url):
    from webhooks.startup import warm_up

    url = new_db_url("old", empty=True)
    migrate_to(url, "0004")
    with pytest.raises(SchemaError, match="0004.*needs"):
        warm_up(app_on(url))


@pytest.mark.processes
def test_gunicorn_stops_with_the_reason_when_the_schema_is_behind(new_db_url, tmp_path):
    """The shipped gunicorn.conf.py: the worker fails to boot, the master exits, the log says why."""
    url = new_db_url("old", empty=True)
    migrate_to(url, "0005")
    env = {**os.environ, "JIUYE_DATABASE_URL": url, "JIUYE_AUTO_MIGRATE": "0", "JIUYE_SECRET_KEY": "s" * 40,
           "JIUYE_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "1"}
    env.pop("JIUYE_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "webhooks:create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "refusing to start" in proc.stderr and "0005" in proc.stderr and "db upgrade" in proc.stderr
