"""Answers that carry the facts: a question about money gets the figures, with their windows and scope.

Residents ask "多少钱 / 给不给钱 / 有没有补贴"; where the plan gives figures, the answer states
them (rendered from the parameters) with the conditions, windows and group they belong to.
"""
from __future__ import annotations

import pytest

from bot.reply import Incoming

CASES = [
    ("培训补贴多少钱", "15", ["600元至1500元", "500元至1900元"]),
    ("失业了参加培训有补贴吗", "15", ["600元至1500元", "失业人员"]),
    ("俺是放羊滴 想学个手艺 政府给不给钱", "15", ["600元至1500元", "面向失业人员", "第17条"]),
    ("企业招应届大学生有啥补贴", "8", ["每人每月1500元", "应届"]),
    ("小微企业贷款最多能贷多少 要满足啥条件", "10", ["300万元", "25%", "15%", "1年以上劳动合同", "不良信用记录"]),
    ("技能提升补贴给多少", "16", ["1000元", "1500元", "2000元", "2019年1月1日至2020年12月31日（已到期）"]),
    ("一次性创业补贴给多少", "10", ["5000元", "按政策试点", "由县人社局认定"]),
    ("见习生自己能拿到多少钱", "12", ["1000元", "1200元"]),
    ("啥样的企业能领稳岗返还", "8", ["50%"]),
]


@pytest.mark.parametrize("question,clause,figures", CASES, ids=[c[0] for c in CASES])
def test_a_money_question_gets_the_figures(engine, question, clause, figures):
    r = engine.handle(Incoming(user=f"money-{abs(hash(question)) % 10**8}", text=question, channel="api"))
    # "能领多少" may also open the calculator: the answer's figures then come first in the same bubble
    assert r.kind in ("answer", "flow") and r.clause == clause, (question, r.kind, r.clause, r.faq_id)
    missing = [f for f in figures if f not in r.reply]
    assert not missing, (question, r.faq_id, missing, r.reply)
