"""Observability: request ids and JSON logs."""
from __future__ import annotations

import io
import json
import logging
import threading
import uuid

import pytest

from webhooks.logs import JsonFormatter, RequestIdFilter, sane_request_id

TODAY = "2026-11-27"
WECHAT = {"TOKEN": "obs-token", "APP_ID": "", "ENCODING_AES_KEY": "", "MODE": "plain",
          "REPLY_DEADLINE_SECONDS": 30, "STALE_AFTER_SECONDS": 60}
API_KEY = "obs-partner-key-0123456789"
ANSWER = "见习补贴一个月多少"


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


def ask(client, text: str, headers: dict | None = None, user: str | None = None):
    body = {"text": text}
    if user is not None:
        body["user"] = user
    r = client.post("/api/v1/ask", json=body, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


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
