"""WeChat channel fixtures: an app with a configured account, the simulator, a fake WeChat API.

`wechat` / `wechat_aes` are WeChatActions-style helpers (webhooks.wechat.simulator):
`wechat.send_text("…")`, `.send_voice(…)`, `.send_event("CLICK", "CALC")`, `.send_xml(…)`.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from webhooks.wechat.simulator import WeChatSimulator

TODAY = "2026-11-27"
# The AES test vector from wechatpy's crypto tests (shared/fixtures/wechat/README.md).
TOKEN = "123456"
APP_ID = "wx49f0ab532d5d035a"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
# A generous reply deadline: a loaded CI machine must not turn answers into "please resend";
# the deadline tests set their own short one. A claim goes stale only after the deadline
# (as in production, 4 s < 5 s), so a slow owner is never mistaken for a dead one.
# Compatible mode, so one account serves the plain and the safe-mode (AES) simulator alike; with
# the AES key set, encrypted deliveries are still read from the decrypted XML only. Safe mode
# (the default with a key) is tested in test_freshness.py.
WECHAT = {"TOKEN": TOKEN, "APP_ID": APP_ID, "ENCODING_AES_KEY": AES_KEY, "APP_SECRET": "",
          "REPLY_DEADLINE_SECONDS": 30, "STALE_AFTER_SECONDS": 60, "MODE": "compatible"}

# tests/wechat/ → repo root → its parent, where CI clones shared/ beside the repo.
SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "fixtures" / "wechat"


def make_app(database_url: str, **wechat: Any):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url, "TODAY": TODAY, "SECRET_KEY": "test",
                       "WECHAT": {**WECHAT, **wechat}})


def warm(app):
    """Open the database and build the engine, as the running server's warm-up does."""
    from webhooks.wechat.views import engine

    engine(app)
    return app


@pytest.fixture(scope="session")
def wechat_app(databases):
    """One app with a configured account for the read-only-ish tests (users and MsgIds are unique)."""
    app = warm(make_app(databases.new("wechat")))
    yield app
    app.extensions["jiuye.db"].dispose()


@pytest.fixture()
def wechat(wechat_app) -> WeChatSimulator:
    return WeChatSimulator(wechat_app)


@pytest.fixture()
def wechat_aes(wechat_app) -> WeChatSimulator:
    return WeChatSimulator(wechat_app, aes=True)


@pytest.fixture(params=["plain", "aes"])
def wechat_any(request, wechat_app) -> WeChatSimulator:
    """The same test in plain and in safe (AES) mode."""
    return WeChatSimulator(wechat_app, aes=request.param == "aes")


@pytest.fixture()
def configured_fresh_app(fresh_app):
    """conftest's fresh_app (its own database) with the test account configured."""
    fresh_app.config["WECHAT"] = {**fresh_app.config["WECHAT"], **WECHAT}
    return warm(fresh_app)


# -- a fake WeChat API on 127.0.0.1 ---------------------------------------------------------
class FakeWeChatApi:
    """Records requests; answers token and menu/create like api.weixin.qq.com."""

    def __init__(self, secret: str):
        self.secret = secret
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.menus: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output quiet
                pass

            def _answer(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                api.requests.append(("GET", url.path, query, None))
                if url.path == "/cgi-bin/token":
                    if query.get("secret") == [api.secret] and query.get("grant_type") == ["client_credential"]:
                        self._answer({"access_token": "FAKE_TOKEN", "expires_in": 7200})
                    else:
                        self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                else:
                    self._answer({"errcode": 404, "errmsg": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                api.requests.append(("POST", url.path, query, body))
                if url.path == "/cgi-bin/menu/create" and query.get("access_token") == ["FAKE_TOKEN"]:
                    api.menus.append(body)
                    self._answer({"errcode": 0, "errmsg": "ok"})
                else:
                    self._answer({"errcode": 40014, "errmsg": "invalid access_token"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/"


@pytest.fixture()
def fake_wechat_api(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    api = FakeWeChatApi(secret="s3cret")
    api.thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()
    api.thread.join(timeout=5)
