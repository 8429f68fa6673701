"""API keys: who may choose the `user` of a conversation on POST /api/v1/ask.

A key is a random secret handed to one partner system (a county service hall kiosk, a
township app). With `Authorization: Bearer KEY` the caller's own user ids are honoured, in a
namespace of that key (`api:<key name>:<user>`), so two partners never share a person.

Keys come from key sources. `SettingsKeys` reads the `API_KEYS` setting (environment
`JIUYE_API_KEYS`, comma-separated): each entry is `NAME:SECRET` or a bare `SECRET`, whose
name is then a short hash of it. The staff console can add a source of its own (keys stored
in the database, as hashes) and pass both to `Keyring`; `Keyring.check` is the one question
the web layer asks. No Flask here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Iterable, Protocol, Sequence

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,24}")
MIN_SECRET_CHARS = 16  # shorter secrets are refused: a key must not be guessable
MAX_KEY_CHARS = 256


@dataclass(frozen=True)
class ApiKey:
    """A known key: its public `name` (the user namespace) and where it came from."""

    name: str
    source: str = "settings"


def digest(secret: str) -> bytes:
    """SHA-256 of a key: what a store keeps, and what comparisons run on (equal lengths)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


class KeySource(Protocol):
    def entries(self) -> Iterable[tuple[bytes, ApiKey]]:
        """(digest of the secret, key) for every key this source knows."""


class SettingsKeys:
    """Keys listed in the API_KEYS setting: a list, or one comma-separated string."""

    def __init__(self, setting: Any):
        self._entries: list[tuple[bytes, ApiKey]] = []
        for raw in split(setting):
            name, _, secret = raw.partition(":") if ":" in raw else ("", "", raw)
            name, secret = name.strip(), secret.strip()
            if len(secret) < MIN_SECRET_CHARS or len(secret) > MAX_KEY_CHARS:
                raise ValueError(f"API_KEYS: every key needs {MIN_SECRET_CHARS}–{MAX_KEY_CHARS} characters")
            if name and not NAME_RE.fullmatch(name):
                raise ValueError(f"API_KEYS: key name {name!r} must be 1–24 of A-Z a-z 0-9 _ -")
            self._entries.append((digest(secret), ApiKey(name or "k" + digest(secret).hex()[:12])))

    def entries(self) -> Iterable[tuple[bytes, ApiKey]]:
        return list(self._entries)


def split(setting: Any) -> list[str]:
    """The entries of an API_KEYS value ("a:b, c" or ["a:b", "c"]); blanks dropped."""
    if not setting:
        return []
    items = setting.split(",") if isinstance(setting, str) else [str(item) for item in setting]
    return [item.strip() for item in items if item.strip()]


class Keyring:
    """All accepted keys; `check` compares a presented key with every one in constant time."""

    def __init__(self, sources: Sequence[KeySource]):
        self.sources = list(sources)

    @classmethod
    def from_settings(cls, settings: Any) -> "Keyring":
        return cls([SettingsKeys((settings or {}).get("API_KEYS"))])

    def check(self, presented: str | None) -> ApiKey | None:
        """The key `presented` is, or None. Every known key is compared, so the time taken does not
        tell how close a guess was, nor which key matched."""
        if not presented or len(presented) > MAX_KEY_CHARS:
            return None
        given = digest(presented)
        found = None
        for source in self.sources:
            for known, key in source.entries():
                if hmac.compare_digest(known, given) and found is None:
                    found = key
        return found

    def __bool__(self) -> bool:
        return any(True for source in self.sources for _ in source.entries())


def new_secret() -> str:
    """A fresh key secret for a partner (the console shows it once and stores only `digest`)."""
    return "jy_" + secrets.token_urlsafe(32)
