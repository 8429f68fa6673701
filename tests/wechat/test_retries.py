"""Item 4: each delivery processed exactly once; every retry and concurrent duplicate gets the same reply.

Threads against one app (SQLite and PostgreSQL), and separate processes sharing a
database (as gunicorn workers or hosts do).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.engine import Engine
from bot.i18n import msg
from knowledge.models import QuestionLog, WechatMessage
from webhooks.wechat.simulator import WeChatSimulator, message_xml
from webhooks.wechat.store import MessageStore

from .conftest import TODAY, WECHAT, make_app, warm

REPO = Path(__file__).resolve().parents[2]


def processed(app, user: str) -> int:
    """How many times the engine handled a text from `user` (it logs each question once, under the
    keyed hash of the openid)."""
    from webhooks.identity import wechat_user

    with app.app_context():
        key = wechat_user(user)
    with app.extensions["jiuye.db"].init().session() as s:
        return s.scalar(select(func.count()).select_from(QuestionLog).where(QuestionLog.user == key))


def text_message(user: str, content: str, msg_id: int) -> str:
    return message_xml({"ToUserName": "gh_jiuye", "FromUserName": user, "CreateTime": int(time.time()),
                        "MsgType": "text", "Content": content, "MsgId": msg_id})


class HeldEngine:
    """Holds the engine until `expected` deliveries have reached the dedupe store, and counts its calls.

    Duplicates then overlap for certain (not by a sleep that a slow machine can outlast):
    every one of them is inside `MessageStore.begin` while the first is still being answered."""

    def __init__(self) -> None:
        self.calls: list = []
        self.arrived = 0
        self.expected = 1
        self.changed = threading.Condition()

    def expect(self, n: int) -> None:
        with self.changed:
            self.arrived, self.expected = 0, n

    def arrive(self) -> None:
        with self.changed:
            self.arrived += 1
            self.changed.notify_all()

    def hold(self) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.arrived >= self.expected, timeout=30):
                raise AssertionError(f"only {self.arrived} of {self.expected} deliveries arrived")


@pytest.fixture()
def held_engine(monkeypatch) -> HeldEngine:
    held = HeldEngine()
    begin, handle = MessageStore.begin, Engine.handle

    def arriving(self, key, wait_until):
        held.arrive()
        return begin(self, key, wait_until)

    def holding(self, incoming):
        held.calls.append(incoming)
        held.hold()
        return handle(self, incoming)

    monkeypatch.setattr(MessageStore, "begin", arriving)
    monkeypatch.setattr(Engine, "handle", holding)
    return held


# -- retries -------------------------------------------------------------------------------
def test_a_retried_message_is_processed_once_with_the_same_reply(wechat_any):
    first = wechat_any.send_text("见习补贴一个月多少", msg_id=5550001)
    retries = [wechat_any.send_text("见习补贴一个月多少", msg_id=5550001) for _ in range(3)]
    assert all(r.body == first.body for r in retries)  # the same bytes, CreateTime included
    assert processed(wechat_any.app, wechat_any.user) == 1


def test_a_retry_does_not_advance_the_conversation_twice(wechat):
    wechat.send_text("菜单", msg_id=5560001)
    pick = wechat.send_text("2", msg_id=5560002)          # the 就业见习补贴 theme
    again = wechat.send_text("2", msg_id=5560002)         # WeChat retries it
    assert again.body == pick.body and pick.text.startswith("【就业见习补贴】")
    assert processed(wechat.app, wechat.user) == 2


def test_a_retried_dialogue_answer_is_applied_once(wechat_app):
    """A person in a calculator dialogue: the retry of an answer must not answer the next question too."""
    control, retried = WeChatSimulator(wechat_app), WeChatSimulator(wechat_app)
    for sim in (control, retried):
        sim.send_event("CLICK", "CALC_INTERNSHIP", create_time=1700000300)
    expected = [control.send_text("1", msg_id=5590001).text, control.send_text("3", msg_id=5590002).text]
    first = retried.send_text("1", msg_id=5590101)
    again = retried.send_text("1", msg_id=5590101)
    after = retried.send_text("3", msg_id=5590102)
    assert again.body == first.body
    assert [first.text, after.text] == expected


def test_the_same_msg_id_from_another_sender_is_another_message(wechat):
    a = wechat.send_text("见习补贴一个月多少", msg_id=5570001)
    b = wechat.send_text("菜单", msg_id=5570001, user=wechat.user + "_2")
    assert a.text != b.text


def test_event_retries_use_sender_and_create_time(wechat_any):
    first = wechat_any.send_event("subscribe", create_time=1700000000)
    again = wechat_any.send_event("subscribe", create_time=1700000000)
    assert again.body == first.body
    # two different buttons clicked in the same second are two events
    a = wechat_any.send_event("CLICK", "CONTACTS", create_time=1700000100)
    b = wechat_any.send_event("CLICK", "POLICY", create_time=1700000100)
    assert a.text != b.text


def test_a_safe_mode_retry_is_the_same_reply_freshly_encrypted(wechat_aes):
    first = wechat_aes.send_text("见习补贴一个月多少", msg_id=5580001)
    again = wechat_aes.send_text("见习补贴一个月多少", msg_id=5580001)
    assert again.body == first.body and again.raw != first.raw
    assert processed(wechat_aes.app, wechat_aes.user) == 1


# -- concurrent duplicates, threads --------------------------------------------------------
def deliver_concurrently(app, xml: str, held: HeldEngine, n: int = 8, aes: bool = False):
    held.expect(n)
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def worker(i: int) -> None:
        sim = WeChatSimulator(app, aes=aes)
        barrier.wait()
        try:
            results[i] = sim.send_xml(xml)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_concurrent_duplicates_on_sqlite_are_processed_once(configured_fresh_app, held_engine, aes):
    user = "o_dup_" + uuid.uuid4().hex[:8]
    results = deliver_concurrently(configured_fresh_app, text_message(user, "见习补贴一个月多少", 990001),
                                   held_engine, aes=aes)
    assert all(r.status == 200 for r in results)
    assert len({r.body for r in results}) == 1, [r.body[:80] for r in results]
    assert "第12条" in results[0].text
    assert len(held_engine.calls) == 1
    assert processed(configured_fresh_app, user) == 1


def test_concurrent_duplicate_events_are_processed_once(configured_fresh_app, held_engine):
    user = "o_dup_evt_" + uuid.uuid4().hex[:8]
    xml = message_xml({"ToUserName": "gh_jiuye", "FromUserName": user, "CreateTime": 1700000200,
                       "MsgType": "event", "Event": "subscribe"})
    results = deliver_concurrently(configured_fresh_app, xml, held_engine)
    assert len({r.body for r in results}) == 1 and results[0].text.startswith(msg("welcome"))
    assert len(held_engine.calls) == 1


# -- crashed workers and slow owners -------------------------------------------------------
def _claim_row(app, key: str, age_seconds: float) -> None:
    stamp = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=age_seconds)
    with app.extensions["jiuye.db"].init().session() as s:
        s.execute(insert(WechatMessage).values(key=key, status="processing", reply="owner:dead",
                                               created_at=stamp, updated_at=stamp))


def test_a_stale_claim_of_a_crashed_worker_is_taken_over(configured_fresh_app):
    user = "o_crash_" + uuid.uuid4().hex[:8]
    _claim_row(configured_fresh_app, f"msg|gh_jiuye|{user}|991001", age_seconds=3600)  # STALE_AFTER is 60 s
    reply = WeChatSimulator(configured_fresh_app).send_xml(text_message(user, "见习补贴一个月多少", 991001))
    assert "第12条" in reply.text
    assert processed(configured_fresh_app, user) == 1


def test_a_live_claim_is_waited_for_but_never_past_the_deadline(configured_fresh_app):
    """Another worker holds the message and never finishes: at the deadline this delivery answers anyway.

    (The claim stays live for 60 s, so only the 0.5 s deadline can end the wait.)"""
    configured_fresh_app.config["WECHAT"] = {**configured_fresh_app.config["WECHAT"], "REPLY_DEADLINE_SECONDS": 0.5}
    user = "o_busy_" + uuid.uuid4().hex[:8]
    _claim_row(configured_fresh_app, f"msg|gh_jiuye|{user}|992001", age_seconds=0)
    reply = WeChatSimulator(configured_fresh_app).send_xml(text_message(user, "见习补贴", 992001))
    assert reply.status == 200 and reply.text == msg("wechat_slow")
    assert processed(configured_fresh_app, user) == 0  # the owner's job, not this delivery's


def test_store_finish_after_a_takeover_returns_the_winners_reply(fresh_db):
    store = MessageStore(fresh_db, stale_after=0.0)
    first = store.begin("k1", wait_until=time.monotonic())
    assert first.owned
    second = store.begin("k1", wait_until=time.monotonic())  # first looks dead at once
    assert second.owned and second.token != first.token
    assert store.finish("k1", second.token, "<xml>winner</xml>") == "<xml>winner</xml>"
    assert store.finish("k1", first.token, "<xml>late</xml>") == "<xml>winner</xml>"
    assert store.begin("k1", wait_until=time.monotonic()).reply == "<xml>winner</xml>"


def test_store_release_and_purge(fresh_db):
    store = MessageStore(fresh_db)
    claim = store.begin("k2", wait_until=time.monotonic())
    store.release("k2", claim.token)
    assert store.begin("k2", wait_until=time.monotonic()).owned
    assert store.purge(older_than=dt.timedelta(seconds=-1)) >= 1


# -- separate processes sharing one database ------------------------------------------------
WORKER = r"""
import json, os, sys, time
from bot.engine import Engine
from webhooks import create_app
from webhooks.db import get_engine
from webhooks.wechat.simulator import WeChatSimulator

from pathlib import Path
from webhooks.wechat.store import MessageStore

url, wechat, xml, aes = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4] == "aes"
arrivals, expected = Path(sys.argv[5]), int(sys.argv[6])
app = create_app({"TESTING": True, "DATABASE_URL": url, "TODAY": "%s", "WECHAT": wechat, "SECRET_KEY": "test"})
with app.app_context():
    get_engine()  # warm, as a running worker is
begin, handle = MessageStore.begin, Engine.handle
def arriving(self, key, wait_until):  # this process's delivery has reached the dedupe store
    (arrivals / str(os.getpid())).touch()
    return begin(self, key, wait_until)
def holding(self, incoming):  # answer only once every duplicate is waiting on this one
    give_up = time.monotonic() + 30
    while len(list(arrivals.iterdir())) < expected and time.monotonic() < give_up:
        time.sleep(0.01)
    return handle(self, incoming)
MessageStore.begin, Engine.handle = arriving, holding
sim = WeChatSimulator(app, aes=aes)
print("ready", flush=True)
sys.stdin.readline()
reply = sim.send_xml(xml)
print(json.dumps({"status": reply.status, "body": reply.body}), flush=True)
app.extensions["jiuye.db"].dispose()
""" % TODAY


def deliver_from_processes(url: str, xml: str, arrivals: Path, n: int = 3, aes: bool = False) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    arrivals.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, json.dumps(WECHAT), xml, "aes" if aes else "plain",
                               str(arrivals), str(n)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=REPO, env=env) for _ in range(n)]
    try:
        for p in procs:
            line = p.stdout.readline()
            assert line.strip() == "ready", p.stderr.read()
        for p in procs:  # all at once
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _check_once_across_processes(app, url: str, arrivals: Path, aes: bool, n: int = 3) -> None:
    user = "o_proc_" + uuid.uuid4().hex[:8]
    results = deliver_from_processes(url, text_message(user, "见习补贴一个月多少", 993001), arrivals, n=n, aes=aes)
    assert [r["status"] for r in results] == [200] * len(results)
    assert len({r["body"] for r in results}) == 1
    assert "第12条" in results[0]["body"]
    assert processed(app, user) == 1


@pytest.mark.processes
def test_duplicates_across_processes_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    app = make_app(url)
    app.extensions["jiuye.db"].init()  # migrate and seed once, as `make run` does
    _check_once_across_processes(app, url, tmp_path / "arrivals", aes=True)  # plain mode: the thread tests
    app.extensions["jiuye.db"].dispose()


# -- PostgreSQL ----------------------------------------------------------------------------
@pytest.mark.postgres
def test_concurrent_duplicates_on_postgres(pg_url, held_engine):
    app = warm(make_app(pg_url))
    try:
        user = "o_pg_" + uuid.uuid4().hex[:8]
        for aes, msg_id in ((False, 994001), (True, 994002)):
            results = deliver_concurrently(app, text_message(user, "见习补贴一个月多少", msg_id), held_engine, aes=aes)
            assert all(r.status == 200 for r in results)
            assert len({r.body for r in results}) == 1 and "第12条" in results[0].text
        assert len(held_engine.calls) == 2
        assert processed(app, user) == 2
    finally:
        app.extensions["jiuye.db"].dispose()


@pytest.mark.processes
@pytest.mark.postgres
def test_duplicates_across_processes_on_postgres(pg_url, tmp_path):
    app = make_app(pg_url)
    app.extensions["jiuye.db"].init()
    try:
        _check_once_across_processes(app, pg_url, tmp_path / "arrivals", aes=True)
    finally:
        app.extensions["jiuye.db"].dispose()
