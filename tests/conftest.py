"""Shared fixtures: a database per test session (SQLite in a temp dir), app, client, engine.

Tests that change data use `fresh_db` / `fresh_app` (their own database file) so the
shared one stays as the pack seeded it.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.engine import Engine
from knowledge.db import Database

TODAY = dt.date(2026, 11, 27)
PG_ADMIN_URL = os.environ.get("JIUYE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
# An API key of the `app` fixture (name "partner"): with it a caller's own `user` ids count.
API_KEY = "test-partner-key-0123456789"
API_KEY_HEADER = {"Authorization": f"Bearer {API_KEY}"}


def pytest_configure(config: pytest.Config) -> None:
    # Never let a developer's instance/config.toml or environment leak into tests.
    for name in list(os.environ):
        if name.startswith("JIUYE_"):
            del os.environ[name]
    os.environ["JIUYE_CONFIG"] = str(Path(__file__).parent / "data" / "empty-config.toml")
    # Hundreds of requests from 127.0.0.1 in one session would trip the per-address limit; the
    # rate-limit tests turn it on in their own app (test_config overrides the environment).
    os.environ["JIUYE_RATELIMIT_ENABLED"] = "0"


@pytest.fixture(scope="session")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db") / "jiuye.db"


@pytest.fixture(scope="session")
def database(db_path: Path) -> Database:
    return Database(f"sqlite:///{db_path}").init()


@pytest.fixture(scope="session")
def engine(database: Database) -> Engine:
    """A shared engine on the seeded pack, with "today" pinned to 2026-11-27."""
    return Engine(database, {"TODAY": TODAY.isoformat()})


@pytest.fixture()
def fresh_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}").init()
    yield db
    db.dispose()


@pytest.fixture()
def fresh_engine(fresh_db: Database) -> Engine:
    return Engine(fresh_db, {"TODAY": TODAY.isoformat()})


@pytest.fixture(scope="session")
def app(db_path: Path):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db_path}", "TODAY": TODAY.isoformat(),
                       "SECRET_KEY": "test", "API_KEYS": f"partner:{API_KEY}"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def api_headers() -> dict[str, str]:
    """The Authorization header of the `app` fixture's API key."""
    return dict(API_KEY_HEADER)


@pytest.fixture()
def fresh_app(tmp_path: Path):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                       "TODAY": TODAY.isoformat(), "SECRET_KEY": "test"})


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture()
def pg_url():
    """A throwaway PostgreSQL database (the production option), dropped afterwards."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.__class__.__name__})")
    name = f"jiuye_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
