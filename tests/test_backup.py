"""Whole-database backup and restore (knowledge/backup.py, `flask backup` / `flask restore`).

A database with staff edits, a conversation in the middle of a calculator dialogue, the callback
ledger, question logs and accounts goes from SQLite to PostgreSQL and back; rows are compared
table by table, read independently of the backup's own encoding. A damaged or foreign file, a
schema mismatch and a database in use are refused with nothing changed.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text

from knowledge import backup as bk
from knowledge.db import SCHEMA_HEAD, Database
from knowledge.models import Base, Conversation, Edit, InboxMark, QuestionLog, Setting

TODAY = "2026-11-27"
API_KEY = "backup-test-key-0123456789"
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
MONGOLIAN = "ᠬᠦᠳᠡᠯᠮᠦᠷᠢ ᠶᠢᠨ ᠲᠤᠰᠠᠯᠠᠮᠵᠢ"  # "employment assistance", traditional script
LONG = ("见习补贴" + MONGOLIAN + "\n") * 20000  # ~0.5 million characters in one value
LOG_ROWS = 2500  # more than two restore batches (bk.BATCH); `fill` logs 4 more (3 asked, 1 long)


def make_app(url: str):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "TODAY": TODAY, "SECRET_KEY": "test",
                       "API_KEYS": f"partner:{API_KEY}"})


def ask(app, text_: str, user: str) -> dict[str, Any]:
    r = app.test_client().post("/api/v1/ask", json={"text": text_, "user": user}, headers=HEADERS)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def database(app) -> Database:
    return app.extensions["jiuye.db"]


# ---------------------------------------------------------------------------- a database in use

def fill(app) -> None:
    """Everything the service keeps, with the awkward values: staff edits of every kind, a dialogue
    waiting for its next answer, the ledger, logs, an account; every table gets rows."""
    from knowledge.accounts import Accounts
    from knowledge.callbacks import CallbackService
    from knowledge.service import StaffService

    # a person in the middle of a dialogue: two graduates hired, the month count still to come
    assert ask(app, "招高校毕业生社保补贴测算", "mid")["kind"] == "flow"
    assert "几个月" in ask(app, "2人", "mid")["reply"]
    assert ask(app, "见习补贴每人每月多少", "other")["clause"] == "12"
    db = database(app).init()
    with db.session() as s:
        staff = StaffService(s)
        staff.override_parameter("graduate_hiring.monthly_allowance", "2026-01-01", 1600, "测试科员",
                                 "测试文号〔2026〕7号")
        staff.override_parameter("internship.rate", "2026-01-01", 1100, "测试科员", "测试文号〔2026〕8号")
        staff.update_office("hrss", {"phone": "0937-7777777", "hours": "测试时间 周一至周五",
                                     "verified_by": "测试核实人", "verified_at": "2026-12-05"}, "测试科员")
        staff.create_procedure({"clause": "12", "title": "测试见习补贴申领", "steps": ["测试步骤一", MONGOLIAN],
                                "source": "测试来源 电话确认 2026-12-05"}, "测试科员")
        Accounts(s).add("test-admin", "test-password-1", "admin", "测试管理员")
        CallbackService(s).request("api:partner:mid", "测试甲", "13800000000", "8", "graduate_hiring",
                                   {"amount": 3200, "note": MONGOLIAN}, consent=True)
        CallbackService(s).request("api:partner:other", "测试乙", "13800000001", consent=True)  # result SQL NULL
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=123456)
    with db.engine.begin() as conn:
        t = Base.metadata.tables
        conn.execute(QuestionLog.__table__.insert(), [
            {"at": now - dt.timedelta(seconds=i), "user": f"log-{i % 7}", "channel": "web",
             "text": f"测试问题{i} {MONGOLIAN}" if i % 2 else f"问题{i}", "kind": "fallback" if i % 3 else "answer",
             "clause": None if i % 3 else "12", "faq_id": None, "score": None if i % 5 else i / 7}
            for i in range(LOG_ROWS)])
        conn.execute(QuestionLog.__table__.insert().values(at=now, user="long", channel="api", text=LONG,
                                                           kind="answer"))
        first_log = conn.execute(select(func.min(QuestionLog.id))).scalar()
        conn.execute(InboxMark.__table__.insert().values(question_id=first_log, action="handled", by="测试科员", at=now))
        # SQL NULL and JSON null are different values; both must come back as they were
        conn.execute(Edit.__table__.insert().values(entity="test", entity_id="sql-null", before=sa.null(),
                                                    after=sa.JSON.NULL, author="测试", reason=LONG, at=now))
        conn.execute(Edit.__table__.insert().values(entity="test", entity_id="json-null", before=sa.JSON.NULL,
                                                    after={"值": [1, 2.5, None, True, "ᠮ"]}, at=now))
        conn.execute(t["wechat_messages"].insert().values(key="msg:1", status="done", reply="<xml>测试</xml>",
                                                          created_at=now, updated_at=now))
        conn.execute(t["wechat_nonces"].insert().values(key="a" * 64, message_key="msg:1", created_at=now))
        conn.execute(t["login_throttle"].insert().values(key="user:test-admin", failures=2, last_failure_at=now,
                                                         locked_until=None))
        conn.execute(t["dialogue_events"].insert().values(at=now, user="x", calculator="internship", event="completed"))
        conn.execute(t["faqs"].update().where(t["faqs"].c.id == "internship-rate").values(enabled=False))


def rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as plain values, read with SQLAlchemy (not the backup's encoding):
    timestamps as aware UTC, and for JSON columns whether the value is SQL NULL."""
    out: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as conn:
        for table in bk.backup_tables():
            json_cols = [c for c in table.columns if isinstance(c.type, sa.JSON)]
            query = select(*table.columns, *[c.is_(None) for c in json_cols]).order_by(*table.primary_key.columns)
            got = []
            for row in conn.execute(query):
                values = dict(zip([c.name for c in table.columns], row))
                for name, value in values.items():
                    if isinstance(value, dt.datetime):
                        values[name] = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else \
                            value.astimezone(dt.timezone.utc)
                for i, column in enumerate(json_cols):
                    values[f"{column.name} IS NULL"] = row[len(table.columns) + i]
                got.append(values)
            out[table.name] = got
    return out


def same_rows(a: dict[str, list[dict]], b: dict[str, list[dict]]) -> None:
    """Table by table equality, except the pack version, which a restore raises (compared by the callers)."""
    def without_version(table: str, data: list[dict]) -> list[dict]:
        return [r for r in data if not (table == "settings" and r["key"] == "pack_version")]

    assert a.keys() == b.keys()
    for table in a:
        left, right = without_version(table, a[table]), without_version(table, b[table])
        assert len(left) == len(right), f"{table}: {len(left)} rows before, {len(right)} after"
        for x, y in zip(left, right):
            assert x == y, f"{table}: {x} != {y}"


def pack_version(db: Database) -> int:
    with db.session() as s:
        row = s.get(Setting, "pack_version")
        return int(row.value) if row and row.value is not None else 0


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory):
    """An app on its own SQLite database, filled by `fill` (once: the tests only read it)."""
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('backup') / 'source.db'}")
    fill(app)
    yield app
    database(app).dispose()


@pytest.fixture()
def pg_app(pg_url):
    app = make_app(pg_url)
    yield app
    database(app).dispose()  # before pg_url drops the database


# ---------------------------------------------------------------------------- tests

def test_every_table_of_the_migrated_database_is_in_the_backup(fresh_db, tmp_path: Path):
    manifest = bk.backup(fresh_db, tmp_path / "b.zip")
    inspector = sa.inspect(fresh_db.engine)
    migrated = {name: [c["name"] for c in inspector.get_columns(name)]
                for name in inspector.get_table_names() if name != "alembic_version"}
    carried = {e["name"]: e["columns"] for e in manifest["tables"]}
    assert set(migrated) == set(carried), f"tables the backup leaves out: {set(migrated) - set(carried)}"
    for name, columns in migrated.items():
        assert sorted(columns) == sorted(carried[name]), f"{name}: columns the backup leaves out"
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        assert sorted(zf.namelist()) == sorted(["manifest.json", *(f"tables/{n}.jsonl" for n in migrated)])


def test_manifest_records_format_revision_time_backend_counts_and_checksums(source, tmp_path: Path):
    path = tmp_path / "b.zip"
    before = dt.datetime.now(dt.timezone.utc)
    bk.backup(database(source), path)
    assert path.stat().st_mode & 0o777 == 0o600  # password hashes, names and phone numbers
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "jiuye-backup" and manifest["format_version"] == 1
        assert manifest["schema_revision"] == SCHEMA_HEAD and manifest["source_backend"] == "sqlite"
        assert before <= dt.datetime.fromisoformat(manifest["created_at"]) <= dt.datetime.now(dt.timezone.utc)
        assert "sqlite:" not in json.dumps(manifest) and "source.db" not in json.dumps(manifest)
        counts = {name: len(data) for name, data in rows(database(source)).items()}
        for entry in manifest["tables"]:
            data = zf.read(entry["file"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert entry["rows"] == counts[entry["name"]] == data.count(b"\n")
    assert counts["question_log"] == LOG_ROWS + 4


def test_sqlite_to_postgres_carries_every_row_and_the_app_carries_on(source, pg_app, tmp_path: Path):
    path = tmp_path / "b.zip"
    assert source.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    before = rows(database(source))
    assert all(before.values()), f"tables with no rows compare nothing: {[n for n, r in before.items() if not r]}"

    result = pg_app.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert f"question_log {LOG_ROWS + 4:>9}".replace(" ", "") in result.output.replace(" ", "")
    after = rows(database(pg_app))
    same_rows(before, after)
    assert pack_version(database(pg_app)) > pack_version(database(source))

    # the restored app answers with the edited content and finishes the dialogue begun on SQLite
    reply = ask(pg_app, "3", "mid")
    assert reply["kind"] == "flow" and reply["result"]["amount"] == 3200, reply  # 2 × the edited 1600元
    contact = ask(pg_app, "县人社局电话多少", "office")
    assert any(c.get("phone") == "0937-7777777" for c in contact["contacts"]), contact["contacts"]
    assert "测试见习补贴申领" in pg_app.test_client().get("/policies/12").get_data(as_text=True)

    # new rows get new ids: the sequences moved past the restored ones
    with database(pg_app).session() as s:
        top = s.scalar(select(func.max(QuestionLog.id)))
        s.add(QuestionLog(text="恢复后的新问题", kind="answer"))
        s.add(Edit(entity="test", entity_id="after-restore"))
        s.flush()
        assert s.scalar(select(func.max(QuestionLog.id))) > top
    from knowledge.accounts import Accounts

    with database(pg_app).session() as s:
        assert Accounts(s).add("test-editor", "test-password-2", "editor").id > 1
        assert Accounts(s).authenticate("test-admin", "test-password-1", "127.0.0.1").role == "admin"


def test_postgres_to_sqlite(pg_app, tmp_path: Path):
    fill(pg_app)
    path = tmp_path / "b.zip"
    manifest = bk.backup(database(pg_app), path)
    assert manifest["source_backend"] == "postgresql"
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    report = bk.restore(target, path)
    assert report.restored["question_log"] == LOG_ROWS + 4 and not any(report.replaced.values())
    same_rows(rows(database(pg_app)), rows(target))
    engine_reply = make_app(target.url)
    try:
        assert ask(engine_reply, "3", "mid")["result"]["amount"] == 3200
    finally:
        database(engine_reply).dispose()
        target.dispose()


def test_a_running_app_sees_the_restored_content_at_once(tmp_path: Path):
    """Both databases have had one edit, so their pack versions are equal; the restore must still
    make the running app drop the knowledge it holds in memory."""
    from knowledge.service import StaffService

    a, b = make_app(f"sqlite:///{tmp_path / 'a.db'}"), make_app(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        for app, rate in ((a, 1100), (b, 1150)):
            with database(app).init().session() as s:
                StaffService(s).override_parameter("internship.rate", "2026-01-01", rate, "测试", "测试文号")
        assert pack_version(database(a)) == pack_version(database(b))
        assert "1150元" in ask(b, "见习补贴每人每月多少", "u")["reply"]  # b now holds its pack in memory
        assert a.test_cli_runner().invoke(args=["backup", str(tmp_path / "a.zip")]).exit_code == 0
        result = b.test_cli_runner().invoke(args=["restore", "--force", str(tmp_path / "a.zip")])
        assert result.exit_code == 0, result.output
        assert "1100元" in ask(b, "见习补贴每人每月多少", "u2")["reply"]
    finally:
        for app in (a, b):
            database(app).dispose()


def test_a_database_in_use_is_replaced_only_with_force(source, tmp_path: Path):
    path = tmp_path / "b.zip"
    bk.backup(database(source), path)
    target = make_app(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        ask(target, "见习补贴每人每月多少", "someone")  # a conversation and a logged question
        before = rows(database(target))
        result = target.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code != 0
        assert "--force" in result.output and "conversations 1" in result.output and "question_log 1" in result.output
        assert rows(database(target)) == before
        result = target.test_cli_runner().invoke(args=["restore", "--force", str(path)])
        assert result.exit_code == 0, result.output
        assert "(replaced 1)" in result.output
        same_rows(rows(database(source)), rows(database(target)))
    finally:
        database(target).dispose()


def test_a_freshly_set_up_database_needs_no_force(source, tmp_path: Path):
    path = tmp_path / "b.zip"
    bk.backup(database(source), path)
    target = Database(f"sqlite:///{tmp_path / 'target.db'}").init()  # `flask init-db`: the pack only
    try:
        report = bk.restore(target, path)
        assert report.replaced["faqs"] > 0 and report.restored["conversations"] == 2
        same_rows(rows(database(source)), rows(target))
    finally:
        target.dispose()


def _rewrite(src: Path, dst: Path, change) -> None:
    """A copy of the backup with `change(name, data) -> data` applied to each member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))


def _flip_byte_in_member(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("tables/question_log.jsonl")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside the compressed data
    dst.write_bytes(bytes(data))


def _edit_a_row(name: str, data: bytes) -> bytes:
    return data.replace("0937-7777777".encode(), "0937-0000000".encode()) if name == "tables/offices.jsonl" else data


def _old_revision(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["schema_revision"] = "0005"
    return json.dumps(manifest).encode()


def _drop_table(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["tables"] = [t for t in manifest["tables"] if t["name"] != "callbacks"]
    return json.dumps(manifest).encode()


DAMAGE = {
    "truncated": (lambda src, dst: dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2]), "damaged"),
    "a flipped byte": (_flip_byte_in_member, "question_log.jsonl"),
    "a row edited": (lambda src, dst: _rewrite(src, dst, _edit_a_row), "checksum"),
    "not a zip": (lambda src, dst: dst.write_text("名字,电话\n"), "not a jiuye backup"),
    "a foreign zip": (lambda src, dst: _rewrite(src, dst, lambda n, d: d if n != "manifest.json" else b"{}"),
                      "not a jiuye backup"),
    "no manifest": (lambda src, dst: zipfile.ZipFile(dst, "w").close(), "no manifest.json"),
    "another schema": (lambda src, dst: _rewrite(src, dst, _old_revision),
                       f"revision 0005, this program is at {SCHEMA_HEAD}"),
    "a table missing": (lambda src, dst: _rewrite(src, dst, _drop_table), "missing: callbacks"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_foreign_or_mismatched_file_is_refused_and_nothing_changes(source, tmp_path: Path, damage):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    bk.backup(database(source), good)
    make_bad, message = DAMAGE[damage]
    make_bad(good, bad)
    target = make_app(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with database(target).init().session() as s:  # someone's conversation, to be kept
            s.add(Conversation(user="someone", state={"topic": "12"}))
        before = rows(database(target))
        result = target.test_cli_runner().invoke(args=["restore", "--force", str(bad)])
        assert result.exit_code != 0
        assert message in result.output and "nothing was restored" in result.output, result.output
        assert rows(database(target)) == before
        # the undamaged file restores into the same database
        assert target.test_cli_runner().invoke(args=["restore", "--force", str(good)]).exit_code == 0
        assert rows(database(target))["offices"] == rows(database(source))["offices"]
    finally:
        database(target).dispose()


def test_a_target_at_another_schema_revision_is_refused(source, tmp_path: Path):
    path = tmp_path / "b.zip"
    bk.backup(database(source), path)
    target = Database(f"sqlite:///{tmp_path / 'target.db'}").init()
    try:
        with target.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        with pytest.raises(bk.BackupError, match=f"target database is at schema revision 0005.*{SCHEMA_HEAD}"):
            bk.restore(target, path, force=True)
        with target.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Base.metadata.tables["conversations"])).scalar() == 0
    finally:
        target.dispose()


def test_backup_refuses_a_database_behind_the_code(fresh_db, tmp_path: Path):
    with fresh_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    result_path = tmp_path / "b.zip"
    with pytest.raises(bk.BackupError, match="schema revision 0005"):
        bk.backup(fresh_db, result_path)
    assert not result_path.exists() and not list(tmp_path.glob(".b.zip*"))  # no half-written file left


@pytest.mark.parametrize("column, value", [
    (sa.Column("x", sa.DateTime(timezone=True)), dt.datetime(2026, 11, 27, 8, 30, 1, 5, tzinfo=dt.timezone.utc)),
    (sa.Column("x", sa.DateTime(timezone=True)), dt.datetime(2026, 11, 27, 16, 30, 1, 5,
                                                              tzinfo=dt.timezone(dt.timedelta(hours=8)))),
    (sa.Column("x", sa.DateTime()), dt.datetime(2026, 11, 27, 8, 30, 1, 5)),
    (sa.Column("x", sa.Date()), dt.date(2026, 2, 28)),
    (sa.Column("x", sa.LargeBinary()), bytes(range(256))),
    (sa.Column("x", sa.Numeric(12, 2)), decimal.Decimal("1234567890.12")),
    (sa.Column("x", sa.Float()), 0.1 + 0.2),
    (sa.Column("x", sa.Boolean()), False),
    (sa.Column("x", sa.Text()), LONG),
])
def test_values_of_every_column_type_survive_the_file(column, value):
    sa.Table("t", sa.MetaData(), column)
    encode, decode = bk._codec(column)
    back = decode(json.loads(json.dumps(encode(value), ensure_ascii=False)))
    assert back == value and type(back) is type(value)
    if isinstance(value, dt.datetime) and value.tzinfo:
        assert back.utcoffset() == dt.timedelta(0)  # written and read as UTC


def test_a_column_type_backup_cannot_carry_is_refused():
    column = sa.Column("x", sa.PickleType())
    sa.Table("t", sa.MetaData(), column)
    with pytest.raises(bk.BackupError, match="t.x"):
        bk._codec(column)


def test_python_m_knowledge_backup_and_restore(source, tmp_path: Path, monkeypatch, capsys):
    from knowledge.__main__ import main

    path = tmp_path / "cli.zip"
    monkeypatch.setenv("JIUYE_DATABASE_URL", database(source).url)
    assert main(["backup", str(path)]) == 0
    monkeypatch.setenv("JIUYE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli-target.db'}")
    assert main(["restore", str(path)]) == 0
    assert main(["restore", str(path)]) == 1  # now in use
    assert "--force" in capsys.readouterr().err
    assert main(["restore", "--force", str(path)]) == 0
    target = Database(f"sqlite:///{tmp_path / 'cli-target.db'}")
    try:
        same_rows(rows(database(source)), rows(target))
    finally:
        target.dispose()


def test_a_stream_is_read_in_batches(source, tmp_path: Path, monkeypatch):
    """Rows are fetched and inserted BATCH at a time (a long question log never sits in memory)."""
    seen: list[int] = []
    real = bk._write
    monkeypatch.setattr(bk, "_write", lambda conn, table, batch: (seen.append(len(batch)), real(conn, table, batch)))
    path = tmp_path / "b.zip"
    bk.backup(database(source), path)
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        bk.restore(target, path)
    finally:
        target.dispose()
    with bk.open_backup(path) as found:
        total = sum(e["rows"] for e in found.manifest["tables"])
    assert max(seen) == bk.BATCH and sum(seen) == total


def test_a_restore_does_not_wait_for_ever_behind_an_open_transaction(source, pg_url, tmp_path: Path, monkeypatch):
    path = tmp_path / "b.zip"
    bk.backup(database(source), path)
    target = Database(pg_url).init()
    monkeypatch.setattr(bk, "LOCK_WAIT_SECONDS", 1)
    try:
        outcome: list[BaseException | None] = []

        def restore() -> None:
            try:
                bk.restore(target, path)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 — examined below
                outcome.append(exc)

        with target.engine.connect() as other:  # a worker in the middle of a turn
            other.execute(select(Conversation).limit(1)).all()
            thread = threading.Thread(target=restore)
            thread.start()
            thread.join(timeout=20)
            other.rollback()  # a restore still waiting (no lock timeout) would now go ahead and succeed
        thread.join()
        assert isinstance(outcome[0], bk.BackupError) and "busy for 1 seconds" in str(outcome[0]), outcome
        assert bk.restore(target, path).restored["conversations"] == 2  # free again: it goes ahead
    finally:
        target.dispose()


def test_a_database_that_is_down_is_reported_in_one_line(tmp_path: Path):
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:9/nowhere")  # port 9 (discard): nothing listens
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.zip")])
        assert result.exit_code == 1 and "database error: connection failed" in result.output, result.output
        assert "Traceback" not in result.output and not list(tmp_path.iterdir())
    finally:
        database(app).dispose()
