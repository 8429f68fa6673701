"""Shared fixtures: a database per test session (SQLite in a temp dir), app, client, engine.

Tests that change data use `fresh_db` / `fresh_app` (their own database file) so the
shared one stays as the pack seeded it.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.engine import Engine
from knowledge.db import Database

TODAY = dt.date(2026, 11, 27)
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def pytest_configure(config: pytest.Config) -> None:
    # Never let a developer's instance/config.toml or environment leak into tests.
    for name in list(os.environ):
        if name.startswith("JIUYE_"):
            del os.environ[name]
    os.environ["JIUYE_CONFIG"] = str(Path(__file__).parent / "data" / "empty-config.toml")


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
                       "SECRET_KEY": "test"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def fresh_app(tmp_path: Path):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                       "TODAY": TODAY.isoformat(), "SECRET_KEY": "test"})


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()
