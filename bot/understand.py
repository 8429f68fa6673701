"""What a message is, before any policy matching: a command, a choice, a request to calculate,
for a person, to repeat, a correction, a cancellation, a yes or a no.

Pure functions over the text (no state, no database), so each can be tested on its own and
the router can ask them in the order ARCHITECTURE.md gives. Commands are recognised as the
whole message (with polite particles and punctuation around it), never as a word inside a
question: "重新开始的话要交材料吗" is a question.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from eligibility.answers import NO, YES, clean, parse_option_number
from eligibility.dialogue import CORRECTION_RE, Form

# Particles and politeness around a command ("退出吧", "好的继续", "菜单呢").
_AROUND = re.compile(r"^(请|麻烦|那|那就|好的|好|嗯|哦|行|我要|我想|帮我|给我)+|(吧|了|啦|呀|啊|呢|哈|一下|下|谢谢)+$")

COMMANDS: dict[str, tuple[str, ...]] = {
    "menu": ("菜单", "目录", "主菜单", "帮助", "menu", "help", "功能", "政策问答", "政策清单", "?", "？", "返回主菜单",
             "回主菜单", "首页", "开始"),
    "calc": ("测算", "补贴测算", "计算", "计算器", "算一算", "算算", "资格测算", "calc", "测一测", "测算一下", "算一下",
             "帮我算算", "帮我算一下", "补贴计算", "补贴计算器", "看看我能领多少", "看看能领多少"),
    "back": ("返回", "上一步", "上一题", "back", "回到上一题", "改上一题", "退回", "上一个"),
    "restart": ("重新开始", "重来", "restart", "从头来", "从头开始", "重新算", "重新测算", "再算一次", "再算一遍"),
    "exit": ("退出", "结束", "取消", "不算了", "exit", "quit", "算了", "不测了", "不弄了", "先不弄了", "算了不弄了",
             "不想算了", "先不算了", "别算了", "停止", "不算了谢谢", "算了不算了", "不用算了", "退出测算", "结束测算"),
    "resume": ("继续", "继续测算", "接着算", "接着", "继续算", "接着来", "继续吧", "接着测", "继续刚才的"),
    "contacts": ("办事指南", "服务机构", "联系方式", "电话", "通讯录", "办事机构", "联系电话"),
    "language": ("语言", "language", "蒙古文", "蒙文", "中文", "汉语"),
    "repeat": ("再说一遍", "再说一次", "重复一遍", "重复一下", "刚才那个没看清", "没看清", "没看清楚", "再发一遍",
               "再讲一遍", "重说一遍", "刚才说啥", "刚才说的啥", "说啥了", "再来一遍", "没听清"),
    "human": ("人工", "转人工", "人工服务", "人工客服", "客服", "真人", "找真人", "找人工", "工作人员", "找工作人员",
              "转接人工", "真人客服", "我要人工"),
}
_COMMAND_OF = {word: name for name, words in COMMANDS.items() for word in words}

# A person asked for in other words ("我想找个真人问问", "能不能跟工作人员说", "打电话问谁").
HUMAN_RE = re.compile(r"转人工|人工(?!智能)(服务|客服|坐席)?|真人|客服|(找|跟|和|联系|问问?)(个|一下)?(工作人员|人工|真人)|"
                      r"有没有人(在|接)|打电话问谁|找谁问")
# Cancelling the open dialogue inside a longer message ("先不算这个了，我想……").
CANCEL_RE = re.compile(r"不算了|不弄了|不测了|不想算了|先不算|先不弄|别算了|不用算了|算了吧|换一个|换个(别的)?算")
# Asking to calculate ("帮我算算", "算一下见习补贴", "计算器"), or what one can get ("我能领多少钱").
CALC_WORDS_RE = re.compile(r"算算|算一算|算一下|算下|测算|计算|测一测|测一下|帮我算|给我算|帮忙算|计算器")
CAN_GET_RE = re.compile(r"(能|可以|可|能够|会)(领|拿|得|申请|贷|返|补|给|发)(到|给)?多少|(领|拿|给|补|发|返)多少钱|能返多少|能贷多少"
                        r"|有多少钱|有多少补贴|补贴多少钱|能有多少|有多少")
# "咋算": how much, for one's own case ("合作社想要见习补贴 咋算"); said of the rule alone
# ("这个比例是怎么算的") it asks for the explanation, which the caller decides by said_of_oneself.
HOW_COMPUTED_RE = re.compile(r"咋算|怎么算|如何算|怎样算|咋个算")
# Said of one's own case: a pronoun, one's family, or an organisation stating its own facts
# ("合作社招了几个贫困户…能补多少", "我丫头没工作…能补多少"); "企业交的社保有补贴吗" asks the rule.
PRONOUN_RE = re.compile(r"我|俺|咱|本人|本单位|本公司|丫头|闺女|儿子|女儿|娃|孩子|老婆|媳妇|老公|爱人|家里|亲戚"
                        r"|(合作社|公司|厂|企业|单位|基地|工作室|店).{0,3}(招了|收了|签了|接收了|交了|缴了|开了|办了|有\d|现在|想要|想申请|想领|打算)")
ASK_RE = re.compile(r"吗|么|嘛|\?|？|什么|啥|咋|怎么|怎样|如何|多少|多久|几|谁|哪")
RESUME_RE = re.compile(r"^(继续|接着|接着算|继续算|回到|还是算|再算)")


@lru_cache(maxsize=256)  # pure, and asked of the same message many times per turn
def plain(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").strip().lower()
    t = re.sub(r"[\s，,。.!！~～、;；:：\"'“”]+", "", t)
    return t


def command_of(text: str) -> str | None:
    """The command a whole message gives (menu, calc, back, restart, exit, resume, contacts,
    language, repeat, human), or None."""
    t = plain(text)
    if not t or len(t) > 16:
        return None
    if t in _COMMAND_OF:
        return _COMMAND_OF[t]
    if t.rstrip("?？") in _COMMAND_OF and t.rstrip("?？"):
        return _COMMAND_OF[t.rstrip("?？")]
    bare = _AROUND.sub("", t)
    bare = _AROUND.sub("", bare)
    if bare in _COMMAND_OF:
        return _COMMAND_OF[bare]
    return None


REPEAT_RE = re.compile(r"再说一遍|再说一次|再讲一遍|重复一遍|重复一下|再发一遍|没看清|没听清|没看懂|刚才说的啥|刚才说啥")


def wants_repeat(text: str) -> bool:
    t = plain(text)
    return command_of(text) == "repeat" or (len(t) <= 12 and REPEAT_RE.search(t) is not None)


def wants_human(text: str) -> bool:
    """"转人工", "我想找个真人问问" — but "你是真人吗" asks who the assistant is."""
    t = plain(text)
    if re.search(r"(你|您)是", t):
        return False
    return len(t) <= 24 and (command_of(text) == "human" or HUMAN_RE.search(t) is not None)


def cancels(text: str) -> bool:
    return command_of(text) == "exit" or CANCEL_RE.search(plain(text)) is not None


def asks_to_calculate(text: str) -> bool:
    """"帮我算算", "算一下见习补贴", "我能领多少钱", "计算器"."""
    t = plain(text)
    return (command_of(text) == "calc" or CALC_WORDS_RE.search(t) is not None or CAN_GET_RE.search(t) is not None
            or HOW_COMPUTED_RE.search(t) is not None)


def calculators_named(text: str, forms: dict[str, Form]) -> list[str]:
    """Calculators whose keywords the message uses, longest keyword first (ties: all of them)."""
    t = plain(text)
    scores = {name: max((len(k) for k in form.keywords if k and k in t), default=0) for name, form in forms.items()}
    top = max(scores.values(), default=0)
    return [name for name, score in scores.items() if score and score == top] if top else []


def resumes(text: str) -> bool:
    """"继续", "接着算稳岗返还", "回到刚才的测算"."""
    return command_of(text) == "resume" or RESUME_RE.search(plain(text)) is not None


def corrects(text: str) -> bool:
    """"不对，是4个人", "刚才说错了，合同签的两年"."""
    return CORRECTION_RE.search(clean(text)) is not None and len(CORRECTION_RE.sub("", clean(text))) > 0


def said_of_oneself(text: str) -> bool:
    """About the writer's own case: a pronoun, or their organisation or family."""
    return PRONOUN_RE.search(plain(text)) is not None


def yes_or_no(text: str) -> bool | None:
    """A plain yes or no ("是", "好的", "嗯", "不用了"), else None."""
    t = clean(text).rstrip("吧啊呀的了")
    if not t:
        return None
    if t in YES or t in ("好啊", "好吧", "行吧", "可以的", "要的", "需要的", "是的呢", "继续"):
        return True
    if t in NO or t in ("不了", "不用了", "算了", "不要了", "不继续", "不需要了"):
        return False
    return None


def choice_number(text: str) -> int | None:
    """A bare number answering an offered choice (1, １, 一, 第二个, 3.); "第8条" names a clause."""
    if "条" in text or "款" in text:
        return None
    return parse_option_number(text)


@dataclass(frozen=True)
class Script:
    """What kind of writing a message is in (for the language features)."""

    mongolian: bool
    cyrillic: bool
    tibetan: bool
    legacy_mongolian: bool


def script_of(text: str) -> Script:
    t = text or ""
    return Script(
        mongolian=any("\u1800" <= c <= "\u18af" for c in t),
        cyrillic=any("\u0400" <= c <= "\u04ff" for c in t),
        tibetan=any("\u0f00" <= c <= "\u0fff" for c in t),
        legacy_mongolian=any("\ue234" <= c <= "\ue71d" for c in t),
    )
