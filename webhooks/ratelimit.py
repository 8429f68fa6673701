"""Rate limits per client: a web visitor and its address, an API key, a WeChat follower.

    RATELIMIT_ADDRESS      every request of one client address (pages, API without a key)
    RATELIMIT_VISITOR      questions of one web visitor (its signed cookie)
    RATELIMIT_API_KEY      every request made with one API key (instead of the address limit)
    RATELIMIT_WECHAT_USER  messages of one WeChat follower (by openid; WeChat's own servers,
                           which deliver every follower's messages, are never limited by address)

Each value is in the `limits` notation ("30/minute;300/hour"); an empty value turns that limit
off, RATELIMIT_ENABLED = false all of them. A breach is a friendly 429 (JSON under /api/, a
page elsewhere, with Retry-After) and, on WeChat, a text reply: an HTTP error there would only
make WeChat retry.

Counters live in RATELIMIT_STORAGE_URI: "memory://" (the default) counts per worker process,
so with gunicorn's N workers a client gets up to N times the limit — fine against floods,
no extra service to run; "redis://host:6379" shares them across workers and hosts. If the
storage fails, requests are let through (and logged): a limiter must not take the service down.

Why the `limits` library itself rather than Flask-Limiter (built on it, same maintainer): the
keys here are known only inside the views (the signed cookie, the API key, the openid inside a
decrypted WeChat body), and a WeChat breach must be a reply, not a 429; Flask-Limiter's
decorators and key functions would have to be bypassed for exactly those cases.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Mapping

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)
EXTENSION = "jiuye.ratelimit"
SCOPES = {"address": "RATELIMIT_ADDRESS", "visitor": "RATELIMIT_VISITOR", "api_key": "RATELIMIT_API_KEY",
          "wechat_user": "RATELIMIT_WECHAT_USER"}
# Endpoints no address limit applies to: the static files, the health check and the metrics
# (monitors poll them; /metrics answers allowed addresses only), and the WeChat endpoint, whose few server addresses carry every follower (limited per
# follower inside the view).
EXEMPT_ENDPOINTS = {"static", "api.healthz", "metrics", "wechat.receive", "wechat.verify"}


class Limiter:
    """The configured limits and their storage (created on first use, in the worker process)."""

    def __init__(self, config: Mapping[str, Any]):
        self.enabled = _flag(config.get("RATELIMIT_ENABLED", True))
        self.uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        self.items: dict[str, list[RateLimitItem]] = {
            scope: parse_many(str(config.get(setting) or "")) if config.get(setting) else []
            for scope, setting in SCOPES.items()}
        self._strategy: MovingWindowRateLimiter | None = None
        self._lock = threading.Lock()

    def strategy(self) -> MovingWindowRateLimiter:
        # Built lazily: gunicorn forks workers after importing the app, and the memory storage
        # keeps a timer thread that would not survive the fork.
        if self._strategy is None:
            with self._lock:
                if self._strategy is None:
                    self._strategy = MovingWindowRateLimiter(storage_from_string(self.uri))
        return self._strategy

    def hit(self, scope: str, key: str) -> int | None:
        """Count one request of `key` in `scope`: None when allowed, else seconds until it would be."""
        items = self.items.get(scope) or []
        if not self.enabled or not items or not key:
            return None
        try:
            strategy = self.strategy()
            for item in items:
                if not strategy.hit(item, scope, key):
                    reset = strategy.get_window_stats(item, scope, key).reset_time
                    return max(1, math.ceil(reset - time.time()))
        except Exception:  # noqa: BLE001 — a storage outage lets requests through, loudly
            log.exception("rate-limit storage %s failed; request allowed", self.uri)
        return None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


def limiter(app: Flask | None = None) -> Limiter:
    app = app or current_app
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = Limiter(app.config)
    return found


def too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests(retry_after=retry_after)


def check_caller(caller: Any) -> None:
    """The per-visitor limit of a question from the web chat (raises the 429)."""
    if caller.kind == "web":
        retry = limiter().hit("visitor", caller.user)
        if retry:
            raise too_many(retry)


def init_app(app: Flask) -> None:
    limiter(app)

    @app.before_request
    def per_client():  # noqa: ANN202
        endpoint = request.endpoint or ""
        if endpoint in EXEMPT_ENDPOINTS:
            return None
        from .identity import ApiKeyRefused, bearer_key

        try:
            key = bearer_key()
        except ApiKeyRefused:
            key = None  # counted by address; the view answers 401 where a key matters
        retry = (limiter().hit("api_key", key.name) if key is not None
                 else limiter().hit("address", request.remote_addr or "unknown"))
        if retry:
            raise too_many(retry)
        return None
