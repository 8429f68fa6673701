"""The web blueprint and what every page shares: the visitor cookie, the knowledge view, headers."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, has_request_context, render_template, request, url_for

from bot.i18n import msg
from eligibility import today as county_today
from knowledge.runtime import THEMES, theme_of  # noqa: F401  (pages import theme_of from here)
from knowledge.service import Snapshot

from ..db import get_knowledge
from ..identity import ensure_visitor, visitor_id

bp = Blueprint("web", __name__)

ASSET_DIR = "web/"
ASSET_MAX_AGE = 365 * 24 * 3600


@lru_cache(maxsize=64)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


@bp.app_template_global("asset")
def asset(filename: str) -> str:
    """URL of one of our static files with a content hash, so browsers may keep it for a year."""
    path = Path(current_app.static_folder or "") / filename
    version = _digest(str(path), path.stat().st_mtime) if path.is_file() else ""
    return url_for("static", filename=filename, v=version or None)


@bp.after_app_request
def cache_versioned_assets(response: Response) -> Response:
    """A weak rural link should fetch the CSS and JS once: hashed URLs never change content."""
    if (request.endpoint == "static" and request.args.get("v") and response.status_code == 200
            and (request.view_args or {}).get("filename", "").startswith(ASSET_DIR)):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_MAX_AGE
        response.cache_control.immutable = True
    return response


def not_found(message: str):
    """The site's 404 page with a fixed `message` (never text taken from the request)."""
    return render_template("web/404.html", message=message), 404


def snapshot() -> Snapshot:
    """The knowledge pack as of now (rebuilt when staff changed it)."""
    return get_knowledge().snapshot


def today() -> dt.date:
    """Today in the county (or the pinned TODAY setting)."""
    return county_today(current_app.config)


def conversation_tag(uid: str) -> str:
    """A short one-way tag of the visitor id: the chat script keeps its local history under it, so a
    browser whose cookie was lost or replaced does not show a conversation the server no longer has."""
    return hashlib.sha256(f"jiuye-chat:{uid}".encode()).hexdigest()[:16]


def page_locale() -> str:
    """The page's language (the visitor's switch): zh or mn; zh outside a request."""
    if not has_request_context():
        return "zh"
    value = request.cookies.get("jiuye_lang", "")
    return value if value in ("zh", "mn") else "zh"


@bp.app_template_global("t")
def t(key: str, **kwargs) -> str:
    """A catalog sentence in templates, in the page's language: {{ t('web_site_name') }}."""
    return msg(key, page_locale(), **kwargs)


@bp.app_template_filter("tel")
def tel(number: str) -> str:
    """A phone number as a tel: target (digits, + and - only)."""
    return "tel:" + re.sub(r"[^0-9+\-]", "", number or "")


@bp.app_template_filter("cn_date")
def cn_date(day: dt.date | None) -> str:
    """A date as the page's language writes it (2026年11月27日)."""
    return msg("date_format", page_locale(), year=day.year, month=day.month, day=day.day) if day else ""


@bp.after_request
def visitor_cookie(response: Response) -> Response:
    """Give each browser a stable anonymous id (the chat's conversation key); the app-wide hook in
    webhooks.hardening sends it, with the security headers every response carries."""
    if visitor_id() is None and response.status_code < 400:
        ensure_visitor()
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def configured_base_url() -> str:
    """The public address staff set in the console (服务信息), else the PUBLIC_BASE_URL setting; "" when neither."""
    return (snapshot().identity.get("public_base_url") or current_app.config.get("PUBLIC_BASE_URL") or "").strip()


def public_base_url() -> str | None:
    """Where residents reach the assistant, for the poster's QR code: the configured address; else
    the address this request came to when its host is trusted — listed in TRUSTED_HOSTS (Flask
    refuses every other Host then) or a loopback name on a developer's machine; else None.

    The Host header is the client's to choose: trusted blindly, one request could have the
    poster (or a cache in front of it) carry a QR code to any site."""
    base = configured_base_url()
    if base:
        return base.rstrip("/") + "/"
    hostname = (urlsplit("//" + request.host).hostname or "").lower()
    if current_app.config.get("TRUSTED_HOSTS") or hostname in LOOPBACK_HOSTS:
        return request.host_url.rstrip("/") + "/"
    current_app.logger.warning("poster: no public address is set and host %r is not trusted; no QR code",
                               request.host[:100])
    return None


def identity_lines() -> dict[str, str]:
    """Service identity for the public pages: operator, plan date and 内容更新于 in Chinese dates ("" when unset)."""
    ident = dict(snapshot().identity)
    for key in ("plan_date", "content_updated"):
        try:
            ident[key] = cn_date(dt.date.fromisoformat(ident[key])) if ident[key] else ""
        except ValueError:
            pass
    return ident
