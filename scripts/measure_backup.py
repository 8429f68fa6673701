"""Backup and restore time, file size and memory, for the seeded pack and a long question log.

Builds a SQLite database (the bundled pack plus --rows question-log rows of Chinese and Mongolian
text), then runs each step as its own `python -m knowledge` process and reports its wall time
and peak memory (max RSS): backup of SQLite, restore into an empty PostgreSQL database, backup
of that, restore into an empty SQLite file. The PostgreSQL database is created and dropped here.

    .venv/bin/python scripts/measure_backup.py                   # 100 000 rows
    .venv/bin/python scripts/measure_backup.py --rows 0          # the seeded pack only
    .venv/bin/python scripts/measure_backup.py --pg-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.db import Database  # noqa: E402
from knowledge.models import QuestionLog  # noqa: E402

TEXTS = ("见习补贴每人每月多少", "个人创业担保贷款最多能贷多少，贴息怎么算", "ᠬᠦᠳᠡᠯᠮᠦᠷᠢ ᠶᠢᠨ ᠲᠤᠰᠠᠯᠠᠮᠵᠢ",
         "我是建档立卡贫困劳动力，去外地打工有没有交通补贴", "县人社局电话多少")


def step(label: str, args: list[str], url: str) -> None:
    env = dict(os.environ, JIUYE_DATABASE_URL=url)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "knowledge", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    if status:
        raise SystemExit(f"{label} failed: {proc.stderr.read()}")
    print(f"{label:<28} {elapsed:6.2f} s   max RSS {usage.ru_maxrss / 1024:6.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = f"sqlite:///{Path(tmp) / 'source.db'}"
        db = Database(source).init()
        now = dt.datetime.now(dt.timezone.utc)
        with db.engine.begin() as conn:
            for start in range(0, args.rows, 10_000):
                conn.execute(QuestionLog.__table__.insert(), [
                    {"at": now - dt.timedelta(seconds=i), "user": f"web:{i % 5000:08x}", "channel": "web",
                     "text": f"{TEXTS[i % len(TEXTS)]}（{i}）", "kind": "answer" if i % 3 else "fallback",
                     "clause": "12" if i % 3 else None, "faq_id": "internship-rate" if i % 3 else None,
                     "score": 0.42 if i % 3 else None}
                    for i in range(start, min(start + 10_000, args.rows))])
        db.dispose()
        print(f"source: the seeded pack and {args.rows} question-log rows "
              f"(SQLite file {(Path(tmp) / 'source.db').stat().st_size / 2**20:.1f} MiB)")
        archive = Path(tmp) / "backup.zip"
        step("backup SQLite", ["backup", str(archive)], source)
        print(f"{'  file size':<28} {archive.stat().st_size / 2**20:6.2f} MiB")

        admin = create_engine(args.pg_admin_url, isolation_level="AUTOCOMMIT")
        name = f"jiuye_measure_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            pg = args.pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
            step("restore into PostgreSQL", ["restore", str(archive)], pg)
            step("backup PostgreSQL", ["backup", str(Path(tmp) / "from-pg.zip")], pg)
            step("restore into SQLite", ["restore", str(Path(tmp) / "from-pg.zip")],
                 f"sqlite:///{Path(tmp) / 'target.db'}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
