"""Settings in layers: defaults <- TOML file <- JIUYE_* environment <- explicit mapping.

The same loader serves the Flask app and the command line, so `python -m bot ask`
and `make run` see the same database and WeChat credentials. Nothing is read at
import time; callers ask for settings when they build a service.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
ENVIRONMENTS = ("development", "production")
# The shortest SECRET_KEY production accepts: secrets.token_urlsafe(32) gives 43 characters.
MIN_SECRET_KEY_CHARS = 32

DEFAULTS: dict[str, Any] = {
    # "development" (make run, the tests) or "production" (gunicorn.conf.py sets it): production
    # refuses to start with the development SECRET_KEY or one shorter than MIN_SECRET_KEY_CHARS.
    "ENV": "development",
    # Build everything the first request needs (database, pack, matcher index, jieba, templates)
    # inside create_app, before the process takes traffic: "auto" = in production only.
    "WARM_START": "auto",
    "DATABASE_URL": "",  # empty: SQLite file instance/jiuye.db
    # Bring an empty or older schema up to date on first use. Right for the embedded SQLite file;
    # for a PostgreSQL database that several workers or hosts share, set it false and run
    # `flask --app webhooks db upgrade` as the deployment step (deploy/jiuye.service does): a worker
    # then refuses to start on a database behind its code instead of migrating under the others.
    "AUTO_MIGRATE": True,
    "SECRET_KEY": "dev-only-change-me",
    "TIMEZONE": "Asia/Shanghai",
    "TODAY": "",  # ISO date to pin "today" (demos, tests); empty = the real date
    "PUBLIC_BASE_URL": "",  # e.g. https://jiuye.example.gov.cn, used in WeChat links
    "MATCH_THRESHOLD": None,  # None = the calibrated default in knowledge.matcher
    "DIALOGUE_TTL_HOURS": 24,
    # API keys that may choose the `user` on POST /api/v1/ask: "name:secret,name2:secret2"
    "API_KEYS": "",
    # Security at the edge (webhooks/hardening.py): proxies in front whose X-Forwarded-* headers
    # are trusted (0 = none), HSTS max-age sent over HTTPS (0 = off), host names this service
    # answers to (None = any; a list or "a.example,b.example" refuses every other Host with 400).
    "PROXY_FIX": 0,
    "HSTS_SECONDS": 0,
    "TRUSTED_HOSTS": None,
    # Rate limits (webhooks/ratelimit.py), in the `limits` notation; "" turns one off.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ADDRESS": "120/minute",
    "RATELIMIT_VISITOR": "30/minute",
    "RATELIMIT_API_KEY": "600/minute",
    "RATELIMIT_WECHAT_USER": "30/minute",
    # Logs (webhooks/logs.py): "text" (development) or "json" (production: one JSON object a line,
    # with the request id); LOG_LEVEL empty = INFO for json (access lines included), WARNING for text.
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "",
    # GET /metrics (webhooks/metrics.py) answers these client addresses or networks (comma-separated),
    # and any request with "Authorization: Bearer METRICS_TOKEN" when a token is set; others get 404.
    "METRICS_ALLOW": "127.0.0.1,::1",
    "METRICS_TOKEN": "",
    # Hours the web chat keeps its history in the browser (shared township PCs).
    "WEB_HISTORY_HOURS": 12,
    # How long runtime records are kept (knowledge/retention.py); purged every PURGE_EVERY_MINUTES
    # by each running process and by `flask --app webhooks purge`.
    "RETENTION": {
        "QUESTION_LOG_DAYS": 180,
        "CONVERSATION_DAYS": 30,
        "ONE_OFF_HOURS": 1.0,
        "WECHAT_MESSAGE_DAYS": 2,
        "PURGE_EVERY_MINUTES": 60,
    },
    "WECHAT": {
        "TOKEN": "",
        "APP_ID": "",
        "APP_SECRET": "",
        "ENCODING_AES_KEY": "",
        "API_BASE_URL": "https://api.weixin.qq.com/cgi-bin/",
        "MAX_BODY_BYTES": 65536,
        "REPLY_DEADLINE_SECONDS": 4.0,
        "STALE_AFTER_SECONDS": 5.0,
        "MODE": "",  # plain | compatible | safe; empty: safe with an ENCODING_AES_KEY, else plain
        "MAX_CLOCK_SKEW_SECONDS": 300,  # deliveries signed further from now are refused
    },
}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        key = key.upper()
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _coerce(current: Any, raw: str) -> Any:
    # Environment values are strings; keep them strings unless the default says
    # otherwise. A WeChat token of digits must stay a string.
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int) and not isinstance(current, bool):
        try:
            return int(raw)
        except ValueError:
            return current
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError:
            return current
    if current is None and raw.strip() == "":
        return None
    if current is None:
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _from_env(base: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for name, raw in environ.items():
        if not name.startswith("JIUYE_") or name == "JIUYE_CONFIG":
            continue
        path = name[len("JIUYE_"):].split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part.upper(), {})
            if not isinstance(node, dict):
                break
        else:
            leaf = path[-1].upper()
            node[leaf] = _coerce(node.get(leaf), raw)
    return out


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the effective settings as a nested dict with UPPERCASE keys."""
    environ = os.environ if environ is None else environ
    settings = _merge(DEFAULTS, {})
    config_path = environ.get("JIUYE_CONFIG")
    path = Path(config_path) if config_path else INSTANCE_DIR / "config.toml"
    if path.is_file():
        with path.open("rb") as fh:
            settings = _merge(settings, tomllib.load(fh))
    elif config_path:
        raise FileNotFoundError(f"JIUYE_CONFIG points to a missing file: {path}")
    settings = _from_env(settings, environ)
    if overrides:
        settings = _merge(settings, overrides)
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{INSTANCE_DIR / 'jiuye.db'}"
    return settings


def flag(value: Any, default: bool = False) -> bool:
    """A yes/no setting given as a bool, a number or a word ("1", "true", "on", "0", "off")."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"1", "true", "yes", "on"}:
            return True
        if word in {"0", "false", "no", "off"}:
            return False
        return default
    if value is None:
        return default
    return bool(value)


def environment(settings: Mapping[str, Any]) -> str:
    """ENV as one of ENVIRONMENTS; ValueError for anything else (a typo must not mean "development")."""
    env = str(settings.get("ENV") or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ValueError(f"JIUYE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings.get('ENV')!r}")
    return env


def production_problems(settings: Mapping[str, Any]) -> list[str]:
    """Why these settings must not serve in production (empty when they may)."""
    problems = []
    key = settings.get("SECRET_KEY")
    key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key or "")
    if not key or key == DEFAULTS["SECRET_KEY"]:
        problems.append("JIUYE_SECRET_KEY is not set (the development default would let anyone forge visitor "
                        "cookies and recompute the hashed WeChat ids)")
    elif len(key) < MIN_SECRET_KEY_CHARS:
        problems.append(f"JIUYE_SECRET_KEY has {len(key)} characters; production needs at least "
                        f"{MIN_SECRET_KEY_CHARS} random characters")
    return problems
