"""Item 5: WeChat text within 2048 UTF-8 bytes, cut at a sentence with a link to the whole answer."""
from __future__ import annotations

import random

import pytest

from bot.i18n import msg
from bot.reply import Incoming, Reply
from webhooks.wechat import render
from webhooks.wechat.simulator import WeChatSimulator

SENTENCE = "对吸纳见习人员的单位按人按月给予见习补贴，补贴标准按当地最低工资标准的一定比例确定。"


def long_reply(**kw) -> Reply:
    defaults = dict(reply=SENTENCE * 40, kind="answer", clause="12", faq_id="internship-what",
                    options=[], contacts=[{"office": "县人社局", "phone": "", "hotline": "12333"}],
                    links=[{"title": "查看实施方案第12条原文", "url": "/policies/12"}])
    defaults.update(kw)
    return Reply(**defaults)


def test_short_replies_are_untouched():
    reply = Reply("见习补贴每人每月1000元。（依据：实施方案第12条）", "answer", clause="12",
                  options=[{"key": "1", "label": "继续测算"}],
                  contacts=[{"office": "县人社局", "phone": "0936-1234567", "hotline": "12333"}],
                  links=[{"title": "查看原文", "url": "/policies/12"}])
    text = render.to_text(reply)
    assert text == ("见习补贴每人每月1000元。（依据：实施方案第12条）\n\n1. 继续测算\n\n"
                    "办理单位：县人社局（电话 0936-1234567）\n<a href=\"/policies/12\">查看原文</a>")


def test_a_long_answer_is_cut_at_a_sentence_with_a_link_to_the_whole():
    text = render.to_text(long_reply(), base_url="https://jiuye.example.gov.cn")
    assert len(text.encode()) <= 2048
    body, _, tail = text.partition("\n\n")
    assert body.endswith("。") and SENTENCE in body
    assert f'<a href="https://jiuye.example.gov.cn/wechat/answer/internship-what">{msg("wechat_read_more")}</a>' in tail
    assert "办理单位：县人社局" in tail


def test_the_cut_keeps_the_options():
    options = [{"key": str(i), "label": f"选项{i}：创业担保贷款"} for i in range(1, 9)]
    text = render.to_text(long_reply(options=options))
    assert len(text.encode()) <= 2048
    for o in options:
        assert f"{o['key']}. {o['label']}" in text


def test_without_faq_the_link_goes_to_the_clause_page():
    text = render.to_text(long_reply(faq_id=None, links=[]))
    assert '<a href="/policies/12">' in text and len(text.encode()) <= 2048


def test_text_without_sentence_ends_is_hard_cut_with_a_mark():
    text = render.to_text(long_reply(reply="长" * 3000))
    assert len(text.encode()) <= 2048 and msg("wechat_cut_mark") in text


def test_exactly_2048_bytes_is_not_cut():
    body = "好" * 682 + "ab"  # 2048 bytes
    assert render.to_text(Reply(body, "smalltalk")) == body
    assert len(render.to_text(Reply(body + "c", "smalltalk")).encode()) <= 2048


@pytest.mark.parametrize("seed", range(30))
def test_random_replies_always_fit(seed):
    rng = random.Random(seed)
    alphabet = "见习补贴创业担保贷款。，！？\n😀ᠰᠠᠶᠢᠨabc ]]>"
    reply = Reply(
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 3000))), rng.choice(["answer", "menu", "flow"]),
        clause=rng.choice([None, "10"]), faq_id=rng.choice([None, "loan-x"]),
        options=[{"key": str(i), "label": "选项" * rng.randrange(1, 40)} for i in range(rng.randrange(0, 15))],
        contacts=[{"office": "县人社局", "phone": "", "hotline": "12333"}] * rng.randrange(0, 3),
        links=[{"title": "链接" * rng.randrange(1, 30), "url": "/calc/x"}] * rng.randrange(0, 4))
    text = render.to_text(reply, base_url=rng.choice(["", "https://jiuye.example.gov.cn"]))
    assert len(text.encode()) <= 2048


def test_contacts_replies_do_not_repeat_the_contacts():
    reply = Reply("请联系：县人社局。", "contacts", contacts=[{"office": "县人社局", "phone": "", "hotline": "12333"}])
    assert "办理单位" not in render.to_text(reply)


def test_long_engine_answer_end_to_end_with_the_full_answer_page(configured_fresh_app, monkeypatch):
    from bot.engine import Engine

    configured_fresh_app.config["PUBLIC_BASE_URL"] = "https://jiuye.example.gov.cn"
    sim = WeChatSimulator(configured_fresh_app)
    original = Engine.handle

    def long_answer(self, incoming):
        reply = original(self, incoming)
        reply.reply = reply.reply + "\n" + SENTENCE * 60
        return reply

    monkeypatch.setattr(Engine, "handle", long_answer)
    reply = sim.send_text("见习补贴一个月多少")
    assert len(reply.text.encode()) <= 2048
    import re
    url = re.search(r'<a href="https://jiuye\.example\.gov\.cn(/wechat/answer/[^"]+)">' + msg("wechat_read_more"),
                    reply.text).group(1)
    monkeypatch.setattr(Engine, "handle", original)
    page = configured_fresh_app.test_client().get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1000元" in html and "实施方案第12条" in html and "https://jiuye.example.gov.cn/policies/12" in html


def test_full_answer_page_unknown_faq_is_404(wechat_app):
    assert wechat_app.test_client().get("/wechat/answer/no-such-faq").status_code == 404


def test_full_answer_page_escapes_html(wechat_app, monkeypatch):
    # FAQ text is staff-edited: it must be shown as text, never as markup.
    from bot import replies
    from webhooks.db import get_engine

    with wechat_app.app_context():
        faq = get_engine().snapshot.faqs[0]
    monkeypatch.setattr(replies, "faq_answer",
                        lambda scene, faq, score: Reply("<script>alert(1)</script>", "answer", clause=faq.clause))
    page = wechat_app.test_client().get(f"/wechat/answer/{faq.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in html and "&lt;script&gt;" in html


def test_a_result_shows_its_web_form_as_a_link_and_names_its_office_once(engine):
    """A calculator result carries the web form as a link (never a bare path in the text) and
    says who handles it in its own words; the renderer adds no second office line."""
    for base in ("", "https://jiuye.example.gov.cn"):
        reply = engine.handle(Incoming(user=f"render-{base}", event="menu:CALC_SKILL_MASTER_STUDIO"))
        reply = engine.handle(Incoming(user=f"render-{base}", text="2"))
        assert "result" in reply.extra and "/calc/" not in reply.reply
        text = render.to_text(reply, base_url=base or "http://wx.example.gov.cn")
        assert text.count("/calc/skill_master_studio") == 1 and "技能大师工作室补贴测算</a>" in text
        assert text.count("县人社局（电话") == 1 and "办理单位" not in text


def test_other_lines_with_colons_and_offices_stay():
    reply = Reply("标准：每人每月1000元。\n依据：/policies/99", "answer",
                  contacts=[{"office": "县人社局", "phone": "", "hotline": "12333"}],
                  links=[{"title": "原文", "url": "/policies/12"}])
    text = render.to_text(reply)
    assert "标准：每人每月1000元。" in text and "依据：/policies/99" in text
    assert "办理单位：县人社局（咨询 12333）" in text
