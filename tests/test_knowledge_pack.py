"""The bundled knowledge pack: complete, cited, and only from the plan."""
import re
from collections import Counter
from datetime import date as dt_date
from pathlib import Path

import pytest
import yaml

from knowledge.db import SCHEMA_HEAD, Database
from knowledge.pack import export, read_pack
from knowledge.parameters import Parameters, placeholders
from knowledge.plan import read_plan
from knowledge.service import citation, load_snapshot



def _shared() -> Path:
    """../shared beside the repository (a worktree may sit one folder deeper): optional extras only."""
    here = Path(__file__).resolve()
    for parent in here.parents[1:4]:
        if (parent / "shared" / "policy").is_dir():
            return parent / "shared"
    return here.parents[2] / "shared"


SHARED = _shared()
DATA = Path(__file__).resolve().parent / "data"

CLAUSE_IDS = ["I", *map(str, range(1, 23)), "III.1", "III.2", "III.3", "III.4"]
# The plan's text travels inside the pack (knowledge/data/plan/): every check below runs on a
# clone that stands alone.
PLAN = read_plan().text
PACK = read_pack()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


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


def test_every_parameter_cites_a_clause_and_the_plans_words():
    params = PACK["parameters"]
    for name, spec in params.items():
        assert spec["clause"] in CLAUSE_IDS, name
        # the quote is the plan's text (an ellipsis may join two parts)
        for part in re.split(r"……|（|）", spec["quote"]):
            assert squash(part) in squash(PLAN), f"{name}: quote not in the plan: {part}"
        assert spec["values"], name
    Parameters.from_mapping(params)  # units valid, windows parse


def test_the_bundled_plan_is_the_published_text_with_its_title():
    plan = read_plan()
    meta = yaml.safe_load((DATA.parent.parent / "knowledge/data/plan/source.yaml").read_text(encoding="utf-8"))
    assert plan.sha256 == meta["sha256"], "the bundled plan changed: a policy source is not edited by hand"
    assert squash(plan.title) in squash(plan.text[:200])
    assert plan.issued is None  # the text gives no issue date, so the pack states none
    assert plan.effective_from == dt_date(2019, 1, 1) and "从2019年1月1日起" in plan.text
    for clause in ("1.大力发展实体经济扩大就业容量", "22.", "（四）引导企业等各方履行社会责任"):
        assert clause in plan.text


@pytest.mark.skipif(not (SHARED / "policy" / "sunan-employment-plan.txt").exists(),
                    reason="../shared/policy not beside the repository (optional)")
def test_the_bundled_plan_equals_the_shared_copy():
    assert (SHARED / "policy" / "sunan-employment-plan.txt").read_bytes() == \
        (DATA.parent.parent / "knowledge/data/plan/sunan-employment-plan.txt").read_bytes()


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


def test_directory_has_every_named_office_and_no_invented_numbers():
    offices = PACK["offices"]["offices"]
    names = {o["name"] for o in offices}
    for c in PACK["clauses"]:
        for office in c["lead_offices"]:
            assert office in names, office
    townships = [l.split(",")[1].strip('"') for l in
                 (DATA / "sunan-townships.csv").read_text(encoding="utf-8").splitlines()[1:] if l]
    known = names | {a for o in offices for a in o.get("aliases") or []}
    for t in townships:
        assert any(t in n for n in known), t
    for o in offices:
        if o.get("kind") == "hotline":
            assert o["phone"] in ("12333", "12345")
        else:
            assert not o.get("phone") and not o.get("address") and not o.get("hours"), o["name"]


def test_seed_then_export_then_seed_loses_nothing(fresh_db, tmp_path: Path, new_db_url):
    with fresh_db.session() as s:
        before = load_snapshot(s)
        export(s, tmp_path / "pack")
    again = Database(new_db_url("again", empty=True), data_dir=tmp_path / "pack").init()
    with again.session() as s:
        after = load_snapshot(s)
    assert after.clauses == before.clauses
    assert sorted(after.faqs, key=lambda f: f.id) == sorted(before.faqs, key=lambda f: f.id)
    assert after.offices == before.offices
    assert after.synonyms == before.synonyms and after.terms == before.terms
    assert after.out_of_scope == before.out_of_scope
    assert {n: (d.values, d.window) for n, d in after.parameters.defs.items()} == \
           {n: (d.values, d.window) for n, d in before.parameters.defs.items()}
    assert before.parameters.definition("skill_upgrade.primary").window == "skill_upgrade.relaxed_window"


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


# ------------------------------------------------------------------ figures with their windows
def _figure_patterns(params: Parameters) -> list[str]:
    """Every figure and window date of the pack as it would appear typed into a text."""
    from knowledge.parameters import Window, to_date

    patterns = set()
    for d in params.defs.values():
        for v in d.timeline():
            if v.value is None:
                continue
            value = v.value
            if d.unit == "window":
                w = Window(to_date(value["start"]), to_date(value.get("end")))
                patterns.add(re.escape(f"{w.start.year}年{w.start.month}月{w.start.day}日"))
                if w.end is not None:
                    patterns.add(re.escape(f"至{w.end.month}月{w.end.day}日"))
            elif d.unit == "CNY":
                patterns.add(rf"(?<![\d.]){value}元")
                if value >= 10000:
                    patterns.add(rf"(?<![\d.]){value / 10000:g}万")
            elif d.unit == "percent":
                patterns.add(rf"(?<![\d.]){value}%")
            elif d.unit == "age":
                patterns.add(rf"(?<![\d.]){value}(岁|-|至|到)")
            elif d.unit == "months":
                patterns.add(rf"(?<![\d.]){value}(个月|-)")
            elif d.unit == "years":
                patterns.add(rf"(?<![\d.]){value}年(以上|期|，|。)")
            elif d.unit == "count":
                patterns.add(rf"(?<![\d.第]){value}(名|人|个)")
    return sorted(patterns)


def _every_value_changed(params: Parameters) -> Parameters:
    """The parameters with every value replaced by one no plan figure has (as a staff edit would)."""
    import copy

    from knowledge.parameters import DatedValue

    out = copy.deepcopy(params)
    for d in out.defs.values():
        first = d.timeline()[0]
        if d.unit == "window":
            value = {"start": "2031-03-05", "end": "2032-07-09"}
        elif d.unit == "percent":
            value = 97
        else:
            value = first.value * 7 + 3
        d.values.append(DatedValue(first.effective, value, "staff"))
    return out


def test_answers_and_summaries_type_no_figure_or_window():
    """Every figure and date of a window comes through a {{parameter}}: with every parameter changed,
    no answer or clause summary still shows a figure of the plan (15万, 1-3万, 16-24岁, 2019年1月1日…)."""
    params = Parameters.from_mapping(PACK["parameters"])
    view = _every_value_changed(params).at(dt_date(2026, 11, 27))
    patterns = [re.compile(p) for p in _figure_patterns(params)]
    texts = [(f["id"], str(f["answer"])) for f in PACK["faqs"]]
    texts += [(f"clause {c['id']} summary", c["summary"]) for c in PACK["clauses"]]
    typed = []
    for where, text in texts:
        rendered = re.sub(r"第[\d、\-]+条", "", view.render(text))
        hits = sorted({m.group(0) for p in patterns for m in p.finditer(rendered)})
        if hits:
            typed.append(f"{where}: {hits}")
    assert not typed, "\n".join(typed)


def test_a_figure_the_plan_gives_for_one_period_is_never_shown_without_it():
    """1000/1500/2000元 are the plan's for 2019–2020 only: an answer quoting them lists that window (so
    its expiry is announced) or quotes it; a clause summary quotes it."""
    params = Parameters.from_mapping(PACK["parameters"])
    assert params.definition("skill_upgrade.primary").window == "skill_upgrade.relaxed_window"
    problems = []
    for f in PACK["faqs"]:
        answer, windows = str(f["answer"]), set(f.get("windows") or [])
        for name in placeholders(answer):
            d = params.definition(name)
            if d.unit == "window" and name not in windows:
                problems.append(f"{f['id']}: quotes the window {name} without listing it in windows")
            if d.window and d.window not in windows and "{{" + d.window + "}}" not in answer:
                problems.append(f"{f['id']}: {name} without its window {d.window}")
    for c in PACK["clauses"]:
        for name in placeholders(c["summary"]):
            d = params.definition(name)
            if d.window and "{{" + d.window + "}}" not in c["summary"]:
                problems.append(f"clause {c['id']} summary: {name} without its window {d.window}")
    assert not problems, "\n".join(problems)


def test_a_rendered_window_says_when_it_has_ended():
    view = Parameters.from_mapping(PACK["parameters"]).at(dt_date(2026, 11, 27))
    assert view.render("{{skill_upgrade.relaxed_window}}") == "2019年1月1日至2020年12月31日（已到期）"
    assert view.render("{{internship.youth_extension}}") == "2019年1月1日起"
    from knowledge.parameters import Window

    assert Window(dt_date(2019, 1, 1), dt_date(2019, 12, 31)).status(dt_date(2018, 12, 31)) == "尚未开始"
    inside = Parameters.from_mapping(PACK["parameters"]).at(dt_date(2020, 12, 31))
    assert inside.render("{{skill_upgrade.relaxed_window}}") == "2019年1月1日至2020年12月31日"
