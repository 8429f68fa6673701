""""For me" entry points: 我是牧民 / 残疾人 / 高校毕业生 / 返乡创业 / 企业 / 贫困户 → what applies to that person.

Each list names only what the plan (the knowledge pack) says for that group, by the FAQ entry that
quotes the plan or the calculator that computes it; the clause is in the comment. A person taps a
number and gets the cited answer or the dialogue. Said alone ("我是牧民", "企业", "ᠮᠠᠯᠴᠢᠨ"), a
group's name opens its list; inside a longer question it is only part of the question.
"""
from __future__ import annotations

import re

from .actions import Action, ShowFaq, StartCalculator

# id → the options, in order: ("faq", FAQ id) or ("calc", calculator name).
PERSONAS: dict[str, tuple[tuple[str, str], ...]] = {
    "herder": (("faq", "rural-labor-market-services"),      # 4 农牧村劳动力转移就业
               ("faq", "migrant-training-target"),           # 17 农民工技能大培训（农牧村劳动力）
               ("calc", "startup_loan"),                     # 10 个人创业担保贷款
               ("faq", "poverty-workshop-local-fit")),       # 5 牧区扶贫车间
    "disabled": (("faq", "hardship-person-who"),             # 18 残疾等劳动者可认定为就业困难人员
                 ("faq", "hardship-person-assistance"),      # 18 认定后的就业援助
                 ("calc", "startup_subsidy"),                # 10 就业困难人员首次创业
                 ("calc", "training")),                      # 15 失业人员培训补贴
    "graduate": (("faq", "internship-eligibility"),          # 12 就业见习
                 ("calc", "startup_subsidy"),                # 10 高校毕业生首次创业
                 ("calc", "startup_loan"),                   # 10 个人创业担保贷款
                 ("faq", "graduate-hiring-allowance")),      # 8 到企业就业的生活补贴
    "returnee": (("calc", "startup_loan"),                   # 10
                 ("calc", "startup_subsidy"),                # 10（高校毕业生、就业困难人员）
                 ("faq", "poverty-workshop-returnees"),      # 5 返乡创办扶贫车间
                 ("faq", "training-startup-eligibility")),   # 15 创业培训
    "enterprise": (("calc", "job_stabilization"),            # 8 稳岗返还
                   ("calc", "graduate_hiring"),              # 8 吸纳高校毕业生
                   ("calc", "internship"),                   # 12 见习单位
                   ("calc", "startup_loan"),                 # 10 小微企业创业担保贷款
                   ("calc", "poverty_hire_training")),       # 16 吸纳建档立卡贫困劳动力
    "poor": (("faq", "rural-precise-poverty-measures"),      # 4 技能扶贫和就业扶贫
             ("faq", "poverty-workshop-jobs"),               # 5 扶贫车间
             ("faq", "migrant-training-target"),             # 17 农民工技能大培训
             ("calc", "poverty_hire_training")),             # 16 企业招用并培训的补助
}

# The names people use for themselves (after "我是/我们是/我家是" and before polite endings).
NAMES: dict[str, tuple[str, ...]] = {
    "herder": ("牧民", "牧区的", "放牧的", "农牧民", "放羊的"),
    "disabled": ("残疾人", "残疾", "残障人士", "残疾人士"),
    "graduate": ("高校毕业生", "大学毕业生", "毕业生", "大学生", "应届毕业生", "应届生"),
    "returnee": ("返乡创业", "回乡创业", "返乡创业的", "回乡创业的", "返乡创业人员", "返乡农民工"),
    "enterprise": ("企业", "老板", "企业主", "公司", "个体户老板", "小微企业"),
    "poor": ("贫困户", "建档立卡户", "建档立卡贫困户", "低保户"),
}
# Glossary words (traditional script) that name a group: herder, start a business, enterprise.
MONGOLIAN = {"牧民": "herder", "创业": "returnee", "企业": "enterprise"}
_SELF = re.compile(r"^(我们|我家|俺们|我|俺|咱)?(是一名|是一个|是个|属于|是)?(.+?)(的|啊|呀|呢|吧|哦)?[。.!！]*$")


def named(text: str) -> str | None:
    """The group a whole message names ("我是牧民", "企业", "我们是贫困户"), else None."""
    t = re.sub(r"\s+", "", text or "")
    if not t or len(t) > 12:
        return None
    m = _SELF.match(t)
    said = m.group(3) if m else t
    for pid, names in NAMES.items():
        if said in names:
            return pid
    return None


def options(pid: str) -> list[tuple[str, str]]:
    return list(PERSONAS.get(pid, ()))


def action_of(kind: str, ref: str) -> Action:
    return ShowFaq(ref) if kind == "faq" else StartCalculator(ref)
