"""Shared fixtures: a database per test session (SQLite in a temp dir), app, client, engine;
and a small pytest plugin for YAML calculator cases and YAML conversation transcripts.

Tests that change data use `fresh_db` / `fresh_app` (their own database file) so the
shared one stays as the pack seeded it.

- */cases/*.yaml — `calculator` plus a list of `cases`, each with `name` (a sentence stating the
  rule), optional `date` (as_of), `input`, and `output` (a subset of the result: scalars equal,
  dicts and lists of dicts matched as subsets; `reasons_contain`, `would_change_contain`,
  `expired_notes_contain`, `notes_contain` look for text) or `error` (the expected {"field": ...}
  and optional `message_contains`).
- */transcripts/*.yaml — a list of transcripts (`name`, optional `today`, `turns`). A turn is
  `say: text` (or `event: menu:CALC_X`) with `expect` {kind, clause, faq_id, contains,
  not_contains, options (count), option_contains, result (subset), links_contain, contacts};
  or a stage direction: `restart_app: true` (a new Engine on the same database) or
  `age_hours: N` (the stored dialogue becomes N hours older).

A failure names the file and the case or transcript (and the turn) with what differed.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from bot.engine import Engine
from bot.reply import Incoming
from knowledge.db import Database
from knowledge.models import Conversation
from knowledge.service import Snapshot

TODAY = dt.date(2026, 11, 27)
# The database the whole suite runs on: SQLite files by default; with JIUYE_TEST_DATABASE_URL set to a
# PostgreSQL URL (`make test-postgres`, and .ci/run), every test database is a PostgreSQL database
# created on that server. Read before pytest_configure clears the JIUYE_* environment.
TEST_DATABASE_URL = os.environ.get("JIUYE_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PG_ADMIN_URL = (TEST_DATABASE_URL if ON_POSTGRES else
                os.environ.get("JIUYE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
# An API key of the `app` fixture (name "partner"): with it a caller's own `user` ids count.
API_KEY = "test-partner-key-0123456789"
API_KEY_HEADER = {"Authorization": f"Bearer {API_KEY}"}


def pytest_configure(config: pytest.Config) -> None:
    # Never let a developer's instance/config.toml or environment leak into tests.
    for name in list(os.environ):
        if name.startswith("JIUYE_"):
            del os.environ[name]
    os.environ["JIUYE_CONFIG"] = str(Path(__file__).parent / "data" / "empty-config.toml")
    # Hundreds of requests from 127.0.0.1 in one session would trip the per-address limit; the
    # rate-limit tests turn it on in their own app (test_config overrides the environment).
    os.environ["JIUYE_RATELIMIT_ENABLED"] = "0"


# Every Database a test opens is disposed before its database is dropped (or at the end of the
# test that opened it): PostgreSQL connections left to the garbage collector raise ResourceWarning
# in whichever later test happens to collect them (warnings are errors here).
_OPENED: list[Database] = []
_database_init = Database.__init__


def _tracked_init(self: Database, *args: Any, **kwargs: Any) -> None:
    _database_init(self, *args, **kwargs)
    _OPENED.append(self)


Database.__init__ = _tracked_init  # type: ignore[method-assign]


def dispose_opened(url: str | None = None, since: int = 0) -> None:
    """Dispose the Databases opened on `url` (any url: None) from index `since` on."""
    keep = _OPENED[:since]
    for db in _OPENED[since:]:
        if url is None or db.url == url:
            db.dispose()
        else:
            keep.append(db)
    _OPENED[:] = keep


@pytest.fixture(autouse=True)
def _jiuye_environment_restored():
    """A test that runs gunicorn.conf.py in-process (it sets JIUYE_ENV=production by default) or
    sets JIUYE_* itself must not change the settings of the tests after it."""
    before = {k: v for k, v in os.environ.items() if k.startswith("JIUYE_") or k == "PROMETHEUS_MULTIPROC_DIR"}
    yield
    for name in [k for k in os.environ if (k.startswith("JIUYE_") or k == "PROMETHEUS_MULTIPROC_DIR")
                 and k not in before]:
        del os.environ[name]
    os.environ.update(before)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # Databases opened by the test body itself (apps, restarted engines) live no longer than it.
    since = len(_OPENED)
    yield
    dispose_opened(since=since)


class Databases:
    """Test databases, migrated and seeded once: each new one is a copy of a template.

    Migrating and seeding a database takes ~1.2 s; copying the template's file (SQLite) or
    `CREATE DATABASE … TEMPLATE` (PostgreSQL) takes milliseconds, and the suite makes ~100.
    `empty()` gives a database with no tables, for tests of the first start itself."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        self._template: str | None = None
        self._admin = None
        self.created: list[str] = []  # PostgreSQL names, dropped at the end of the session

    def _name(self, label: str) -> str:
        self.count += 1
        return f"jiuye_t_{os.getpid()}_{self.count}_{re.sub(r'[^a-z0-9]', '', label.lower())[:20]}"

    def admin(self):
        if self._admin is None:
            self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        return self._admin

    def _pg_create(self, name: str, template: str | None = None) -> str:
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def empty(self, label: str = "db") -> str:
        if ON_POSTGRES:
            return self._pg_create(self._name(label))
        self.count += 1
        return f"sqlite:///{self.folder / f'{self.count}-{label}.db'}"

    def template(self) -> str:
        if self._template is None:
            url = self.empty("template")
            db = Database(url).init()
            db.dispose()  # PostgreSQL copies a template only while nobody is connected to it
            self._template = url
        return self._template

    def new(self, label: str = "db") -> str:
        """A migrated database holding the bundled pack, as a first start leaves it."""
        template = self.template()
        if ON_POSTGRES:
            return self._pg_create(self._name(label), template.rsplit("/", 1)[1])
        self.count += 1
        path = self.folder / f"{self.count}-{label}.db"
        # the template was closed cleanly, so its WAL is checkpointed into the main file
        shutil.copyfile(template.split("///", 1)[1], path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        dispose_opened(url)
        name = url.rsplit("/", 1)[1]
        if ON_POSTGRES and name in self.created:
            with self.admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.remove(name)

    def drop_leftovers(self) -> None:
        """Drop the databases of earlier runs that were killed before their teardown."""
        with self.admin().connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'jiuye_t_%'")).scalars()
            for name in list(names):
                pid = int(name.split("_")[2]) if name.split("_")[2].isdigit() else 0
                if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        dispose_opened()
        for name in list(self.created):
            self.drop(f"/{name}")
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    factory = Databases(tmp_path_factory.mktemp("databases"))
    if ON_POSTGRES:
        try:
            with factory.admin().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the run was asked for PostgreSQL: not reaching it is an error
            pytest.exit(f"JIUYE_TEST_DATABASE_URL={TEST_DATABASE_URL} is not reachable: {exc}", returncode=3)
        factory.drop_leftovers()
    yield factory
    factory.close()


@pytest.fixture()
def new_db_url(databases: Databases):
    """A function that returns the URL of a new seeded database (dropped after the test)."""
    made: list[str] = []

    def make(label: str = "db", *, empty: bool = False) -> str:
        url = databases.empty(label) if empty else databases.new(label)
        made.append(url)
        return url

    yield make
    for url in made:
        databases.drop(url)


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> str:
    """The session's shared database (seeded once; tests that change data use their own)."""
    return databases.new("shared")


@pytest.fixture(scope="session")
def database(database_url: str) -> Database:
    return Database(database_url).init()


@pytest.fixture(scope="session")
def engine(database: Database) -> Engine:
    """A shared engine on the seeded pack, with "today" pinned to 2026-11-27."""
    return Engine(database, {"TODAY": TODAY.isoformat()})


@pytest.fixture()
def fresh_db(new_db_url) -> Database:
    db = Database(new_db_url("fresh")).init()
    yield db
    db.dispose()


@pytest.fixture()
def fresh_engine(fresh_db: Database) -> Engine:
    return Engine(fresh_db, {"TODAY": TODAY.isoformat()})


@pytest.fixture(scope="session")
def app(database_url: str):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url, "TODAY": TODAY.isoformat(),
                       "SECRET_KEY": "test", "API_KEYS": f"partner:{API_KEY}"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def api_headers() -> dict[str, str]:
    """The Authorization header of the `app` fixture's API key."""
    return dict(API_KEY_HEADER)


@pytest.fixture()
def fresh_app(new_db_url):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("app"),
                      "TODAY": TODAY.isoformat(), "SECRET_KEY": "test"})
    yield app
    app.extensions["jiuye.db"].dispose()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture()
def pg_url():
    """A throwaway PostgreSQL database (the production option), dropped afterwards."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.__class__.__name__})")
    name = f"jiuye_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ============================================================ YAML cases and transcripts


class CaseFailure(AssertionError):
    """A YAML case or transcript turn that did not hold; the message is the whole report."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix in (".yaml", ".yml"):
        if file_path.parent.name == "cases":
            return CaseFile.from_parent(parent, path=file_path)
        if file_path.parent.name == "transcripts":
            return TranscriptFile.from_parent(parent, path=file_path)
    return None


class YamlItem(pytest.Function):
    """A Function built from YAML data, so it can use the ordinary fixtures."""

    def __init__(self, *, spec: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}: {self.name}"

    def repr_failure(self, excinfo):  # noqa: ANN001
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.path.name} — {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)


# ---------------------------------------------------------------------------- matching
def subset_diff(want: Any, got: Any, where: str = "") -> list[str]:
    """Where `got` does not contain `want` (dicts as subsets, lists elementwise)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where or 'value'}: expected an object, got {got!r}"]
        out: list[str] = []
        for key, value in want.items():
            if key not in got:
                out.append(f"{where}{key}: missing")
            else:
                out += subset_diff(value, got[key], f"{where}{key}.")
        return out
    if isinstance(want, list) and want and isinstance(want[0], dict):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where.rstrip('.')}: expected {len(want)} items, got {got!r}"]
        out = []
        for i, (w, g) in enumerate(zip(want, got)):
            out += subset_diff(w, g, f"{where}{i}.")
        return out
    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None:
        ok = want is got  # true is not 1, null is not 0
    elif isinstance(want, (int, float)) and isinstance(got, (int, float)):
        ok = abs(want - got) < 1e-9
    else:
        ok = want == got
    return [] if ok else [f"{where.rstrip('.')}: expected {want!r}, got {got!r}"]


def texts_missing(wanted: Any, lines: list[str], label: str) -> list[str]:
    wanted = _pieces(wanted)
    joined = "\n".join(lines)
    return [f"{label}: no sentence contains {w!r}" for w in wanted if w not in joined]


# ---------------------------------------------------------------------------- cases
TEXT_KEYS = {"reasons_contain": "reasons", "would_change_contain": "would_change",
             "expired_notes_contain": "expired_notes", "notes_contain": "notes"}


class CaseFile(pytest.File):
    def collect(self):
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        default_calc = data.get("calculator")
        for spec in data["cases"]:
            spec.setdefault("calculator", default_calc)

            def run(pack_snapshot: Snapshot, spec: dict[str, Any] = spec) -> None:
                check_case(spec, pack_snapshot)

            yield YamlItem.from_parent(self, name=spec["name"], callobj=run, spec=spec)


def check_case(spec: dict[str, Any], snapshot: Snapshot) -> None:
    from eligibility import EligibilityError, evaluate

    if bool(spec.get("output")) == bool(spec.get("error")):
        raise CaseFailure("a case states exactly one of `output` (non-empty) or `error`: one that states "
                          "neither cannot fail")

    raw = spec.get("input", {})
    payload: Any = dict(raw) if isinstance(raw, dict) else raw  # a list or null tests the "not an object" error
    if "date" in spec:
        payload["as_of"] = str(spec["date"])
    try:
        result = evaluate(spec["calculator"], payload, snapshot.parameters, TODAY, snapshot).to_dict()
    except EligibilityError as exc:
        if "error" not in spec:
            raise CaseFailure(f"unexpected error {exc.to_dict()} for input {payload}") from None
        problems = subset_diff({k: v for k, v in spec["error"].items() if k != "message_contains"}, exc.to_dict())
        problems += texts_missing(spec["error"].get("message_contains"), [exc.message], "error message")
        if problems:
            raise CaseFailure("\n".join(problems) + f"\nerror was: {exc.to_dict()}") from None
        return
    if "error" in spec:
        raise CaseFailure(f"expected error {spec['error']}, got a result: {json.dumps(result, ensure_ascii=False)}")
    want = dict(spec.get("output") or {})
    problems = []
    for key, field in TEXT_KEYS.items():
        if key in want:
            problems += texts_missing(want.pop(key), result[field], field)
    problems += subset_diff(want, result)
    if problems:
        raise CaseFailure("\n".join(problems) + "\nresult: " + json.dumps(result, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------------------- transcripts
class TranscriptFile(pytest.File):
    def collect(self):
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        for spec in data:
            def run(database: Database, engine: Engine, spec: dict[str, Any] = spec, stem: str = self.path.stem) -> None:
                Transcript(database, spec, stem, engine).play()

            yield YamlItem.from_parent(self, name=spec["name"], callobj=run, spec=spec)


class Transcript:
    def __init__(self, database: Database, spec: dict[str, Any], stem: str, shared: Engine):
        self.database = database
        self.spec = spec
        self.settings = {"TODAY": str(spec.get("today") or TODAY.isoformat())}
        self.settings.update(spec.get("settings") or {})
        # the session's engine (today pinned) unless the transcript sets its own day or settings
        own = "today" in spec or "settings" in spec
        self.engine = Engine(database, self.settings) if own else shared
        self.user = f"t:{stem}:{uuid.uuid4().hex[:8]}"

    def play(self) -> None:
        for number, turn in enumerate(self.spec["turns"], 1):
            if turn.get("restart_app"):
                self.engine = Engine(Database(self.database.url), self.settings)
                continue
            if "age_hours" in turn:
                self.age(float(turn["age_hours"]))
                continue
            if "event" in turn:
                reply = self.engine.handle(Incoming(user=self.user, event=str(turn["event"])))
                said = f"[{turn['event']}]"
            else:
                said = str(turn["say"])
                reply = self.engine.handle(Incoming(user=self.user, text=said))
            if not turn.get("expect"):
                raise CaseFailure(f"turn {number} ({said!r}) has no `expect`: a turn that checks nothing cannot fail")
            problems = self.check(turn["expect"], reply)
            if problems:
                raise CaseFailure(f"turn {number} say {said!r}:\n" + "\n".join(problems)
                                  + f"\nreply ({reply.kind}, clause {reply.clause}):\n{reply.as_text()}")

    def age(self, hours: float) -> None:
        """Make the stored dialogue `hours` older, as if the person had left it that long."""
        with self.database.session() as session:
            conv = session.get(Conversation, self.user)
            assert conv is not None and conv.state.get("dialogue"), "no stored dialogue to age"
            state = json.loads(json.dumps(conv.state))
            for key in ("started", "updated"):
                moment = dt.datetime.fromisoformat(state["dialogue"][key]) - dt.timedelta(hours=hours)
                state["dialogue"][key] = moment.isoformat()
            conv.state = state

    KNOWN = {"kind", "not_kind", "clause", "faq_id", "contains", "not_contains", "matches", "options",
             "option_contains", "result", "no_result", "links_contain", "contacts", "ends_with"}

    @classmethod
    def check(cls, expect: dict[str, Any], reply) -> list[str]:  # noqa: ANN001
        problems = [f"unknown expect key {k!r} (a typo checks nothing)" for k in expect if k not in cls.KNOWN]
        text = reply.as_text()
        for key in ("kind", "clause", "faq_id"):
            if key in expect and getattr(reply, key) != (str(expect[key]) if expect[key] is not None else None):
                problems.append(f"{key}: expected {expect[key]!r}, got {getattr(reply, key)!r}")
        for piece in _pieces(expect.get("contains")):
            if piece not in text:
                problems.append(f"reply does not contain {piece!r}")
        for piece in _pieces(expect.get("not_contains")):
            if piece in text:
                problems.append(f"reply should not contain {piece!r}")
        for pattern in _pieces(expect.get("matches")):
            if not re.search(pattern, text):
                problems.append(f"reply does not match /{pattern}/")
        if "not_kind" in expect and reply.kind in _pieces(expect["not_kind"]):
            problems.append(f"kind {reply.kind!r} is refused here")
        if "ends_with" in expect and not reply.reply.rstrip().endswith(str(expect["ends_with"])):
            problems.append(f"the reply text does not end with {expect['ends_with']!r} (the pending question)")
        if "options" in expect and len(reply.options) != expect["options"]:
            problems.append(f"options: expected {expect['options']}, got {len(reply.options)}")
        for piece in _pieces(expect.get("option_contains")):
            if not any(piece in o["label"] for o in reply.options):
                problems.append(f"no option label contains {piece!r}")
        if "result" in expect:
            got = reply.extra.get("result")
            if got is None:
                problems.append("no calculator result in the reply")
            else:
                want = dict(expect["result"])
                for key, field in TEXT_KEYS.items():
                    if key in want:
                        problems += texts_missing(want.pop(key), got[field], field)
                problems += subset_diff(want, got)
        elif expect.get("no_result") and reply.extra.get("result") is not None:
            problems.append("unexpected calculator result")
        if "links_contain" in expect and not any(expect["links_contain"] in l["url"] for l in reply.links):
            problems.append(f"no link to {expect['links_contain']!r}: {reply.links}")
        if "contacts" in expect:
            names = [c.get("office") for c in reply.contacts]
            if expect["contacts"] not in names:
                problems.append(f"contacts: {expect['contacts']!r} not in {names}")
            elif not all(c.get("hotline") == "12333" for c in reply.contacts):
                problems.append("contacts without the 12333 hotline")
        return problems


def _pieces(value: Any) -> list[str]:
    """A YAML string or list of strings (numbers such as 12333 read as text)."""
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]
