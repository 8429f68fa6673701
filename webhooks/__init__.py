"""The Flask app: WeChat endpoint, JSON API, mobile web pages, staff console.

`create_app(test_config=None)` builds everything from layered settings
(defaults ← TOML ← JIUYE_* environment ← test_config); nothing is read at import.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from knowledge.apikeys import MIN_SECRET_CHARS, Keyring
from knowledge.settings import DEFAULTS, environment, load_settings, production_problems


class ProductionConfigError(RuntimeError):
    """Settings that must not serve in production (JIUYE_ENV=production): the process refuses to start."""


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON with Chinese kept readable, and never a lone surrogate in the output.

    A lone surrogate (JSON "\\ud800") has no UTF-8 form, so a response that echoes one could not
    be sent. The edge removes them from input; this is the last line, for any echo it missed."""

    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        from .edge import replace_surrogates

        return replace_surrogates(super().dumps(obj, **kwargs))


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.json = SafeJSONProvider(app)
    settings = load_settings(overrides=test_config)
    app.config.from_mapping(settings)
    check_environment(app)
    app.config["JSON_AS_ASCII"] = False
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None, so setdefault was a no-op
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    # Flask itself enforces TRUSTED_HOSTS (400 for any other Host); it wants a list, or None for
    # "any host" (an empty list would refuse every request).
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    app.config["TRUSTED_HOSTS"] = [str(h).strip() for h in hosts or [] if str(h).strip()] or None
    from . import logs

    logs.init_app(app)  # first: the warnings below are formatted as configured, and every request gets an id
    try:
        weak = Keyring.from_settings(app.config).weak
        if weak:
            logging.getLogger(__name__).warning(
                "API_KEYS: key(s) %s have fewer than %d characters and can be guessed; "
                "use long random keys (python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                ", ".join(weak), MIN_SECRET_CHARS)
    except ValueError as exc:  # every key is refused until it is fixed; say so at start, not per request
        logging.getLogger(__name__).error("%s", exc)
    if app.config.get("SECRET_KEY") == DEFAULTS["SECRET_KEY"] and not app.testing:
        logging.getLogger(__name__).warning(
            "SECRET_KEY is the development default: visitor cookies can be forged and WeChat ids "
            "hashed with a known key. Set JIUYE_SECRET_KEY to a long random value.")

    from . import db

    db.init_app(app)

    from . import api, errors, hardening, housekeeping, metrics, ratelimit

    metrics.init_app(app)
    errors.init_app(app)
    hardening.init_app(app)
    ratelimit.init_app(app)
    housekeeping.init_app(app)
    app.register_blueprint(api.bp)

    # Every surface is imported explicitly: a missing module is an error, not a silently absent page.
    from . import calculators_api, console, web, wechat

    from . import warmup

    # Decided before the channels start: with a warm start the WeChat channel starts no warm-up
    # thread of its own (create_app has done the work, and gunicorn may fork this process).
    app.extensions["jiuye.warm_start"] = warmup.enabled(app)
    for module in (wechat, calculators_api, web, console):
        if hasattr(module, "init_app"):
            module.init_app(app)
        else:
            app.register_blueprint(module.bp)
    if app.extensions["jiuye.warm_start"]:
        from knowledge.db import SchemaError

        try:
            seconds = warmup.warm_up(app)
        except SchemaError as exc:
            # Not here: `flask --app webhooks db upgrade` builds this same app (with the production
            # environment file) to fix exactly this. A server's workers refuse in post_worker_init.
            logging.getLogger(__name__).warning("warm start skipped: %s", exc)
        else:
            logging.getLogger(__name__).info("warm start: database, pack, matcher and pages ready in %.2f s",
                                             seconds)
    return app


def check_environment(app: Flask) -> None:
    """ENV must be development or production; production refuses a guessable SECRET_KEY."""
    try:
        env = environment(app.config)
    except ValueError as exc:
        raise ProductionConfigError(str(exc)) from None
    app.config["ENV"] = env
    problems = production_problems(app.config) if env == "production" else []
    if problems:
        raise ProductionConfigError(
            "refusing to start with JIUYE_ENV=production: " + "; ".join(problems) + ". Generate a key with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` and set it as JIUYE_SECRET_KEY "
            "(for systemd in /etc/jiuye/jiuye.env; see deploy/jiuye.env.example). Changing the key later starts "
            "every visitor and WeChat follower afresh. For a local trial run use JIUYE_ENV=development.")
