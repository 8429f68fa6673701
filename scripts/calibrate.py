"""Developer aid: dev-set accuracy as a function of the matcher threshold.

usage: .venv/bin/python scripts/calibrate.py ../shared/eval/dev.jsonl
"""
import json
import sys

from bot.cli import build_engine, evaluate

rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
engine = build_engine(log_questions=False)
for t in [0.18, 0.2, 0.22, 0.24, 0.26, 0.28, 0.3, 0.32, 0.34]:
    engine.matcher.threshold = t
    report, _ = evaluate(engine, rows)
    g = report["groups"]
    print(t, {k: f"{v[0]}/{v[1]}" for k, v in g.items()}, "overall %d/%d" % tuple(report["overall"]))
