"""The dialogue runner without the bot: free answers, forms as data, state, expiry; and the
flows hooks: when a question opens a dialogue, the clock, the size of the result bubble."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import answering, replies
from bot.turn import Turn
from bot.engine import Engine
from bot.reply import Incoming
from eligibility import REGISTRY
from eligibility.declarations import Declaration, DeclarationError, declaration
from eligibility.dialogue import (AnswerError, Dialogue, choices, load_forms, parse_bool, parse_date,
                                  parse_option_number, parse_quantity)

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text,unit,value", [
    ("三个月", "months", 3), ("3个", "people", 3), ("120人", "people", 120), ("一百二十", "people", 120),
    ("１２０", "people", 120), ("一百二", "people", 120), ("一百零五", "people", 105), ("十二", "months", 12),
    ("两千五", "yuan", 2500), ("三万五", "yuan", 35000), ("2万", "yuan", 20000), ("两万元", "yuan", 20000),
    ("1.5万", "yuan", 15000), ("大概120人左右", "people", 120), ("一共有5个", "people", 5), ("没有", "people", 0),
    ("一年", "months", 12), ("两年", "months", 24), ("半年", "months", 6), ("一年半", "years", 1.5),
    ("18个月", "years", 1.5), ("1.5年", "years", 1.5), ("一点五", "years", 1.5), ("二十岁", "age", 20),
    ("３.", "people", 3),
])
def test_free_numbers(text, unit, value):
    assert parse_quantity(text, unit) == value


@pytest.mark.parametrize("text", ["好多", "三四个", "3到5个", "abc", "", "见习补贴多少钱"])
def test_numbers_it_cannot_use(text):
    with pytest.raises(AnswerError):
        parse_quantity(text, "people")


@pytest.mark.parametrize("text,value", [
    ("是", True), ("是的", True), ("对", True), ("有", True), ("嗯", True), ("1", True), ("１", True),
    ("不是", False), ("没有", False), ("没", False), ("否", False), ("2", False), ("没有拖欠", False),
    ("有拖欠", True), ("不对", False),
])
def test_yes_no(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["是不是要交社保", "什么意思", "随便"])
def test_yes_no_it_cannot_use(text):
    with pytest.raises(AnswerError):
        parse_bool(text)


@pytest.mark.parametrize("text,value", [("2026-11-27", "2026-11-27"), ("2020年6月1日", "2020-06-01"),
                                        ("２０２０.6.1", "2020-06-01"), ("2019/12/31号", "2019-12-31")])
def test_dates(text, value):
    assert parse_date(text) == value


@pytest.mark.parametrize("text", ["2020-13-01", "明天", "6月1日"])
def test_dates_it_cannot_use(text):
    with pytest.raises(AnswerError):
        parse_date(text)


@pytest.mark.parametrize("text,value", [("2", 2), ("第二个", 2), ("二", 2), ("２.", 2), ("10", 10), ("十", 10),
                                        ("第3项", 3), ("两个人", None), ("高级", None),
                                        ("两个", None), ("俩", None)])  # 两 counts, it never numbers a choice
def test_option_numbers(text, value):
    assert parse_option_number(text) == value


def test_every_calculator_has_a_form_that_fits_it():
    forms = load_forms()
    assert list(forms) == REGISTRY.names()
    for name, form in forms.items():
        assert form.intro and form.keywords and form.slots, name
        for slot in form.slots:
            assert slot.question and slot.invalid and slot.label, (name, slot.name)
            if slot.type in ("choice", "bool"):
                assert 2 <= len(choices(slot)) <= 9


def test_one_declaration_gives_the_schema_the_dialogue_and_the_labels():
    """Bounds, options, labels and conditions are declared once: the JSON Schema, the validation,
    the dialogue and the result labels all read the same declaration."""
    for calc in REGISTRY:
        decl = declaration(calc.name)
        props = calc.schema.json_schema()["properties"]
        assert calc.clause == decl.clause and calc.title == decl.title
        for i in decl.inputs:
            prop = props[i.name]
            assert prop["title"] == i.label
            if i.minimum is not None:
                assert prop["minimum"] == i.minimum
            if i.maximum is not None:
                assert prop["maximum"] == i.maximum
            if i.type == "choice":
                assert prop["enum"] == [o.value for o in i.options]
                assert prop["x-labels"] == {o.value: o.name for o in i.options}
            assert load_forms()[calc.name].slot(i.name) is i


def test_a_declaration_that_cannot_describe_a_calculator_is_refused():
    base = {"calculator": "x", "clause": "12", "title": "X"}
    with pytest.raises(DeclarationError, match="later input"):
        Declaration.from_mapping(dict(base, slots=[
            {"name": "a", "type": "int", "question": "?", "when": {"b": 1}},
            {"name": "b", "type": "int", "question": "?"}]))
    with pytest.raises(DeclarationError, match="type must be"):
        Declaration.from_mapping(dict(base, slots=[{"name": "a", "type": "text", "question": "?"}]))
    with pytest.raises(DeclarationError, match="needs options"):
        Declaration.from_mapping(dict(base, slots=[{"name": "a", "type": "choice", "question": "?"}]))
    with pytest.raises(DeclarationError, match="status option"):
        Declaration.from_mapping(dict(base, slots=[{"name": "a", "type": "choice", "question": "?",
                                                    "options": [{"value": "x"}], "loose": {"x": ["困难"]}}]))


def test_runner_fills_a_form_with_plain_json_state(pack_snapshot):
    view = pack_snapshot.parameters.at(dt.date(2026, 11, 27))
    dlg = Dialogue.begin(load_forms()["startup_loan"], NOW, view)
    assert dlg.prompt().options == [{"key": "1", "label": "个人从事个体经营（个体户）"}, {"key": "2", "label": "小微企业"}]
    for answer in ("2", "一百二十人", "18个", "一年", "没有"):
        dlg.accept(dlg.parse(answer))
        state = json.loads(json.dumps(dlg.state))  # survives a JSON round trip (the database)
        dlg = Dialogue(dlg.form, state, view)
    assert dlg.done
    assert dlg.inputs() == {"applicant": "small_business", "staff": 120, "new_hires": 18, "contract_years": 1,
                            "arrears": False}


def test_individual_skips_the_small_business_questions(pack_snapshot):
    dlg = Dialogue.begin(load_forms()["startup_loan"], NOW, pack_snapshot.parameters.at(dt.date(2026, 11, 27)))
    dlg.accept(dlg.parse("个体户"))
    assert dlg.done and dlg.inputs() == {"applicant": "individual"}


def test_hardship_questions_are_asked_only_while_the_window_is_open(pack_snapshot):
    """Outside 2019 the hardship answers cannot change the result, so none of them is asked."""
    form = load_forms()["job_stabilization"]
    for day, asked in ((dt.date(2019, 6, 1), True), (dt.date(2026, 11, 27), False)):
        dlg = Dialogue.begin(form, NOW, pack_snapshot.parameters.at(day))
        for answer in ("1", "20000"):
            dlg.accept(dlg.parse(answer))
        assert (dlg.current() is not None and dlg.current().name == "hardship") is asked
        assert dlg.done is not asked
        if asked:
            dlg.accept(dlg.parse("是"))
            assert dlg.current().name == "insured_staff"


def test_expiry_by_the_stored_timestamp(pack_snapshot):
    dlg = Dialogue.begin(load_forms()["incubator"], NOW, None)
    assert not dlg.expired(NOW + dt.timedelta(hours=23, minutes=59), 24)
    assert dlg.expired(NOW + dt.timedelta(hours=24, minutes=1), 24)
    dlg.state["updated"] = "not a time"
    assert dlg.expired(NOW, 24)


def test_engine_clock_can_be_injected_for_expiry(fresh_db):
    engine = Engine(fresh_db, {"TODAY": "2026-11-27", "DIALOGUE_TTL_HOURS": 2})
    moments = iter([NOW, NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=3, minutes=1)])
    current = {"t": NOW}

    def now():
        return current["t"]

    engine.now = now  # the hook flows uses instead of the wall clock
    say = lambda text: engine.handle(Incoming(user="clock", text=text))  # noqa: E731
    current["t"] = next(moments)
    say("测算")
    say("6")                                  # 吸纳高校毕业生生活补贴
    current["t"] = next(moments)
    assert "几个月" in say("2").reply          # within two hours: still open
    current["t"] = next(moments)
    reply = say("12")                          # two hours after the last answer
    assert "超过2小时没有完成" in reply.reply and "result" not in reply.to_dict()


@pytest.mark.parametrize("text,starts", [
    ("我能领见习补贴吗", "internship"),
    ("我们厂能贷多少", "startup_loan"),
    ("我们单位招了大学生能领多少生活补贴", "graduate_hiring"),
    ("我考了中级证能领多少", "skill_upgrade"),
    ("我们是县级孵化基地，能补多少", "incubator"),
    ("帮我算一下稳岗返还", "job_stabilization"),
    ("见习补贴标准是多少？", None),          # a question about the figure: the cited answer
    ("个人创业贷款最多能贷多少？", None),
    ("技能提升补贴参保一年就能领吗", None),    # not about oneself: the answer (with its expiry note)
])
def test_which_questions_open_a_dialogue(engine, text, starts):
    reply = engine.handle(Incoming(user=f"way-{text}", text=text))
    if starts is None:
        assert reply.kind == "answer" and "result" not in reply.extra
    else:
        assert reply.kind == "flow" and reply.extra["dialogue"]["calculator"] == starts
        assert reply.clause == REGISTRY.get(starts).clause
        assert reply.contacts and reply.contacts[0]["hotline"] == "12333"
    engine.handle(Incoming(user=f"way-{text}", text="退出"))


def test_a_dialogue_opened_by_a_question_keeps_the_faq_clause_and_begins_with_its_answer(engine):
    reply = engine.handle(Incoming(user="faq-first", text="我能领见习补贴吗"))
    assert reply.kind == "flow" and reply.clause == "12" and reply.faq_id
    answer = engine.snapshot.faq(reply.faq_id)
    assert answer.clause == "12"
    first = reply.reply.split("\n")[0]
    assert "（依据：实施方案第12条）" in first and "见习人员属于哪一类" in reply.reply
    assert reply.reply.index("依据") < reply.reply.index("见习人员属于哪一类")


def test_picking_the_calculator_of_a_question():
    forms = load_forms()
    pick = answering.pick_calculators
    assert pick(forms, "我们能领多少", "16", "") == ["skill_upgrade", "poverty_hire_training", "skill_master_studio"]
    assert pick(forms, "我们的大师工作室能补多少", "16", "skill_upgrade") == ["skill_master_studio"]
    assert pick(forms, "我们能领多少", "16", "poverty_hire_training") == ["poverty_hire_training"]
    assert pick(forms, "我能领见习补贴吗", None, "") == ["internship"]
    assert pick(forms, "我能领吗", "19", "") == []


def make_turn(engine, day=dt.date(2026, 11, 27)):
    from bot.dialogues import Dialogues
    from bot.state import ConversationState

    snap = engine.snapshot
    return Turn(replies.Scene(snap, day), engine.matcher, ConversationState({}, NOW),
                       Dialogues(snap, day, NOW))


def test_a_clause_with_several_calculators_offers_a_numbered_choice(engine):
    from knowledge.matcher import Candidate, MatchResult

    faq = next(f for f in engine.snapshot.faqs if f.clause == "16" and not f.calculator)
    match = MatchResult(normalized="", threshold=0.3, best=Candidate("faq", faq.id, "16", 0.9), confident=True)
    turn = make_turn(engine)
    reply = answering.maybe_start(turn, match, "我们企业能领多少")
    assert reply is not None and reply.kind == "flow" and reply.clause == "16" and reply.faq_id == faq.id
    assert [o["label"] for o in reply.options] == ["技术技能提升补贴", "吸纳建档立卡贫困劳动力培训补助", "技能大师工作室补贴"]
    assert [a.name for a in reply.actions] == ["skill_upgrade", "poverty_hire_training", "skill_master_studio"]
    assert turn.state.dialogue is None
    assert answering.maybe_start(turn, match, "技能大师工作室补贴标准") is None  # no eligibility wording


WORST_CASES = [
    ("startup_loan", ["2", "50", "1", "半年", "有"]),
    ("job_stabilization", ["1", "20000"]),
    ("internship", ["2", "15", "4", "2", "0"]),
    ("training", ["1", "1", "1", "1"]),
]


@pytest.mark.parametrize("calc,answers", WORST_CASES, ids=[c for c, _ in WORST_CASES])
def test_the_result_fits_one_wechat_bubble(engine, calc, answers):
    user = f"bubble-{calc}"
    engine.handle(Incoming(user=user, event=f"menu:CALC_{calc.upper()}"))
    for answer in answers:
        reply = engine.handle(Incoming(user=user, text=answer))
    assert "result" in reply.extra
    assert len(reply.as_text().encode("utf-8")) <= replies.WECHAT_TEXT_BYTES
    assert "12333" in reply.reply
    assert {"url": f"/calc/{calc}", "title": reply.links[0]["title"]} in reply.links


@pytest.mark.processes
def test_eligibility_never_imports_flask_or_bot():
    code = "import sys, eligibility, eligibility.dialogue, eligibility.cli; " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'bot', 'webhooks')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_forms_type_no_policy_figure():
    """Figures in questions come from the parameters ({{name}}); digits may appear only in quoted
    examples (“20”) and the 12333 hotline. Bounds only guard against slips (min 0/1, max 60 or more),
    so the calculator, not the form, decides thresholds such as 3 months or 16-24 years."""
    for name, form in load_forms().items():
        texts = [form.intro] + [t for s in form.slots for t in (s.question, s.too_small, s.too_large,
                                                                  s.yes_label, s.no_label)]
        texts += [o.label for s in form.slots for o in s.options]
        for slot in form.slots:  # "请回复 1、2 或 3" names option numbers
            count = len(choices(slot))
            texts.append(re.sub(rf"(?<!\d)[1-{count}](?!\d)", "", slot.invalid) if count else slot.invalid)
        for text in texts:
            bare = re.sub(r"“[^”]*”|\{\{[^}]+\}\}|\{(min|max)\}|12333", "", text)
            assert not re.search(r"\d", bare), (name, text)
        for slot in form.slots:
            assert slot.minimum in (None, 0, 1), (name, slot.name, slot.minimum)
            assert slot.maximum is None or slot.maximum >= 60, (name, slot.name, slot.maximum)


def test_short_words_and_rough_amounts_in_a_dialogue_are_answers_not_questions(engine):
    """The matcher is confident about "好多年" or "十几个人"; inside a dialogue they are (unusable) answers."""
    user = "rough"
    engine.handle(Incoming(user=user, event="menu:CALC_INTERNSHIP"))
    engine.handle(Incoming(user=user, text="1"))
    for text in ("十几个人", "一百多", "好多年", "五六个", "3到5个"):
        reply = engine.handle(Incoming(user=user, text=text))
        assert reply.kind == "flow" and "几名见习人员" in reply.reply, (text, reply.reply)
        assert "具体的数字" in reply.reply, (text, reply.reply)
    question = engine.handle(Incoming(user=user, text="见习补贴发给谁？"))
    assert question.kind == "answer" and question.clause == "12"
    assert question.reply.rstrip().endswith("请回复人数，例如“5”。")  # then the pending question, plainly
    assert not question.actions and question.extra["dialogue"]["slot"] == "interns"
    engine.handle(Incoming(user=user, text="退出"))


GRID = {  # inputs that reach every branch (and long numbers), checked on four days
    "internship": [dict(interns=i, months=m, retained=r, **s) for i in (1, 99999) for m in (2, 13) for r in (0, 1)
                   for s in ({}, {"intern_status": "graduate"}, {"intern_status": "unemployed_youth", "intern_age": 15},
                             {"intern_status": "unemployed_youth", "intern_age": 20})],
    "skill_upgrade": [dict(level=lv, insured_years=y) for lv in ("primary", "advanced") for y in (0.5, 1, 2.9, 3)],
    "startup_loan": [{"applicant": "individual"}] + [
        dict(applicant="small_business", staff=s, new_hires=h, contract_years=c, arrears=a)
        for s in (100, 101, 99999) for h in (0, 100) for c in (0.5, 1) for a in (True, False)],
    "startup_subsidy": [dict(group=g, first_business=f) for g in ("graduate", "difficulty", "other") for f in (True, False)],
    "job_stabilization": [dict(last_year_ui_premium=p, layoffs=lay, hardship=h,
                               **({"insured_staff": 99999, "monthly_ui_benefit": 12345.67,
                                   "monthly_social_insurance": 98765432.1} if h else {}))
                          for p in (12345.67, 999999999) for lay in ("none", "many") for h in (True, False)],
    "graduate_hiring": [dict(graduates=g, months=m) for g in (1, 99999) for m in (1, 60)],
    "training": [{"unemployed": False}] + [
        dict(unemployed=True, course=c, passed=p, difficulty_or_zero_employment=d, receiving_ui_benefit=r)
        for c in ("skills", "startup") for p in (True, False) for d in (True, False) for r in (True, False)],
    "poverty_hire_training": [dict(workers=w, contract_months=m, trained=t) for w in (1, 99999) for m in (5, 6, 12)
                              for t in (True, False)],
    "incubator": [dict(level=lv, assessment_passed=a) for lv in ("county", "city") for a in (True, False)],
    "skill_master_studio": [{"level": "city"}, {"level": "other"}],
}


@pytest.mark.parametrize("calc", list(GRID))
def test_every_result_fits_one_bubble_and_says_the_essentials(engine, calc):
    """Whatever the answers and the day: one WeChat bubble (with its numbered options), a verdict, the
    reasons with clauses, any expiry said plainly, the lead office with 12333 and the /calc link."""
    from eligibility import evaluate
    from eligibility.texts import money

    form = load_forms()[calc]
    options = "\n\n1. 重新测算" + form.title + "\n2. 其他补贴测算\n3. 返回主菜单"
    for day in (dt.date(2018, 12, 31), dt.date(2019, 6, 1), dt.date(2020, 12, 31), dt.date(2026, 11, 27)):
        scene = replies.Scene(engine.snapshot, day)
        for inputs in GRID[calc]:
            result = evaluate(calc, inputs, engine.snapshot.parameters, day, engine.snapshot)
            reply = replies.result(scene, form, result)
            text = reply.reply
            where = (day, inputs)
            assert len(reply.as_text().encode("utf-8")) <= replies.WECHAT_TEXT_BYTES, where
            assert len((text + options).encode("utf-8")) <= replies.WECHAT_TEXT_BYTES, where
            verdict = text.split("\n")[1]
            assert verdict.startswith("结论："), where
            if result.eligible is False:
                assert "暂不符合条件" in verdict, where
            elif result.eligible is None:
                assert "认定" in verdict and "可领" not in verdict and "符合条件" not in verdict, where
            else:
                assert "符合条件" in verdict and "暂不" not in verdict, where
                if result.amount is not None:
                    assert money(result.amount) in verdict, where
                if result.amount_range is not None:
                    assert all(money(x) in verdict for x in result.amount_range), where
            shown = [r for r in result.reasons if r in text]
            assert shown and all(re.search(r"（第\d+条）", r) for r in shown), where
            for note in result.expired_notes:
                assert note in text and ("已到期" in note or "尚未开始" in note or "停止执行" in note), where
            assert "县人社局" in text and "12333" in text, where
            assert any(link["url"] == f"/calc/{calc}" for link in reply.links), where

