"""The matcher: which FAQ entry or clause answers a resident's message, and how sure.

Pipeline: fold (full-width, traditional, case, punctuation) → homophone repair by
fuzzy pinyin against the domain vocabulary → colloquial synonyms to the plan's
terms → jieba words (with the policy lexicon) plus character bigrams → TF-IDF
cosine against every FAQ phrasing, every clause sentence and every out-of-scope
example → rapidfuzz re-scoring of the closest phrasings. A document's score
blends its best phrasing with its centroid, so an entry whose vocabulary broadly
fits beats one lucky phrasing. Out-of-scope topics compete as documents of their
own: when one wins, or a clear out-of-scope term appears without strong policy
evidence, the reply is a fallback — a wrong clause is worse than no answer.
"""
from __future__ import annotations

import copy
import hashlib
import heapq
import json
import logging
import math
import os
import pickle
import stat
import re
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Iterable

import jieba
from rapidfuzz import fuzz

from . import textnorm
from .service import Snapshot
from .textnorm import CJK, Normalizer, fold

MAX_CHARS = 600            # a message is read up to this length (a story rarely needs more)
DEFAULT_THRESHOLD = 0.26   # calibrated on the dev set (python -m bot eval FILE --calibrate): best in-scope recall with every out-of-scope question still falling back
COMMON_WORD_MIN_FREQ = 100 # words rarer than this in jieba's dictionary are left out of the trimmed copy
# what is left of a greeting or thanks that still asks something
SMALLTALK_ASKS = re.compile(r"吗|么|多少|什么|啥|怎么|咋|哪|谁|能不能|有没有|是不是|可不可以|几")
OOS_TERM_STRONG = 0.55     # an out-of-scope term wins unless the policy match is at least this strong
OOS_DOC_MARGIN = 0.04      # an out-of-scope example must beat the best policy match by this much
VAGUE_WORD_CLAUSES = 5     # a lone word that the FAQ of this many clauses use is too vague to answer
TERM_BOOST = 1.6           # weight of a policy-lexicon word relative to an ordinary word
COVERAGE_WEIGHT = 0.6      # long messages: score by how much of a phrasing they contain
TERM_MISS = 0.9            # an entry that never uses a distinctive policy term of the question ("见习") ranks lower
CITATION = re.compile(r"（依据：[^）]*）")
SENTENCE_SPLIT = re.compile(r"[。；;！!？?]")
# One message is read several times per turn (the question, its topic words, the follow-up in
# its topic, the calculator check): each matcher keeps the analysis of its recent messages —
# enough for the turns in progress on every thread, not meant as a cache of popular questions.
MEMO_SIZE = 64
_SCORE = itemgetter(1)

jieba.setLogLevel(logging.WARNING)
log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """This user's private cache folder (0700, checked owner), or None when it is not safe.

    The index is a pickle: loading one that someone else could have written would run their
    code, so a cache folder another user owns or can write to is not used at all.
    """
    path = Path(tempfile.gettempdir()) / f"jiuye-cache-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        log.warning("not using cache folder %s: not a private folder of this user", path)
        return None
    return path


@lru_cache(maxsize=4)
def _trimmed_dictionary(min_freq: int) -> str:
    """jieba's bundled dictionary without its rarest words, cached on disk.

    Loading the full 350k-word dictionary costs over a second at every cold start;
    the rare words it drops do not matter here because matching also uses bigrams.
    """
    source = Path(jieba.__file__).resolve().parent / "dict.txt"
    digest = hashlib.sha1(f"{source.stat().st_size}:{min_freq}".encode()).hexdigest()[:12]
    folder = cache_dir() or Path(tempfile.mkdtemp(prefix="jiuye-"))
    target = folder / f"jieba-{digest}.txt"
    if not target.exists():
        keep = []
        with source.open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2 and int(parts[1]) >= min_freq:
                    keep.append(line if line.endswith("\n") else line + "\n")
        tmp = target.with_suffix(".part")
        tmp.write_text("".join(keep), encoding="utf-8")
        tmp.replace(target)
    return str(target)


@lru_cache(maxsize=8)
def _tokenizer(terms: tuple[str, ...]) -> jieba.Tokenizer:
    tok = jieba.Tokenizer(dictionary=_trimmed_dictionary(COMMON_WORD_MIN_FREQ))
    tok.tmp_dir = str(cache_dir() or tempfile.mkdtemp(prefix="jiuye-"))  # jieba's own cache, kept private too
    tok.initialize()
    for term in terms:
        tok.add_word(term, freq=200000)
    return tok


@dataclass
class Candidate:
    kind: str           # faq | clause | oos
    key: str            # faq id, clause id or out-of-scope topic id
    clause: str | None
    score: float
    question: str = ""

    @property
    def faq_id(self) -> str | None:
        return self.key if self.kind == "faq" else None


@dataclass
class MatchResult:
    normalized: str
    threshold: float
    best: Candidate | None = None          # best in-scope candidate
    out_of_scope_best: Candidate | None = None
    suggestions: list[Candidate] = field(default_factory=list)
    confident: bool = False
    out_of_scope: bool = False
    smalltalk: str | None = None
    vague: bool = False             # one word that many clauses use ("补贴", "培训"): ask which
    oos_term: str | None = None     # an out-of-scope word the message uses (养老保险, 天气)
    elsewhere: bool = False         # it names another county or province (and no place of Sunan)


@dataclass
class _Doc:
    kind: str
    key: str
    clause: str | None
    question: str
    units: list[int] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """The analysis code as this process loaded it: read once, so a process still running old
    code during an upgrade never files its index under the new code's key."""
    return hashlib.sha1(b"".join(Path(m).read_bytes() for m in (__file__, textnorm.__file__))).hexdigest()


_code_hash()


def _fingerprint(snapshot: Snapshot) -> str:
    """A hash of everything the index is built from (the analysis code included), so a
    cached index is never stale."""
    content = {
        "code": _code_hash(), "min_freq": COMMON_WORD_MIN_FREQ,
        "faqs": [(f.id, f.clause, f.question, f.phrasings, f.answer) for f in snapshot.faqs],  # answers are indexed too
        "clauses": [(c.id, c.title, c.text) for c in snapshot.clauses.values()],
        "offices": sorted((o.name, o.kind, tuple(o.aliases)) for o in snapshot.offices.values()),  # local places
        "terms": sorted(snapshot.terms), "synonyms": sorted(snapshot.synonyms.items()),
        "stopwords": sorted(snapshot.stopwords), "oos": snapshot.out_of_scope, "smalltalk": snapshot.smalltalk,
        # answers are indexed with their figures rendered, so an override must change the key
        "params": sorted((d.name, [(v.effective, v.value, v.source) for v in d.values])
                         for d in snapshot.parameters.defs.values()),
    }
    return hashlib.sha1(json.dumps(content, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


class Matcher:
    @classmethod
    def build(cls, snapshot: Snapshot, threshold: float | None = None, folder: Path | None = None) -> "Matcher":
        """A matcher for the snapshot, loading its index from the disk cache when one matches."""
        folder = folder if folder is not None else cache_dir()
        if folder is None:
            return cls(snapshot, threshold)
        path = folder / f"index-{_fingerprint(snapshot)[:16]}.pickle"
        try:
            with path.open("rb") as fh:
                matcher: Matcher = pickle.load(fh)
            matcher._attach(snapshot, threshold)
            return matcher
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
            pass
        matcher = cls(snapshot, threshold)
        try:
            tmp = path.with_suffix(f".{id(matcher)}.part")
            with tmp.open("wb") as fh:
                pickle.dump(matcher, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
        except OSError as exc:  # a read-only temp dir only costs start-up time
            log.warning("could not cache the matcher index: %s", exc)
        return matcher

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for key in ("tok", "snapshot", "_terms_key", "_normalized", "_words", "_query_vectors", "_matched",
                    "_smalltalk_compact", "_smalltalk_topic"):
            state.pop(key, None)
        state["normalizer"] = self.normalizer.__getstate__()
        return state

    def __setstate__(self, state: dict) -> None:
        norm_state = state.pop("normalizer")
        self.__dict__.update(state)
        self.normalizer = Normalizer.__new__(Normalizer)
        self.normalizer.__setstate__(norm_state)
        self.normalizer.is_common_word = self._is_common_word
        self._init_memo()

    def _init_memo(self) -> None:
        """Per-matcher caches of recent messages (lru_cache is thread-safe; a matcher never changes)."""
        self._normalized = lru_cache(maxsize=MEMO_SIZE)(self.normalize)
        self._words = lru_cache(maxsize=MEMO_SIZE)(self._word_tuple)
        self._query_vectors = lru_cache(maxsize=MEMO_SIZE)(self._query_vector)
        self._matched = lru_cache(maxsize=MEMO_SIZE)(self._match)
        # The small-talk patterns without their spaces, computed once rather than per message.
        self._smalltalk_compact = [(intent, [p.replace(" ", "") for p in patterns])
                                   for intent, patterns in self.smalltalk]
        by_intent = dict(self._smalltalk_compact)
        self._smalltalk_topic = [
            (intent, [p for p in by_intent.get(intent, []) if len(p) >= 2], when, unless,
             [w for w in sorted(when, key=len, reverse=True) if any(u in w for u in unless)])
            for intent, (when, unless) in self.smalltalk_with_topic.items()]

    def _attach(self, snapshot: Snapshot, threshold: float | None) -> None:
        self.snapshot = snapshot
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.tok = _tokenizer(self.terms_key)

    def __init__(self, snapshot: Snapshot, threshold: float | None = None):
        self.snapshot = snapshot
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.stopwords = {fold(w) for w in snapshot.stopwords if fold(w)}
        terms = {fold(t) for t in snapshot.terms} | {fold(v) for v in snapshot.synonyms.values()}
        terms |= {fold(o.name) for o in snapshot.offices.values()}
        terms = {t for t in terms if t and len(t) >= 2}
        self.terms_key = tuple(sorted(terms))
        self.term_set = frozenset(terms)
        self.tok = _tokenizer(self.terms_key)
        # Homophone repair only aims at policy terms: repairing towards any word of the
        # plan's prose turns ordinary speech into nonsense (我想 → 我县).
        self.normalizer = Normalizer(snapshot.synonyms, terms, self._is_common_word)
        self.oos_terms = sorted({fold(t) for topic in snapshot.out_of_scope for t in topic.get("terms") or []
                                 if fold(t)}, key=len, reverse=True)
        self.decisive_terms = sorted({fold(t) for topic in snapshot.out_of_scope if topic.get("decisive")
                                      for t in topic.get("terms") or [] if fold(t)}, key=len, reverse=True)
        self.decisive_set = frozenset(self.decisive_terms)
        self.decisive_topics = frozenset(topic["id"] for topic in snapshot.out_of_scope if topic.get("decisive"))
        # A bare place name ("兰州的就业政策", "外省的稳岗返还") is about that place's policy only when
        # nothing in the message says it is where the person works, studies or comes from.
        self.weak_decisive_terms = sorted({fold(t) for topic in snapshot.out_of_scope if topic.get("decisive")
                                           for t in topic.get("weak_terms") or [] if fold(t)}, key=len, reverse=True)
        self.person_words = sorted({fold(w) for topic in snapshot.out_of_scope if topic.get("decisive")
                                    for w in topic.get("person_words") or [] if fold(w)}, key=len, reverse=True)
        # ...but a place's name followed by a word about its rules ("兰州市对高校毕业生…",
        # "新疆那边的政策") asks about that place whatever the person did there.
        cues = sorted({fold(w) for topic in snapshot.out_of_scope if topic.get("decisive")
                       for w in topic.get("policy_cues") or [] if fold(w)}, key=len, reverse=True)
        self.elsewhere_policy_re = re.compile(
            # "去新疆有什么补贴" is about going there: no movement word just before the place
            r"(?<![去到在从来]) ?(?:" + "|".join(map(re.escape, self.weak_decisive_terms)) + r") ?(?:市|省|县|区|那边|那儿|那里|当地)? ?(?:"
            + "|".join(map(re.escape, cues)) + ")") if cues and self.weak_decisive_terms else None
        # An out-of-scope topic yields to the plan when the message has none of its terms but a word
        # of a group or measure the plan covers ("残疾人找工作" is clause 18, not disability benefits).
        self.oos_yields = {topic["id"]: ([fold(t) for t in (*(topic.get("terms") or []),
                                                             *(topic.get("stays_with") or [])) if fold(t)],
                                         [fold(w) for w in topic.get("yields_to") or [] if fold(w)])
                           for topic in snapshot.out_of_scope}
        local = {"肃南", "裕固"}
        for office in snapshot.offices.values():
            if office.kind == "township":
                local.update(fold(a) for a in (office.name, *office.aliases) if len(fold(a)) >= 2 and "政府" not in a)
        self.local_places = sorted(local, key=len, reverse=True)
        self.smalltalk = [(intent["id"], sorted({fold(p) for p in intent.get("patterns") or [] if fold(p)},
                                                key=len, reverse=True))
                          for intent in snapshot.smalltalk]
        # thanks or praise that names a topic ("见习补贴的事我明白了，谢谢") is still small talk when it
        # says it understood or liked the answer and asks nothing
        self.smalltalk_with_topic = {
            intent["id"]: ([fold(w) for w in (intent.get("with_topic") or {}).get("when") or [] if fold(w)],
                           [fold(w) for w in (intent.get("with_topic") or {}).get("unless") or [] if fold(w)])
            for intent in snapshot.smalltalk if intent.get("with_topic")}
        self._init_memo()
        self._build()

    # -- analysis -------------------------------------------------------------------
    def _is_common_word(self, piece: str) -> bool:
        return self.tok.FREQ.get(piece, 0) > 0

    def normalize(self, text: str) -> str:
        return self.normalizer(text)

    def tokens(self, norm: str) -> list[str]:
        return [w for w in self.tok.lcut(norm, HMM=False) if w.strip() and w not in self.stopwords]

    def _word_tuple(self, norm: str) -> tuple[str, ...]:
        """`tokens` of a normalised message, as a tuple (cached in `_words`)."""
        return tuple(self.tokens(norm))

    def _query_vector(self, norm: str) -> dict[str, float]:
        """The TF-IDF vector of a normalised message (cached in `_query_vectors`; never modified)."""
        return self._vector(self.features(norm, query=True)) if norm else {}

    def features(self, norm: str, query: bool = False) -> Counter:
        feats: Counter = Counter()
        words = self._words(norm) if query else self.tokens(norm)
        for w in words:
            if query and w.isascii() and w.isalpha() and w not in self.term_set:
                # an English word the lexicon did not map to a plan term ("what", "county")
                # would only dilute a question's score against a Chinese index; in the index
                # it stays, so an entry's few English words do not leave it one bare place name
                continue
            if len(w) >= 2 or w.isdigit():
                # policy terms carry the topic; other words (开个, 知道) mostly carry tone
                feats["w:" + w] += TERM_BOOST if w in self.term_set else 1.0
        # bigrams over the text with filler words removed, so 那个/就是 add no noise
        for run in CJK.findall("".join(w for w in words)):
            for i in range(len(run) - 1):
                feats["b:" + run[i:i + 2]] += 0.5
        return feats

    # -- index ----------------------------------------------------------------------
    def _build(self) -> None:
        snap = self.snapshot
        units_text: list[str] = []
        units_doc: list[int] = []
        self.docs: list[_Doc] = []

        def add_doc(doc: _Doc, texts: Iterable[str]) -> None:
            idx = len(self.docs)
            self.docs.append(doc)
            for t in texts:
                norm = self.normalize(t)
                if norm:
                    doc.units.append(len(units_text))
                    units_text.append(norm)
                    units_doc.append(idx)

        # The answer is indexed too (figures rendered at their latest values): residents
        # quote amounts and the plan's own words back ("1到3万", "返还失业保险费").
        latest = self._latest_view()
        for f in snap.faqs:
            answer = CITATION.sub("", latest.render(f.answer)) if latest else ""
            add_doc(_Doc("faq", f.id, f.clause, f.question), [f.question, *f.phrasings, answer])
        for c in snap.clauses.values():
            sentences = [s for s in SENTENCE_SPLIT.split(c.text) if len(s.strip()) >= 4]
            add_doc(_Doc("clause", c.id, c.id, c.title), [c.title, *sentences])
        for topic in snap.out_of_scope:
            add_doc(_Doc("oos", topic["id"], None, topic.get("label", "")),
                    [*(topic.get("phrasings") or []), " ".join(topic.get("terms") or [])])

        raw = [self.features(t) for t in units_text]
        df: Counter = Counter()
        for feats in raw:
            df.update(feats.keys())
        n = len(raw)
        self.idf = {f: math.log((n + 1) / (c + 1)) + 1.0 for f, c in df.items()}
        self.default_idf = math.log(n + 1) + 1.0
        self.unit_vecs = [self._vector(f) for f in raw]
        self.unit_text = units_text
        self.unit_doc = units_doc
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for ui, vec in enumerate(self.unit_vecs):
            for f, w in vec.items():
                self.postings[f].append((ui, w))
        # The clauses whose FAQ phrasings use each word: a one-word question made of a word
        # that many clauses share ("补贴", "培训") is too vague to answer with one clause.
        word_clauses: dict[str, set] = defaultdict(set)
        for doc in self.docs:
            if doc.kind == "faq":
                for ui in doc.units[:-1]:  # the last unit is the answer, whose wording is generic
                    for f in self.unit_vecs[ui]:
                        if f.startswith("w:"):
                            word_clauses[f].add(doc.clause)
        self.word_spread = {f: len(c) for f, c in word_clauses.items()}
        self.word_clauses = {f: frozenset(c) for f, c in word_clauses.items()}
        for doc in self.docs:
            acc: Counter = Counter()
            for ui in doc.units:
                acc.update(self.unit_vecs[ui])
            norm = math.sqrt(sum(v * v for v in acc.values())) or 1.0
            doc.centroid = {f: v / norm for f, v in acc.items()}

    def _latest_view(self):
        """Parameters as of the newest effective date in the pack (for indexing answers)."""
        days = [v.effective for d in self.snapshot.parameters.defs.values() for v in d.values]
        return self.snapshot.parameters.at(max(days)) if days else None

    def _vector(self, feats: Counter) -> dict[str, float]:
        vec = {f: (1.0 + math.log(tf)) * self.idf.get(f, self.default_idf) if tf >= 1 else tf * self.idf.get(f, self.default_idf)
               for f, tf in feats.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {f: v / norm for f, v in vec.items()}

    # -- matching -------------------------------------------------------------------
    def _candidates(self, norm: str, qvec: dict[str, float], docs: frozenset[int] | None = None) -> list[Candidate]:
        """Every document scored against the query vector (only `docs` when given), best first."""
        unit_scores: dict[int, float] = defaultdict(float)
        postings, unit_doc = self.postings, self.unit_doc
        for f, w in qvec.items():
            if docs is None:
                for ui, uw in postings.get(f, ()):
                    unit_scores[ui] += w * uw
            else:
                for ui, uw in postings.get(f, ()):
                    if unit_doc[ui] in docs:
                        unit_scores[ui] += w * uw
        # rapidfuzz over the closest phrasings repairs what tokenisation misses (typos, order)
        compact_q = norm.replace(" ", "")
        # the 40 best, as sorted(…, reverse=True)[:40] would give them (ties in the same order)
        top_units = heapq.nlargest(40, unit_scores.items(), key=_SCORE)
        doc_best: dict[int, float] = {}
        unit_text, unit_vecs, long_query = self.unit_text, self.unit_vecs, len(qvec) > 12
        for ui, cos in top_units:
            ratio = fuzz.ratio(compact_q, unit_text[ui].replace(" ", "")) / 100.0
            s = 0.8 * cos + 0.2 * ratio
            if long_query:
                # A long message (a story, voice input) dilutes cosine; what matters is how
                # much of a phrasing it contains.
                coverage = sum(uw * uw for f, uw in unit_vecs[ui].items() if f in qvec)
                s = max(s, COVERAGE_WEIGHT * coverage)
            d = unit_doc[ui]
            if s > doc_best.get(d, 0.0):
                doc_best[d] = s
        cands: list[Candidate] = []
        rank: dict[int, float] = {}
        # The question's distinctive policy terms (见习, 残疾 — not 就业 or 补贴, which most clauses
        # use): an entry that never uses one ranks below one that does ("见习最长多久" is the
        # internship's duration, not the unemployment benefit's), its score (the confidence) unchanged.
        topic_terms = [f for f in qvec if f.startswith("w:") and f[2:] in self.term_set
                       and self.word_spread.get(f, 0) < VAGUE_WORD_CLAUSES]
        qitems, all_docs = tuple(qvec.items()), self.docs
        for d, s_max in doc_best.items():
            doc = all_docs[d]
            centroid = doc.centroid.get
            s_cent = sum(w * centroid(f, 0.0) for f, w in qitems)
            score = 0.7 * s_max + 0.3 * s_cent
            if doc.kind == "clause":
                score *= 0.9  # clause text is formal; prefer an FAQ written for residents
            cand = Candidate(doc.kind, doc.key, doc.clause, score, doc.question)
            missing = sum(1 for f in topic_terms if f not in doc.centroid) if doc.kind != "oos" else 0
            rank[id(cand)] = score * TERM_MISS ** missing
            cands.append(cand)
        cands.sort(key=lambda c: rank[id(c)], reverse=True)
        return cands

    def match_within(self, text: str, clauses: Iterable[str], faq_ids: Iterable[str] = ()) -> list[Candidate]:
        """Candidates among the FAQ entries and clause text of `clauses` (and the entries
        `faq_ids`), best first: how a follow-up is read in the conversation's topic."""
        wanted, ids = set(clauses), set(faq_ids)
        docs = frozenset(i for i, d in enumerate(self.docs)
                         if d.kind != "oos" and (d.clause in wanted or (d.kind == "faq" and d.key in ids)))
        norm = self._normalized(text[:MAX_CHARS])
        if not norm or not docs:
            return []
        return self._candidates(norm, self._query_vectors(norm), docs)

    def lone_word(self, text: str) -> str | None:
        """The one policy word a message consists of ("贷款", "补贴"), or None."""
        norm = self._normalized(text[:MAX_CHARS])
        words = [w for w in self._words(norm) if len(w) >= 2 or w.isdigit()]
        return words[0] if len(words) == 1 and words[0] in self.term_set else None

    def clauses_using(self, word: str) -> frozenset:
        """The clauses whose FAQ phrasings use `word`."""
        return self.word_clauses.get("w:" + word, frozenset())

    def policy_words(self, text: str) -> list[str]:
        """The policy-lexicon words a message uses (after synonyms and homophone repair)."""
        norm = self._normalized(text[:MAX_CHARS])
        return [w for w in self._words(norm) if w in self.term_set]

    def match(self, text: str) -> MatchResult:
        """The best entries for a message and how sure (a copy: the caller may change it)."""
        found = self._matched(text[:MAX_CHARS])
        result = copy.copy(found)
        result.best, result.out_of_scope_best = copy.copy(found.best), copy.copy(found.out_of_scope_best)
        result.suggestions = [copy.copy(c) for c in found.suggestions]
        return result

    def _match(self, text: str) -> MatchResult:
        norm = self._normalized(text)
        result = MatchResult(normalized=norm, threshold=self.threshold)
        qvec = self._query_vectors(norm)
        cands = self._candidates(norm, qvec)
        folded = fold(text)
        in_scope = [c for c in cands if c.kind != "oos"]
        # a message naming 肃南 or a township is no other place's question however it resembles
        # one: those examples word the plan's own measures ("临泽的创业贷款能贷多少")
        local = any(p in folded for p in self.local_places)
        oos = [c for c in cands if c.kind == "oos" and not (local and c.key in self.decisive_topics)
               and not self._yields(c.key, folded)]
        result.best = in_scope[0] if in_scope else None
        result.out_of_scope_best = oos[0] if oos else None
        # "Did you mean": the best entry of each of the top clauses, so three choices are
        # three different policies rather than three wordings of one
        seen_clauses: set[str | None] = set()
        for c in in_scope:
            if c.clause in seen_clauses:
                continue
            seen_clauses.add(c.clause)
            result.suggestions.append(c)
            if len(result.suggestions) >= 3:
                break
        best_score = result.best.score if result.best else 0.0
        oos_score = result.out_of_scope_best.score if result.out_of_scope_best else 0.0
        # another county named beside 肃南 or one of its townships ("户口在外县，在肃南常住")
        # is about living here, so its name is no out-of-scope signal
        oos_term = next((t for t in self.oos_terms if t in folded and not (local and t in self.decisive_set)), None)
        elsewhere = not local and (any(t in folded for t in self.decisive_terms) or (
            any(t in folded for t in self.weak_decisive_terms) and not any(w in folded for w in self.person_words))
            or (self.elsewhere_policy_re is not None and self.elsewhere_policy_re.search(folded) is not None))
        result.oos_term, result.elsewhere = oos_term, elsewhere
        if elsewhere or oos_score > best_score + OOS_DOC_MARGIN or (oos_term and best_score < OOS_TERM_STRONG):
            result.out_of_scope = True
        words = [f for f in qvec if f.startswith("w:")]
        vague = len(words) <= 1 and all(self.word_spread.get(f, 0) >= VAGUE_WORD_CLAUSES for f in words)
        result.vague = vague and bool(words)
        result.confident = best_score >= self.threshold and not result.out_of_scope and not vague
        result.smalltalk = self._smalltalk(folded, best_score)
        return result

    def _yields(self, topic_id: str, folded: str) -> bool:
        """Whether an out-of-scope topic gives way to the plan for this message: none of its own
        terms or `stays_with` words, but a word of a group or measure the plan covers (`yields_to`)."""
        terms, plan_words = self.oos_yields.get(topic_id, ((), ()))
        return bool(plan_words) and not any(t in folded for t in terms) and any(w in folded for w in plan_words)

    def _smalltalk(self, folded: str, best_score: float) -> str | None:
        """Greetings, thanks, "who are you": the whole message, or a short one with no policy in it."""
        compact = folded.replace(" ", "")
        if not compact:
            return None
        for intent, patterns, when, unless, when_with_unless in self._smalltalk_topic:
            # the `when` phrase may itself hold an `unless` word ("知道咋弄了" is no question)
            rest = compact
            for w in when_with_unless:
                rest = rest.replace(w, " ")
            if (any(p in compact for p in patterns)
                    and any(w in compact for w in when) and not any(u in rest for u in unless)):
                return intent
        for intent, patterns in self._smalltalk_compact:
            rest = compact
            hit = False
            longest = 0
            for p in patterns:
                if p and p in rest and (len(p) >= 2 or rest == p):
                    rest = rest.replace(p, "")
                    hit = True
                    longest = max(longest, len(p))
            if not hit:
                continue
            rest = "".join(ch for ch in rest if ch not in "啊呀吧呢哈啦嘛了的哦噢")
            if intent in ("ack", "thanks", "bye") and len(rest) >= 3 and SMALLTALK_ASKS.search(rest):
                continue  # "好的，还有别的能申请的吗" acknowledges, then asks
            if len(rest) <= 2 or (len(compact) <= 14 and best_score < self.threshold):
                return intent
            # a specific pattern (机器人, 你是谁, 谢谢你) in a short message without strong policy content
            if longest >= 3 and len(compact) <= 20 and best_score < self.threshold * 1.5:
                return intent
        return None
