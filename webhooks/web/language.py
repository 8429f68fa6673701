"""The page language (zh, or mn: traditional Mongolian shown vertically) and the Mongolian font.

The language is the visitor's `jiuye_lang` cookie, which the switch on every page sets (and the
chat script, when the conversation changes language); the switch also keeps the language for the
visitor's conversation, so the assistant answers in it. Noto Sans Mongolian is served from the
system (Debian's fonts-noto-core, installed by the Makefile), never from a copy in the repository.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, redirect, request, send_file

from ..db import get_engine
from ..identity import visitor_id
from .common import bp, page_locale

LANG_COOKIE = "jiuye_lang"
LOCALES = ("zh", "mn")
HTML_LANG = {"zh": "zh-CN", "mn": "mn-Mong"}
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
FONTS = {"NotoSansMongolian-Regular.ttf"}
FONT_MAX_AGE = 30 * 24 * 3600


@bp.app_context_processor
def language_globals() -> dict:
    locale = page_locale()
    return {"page_locale": locale, "html_lang": HTML_LANG[locale], "other_locale": "zh" if locale == "mn" else "mn"}


@bp.get("/lang/<locale>")
def switch(locale: str):
    """The language switch: remember it in this browser and for its conversation, then go back."""
    if locale not in LOCALES:
        abort(404)
    target = request.args.get("next") or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"  # only our own pages: no open redirect
    uid = visitor_id()
    if uid is not None:
        get_engine().set_locale(f"web:{uid}", locale)
    response = redirect(target, code=303)
    # Readable by the chat script (it follows a language chosen in the conversation); nothing secret.
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=False,
                        secure=request.is_secure)
    return response


def font_path(name: str) -> Path | None:
    if name not in FONTS:
        return None
    return next((d / name for d in FONT_DIRS if (d / name).is_file()), None)


@bp.get("/fonts/<name>")
def font(name: str):
    """A font from the system's font directory, cached by the browser for a month."""
    path = font_path(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="font/ttf", max_age=FONT_MAX_AGE, conditional=True)
    response.cache_control.public = True
    return response
