"""Developer aid: top-3 matcher candidates for each labelled question, to tune the matcher.

usage: .venv/bin/python scripts/match_report.py tests/data/dev.jsonl [--wrong]
"""
import json
import sys

from bot.cli import build_engine

engine = build_engine(log_questions=False)
m = engine.matcher
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
wrong_only = "--wrong" in sys.argv
top1 = 0
n = 0
for r in rows:
    res = m.match(r["q"])
    exp = r["expect"].get("clause")
    top = [(c.clause, round(c.score, 3), c.key) for c in res.suggestions[:3]]
    if exp:
        n += 1
        ok = bool(res.best and res.best.clause in exp)
        top1 += ok
    else:
        ok = None
    if wrong_only and ok is not False and not (r["expect"].get("kind") == "fallback"):
        continue
    oos = res.out_of_scope_best
    print(("OK " if ok else "XX " if ok is False else "-- ") + r["q"][:50], r["expect"], top,
          "oos=" + str(oos and (oos.key, round(oos.score, 3))), "OOS!" if res.out_of_scope else "")
print(f"top1 clause accuracy (in-scope): {top1}/{n}")
