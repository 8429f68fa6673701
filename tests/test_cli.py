"""The stable command-line interfaces, run as outside checks run them."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args, db_url, stdin=None):
    """As an outside check runs it: a new interpreter, `python -m …`."""
    env = dict(os.environ, JIUYE_DATABASE_URL=db_url)
    env.pop("JIUYE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def call(argv, db_url, monkeypatch, capsys):
    """The same command in this process (the subprocess adds nothing once the entry point is tested)."""
    from bot.cli import main

    monkeypatch.setenv("JIUYE_DATABASE_URL", db_url)
    code = main(argv)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, out.out, out.err)


@pytest.mark.processes
def test_ask_jsonl_one_reply_per_line_each_from_a_fresh_user(new_db_url):
    questions = "菜单\n1\n个人创业贷款最多能贷多少\n\n住房公积金咋提取\n"
    out = run(["bot", "ask", "--jsonl"], new_db_url("cli"), stdin=questions)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(lines) == 5
    assert lines[0]["kind"] == "menu"
    assert lines[1]["text"] == "1" and lines[1]["kind"] == "menu"
    assert lines[2]["clause"] == "10" and lines[2]["text"] == "个人创业贷款最多能贷多少"
    assert lines[3]["kind"] == "menu"  # empty line: a polite menu
    assert lines[4]["kind"] == "fallback"
    for line in lines:
        assert {"reply", "kind", "clause", "options", "contacts", "links", "locale", "text"} <= set(line)


def test_ask_prints_a_readable_reply(new_db_url, monkeypatch, capsys):
    out = call(["ask", "见习补贴一个月多少"], new_db_url("cli"), monkeypatch, capsys)
    assert out.returncode == 0 and "（依据：实施方案第12条）" in out.stdout


def test_eval_prints_groups_styles_and_overall(tmp_path, new_db_url, monkeypatch, capsys):
    data = tmp_path / "mini.jsonl"
    data.write_text('{"q": "见习补贴一个月多少", "expect": {"clause": ["12"]}, "style": "plain"}\n'
                    '{"q": "明天下雪不", "expect": {"kind": "fallback"}, "style": "colloquial"}\n', encoding="utf-8")
    out = call(["eval", str(data)], new_db_url("cli"), monkeypatch, capsys)
    assert out.returncode == 0, out.stderr
    assert "in-scope" in out.stdout and "plain" in out.stdout and "overall" in out.stdout
    assert "2/2" in out.stdout


def test_eval_calibrate_prints_accuracy_per_threshold(tmp_path, new_db_url, monkeypatch, capsys):
    data = tmp_path / "mini.jsonl"
    data.write_text('{"q": "见习补贴一个月多少", "expect": {"clause": ["12"]}, "style": "plain"}\n', encoding="utf-8")
    out = call(["eval", str(data), "--calibrate"], new_db_url("cli"), monkeypatch, capsys)
    assert out.returncode == 0, out.stderr
    assert "<- current" in out.stdout and "0.16" in out.stdout and "0.36" in out.stdout
