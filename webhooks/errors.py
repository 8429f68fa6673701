"""Errors mapped once, at the edge: JSON for the API, a short page elsewhere. Never a traceback.

An HTTP error keeps the headers that belong to it (`Allow` on a 405, `Retry-After` on a 429
or 503). A database that is down or unreachable is a 503 with a friendly message, so clients
and proxies know to try again; only a genuine bug is a 500.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from knowledge.db import SchemaError

# Errors of a database that is down, restarting or overloaded: transient, not a bug.
DATABASE_DOWN = (OperationalError, PoolTimeout)
RETRY_AFTER_SECONDS = 5

MESSAGES = {
    400: "请求格式不正确",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方法",
    413: "内容太大",
    415: "不支持的内容类型",
    429: "请求太频繁，请稍后再试",
    500: "服务暂时出了点问题，请稍后再试，或拨打12333",
    503: "系统正忙，请稍后再试，或拨打12333",
}


def is_database_down(exc: BaseException) -> bool:
    """True for a lost or refused database connection (psycopg and sqlite3 errors included)."""
    if isinstance(exc, DATABASE_DOWN):
        return True
    return isinstance(exc, DBAPIError) and bool(getattr(exc, "connection_invalidated", False))


def database_down() -> ServiceUnavailable:
    return ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS)


DRAIN_LIMIT = 4 * 1024 * 1024


def drain_refused_body() -> None:
    """Read and drop the body of a request refused unread (413), when it is not absurdly large.

    gunicorn answers such a request `Connection: keep-alive` and then closes the connection
    because the body was left unread, so the client's next request on it fails as a network
    error (the chat page says 网络不太好). Reading the body first keeps the connection usable."""
    length = request.content_length
    if not length or length > DRAIN_LIMIT:
        return
    stream = request.environ.get("wsgi.input")
    try:
        while length > 0:
            chunk = stream.read(min(65536, length)) if stream is not None else b""
            if not chunk:
                break
            length -= len(chunk)
    except Exception:  # noqa: BLE001 — a client that went away: nothing to keep alive
        pass


def _plain_page(code: int, message: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{code}</title>'
            f'<p>{message}</p><p><a href="/">回到问答</a> · 咨询电话 12333 / 12345</p></html>')


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # noqa: ANN202
        code = exc.code or 500
        message = MESSAGES.get(code, exc.name)
        if code == 413:
            drain_refused_body()
        # Allow (405), Retry-After (429, 503), WWW-Authenticate (401): the error's own headers.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            return jsonify({"error": message, "field": None, "status": code}), code, headers
        if code == 404 and "web" in app.blueprints:
            # the site's own page: navigation back to the assistant and the policy list
            try:
                return render_template("web/404.html", message="地址可能有误，或者该页面已经不存在。"), 404, headers
            except Exception:  # noqa: BLE001 - never let an error page fail
                app.logger.exception("404 page failed")
        return _plain_page(code, message), code, headers

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):  # noqa: ANN202
        if isinstance(exc, SchemaError):  # a deployment left out `db upgrade`: not a bug here, not transient
            app.logger.error("database schema: %s", exc)
            return http_error(database_down())
        if is_database_down(exc):
            app.logger.warning("database unavailable on %s: %s", request.path, exc.__class__.__name__)
            return http_error(database_down())
        app.logger.exception("unhandled error on %s", request.path)
        if _wants_json():
            return jsonify({"error": MESSAGES[500], "field": None, "status": 500}), 500
        return _plain_page(500, MESSAGES[500]), 500
