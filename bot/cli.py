"""Command line: ask, chat, eval, bench (python -m bot ...)."""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from knowledge.db import Database
from knowledge.settings import load_settings

from .engine import Engine
from .i18n import msg
from .reply import Incoming


def default_questions() -> Path:
    """The public labelled set (155 questions), a copy of which the repository carries in
    tests/data so that a clone stands alone."""
    return Path(__file__).resolve().parent.parent / "tests/data/dev.jsonl"


def build_engine(log_questions: bool = True) -> Engine:
    settings = load_settings()
    return Engine(Database(settings["DATABASE_URL"]), settings, log_questions=log_questions)


def _fresh_user() -> str:
    return "cli:" + uuid.uuid4().hex[:12]


def cmd_ask(args: argparse.Namespace) -> int:
    engine = build_engine()
    if args.jsonl:
        out = sys.stdout
        for line in sys.stdin:
            question = line.rstrip("\n")
            if line.strip().startswith("{"):
                try:  # accept {"q": "..."} / {"text": "..."} lines too
                    obj = json.loads(line)
                    question = obj.get("q") or obj.get("text") or ""
                except json.JSONDecodeError:
                    pass
            reply = engine.handle(Incoming(user=_fresh_user(), text=question, channel="cli"))
            body = reply.to_dict()
            body["text"] = question
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    question = " ".join(args.question)
    if not question:
        print(msg("cli_usage"), file=sys.stderr)
        return 2
    reply = engine.handle(Incoming(user=args.user or _fresh_user(), text=question, channel="cli"))
    if args.json:
        print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_text(reply))
    return 0


def render_text(reply: Any) -> str:
    lines = [reply.as_text()]
    for c in reply.contacts:
        lines.append("  ☎ " + msg("cli_contact", office=c["office"], phone=c.get("phone") or msg("not_published"),
                                    hotline=c.get("hotline", "12333")))
    for link in reply.links:
        lines.append(f"  ↗ {link['title']}: {link['url']}")
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    engine = build_engine()
    user = args.user or _fresh_user()
    print(msg("cli_banner"))
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        print(render_text(engine.handle(Incoming(user=user, text=text, channel="cli"))))


def score(expect: dict[str, Any], reply: dict[str, Any]) -> bool:
    """The scoring rule of eval/README.md."""
    kind = reply.get("kind")
    if "clause" in expect:
        return kind != "fallback" and reply.get("clause") in expect["clause"]
    want = expect.get("kind")
    if want == "fallback":
        return kind == "fallback"
    if want == "smalltalk":
        return kind in ("smalltalk", "menu")
    if want == "contacts":
        return kind == "contacts" or (kind != "fallback" and bool(reply.get("contacts")))
    return False


def group_of(expect: dict[str, Any]) -> str:
    return "in-scope" if "clause" in expect else expect.get("kind", "?")


def evaluate(engine: Engine, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    per_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_style: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for row in rows:
        reply = engine.handle(Incoming(user=_fresh_user(), text=row["q"], channel="cli")).to_dict()
        ok = score(row["expect"], reply)
        for table, key in ((per_group, group_of(row["expect"])), (per_style, row.get("style", "?"))):
            table[key][0] += ok
            table[key][1] += 1
        if not ok:
            misses.append({"q": row["q"], "expect": row["expect"], "got": {k: reply.get(k) for k in ("kind", "clause", "faq_id", "score")}})
    total = sum(v[0] for v in per_group.values()), sum(v[1] for v in per_group.values())
    return {"groups": dict(per_group), "styles": dict(per_style), "overall": total}, misses


def cmd_eval(args: argparse.Namespace) -> int:
    rows = [json.loads(l) for l in Path(args.file).read_text(encoding="utf-8").splitlines() if l.strip()]
    engine = build_engine(log_questions=False)
    if args.calibrate:
        return calibrate(engine, rows)
    report, misses = evaluate(engine, rows)
    if args.misses:
        for m in misses:
            print(json.dumps(m, ensure_ascii=False))
        print()
    def pct(v: list[int]) -> str:
        return f"{v[0]:>3}/{v[1]:<3} {100.0 * v[0] / v[1]:5.1f}%" if v[1] else "  n/a"
    print("by group:")
    for k in ("in-scope", "contacts", "fallback", "smalltalk"):
        if k in report["groups"]:
            print(f"  {k:<12} {pct(report['groups'][k])}")
    print("by style:")
    for k, v in sorted(report["styles"].items()):
        print(f"  {k:<12} {pct(v)}")
    print(f"overall        {pct(list(report['overall']))}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def calibrate(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Accuracy per group at a range of matcher thresholds (how DEFAULT_THRESHOLD was chosen)."""
    current = engine.matcher.threshold
    print("threshold  in-scope   contacts  fallback  smalltalk  overall")
    for step in range(16, 37, 2):
        engine.matcher.threshold = step / 100
        report, _ = evaluate(engine, rows)
        g = report["groups"]
        cells = [f"{g[k][0]}/{g[k][1]}" if k in g else "-" for k in ("in-scope", "contacts", "fallback", "smalltalk")]
        mark = "  <- current" if abs(step / 100 - current) < 1e-9 else ""
        print(f"  {step / 100:.2f}     " + "  ".join(f"{c:<8}" for c in cells) +
              f" {report['overall'][0]}/{report['overall'][1]}{mark}")
    engine.matcher.threshold = current
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    return run_bench(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="肃南县就业政策助手 — command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ask", help="ask one question, or many with --jsonl")
    p.add_argument("question", nargs="*")
    p.add_argument("--jsonl", action="store_true", help="one question per stdin line → one reply object per line")
    p.add_argument("--json", action="store_true", help="print the reply object")
    p.add_argument("--user", help="user id (default: a fresh one)")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("chat", help="interactive session")
    p.add_argument("--user")
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("eval", help="accuracy on a labelled JSONL set")
    p.add_argument("file")
    p.add_argument("--misses", action="store_true", help="print every wrong answer first")
    p.add_argument("--json", help="also write the report to this file")
    p.add_argument("--calibrate", action="store_true", help="accuracy per group across matcher thresholds")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("bench", help="cold start, latency p50/p99, peak memory")
    p.add_argument("--file", default=str(default_questions()))
    p.add_argument("--rounds", type=int, default=3)
    p.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)
