"""Logs: one line per record (JSON in production), a request id on every line, one access line per request.

    LOG_FORMAT = "text"   the default (development server): "time LEVEL logger [request id] message",
                          WARNING and up unless LOG_LEVEL says otherwise — as quiet as before; the
                          access lines come from gunicorn or werkzeug as they always did
    LOG_FORMAT = "json"   production (JIUYE_LOG_FORMAT=json): every line one JSON object with time,
                          level, logger, message, pid, request_id (inside a request) and the access
                          fields; INFO and up, so the app writes one access line per request
                          (gunicorn.conf.py then turns gunicorn's own access log off)

The request id is the caller's `X-Request-ID` when it is sane (1–64 characters of [A-Za-z0-9._-],
so a header can neither forge log lines nor flood them), else a new uuid4 hex. It is echoed in the
`X-Request-ID` response header, so a person's complaint, nginx's log and ours can be matched.

What is never logged here: query strings (WeChat's signature parameters), message texts, openids,
API keys, cookies. The access line has the method, the path, the Flask endpoint, the status and the
duration; nothing from the body or the headers.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import logging
import re
import sys
import time
import uuid
from typing import Any, Callable, TypeVar

from flask import Flask, Response, has_request_context, request

HEADER = "X-Request-ID"
ENVIRON_ID = "jiuye.request_id"
ENVIRON_STARTED = "jiuye.started"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
FORMATS = ("text", "json")
MAX_PATH_CHARS = 200  # a path is not a place for a novel; a longer one is cut in the log line
access_log = logging.getLogger("jiuye.access")

# The request id for work done off the request's thread (the WeChat reply job): copied there
# by `carry_request_id`, read by the log filter when there is no request context.
_carried: contextvars.ContextVar[str | None] = contextvars.ContextVar("jiuye_request_id", default=None)
F = TypeVar("F", bound=Callable[..., Any])


def sane_request_id(value: str | None) -> str | None:
    """The caller's id if it may be logged and echoed as is, else None."""
    return value if value and SANE_ID.fullmatch(value) else None


def request_id() -> str | None:
    """This request's id (made on first use), the id carried into this thread, or None."""
    if not has_request_context():
        return _carried.get()
    environ = request.environ
    rid = environ.get(ENVIRON_ID)
    if rid is None:
        rid = environ[ENVIRON_ID] = sane_request_id(environ.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
    return rid


def carry_request_id(fn: F) -> F:
    """`fn` wrapped so that its log lines carry the current request's id on whatever thread runs it."""
    rid = request_id()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _carried.set(rid)
        try:
            return fn(*args, **kwargs)
        finally:
            _carried.reset(token)

    return wrapper  # type: ignore[return-value]


def elapsed_seconds() -> float | None:
    """Seconds since this request reached the app (None outside a request, or before it was stamped)."""
    if not has_request_context():
        return None
    started = request.environ.get(ENVIRON_STARTED)
    return None if started is None else time.perf_counter() - started


# -- formatting ---------------------------------------------------------------------------------
class RequestIdFilter(logging.Filter):
    """Puts `request_id` on each record as it is emitted (on the emitting thread, so the request
    context is the right one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            rid = request_id()
            if rid is not None:
                record.request_id = rid
        return True


# Attributes every LogRecord has: the rest were passed by `extra=` and go into the JSON object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, pid, request_id
    when known, the record's `extra` fields, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(out, ensure_ascii=False, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate somewhere: escaped, the line can still be written
            line = json.dumps(out, ensure_ascii=True, default=str)
        return line


def text_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
                             defaults={"request_id": "-"})


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when the record comes (a test's capture, a reopened stream)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(app: Flask) -> None:
    """Install the handler LOG_FORMAT asks for on the root logger (replacing one installed before).

    In text format a root logger someone else configured (an embedding program, pytest) is left
    alone; JSON is asked for explicitly, so it is installed whatever was there."""
    fmt = str(app.config.get("LOG_FORMAT") or "text").strip().lower()
    unknown = fmt not in FORMATS
    if unknown:
        fmt = "text"
    level_name = str(app.config.get("LOG_LEVEL") or ("INFO" if fmt == "json" else "WARNING")).strip().upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.INFO if fmt == "json" else logging.WARNING
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_jiuye", False)]
    if fmt == "text" and not ours and root.handlers:
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler._jiuye = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else text_formatter())
    root.addHandler(handler)
    root.setLevel(level)
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)  # app.logger's lines go to the root handler, once
    if fmt == "json":
        # werkzeug's own access lines (development server) carry the query string and are not JSON;
        # ours replace them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if unknown:
        logging.getLogger(__name__).error("LOG_FORMAT must be one of %s; using text", "|".join(FORMATS))


# -- the request id and the access line ---------------------------------------------------------
def printable(text: str) -> str:
    """`text` with control characters escaped and cut to MAX_PATH_CHARS: one log line stays one line."""
    if len(text) > MAX_PATH_CHARS:
        text = text[:MAX_PATH_CHARS] + "…"
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def init_app(app: Flask) -> None:
    configure_logging(app)

    def stamp() -> None:
        request.environ.setdefault(ENVIRON_STARTED, time.perf_counter())
        request_id()

    # First of all before-request functions: one that answers early (a rate limit) skips the rest.
    app.before_request_funcs.setdefault(None, []).insert(0, stamp)

    @app.after_request
    def echo_and_log(response: Response) -> Response:
        rid = request_id()
        if rid is not None:
            response.headers[HEADER] = rid
        seconds = elapsed_seconds()
        duration_ms = round(seconds * 1000, 1) if seconds is not None else None
        method, path = printable(request.method), printable(request.path)  # never the query string
        access_log.info("%s %s %s %sms", method, path, response.status_code, duration_ms,
                        extra={"method": method, "path": path, "status": response.status_code,
                               "duration_ms": duration_ms, "endpoint": request.endpoint})
        return response
