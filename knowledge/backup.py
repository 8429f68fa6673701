"""Backup and restore of the whole database, in a file any supported backend can read back.

`backup(db, path)` writes one ZIP: `manifest.json` plus one JSON-lines member per table
(`tables/<name>.jsonl`, one JSON object per row, keyed by column name). Every table of the
models' metadata is carried — knowledge content, edit history, conversations, the question log,
the callback ledger, staff accounts, WeChat dedupe records — so a table added later is included
without anyone remembering to list it. `restore(db, path)` checks the file completely before it
touches the database, then replaces every row in one transaction.

Values are written as the backend-neutral JSON the models imply, never as a backend's own text:
timestamps as ISO 8601 in UTC (SQLite hands back naive values that the app writes in UTC;
PostgreSQL aware ones in the session's zone), dates as ISO days, bytes in base64, decimals as
strings. A JSON column that is SQL NULL is left out of its row object, so it stays distinct from
a stored JSON `null` (a repealed figure's value), which PostgreSQL and SQLite both keep apart.

No Flask here: the web app's `flask backup/restore` and `python -m knowledge` call these.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from sqlalchemy import Connection, Table, func, select, text

from .db import SCHEMA_HEAD, Database
from .models import Base

FORMAT = "jiuye-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000  # rows per fetch when reading and per INSERT when restoring: memory stays flat
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one line per row, text as written

# Tables a first start fills from the bundled pack. A database whose other tables are all empty
# holds nothing but a seeded pack, and restoring over it needs no --force. Any other table (a
# future one too) counts as someone's data: conversations, edit history, accounts, the ledger.
PACK_TABLES = frozenset({"clauses", "parameters", "parameter_values", "faqs", "offices", "procedures", "lexicon",
                         "settings"})


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the person running it."""


class TargetInUse(BackupError):
    """Restore refused: the target already holds data beyond a seeded pack (needs force)."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        in_use = ", ".join(f"{name} {n}" for name, n in counts.items() if n and name not in PACK_TABLES)
        content = ", ".join(f"{name} {n}" for name, n in counts.items() if n and name in PACK_TABLES)
        super().__init__(
            f"the target database already holds data ({in_use}"
            + (f"; content: {content}" if content else "")
            + "). Restoring would delete all of it and put the backup's rows in its place; "
              "run again with --force to do that.")


def backup_tables() -> list[Table]:
    """Every table of the models, parents before children (alembic_version is Alembic's own)."""
    return [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]


# ---------------------------------------------------------------------------- values
# One (encode, decode) pair per column type. Unknown types are refused when a backup is made,
# so a new column type cannot be written in a form restore would misread.

def _utc_text(value: dt.datetime) -> str:
    # Naive timestamps come from SQLite, which drops the zone; the app writes them in UTC.
    value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    return value.isoformat()


def _naive_text(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat()


def _aware(text_value: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text_value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _naive(text_value: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text_value)
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _same(value: Any) -> Any:
    return value


Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _codec(column: sa.Column) -> Codec:
    kind = column.type
    if isinstance(kind, sa.JSON):
        return _same, _same
    if isinstance(kind, sa.DateTime):
        return (_utc_text, _aware) if kind.timezone else (_naive_text, _naive)
    if isinstance(kind, sa.Date):
        return (lambda v: v.isoformat()), dt.date.fromisoformat
    if isinstance(kind, sa.Boolean):
        return bool, bool
    if isinstance(kind, sa.Float):
        return float, float
    if isinstance(kind, sa.Numeric):
        return str, decimal.Decimal
    if isinstance(kind, sa.Integer):
        return int, int
    if isinstance(kind, sa.String):  # Text, Enum and Unicode too
        return str, str
    if isinstance(kind, sa.LargeBinary):
        return (lambda v: base64.b64encode(bytes(v)).decode("ascii")), base64.b64decode
    raise BackupError(f"column {column.table.name}.{column.name} has type {kind!r}, which backup cannot carry yet")


def _sql_null_json(table: Table) -> list[sa.Column]:
    """Nullable JSON columns: there SQL NULL and a JSON null are different values."""
    return [c for c in table.columns if isinstance(c.type, sa.JSON) and c.nullable]


# ---------------------------------------------------------------------------- backup

def _member(table: Table) -> str:
    return f"tables/{table.name}.jsonl"


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """The table's rows as JSON-ready objects, in primary-key order, fetched BATCH at a time."""
    codecs = {c.name: _codec(c)[0] for c in table.columns}
    nullable_json = _sql_null_json(table)
    flags = [c.is_(None).label(f"_sqlnull_{i}") for i, c in enumerate(nullable_json)]
    query = select(*table.columns, *flags).order_by(*table.primary_key.columns)
    # yield_per streams: a server-side cursor on PostgreSQL, row-by-row fetching on SQLite
    result = conn.execution_options(yield_per=BATCH).execute(query)
    names = [c.name for c in table.columns]
    for row in result:
        out: dict[str, Any] = {}
        for name, value in zip(names, row):
            out[name] = None if value is None else codecs[name](value)
        for i, column in enumerate(nullable_json):
            if row[len(names) + i]:
                del out[column.name]  # SQL NULL: absent; a JSON null stays as null
        yield out


def _snapshot(db: Database) -> Connection:
    """A connection whose reads all see one moment of the database (writers carry on meanwhile)."""
    conn = db.engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    elif conn.dialect.name == "sqlite":
        # pysqlite starts no transaction for a SELECT, so each query would see its own moment;
        # an explicit BEGIN holds one WAL snapshot until the end.
        conn.exec_driver_sql("BEGIN")
    return conn


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that is down or refuses a statement: one line for the person at the terminal."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise BackupError(f"database error: {reason}") from exc


def backup(db: Database, path: Path, now: dt.datetime | None = None) -> dict[str, Any]:
    """Write every table to `path` (a ZIP; replaced atomically, readable by the owner only).

    Returns the manifest. The database must be at this code's schema revision."""
    path = Path(path)
    tables = backup_tables()
    for table in tables:  # refuse unknown column types before writing anything
        for column in table.columns:
            _codec(column)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file holds password hashes and the names and phone numbers of the callback ledger.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, _database_errors(), _snapshot(db) as conn:
            revision = _revision(conn)
            if revision != SCHEMA_HEAD:
                raise BackupError(f"the database is at schema revision {revision or 'none (not set up)'}, this "
                                  f"program expects {SCHEMA_HEAD}; run `flask --app webhooks db upgrade` first")
            entries = []
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for table in tables:
                    digest, rows = hashlib.sha256(), 0
                    # force_zip64: a member written as a stream may grow past 2 GiB (a long question log)
                    with zf.open(_member(table), "w", force_zip64=True) as member:
                        buffer = io.BytesIO()
                        for row in _rows(conn, table):
                            line = _ENCODER.encode(row).encode("utf-8") + b"\n"
                            digest.update(line)
                            buffer.write(line)
                            rows += 1
                            if buffer.tell() > 1 << 20:
                                member.write(buffer.getvalue())
                                buffer = io.BytesIO()
                        member.write(buffer.getvalue())
                    entries.append({"name": table.name, "file": _member(table), "rows": rows,
                                    "sha256": digest.hexdigest(), "columns": [c.name for c in table.columns]})
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "schema_revision": revision,
                    "created_at": _utc_text(now or dt.datetime.now(dt.timezone.utc)),
                    "source_backend": conn.dialect.name,  # never the URL: it may carry a password
                    "tables": entries,
                }
                zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# ---------------------------------------------------------------------------- reading a backup

@dataclass
class Backup:
    """An opened backup whose manifest agrees with this program's tables."""

    zf: zipfile.ZipFile
    manifest: dict[str, Any]
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lines(self, table: Table) -> Iterator[bytes]:
        with self.zf.open(self.entries[table.name]["file"]) as member:
            yield from member

    def __enter__(self) -> "Backup":
        return self

    def __exit__(self, *exc: object) -> None:
        self.zf.close()


def open_backup(path: Path) -> Backup:
    """Open `path` and check its manifest against this program (not yet the members' contents)."""
    try:
        zf = zipfile.ZipFile(Path(path))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{path} is not a jiuye backup, or the file is damaged or incomplete ({exc})") from None
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        zf.close()
        raise BackupError(f"{path} is a ZIP file but not a jiuye backup (it has no {MANIFEST})") from None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        zf.close()
        raise BackupError(f"{path}: the manifest is damaged ({exc})") from None
    try:
        return _check_manifest(Backup(zf, manifest), path)
    except BaseException:
        zf.close()
        raise


def _check_manifest(found: Backup, path: Path) -> Backup:
    manifest = found.manifest
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a jiuye backup (its manifest is not of format {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is backup format version {manifest.get('format_version')!r}; "
                          f"this program reads version {FORMAT_VERSION}")
    revision = manifest.get("schema_revision")
    if revision != SCHEMA_HEAD:
        raise BackupError(f"the backup was made at schema revision {revision}, this program is at {SCHEMA_HEAD}: "
                          f"restore it with the program version that made it (then upgrade), "
                          f"or make a new backup with this version")
    try:
        entries = {e["name"]: e for e in manifest["tables"]}
    except (KeyError, TypeError):
        raise BackupError(f"{path}: the manifest's table list is damaged") from None
    ours = {t.name: t for t in backup_tables()}
    if set(entries) != set(ours):
        missing, extra = sorted(set(ours) - set(entries)), sorted(set(entries) - set(ours))
        raise BackupError(f"{path}: its tables differ from this program's (missing: {', '.join(missing) or '-'}; "
                          f"unknown: {', '.join(extra) or '-'})")
    for name, entry in entries.items():
        if entry.get("columns") != [c.name for c in ours[name].columns]:
            raise BackupError(f"{path}: table {name} has columns {entry.get('columns')}, this program "
                              f"{[c.name for c in ours[name].columns]}")
        if (entry.get("file") != _member(ours[name]) or not isinstance(entry.get("rows"), int)
                or not isinstance(entry.get("sha256"), str)):
            raise BackupError(f"{path}: the manifest entry of table {name} is damaged")
    found.entries = entries
    return found


def verify(found: Backup) -> None:
    """Read every member: checksum, row count and that each line is an object of known columns."""
    for table in backup_tables():
        entry = found.entries[table.name]
        columns = set(entry["columns"])
        digest, rows = hashlib.sha256(), 0
        try:
            for line in found.lines(table):
                digest.update(line)
                rows += 1
                row = json.loads(line)
                if not isinstance(row, dict) or not set(row) <= columns:
                    raise BackupError(f"table {table.name}, row {rows}: not a row of this table")
        except KeyError:
            raise BackupError(f"the backup has no member {entry['file']} (the file is incomplete)") from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            raise BackupError(f"the member {entry['file']} is damaged ({exc.__class__.__name__}: {exc})") from None
        except ValueError as exc:
            raise BackupError(f"the member {entry['file']} is damaged (not JSON lines: {exc})") from None
        if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
            raise BackupError(f"the member {entry['file']} does not match its checksum in the manifest "
                              f"({rows} rows read, {entry['rows']} recorded): the file was changed or damaged")


# ---------------------------------------------------------------------------- restore

@dataclass
class RestoreReport:
    restored: dict[str, int]  # rows written per table
    replaced: dict[str, int]  # rows there were before, per table
    pack_version: int  # the pack version the restored database now has
    backend: str
    manifest: dict[str, Any]


def restore(db: Database, path: Path, force: bool = False) -> RestoreReport:
    """Replace every row of `db` with the backup's, in one transaction.

    The file is checked completely first (manifest, checksums, schema revision), so a damaged or
    foreign file changes nothing. An empty database is migrated first; one at another revision is
    refused. A database holding more than a seeded pack needs `force`. Afterwards the pack
    version is higher than both the backup's and the replaced one, so every running process
    reloads its in-memory knowledge at its next request."""
    with open_backup(path) as found, _database_errors():
        verify(found)
        _prepare_target(db)
        tables = backup_tables()
        with db.engine.connect() as conn:
            _begin_exclusive(conn, tables)
            try:
                counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
                if not force and any(n for name, n in counts.items() if name not in PACK_TABLES):
                    raise TargetInUse(counts)
                old_version = _pack_version(conn)
                for table in reversed(tables):
                    conn.execute(table.delete())
                restored = {t.name: _insert(conn, found, t) for t in tables}
                version = max(old_version, _pack_version(conn)) + 1
                _set_pack_version(conn, version)
                if conn.dialect.name == "postgresql":
                    _advance_sequences(conn, tables)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return RestoreReport(restored, counts, version, db.engine.dialect.name, found.manifest)


def _prepare_target(db: Database) -> None:
    with db.engine.connect() as conn:
        revision = _revision(conn)
        existing = set(sa.inspect(conn).get_table_names())
    if revision is None:
        ours = existing & {t.name for t in backup_tables()}
        if ours:
            raise BackupError(f"the target database has tables of this program ({', '.join(sorted(ours))}) but no "
                              f"schema revision; refusing to guess what they hold")
        db.migrate()  # an empty database: create the schema (the pack is not seeded; the backup has it)
    elif revision != SCHEMA_HEAD:
        raise BackupError(f"the target database is at schema revision {revision}, this program and the backup at "
                          f"{SCHEMA_HEAD}; upgrade it first (`flask --app webhooks db upgrade`)")


LOCK_WAIT_SECONDS = 30


def _begin_exclusive(conn: Connection, tables: list[Table]) -> None:
    """Start the restore's transaction so no other writer (a running worker) interleaves with it."""
    try:
        if conn.dialect.name == "sqlite":
            # the write lock now, not at the first DELETE (waits up to the engine's busy timeout)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            # Workers' queries wait until the restore commits instead of writing into a half-restored
            # database (or failing on a key the backup also has). A transaction someone left open
            # would make the restore wait for ever: give up after a while instead.
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'"))
            names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables)
            conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    except sa.exc.OperationalError as exc:
        raise BackupError(f"other connections kept the database busy for {LOCK_WAIT_SECONDS} seconds "
                          f"({str(exc.orig).strip().splitlines()[0]}); stop the service or try again") from None


def _writable(table: Table) -> Table:
    """A copy of the table whose nullable JSON columns write Python None as SQL NULL (JSON.NULL as null)."""
    copy = table.to_metadata(sa.MetaData())
    for column in _sql_null_json(table):
        copy.c[column.name].type = sa.JSON(none_as_null=True)
    return copy


def _insert(conn: Connection, found: Backup, table: Table) -> int:
    entry = found.entries[table.name]
    target = _writable(table)
    decoders = {c.name: _codec(c)[1] for c in table.columns}
    json_nullable = {c.name for c in _sql_null_json(table)}
    digest, rows, batch = hashlib.sha256(), 0, []
    for line in found.lines(table):
        digest.update(line)
        row = json.loads(line)
        values: dict[str, Any] = {}
        for name, decode in decoders.items():
            if name not in row:
                if name not in json_nullable:
                    raise BackupError(f"table {table.name}, row {rows + 1}: column {name} is missing")
                values[name] = None  # SQL NULL
            elif row[name] is None:
                values[name] = sa.JSON.NULL if name in json_nullable else None
            else:
                try:
                    values[name] = decode(row[name])
                except (TypeError, ValueError) as exc:
                    raise BackupError(f"table {table.name}, row {rows + 1}: column {name} holds {row[name]!r}, "
                                      f"which is not a valid value ({exc}); nothing was restored") from None
        batch.append(values)
        rows += 1
        if len(batch) >= BATCH:
            _write(conn, target, batch)
            batch = []
    if batch:
        _write(conn, target, batch)
    # The file was verified before; checking again here guards against it changing in between.
    if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
        raise BackupError(f"the member {entry['file']} changed while it was being restored; nothing was restored")
    return rows


def _write(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    try:
        conn.execute(table.insert(), batch)
    except sa.exc.SQLAlchemyError as exc:
        # The database's own words, shortened: which table and why (a constraint, a type).
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise BackupError(f"table {table.name}: the database refused the backup's rows ({reason}); "
                          f"nothing was restored") from exc


def _pack_version(conn: Connection) -> int:
    table = Base.metadata.tables["settings"]
    value = conn.execute(select(table.c.value).where(table.c.key == "pack_version")).scalar()
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _set_pack_version(conn: Connection, version: int) -> None:
    table = Base.metadata.tables["settings"]
    if conn.execute(table.update().where(table.c.key == "pack_version").values(value=version)).rowcount == 0:
        conn.execute(table.insert().values(key="pack_version", value=version))


def _advance_sequences(conn: Connection, tables: list[Table]) -> None:
    """Point each serial primary key's sequence past the restored rows, so the next insert gets a new id."""
    preparer = conn.dialect.identifier_preparer
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                {"table": preparer.format_table(table), "column": pk[0].name}).scalar()
        if sequence is None:  # an integer key that is not generated (inbox_marks.question_id)
            continue
        top = conn.execute(select(func.max(pk[0]))).scalar()
        # setval(seq, n, true): the next value is n + 1; setval(seq, 1, false): the next is 1
        conn.execute(text("SELECT setval(:seq, :value, :called)"),
                     {"seq": sequence, "value": top if top is not None else 1, "called": top is not None})


def describe(manifest: dict[str, Any]) -> str:
    """One line about a backup: when, from which backend, how many rows."""
    total = sum(e["rows"] for e in manifest["tables"])
    return (f"backup of {manifest['created_at']} from {manifest['source_backend']}, "
            f"schema {manifest['schema_revision']}, "
            f"{len(manifest['tables'])} tables, {total} rows")


__all__ = ["BackupError", "TargetInUse", "RestoreReport", "backup", "restore", "open_backup", "verify",
           "backup_tables", "describe", "PACK_TABLES"]
