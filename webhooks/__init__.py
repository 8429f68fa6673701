"""The Flask app: WeChat endpoint, JSON API, mobile web pages, staff console.

`create_app(test_config=None)` builds everything from layered settings
(defaults ← TOML ← JIUYE_* environment ← test_config); nothing is read at import.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from knowledge.settings import load_settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(overrides=test_config)
    app.config.from_mapping(settings)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None, so setdefault was a no-op
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

    from . import db

    db.init_app(app)

    from . import api, errors

    errors.init_app(app)
    app.register_blueprint(api.bp)

    # Every surface is imported explicitly: a missing module is an error, not a silently absent page.
    from . import calculators_api, console, web, wechat

    for module in (wechat, calculators_api, web, console):
        if hasattr(module, "init_app"):
            module.init_app(app)
        else:
            app.register_blueprint(module.bp)
    return app
