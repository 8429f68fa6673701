"""Reply latency of the WeChat endpoint: p50/p99 of signed plain and safe-mode (AES) round trips.

    python -m webhooks.wechat.bench [-n 300]      (also: flask --app webhooks wechat bench)

Each round trip is what WeChat's 5-second rule measures, plus the simulator's own
signing and encryption: sign (encrypt) → POST /wechat through the test client →
verify, decrypt, dedupe, engine, render, encrypt → decrypt the reply. It runs on a
throwaway SQLite database with the bundled pack, questions taken from the FAQ
phrasings, a new MsgId each time (no retry shortcut), after a warm-up.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# The AES test vector from wechatpy's crypto tests (see ../shared/fixtures/wechat/README.md).
# Compatible mode: one account answers both the plain and the AES round trips. No rate limit:
# the bench sends hundreds of messages as one follower.
BENCH_WECHAT = {"TOKEN": "123456", "APP_ID": "wx49f0ab532d5d035a",
                "ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "MODE": "compatible"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(n: int = 300, warmup: int = 20, database_url: str | None = None) -> dict[str, Any]:
    """Measure and return {"plain": {...}, "aes": {...}, "retry": {...}, "first": seconds}."""
    from webhooks import create_app
    from webhooks.db import get_engine

    from .simulator import WeChatSimulator

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"TESTING": True, "DATABASE_URL": url, "WECHAT": BENCH_WECHAT, "RATELIMIT_ENABLED": False})
        with app.app_context():
            started = time.perf_counter()
            questions = [p for f in get_engine().snapshot.faqs for p in (f.question, *f.phrasings)]
        results: dict[str, Any] = {"first": time.perf_counter() - started, "questions": len(questions)}
        for mode in ("plain", "aes"):
            sim = WeChatSimulator(app, aes=mode == "aes", user=f"o_bench_{mode}")
            for i in range(warmup):
                sim.send_text(questions[i % len(questions)])
            times = []
            for i in range(n):
                question = questions[(i * 7) % len(questions)]
                t0 = time.perf_counter()
                reply = sim.send_text(question)
                times.append(time.perf_counter() - t0)
                if not reply.ok or not reply.text:
                    raise RuntimeError(f"bench round trip failed: {reply.status} {reply.body[:200]}")
            results[mode] = summary(times)
        sim = WeChatSimulator(app, aes=True, user="o_bench_retry")
        times = []
        for i in range(min(n, 100)):
            first = sim.send_text(questions[i % len(questions)], msg_id=10_000 + i)
            t0 = time.perf_counter()
            again = sim.send_text(questions[i % len(questions)], msg_id=10_000 + i)
            times.append(time.perf_counter() - t0)
            assert again.text == first.text
        results["retry"] = summary(times)
        app.extensions["jiuye.db"].dispose()
    return results


def summary(times: list[float]) -> dict[str, float]:
    return {"n": len(times), "p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000,
            "max_ms": max(times) * 1000, "mean_ms": statistics.fmean(times) * 1000}


def report(results: dict[str, Any]) -> str:
    lines = [f"first message (engine and matcher build): {results['first'] * 1000:.0f} ms"]
    for mode, label in (("plain", "plain"), ("aes", "AES (safe mode)"), ("retry", "AES retry (stored reply)")):
        r = results[mode]
        lines.append(f"{label:26s} n={r['n']:<4d} p50 {r['p50_ms']:6.1f} ms   p99 {r['p99_ms']:6.1f} ms"
                     f"   max {r['max_ms']:6.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="round trips per mode (default 300)")
    parser.add_argument("--database-url", default=None, help="bench against this database instead of a temp SQLite")
    args = parser.parse_args(argv)
    print(report(run(args.n, database_url=args.database_url)))


if __name__ == "__main__":
    main()
