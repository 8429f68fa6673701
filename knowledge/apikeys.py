"""API keys: who may choose the `user` of a conversation on POST /api/v1/ask.

A key is a random secret handed to one partner system (a county service hall kiosk, a
township app). With `Authorization: Bearer KEY` the caller's own user ids are honoured, in a
namespace of that key (`api:<key name>:<user>`), so two partners never share a person.

Keys come from key sources. `SettingsKeys` reads the `API_KEYS` setting (environment
`JIUYE_API_KEYS`, comma-separated). Each entry is a key as written (the documented interface:
tools send the first entry as their bearer). An entry `NAME:SECRET` also names the key, and
its `SECRET` alone is accepted too; an unnamed key's name is a short hash of it. A key shorter
than 16 characters still works — the operator chose it — but `weak` lists it, and the app
warns at start that it can be guessed. The staff console can add a source of its own (keys stored
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
        self.weak: list[str] = []
        for raw in split(setting):
            if len(raw) > MAX_KEY_CHARS:
                raise ValueError(f"API_KEYS: a key has more than {MAX_KEY_CHARS} characters")
            name, _, secret = raw.partition(":")
            name, secret = name.strip(), secret.strip()
            if not (secret and NAME_RE.fullmatch(name)):
                name, secret = "", raw  # no usable name: the whole entry is the secret
            key = ApiKey(name or "k" + digest(raw).hex()[:12])
            self._entries.append((digest(raw), key))
            if secret != raw:
                self._entries.append((digest(secret), key))
            if len(secret) < MIN_SECRET_CHARS:
                self.weak.append(key.name)

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

    @property
    def weak(self) -> list[str]:
        """Names of keys short enough to be guessed."""
        return [name for source in self.sources for name in getattr(source, "weak", [])]

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
