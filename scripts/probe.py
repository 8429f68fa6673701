"""Hostile probe of a running jiuye: forged WeChat messages, identity theft, input that used to
crash, floods, slow clients — and the latency of a normal question while adversaries run.

    .venv/bin/python scripts/probe.py --spawn sqlite        # starts gunicorn itself (ports 5110-5119)
    .venv/bin/python scripts/probe.py --spawn postgres      # …on a throwaway PostgreSQL database
    .venv/bin/python scripts/probe.py --url http://127.0.0.1:5110 --token T --aes-key K --app-id A \\
        --api-key KEY [--plain-url http://127.0.0.1:5111]   # against servers you started

With --spawn, two gunicorns share one database, both with the shipped gunicorn.conf.py: the
main one (2 workers) with an AES key, so WeChat safe mode, and a plain-mode one (1 worker) for
the forgeries only plain mode allows; PROXY_FIX = 1, so the probe plays many client
addresses through X-Forwarded-For, as nginx would pass them. Only 127.0.0.1 is contacted.

Printed at the end: requests tried, status counts, every 5xx (what was sent), forged WeChat
messages accepted, identity leaks, and normal-question latency alone and under attack.
Exit status 1 when a 500 was seen or a forgery or leak got through.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from webhooks.wechat import security  # noqa: E402
from webhooks.wechat.simulator import message_xml  # noqa: E402

PORTS = range(5110, 5120)
NORMAL_QUESTION = "见习补贴一个月多少"
ACCOUNT = "gh_probe"


# -- bookkeeping -------------------------------------------------------------------------------
@dataclass
class Tally:
    tried: int = 0
    statuses: Counter = field(default_factory=Counter)
    five_hundreds: list[str] = field(default_factory=list)   # "category: what was sent → status"
    failures: list[str] = field(default_factory=list)        # connection errors, timeouts
    forged_tried: int = 0
    forged_accepted: list[str] = field(default_factory=list)
    leaks_tried: int = 0
    leaks: list[str] = field(default_factory=list)
    by_category: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, category: str, what: str, status: int | None, error: str = "") -> None:
        with self.lock:
            self.tried += 1
            self.by_category[category] += 1
            if status is None:
                self.failures.append(f"{category}: {what[:80]} → {error}")
                return
            self.statuses[status] += 1
            if status >= 500:
                self.five_hundreds.append(f"{category}: {what[:100]} → {status}")


class Client:
    """HTTP to the server, every request counted; `ip` plays a client address (X-Forwarded-For)."""

    def __init__(self, base: str, tally: Tally, api_key: str = ""):
        self.base = base.rstrip("/")
        self.tally = tally
        self.api_key = api_key
        self.local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
            self.local.s.trust_env = False  # 127.0.0.1 only, never a proxy from the environment
        return self.local.s

    def send(self, method: str, path: str, category: str, *, ip: str | None = None, keyed: bool = False,
             session: requests.Session | None = None, timeout: float = 60, what: str = "",
             **kwargs: Any) -> requests.Response | None:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Forwarded-For"] = ip or random_ip()
        if keyed:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            r = (session or self.session()).request(method, self.base + path, headers=headers, timeout=timeout,
                                                     **kwargs)
        except requests.ConnectionError as exc:
            # Also what a client sees when the server drops a kept-alive connection: a fresh one next.
            self.tally.record(category, what or path, None, exc.__class__.__name__)
            if session is None and hasattr(self.local, "s"):
                del self.local.s
            return None
        except requests.RequestException as exc:
            self.tally.record(category, what or path, None, exc.__class__.__name__)
            return None
        self.tally.record(category, what or f"{method} {path[:60]}", r.status_code)
        return r


def random_ip() -> str:
    return f"203.0.{random.randrange(0, 114)}.{random.randrange(1, 255)}"


def question(body: dict) -> str:
    return str(body.get("reply", "")).strip().splitlines()[-1] if body.get("reply") else ""


# -- WeChat forging helpers ---------------------------------------------------------------------------
@dataclass
class Account:
    token: str
    aes_key: str = ""
    app_id: str = ""

    def encrypt(self, xml: str) -> str:
        from wechatpy.crypto import PrpCrypto

        return PrpCrypto(security.crypto(self.token, self.aes_key, self.app_id).key).encrypt(
            xml, self.app_id).decode("ascii")

    def plain_query(self, ts: str | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(int(time.time())) if ts is None else ts  # "" is a forgery to try, not "now"
        nonce = nonce or security.new_nonce()
        return {"timestamp": ts, "nonce": nonce, "signature": security.sign(self.token, ts, nonce)}

    def safe_query(self, encrypted: str, ts: str | None = None, nonce: str | None = None) -> dict[str, str]:
        query = self.plain_query(ts, nonce)
        query.update(encrypt_type="aes", msg_signature=security.sign(self.token, query["timestamp"], query["nonce"],
                                                                     encrypted))
        return query

    def open_reply(self, body: str) -> str:
        """The reply text (decrypted when enveloped); "" for success or an error body."""
        from webhooks.wechat import xmlsafe

        if not body.strip().startswith("<"):
            return ""
        data = xmlsafe.parse(body)
        if "Encrypt" in data:
            data = xmlsafe.parse(security.decrypt(self.token, self.aes_key, self.app_id, data["Encrypt"]))
        return f"{data.get('ToUserName', '')}|{data.get('Content', '')}"


def text_xml(openid: str, content: str, msg_id: int, create_time: int | None = None) -> str:
    return message_xml({"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": create_time or int(time.time()),
                        "MsgType": "text", "Content": content, "MsgId": msg_id})


_msg_ids = iter(range(random.randrange(10**12, 2 * 10**12), 10**13))


def post_wechat(client: Client, category: str, body: str | bytes, query: dict[str, str], what: str):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.send("POST", "/wechat", category, params=query, data=data, what=what,
                       headers={"Content-Type": "text/xml"}, ip="101.226.103.10")  # one of WeChat's addresses


# -- phases -------------------------------------------------------------------------------------------
def forge_wechat(main: Client, plain: Client | None, account: Account, tally: Tally) -> None:
    """Forgeries that must all be refused (or, for a genuine retry, answered from storage)."""
    def forged(client: Client, what: str, body: str | bytes, query: dict[str, str],
               accepted: Callable[[requests.Response], bool]) -> None:
        tally.forged_tried += 1
        r = post_wechat(client, "wechat-forgery", body, query, what)
        if r is not None and r.status_code == 200 and accepted(r):
            tally.forged_accepted.append(f"{what} → {r.status_code} {r.text[:120]}")

    def answered(r: requests.Response) -> bool:
        return r.text.strip() not in ("", "success")

    now = int(time.time())
    for server, client, encrypted in (("plain", plain, False), ("safe", main, True)):
        if client is None:
            continue
        for label, ts in (("2001", "978307200"), ("2100", "4102444800"), ("hello", "hello"), ("empty", ""),
                          ("-6min", str(now - 360)), ("+6min", str(now + 360)), ("-1day", str(now - 86400)),
                          ("digits×30", "1" * 30), ("fullwidth", "１７００００００００"), ("negative", "-5")):
            xml = text_xml("o_forger", "菜单", next(_msg_ids))
            if encrypted:
                enc = account.encrypt(xml)
                forged(client, f"{server}: timestamp {label}", message_xml({"ToUserName": ACCOUNT, "Encrypt": enc}),
                       account.safe_query(enc, ts=ts), answered)
            else:
                forged(client, f"{server}: timestamp {label}", xml, account.plain_query(ts=ts), answered)
        for label, query in (("no signature", {"timestamp": str(now), "nonce": "1"}),
                             ("zero signature", {"timestamp": str(now), "nonce": "1", "signature": "0" * 40}),
                             ("other token", {"timestamp": str(now), "nonce": "1",
                                              "signature": security.sign("guess", str(now), "1")}),
                             ("uppercase", {**account.plain_query(), "signature": account.plain_query()[
                                 "signature"].upper()})):
            forged(client, f"{server}: {label}", text_xml("o_forger", "菜单", next(_msg_ids)), query, answered)

    if plain is not None:
        # A captured plain-mode URL (signature over token, timestamp, nonce only) reused within the
        # five minutes with other bodies: other senders, other MsgIds, an event.
        victim = "o_victim_" + uuid.uuid4().hex[:8]
        captured = account.plain_query()
        genuine = post_wechat(plain, "wechat", text_xml("o_genuine", NORMAL_QUESTION, next(_msg_ids)), captured,
                              "genuine delivery")
        if genuine is None or "第12条" not in genuine.text:
            tally.notes.append("the genuine plain delivery was not answered: " + (genuine.text[:100] if genuine else "-"))
        for i in range(10):
            body = (text_xml(victim, f"继续{i}", next(_msg_ids)) if i % 2 else
                    message_xml({"ToUserName": ACCOUNT, "FromUserName": victim, "CreateTime": int(time.time()) + i,
                                 "MsgType": "event", "Event": "CLICK", "EventKey": "CALC_INTERNSHIP"}))
            forged(plain, f"plain: captured URL replayed with another body #{i}", body, captured, answered)

    # Safe mode: the same message without encrypt_type (a downgrade), and plaintext fields beside
    # Encrypt that claim another sender or text.
    genuine_xml = text_xml("o_genuine_safe", NORMAL_QUESTION, next(_msg_ids))
    enc = account.encrypt(genuine_xml)
    query = account.safe_query(enc)
    downgrade = {k: v for k, v in query.items() if k not in ("encrypt_type", "msg_signature")}
    forged(main, "safe: encrypt_type dropped (downgrade)", text_xml("o_forger", "菜单", next(_msg_ids)), downgrade,
           answered)
    spoof = text_xml("o_spoofed_sender", "菜单", next(_msg_ids)).replace("</xml>", f"<Encrypt>{enc}</Encrypt></xml>")
    forged(main, "safe: plaintext fields beside Encrypt", spoof, query,
           lambda r: "o_spoofed_sender" in account.open_reply(r.text))
    other = account.encrypt(text_xml("o_forger", "菜单", next(_msg_ids)))
    forged(main, "safe: captured msg_signature on another Encrypt",
           message_xml({"ToUserName": ACCOUNT, "Encrypt": other}), query, answered)


def identity(client: Client, tally: Tally) -> None:
    """Another person's conversation must not be reachable without their cookie or the API key."""
    victim = requests.Session()
    victim.trust_env = False
    ip = random_ip()
    client.send("GET", "/", "identity", session=victim, ip=ip)
    cookie = victim.cookies.get("jiuye_uid", "")
    opened = client.send("POST", "/api/v1/ask", "identity", session=victim, ip=ip, json={"text": "见习补贴测算"})
    pending = question(opened.json()) if opened is not None and opened.ok else ""
    uid = cookie.split(".")[0]
    attempts = [{"user": cookie}, {"user": uid}, {"user": f"web:{uid}"}, {"user": f"api:{uid}"},
                {"user": f"api:{cookie}"}]
    for body in attempts:
        tally.leaks_tried += 1
        r = client.send("POST", "/api/v1/ask", "identity", json={"text": "继续", **body}, what=f"继续 as {body}")
        if r is not None and r.ok and pending and pending in r.text:
            tally.leaks.append(f"continued the victim's dialogue as {body}")
    for forged_cookie in (uid, uid + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", cookie[:-3] + "xyz"):
        tally.leaks_tried += 1
        s = requests.Session()
        s.trust_env = False
        s.cookies.set("jiuye_uid", forged_cookie)
        r = client.send("POST", "/api/v1/ask", "identity", session=s, json={"text": "继续"}, what="forged cookie")
        if r is not None and r.ok and pending and pending in r.text:
            tally.leaks.append(f"forged cookie {forged_cookie[:30]}… continued the victim's dialogue")
    # With a key: ids are never cut (two 128-character ids) and 424242 is not "424242".
    a, b = "p" * 127 + "a", "p" * 127 + "b"
    client.send("POST", "/api/v1/ask", "identity", keyed=True, json={"text": "见习补贴测算", "user": a})
    tally.leaks_tried += 1
    r = client.send("POST", "/api/v1/ask", "identity", keyed=True, json={"text": "继续", "user": b})
    if r is not None and r.ok and r.json().get("kind") == "flow":
        tally.leaks.append("two 128-character ids sharing 127 characters share a conversation")
    client.send("POST", "/api/v1/ask", "identity", keyed=True, json={"text": "见习补贴测算", "user": "424242"})
    tally.leaks_tried += 1
    r = client.send("POST", "/api/v1/ask", "identity", keyed=True, json={"text": "继续", "user": 424242})
    if r is not None and r.ok and r.json().get("kind") == "flow":
        tally.leaks.append("424242 continued the conversation of \"424242\"")
    tally.leaks_tried += 1
    r = client.send("POST", "/api/v1/ask", "identity", json={"text": "你好", "user": "x"},
                    headers={"Authorization": "Bearer not-a-key-0000000000"})
    if r is not None and r.status_code != 401:
        tally.leaks.append(f"a made-up API key was not refused ({r.status_code})")


def hostile_inputs(client: Client, account: Account, tally: Tally, rounds: int) -> None:
    """Requests that used to be 500s, and fuzz: every answer must be below 500."""
    rng = random.Random(10)
    api_bodies = ['{"text":"\\ud800"}', '{"text":"见习\\udfff补贴"}', '{"text":"a\\u0000b"}', '{"user":"\\u0000"}',
                  '{"text":"hi","user":"\\ud800"}', "[" * 10_000 + "]" * 10_000, "[" * 100_000,
                  '{"text": ' + "[" * 5000 + "]" * 5000 + "}", '{"text":"' + "1" * 4999 + 'x"}',
                  '{"text": 1e999}', '{"text": "x", "locale": "\\ud800"}', '{"text":"x","message_id":"\\u0000"}',
                  "null", "[]", '"text"', "{", b"\xff\xfe", "", '{"text": "' + "问" * 2001 + '"}']
    calc_bodies = ['{"interns": ' + "9" * n + ', "months": 6}' for n in (309, 400, 1000, 4300, 4301, 5000)] + [
        '{"interns": 1, "months": "\\ud800"}', '{"\\ud800": 1}', '{"interns": 1e400, "months": 6}',
        '{"interns": -' + "9" * 400 + ', "months": 6}', "[" * 100_000, '{"interns": "\\u0000"}']
    paths = ["/policies/补贴已改为电话领取，请拨打 400-000-0000", "/calc/补贴已改为电话领取", "/policies/%00",
             "/policies/" + "9" * 5000, "/calc/%F0%9F%98%80", "/wechat/answer/%00", "/wechat/answer/" + "x" * 3000,
             "/static/web/../../__init__.py", "/poster", "/poster/qr.svg", "/healthz", "/no/such"]
    for _ in range(rounds):
        for body in api_bodies:
            data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
            client.send("POST", "/api/v1/ask", "api-hostile", data=data, what=repr(body[:40]),
                        headers={"Content-Type": "application/json"})
            client.send("POST", "/api/v1/ask", "api-hostile", data=data, keyed=True, what="keyed " + repr(body[:40]),
                        headers={"Content-Type": "application/json"})
        for body in calc_bodies:
            client.send("POST", "/api/v1/calculators/internship", "calculator-hostile", data=body.encode(
                "utf-8", "surrogatepass"), what=body[:40], headers={"Content-Type": "application/json"})
        for path in paths:
            r = client.send("GET", path, "pages-hostile")
            if r is not None and ("400-000-0000" in r.text or "电话领取" in r.text):
                tally.leaks.append(f"404 page repeats the path {path[:40]}")
        for method in ("PUT", "DELETE", "PATCH"):
            r = client.send(method, "/api/v1/ask", "methods")
            if r is not None and r.status_code == 405 and "Allow" not in r.headers:
                tally.notes.append("405 without Allow")
        r = client.send("GET", "/poster", "host", headers={"Host": "evil.example"})
        if r is not None and "evil.example" in r.text:
            tally.leaks.append("the poster encoded a forged Host")
        # random JSON fuzz
        for _ in range(20):
            obj = {"text": "".join(rng.choice(["见习", "\ud800", "\x00", "1", "万", "[", "<", "]]>", "😀", "\u202e"])
                                   for _ in range(rng.randrange(0, 40))),
                   rng.choice(["user", "locale", "message_id", "x"]): rng.choice([None, 1, "a" * 200, [], {}, "zh"])}
            data = json.dumps(obj, ensure_ascii=True).encode()
            client.send("POST", "/api/v1/ask", "api-fuzz", data=data, keyed=rng.random() < 0.5, what=data[:60].decode(),
                        headers={"Content-Type": "application/json"})
        # WeChat: signed, well-formed and broken bodies (no forgery: these are WeChat's own deliveries)
        for _ in range(10):
            content = rng.choice(["见习\x01补贴", "]]>", "1" * 2000, "菜单", "<!DOCTYPE x>"])
            xml = text_xml("o_fuzz_" + str(rng.randrange(50)), content, next(_msg_ids))
            body = bytearray(xml.encode("utf-8"))
            if rng.random() < 0.5:
                at = rng.randrange(len(body))
                body[at:at] = rng.choice([b"<", b"\xff", b"]]>", b"&", b"\x00"])
            enc = account.encrypt(body.decode("utf-8", "replace"))
            post_wechat(client, "wechat-fuzz", message_xml({"ToUserName": ACCOUNT, "Encrypt": enc}),
                        account.safe_query(enc), "fuzzed XML")


def dialogue_answers(client: Client, tally: Tally) -> None:
    """Mid-dialogue answers that crashed the engine (huge numbers). The engine's part of issue 10."""
    answers = ["9" * 309, "9" * 400, "1" * 1999, "1" + "万" * 78, "1" * 1999 + "x", "-" + "9" * 500, "1e400"]
    for answer in answers:
        user = "dlg-" + uuid.uuid4().hex[:8]
        client.send("POST", "/api/v1/ask", "dialogue-hostile", keyed=True, json={"text": "见习补贴测算", "user": user})
        client.send("POST", "/api/v1/ask", "dialogue-hostile", keyed=True, json={"text": "1", "user": user})
        client.send("POST", "/api/v1/ask", "dialogue-hostile", keyed=True, json={"text": answer, "user": user},
                    what=f"mid-dialogue answer {answer[:12]}… ({len(answer)} chars)")


def first_messages(client: Client, tally: Tally, people: int = 30, each: int = 4) -> None:
    """Four simultaneous first messages of 30 new people (item 2; the engine's upsert is the lead's)."""
    users = [f"first-{uuid.uuid4().hex[:8]}" for _ in range(people)]
    jobs = [u for u in users for _ in range(each)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda u: client.send("POST", "/api/v1/ask", "first-messages", keyed=True,
                                            json={"text": NORMAL_QUESTION, "user": u},
                                            headers={"Connection": "close"}, what="first message"), jobs))


def floods(client: Client, account: Account, tally: Tally) -> dict[str, int]:
    """One address, one visitor, one follower sending fast: how many get refused."""
    out: dict[str, int] = {}
    ip = random_ip()
    codes = [getattr(client.send("GET", "/policies", "flood", ip=ip), "status_code", 0) for _ in range(150)]
    out["address: 150 page views in a burst → 429"] = codes.count(429)
    visitor = requests.Session()
    visitor.trust_env = False
    vip = random_ip()
    client.send("GET", "/", "flood", session=visitor, ip=vip)
    codes = [getattr(client.send("POST", "/api/v1/ask", "flood", session=visitor, ip=random_ip(),
                                 json={"text": "你好"}), "status_code", 0) for _ in range(40)]
    out["visitor (one cookie, 40 addresses): 40 questions → 429"] = codes.count(429)
    openid = "o_flood_" + uuid.uuid4().hex[:6]
    limited = 0
    for _ in range(40):
        xml = text_xml(openid, "你好", next(_msg_ids))
        enc = account.encrypt(xml)
        r = post_wechat(client, "flood", message_xml({"ToUserName": ACCOUNT, "Encrypt": enc}), account.safe_query(enc),
                        "wechat flood")
        if r is not None and r.status_code == 200 and "太快" in account.open_reply(r.text):
            limited += 1
    out["WeChat follower: 40 messages → friendly 'too fast' text"] = limited
    return out


def latency(client: Client, account: Account, tally: Tally, seconds: float = 20) -> dict[str, dict[str, float]]:
    """p50/p95 of a normal question alone, with 4 adversaries from fixed addresses, and with 4
    adversaries rotating addresses (a botnet, so no limit applies) plus 6 drip-feeding connections."""
    def normal_run(n: int = 30) -> list[float]:
        times = []
        s = requests.Session()
        s.trust_env = False
        for i in range(n):
            t0 = time.perf_counter()
            r = client.send("POST", "/api/v1/ask", "latency-normal", session=s, keyed=True,
                            json={"text": NORMAL_QUESTION, "user": f"normal-{i % 5}"})
            if r is not None and r.ok:
                times.append(time.perf_counter() - t0)
            time.sleep(0.05)
        return times

    def adversary(stop: threading.Event, rotate: bool, n: int) -> None:
        ip = random_ip()
        s = requests.Session()
        s.trust_env = False
        rng = random.Random(n)
        user = f"adv-{n}-" + uuid.uuid4().hex[:6]
        client.send("POST", "/api/v1/ask", "adversary", keyed=True, session=s, json={"text": "见习补贴测算", "user": user})
        client.send("POST", "/api/v1/ask", "adversary", keyed=True, session=s, json={"text": "1", "user": user})
        payloads = ['{"text":"' + "1" * 1999 + 'x"}', '{"text":"' + "1-" * 999 + '"}', "[" * 60_000,
                    '{"text":"' + "见习补贴" * 500 + '"}']
        while not stop.is_set():
            body = rng.choice(payloads)
            client.send("POST", "/api/v1/ask", "adversary", session=s, ip=random_ip() if rotate else ip,
                        data=body.encode(), headers={"Content-Type": "application/json"}, what="adversarial",
                        timeout=60)

    def drip(stop: threading.Event, host: str, port: int) -> None:
        socks = []
        for _ in range(6):
            try:
                sock = socket.create_connection((host, port), timeout=30)
                sock.sendall(b"POST /api/v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n{")
                socks.append(sock)
            except OSError:
                pass
        while not stop.wait(0.5):
            for sock in socks:
                try:
                    sock.sendall(b" ")
                except OSError:
                    pass
        for sock in socks:
            sock.close()

    def summary(times: list[float]) -> dict[str, float]:
        if not times:
            return {"n": 0}
        ordered = sorted(times)
        return {"n": len(times), "p50_ms": statistics.median(ordered) * 1000,
                "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000}

    results: dict[str, dict[str, float]] = {}
    normal_run(5)  # warm both workers
    results["alone"] = summary(normal_run())
    from urllib.parse import urlsplit

    parts = urlsplit(client.base)
    for label, rotate, slow in (("4 adversaries, fixed addresses", False, False),
                                ("4 adversaries rotating addresses + 6 drip-feeding connections", True, True)):
        stop = threading.Event()
        threads = [threading.Thread(target=adversary, args=(stop, rotate, n), daemon=True) for n in range(4)]
        if slow:
            threads.append(threading.Thread(target=drip, args=(stop, parts.hostname, parts.port), daemon=True))
        for t in threads:
            t.start()
        time.sleep(2)
        results[label] = summary(normal_run())
        stop.set()
        for t in threads:
            t.join(timeout=90)
    return results


# -- spawning servers --------------------------------------------------------------------------------
class Spawned:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.tmp = tempfile.TemporaryDirectory(prefix="jiuye-probe-")
        self.pg_name = ""
        self.pg_admin = os.environ.get("JIUYE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    def database(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{Path(self.tmp.name) / 'probe.db'}"
        from sqlalchemy import create_engine, text

        self.pg_name = "jiuye_probe_" + uuid.uuid4().hex[:8]
        admin = create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
        admin.dispose()
        return self.pg_admin.rsplit("/", 1)[0] + f"/{self.pg_name}"

    def start(self, url: str, port: int, env: dict[str, str], workers: int, threads: int) -> str:
        log = open(Path(self.tmp.name) / f"gunicorn-{port}.log", "ab")
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"),
                                 "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
                                 "webhooks:create_app()"], cwd=REPO, env={**os.environ, **env, "JIUYE_DATABASE_URL": url},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        give_up = time.monotonic() + 180
        while time.monotonic() < give_up:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn on {port} exited; see {log.name}")
            try:
                if requests.get(base + "/healthz", timeout=5).ok:
                    return base
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn on {port} did not come up")

    def stop(self) -> None:
        import signal

        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the process group this script started
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        if self.pg_name:
            from sqlalchemy import create_engine, text

            admin = create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            admin.dispose()
        self.tmp.cleanup()


def free_ports(n: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as s:
            # gunicorn binds with SO_REUSEADDR: a port in TIME-WAIT (a run just before) is free for it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == n:
            return found
    raise SystemExit("not enough free ports in 5110-5119")


# -- main -----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spawn", choices=["sqlite", "postgres"], help="start gunicorn servers for the probe")
    parser.add_argument("--url", help="the server (safe mode, PROXY_FIX=1) when not spawning")
    parser.add_argument("--plain-url", help="a plain-mode server on the same token, for plain-mode forgeries")
    parser.add_argument("--token", default="")
    parser.add_argument("--aes-key", default="")
    parser.add_argument("--app-id", default="")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of hostile inputs (each ~300 requests)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    spawned = None
    account = Account(args.token, args.aes_key, args.app_id)
    api_key = args.api_key
    started = time.monotonic()
    try:
        if args.spawn:
            spawned = Spawned()
            url = spawned.database(args.spawn)
            from knowledge.db import Database

            Database(url).init().dispose()
            account = Account("probe" + uuid.uuid4().hex[:8], base64.b64encode(os.urandom(32)).decode()[:43],
                              "wxprobe0000000001")
            api_key = "probe-" + uuid.uuid4().hex
            env = {"JIUYE_SECRET_KEY": uuid.uuid4().hex, "JIUYE_PROXY_FIX": "1", "JIUYE_API_KEYS": f"probe:{api_key}",
                   "JIUYE_WECHAT__TOKEN": account.token, "JIUYE_WECHAT__APP_ID": account.app_id,
                   "JIUYE_WECHAT__ENCODING_AES_KEY": account.aes_key, "JIUYE_RATELIMIT_ENABLED": "1",
                   "JIUYE_RATELIMIT_API_KEY": "100000/minute"}  # the probe's keyed load is its own
            main_port, plain_port = free_ports(2)
            base = spawned.start(url, main_port, env, workers=2, threads=8)
            plain_base = spawned.start(url, plain_port, {**env, "JIUYE_WECHAT__MODE": "plain"}, workers=1, threads=4)
            print(f"spawned gunicorn on {args.spawn}: {base} (safe mode), {plain_base} (plain mode)", flush=True)
        else:
            if not args.url:
                parser.error("--url (or --spawn) is required")
            base, plain_base = args.url, args.plain_url

        tally = Tally()
        main_client = Client(base, tally, api_key)
        plain_client = Client(plain_base, tally, api_key) if plain_base else None
        phases: list[tuple[str, Callable[[], Any]]] = [
            ("WeChat forgeries", lambda: forge_wechat(main_client, plain_client, account, tally)),
            ("identity", lambda: identity(main_client, tally)),
            ("hostile inputs", lambda: hostile_inputs(main_client, account, tally, args.rounds)),
            ("huge dialogue answers", lambda: dialogue_answers(main_client, tally)),
            ("4 simultaneous first messages × 30 people", lambda: first_messages(main_client, tally)),
            ("floods", lambda: floods(main_client, account, tally)),
            ("latency", lambda: latency(main_client, account, tally)),
        ]
        results: dict[str, Any] = {}
        for name, run in phases:
            t0 = time.monotonic()
            results[name] = run()
            print(f"  {name}: done in {time.monotonic() - t0:.0f} s ({tally.tried} requests so far)", flush=True)
    finally:
        if spawned is not None:
            spawned.stop()

    report = {
        "server": args.spawn or base, "seconds": round(time.monotonic() - started),
        "requests_tried": tally.tried, "statuses": dict(sorted(tally.statuses.items())),
        "five_hundreds": len(tally.five_hundreds), "five_hundred_examples": sorted(Counter(tally.five_hundreds).items(),
                                                                                  key=lambda kv: -kv[1])[:15],
        "connection_failures": tally.failures[:10], "forged_tried": tally.forged_tried,
        "forged_accepted": tally.forged_accepted, "identity_checks": tally.leaks_tried, "leaks": tally.leaks,
        "floods": results.get("floods"), "latency": results.get("latency"), "notes": tally.notes,
        "by_category": dict(tally.by_category),
    }
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if report["five_hundreds"] or tally.forged_accepted or tally.leaks else 0


def print_report(r: dict[str, Any]) -> None:
    print(f"\n== probe of {r['server']} ({r['seconds']} s) ==")
    print(f"requests tried:         {r['requests_tried']}")
    print(f"statuses:               {r['statuses']}")
    print(f"5xx answers:            {r['five_hundreds']}")
    for what, n in r["five_hundred_examples"]:
        print(f"    {n:4d} × {what}")
    if r["connection_failures"]:
        print(f"connection failures:    {r['connection_failures']}")
    print(f"forged WeChat messages: {len(r['forged_accepted'])} accepted of {r['forged_tried']} tried")
    for item in r["forged_accepted"]:
        print(f"    {item}")
    print(f"identity / spoofing:    {len(r['leaks'])} leaks in {r['identity_checks']} checks (+ page checks)")
    for item in r["leaks"]:
        print(f"    {item}")
    for label, n in (r["floods"] or {}).items():
        print(f"flood: {label}: {n}")
    for label, s in (r["latency"] or {}).items():
        if s.get("n"):
            print(f"normal question, {label}: p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms (n={s['n']})")
    for note in r["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    sys.exit(main())
