"""gettext PO catalogs, read at run time: one directory per package, one file per locale (zh.po, mn.po).

Message ids are keys ("menu_intro", "forms.internship.intro"); zh.po holds the source text,
mn.po the Mongolian. The files are the ecosystem's format (Poedit and Weblate read them: Weblate
as "monolingual gettext" with zh.po as the base file), written and updated by
scripts/catalogs.py with Babel. The runtime reads the PO files directly, so there is nothing to
compile and no build step between an edit and `make run`.

Review state lives in each mn entry's flags:
- `unreviewed`: written without a native speaker's review. Its policy terms are shown with their
  Chinese beside them (ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴）), so a reader can check the meaning (knowledge.mongolian.gloss);
- `zh-fallback`: deliberately left in Chinese (legal detail we will not guess at); the Chinese is shown;
- neither flag: reviewed, shown as written.
An mn entry with an empty text and no `zh-fallback` flag is simply untranslated: the Chinese is
shown too, and the completeness test fails until someone decides.

This module imports nothing of the project but knowledge.mongolian, so bot and eligibility can
both use it (ARCHITECTURE.md: eligibility never imports bot).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from .mongolian import gloss

DEFAULT_LOCALE = "zh"
LOCALES = ("zh", "mn")
UNREVIEWED = "unreviewed"
ZH_FALLBACK = "zh-fallback"


@dataclass(frozen=True)
class Entry:
    key: str
    text: str                 # as shown (an unreviewed Mongolian entry already glossed)
    written: str              # as in the file
    flags: frozenset[str]
    zh_source: str = ""       # the Chinese this translation was made from (the `#. zh:` comment)

    @property
    def reviewed(self) -> bool:
        return UNREVIEWED not in self.flags

    @property
    def fallback(self) -> bool:
        return ZH_FALLBACK in self.flags


def read_entries(path: Path, locale: str) -> dict[str, Entry]:
    """Every entry of one PO file (empty when the file is missing)."""
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=None, abort_invalid=True)
    entries: dict[str, Entry] = {}
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        written = message.string if isinstance(message.string, str) else ""
        flags = frozenset(message.flags)
        shown = written
        if locale != DEFAULT_LOCALE and written and UNREVIEWED in flags:
            shown = gloss(written)
        source = next((c[3:].strip() for c in message.auto_comments if c.startswith("zh:")), "")
        entries[message.id] = Entry(message.id, shown, written, flags, source)
    return entries


class Catalogs:
    """The catalogs of one package (its `locale/` directory); thread-safe, each file read once."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._cache: dict[str, dict[str, Entry]] = {}
        self._lock = threading.Lock()

    def entries(self, locale: str) -> dict[str, Entry]:
        if locale not in self._cache:
            with self._lock:
                if locale not in self._cache:
                    self._cache[locale] = read_entries(self.directory / f"{locale}.po", locale)
        return self._cache[locale]

    def reload(self) -> None:
        with self._lock:
            self._cache.clear()

    def text(self, key: str, locale: str = DEFAULT_LOCALE) -> str | None:
        """The text for `key` in `locale`; the Chinese when the locale has none (or falls back); None if unknown."""
        entry = self.entries(locale).get(key) if locale != DEFAULT_LOCALE else None
        if entry is not None and entry.text and not entry.fallback:
            return entry.text
        source = self.entries(DEFAULT_LOCALE).get(key)
        return source.text if source is not None else None

    def translated(self, key: str, locale: str) -> bool:
        """Whether `locale` has its own text for `key` (not the Chinese fallback)."""
        if locale == DEFAULT_LOCALE:
            return key in self.entries(DEFAULT_LOCALE)
        entry = self.entries(locale).get(key)
        return entry is not None and bool(entry.text) and not entry.fallback

    def has(self, key: str) -> bool:
        return key in self.entries(DEFAULT_LOCALE)
