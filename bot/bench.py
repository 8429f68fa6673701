"""`python -m bot bench`: cold start, per-question latency and memory, and how they grow.

Prints:
- cold start of a fresh process (import, open the database, build or load the matcher
  index, answer one question), with and without the on-disk index cache;
- engine latency per question (p50 / p99 / max) over the labelled questions, each from
  a fresh user, several rounds;
- peak resident memory of the process;
- the same with every FAQ phrasing multiplied ×10 (synthetic copies of each entry),
  to show how index build time, latency and memory grow with the pack.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLD_SNIPPET = r"""
import time, json, sys
t0 = time.perf_counter()
from bot.cli import build_engine
from bot.reply import Incoming
t1 = time.perf_counter()
engine = build_engine(log_questions=False)
t2 = time.perf_counter()
reply = engine.handle(Incoming(user="bench", text="大学生见习补贴一个月多少"))
t3 = time.perf_counter()
import resource
print(json.dumps({"import": t1 - t0, "engine": t2 - t1, "first_answer": t3 - t2, "total": t3 - t0,
                  "kind": reply.kind, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def _cold(env: dict[str, str], clear_cache: bool) -> dict:
    if clear_cache:
        from knowledge.matcher import cache_dir

        for path in (cache_dir() or Path("/nonexistent")).glob("index-*.pickle"):
            path.unlink(missing_ok=True)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", COLD_SNIPPET], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    wall = time.perf_counter() - start
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["process_wall"] = wall
    return data


def _latencies(engine, questions: list[str], rounds: int) -> list[float]:
    from .reply import Incoming

    times = []
    for r in range(rounds):
        for i, q in enumerate(questions):
            t = time.perf_counter()
            engine.handle(Incoming(user=f"bench-{r}-{i}", text=q))
            times.append((time.perf_counter() - t) * 1000)
    return times


def _report(label: str, times: list[float]) -> None:
    print(f"  {label}: n={len(times)} p50={_percentile(times, 50):.2f} ms  p99={_percentile(times, 99):.2f} ms  "
          f"max={max(times):.2f} ms  mean={statistics.mean(times):.2f} ms")


def _multiplied(snapshot, factor: int):
    """A snapshot whose FAQ list holds `factor` synthetic copies of every entry."""
    faqs = []
    for copy in range(factor):
        for f in snapshot.faqs:
            if copy == 0:
                faqs.append(f)
            else:  # vary each copy a little so it is a distinct phrasing, not a duplicate
                faqs.append(dataclasses.replace(
                    f, id=f"{f.id}~{copy}", phrasings=tuple(p + f"（第{copy}种问法）" for p in f.phrasings)))
    return dataclasses.replace(snapshot, faqs=faqs, version=-factor)


def run_bench(args: argparse.Namespace) -> int:
    from knowledge.db import Database
    from knowledge.matcher import Matcher
    from knowledge.settings import load_settings

    from .engine import Engine

    rows = [json.loads(l) for l in Path(args.file).read_text(encoding="utf-8").splitlines() if l.strip()]
    questions = [r["q"] for r in rows]
    tmp = tempfile.mkdtemp(prefix="jiuye-bench-")
    url = f"sqlite:///{tmp}/bench.db"
    env = dict(os.environ, JIUYE_DATABASE_URL=url)
    Database(url).init()  # the database exists before timing: cold start is the process, not seeding

    print(f"jiuye bench — {len(questions)} questions from {args.file}, {args.rounds} rounds")
    print("cold start (fresh process: import + open database + matcher index + first answer):")
    for label, clear in (("no index cache", True), ("index cached on disk", False), ("again", False)):
        d = _cold(env, clear)
        print(f"  {label:<22} total {d['total']:.2f} s (import {d['import']:.2f}, engine {d['engine']:.2f}, "
              f"first answer {d['first_answer'] * 1000:.0f} ms), process wall {d['process_wall']:.2f} s, "
              f"peak RSS {d['maxrss_mb']:.0f} MB")

    settings = load_settings({"DATABASE_URL": url})
    engine = Engine(Database(url), settings, log_questions=False)
    snap = engine.snapshot
    units = len(engine.matcher.unit_text)
    print(f"pack: {len(snap.faqs)} FAQ entries, {sum(len(f.phrasings) + 1 for f in snap.faqs)} phrasings, "
          f"{len(snap.clauses)} clauses, {units} indexed units")
    print("engine latency per question (handle(): database state + matcher + reply):")
    _report("×1 ", _latencies(engine, questions, args.rounds))
    match_times = []
    for q in questions * args.rounds:
        t = time.perf_counter()
        engine.matcher.match(q)
        match_times.append((time.perf_counter() - t) * 1000)
    _report("×1 matcher only", match_times)

    big = _multiplied(snap, 10)
    t = time.perf_counter()
    big_matcher = Matcher(big)
    build = time.perf_counter() - t
    engine._snapshot, engine._matcher = big, big_matcher  # swap in the ×10 pack
    print(f"×10 pack: {len(big.faqs)} FAQ entries, {len(big_matcher.unit_text)} indexed units, "
          f"index build {build:.2f} s (uncached)")
    engine.refresh = lambda session=None: big  # keep the synthetic pack for this run
    _report("×10", _latencies(engine, questions, args.rounds))
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0
