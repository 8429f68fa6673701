"""The bundled knowledge pack: complete, cited, and only from the plan."""
import re
from collections import Counter
from pathlib import Path

import pytest

from knowledge.db import SCHEMA_HEAD, Database
from knowledge.pack import export, read_pack
from knowledge.parameters import Parameters, placeholders
from knowledge.service import citation, load_snapshot



def _shared() -> Path:
    """../shared beside the repository (a worktree may sit one folder deeper)."""
    here = Path(__file__).resolve()
    for parent in here.parents[1:4]:
        if (parent / "shared" / "policy").is_dir():
            return parent / "shared"
    return here.parents[2] / "shared"


SHARED = _shared()

CLAUSE_IDS = ["I", *map(str, range(1, 23)), "III.1", "III.2", "III.3", "III.4"]
PLAN_FILE = SHARED / "policy" / "sunan-employment-plan.txt"
needs_plan = pytest.mark.skipif(not PLAN_FILE.exists(), reason="../shared/policy not present")
PLAN = PLAN_FILE.read_text(encoding="utf-8") if PLAN_FILE.exists() else ""
PACK = read_pack()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@needs_plan
def test_every_clause_with_original_text_and_offices():
    clauses = {c["id"]: c for c in PACK["clauses"]}
    assert list(clauses) == CLAUSE_IDS
    for cid, c in clauses.items():
        assert squash(c["text"]) in squash(PLAN), f"clause {cid} text is not the plan's"
        assert c["title"] and c["summary"]
        if cid not in ("I", "III.3", "III.4"):
            assert c["lead_offices"], cid
        for office in c["lead_offices"]:
            assert office in PLAN or office == "县政府", office


@needs_plan
def test_every_parameter_cites_a_clause_and_the_plans_words():
    params = PACK["parameters"]
    for name, spec in params.items():
        assert spec["clause"] in CLAUSE_IDS, name
        # the quote is the plan's text (an ellipsis may join two parts)
        for part in re.split(r"……|（|）", spec["quote"]):
            assert squash(part) in squash(PLAN), f"{name}: quote not in the plan: {part}"
        assert spec["values"], name
    Parameters.from_mapping(params)  # units valid, windows parse


def test_at_least_200_faq_entries_covering_every_clause():
    faqs = PACK["faqs"]
    assert len(faqs) >= 200
    ids = Counter(f["id"] for f in faqs)
    assert not [i for i, n in ids.items() if n > 1], "duplicate FAQ ids"
    per_clause = Counter(f["clause"] for f in faqs)
    assert set(per_clause) == set(CLAUSE_IDS), set(CLAUSE_IDS) - set(per_clause)
    for f in faqs:
        assert len(f["phrasings"]) >= 3, f["id"]


def test_answers_cite_their_clause_and_quote_figures_only_through_parameters():
    params = PACK["parameters"]
    figures = {str(v) for spec in params.values() if spec["unit"] != "window"
               for v in spec["values"].values() if isinstance(v, int) and v >= 100}
    for f in PACK["faqs"]:
        answer = str(f["answer"]).strip()
        assert answer.endswith(f"（依据：{citation(f['clause'])}）"), f["id"]
        for name in placeholders(answer):
            assert name in params, f"{f['id']}: unknown parameter {name}"
        for window in f.get("windows") or []:
            assert params[window]["unit"] == "window", f["id"]
        bare = set(re.findall(r"\d+", re.sub(r"\{\{[^}]+\}\}", "", answer)))
        assert not (bare & figures), f"{f['id']} types a figure instead of a placeholder: {bare & figures}"


def test_rendered_answers_are_short(engine):
    view = engine.snapshot.parameters.at(engine.clock())
    long = [f.id for f in engine.snapshot.faqs if len(view.render(f.answer)) > 300]
    assert not long


@needs_plan
def test_directory_has_every_named_office_and_no_invented_numbers():
    offices = PACK["offices"]["offices"]
    names = {o["name"] for o in offices}
    for c in PACK["clauses"]:
        for office in c["lead_offices"]:
            assert office in names, office
    townships = [l.split(",")[1].strip('"') for l in
                 (SHARED / "data" / "sunan-townships.csv").read_text(encoding="utf-8").splitlines()[1:] if l]
    known = names | {a for o in offices for a in o.get("aliases") or []}
    for t in townships:
        assert any(t in n for n in known), t
    for o in offices:
        if o.get("kind") == "hotline":
            assert o["phone"] in ("12333", "12345")
        else:
            assert not o.get("phone") and not o.get("address") and not o.get("hours"), o["name"]


def test_seed_then_export_then_seed_loses_nothing(fresh_db, tmp_path: Path):
    with fresh_db.session() as s:
        before = load_snapshot(s)
        export(s, tmp_path / "pack")
    again = Database(f"sqlite:///{tmp_path / 'again.db'}", data_dir=tmp_path / "pack").init()
    with again.session() as s:
        after = load_snapshot(s)
    assert after.clauses == before.clauses
    assert sorted(after.faqs, key=lambda f: f.id) == sorted(before.faqs, key=lambda f: f.id)
    assert after.offices == before.offices
    assert after.synonyms == before.synonyms and after.terms == before.terms
    assert after.out_of_scope == before.out_of_scope
    assert {n: d.values for n, d in after.parameters.defs.items()} == \
           {n: d.values for n, d in before.parameters.defs.items()}


def test_schema_head_constant_matches_alembic():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from knowledge.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_init_is_idempotent(fresh_db):
    fresh_db._ready = False
    fresh_db.init()
    with fresh_db.session() as s:
        assert len(load_snapshot(s).faqs) == len(PACK["faqs"])
