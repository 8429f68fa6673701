"""Herder-friendly flows in Chinese and in Mongolian (issue 12): choosing the language, Mongolian
script in and out, other scripts, digits, "for me" lists, plain-language dialogues, every channel."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.reply import Incoming
from knowledge.models import QuestionLog
from knowledge.mongolian import find_terms, gloss, mongolian_key

ROOT = Path(__file__).resolve().parents[1]
MONG = range(0x1800, 0x18B0)
GREETING = "ᠰᠠᠶᠢᠨ ᠪᠠᠶᠢᠨ᠎ᠠ ᠤᠤ"


def has_mong(text: str) -> bool:
    return any(ord(c) in MONG for c in text)


def say(engine, user, text=None, event=None, channel="api"):
    return engine.handle(Incoming(user=user, text=text or "", event=event, channel=channel))


def new_user(prefix="mn") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:10]}"


# ------------------------------------------------------------------------------ match keys
def test_match_keys_drop_variation_selectors_separators_and_joiners():
    plain = "ᠰᠠᠷᠠ"
    assert mongolian_key("ᠰᠠᠷ᠎ᠠ") == mongolian_key(plain)                   # MVS
    assert mongolian_key("ᠰ᠋ᠠᠷ᠌ᠠ\u200d") == mongolian_key(plain)               # FVS1, FVS2, ZWJ
    assert mongolian_key("ᠤᠲᠠᠰᠤᠨ\u202fᠤ") == mongolian_key("ᠤᠲᠠᠰᠤᠨ ᠤ")    # NNBSP is a space
    assert mongolian_key("᠑᠒") == "12"
    assert mongolian_key("ᠦᠬᠡᠢ") == mongolian_key("ᠦᠭᠡᠢ")                 # GA/QA typed either way


def test_glossary_terms_are_found_with_suffixes_and_variants():
    assert [t.zh for t in find_terms("ᠠᠵᠢᠯ ᠡᠷᠬᠢᠯᠡᠬᠦ ᠲᠡᠳᠬᠦᠮᠵᠢ")] == ["就业", "补贴"]  # longest first, words once
    assert [t.zh for t in find_terms("ᠠᠵᠢᠯᠤᠨ")] == ["工作"]                           # an attached suffix
    assert [t.zh for t in find_terms("ᠳᠠᠳᠤᠯᠭᠠ")] == ["见习"]                           # without the MVS
    assert find_terms("ᠮᠣᠷᠢ") == []


def test_gloss_puts_the_chinese_after_the_whole_word_once():
    assert gloss("ᠲᠡᠳᠬᠦᠮᠵᠢ ᠲᠡᠳᠬᠦᠮᠵᠢ") == "ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴） ᠲᠡᠳᠬᠦᠮᠵᠢ"
    assert gloss("ᠳᠠᠳᠤᠯᠭ᠎ᠠ\u202fᠶᠢᠨ") == "ᠳᠠᠳᠤᠯᠭ᠎ᠠ\u202fᠶᠢᠨ（见习）"
    assert gloss("ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴测算）") == "ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴测算）"
    assert gloss("ᠰᠠᠷ᠎ᠠ") == "ᠰᠠᠷ᠎ᠠ"  # "month" is no policy term


# ------------------------------------------------------------------------------ choosing the language
def test_a_mongolian_greeting_switches_to_mongolian_and_the_choice_is_kept(engine):
    user = new_user()
    r = say(engine, user, GREETING)
    assert r.locale == "mn" and r.kind == "menu" and has_mong(r.reply)
    assert all(has_mong(o["label"]) or "残疾" in o["label"] or "贫困" in o["label"] for o in r.options)
    later = say(engine, user, "菜单")  # a Chinese command later: still answered in Mongolian
    assert later.locale == "mn" and has_mong(later.reply)
    back = say(engine, user, "中文")
    assert back.locale == "zh" and not has_mong(back.reply)
    assert say(engine, user, "菜单").locale == "zh"


@pytest.mark.parametrize("text", ["蒙文", "用蒙语", "能用蒙语回答吗", "Mongolian", "蒙古文", "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ"])
def test_asking_for_mongolian(engine, text):
    r = say(engine, new_user(), text)
    assert r.locale == "mn" and r.kind == "menu" and has_mong(r.reply), (text, r.reply[:60])


@pytest.mark.parametrize("text", ["语言", "ᠬᠡᠯᠡ"])
def test_the_language_command_offers_both(engine, text):
    user = new_user()
    r = say(engine, user, text)
    assert [o["key"] for o in r.options] == ["1", "2"]
    assert "中文" in r.options[0]["label"] and has_mong(r.options[1]["label"])
    assert (r.locale == "mn") == (text == "ᠬᠡᠯᠡ")  # said in Mongolian script: answered in it
    chosen = say(engine, user, "᠒")  # a Mongolian digit picks Mongolian
    assert chosen.locale == "mn" and has_mong(chosen.reply)


def test_the_menu_has_a_language_item_and_a_for_me_item(engine):
    user = new_user()
    menu = say(engine, user, "菜单")
    labels = [o["label"] for o in menu.options]
    assert any("ᠮᠣᠩᠭᠣᠯ" in label for label in labels) and any("牧民" in label for label in labels)
    key = next(o["key"] for o in menu.options if "ᠮᠣᠩᠭᠣᠯ" in o["label"])
    switched = say(engine, user, key)
    assert switched.locale == "mn"
    key = next(o["key"] for o in switched.options if "中文" in o["label"])
    assert say(engine, user, key).locale == "zh"


# ------------------------------------------------------------------------------ other scripts
def test_cyrillic_mongolian_gets_chinese_and_cyrillic_with_the_hotlines(engine):
    r = say(engine, new_user(), "Ажил хайж байна")
    assert "12333" in r.reply and "12345" in r.reply and "传统蒙古文" in r.reply
    assert "хятад" in r.reply.lower()
    assert "表情" not in r.reply and "emoji" not in r.reply.lower() and "符号" not in r.reply
    assert r.locale == "zh"


def test_tibetan_gets_a_chinese_reply_with_the_hotlines(engine):
    r = say(engine, new_user(), "བཀྲ་ཤིས་བདེ་ལེགས།")
    assert "12333" in r.reply and "中文" in r.reply and r.locale == "zh" and "表情" not in r.reply


def test_legacy_menksoft_text_gets_a_clear_note(engine):
    r = say(engine, new_user(), "\ue234\ue2a0\ue300")
    assert "Menksoft" in r.reply and "Unicode" in r.reply and "表情" not in r.reply


# ------------------------------------------------------------------------------ Mongolian words
def test_glossary_words_lead_to_topics_and_dialogues(engine):
    subsidy = say(engine, new_user(), "ᠲᠡᠳᠬᠦᠮᠵᠢ")
    assert subsidy.kind == "menu" and subsidy.locale == "mn" and len(subsidy.options) == 10  # the calculators
    work = say(engine, new_user(), "ᠠᠵᠢᠯ")
    assert work.kind == "menu" and len(work.options) == 6  # which group are you?
    loan = say(engine, new_user(), "ᠵᠡᠭᠡᠯᠢ")
    assert loan.kind == "flow" and loan.clause == "10" and has_mong(loan.reply)
    herder = say(engine, new_user(), "ᠮᠠᠯᠴᠢᠨ")
    assert herder.kind == "menu" and any("startup" in str(a) for a in herder.actions)
    # written with variation selectors and a joiner: the same word
    assert say(engine, new_user(), "ᠲ᠋ᠡᠳᠬᠦᠮᠵᠢ\u200d").options == subsidy.options


def test_other_mongolian_gets_the_mongolian_menu(engine):
    r = say(engine, new_user(), "ᠮᠣᠷᠢ ᠬᠣᠨᠢ")
    assert r.kind == "menu" and r.locale == "mn" and len(r.options) == 14


def test_mixed_chinese_and_mongolian_answers_the_chinese_question_in_mongolian_mode(engine):
    r = say(engine, new_user(), GREETING + " 见习补贴每人每月多少钱")
    assert r.locale == "mn" and r.kind == "answer" and r.clause == "12"
    first, rest = r.reply.split("\n", 1)
    assert has_mong(first) and "1000元" in rest  # one Mongolian line: the answer is in Chinese


def test_a_policy_answer_in_mongolian_mode_says_it_is_in_chinese(engine):
    user = new_user()
    say(engine, user, "蒙文")
    r = say(engine, user, "创业担保贷款最多能贷多少")
    assert r.kind == "answer" and r.locale == "mn"
    from bot.i18n import msg

    assert r.reply.split("\n")[0] == msg("faq_in_chinese", "mn") and "（依据：" in r.reply


# ------------------------------------------------------------------------------ a whole dialogue
def run_internship(send):
    """The internship dialogue in Mongolian, answered with Mongolian digits: 36000元."""
    steps = [send("ᠳᠠᠳᠤᠯᠭ᠎ᠠ"), send("᠑"), send("᠕"), send("᠖"), send("᠓")]
    return steps


def test_a_complete_mongolian_dialogue_from_start_to_result(engine):
    user = new_user()
    steps = run_internship(lambda text: say(engine, user, text))
    for step in steps[:-1]:
        assert step.kind == "flow" and step.locale == "mn" and has_mong(step.reply), step.reply[:80]
    assert "ᠲᠣᠭ᠎ᠠ" in steps[0].reply  # the expected answer is stated: "write a number"
    assert "ᠵᠢᠱᠢᠶᠡᠯᠡᠪᠡᠯ" in steps[1].reply  # "for example …"
    result = steps[-1]
    assert result.kind == "flow" and result.locale == "mn"
    assert result.extra["result"]["amount"] == 36000 and "36000元" in result.reply
    assert result.reply.startswith("【") and has_mong(result.reply.split("\n")[0])
    assert has_mong(result.reply.split("\n")[1]) and "36000元" in result.reply.split("\n")[1]  # numbers first
    assert "（依据" in result.reply or "第12条" in result.reply


def test_answers_in_full_width_and_mongolian_digits_and_words(engine):
    user = new_user()
    say(engine, user, "我能领见习补贴吗")
    assert say(engine, user, "１").extra["dialogue"]["slot"] == "interns"          # full-width
    assert say(engine, user, "᠕ ᠬᠦᠮᠦᠨ").extra["dialogue"]["slot"] == "months"   # "5 persons" in Mongolian
    r = say(engine, user, "᠖ ᠰᠠᠷ᠎ᠠ")                                             # "6 months"
    assert r.extra["dialogue"]["slot"] == "retained" and r.locale == "mn"  # written in Mongolian: answered in it
    done = say(engine, user, "3")
    assert done.extra["result"]["amount"] == 36000


def test_mongolian_yes_and_no_answer_a_yes_no_question(engine):
    user = new_user()
    say(engine, user, "蒙文")
    say(engine, user, "ᠳᠠᠳᠤᠯᠭ᠎ᠠ")
    flow = say(engine, user, "ᠲᠡᠳᠬᠦᠮᠵᠢ")  # not an answer: the question again, in Mongolian
    assert flow.kind == "flow" and has_mong(flow.reply)
    user = new_user()
    say(engine, user, "测算一次性创业补贴")
    say(engine, user, "1")
    r = say(engine, user, "ᠲᠡᠢᠮᠦ")  # yes, the first business
    assert r.extra.get("result") is not None


def test_stored_text_is_nfc_with_its_mongolian_spaces_kept(fresh_engine):
    text = "ᠤᠲᠠᠰᠤᠨ\u202fᠤ ᠨᠣᠮᠧᠷ ᠰᠠᠷ᠎ᠠ"
    say(fresh_engine, "mn:log", text)
    with fresh_engine.db.session() as s:
        logged = s.execute(select(QuestionLog.text).where(QuestionLog.user == "mn:log")).scalar_one()
    assert logged == text  # NNBSP and MVS survive (NFKC would have turned U+202F into a space)


# ------------------------------------------------------------------------------ "for me" and plain language
@pytest.mark.parametrize("text,calculator", [("我是牧民", "startup_loan"), ("残疾人", "startup_subsidy"),
                                             ("我是高校毕业生", "startup_subsidy"), ("返乡创业", "startup_loan"),
                                             ("我们是企业", "job_stabilization"), ("我家是贫困户", "poverty_hire_training")])
def test_for_me_lists_lead_to_the_calculators_in_one_tap(engine, text, calculator):
    user = new_user("forme")
    r = say(engine, user, text)
    assert r.kind == "menu" and 3 <= len(r.options) <= 6
    key = next(o["key"] for o, a in zip(r.options, r.actions) if getattr(a, "name", "") == calculator)
    flow = say(engine, user, key)
    assert flow.kind == "flow" and flow.extra["dialogue"]["calculator"] == calculator


def test_for_me_in_mongolian(engine):
    user = new_user("forme")
    say(engine, user, "蒙文")
    r = say(engine, user, "我是牧民")
    assert r.locale == "mn" and has_mong(r.reply) and any(has_mong(o["label"]) for o in r.options)


def test_a_longer_question_naming_a_group_is_answered_not_listed(engine):
    r = say(engine, new_user(), "我是牧民，想出去打工，县乡劳动力市场能提供啥服务")
    assert r.kind == "answer"


def test_every_dialogue_question_states_the_expected_answer(engine):
    """Plain language: one question per message, what to send with an example number, in both languages."""
    from eligibility.dialogue import Dialogue, load_forms
    from eligibility.texts import speaking

    view = engine.snapshot.parameters.at(engine.clock())
    import datetime as dt

    for locale in ("zh", "mn"):
        with speaking(locale):
            for form in load_forms().values():
                dlg = Dialogue.begin(form, dt.datetime.now(dt.timezone.utc), view)
                for slot in form.slots:
                    dlg.state["answers"] = {}
                    dlg.state["skipped"] = [s.name for s in form.slots if s.name != slot.name]
                    if dlg.current() is not slot:
                        continue
                    prompt = dlg.prompt()
                    assert any(c.isdigit() for c in prompt.text), (locale, form.calculator, slot.name, prompt.text)
                    assert prompt.text.count("？") + prompt.text.count("?") <= 2, prompt.text
                    if locale == "mn":
                        assert has_mong(prompt.text), (form.calculator, slot.name)


# ------------------------------------------------------------------------------ channels
def test_mongolian_dialogue_over_the_json_api(client, api_headers):
    user = "herder-" + uuid.uuid4().hex[:8]

    def send(text):
        resp = client.post("/api/v1/ask", json={"text": text, "user": user}, headers=api_headers)
        assert resp.status_code == 200
        return resp.get_json()

    steps = [send(t) for t in ("ᠳᠠᠳᠤᠯᠭ᠎ᠠ", "᠑", "᠕", "᠖", "᠓")]
    assert all(s["locale"] == "mn" for s in steps)
    assert steps[-1]["result"]["amount"] == 36000 and has_mong(steps[-1]["reply"])


def test_the_web_language_switch_is_kept_for_the_conversation(client):
    page = client.get("/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.get_data(as_text=True)
    switched = client.get("/lang/mn?next=/policies")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/policies")
    html = client.get("/").get_data(as_text=True)
    assert 'lang="mn-Mong"' in html and "/lang/zh" in html
    answer = client.post("/api/v1/ask", json={"text": "菜单"}).get_json()
    assert answer["locale"] == "mn" and has_mong(answer["reply"])
    assert client.get("/lang/mn?next=https://evil.example/").headers["Location"].endswith("/")
    assert client.get("/lang/fr").status_code == 404


@pytest.mark.parametrize("path", ["/", "/policies", "/standards", "/calc", "/offices", "/complaints"])
def test_every_page_has_a_language_switch(client, path):
    html = client.get(path).get_data(as_text=True)
    assert 'id="lang-switch"' in html and "/lang/mn" in html


def test_the_mongolian_font_is_served_from_the_system_and_cached(client):
    from webhooks.web.language import font_path

    if font_path("NotoSansMongolian-Regular.ttf") is None:
        pytest.skip("fonts-noto-core is not installed (make test installs it)")
    with client.get("/fonts/NotoSansMongolian-Regular.ttf") as resp:
        assert resp.status_code == 200 and resp.mimetype == "font/ttf" and len(resp.data) > 10000
        assert resp.cache_control.max_age >= 7 * 24 * 3600
    assert client.get("/fonts/../../etc/passwd").status_code == 404
    assert client.get("/fonts/Other.ttf").status_code == 404
    assert not list(ROOT.rglob("NotoSansMongolian*"))  # never copied into the repository


def test_the_language_is_kept_on_every_channel(app, client, api_headers):
    """Each channel keeps the choice for its own person (the identities never alias)."""
    engine = app.extensions.get("jiuye_engine") if hasattr(app, "extensions") else None
    user = "channel-" + uuid.uuid4().hex[:8]
    client.post("/api/v1/ask", json={"text": "ᠬᠡᠯᠡ", "user": user}, headers=api_headers)
    chosen = client.post("/api/v1/ask", json={"text": "2", "user": user}, headers=api_headers).get_json()
    assert chosen["locale"] == "mn"
    later = client.post("/api/v1/ask", json={"text": "见习补贴一个月多少", "user": user}, headers=api_headers).get_json()
    assert later["locale"] == "mn" and later["kind"] == "answer"
    other = client.post("/api/v1/ask", json={"text": "菜单", "user": "someone-else"}, headers=api_headers).get_json()
    assert other["locale"] == "zh"
    assert engine is None or engine  # (the engine is per app; nothing else to check here)


# ------------------------------------------------------------------------------ command line
def cli(argv, monkeypatch, capsys, stdin: str = "") -> tuple[int, str]:
    """`python -m bot …` in this process (tests/test_cli.py runs the entry point itself)."""
    import io

    from bot.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    return code, capsys.readouterr().out


def test_bot_ask_answers_mongolian_script(new_db_url, monkeypatch, capsys):
    monkeypatch.setenv("JIUYE_DATABASE_URL", new_db_url("cli"))
    lines = "\n".join([GREETING, "ᠠᠵᠢᠯ", "ᠲᠡᠳᠬᠦᠮᠵᠢ", "ᠬᠡᠯᠡ"]) + "\n"
    code, out = cli(["ask", "--jsonl"], monkeypatch, capsys, lines)
    assert code == 0
    replies = [json.loads(line) for line in out.splitlines()]
    assert [r["locale"] for r in replies] == ["mn"] * 4
    assert all(has_mong(r["reply"]) for r in replies)
    code, single = cli(["ask", "ᠲᠡᠳᠬᠦᠮᠵᠢ"], monkeypatch, capsys)
    assert code == 0 and has_mong(single)
