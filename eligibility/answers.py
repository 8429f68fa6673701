"""Free answers as people type or dictate them: numbers, counts, durations, sums, yes/no, dates.

Understood: "三个月", "3个", "120人", "一百二十", full-width digits, "一年半", "2万", "1年以上",
"是/不是/有/没有/对/没"; emoji and WeChat face codes ([微笑]) are ignored. A rough amount ("十几个",
"一百多", "三四年") is not a number: the caller says a number is needed.

`find_quantities` finds every number in a longer message with its unit and position, so a
dialogue can take facts from a sentence ("我们公司120人 去年没裁员 交了10万失业保险") or an
answer wrapped in words ("留下了2个").

Every pattern here runs in linear time on any input (no nested or overlapping repetition), and
inputs are bounded: an answer longer than MAX_ANSWER characters is not an answer, and a number
of more than MAX_DIGITS digits is refused before any arithmetic.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_ANSWER = 200        # characters: longer messages are not read as an answer to one question
MAX_DIGITS = 15         # a county form never needs more; past it Python's int/float conversions get costly
MAX_MULTIPLIERS = 3     # "1万万万万…" is not a number anyone means
SHORT_BOOL = 5          # characters: a yes/no said in passing ("是的呀", "没有呢")


class AnswerError(ValueError):
    """An answer the current question cannot use; `message` says why and what to send."""

    def __init__(self, message: str = "", unsure: bool = False, vague: bool = False):
        super().__init__(message)
        self.message = message
        self.unsure = unsure  # the person said they do not know (an answer, not a new question)
        self.vague = vague    # a rough amount ("十几个")


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
             "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "亿": 100_000_000}
EDGE_PUNCT = "。.,，、!！~～ 　;；:：\"'“”‘’()（）"
# Words around a number that do not change it ("大概120人左右", "一共有5个", "留下了2个").
LEAD_FILLERS = ("大概有", "大约有", "一共有", "总共有", "一共", "总共", "大概", "大约", "差不多", "约", "共", "有",
                "就", "才", "只有", "只", "是", "今年", "我们", "我", "招了", "留了", "签了", "交了", "干了", "留下了",
                "留下", "留用了", "留用", "来了", "招收了", "接收了", "收了", "缴了", "参保了", "考了", "签的", "签了个")
TAIL_FILLERS = ("以上", "左右", "上下", "了吧", "了", "吧", "啊", "呀", "呢", "哦", "嘛", "的样子", "的", "整")
ZERO_WORDS = {"没有", "没", "无", "零", "一个也没有", "一个都没有", "都没有", "没留", "没招", "一个没留", "0个", "一个没有",
              "一个也没留", "一个都没留", "没留人", "没有留"}
TIME_UNITS = {"个月": "months", "月": "months", "年": "years", "周岁": "age", "岁": "age"}
OTHER_UNITS = ("人", "名", "位", "个", "元钱", "元", "块钱", "块", "次")
UNSURE = ("不清楚", "不知道", "不确定", "不晓得", "说不准", "不好说", "忘了", "记不清", "不懂", "不太清楚", "不太确定",
          "不记得", "记不得", "搞不清", "没数", "不了解", "不太知道", "跳过", "不知")
# "十几个" "一百多人" "好多年" "三四个" "3到5个": a rough quantity, not a number the calculator can use.
# (?<!\d) anchors the range at the start of a digit run, so the pattern is linear on "1111…x".
VAGUE_RE = re.compile(r"[几来余]|(?<![多少])多(?![少久长])|好些|若干|[一二两三四五六七八九][一二两三四五六七八九][个人名位年月岁]"
                      r"|(?<!\d)\d{1,15}[到至~-]\d")
# WeChat sends its faces as [微笑] or /::) ; phones send emoji. Neither changes an answer.
EMOJI_CODE_RE = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|/:[^\s/]{1,8}")
QUESTION_MARKS = ("吗", "?", "？", "么", "是不是", "能不能", "可不可以", "什么", "怎么", "为啥", "为什么", "多少", "哪",
                  "多久", "多长", "咋", "啥", "几时", "谁")

# Mongolian (traditional script) yes and no, as `clean` leaves them (no FVS/MVS), with the variants
# keyboards produce (ᠦᠬᠡᠢ for ᠦᠭᠡᠢ). Unreviewed glossary words: knowledge/data/mongolian-glossary.tsv.
MONGOLIAN_YES = {"\u1832\u1821\u1822\u182e\u1826", "\u1832\u1821\u1836\u1822\u182e\u1826"}
MONGOLIAN_NO = {"\u1826\u182d\u1821\u1822", "\u1826\u182c\u1821\u1822"}
# A Mongolian unit word right after a number, read as its Chinese unit ("8 ᠰᠠᠷ᠎ᠠ" = 8个月).
MONGOLIAN_UNITS = {"\u1830\u1820\u1837\u1820": "个月", "\u1835\u1822\u182f": "年", "\u1828\u1820\u1830\u1824": "岁",
                   "\u182c\u1826\u182e\u1826\u1828": "人", "\u1836\u1824\u1838\u1820\u1828": "元"}
MONGOLIAN_UNIT_RE = re.compile(r"(\d)(" + "|".join(MONGOLIAN_UNITS) + ")")
MONGOLIAN_DIGITS = {0x1810 + i: str(i) for i in range(10)}

YES = {"是", "是的", "对", "对的", "对呀", "有", "有的", "嗯", "恩", "嗯嗯", "好", "好的", "行", "可以", "要", "需要", "yes", "y",
       *MONGOLIAN_YES, "true", "ok", "对头", "是滴", "是呀", "是啊", "对啊", "当然", "肯定", "没错", "正确", "同意", "愿意"}
NO = {"不是", "否", "没有", "没", "无", "不", "不对", "没得", "no", "n", *MONGOLIAN_NO, "false", "不要", "不需要", "没呢", "还没有", "还没",
      "不行", "木有", "不用", "不用了", "不同意", "不愿意"}


@lru_cache(maxsize=256)  # pure, and asked of the same message many times per turn
def clean(text: str) -> str:
    """NFKC, no emoji or face codes, no spaces, lower case, no punctuation at the edges; Mongolian
    digits as ASCII (᠕ = 5), Mongolian variation selectors and separators dropped, a Mongolian unit
    after a number as its Chinese unit."""
    text = EMOJI_CODE_RE.sub("", unicodedata.normalize("NFKC", (text or "").translate(MONGOLIAN_DIGITS)))
    text = "".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn", "Me", "Cs", "Co", "Cc"))
    text = re.sub(r"\s+", "", text.strip().lower())
    text = MONGOLIAN_UNIT_RE.sub(lambda m: m.group(1) + MONGOLIAN_UNITS[m.group(2)], text)
    return text.strip(EDGE_PUNCT + "\u1802\u1803")


# "我这算困难人员吧", "应该符合条件吧": a guess that asks to be confirmed. An answer with 吧 names
# an option ("就业技能培训吧") rather than claiming to count as something.
# "要还几年", "能领几个月": 几 after a verb asks; a bare "几个" or "十几个" is a rough answer.
TAG_QUESTION_RE = re.compile(r"(算|属于|符合|够)[^吧]{1,14}吧$|算不算|够不够|行不行|对不对|"
                             r"(要|能|得|需要|可以|还|贷|领|给|补|交|发)[^，。,]{0,3}(?<![十百千万\d])几(年|个月|天|岁|号|次|成|倍|个)")


def asks_something(text: str) -> bool:
    """Phrased as a question ("见习期最长多久", "是不是要交社保"); "啥也没认定过" is a no."""
    s = re.sub(r"(啥|什么|哪个)(也|都)", "", clean(text))
    return any(mark in s for mark in QUESTION_MARKS) or TAG_QUESTION_RE.search(s) is not None


def is_unsure(text: str) -> bool:
    s = clean(text)
    return any(word in s for word in UNSURE)


def is_vague_quantity(text: str) -> bool:
    """A rough amount ("十几个", "一百多", "三四年", "好多") that cannot be one number."""
    s = clean(text)[:MAX_ANSWER]
    return bool(s) and bool(VAGUE_RE.search(s)) and not any(mark in s for mark in ("吗", "?", "么", "多少", "什么"))


def _strip_fillers(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in LEAD_FILLERS:
            if text.startswith(word) and len(text) > len(word):
                text, changed = text[len(word):], True
        for word in TAIL_FILLERS:
            if text.endswith(word) and len(text) > len(word):
                text, changed = text[: -len(word)], True
    return text


def cn_number(text: str) -> int | None:
    """Chinese numerals to an int: 一百二十 → 120, 十二 → 12, 两千五 → 2500, 一百零五 → 105."""
    if not text or len(text) > 2 * MAX_DIGITS or any(c not in CN_DIGITS and c not in CN_UNITS for c in text):
        return None
    if sum(1 for c in text if c in ("万", "亿")) > MAX_MULTIPLIERS:
        return None
    total, section, digit = 0, 0, None
    last_unit, zero_seen = 1, False
    for c in text:
        if c in CN_DIGITS:
            if digit is not None and not zero_seen:
                return None  # 三四 — two digits with no unit between
            if CN_DIGITS[c] == 0:
                zero_seen, digit = True, None
            else:
                digit = CN_DIGITS[c]
            continue
        unit = CN_UNITS[c]
        if unit >= 10_000:
            total += ((section + (digit or 0)) or 1) * unit
            section = 0
        else:
            section += (1 if digit is None else digit) * unit
        last_unit, digit, zero_seen = unit, None, False
    if digit is not None:
        if not zero_seen and last_unit >= 100:  # 一百二 → 120, 两千五 → 2500, 三万五 → 35000 (colloquial)
            if last_unit >= 10_000:
                total += digit * (last_unit // 10)
            else:
                section += digit * (last_unit // 10)
        else:
            section += digit
    return total + section


def parse_plain_number(text: str) -> float | int | None:
    """A number alone: 120, -3, 1.5, ３, 一百二十, 一点五, 2万, 1.5万, 3千."""
    m = re.fullmatch(r"([-+]?)(\d{1,%d})(?:\.(\d{1,6}))?([十百千万亿]{0,%d})" % (MAX_DIGITS, MAX_MULTIPLIERS), text)
    if m:
        value: float | int = float(f"{m.group(2)}.{m.group(3)}") if m.group(3) else int(m.group(2))
        for c in m.group(4):
            value *= CN_UNITS[c]
        return -value if m.group(1) == "-" else value
    if re.fullmatch(r"[-+]?\d+.*", text):  # digits beyond the bound, or digits then something else
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        w = cn_number(whole) if whole else 0
        if w is None or not frac or len(frac) > 6 or any(c not in CN_DIGITS for c in frac):
            return None
        return float(f"{w}." + "".join(str(CN_DIGITS[c]) for c in frac))
    return cn_number(text)


def parse_quantity(text: str, unit: str = "") -> float | int:
    """A count, a duration or a sum in free words; converts 年 ↔ 月 to the slot's unit."""
    s = _strip_fillers(clean(text)[:MAX_ANSWER + 1])
    if len(s) > MAX_ANSWER:
        raise AnswerError("")
    if s in ZERO_WORDS:
        return 0
    half = False
    said_unit = ""
    if s in ("半年", "半个月", "半月"):
        s, half, said_unit = "0", True, "years" if s == "半年" else "months"
    for pattern, time_unit in ((r"(.+?)个半月", "months"), (r"(.+?)年半", "years"), (r"(.+?)岁半", "age")):
        m = re.fullmatch(pattern, s)
        if m:
            s, half, said_unit = m.group(1), True, time_unit
            break
    for _ in range(2):  # "3个人": 人 then 个
        for word, time_unit in TIME_UNITS.items():
            if s.endswith(word) and len(s) > len(word):
                s, said_unit = s[: -len(word)], time_unit
                break
        else:
            for word in OTHER_UNITS:
                if s.endswith(word) and len(s) > len(word):
                    s = s[: -len(word)]
                    break
    s = _strip_fillers(s)
    value = parse_plain_number(s)
    if value is None:
        raise AnswerError("")
    if half:
        value = value + 0.5
    if unit == "months" and said_unit == "years":
        value = value * 12
    elif unit == "years" and said_unit == "months":
        value = round(value / 12, 2)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


# 没/不 before a verb other than 有/是 (没学, 不去): a no to that verb, not to the question asked
OTHER_NEGATION_RE = re.compile(r"(没|不)(?![有是了呢啊的对错行用要])[\u4e00-\u9fff]")


def parse_bool(text: str, yes_words: tuple[str, ...] = (), no_words: tuple[str, ...] = ()) -> bool:
    s = clean(text)[:MAX_ANSWER]
    stripped = _strip_fillers(s) or s
    for candidate in (s, stripped):
        if candidate in ("1", "一", "第一个"):
            return True
        if candidate in ("2", "二", "第二个"):
            return False
        if candidate in NO or candidate in no_words:
            return False
        if candidate in YES or candidate in yes_words:
            return True
    if asks_something(s):
        raise AnswerError("")
    # The slot's own words anywhere. Where a yes-word and a no-word overlap, the longer one decides,
    # or the one that starts first ("没上班" is a yes to "失业了吗" though it holds the no-word 上班;
    # "不合格" is a no though it holds 合格; "没认定过" starts with 没认定 before 认定过).
    hits = [(m.start(), m.end(), yes) for words, yes in ((no_words, False), (yes_words, True))
            for w in words if w for m in re.finditer(re.escape(w), s)]

    def beaten(a: tuple[int, int, bool]) -> bool:
        return any(b[2] != a[2] and b[0] < a[1] and a[0] < b[1]
                   and (b[1] - b[0] > a[1] - a[0] or (b[1] - b[0] == a[1] - a[0] and b[0] < a[0])) for b in hits)

    answers = {hit[2] for hit in hits if not beaten(hit)}
    if len(answers) == 1:
        return answers.pop()
    if answers:
        raise AnswerError("")  # "合格了 没通过": both, apart
    # A plain yes or no said first, then explained: "没有 都按时发按时交", "有，拖欠过两个月".
    first = re.split(r"[\s,，。.!！;；]+", (text or "").strip(), maxsplit=1)
    if len(first) == 2 and first[1]:
        lead = clean(first[0])
        if lead in NO:
            return False
        if lead in YES and lead not in ("嗯", "恩", "好", "好的", "行", "可以"):
            return True
    # The bare 是/不/没/有 only in a short answer, so "先不算了，帮我算一下……" is not a "no" — and not
    # when the negation is of some other verb: "还没学呢" to "您是失业人员吗" says nothing of work.
    if len(stripped) > SHORT_BOOL or OTHER_NEGATION_RE.search(stripped):
        raise AnswerError("")
    for word in ("不是", "没有", "不", "没", "否"):
        if word in s:
            return False
    for word in ("是", "有", "对"):
        if word in s:
            return True
    raise AnswerError("")


def parse_date(text: str) -> str:
    s = clean(text)[:40]
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?号?", s)
    if not m:
        raise AnswerError("")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise AnswerError("") from None


def parse_option_number(text: str) -> int | None:
    """A bare option number: 2, 第二个, 二, ２., 第3项 (ᠳ Mongolian digits too)."""
    s = clean(text)[:12]
    if re.search(r"[两俩]", s):
        return None  # 两/俩 count ("两个" is two people), they never number a choice (that is 二, 第二)
    s = re.sub(r"^(选|选择|我选)?第?", "", s)
    s = re.sub(r"(个|项|条|种|号|\.)$", "", s)
    if s.isdigit() and len(s) <= 2:
        return int(s)
    if s and all(c in CN_DIGITS or c == "十" for c in s):
        return cn_number(s)
    return None


# ------------------------------------------------------------------------ numbers inside text
@dataclass(frozen=True)
class Quantity:
    """A number found in a message: its value, what it counts, and where it stands."""

    value: float | int
    unit: str          # people | months | years | age | yuan | "" (a bare number)
    start: int
    end: int
    vague: bool = False


_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+(?:点[零一二三四五六七八九]+)?)"
_MULT = r"(?:[十百千万]{0,3})"
_UNIT = r"(?:个半月|个月|年半|岁半|周岁|岁|月|年|元钱|块钱|元|块|人|名|位|个)?"
_VAGUE_TAIL = r"(?:几|多|来|余)?"
QUANTITY_RE = re.compile(rf"(半年|半个月|{_NUM}{_MULT}{_VAGUE_TAIL}{_UNIT})")
_UNIT_KIND = {"个月": "months", "月": "months", "个半月": "months", "年": "years", "年半": "years", "周岁": "age",
              "岁": "age", "岁半": "age", "元钱": "yuan", "块钱": "yuan", "元": "yuan", "块": "yuan", "人": "people",
              "名": "people", "位": "people", "个": "people"}
# A lone Chinese numeral inside a word is not a quantity: 一次性, 统一, 一起, 第一, 万一, 一些.
_WORDY = re.compile(r"^[一二两三四五六七八九十百千万亿]$")


def find_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with the unit written after it (people/months/years/age/yuan).

    Digits always count; Chinese numerals count when a unit follows or they are more than one
    character ("一百二十"). A multiplier (2万, 十万) means yuan when no other unit follows.
    """
    s = clean(text)[: MAX_ANSWER * 3]
    found: list[Quantity] = []
    for m in QUANTITY_RE.finditer(s):
        token = m.group(1)
        if token in ("半年", "半个月"):
            found.append(Quantity(0.5 if token == "半年" else 0.5, "years" if token == "半年" else "months",
                                  m.start(), m.end()))
            continue
        um = re.search(r"(个半月|个月|年半|岁半|周岁|岁|月|年|元钱|块钱|元|块|人|名|位|个)$", token)
        unit_word = um.group(1) if um else ""
        body = token[: len(token) - len(unit_word)]
        vague = bool(re.search(r"[几多来余]$", body))
        body = body.rstrip("几多来余")
        if not body or (not unit_word and _WORDY.match(body)):
            continue
        if re.fullmatch(r"[一二两三四五六七八九]{2}", body) and unit_word:
            vague = True  # 三四个
        if m.end() < len(s) and s[m.end()] in "多余来" and s[m.end():m.end() + 2] != "多少":
            vague = True  # 三年多, 一百来个
        if m.start() > 0 and s[m.start() - 1] == "第":
            continue  # 第一次, 第2个: an order, not an amount
        if token == "一个" and s != token:
            continue  # "问一个问题", "开一个店": an article, not a count
        digits = re.match(r"\d+", body)
        if digits and len(digits.group(0)) > MAX_DIGITS:
            continue  # not a number anyone types on a form
        value = None if vague else parse_plain_number(body)
        if value is None and not vague:
            continue
        half = unit_word in ("个半月", "年半", "岁半")
        if half and value is not None:
            value = value + 0.5
        unit = _UNIT_KIND.get(unit_word, "")
        if not unit and re.search(r"[万千]$", body):
            unit = "yuan"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        found.append(Quantity(value if value is not None else 0, unit, m.start(), m.end(), vague))
    # "3到5个", "三至五年": a range is a rough amount, both ends of it
    for i in range(len(found) - 1):
        a, b = found[i], found[i + 1]
        if b.start == a.end + 1 and s[a.end] in "到至~-":
            found[i] = Quantity(a.value, a.unit, a.start, a.end, True)
            found[i + 1] = Quantity(b.value, b.unit, b.start, b.end, True)
    return found


def convert(q: Quantity, unit: str) -> float | int:
    """A quantity in the slot's unit (年 ↔ 月)."""
    value = q.value
    if unit == "months" and q.unit == "years":
        value = value * 12
    elif unit == "years" and q.unit == "months":
        value = round(value / 12, 2)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def fits_unit(q: Quantity, unit: str) -> bool:
    """Whether a quantity can answer a slot of `unit` (a bare number fits any)."""
    if not q.unit:
        return True
    if unit in ("months", "years"):
        return q.unit in ("months", "years")
    return q.unit == unit
