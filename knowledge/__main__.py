"""python -m knowledge: init | export DIR | override NAME DATE VALUE --author A --reason R
| backup FILE | restore FILE [--force]"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .db import Database
from .pack import export
from .service import KnowledgeError, StaffService
from .settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="知识包：建库、导出、记录新的政策数字；整库备份与恢复")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the database and load the bundled pack (if empty)")
    p = sub.add_parser("export", help="write the pack, with staff edits, to DIR as YAML")
    p.add_argument("directory")
    p = sub.add_parser("override", help="record a new dated value for a policy figure")
    p.add_argument("name")
    p.add_argument("effective", help="YYYY-MM-DD")
    p.add_argument("value", help="a number, or JSON such as '{\"start\": \"2027-01-01\", \"end\": null}'")
    p.add_argument("--author", required=True)
    p.add_argument("--reason", required=True, help="e.g. the document number")
    p = sub.add_parser("backup", help="write the whole database (every table) to FILE, a ZIP")
    p.add_argument("file")
    p = sub.add_parser("restore", help="replace the whole database with the backup in FILE")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace a database that holds conversations, edits, accounts")
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        # not init(): a backup must not seed or merge the pack first; restore migrates an empty target itself
        return _backup_or_restore(Database(load_settings()["DATABASE_URL"]), args)
    db = Database(load_settings()["DATABASE_URL"]).init()
    if args.command == "init":
        print("database ready")
    elif args.command == "export":
        with db.session() as s:
            export(s, Path(args.directory))
        print(f"exported to {args.directory}")
    elif args.command == "override":
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            value = args.value
        try:
            with db.session() as s:
                StaffService(s).override_parameter(args.name, args.effective, value, args.author, args.reason)
        except KnowledgeError as exc:
            print(json.dumps({"error": exc.message, "field": exc.field}, ensure_ascii=False))
            return 2
        print(f"{args.name} = {value} from {args.effective}")
    return 0


def _backup_or_restore(db: Database, args: argparse.Namespace) -> int:
    from .backup import BackupError, backup, describe, restore

    try:
        if args.command == "backup":
            print(f"{describe(backup(db, Path(args.file)))} -> {args.file}")
        else:
            report = restore(db, Path(args.file), force=args.force)
            print(f"restored {describe(report.manifest)}; pack version now {report.pack_version}")
    except BackupError as exc:
        print(f"error: {exc}" + ("\nnothing was restored" if args.command == "restore" else ""), file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
