"""Message catalogs: every sentence the engine composes, per locale.

Catalog files are bot/messages/<locale>.yaml plus any bot/messages/<locale>-*.yaml
(one per feature, e.g. zh-flows.yaml), merged. A missing key in a locale falls
back to zh, so a partial Mongolian catalog still works.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
DEFAULT_LOCALE = "zh"


@lru_cache(maxsize=None)
def _catalog(locale: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(MESSAGES_DIR.glob(f"{locale}.yaml")) + sorted(MESSAGES_DIR.glob(f"{locale}-*.yaml")):
        with path.open(encoding="utf-8") as fh:
            merged.update(yaml.safe_load(fh) or {})
    return merged


def locales() -> list[str]:
    return sorted({p.stem.split("-")[0] for p in MESSAGES_DIR.glob("*.yaml")})


def msg(key: str, locale: str = DEFAULT_LOCALE, **kwargs: Any) -> str:
    """The sentence for `key` in `locale`, formatted with kwargs (str.format)."""
    text = _catalog(locale).get(key)
    if text is None:
        text = _catalog(DEFAULT_LOCALE).get(key)
    if text is None:
        raise KeyError(f"message {key!r} missing from the {DEFAULT_LOCALE} catalog")
    return str(text).format(**kwargs) if kwargs else str(text)


def has(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in _catalog(locale)
