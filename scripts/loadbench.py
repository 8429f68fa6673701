"""Load benchmark of the production set-up: gunicorn (the repo's gunicorn.conf.py) on PostgreSQL
under four concurrent wrk streams, plus the first-request time of a new worker.

    .venv/bin/python scripts/loadbench.py                         # 2 workers, 30 s, prints a table
    .venv/bin/python scripts/loadbench.py --write docs/BENCHMARKS.md   # …and updates the doc
    .venv/bin/python scripts/loadbench.py --workers 3 --threads 4 --worker-class gthread

What it does (only 127.0.0.1 and the local PostgreSQL are contacted):

1. installs Debian's `wrk` if it is missing (apt-get);
2. creates a throwaway PostgreSQL database (JIUYE_TEST_PG_ADMIN_URL, default
   postgresql+psycopg://postgres@127.0.0.1:5432/test) and migrates + seeds it with the app's
   own command (`flask --app webhooks db upgrade`, or `init-db` where that is absent);
3. first request of a new worker: gunicorn with ONE worker — (a) time the first
   POST /api/v1/ask once /healthz answers, (b) `kill -TERM` the worker and time the request
   the replacement serves (it waits for the replacement to boot);
4. gunicorn with --workers (default 2), JIUYE_ENV=production, a random SECRET_KEY, an API key,
   a WeChat Token + EncodingAESKey (safe mode) and JIUYE_RATELIMIT_ENABLED=0 (the bench's
   few clients would otherwise be rate limited: the numbers are without rate limiting);
5. a warm-up, then in one time window four wrk processes, each with its own Lua script
   (scripts/wrk/) and latency report:
     questions  POST /api/v1/ask, the held-out questions (tests/data/heldout-eval*.jsonl, 452), a
                pool of users of the API key;
     dialogue   one connection per wrk thread, each playing people through the internship
                subsidy calculator turn by turn (the turns are discovered by playing it once);
     wechat     signed, AES-encrypted deliveries pre-generated here, each with its own
                nonce/timestamp/MsgId;
     healthz    GET /healthz on one connection;
   meanwhile a sampler asks a known question every second and checks the answer is real;
6. prints the table: requests/s, p50/p95/p99, errors and non-2xx per stream, the reply kinds,
   CPU seconds used by gunicorn / PostgreSQL / wrk, the load average, the machine and versions.

wrk, PostgreSQL and gunicorn share the machine's cores; the table says how much CPU each used.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from probe import Spawned  # noqa: E402  (the probe's throwaway-database helpers)

VENV_BIN = Path(sys.executable).parent
LUA = REPO / "scripts" / "wrk"
# Every held-out question (452 distinct texts): more than the matcher keeps from recent messages,
# so the questions stream is not answered from that memo.
QUESTION_FILES = sorted((REPO / "tests" / "data").glob("heldout-eval*.jsonl"))
SAMPLE_QUESTION, SAMPLE_EXPECT = "见习补贴一个月多少", "第12条"
DIALOGUE_OPENING = "帮我算算见习补贴"
BEGIN, END = "<!-- loadbench:begin -->", "<!-- loadbench:end -->"


# -- the machine ------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    gunicorn = subprocess.run([str(VENV_BIN / "gunicorn"), "--version"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "commit": commit + ("+changes" if dirty else ""), "python": platform.python_version(),
            "gunicorn": (gunicorn.stdout or gunicorn.stderr).strip().split()[-1].strip("()")}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing Debian wrk (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


# -- CPU accounting: who used the cores during the run ----------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def postgres_pids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("postgres"):
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


def busy_seconds() -> float:
    """All CPUs' non-idle time since boot (every process on the machine)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


class CpuMeter:
    """CPU seconds of gunicorn (master + workers), PostgreSQL and wrk between start() and stop()."""

    def __init__(self, master: int):
        self.master = master
        self.seen: dict[int, tuple[str, float, float]] = {}   # pid -> (group, first, last)
        self.stop_event = threading.Event()

    def _sample(self, wrk_pids: list[int]) -> None:
        groups = {self.master: "gunicorn", **{p: "gunicorn" for p in children(self.master)},
                  **{p: "postgres" for p in postgres_pids()}, **{p: "wrk" for p in wrk_pids}}
        for pid, group in groups.items():
            now = cpu_seconds(pid)
            first = self.seen.get(pid, (group, now, now))[1]
            self.seen[pid] = (group, first, now)

    def run(self, wrk_pids: list[int], seconds: float) -> dict[str, float]:
        busy0, t0 = busy_seconds(), time.monotonic()
        self._sample(wrk_pids)
        while time.monotonic() - t0 < seconds:
            time.sleep(0.5)
            self._sample(wrk_pids)
        wall = time.monotonic() - t0
        out: dict[str, float] = {"wall": wall, "machine_busy": busy_seconds() - busy0}
        for group, first, last in self.seen.values():
            out[group] = out.get(group, 0.0) + (last - first)
        out["other"] = out["machine_busy"] - sum(out.get(g, 0.0) for g in ("gunicorn", "postgres", "wrk"))
        return out


# -- the server ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.spawned = Spawned()
        self.tmp = Path(self.spawned.tmp.name)
        self.api_key = "bench-" + secrets.token_urlsafe(24)
        self.token = "bench" + uuid.uuid4().hex[:10]
        self.aes_key = base64.b64encode(os.urandom(32)).decode()[:43]
        self.app_id = "wxbench000000001"
        self.url = ""
        self.env: dict[str, str] = {}

    def prepare_database(self) -> None:
        self.url = self.args.database_url or self.spawned.database("postgres")
        base = {k: v for k, v in os.environ.items() if not k.startswith("JIUYE_")}
        self.env = {
            **base, "JIUYE_CONFIG": str(REPO / "tests" / "data" / "empty-config.toml"),
            "JIUYE_DATABASE_URL": self.url, "JIUYE_ENV": "production",
            "JIUYE_SECRET_KEY": secrets.token_urlsafe(32), "JIUYE_API_KEYS": f"bench:{self.api_key}",
            "JIUYE_WECHAT__TOKEN": self.token, "JIUYE_WECHAT__ENCODING_AES_KEY": self.aes_key,
            "JIUYE_WECHAT__APP_ID": self.app_id, "JIUYE_WECHAT__MODE": "safe",
            "JIUYE_RATELIMIT_ENABLED": "0",
        }
        flask = str(VENV_BIN / "flask")
        has_upgrade = subprocess.run([flask, "--app", "webhooks", "db", "--help"], cwd=REPO, env=self.env,
                                     capture_output=True).returncode == 0
        command = ["db", "upgrade"] if has_upgrade else ["init-db"]
        done = subprocess.run([flask, "--app", "webhooks", *command], cwd=REPO, env=self.env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        self.migrate_command = "flask --app webhooks " + " ".join(command)

    def gunicorn_args(self, workers: int, port: int) -> list[str]:
        cmd = [str(VENV_BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers)]
        if self.args.threads:
            cmd += ["--threads", str(self.args.threads)]
        if self.args.worker_class:
            cmd += ["--worker-class", self.args.worker_class]
        if self.args.preload is True:
            cmd += ["--preload"]
        return cmd + ["webhooks:create_app()"]

    def gunicorn_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.args.preload is False:
            env["JIUYE_PRELOAD"] = "0"
        return env

    def effective_config(self) -> dict[str, str]:
        """What gunicorn will run with (these arguments on top of gunicorn.conf.py)."""
        out = subprocess.run([*self.gunicorn_args(self.args.workers, 8000)[:1], "--print-config",
                              *self.gunicorn_args(self.args.workers, 8000)[1:]], cwd=REPO, env=self.gunicorn_env(),
                             capture_output=True, text=True).stdout
        found = dict(re.findall(r"^(\w+)\s+= (.*)$", out, re.M))
        return {k: found.get(k, "?") for k in ("workers", "threads", "worker_class", "preload_app")}

    def launch(self, workers: int, log_name: str) -> tuple[subprocess.Popen, str, Path]:
        port = free_port()
        log = self.tmp / log_name
        cmd = self.gunicorn_args(workers, port)
        env = self.gunicorn_env()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.spawned.procs.append(proc)  # Spawned.stop ends its process group, then drops the database
        return proc, f"http://127.0.0.1:{port}", log

    @staticmethod
    def wait_ready(proc: subprocess.Popen, base: str, workers: int, log: Path, timeout: float = 180) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                if requests.get(base + "/healthz", timeout=30).ok and len(children(proc.pid)) == workers:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SystemExit(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-3000:]}")

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this script started
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    def ask(self, base: str, text: str, user: str, timeout: float = 60) -> tuple[float, dict]:
        t0 = time.perf_counter()
        r = requests.post(base + "/api/v1/ask", json={"text": text, "user": user}, timeout=timeout,
                          headers={"Authorization": f"Bearer {self.api_key}", "Connection": "close"})
        elapsed = time.perf_counter() - t0
        r.raise_for_status()
        return elapsed, r.json()

    # -- 3. the first request of a new worker ------------------------------------------------------
    def first_requests(self) -> dict[str, float]:
        proc, base, log = self.launch(1, "first-request.log")
        out: dict[str, float] = {}
        try:
            t_launch = time.monotonic()
            out["boot_s"] = self.wait_ready(proc, base, 1, log)
            out["first_ask_s"], body = self.ask(base, SAMPLE_QUESTION, "first-1")
            assert SAMPLE_EXPECT in body["reply"], body
            out["second_ask_s"], _ = self.ask(base, "创业担保贷款能贷多少", "first-2")
            out["launch_to_answer_s"] = time.monotonic() - t_launch - out["second_ask_s"]
            # A replacement worker: TERM the only worker; the next request waits for its successor.
            (worker,) = children(proc.pid)
            os.kill(worker, signal.SIGTERM)
            t0 = time.monotonic()
            while worker in children(proc.pid) or not children(proc.pid):
                time.sleep(0.005)
                if time.monotonic() - t0 > 60:
                    raise SystemExit("the master did not replace the worker")
            spawned_after = time.monotonic() - t0
            elapsed, body = self.ask(base, SAMPLE_QUESTION, "first-3")
            assert SAMPLE_EXPECT in body["reply"], body
            out["replacement_spawned_after_s"] = spawned_after
            out["replacement_first_ask_s"] = elapsed
            ready = re.findall(r"worker (\d+) ready ([\d.]+) s after fork", log.read_text(errors="replace"))
            if ready:
                out["worker_warm_s"] = float(ready[-1][1])
        finally:
            self.stop(proc)
        return out

    # -- 5. the streams ------------------------------------------------------------------------------
    def write_inputs(self, base: str, deliveries: int) -> dict[str, Path]:
        questions = [json.loads(line)["q"] for path in QUESTION_FILES
                     for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        qfile = self.tmp / "questions.txt"
        qfile.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")

        # Play the calculator once to learn its questions: each turn with what its reply must contain.
        user = "discover-" + uuid.uuid4().hex[:6]
        turns = [(DIALOGUE_OPENING, '"kind":"flow"'), ("1", '"kind":"flow"'), ("6", '"kind":"flow"'),
                 ("6", '"kind":"flow"'), ("2", "测算结果")]
        for text, want in turns:
            _, body = self.ask(base, text, user)
            if want.strip('"') not in json.dumps(body, ensure_ascii=False).replace(": ", ":"):
                raise SystemExit(f"the calculator dialogue changed: {text!r} → {body.get('reply', '')[:200]}")
        dfile = self.tmp / "dialogue.txt"
        dfile.write_text("".join(f"{json.dumps(t, ensure_ascii=False)}\t{w}\n" for t, w in turns), encoding="utf-8")

        # WeChat deliveries exactly as WeChat sends them in safe mode.
        from wechatpy.crypto import PrpCrypto

        from webhooks.wechat import security
        from webhooks.wechat.simulator import message_xml

        key = PrpCrypto(security.crypto(self.token, self.aes_key, self.app_id).key)
        ts = str(int(time.time()))
        first_id = time.time_ns() // 1000
        lines = []
        for i in range(deliveries):
            xml = message_xml({"ToUserName": "gh_bench", "FromUserName": f"o_bench_{i % 300:04d}",
                               "CreateTime": int(ts), "MsgType": "text", "Content": questions[(i * 13) % len(questions)],
                               "MsgId": first_id + i})
            encrypted = key.encrypt(xml, self.app_id).decode("ascii")
            nonce = f"{i:010d}"  # unique per delivery: a (timestamp, nonce) pair signs one message only
            query = (f"timestamp={ts}&nonce={nonce}&openid=o_bench_{i % 300:04d}&encrypt_type=aes"
                     f"&signature={security.sign(self.token, ts, nonce)}"
                     f"&msg_signature={security.sign(self.token, ts, nonce, encrypted)}")
            lines.append(query + "\t" + message_xml({"ToUserName": "gh_bench", "Encrypt": encrypted}) + "\n")
        wfile = self.tmp / "wechat.txt"
        wfile.write_text("".join(lines), encoding="utf-8")
        return {"questions": qfile, "dialogue": dfile, "wechat": wfile}

    def wrk_commands(self, base: str, files: dict[str, Path], seconds: float) -> dict[str, list[str]]:
        a, wrk = self.args, self.wrk
        tag = uuid.uuid4().hex[:6]  # each run's dialogue people are new
        duration = f"{int(seconds)}s"
        pin = ["taskset", "-c", a.wrk_cpus] if a.wrk_cpus else []
        common = [*pin, wrk, "--latency", "--timeout", "10s", "-d", duration]
        return {
            "questions": [*common, "-t", str(a.question_threads), "-c", str(a.question_connections),
                          "-s", str(LUA / "questions.lua"), base, "--", str(files["questions"]), self.api_key,
                          str(a.users)],
            "dialogue": [*common, "-t", str(a.dialogue_connections), "-c", str(a.dialogue_connections),
                         "-s", str(LUA / "dialogue.lua"), base, "--", str(files["dialogue"]), self.api_key, tag],
            "wechat": [*common, "-t", str(a.wechat_threads), "-c", str(a.wechat_connections),
                       "-s", str(LUA / "wechat.lua"), base, "--", str(files["wechat"]), str(a.wechat_threads)],
            "healthz": [*common, "-t", "1", "-c", "1", "-s", str(LUA / "healthz.lua"), base + "/healthz"],
        }

    def run_streams(self, commands: dict[str, list[str]], seconds: float, master: int,
                    base: str) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
        procs = {name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for name, cmd in commands.items() if getattr(self.args, f"stream_{name}")}
        samples: dict[str, Any] = {"ok": 0, "bad": []}
        stop = threading.Event()

        def sampler() -> None:
            n = 0
            while not stop.wait(1.0):
                n += 1
                try:
                    _, body = self.ask(base, SAMPLE_QUESTION, f"sampler-{n}", timeout=10)
                    if body.get("kind") == "answer" and SAMPLE_EXPECT in body.get("reply", ""):
                        samples["ok"] += 1
                    else:
                        samples["bad"].append(body.get("reply", "")[:80])
                except Exception as exc:  # noqa: BLE001 — a failed sample is the finding
                    samples["bad"].append(repr(exc)[:80])

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        cpu = CpuMeter(master).run([p.pid for p in procs.values()], seconds)
        results = {}
        for name, proc in procs.items():
            out, _ = proc.communicate(timeout=seconds + 60)
            found = [line for line in out.splitlines() if line.startswith("LOADBENCH-JSON ")]
            if not found:
                raise SystemExit(f"wrk {name} printed no result:\n{out[-2000:]}")
            results[name] = json.loads(found[-1].split(" ", 1)[1])
        stop.set()
        thread.join(timeout=15)
        return results, cpu, samples

    def main_run(self) -> dict[str, Any]:
        a = self.args
        proc, base, log = self.launch(a.workers, "gunicorn.log")
        self.wait_ready(proc, base, a.workers, log)
        deliveries = int((a.duration + a.warmup) * a.wechat_rate_guess) + 1000
        files = self.write_inputs(base, deliveries)
        if a.warmup:
            warm = self.wrk_commands(base, files, a.warmup)
            # warm-up deliveries must not be the measured ones: use the file's second half for it
            half = self.tmp / "wechat-warmup.txt"
            lines = files["wechat"].read_text(encoding="utf-8").splitlines(keepends=True)
            split = len(lines) - int(a.warmup * a.wechat_rate_guess) - 200
            half.write_text("".join(lines[split:]), encoding="utf-8")
            files["wechat"].write_text("".join(lines[:split]), encoding="utf-8")
            warm["wechat"][warm["wechat"].index(str(files["wechat"]))] = str(half)
            self.run_streams(warm, a.warmup, proc.pid, base)
        load_before = loadavg()
        results, cpu, samples = self.run_streams(self.wrk_commands(base, files, a.duration), a.duration, proc.pid, base)
        load_after = loadavg()
        log_text = log.read_text(errors="replace")
        errors = [line for line in log_text.splitlines() if " [ERROR] " in line or "Traceback" in line]
        self.stop(proc)
        return {"streams": results, "cpu": cpu, "samples": samples, "load_before": load_before,
                "load_after": load_after, "server_errors": errors[:10], "deliveries": deliveries}

    def pg_version(self) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar()).split()[0]
        finally:
            engine.dispose()


# -- report ---------------------------------------------------------------------------------------------
def ms(us: float) -> str:
    return f"{us / 1000:.0f}" if us >= 10_000 else f"{us / 1000:.1f}"


def table(report: dict[str, Any]) -> str:
    m, run, a = report["machine"], report["run"], report["settings"]
    lines = ["| stream | conns | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | non-2xx | replies |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    total_rps = 0.0
    conns = {"questions": a["question_connections"], "dialogue": a["dialogue_connections"],
             "wechat": a["wechat_connections"], "healthz": 1}
    for name in ("questions", "dialogue", "wechat", "healthz"):
        s = run["streams"].get(name)
        if not s:
            continue
        rps = s["requests"] / (s["duration_us"] / 1e6)
        total_rps += rps
        e = s["errors"]
        errors = int(e["connect"] + e["read"] + e["write"] + e["timeout"])
        counts = ", ".join(f"{k} {int(v)}" for k, v in sorted(s["counts"].items(), key=lambda kv: -kv[1]))
        lat = s["latency_us"]
        lines.append(f"| {name} | {conns[name]} | {rps:.0f} | {ms(lat['p50'])} | {ms(lat['p95'])} | "
                     f"{ms(lat['p99'])} | {ms(lat['max'])} | {errors} | {int(e['status'])} | {counts} |")
    lines.append(f"| **total** | | **{total_rps:.0f}** | | | | | | | |")
    cpu = run["cpu"]
    share = lambda g: f"{cpu.get(g, 0.0):.0f} s ({cpu.get(g, 0.0) / cpu['wall'] * 100:.0f}%)"  # noqa: E731
    first = report["first"]
    out = "\n".join(lines) + "\n\n"
    g = report.get("gunicorn") or {"workers": a["workers"], "threads": a["threads"] or "conf",
                                     "worker_class": a["worker_class"] or "conf", "preload_app": a["preload"]}
    out += (f"- Server: gunicorn {g['workers']} workers × {g['threads']} threads ({g['worker_class']}, preload "
            f"{g['preload_app']}), JIUYE_ENV=production, **rate limits off** (JIUYE_RATELIMIT_ENABLED=0), "
            f"PostgreSQL {report['postgres']} on the same machine; access log on (to a file).\n")
    out += (f"- Window: {a['duration']} s after a {a['warmup']} s warm-up, all streams at once; wrk "
            f"{'pinned to CPU ' + a['wrk_cpus'] if a['wrk_cpus'] else 'not pinned'}; load average before/after "
            f"{run['load_before']} / {run['load_after']}.\n")
    out += (f"- CPU used in the window ({cpu['wall']:.0f} s × {m['nproc']} cores = {cpu['wall'] * m['nproc']:.0f} "
            f"core-s): gunicorn {share('gunicorn')}, PostgreSQL {share('postgres')}, wrk {share('wrk')}, "
            f"everything else on the machine {share('other')} (percent of one core).\n")
    s = run["samples"]
    out += (f"- Correctness: {s['ok']} sampled questions answered correctly during the run, "
            f"{len(s['bad'])} not{': ' + '; '.join(s['bad'][:3]) if s['bad'] else ''}; server log errors: "
            f"{len(run['server_errors'])}.\n")
    out += (f"- First request of a new worker (1 worker): first POST /api/v1/ask after /healthz answered "
            f"**{first['first_ask_s'] * 1000:.0f} ms** (the next one {first['second_ask_s'] * 1000:.0f} ms); "
            f"after `kill -TERM` of the worker, the request the replacement served "
            f"**{first['replacement_first_ask_s'] * 1000:.0f} ms**"
            + (f" (it was ready {first['worker_warm_s']:.2f} s after its fork)" if "worker_warm_s" in first else "")
            + f"; gunicorn launch to first answer {first['launch_to_answer_s']:.1f} s.\n")
    out += (f"- Machine: {m['nproc']} × {m['cpu']}, {m['ram_gb']} GB RAM, Linux {m['kernel']}; {m['date']}; "
            f"commit {m['commit']}; Python {m['python']}, gunicorn {m['gunicorn']}, PostgreSQL {report['postgres']}.\n")
    return out


def write_doc(path: Path, text: str) -> None:
    block = f"{BEGIN}\n{text}{END}"
    if path.exists():
        doc = path.read_text(encoding="utf-8")
        if BEGIN in doc and END in doc:
            doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
        else:
            doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    else:
        doc = f"# Benchmarks\n\n{block}\n"
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="threads per worker (default: gunicorn.conf.py)")
    p.add_argument("--worker-class", default="", help="sync or gthread (default: gunicorn.conf.py)")
    p.add_argument("--preload", dest="preload", action="store_true", default=None)
    p.add_argument("--no-preload", dest="preload", action="store_false")
    p.add_argument("--question-connections", type=int, default=8)
    p.add_argument("--question-threads", type=int, default=1)
    p.add_argument("--dialogue-connections", type=int, default=2, help="= wrk threads (one connection each)")
    p.add_argument("--wechat-connections", type=int, default=2)
    p.add_argument("--wechat-threads", type=int, default=1)
    p.add_argument("--users", type=int, default=500, help="users in the questions stream's pool")
    p.add_argument("--wechat-rate-guess", type=float, default=250, help="deliveries generated per second of run")
    p.add_argument("--wrk-cpus", default="", help="pin wrk with taskset -c (e.g. 1)")
    for name in ("questions", "dialogue", "wechat", "healthz"):
        p.add_argument(f"--no-{name}", dest=f"stream_{name}", action="store_false", help=f"leave out the {name} stream")
    p.add_argument("--skip-first", action="store_true", help="skip the first-request measurement")
    p.add_argument("--first-only", action="store_true", help="only the first-request measurement")
    p.add_argument("--database-url", default="", help="an existing, migrated database instead of a throwaway one")
    p.add_argument("--write", type=Path, help="update the generated block of this Markdown file")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--render", type=Path, help="only print the table of a --json file written before")
    args = p.parse_args(argv)
    if args.render:
        print(table(json.loads(args.render.read_text(encoding="utf-8"))))
        return 0
    if args.duration + args.warmup > 240:
        raise SystemExit("warm-up + duration must stay under 240 s: WeChat deliveries are signed for 300 s")

    bench = Bench(args)
    bench.wrk = ensure_wrk()
    report: dict[str, Any] = {"machine": machine(), "settings": vars(args).copy()}
    report["settings"].pop("write"), report["settings"].pop("json")
    try:
        bench.prepare_database()
        report["postgres"] = bench.pg_version()
        report["gunicorn"] = bench.effective_config()
        report["migrate"] = bench.migrate_command
        print(f"database ready ({bench.migrate_command}); load average {loadavg()}", flush=True)
        report["first"] = ({"first_ask_s": float("nan"), "second_ask_s": float("nan"),
                            "replacement_first_ask_s": float("nan"), "launch_to_answer_s": float("nan")}
                           if args.skip_first else bench.first_requests())
        print(f"first request: {json.dumps(report['first'])}", flush=True)
        if args.first_only:
            return 0
        report["run"] = bench.main_run()
    finally:
        bench.spawned.stop()
    text = table(report)
    print()
    print(text)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    if args.write:
        write_doc(args.write, text)
        print(f"updated {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
