"""Fixtures of the calculator tests (the YAML case plugin lives in tests/conftest.py)."""
from __future__ import annotations

import pytest

from knowledge.db import Database
from knowledge.service import Snapshot, load_snapshot


@pytest.fixture(scope="session")
def pack_snapshot(database: Database) -> Snapshot:
    """The seeded pack as the calculators see it (no staff overrides)."""
    with database.session() as session:
        return load_snapshot(session)


