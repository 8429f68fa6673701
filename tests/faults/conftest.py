"""Fault tests against real gunicorn servers (`make faults`; .ci/run calls it after `make test`).

A `Server` runs `gunicorn -c gunicorn.conf.py 'webhooks:create_app()'` — the shipped config,
threaded workers — on a port of 5110–5119 over SQLite or a throwaway PostgreSQL database, in a
process group of its own that the test ends by its id. Timeouts are generous (a loaded 2-core
machine builds each worker's matcher index in seconds) and no assertion depends on timing
except "answered at all within N seconds".
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from knowledge.db import Database

REPO = Path(__file__).resolve().parents[2]
PORTS = range(5110, 5120)
API_KEY = "faults-partner-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
TOKEN = "123456"
# gunicorn.conf.py serves in production, which refuses a SECRET_KEY shorter than 32 characters.
SECRET_KEY = "faults-secret-key-for-tests-only-0123456789"
TODAY = "2026-11-27"
START_TIMEOUT = 180


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5110–5119")


class Server:
    """One gunicorn (master + workers) serving the app on 127.0.0.1."""

    def __init__(self, database_url: str, log_path: Path, workers: int = 2, threads: int = 8,
                 env: dict[str, str] | None = None):
        self.database_url = database_url
        self.log_path = log_path
        self.workers_wanted = workers
        self.threads = threads
        self.extra_env = env or {}
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        Database(self.database_url).init().dispose()  # migrate and seed once, as `make run` does
        self.port = free_port()
        env = {**os.environ, "JIUYE_DATABASE_URL": self.database_url, "JIUYE_SECRET_KEY": SECRET_KEY,
               "JIUYE_TODAY": TODAY, "JIUYE_API_KEYS": f"faults:{API_KEY}", "JIUYE_WECHAT__TOKEN": TOKEN,
               "JIUYE_WECHAT__REPLY_DEADLINE_SECONDS": "20", "JIUYE_WECHAT__STALE_AFTER_SECONDS": "30",
               "JIUYE_WECHAT__MODE": "plain", **self.extra_env}
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(gunicorn), "-c", str(REPO / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers_wanted), "--threads", str(self.threads), "webhooks:create_app()"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        give_up = time.monotonic() + START_TIMEOUT
        while time.monotonic() < give_up:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_text()[-2000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=5).status_code == 200 and \
                        len(self.workers()) == self.workers_wanted:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not come up: {self.log_text()[-2000:]}")

    def workers(self) -> list[int]:
        """The worker processes' ids (children of the master)."""
        assert self.proc is not None
        try:
            return [int(p) for p in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
        except OSError:
            return []

    def kill_worker(self, pid: int) -> None:
        """kill -9 one worker and wait until the master has replaced it."""
        os.kill(pid, signal.SIGKILL)
        give_up = time.monotonic() + START_TIMEOUT
        while time.monotonic() < give_up:
            now = self.workers()
            if pid not in now and len(now) == self.workers_wanted:
                return
            time.sleep(0.1)
        raise RuntimeError("the master did not replace the killed worker")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group, by its id
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()
        self.proc = None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # -- clients ------------------------------------------------------------------------------
    def ask(self, text: str, user: str | None = None, message_id: str | None = None,
            timeout: float = 60) -> requests.Response:
        body: dict[str, Any] = {"text": text}
        if user is not None:
            body["user"] = user
        if message_id is not None:
            body["message_id"] = message_id
        # a new connection each time, as separate phones would open (and as gunicorn spreads them)
        return requests.post(self.base + "/api/v1/ask", json=body, headers={**AUTH, "Connection": "close"},
                             timeout=timeout)

    def wechat(self, openid: str, content: str, msg_id: int, timeout: float = 60) -> requests.Response:
        from webhooks.wechat import security
        from webhooks.wechat.simulator import message_xml

        ts, nonce = str(int(time.time())), security.new_nonce()
        xml = message_xml({"ToUserName": "gh_faults", "FromUserName": openid, "CreateTime": int(ts),
                           "MsgType": "text", "Content": content, "MsgId": msg_id})
        query = {"timestamp": ts, "nonce": nonce, "signature": security.sign(TOKEN, ts, nonce)}
        return requests.post(self.base + "/wechat", params=query, data=xml.encode("utf-8"),
                             headers={"Content-Type": "text/xml", "Connection": "close"}, timeout=timeout)


@pytest.fixture()
def start_server(tmp_path):
    """Start servers with `start_server(database_url, **options)`; all are stopped afterwards."""
    servers: list[Server] = []

    def start(database_url: str, **options: Any) -> Server:
        server = Server(database_url, tmp_path / f"gunicorn-{len(servers)}.log", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture()
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'faults.db'}"
