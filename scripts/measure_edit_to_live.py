"""Edit-to-live time across two worker processes sharing one database.

Starts two gunicorn processes (one worker each) on 127.0.0.1:5120 and :5121 on the same
database, creates a throwaway admin, then repeatedly edits through the console of the first
(a figure override, an FAQ answer) and polls POST /api/v1/ask on the second until its reply
shows the edit. Prints one line per edit and a summary. Only talks to 127.0.0.1.

    .venv/bin/python scripts/measure_edit_to_live.py                      # SQLite file in a temp dir
    .venv/bin/python scripts/measure_edit_to_live.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PORTS = (5120, 5121)
QUESTION = "见习补贴每人每月多少"


def start(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             "webhooks:create_app()"], cwd=ROOT, env=env)


def wait_up(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"port {port} did not come up")


def csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=10).text).group(1)


def ask(port: int) -> tuple[str, float]:
    t = time.monotonic()
    r = requests.post(f"http://127.0.0.1:{port}/api/v1/ask", json={"text": QUESTION}, timeout=30)
    return r.json()["reply"], time.monotonic() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="jiuye-measure-")
    url = args.database_url or f"sqlite:///{tmp}/measure.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUYE_")}
    # gunicorn (reading ./gunicorn.conf.py) serves in production: a SECRET_KEY of 32+ characters
    env.update(JIUYE_DATABASE_URL=url, JIUYE_SECRET_KEY=secrets.token_urlsafe(32), JIUYE_TODAY="2026-11-27",
               JIUYE_CONFIG=str(ROOT / "tests" / "data" / "empty-config.toml"))
    subprocess.run([str(VENV_BIN / "flask"), "--app", "webhooks", "staff", "add", "measure-admin", "--role", "admin"],
                   input="measure-password-1\n", text=True, cwd=ROOT, env=env, check=True, capture_output=True)
    procs = [start(p, env) for p in PORTS]
    try:
        for p in PORTS:
            wait_up(p)
        ask(PORTS[1])  # warm the second worker (matcher index built)
        editor = requests.Session()
        base = f"http://127.0.0.1:{PORTS[0]}"
        editor.post(f"{base}/console/login", data={"username": "measure-admin", "password": "measure-password-1",
                                                   "csrf_token": csrf(editor, f"{base}/console/login")}, timeout=10)
        results = []
        for i in range(args.rounds):
            if i % 2 == 0:
                amount = 1010 + i
                expect = f"{amount}元"
                form = {"value": str(amount), "effective": "2026-01-01", "reason": f"测量用文号{i}",
                        "csrf_token": csrf(editor, f"{base}/console/parameters/internship.rate")}
                path, kind = "/console/parameters/internship.rate", "figure"
            else:
                page = editor.get(f"{base}/console/faq/internship-rate", timeout=10).text
                version = re.search(r'name="version" value="(\d+)"', page).group(1)
                expect = f"测量第{i}次"
                form = {"question": "就业见习补贴标准是多少？", "answer": f"{expect}：见习补贴按{{{{internship.rate}}}}。（依据：实施方案第12条）",
                        "clause": "12", "calculator": "internship", "enabled": "on", "version": version,
                        "phrasings": "见习补贴一个月给多少钱", "csrf_token": csrf(editor, f"{base}/console/faq/internship-rate")}
                path, kind = "/console/faq/internship-rate", "faq answer"
            r = editor.post(base + path, data=form, allow_redirects=False, timeout=30)
            saved = time.monotonic()
            assert r.status_code == 302, r.text[:500]
            polls = 0
            while True:
                reply, latency = ask(PORTS[1])
                polls += 1
                if expect in reply:
                    live = time.monotonic() - saved
                    break
                if time.monotonic() - saved > 60:
                    raise SystemExit(f"edit {i} not live after 60 s: {reply}")
            # a second question on the same worker: the rebuilt snapshot is now cached
            _, steady = ask(PORTS[1])
            results.append(live)
            print(f"edit {i + 1} ({kind}): live on the other worker {live * 1000:.0f} ms after the save returned "
                  f"({polls} poll(s); that reply took {latency * 1000:.0f} ms, the next {steady * 1000:.0f} ms)")
        print(f"database {url.split('://')[0]}: edit-to-live median {statistics.median(results) * 1000:.0f} ms, "
              f"max {max(results) * 1000:.0f} ms over {len(results)} edits")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
