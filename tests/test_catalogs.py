"""The message catalogs (gettext PO): complete, in step with their sources, used keys present, and no
Chinese sentence left in the code that builds replies."""
from __future__ import annotations

import ast
import re
import string
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from knowledge.catalogs import UNREVIEWED, ZH_FALLBACK

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import catalogs as script  # noqa: E402  (scripts/catalogs.py)

DOMAINS = {"bot": ROOT / "bot" / "locale", "eligibility": ROOT / "eligibility" / "locale"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def entries(domain: str, locale: str) -> dict:
    with (DOMAINS[domain] / f"{locale}.po").open("rb") as fh:
        return {m.id: m for m in read_po(fh) if m.id}


def fields(text: str) -> set[str]:
    """The {placeholders} of a format string ({{figures}} of form texts included)."""
    found = set(re.findall(r"\{\{[^}]+\}\}", text))
    rest = re.sub(r"\{\{[^}]+\}\}", "", text)
    return found | {f"{{{name}}}" for _, name, _, _ in string.Formatter().parse(rest) if name}


def test_catalogs_are_in_step_with_the_yaml_and_the_forms():
    """`scripts/catalogs.py check`: importing again would change nothing (run `make catalogs` if it fails)."""
    stale = [p for p, data in script.build().items() if not p.is_file() or p.read_bytes() != data]
    assert not stale, f"run `make catalogs`: {stale}"


def test_the_import_is_idempotent(tmp_path, monkeypatch):
    """Built twice from scratch (no PO files yet), the files come out byte for byte the same."""
    for name, directory in (("BOT_DIR", "bot"), ("ELIGIBILITY_DIR", "eligibility")):
        monkeypatch.setattr(script, name, tmp_path / directory)
    first = script.build()
    assert first
    script.write(first)
    assert script.build() == first


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_chinese_message_has_a_mongolian_entry_or_an_explicit_chinese_fallback(domain):
    zh, mn = entries(domain, "zh"), entries(domain, "mn")
    missing = [k for k in zh if k not in mn]
    undecided = [k for k, m in mn.items() if k in zh and not m.string and ZH_FALLBACK not in m.flags]
    assert not missing and not undecided, (missing[:10], undecided[:10])


@pytest.mark.parametrize("domain", DOMAINS)
def test_mongolian_entries_carry_their_review_state_and_the_same_placeholders(domain):
    zh, mn = entries(domain, "zh"), entries(domain, "mn")
    for key, m in mn.items():
        if not m.string:
            continue
        # until a native speaker has reviewed them, every translation says so
        assert UNREVIEWED in m.flags or not (m.flags - {"python-format", "python-brace-format"}), key
        assert fields(m.string) == fields(zh[key].string), key  # a missing one would fail at run time
        assert any(c.startswith("zh:") for c in m.auto_comments), key  # the reviewer sees the source


def test_form_texts_are_in_the_catalog_with_the_form_yaml_as_source():
    from eligibility.dialogue import load_forms

    zh = entries("eligibility", "zh")
    for name, form in load_forms().items():
        assert zh[f"forms.{name}.intro"].string == form.intro
        for slot in form.slots:
            assert zh[f"forms.{name}.{slot.name}.question"].string == slot.question
            for option in slot.options:
                assert zh[f"forms.{name}.{slot.name}.{option.value}"].string == option.label


def test_every_key_used_in_code_exists():
    assert script.missing_keys() == {}
    from bot.i18n import has
    from knowledge.runtime import THEMES
    from webhooks.web.chat import SCRIPT_STRINGS

    from bot.personas import PERSONAS

    dynamic = [*SCRIPT_STRINGS.values(), *(f"theme_{t}" for t, _ in THEMES), *(f"persona_{p}" for p in PERSONAS),
               *(f"smalltalk_{i}" for i in ("greeting", "thanks", "bye", "ack", "later", "who")),
               *(f"flows_smalltalk_{i}" for i in ("thanks", "ack", "greeting", "bye", "who"))]
    assert [k for k in dynamic if not has(k)] == []


def test_unreviewed_mongolian_shows_policy_terms_with_their_chinese():
    from bot.i18n import msg
    from eligibility.texts import form_text

    assert "ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴）" in msg("theme_internship", "mn")
    assert msg("menu_calc", "mn").count("补贴") == 1  # the Chinese already beside it: not twice
    assert "（见习）" in form_text("internship", "title", "就业见习补贴", locale="mn")
    assert "ᠲᠡᠳᠬᠦᠮᠵᠢ" not in msg("theme_internship", "zh")


def test_a_reviewed_entry_is_shown_as_written(tmp_path):
    from knowledge.catalogs import Catalogs

    (tmp_path / "mn.po").write_text('#, unreviewed\nmsgid "k"\nmsgstr "ᠲᠡᠳᠬᠦᠮᠵᠢ"\n\nmsgid "r"\nmsgstr "ᠲᠡᠳᠬᠦᠮᠵᠢ"\n\n'
                                    '#, zh-fallback\nmsgid "f"\nmsgstr ""\n', encoding="utf-8")
    (tmp_path / "zh.po").write_text('msgid "k"\nmsgstr "补贴"\n\nmsgid "r"\nmsgstr "补贴"\n\nmsgid "f"\nmsgstr "见习"\n',
                                    encoding="utf-8")
    cats = Catalogs(tmp_path)
    assert cats.text("k", "mn") == "ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴）"
    assert cats.text("r", "mn") == "ᠲᠡᠳᠬᠦᠮᠵᠢ"
    assert cats.text("f", "mn") == "见习" and not cats.translated("f", "mn")


# ------------------------------------------------------------------ no Chinese in reply-building code
# Files that compose replies. What may still hold Chinese there, each for a reason:
# docstrings and comments (not replies), and the patterns below, which read what people type.
SCANNED = ["bot/replies.py", "bot/router.py", "bot/answering.py", "bot/conversing.py", "bot/callbacks.py",
           "bot/facts.py", "bot/dialogues.py", "bot/engine.py", "bot/language.py", "bot/personas.py",
           "webhooks/wechat/render.py", "webhooks/web/chat.py", "webhooks/web/common.py", "webhooks/web/language.py"]
# (file, name of the function or module constant) whose Chinese literals recognise input.
INPUT_READERS = {
    ("bot/answering.py", "CN_DIGITS"),        # Chinese numerals in "第十二条"
    ("bot/answering.py", "clause_reference"), # "第8条", "三部分（三）项"
    ("bot/answering.py", "chinese_number"),   # 十二 → 12
    ("bot/callbacks.py", "handle"),           # "同意" / "不同意" in the consent answer
    ("bot/facts.py", "bounds"),               # the plan's own words for a bound in a quote ("以上", "不超过")
    ("bot/language.py", "LANGUAGE_WORDS"),    # "语言", "切换语言"
    ("bot/personas.py", "NAMES"),             # "我是牧民": the names people use for themselves
    ("bot/personas.py", "MONGOLIAN"),         # glossary terms by their Chinese
    ("bot/language.py", "TERM_ACTIONS"),      # glossary terms by their Chinese
    ("bot/language.py", "BROAD_TERMS"),       # glossary terms by their Chinese
}
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}


def chinese_literals(path: Path) -> list[tuple[int, str, str]]:
    """(line, enclosing function or constant, literal) of every Chinese string outside docstrings and regexes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    owner: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in REGEX_CALLS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re":
            for arg in node.args[:1]:
                for sub in ast.walk(arg):
                    skip.add(id(sub))
    for top in tree.body:
        names: list[str] = []
        if isinstance(top, (ast.FunctionDef, ast.ClassDef)):
            names = [top.name]
        elif isinstance(top, (ast.Assign, ast.AnnAssign)):
            targets = top.targets if isinstance(top, ast.Assign) else [top.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        for sub in ast.walk(top):
            owner[id(sub)] = names[0] if names else ""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value) \
                and id(node) not in skip:
            found.append((node.lineno, owner.get(id(node), ""), node.value))
    return found


@pytest.mark.parametrize("relpath", SCANNED)
def test_no_chinese_string_literal_in_reply_building_code(relpath):
    left = [(line, name, text[:30]) for line, name, text in chinese_literals(ROOT / relpath)
            if (relpath, name) not in INPUT_READERS and not name.endswith("_RE")]
    assert left == [], f"{relpath}: Chinese literals outside the catalogs: {left}"


def test_the_scan_finds_a_chinese_literal(tmp_path):
    """The scan above can fail: a reply sentence typed in code is found, a pattern is not."""
    sample = tmp_path / "sample.py"
    sample.write_text('import re\nX_RE = re.compile("见习")\n\ndef f():\n    """文档"""\n    return "补贴" + re.sub("贷", "", "")\n',
                      encoding="utf-8")
    assert [(line, text) for line, _, text in chinese_literals(sample)] == [(6, "补贴")]
