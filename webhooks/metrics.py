"""Prometheus metrics at GET /metrics (text exposition format), for loopback and an allowlist only.

    jiuye_http_requests_total{endpoint,method,status}            requests by route (Flask endpoint)
    jiuye_http_request_duration_seconds{endpoint,method,status_class}   latency, 1 ms … 5 s buckets
    jiuye_replies_total{channel,kind}                            replies sent: answer, flow, contacts,
                                                                 menu, smalltalk, fallback (api, web, wechat)
    jiuye_dialogues_started_total{calculator}                    calculator dialogues opened
    jiuye_dialogues_completed_total{calculator}                  … that reached a result
    jiuye_wechat_retries_total{outcome}                          a WeChat delivery already claimed: its
                                                                 stored reply sent again (stored), or
                                                                 still being answered elsewhere (busy)
    jiuye_wechat_deadline_misses_total                           the engine missed the reply deadline:
                                                                 the person was asked to send it again

Labels are bounded: the endpoint is the Flask endpoint name (never the raw path; "none" when no
route matched), the method one of the usual few, the calculator one of the forms.

Processes: gunicorn runs several workers, each with its own counters. With the environment
variable PROMETHEUS_MULTIPROC_DIR set before prometheus_client is imported (gunicorn.conf.py sets
it in the master), the values live in files there and /metrics on any worker sums every worker.
Without it (development server, tests) each app has its own CollectorRegistry, so several apps in
one process never collide ("Duplicated timeseries").

Access: /metrics answers only a client address in METRICS_ALLOW (CIDRs, default loopback) or a
request with `Authorization: Bearer METRICS_TOKEN`; anyone else gets 404. Behind nginx without
PROXY_FIX every request comes from 127.0.0.1, so nginx must not pass /metrics on (README).
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from typing import TYPE_CHECKING, Any, Iterable

from flask import Flask, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, values
from prometheus_client.exposition import choose_encoder

from bot.reply import KINDS
from eligibility import REGISTRY

from .logs import elapsed_seconds

if TYPE_CHECKING:
    from bot.reply import Reply

log = logging.getLogger(__name__)
EXTENSION = "jiuye.metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# From a cached answer (a few ms) to the WeChat deadline (4 s) and a little past it.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
CHANNELS = ("api", "web", "wechat")
RETRY_OUTCOMES = ("stored", "busy")
# No `_created` series beside every counter and histogram: they double the output and nothing here
# reads them (multiprocess mode has none anyway, so both modes look alike).
disable_created_metrics()


class Metrics:
    """One app's metric objects, registered in `registry` (its own unless in multiprocess mode)."""

    def __init__(self, registry: CollectorRegistry, multiprocess_dir: str | None = None):
        self.registry = registry
        self.multiprocess_dir = multiprocess_dir
        self.requests = Counter("jiuye_http_requests", "HTTP requests by Flask endpoint, method and status code",
                                ["endpoint", "method", "status"], registry=registry)
        self.latency = Histogram("jiuye_http_request_duration_seconds",
                                 "Time from the request reaching the app to its response, by Flask endpoint",
                                 ["endpoint", "method", "status_class"], buckets=BUCKETS, registry=registry)
        self.replies = Counter("jiuye_replies", "Replies sent, by channel and kind (answer, fallback, ...)",
                               ["channel", "kind"], registry=registry)
        self.dialogues_started = Counter("jiuye_dialogues_started", "Calculator dialogues opened",
                                         ["calculator"], registry=registry)
        self.dialogues_completed = Counter("jiuye_dialogues_completed", "Calculator dialogues that gave a result",
                                           ["calculator"], registry=registry)
        self.wechat_retries = Counter("jiuye_wechat_retries",
                                      "WeChat deliveries of a message already claimed: its stored reply sent "
                                      "again (stored), or still being answered (busy)", ["outcome"], registry=registry)
        self.wechat_deadline_misses = Counter("jiuye_wechat_deadline_misses",
                                              "WeChat messages whose answer missed the reply deadline", registry=registry)
        # Every series a dashboard divides by exists from the start, at 0.
        for channel in CHANNELS:
            for kind in KINDS:
                self.replies.labels(channel, kind)
        for name in REGISTRY.names():
            self.dialogues_started.labels(name)
            self.dialogues_completed.labels(name)
        for outcome in RETRY_OUTCOMES:
            self.wechat_retries.labels(outcome)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float | None) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(endpoint, method, str(status)).inc()
        if seconds is not None:
            self.latency.labels(endpoint, method, f"{status // 100}xx").observe(seconds)

    def count_reply(self, reply: "Reply", channel: str) -> None:
        self.replies.labels(channel if channel in CHANNELS else "other", reply.kind).inc()
        for event, calculator in reply.events:
            if event == "dialogue_started":
                self.dialogues_started.labels(calculator).inc()
            elif event == "dialogue_completed":
                self.dialogues_completed.labels(calculator).inc()

    def collected(self) -> CollectorRegistry:
        """What a scrape reads: this app's registry, or in multiprocess mode every worker's files."""
        if self.multiprocess_dir is None:
            return self.registry
        from prometheus_client import multiprocess

        # Whichever worker answers the scrape sums them all (counters of dead workers included).
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        return registry


def of(app: Flask | None = None) -> Metrics | None:
    """The app's metrics (None for an app built without them)."""
    return (app or current_app).extensions.get(EXTENSION)


def count_reply(reply: "Reply | None", channel: str, app: Flask | None = None) -> None:
    """Count one reply the engine gave (its kind and its dialogue events); None is no reply."""
    metrics = of(app)
    if metrics is not None and reply is not None:
        metrics.count_reply(reply, channel)


def wechat_retry(outcome: str) -> None:
    metrics = of()
    if metrics is not None:
        metrics.wechat_retries.labels(outcome).inc()


def wechat_deadline_miss() -> None:
    metrics = of()
    if metrics is not None:
        metrics.wechat_deadline_misses.inc()


# -- setup and access ---------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    """The multiprocess directory when prometheus_client really is in multiprocess mode, else None.

    prometheus_client decides when it is imported; a variable set later would leave the values in
    memory and /metrics reading empty files, so this process then serves its own counters."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    if values.ValueClass is values.MutexValue:
        log.warning("%s was set after prometheus_client was imported; /metrics shows this process only",
                    MULTIPROC_ENV)
        return None
    os.makedirs(path, exist_ok=True)
    return path


def networks(setting: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """METRICS_ALLOW as networks: "127.0.0.1,::1,10.0.0.0/8" or a TOML list; bad entries are logged and skipped."""
    items: Iterable[Any] = setting.split(",") if isinstance(setting, str) else (setting or [])
    out = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.error("METRICS_ALLOW: %r is not an address or network; ignored", item)
    return out


def address_allowed(address: str | None, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
    return any(ip in net for net in allowed)


def token_matches(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def init_app(app: Flask) -> None:
    path = multiprocess_dir()
    metrics = Metrics(CollectorRegistry(auto_describe=True), multiprocess_dir=path)
    app.extensions[EXTENSION] = metrics
    allowed = networks(app.config.get("METRICS_ALLOW", "127.0.0.1,::1"))
    token = str(app.config.get("METRICS_TOKEN") or "")

    @app.after_request
    def observe(response: Response) -> Response:
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "none"
        metrics.observe_request(endpoint, request.method, response.status_code, elapsed_seconds())
        return response

    def metrics_view() -> Response:
        if not (address_allowed(request.remote_addr, allowed) or token_matches(token)):
            abort(404)  # as if there were no such page: nothing to probe from outside
        # The format the scraper asks for (Prometheus' Accept header; plain text 0.0.4 otherwise).
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(metrics.collected()), content_type=content_type)

    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics_view, methods=["GET"])
