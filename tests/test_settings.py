"""Settings layering: defaults ← TOML ← JIUYE_* environment ← explicit overrides."""
from pathlib import Path

import pytest

from knowledge.settings import load_settings


def test_defaults_give_sqlite_under_instance():
    s = load_settings(environ={})
    assert s["DATABASE_URL"].startswith("sqlite:///") and s["DATABASE_URL"].endswith("instance/jiuye.db")
    assert s["WECHAT"]["TOKEN"] == ""


def test_toml_then_environment_then_overrides(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('SECRET_KEY = "from-toml"\nDIALOGUE_TTL_HOURS = 12\n[WECHAT]\nTOKEN = "t-toml"\nAPP_ID = "wx1"\n',
                   encoding="utf-8")
    env = {"JIUYE_CONFIG": str(cfg), "JIUYE_WECHAT__TOKEN": "123456", "JIUYE_DIALOGUE_TTL_HOURS": "6"}
    s = load_settings(environ=env)
    assert s["SECRET_KEY"] == "from-toml"
    assert s["WECHAT"]["APP_ID"] == "wx1"          # nested TOML key kept
    assert s["WECHAT"]["TOKEN"] == "123456"        # environment wins ...
    assert isinstance(s["WECHAT"]["TOKEN"], str)   # ... and a token of digits stays a string
    assert s["DIALOGUE_TTL_HOURS"] == 6            # typed like its default
    s = load_settings({"SECRET_KEY": "explicit"}, environ=env)
    assert s["SECRET_KEY"] == "explicit"


def test_missing_config_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="JIUYE_CONFIG"):
        load_settings(environ={"JIUYE_CONFIG": str(tmp_path / "nope.toml")})


def test_example_config_parses_and_matches_defaults():
    import tomllib

    from knowledge.settings import DEFAULTS, PROJECT_ROOT

    data = tomllib.loads((PROJECT_ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert all(k == k.upper() for k in data)
    documented = set(data) | {"MATCH_THRESHOLD"}  # commented out in the example on purpose
    assert documented >= set(DEFAULTS), set(DEFAULTS) - documented
    assert set(data["WECHAT"]) == set(DEFAULTS["WECHAT"])
