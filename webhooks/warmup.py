"""Warm start: build everything the first request needs before the process takes traffic.

Without it a new gunicorn worker answered its first question 4–5 seconds late: it opened the
database (migration and seed checks), loaded the pack, loaded the matcher index and jieba's
dictionary, imported the router and the calculators, compiled templates — all inside that
first request, and WeChat gives up after 5 seconds. `warm_up(app)` does all of it in
create_app when WARM_START is on ("auto": in production), so the first request is as fast
as the next one. With gunicorn's preload_app the master does it once and every worker (and
every replacement of a dead one) is forked warm.

Nothing is stored: the engine plays a throwaway person in a transaction that is rolled back,
the pages are rendered through a test client with the rate limiter set aside (its counters
and their timer thread must be made in each worker, after the fork), and the WeChat part
only parses, renders and encrypts — no delivery is recorded. No thread is left running.
"""
from __future__ import annotations

import logging
import time

from flask import Flask

from knowledge.settings import environment, flag

log = logging.getLogger(__name__)

# A question, a calculator dialogue started and answered once, the menu and a greeting: the
# router's main paths.
WARM_MESSAGES = ("见习补贴一个月多少", "帮我算算见习补贴", "1", "菜单", "你好")
# The pages people open first (the chat page is the web entry; /policies the list of clauses).
WARM_PAGES = ("/", "/policies", "/calc")


def enabled(app: Flask) -> bool:
    """WARM_START: true, false or "auto" (= in production)."""
    value = app.config.get("WARM_START", "auto")
    if isinstance(value, str) and value.strip().lower() in ("", "auto"):
        return environment(app.config) == "production"
    return flag(value)


def warm_up(app: Flask) -> float:
    """Build the engine and exercise the API, page and WeChat paths once; returns the seconds taken."""
    from . import ratelimit, wechat
    from .db import get_engine

    started = time.monotonic()
    with app.app_context():
        engine = get_engine()  # database (migrations, seed), pack snapshot, matcher index, jieba
        replies = engine.warm(WARM_MESSAGES)
        wechat.warm_up_components(app, replies[0] if replies else None)
    limiter = ratelimit.limiter(app)
    was = limiter.enabled
    limiter.enabled = False  # the memory storage (and its timer thread) belongs to the worker
    try:
        client = app.test_client()
        for path in WARM_PAGES:
            response = client.get(path, headers={"Host": _host(app)})
            if response.status_code >= 500:
                log.warning("warm-up: GET %s answered %s", path, response.status_code)
    finally:
        limiter.enabled = was
    return time.monotonic() - started


def _host(app: Flask) -> str:
    """A host name TRUSTED_HOSTS accepts (the test client's default "localhost" may not be one)."""
    hosts = app.config.get("TRUSTED_HOSTS") or []
    for host in hosts:
        host = str(host).lstrip(".")
        if host:
            return host
    return "localhost"
