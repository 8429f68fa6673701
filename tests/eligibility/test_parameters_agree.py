"""Every figure comes from the dated parameters: the FAQ answer and the calculator can never disagree.

- A staff override (database) changes the FAQ answer the engine gives and the calculator result
  at once, through the same snapshot.
- Mutating any parameter a calculator declares changes its outcome for some input, and the
  source of the rules holds no policy figure of its own.
"""
from __future__ import annotations

import ast
import copy
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot.engine import Engine
from bot.reply import Incoming
from eligibility import REGISTRY, evaluate
from knowledge.parameters import DatedValue, Parameters
from knowledge.service import StaffService, load_snapshot

TODAY = dt.date(2026, 11, 27)
ELIGIBILITY = Path(__file__).resolve().parents[2] / "eligibility"

# (parameter, new value, FAQ id, text the FAQ answer must then quote, calculator, input, amount or range)
AGREE = [
    ("internship.rate_retained", 1300, "internship-rate", "1300元", "internship",
     {"interns": 5, "months": 6, "retained": 3}, 39000),
    ("internship.rate", 1100, "internship-rate", "1100元", "internship",
     {"interns": 4, "months": 6, "retained": 1}, 26400),
    ("startup_loan.individual_max", 200000, "startup-loan-individual-max", "20万元", "startup_loan",
     {"applicant": "individual"}, 200000),
    ("job_stabilization.refund_rate", 60, "job-stabilization-rate", "60%", "job_stabilization",
     {"last_year_ui_premium": 20000, "layoffs": "none"}, 12000),
    ("graduate_hiring.monthly_allowance", 1800, "graduate-hiring-allowance", "1800元", "graduate_hiring",
     {"graduates": 2, "months": 12}, 3600),
    ("startup_subsidy.amount", 6000, "startup-subsidy-amount", "6000元", "startup_subsidy",
     {"group": "graduate", "first_business": True}, 6000),
    ("incubator.subsidy_max", 50000, "incubator-subsidy", "5万元", "incubator",
     {"level": "county", "assessment_passed": True}, [10000, 50000]),
]


def ask(engine: Engine, text: str, user: str):
    return engine.handle(Incoming(user=user, text=text))


@pytest.mark.parametrize("name,value,faq_id,quoted,calc,inputs,expected", AGREE, ids=[a[0] for a in AGREE])
def test_staff_override_changes_faq_answer_and_calculator_together(fresh_db, name, value, faq_id, quoted, calc,
                                                                   inputs, expected):
    engine = Engine(fresh_db, {"TODAY": TODAY.isoformat()})
    question = engine.snapshot.faq(faq_id).question
    before = ask(engine, question, "agree-before")
    assert before.faq_id == faq_id and quoted not in before.reply

    with fresh_db.session() as s:
        StaffService(s).override_parameter(name, "2026-01-01", value, "测试员", "测试：标准调整")

    after = ask(engine, question, "agree-after")  # the same engine: it reloads the pack at once
    assert after.faq_id == faq_id and quoted in after.reply
    snapshot = engine.snapshot
    result = evaluate(calc, inputs, snapshot.parameters, TODAY, snapshot)
    if isinstance(expected, list):
        assert result.amount_range == expected
    else:
        assert result.amount == expected
    assert any(quoted in r for r in result.reasons)
    # a day before the override takes effect both still give the file's figure
    old = evaluate(calc, dict(inputs, as_of="2025-12-31"), snapshot.parameters, TODAY, snapshot)
    assert old.to_dict()["amount"] != result.amount or old.amount_range != result.amount_range


def test_override_changes_a_dialogue_result_at_once(fresh_db):
    engine = Engine(fresh_db, {"TODAY": TODAY.isoformat()})
    user = "agree-dialogue"
    ask(engine, "测算", user)
    ask(engine, "1", user)          # 就业见习补贴
    ask(engine, "1", user)          # 离校未就业高校毕业生
    ask(engine, "5", user)
    ask(engine, "6", user)
    with fresh_db.session() as s:   # staff change the figure while the person is answering
        StaffService(s).override_parameter("internship.rate_retained", "2026-11-01", 1250, "测试员", "测试")
    reply = ask(engine, "3", user)
    assert reply.extra["result"]["amount"] == 37500 and "37500元" in reply.reply
    faq = ask(engine, "就业见习补贴标准是多少？", "agree-faq")
    assert "1250元" in faq.reply


def test_repealed_figure_is_never_guessed(fresh_db):
    with fresh_db.session() as s:
        StaffService(s).override_parameter("skill_master_studio.amount", "2026-01-01", None, "测试员", "停止执行")
        snapshot = load_snapshot(s)
    result = evaluate("skill_master_studio", {"level": "city"}, snapshot.parameters, TODAY, snapshot)
    # no figure in force: not "符合条件" beside "已停止执行" — the office decides
    assert result.eligible is None and result.amount is None and result.amount_kind is None
    assert any("已停止执行" in r for r in result.reasons)
    before = evaluate("skill_master_studio", {"level": "city", "as_of": "2025-12-31"}, snapshot.parameters, TODAY,
                      snapshot)
    assert before.amount == 30000


# ---------------------------------------------------------------- every parameter is really read
PROBES = {  # calculator → (as_of, input) pairs that together expose every parameter it declares
    "internship": [(TODAY, {"interns": 4, "months": 3, "retained": 2, "intern_status": "unemployed_youth",
                            "intern_age": 16}),
                   (TODAY, {"interns": 4, "months": 12, "retained": 1}),
                   (TODAY, {"interns": 1, "months": 13, "intern_status": "unemployed_youth", "intern_age": 24}),
                   (TODAY, {"interns": 1, "months": 6, "intern_status": "unemployed_youth", "intern_age": 30}),
                   (TODAY, {"interns": 1, "months": 25})],
    "skill_upgrade": [(dt.date(2020, 6, 1), {"level": lv, "insured_years": 1})
                      for lv in ("primary", "intermediate", "advanced")]
                     + [(TODAY, {"level": "primary", "insured_years": 3})],
    "startup_loan": [(TODAY, {"applicant": "individual"}),
                     (TODAY, {"applicant": "small_business", "staff": 100, "new_hires": 25, "contract_years": 1,
                              "arrears": False}),
                     (TODAY, {"applicant": "small_business", "staff": 101, "new_hires": 16, "contract_years": 1,
                              "arrears": False})],
    "startup_subsidy": [(TODAY, {"group": "graduate", "first_business": True})],
    "job_stabilization": [(TODAY, {"last_year_ui_premium": 20000, "layoffs": "none"}),
                          (dt.date(2019, 6, 1), {"last_year_ui_premium": 20000, "layoffs": "none", "hardship": True,
                                                 "insured_staff": 10, "monthly_ui_benefit": 1500,
                                                 "monthly_social_insurance": 8000})],
    "graduate_hiring": [(TODAY, {"graduates": 2, "months": 12})],
    "training": [(TODAY, {"unemployed": True, "course": "skills", "passed": True}),
                 (TODAY, {"unemployed": True, "course": "startup", "passed": True}),
                 (dt.date(2020, 6, 1), {"unemployed": True, "course": "skills", "passed": True,
                                        "difficulty_or_zero_employment": True})],
    "poverty_hire_training": [(TODAY, {"workers": 2, "contract_months": 6, "trained": True}),
                              (TODAY, {"workers": 2, "contract_months": 12, "trained": True})],
    "incubator": [(TODAY, {"level": "county", "assessment_passed": True})],
    "skill_master_studio": [(TODAY, {"level": "city"})],
}
# quoted in the sentences only (the loan term; the yearly selection of graduates the allowance follows)
INFORMATIONAL = {"startup_loan.term_years", "graduate_hiring.graduates_per_year"}


def _mutated(params: Parameters, name: str) -> Parameters:
    """The parameters with `name` changed by a staff value from its first effective date."""
    out = copy.deepcopy(params)
    definition = out.definition(name)
    first = definition.timeline()[0]
    if definition.unit == "window":
        value = {"start": "2099-01-01", "end": None}
    else:
        value = first.value * 2
    definition.values.append(DatedValue(first.effective, value, "staff", "test", "mutation"))
    return out


def _outcome(result) -> tuple:
    return (result.eligible, result.amount, tuple(result.amount_range or ()), result.expired)


@pytest.mark.parametrize("calc", list(PROBES))
def test_every_declared_parameter_changes_the_outcome(pack_snapshot, calc):
    calculator = REGISTRY.get(calc)
    params = pack_snapshot.parameters
    assert calculator.parameters, f"{calc} declares no parameters"
    for name in calculator.parameters:
        assert name in params, f"{calc} reads unknown parameter {name}"
        mutated = _mutated(params, name)
        changed = False
        for day, inputs in PROBES[calc]:
            a = evaluate(calc, dict(inputs, as_of=day.isoformat()), params, TODAY)
            b = evaluate(calc, dict(inputs, as_of=day.isoformat()), mutated, TODAY)
            if name in INFORMATIONAL:
                changed |= (a.notes, a.reasons) != (b.notes, b.reasons)
            else:
                changed |= _outcome(a) != _outcome(b)
        assert changed, f"changing {name} does not change any {calc} outcome: is a figure typed in code?"


def test_the_rules_hold_no_policy_figures():
    """Only 0, 1 and 100 (percent arithmetic) and the input checks' bounds (an age of 150, an illustration
    of at most 60 months) appear in the code."""
    tree = ast.parse((ELIGIBILITY / "rules.py").read_text(encoding="utf-8"))
    numbers = {node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
               and not isinstance(node.value, bool)}
    assert numbers <= {0, 1, 60, 100, 150}, numbers


def test_reason_sentences_quote_no_figures_of_their_own():
    from babel.messages.pofile import read_po

    with (ELIGIBILITY / "locale" / "zh.po").open("rb") as fh:
        catalog = read_po(fh)
    # input help and form texts may show examples; reasons, notes and hints quote figures only
    sentences = [m.string for m in catalog if m.id and m.string
                 and m.id.split(".")[0] not in ("schema", "errors", "dialogue", "describe", "forms")]
    for sentence in sentences:
        stripped = re.sub(r"12333|第\d+条|\{[a-z_]+\}", "", sentence)
        assert not re.search(r"\d", stripped), sentence


# ------------------------------------------------- every figure both quote, changed in one place
def _quoted_by_faqs(snapshot) -> dict[str, list]:
    """Parameter name → the FAQs whose answer quotes it ({{name}})."""
    out: dict[str, list] = {}
    for faq in snapshot.faqs:
        for name in re.findall(r"\{\{\s*([a-z_.]+)\s*\}\}", faq.answer):
            out.setdefault(name, []).append(faq)
    return out


def _shared_figures(snapshot) -> list[tuple[str, str]]:
    quoted = _quoted_by_faqs(snapshot)
    return [(calc, name) for calc in PROBES for name in REGISTRY.get(calc).parameters
            if name in quoted and snapshot.parameters.definition(name).unit != "window"]


def test_calculators_and_faqs_share_many_figures(pack_snapshot):
    """The next test is only as strong as the figures it covers."""
    shared = _shared_figures(pack_snapshot)
    assert len(shared) >= 25, shared
    assert {calc for calc, _ in shared} == set(PROBES)


def test_any_shared_figure_changed_once_changes_faq_and_calculator_alike(pack_snapshot):
    """For every figure a calculator reads and an FAQ answer quotes: change it once (as staff would)
    and both say the new figure — neither keeps a copy of its own."""
    quoted = _quoted_by_faqs(pack_snapshot)
    failures = []
    for calc, name in _shared_figures(pack_snapshot):
        mutated = _mutated(pack_snapshot.parameters, name)
        for day, inputs in PROBES[calc]:
            view = mutated.at(day)
            new_text = view.text(name)
            if new_text == pack_snapshot.parameters.at(day).text(name):
                continue
            faq_texts = [view.render(f.answer) for f in quoted[name]]
            if not all(new_text in text for text in faq_texts):
                failures.append(f"{name}: an FAQ answer does not quote {new_text}")
            result = evaluate(calc, dict(inputs, as_of=day.isoformat()), mutated, TODAY)
            said = "\n".join(result.reasons + result.would_change + result.notes + result.expired_notes)
            if new_text in said:
                break
        else:
            failures.append(f"{name}: no {calc} answer quotes the changed figure")
    assert not failures, "\n".join(failures)


def test_staff_extending_a_window_changes_faq_and_calculator_at_once(fresh_db):
    """A new end date for the relaxed skill-upgrade condition: the FAQ stops saying it expired and the
    calculator applies one insured year again — from the same stored override."""
    engine = Engine(fresh_db, {"TODAY": TODAY.isoformat()})
    question = engine.snapshot.faq("skill-upgrade-amounts").question
    inputs = {"level": "intermediate", "insured_years": 2}
    before = ask(engine, question, "window-before")
    assert before.faq_id == "skill-upgrade-amounts" and "已到期" in before.reply
    expired = evaluate("skill_upgrade", inputs, engine.snapshot.parameters, TODAY, engine.snapshot)
    assert expired.eligible is None and expired.amount is None and expired.expired is True

    with fresh_db.session() as s:
        StaffService(s).override_parameter("skill_upgrade.relaxed_window", "2026-01-01",
                                           {"start": "2026-01-01", "end": "2027-12-31"}, "测试员", "测试：延期")
    after = ask(engine, question, "window-after")
    assert after.faq_id == "skill-upgrade-amounts"
    assert "2026年1月1日至2027年12月31日" in after.reply and "已到期" not in after.reply
    result = evaluate("skill_upgrade", inputs, engine.snapshot.parameters, TODAY, engine.snapshot)
    assert result.eligible is True and result.amount == 1500 and result.expired is False
    assert any("2026年1月1日至2027年12月31日" in r for r in result.reasons)
