"""Production start-up: JIUYE_ENV, the SECRET_KEY check, the warm start, and fork safety."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knowledge.db import Database
from knowledge.models import Conversation, DialogueEvent, QuestionLog
from knowledge.settings import DEFAULTS, MIN_SECRET_KEY_CHARS, load_settings
from webhooks import ProductionConfigError, create_app

GOOD_KEY = "k" * MIN_SECRET_KEY_CHARS + "-random-enough"


def app_with(tmp_path: Path, **config):
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", **config})


@pytest.mark.parametrize("key", [DEFAULTS["SECRET_KEY"], "", "short-but-not-empty", "x" * (MIN_SECRET_KEY_CHARS - 1)])
def test_production_refuses_a_guessable_secret_key_and_says_how_to_make_one(tmp_path, key):
    with pytest.raises(ProductionConfigError) as caught:
        app_with(tmp_path, ENV="production", SECRET_KEY=key, WARM_START=False)
    message = str(caught.value)
    assert "JIUYE_SECRET_KEY" in message and "secrets.token_urlsafe(32)" in message
    assert isinstance(caught.value, RuntimeError)


def test_production_starts_with_a_long_secret_key(tmp_path):
    app = app_with(tmp_path, ENV="production", SECRET_KEY=GOOD_KEY, WARM_START=False)
    assert app.config["ENV"] == "production"


def test_env_is_development_by_default_and_a_typo_is_refused(tmp_path):
    assert load_settings(environ={})["ENV"] == "development"
    assert app_with(tmp_path).config["ENV"] == "development"  # the tests' "test" key is fine there
    with pytest.raises(ProductionConfigError, match="JIUYE_ENV"):
        app_with(tmp_path, ENV="prod")


def test_env_comes_from_the_environment():
    assert load_settings(environ={"JIUYE_ENV": "production"})["ENV"] == "production"
    assert load_settings(environ={"JIUYE_WARM_START": "0"})["WARM_START"] == "0"


def count(db: Database, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_warm_start_builds_the_engine_and_stores_nothing_and_leaves_no_thread(tmp_path):
    before = set(threading.enumerate())
    app = app_with(tmp_path, ENV="production", SECRET_KEY=GOOD_KEY,
                   WECHAT={"TOKEN": "warmtoken", "APP_ID": "wx0000000000000001",
                           "ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"})
    assert app.extensions["jiuye.warm_start"] is True
    assert app.extensions["jiuye.engine"] is not None and app.extensions["jiuye.knowledge"] is not None
    # no thread of its own (gunicorn forks this process), and no rate-limit storage made yet
    assert set(threading.enumerate()) - before == set()
    assert app.extensions["jiuye.ratelimit"]._strategy is None
    db = app.extensions["jiuye.db"]
    assert count(db, Conversation) == 0 and count(db, QuestionLog) == 0 and count(db, DialogueEvent) == 0
    # …and it answers as a cold app would
    body = app.test_client().post("/api/v1/ask", json={"text": "见习补贴一个月多少"}).get_json()
    assert body["kind"] == "answer" and "第12条" in body["reply"]
    db.dispose()


def test_warm_start_is_off_in_development_unless_asked_for(tmp_path):
    assert app_with(tmp_path).extensions["jiuye.engine"] is None
    assert app_with(tmp_path, WARM_START="1").extensions["jiuye.engine"] is not None
    assert app_with(tmp_path, ENV="production", SECRET_KEY=GOOD_KEY,
                    WARM_START="false").extensions["jiuye.engine"] is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_uses_its_parents_database_connections(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'f.db'}").init()
    with db.session() as s:
        s.execute(select(1))
    assert db.engine.pool.checkedin() == 1
    pid = os.fork()
    if pid == 0:  # the child: its pool starts empty (the parent's connection is left alone)
        os._exit(0 if db.engine.pool.checkedin() == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert db.engine.pool.checkedin() == 1  # the parent's connection is still its own
    with db.session() as s:
        assert s.execute(select(1)).scalar() == 1
    db.dispose()
