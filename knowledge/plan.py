"""The plan's own text, bundled with the knowledge pack (knowledge/data/plan/).

The plan is the only source of policy facts; the pack (clauses, figures, offices) is written
from it, and the tests check the pack against this copy, so the repository stands alone.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PLAN_DIR = Path(__file__).resolve().parent / "data" / "plan"


@dataclass(frozen=True)
class Plan:
    title: str
    issuer: str
    issued: dt.date | None       # None: the text gives no issue date
    effective_from: dt.date | None
    text: str
    sha256: str                  # of the file as bundled; source.yaml records the expected one


@lru_cache(maxsize=1)
def read_plan(plan_dir: Path = PLAN_DIR) -> Plan:
    meta = yaml.safe_load((plan_dir / "source.yaml").read_text(encoding="utf-8"))
    raw = (plan_dir / meta["file"]).read_bytes()
    return Plan(title=meta["title"], issuer=meta["issuer"], issued=meta.get("issued"),
                effective_from=meta.get("effective_from"), text=raw.decode("utf-8"),
                sha256=hashlib.sha256(raw).hexdigest())
