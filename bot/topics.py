"""Topic memory: a short follow-up is read in the conversation's current topic first.

People ask "那要交什么材料", "去哪办", "最长能领多久", "利息谁出", "我老婆也能吗" right after an
answer. Such a message has no topic words of its own, so the open matcher would pick whatever
its few words resemble (clause 19 for "能领多久"). Here it is matched among the FAQ entries and
the text of the topic's clause first; the open matcher's answer is used only when the message
names a topic of its own or the topic has nothing close.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from knowledge.matcher import Candidate, Matcher, MatchResult

# What a follow-up asks about, when it asks about the procedure rather than the policy.
ASPECTS = (
    ("where", re.compile(r"在哪|在那|哪儿|哪里|去哪|到哪|找谁|找哪|哪个部门|什么部门|啥部门|哪个单位|哪个窗口|窗口|地址|"
                         r"电话|号码|怎么联系|咋联系|联系方式|办公时间|上班时间|几点|周末|周六|乡上能办|镇上能办")),
    ("documents", re.compile(r"材料|资料|证件|手续|带啥|带什么|要带|准备什么|准备啥|准备哪些|提供什么|提交什么|交什么|交啥|"
                             r"证明|身份证|户口本")),
    ("apply", re.compile(r"怎么申请|咋申请|如何申请|怎样申请|怎么办理|咋办理|如何办理|怎么报名|咋报名|如何报名|在哪报名|"
                         r"流程|程序|步骤|怎么领|咋领|如何领|怎么办|咋办|怎么弄|咋弄|去哪申请|申请方式")),
)
# A follow-up is short; a long message carries its own context.
FOLLOW_UP_MAX_CHARS = 20
# A topic candidate this close (relative to the matcher's threshold) answers the follow-up.
WITHIN_RATIO = 0.4
CONTESTED_RATIO = 0.9
# A message with topic words of its own stays in the topic when the topic answers it nearly as
# well as the open matcher ("见习期最长多久" inside the internship dialogue).
AGREE_RATIO = 0.8
# After a calculator's result, its own entries answer a follow-up this nearly as well as the clause's best.
CALCULATOR_PREFERENCE = 0.75
# Words used by the FAQ of this many clauses or more name no topic of their own (补贴, 申请, 条件…).
GENERIC_SPREAD = 6


def aspect_of(text: str) -> str | None:
    for name, pattern in ASPECTS:
        if pattern.search(text):
            return name
    return None


def own_topic_words(matcher: Matcher, text: str) -> list[str]:
    """The policy words of a message that point to a topic (not 补贴/申请/条件, which every topic uses)."""
    words = matcher.policy_words(text)
    spread = matcher.word_spread
    return [w for w in words if 0 < spread.get("w:" + w, 0) < GENERIC_SPREAD or ("w:" + w) not in spread]


@dataclass(frozen=True)
class FollowUp:
    """How a follow-up is answered in the topic: an FAQ entry, the clause, or an aspect reply."""

    clause: str
    faq_id: str | None
    score: float
    aspect: str | None
    candidate: Candidate | None


# "他能领吗", "那我儿子呢", "什么意思": a question about the topic with no words of its own.
ASKS_RE = re.compile(r"吗|么|呢|嘛|\?|？|什么|啥|咋|怎么|多少|多久|几|谁|哪")


def read_in_topic(matcher: Matcher, topic: dict[str, Any] | None, text: str, own: MatchResult) -> FollowUp | None:
    """The follow-up reading of `text` in `topic`, or None when the message stands on its own."""
    if not topic or not topic.get("clause") or own.elsewhere or own.smalltalk:
        return None
    clause = str(topic["clause"])
    compact = re.sub(r"\s+", "", text)
    if len(compact) > FOLLOW_UP_MAX_CHARS:
        return None
    specific = own_topic_words(matcher, text)
    aspect = aspect_of(compact)
    cands = matcher.match_within(text, [clause])
    best = cands[0] if cands else None
    calc = topic.get("calculator")
    if calc:
        # after the graduate-hiring result, "那一年下来一共多少" is about that subsidy, not about
        # the clause's other measure (稳岗返还) that happens to word amounts alike
        ids = [f.id for f in matcher.snapshot.faqs if f.calculator == calc and f.clause == clause]
        mine = matcher.match_within(text, [], ids) if ids else []
        if mine and (best is None or mine[0].score >= best.score * CALCULATOR_PREFERENCE):
            best = mine[0]
    if own.oos_term:
        # "贷款利息谁出" inside the loan dialogue: the topic answers it outright, else it is off topic
        if best is not None and best.score >= matcher.threshold:
            return FollowUp(clause, best.faq_id, best.score, aspect, best)
        return None
    foreign = [w for w in specific if clause not in matcher.word_clauses.get("w:" + w, frozenset({clause}))]
    if foreign:
        return None  # "那个贷款利息谁出" inside the internship dialogue: it names another topic
    if specific and own.best is not None and own.best.clause != clause and own.confident and \
            (best is None or best.score < own.best.score * AGREE_RATIO):
        return None  # "培训补贴多少钱" after a loan answer: a new topic
    elsewhere = own.confident and own.best is not None and own.best.clause != clause
    # A topic candidate answers the follow-up when it is close enough; when the open matcher is
    # sure of another clause ("那困难人员咋认定" after the subsidy result), the topic candidate
    # must be nearly as sure itself ("最长能领多久" after the internship answer still is).
    needed = matcher.threshold * (CONTESTED_RATIO if elsewhere else WITHIN_RATIO)
    if best is not None and best.score >= needed:
        return FollowUp(clause, best.faq_id, best.score, aspect, best)
    if elsewhere:
        return None
    if aspect is not None:
        return FollowUp(clause, None, 0.0, aspect, None)
    if not specific and not (own.confident and own.best is not None and own.best.clause != clause) \
            and ASKS_RE.search(compact):
        return FollowUp(clause, None, 0.0, None, None)  # the topic's clause itself
    return None
