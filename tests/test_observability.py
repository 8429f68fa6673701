"""Observability: /healthz, request ids and JSON logs, Prometheus metrics at /metrics.

The metric tests read deltas around what they do, on an app of this module's own (its own registry
and database), so they hold in any order and beside other tests.
"""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.reply import Reply
from knowledge.db import SCHEMA_HEAD
from webhooks.logs import JsonFormatter, RequestIdFilter, sane_request_id
from webhooks.metrics import address_allowed, networks

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-27"
WECHAT = {"TOKEN": "obs-token", "APP_ID": "", "ENCODING_AES_KEY": "", "MODE": "plain",
          "REPLY_DEADLINE_SECONDS": 30, "STALE_AFTER_SECONDS": 60}
API_KEY = "obs-partner-key-0123456789"
ANSWER = "见习补贴一个月多少"
FALLBACK = "明天红湾寺下雪不"


@pytest.fixture(scope="module")
def obs_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('obs') / 'obs.db'}"


@pytest.fixture(scope="module")
def obs_app(obs_db: str):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": obs_db, "TODAY": TODAY, "SECRET_KEY": "test",
                      "API_KEYS": f"partner:{API_KEY}", "WECHAT": WECHAT})
    yield app
    app.extensions["jiuye.db"].dispose()


@pytest.fixture()
def obs(obs_app):
    return obs_app.test_client()


@pytest.fixture()
def api_headers() -> dict[str, str]:
    """The Authorization header of this module's app (its own API key)."""
    return {"Authorization": f"Bearer {API_KEY}"}


def scrape(client, **kw) -> dict[tuple[str, frozenset], float]:
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.status_code
    out = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def ask(client, text: str, headers: dict | None = None, user: str | None = None):
    body = {"text": text}
    if user is not None:
        body["user"] = user
    r = client.post("/api/v1/ask", json=body, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


# -- /healthz ------------------------------------------------------------------------------------
def test_healthz_reports_database_schema_pack_and_no_index_until_one_is_built(fresh_app):
    from knowledge.service import pack_version

    client = fresh_app.test_client()
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok" and body["failed"] == []
    assert body["pid"] == os.getpid()
    backend = fresh_app.config["DATABASE_URL"].split(":", 1)[0].split("+", 1)[0]
    assert body["database"] == {"ok": True, "backend": backend} and backend in ("sqlite", "postgresql")
    assert "@" not in r.get_data(as_text=True) and "///" not in r.get_data(as_text=True)  # no URL, no password
    assert body["schema"] == {"revision": SCHEMA_HEAD, "head": SCHEMA_HEAD, "current": True}
    with fresh_app.extensions["jiuye.db"].session() as s:
        assert body["pack"] == {"version": pack_version(s)}
    # the health check itself builds nothing: no index before the first question
    assert body["index"] is None
    assert fresh_app.extensions["jiuye.knowledge"] is None and fresh_app.extensions["jiuye.engine"] is None
    assert "sqlite:" not in r.get_data(as_text=True)  # the backend's name, never its URL

    ask(client, ANSWER)
    first = client.get("/healthz").get_json()["index"]
    assert first["pack_version"] == body["pack"]["version"] and first["current"] is True
    assert 0 <= first["age_seconds"] < 60 and first["built_at"].endswith("+00:00")
    time.sleep(0.02)
    assert client.get("/healthz").get_json()["index"]["age_seconds"] > first["age_seconds"]


def test_healthz_is_503_when_the_schema_is_not_this_codes(fresh_app, new_db_url):
    from sqlalchemy import text

    client = fresh_app.test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    with fresh_app.extensions["jiuye.db"].session() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "error" and body["failed"] == ["schema"]
    assert body["schema"] == {"revision": "0005", "head": SCHEMA_HEAD, "current": False}
    # a worker started on such a database without AUTO_MIGRATE says the same from its first poll
    from webhooks import create_app

    url = new_db_url("behind")
    other = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "AUTO_MIGRATE": False})
    with other.extensions["jiuye.db"].engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    r = other.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["failed"] == ["schema"]
    assert r.get_json()["schema"]["revision"] == "0004"


def test_healthz_is_503_naming_the_database_when_it_is_down():
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://postgres:pw-secret@127.0.0.1:5119/none"})
    r = app.test_client().get("/healthz")
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "error" and body["failed"] == ["database"]
    assert body["database"]["ok"] is False and body["database"]["backend"] == "postgresql"
    assert body["database"]["error"] == "OperationalError"
    assert "pw-secret" not in r.get_data(as_text=True) and "5119" not in r.get_data(as_text=True)


# -- request ids ---------------------------------------------------------------------------------
def test_a_sane_request_id_is_echoed(obs):
    r = obs.get("/healthz", headers={"X-Request-ID": "lb-1.2_x-Y"})
    assert r.headers["X-Request-ID"] == "lb-1.2_x-Y"


def test_a_request_id_is_made_when_none_is_sent(obs):
    first, second = obs.get("/healthz").headers["X-Request-ID"], obs.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0 and first != second


@pytest.mark.parametrize("insane", ["a" * 65, "has space", "semi;colon", "back\\slash", "caf\xe9", "a/b", "<x>", ""])
def test_an_insane_request_id_is_replaced(obs, insane):
    r = obs.get("/healthz", headers={"X-Request-ID": insane})
    rid = r.headers["X-Request-ID"]
    assert rid != insane and len(rid) == 32 and int(rid, 16) >= 0


def test_request_id_rules():
    assert sane_request_id("a" * 64) == "a" * 64
    assert sane_request_id("a" * 65) is None and sane_request_id("") is None and sane_request_id(None) is None
    assert sane_request_id("abc\n") is None  # fullmatch: no trailing newline slips through


# -- JSON logs -----------------------------------------------------------------------------------
@pytest.fixture()
def json_lines():
    """Records of every logger as our JSON handler writes them (the production formatter and filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_access_line_is_json_with_the_request_id_and_no_private_data(obs, json_lines, api_headers):
    secret_text = f"我的身份证号码是{uuid.uuid4().hex[:8]}，见习补贴一个月多少"
    obs.set_cookie("jiuye_uid", "cookie-value-not-to-log")
    r = obs.post("/api/v1/ask?signature=SIGNATURE-NOT-TO-LOG", json={"text": secret_text, "user": "openid-like-user"},
                 headers={**api_headers, "X-Request-ID": "req-json-1"})
    assert r.status_code == 200
    lines = json_lines()
    access = [line for line in lines if line["logger"] == "jiuye.access"]
    assert len(access) == 1, lines
    line = access[0]
    assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    assert line["request_id"] == "req-json-1" and line["level"] == "INFO"
    assert line["method"] == "POST" and line["path"] == "/api/v1/ask" and line["status"] == 200
    assert line["endpoint"] == "api.ask" and line["duration_ms"] >= 0
    raw = json.dumps(lines, ensure_ascii=False)
    key = api_headers["Authorization"].split()[1]
    for private in (secret_text, "身份证", "SIGNATURE-NOT-TO-LOG", "signature=", "openid-like-user", key,
                    "cookie-value-not-to-log"):
        assert private not in raw, private


def test_a_log_line_inside_a_request_carries_its_id(obs_app, json_lines):
    with obs_app.test_request_context("/", headers={"X-Request-ID": "inner-7"}):
        logging.getLogger("jiuye.test").warning("inside %s", "a request")
    logging.getLogger("jiuye.test").warning("outside")
    lines = [line for line in json_lines() if line["logger"] == "jiuye.test"]
    assert lines[0]["message"] == "inside a request" and lines[0]["request_id"] == "inner-7"
    assert lines[0]["level"] == "WARNING" and "request_id" not in lines[1]


def test_the_request_id_is_carried_to_a_worker_thread(obs_app, json_lines):
    """The WeChat reply job runs on a pool thread: its lines still name the delivery's request."""
    from webhooks.logs import carry_request_id

    with obs_app.test_request_context("/", headers={"X-Request-ID": "carried-3"}):
        job = carry_request_id(lambda: logging.getLogger("jiuye.test").warning("in the job"))
    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    line = next(line for line in json_lines() if line["logger"] == "jiuye.test")
    assert line["request_id"] == "carried-3"


def test_log_format_json_installs_a_json_handler_on_the_root_logger(obs_db, capsys):
    from webhooks import create_app

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    werkzeug_level = logging.getLogger("werkzeug").level
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": obs_db, "SECRET_KEY": "test", "LOG_FORMAT": "json"})
        ours = [h for h in root.handlers if getattr(h, "_jiuye", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter) and root.level == logging.INFO
        create_app({"TESTING": True, "DATABASE_URL": obs_db, "SECRET_KEY": "test", "LOG_FORMAT": "json"})
        assert len([h for h in root.handlers if getattr(h, "_jiuye", False)]) == 1  # replaced, not stacked
        capsys.readouterr()
        app.test_client().get("/healthz", headers={"X-Request-ID": "root-json"})
        err = capsys.readouterr().err
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert any(line.get("request_id") == "root-json" and line["logger"] == "jiuye.access" for line in lines), err
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("werkzeug").setLevel(werkzeug_level)


def test_wechat_delivery_keys_are_logged_as_hashes_never_with_the_openid():
    from webhooks.wechat.views import key_tag

    tag = key_tag("msg|gh_account|o_OPENID_secret|123")
    assert "OPENID" not in tag and tag.startswith("k:") and tag == key_tag("msg|gh_account|o_OPENID_secret|123")


# -- metrics -------------------------------------------------------------------------------------
def test_metrics_count_answers_and_fallbacks_by_kind_and_channel(obs, api_headers):
    before = scrape(obs)
    assert ask(obs, ANSWER, api_headers, user="obs-a").get_json()["kind"] == "answer"
    assert ask(obs, FALLBACK, api_headers, user="obs-b").get_json()["kind"] == "fallback"
    assert ask(obs, FALLBACK, api_headers, user="obs-c").get_json()["kind"] == "fallback"
    after = scrape(obs)

    def delta(kind: str) -> float:
        return value(after, "jiuye_replies_total", channel="api", kind=kind) - \
            value(before, "jiuye_replies_total", channel="api", kind=kind)

    assert delta("answer") == 1 and delta("fallback") == 2 and delta("menu") == 0
    # the series exist before anything happened (dashboards divide by them)
    assert ("jiuye_replies_total", frozenset({"channel": "wechat", "kind": "smalltalk"}.items())) in after


def test_metrics_count_a_dialogue_started_and_completed(obs, api_headers):
    user = f"obs-dialogue-{uuid.uuid4().hex[:8]}"
    before = scrape(obs)
    assert ask(obs, "我能领见习补贴吗", api_headers, user).get_json()["kind"] == "flow"
    middle = scrape(obs)
    assert value(middle, "jiuye_dialogues_started_total", calculator="internship") - \
        value(before, "jiuye_dialogues_started_total", calculator="internship") == 1
    assert value(middle, "jiuye_dialogues_completed_total", calculator="internship") == \
        value(before, "jiuye_dialogues_completed_total", calculator="internship")
    for said in ("1", "5", "6"):
        ask(obs, said, api_headers, user)
    last = ask(obs, "3", api_headers, user).get_json()
    assert last["result"]["calculator"] == "internship" and last["result"]["amount"] == 36000
    after = scrape(obs)
    assert value(after, "jiuye_dialogues_completed_total", calculator="internship") - \
        value(before, "jiuye_dialogues_completed_total", calculator="internship") == 1
    assert value(after, "jiuye_dialogues_started_total", calculator="internship") - \
        value(before, "jiuye_dialogues_started_total", calculator="internship") == 1
    assert value(after, "jiuye_replies_total", channel="api", kind="flow") - \
        value(before, "jiuye_replies_total", channel="api", kind="flow") == 5


def test_a_retried_api_message_is_not_a_second_dialogue_start(obs, api_headers):
    """The engine answers a retried message_id from storage: its reply carries no events."""
    user = f"obs-retry-{uuid.uuid4().hex[:8]}"
    before = scrape(obs)
    for _ in range(2):
        r = obs.post("/api/v1/ask", json={"text": "我能领见习补贴吗", "user": user, "message_id": "m-1"},
                     headers=api_headers)
        assert r.get_json()["kind"] == "flow"
    after = scrape(obs)
    assert value(after, "jiuye_dialogues_started_total", calculator="internship") - \
        value(before, "jiuye_dialogues_started_total", calculator="internship") == 1


def test_reply_events_stay_out_of_the_reply_contract():
    reply = Reply("x", "flow", events=[("dialogue_started", "internship")])
    assert "events" not in reply.to_dict() and "events" not in reply.stored()
    assert Reply.from_stored(reply.stored()).events == []


def test_latency_histogram_and_requests_by_route_never_by_raw_path(obs, api_headers):
    before = scrape(obs)
    ask(obs, ANSWER, api_headers, user="obs-latency")
    assert obs.get("/no/such/page-obs-7f3").status_code == 404
    after = scrape(obs)
    labels = {"endpoint": "api.ask", "method": "POST", "status_class": "2xx"}
    count = value(after, "jiuye_http_request_duration_seconds_count", **labels)
    assert count - value(before, "jiuye_http_request_duration_seconds_count", **labels) == 1
    assert value(after, "jiuye_http_request_duration_seconds_sum", **labels) > \
        value(before, "jiuye_http_request_duration_seconds_sum", **labels)
    assert value(after, "jiuye_http_request_duration_seconds_bucket", le="+Inf", **labels) == count
    assert value(after, "jiuye_http_request_duration_seconds_bucket", le="0.001", **labels) <= \
        value(after, "jiuye_http_request_duration_seconds_bucket", le="5.0", **labels) <= count
    assert value(after, "jiuye_http_requests_total", endpoint="api.ask", method="POST", status="200") - \
        value(before, "jiuye_http_requests_total", endpoint="api.ask", method="POST", status="200") == 1
    assert value(after, "jiuye_http_requests_total", endpoint="none", method="GET", status="404") - \
        value(before, "jiuye_http_requests_total", endpoint="none", method="GET", status="404") == 1
    assert "page-obs-7f3" not in obs.get("/metrics").get_data(as_text=True)


def test_metrics_count_a_wechat_retry_from_the_store(obs_app, obs):
    from webhooks.wechat.simulator import WeChatSimulator

    sim = WeChatSimulator(obs_app)
    before = scrape(obs)
    first = sim.send_text(ANSWER, msg_id=770001)
    again = sim.send_text(ANSWER, msg_id=770001)  # WeChat's retry of the same MsgId
    assert first.status == 200 and "第12条" in first.text and again.text == first.text
    after = scrape(obs)
    assert value(after, "jiuye_wechat_retries_total", outcome="stored") - \
        value(before, "jiuye_wechat_retries_total", outcome="stored") == 1
    assert value(after, "jiuye_wechat_retries_total", outcome="busy") == \
        value(before, "jiuye_wechat_retries_total", outcome="busy")
    # the engine answered once: one reply counted, the retry is not a second one
    assert value(after, "jiuye_replies_total", channel="wechat", kind="answer") - \
        value(before, "jiuye_replies_total", channel="wechat", kind="answer") == 1
    assert value(after, "jiuye_wechat_deadline_misses_total") == value(before, "jiuye_wechat_deadline_misses_total")


def test_metrics_count_a_wechat_deadline_miss(obs_db, monkeypatch, json_lines):
    from bot.engine import Engine
    from bot.i18n import msg
    from webhooks import create_app
    from webhooks.wechat.simulator import WeChatSimulator

    app = create_app({"TESTING": True, "DATABASE_URL": obs_db, "TODAY": TODAY, "SECRET_KEY": "test",
                      "WECHAT": {**WECHAT, "REPLY_DEADLINE_SECONDS": 0.3}})
    client = app.test_client()
    release = threading.Event()
    original = Engine.handle

    def blocked(self, incoming):
        release.wait(timeout=60)  # only the deadline can produce the first reply
        return original(self, incoming)

    monkeypatch.setattr(Engine, "handle", blocked)
    before = scrape(client)
    sim = WeChatSimulator(app)
    try:
        reply = sim.send_text(ANSWER, msg_id=770002)
    finally:
        release.set()
    assert reply.text == msg("wechat_slow")
    missed = [line for line in json_lines() if "missed" in line["message"]]
    assert missed and "k:" in missed[0]["message"] and missed[0].get("request_id")
    assert sim.user not in json.dumps(json_lines())  # the delivery key holds the openid: logged as a hash
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:  # the job goes on after the deadline, and its reply is counted
        after = scrape(client)
        if value(after, "jiuye_replies_total", channel="wechat", kind="answer") > \
                value(before, "jiuye_replies_total", channel="wechat", kind="answer"):
            break
        time.sleep(0.05)
    assert value(after, "jiuye_wechat_deadline_misses_total") - value(before, "jiuye_wechat_deadline_misses_total") == 1
    assert value(after, "jiuye_replies_total", channel="wechat", kind="answer") - \
        value(before, "jiuye_replies_total", channel="wechat", kind="answer") == 1
    app.extensions["jiuye.db"].dispose()


def test_metrics_are_refused_from_an_address_not_allowed(obs):
    r = obs.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 404 and "jiuye_" not in r.get_data(as_text=True)
    assert obs.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    # a wrong bearer token opens nothing when no token is configured
    assert obs.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                   headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_allowlist_networks_and_token(obs_db):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": obs_db, "SECRET_KEY": "test",
                      "METRICS_ALLOW": "10.0.0.0/8, not-an-address", "METRICS_TOKEN": "scrape-token-0123456789"})
    client = app.test_client()

    def status(addr: str, token: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        return client.get("/metrics", environ_base={"REMOTE_ADDR": addr}, headers=headers).status_code

    assert status("10.1.2.3") == 200
    assert status("127.0.0.1") == 404  # the allowlist replaces the default, loopback included
    assert status("192.168.1.5") == 404
    assert status("192.168.1.5", "scrape-token-0123456789") == 200
    assert status("192.168.1.5", "scrape-token-wrong") == 404
    app.extensions["jiuye.db"].dispose()


def test_allowlist_helpers():
    nets = networks("127.0.0.1,::1")
    assert address_allowed("127.0.0.1", nets) and address_allowed("::1", nets)
    assert address_allowed("::ffff:127.0.0.1", nets)  # dual-stack sockets
    assert not address_allowed("127.0.0.2", nets) and not address_allowed("", nets)
    assert not address_allowed("garbage", nets)
    assert networks(["10.0.0.0/8"]) == networks("10.0.0.0/8") and networks("") == []


def test_several_apps_in_one_process_have_their_own_counters(obs_db, obs):
    from webhooks import create_app

    other = create_app({"TESTING": True, "DATABASE_URL": obs_db, "SECRET_KEY": "test"})  # no "Duplicated timeseries"
    c = other.test_client()
    c.get("/healthz")
    c.get("/healthz")
    assert value(scrape(c), "jiuye_http_requests_total", endpoint="api.healthz", method="GET", status="200") == 2
    other.extensions["jiuye.db"].dispose()


# -- multiprocess mode ---------------------------------------------------------------------------
WORKER = r"""
import json, os, sys
from webhooks import create_app

app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "TODAY": "2026-11-27", "SECRET_KEY": "test"})
client = app.test_client()
r = client.post("/api/v1/ask", json={"text": "见习补贴一个月多少"})
assert r.status_code == 200 and r.get_json()["kind"] == "answer", r.get_data(as_text=True)
if sys.argv[2] == "scrape":
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_multiprocess_mode_sums_the_workers(tmp_path, obs_db):
    """Two processes (as two gunicorn workers) write to one PROMETHEUS_MULTIPROC_DIR; /metrics on
    the second shows both answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS")}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    runs = []
    for mode in ("quiet", "scrape"):
        runs.append(subprocess.run([sys.executable, "-c", WORKER, obs_db, mode], cwd=REPO, env=env,
                                   capture_output=True, text=True, timeout=300))
        assert runs[-1].returncode == 0, runs[-1].stderr[-3000:]
    families = {(s.name, frozenset(s.labels.items())): s.value
                for f in text_string_to_metric_families(runs[-1].stdout) for s in f.samples}
    assert value(families, "jiuye_replies_total", channel="api", kind="answer") == 2
    assert value(families, "jiuye_http_requests_total", endpoint="api.ask", method="POST", status="200") == 2
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) == 2  # one file per process


def test_gunicorn_hooks_clean_the_dir_and_mark_dead_workers(tmp_path, monkeypatch):
    import runpy

    path = tmp_path / "metrics"
    path.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(path))
    monkeypatch.delenv("JIUYE_LOG_FORMAT", raising=False)
    monkeypatch.setenv("JIUYE_ENV", "development")  # the config sets production only by default: not for later tests
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)  # a given directory is kept
    for name in ("counter_11.db", "histogram_11.db"):
        (path / name).write_bytes(b"")
    conf["on_starting"](None)
    assert list(path.iterdir()) == []  # a previous run's counters are not summed into this one's
    (path / "counter_42.db").write_bytes(b"")
    (path / "gauge_livesum_42.db").write_bytes(b"")
    conf["child_exit"](None, type("Worker", (), {"pid": 42})())
    assert sorted(p.name for p in path.iterdir()) == ["counter_42.db"]
    conf["on_exit"](None)
    assert path.is_dir()  # not a directory the config made: left alone
    assert "accesslog" in conf and conf["accesslog"] == "-"


def test_gunicorn_json_logs_turn_its_access_log_off(tmp_path, monkeypatch):
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("JIUYE_LOG_FORMAT", "json")
    monkeypatch.setenv("JIUYE_ENV", "development")  # the config sets production only by default: not for later tests
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert conf["accesslog"] is None
    assert conf["logconfig_dict"]["formatters"]["json"]["()"] == "webhooks.logs.JsonFormatter"
