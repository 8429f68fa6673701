"""Message catalogs: every sentence the engine composes, per locale (gettext PO, bot/locale/<locale>.po).

zh.po is the source text, mn.po the traditional-script Mongolian (knowledge.catalogs explains the
review flags). A key the Mongolian catalog lacks, or leaves in Chinese on purpose, is said in
Chinese. `scripts/catalogs.py` writes the files (`make catalogs`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge.catalogs import DEFAULT_LOCALE, LOCALES, Catalogs

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOGS = Catalogs(LOCALE_DIR)


def locales() -> list[str]:
    return list(LOCALES)


def normal_locale(locale: str | None) -> str:
    """A locale this service speaks (anything else is Chinese)."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


def msg(key: str, locale: str = DEFAULT_LOCALE, **kwargs: Any) -> str:
    """The sentence for `key` in `locale`, formatted with kwargs (str.format)."""
    text = CATALOGS.text(key, normal_locale(locale))
    if text is None:
        raise KeyError(f"message {key!r} missing from the {DEFAULT_LOCALE} catalog")
    return text.format(**kwargs) if kwargs else text


def has(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return CATALOGS.translated(key, normal_locale(locale)) if locale != DEFAULT_LOCALE else CATALOGS.has(key)


def translated(key: str, locale: str) -> bool:
    """Whether `locale` says `key` in its own words (not the Chinese fallback)."""
    return CATALOGS.translated(key, normal_locale(locale))
