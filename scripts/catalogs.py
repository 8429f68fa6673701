"""Message catalogs (gettext PO, Babel): import the YAML catalogs, collect form texts, extract keys.

    python scripts/catalogs.py import-yaml [--fallback-new]   # YAML catalogs → zh.po; mn.po kept in step
    python scripts/catalogs.py update [--fallback-new]        # the same, then check the keys used in code
    python scripts/catalogs.py check                          # exit 1 when `update` would change a file
    python scripts/catalogs.py status                         # what is translated, unreviewed, in Chinese

`make catalogs` runs `update`. Every step is idempotent: run twice, the second run changes nothing.

Sources of the Chinese (zh.po):
- bot/messages/zh*.yaml → bot/locale/zh.po and eligibility/messages/zh.yaml (nested keys, dotted)
  → eligibility/locale/zh.po, while those files exist (the YAML catalogs predate the PO files; once
  they are deleted the PO files are the only source). An entry imported from a YAML file carries
  that file as its location; when the key leaves the file, the entry leaves zh.po. Keys added
  straight to zh.po (no YAML location) are never touched by the import.
- eligibility/forms/*.yaml → `forms.<calculator>.…` entries of eligibility/locale/zh.po: intro,
  title, and per slot question, invalid, too_small, too_large, yes_label, no_label, label, and per
  option `<slot>.<value>` (its label), `.short`, `.confirm`. The form YAML stays their source (the
  dialogue reads it); zh.po has them so that translators see every text in one place.

mn.po follows zh.po: a new key gets an empty entry (untranslated: the tests fail until someone
translates it or marks it `zh-fallback`; `--fallback-new` marks new keys `zh-fallback` at once,
for whoever merges and decides that Chinese is right for now); each entry keeps the Chinese it was
made from in a `#. zh:` comment, and gets the flag `zh-changed` when that Chinese has changed
since; entries whose key left zh.po are dropped.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bot" / "locale"
ELIGIBILITY_DIR = ROOT / "eligibility" / "locale"
FORMS_DIR = ROOT / "eligibility" / "forms"
SLOT_TEXTS = ("question", "invalid", "too_small", "too_large", "yes_label", "no_label", "label")
OPTION_TEXTS = ("short", "confirm")
FALLBACK, CHANGED = "zh-fallback", "zh-changed"
HEADERS = {
    "zh": "Chinese (Simplified) source text of jiuye's {what}. Message ids are keys.",
    "mn": "Traditional Mongolian (mn-Mong) of jiuye's {what}. Flags: unreviewed (no native review yet: "
          "policy terms are shown with their Chinese), zh-fallback (shown in Chinese on purpose), "
          "zh-changed (the Chinese changed since this was translated). `#. zh:` is the source.",
}


@dataclass
class Domain:
    name: str
    directory: Path
    yaml_files: list[Path]
    flat_yaml: bool          # eligibility's YAML nests keys (internship.months_short)
    code_dirs: list[Path]
    what: str

    def po(self, locale: str) -> Path:
        return self.directory / f"{locale}.po"


def domains() -> list[Domain]:
    bot_yaml = sorted((ROOT / "bot" / "messages").glob("zh.yaml")) + sorted((ROOT / "bot" / "messages").glob("zh-*.yaml"))
    elig_yaml = sorted((ROOT / "eligibility" / "messages").glob("zh.yaml"))
    return [Domain("bot", BOT_DIR, bot_yaml, True, [ROOT / "bot", ROOT / "webhooks"], "conversation engine and web pages"),
            Domain("eligibility", ELIGIBILITY_DIR, elig_yaml, False, [ROOT / "eligibility"], "calculators and dialogue forms")]


def rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------------- reading
def read_catalog(path: Path, locale: str, what: str) -> Catalog:
    if path.is_file():
        with path.open("rb") as fh:
            return read_po(fh, locale=None)
    catalog = Catalog(locale=None, project="jiuye", version="1", header_comment="# " + HEADERS[locale].format(what=what),
                      msgid_bugs_address="", last_translator="", language_team="", fuzzy=False)
    return catalog


def flatten(node: Any, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif node is not None:
        flat[prefix] = str(node)
    return flat


def yaml_messages(domain: Domain) -> dict[Path, dict[str, str]]:
    found: dict[Path, dict[str, str]] = {}
    for path in domain.yaml_files:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        found[path] = {str(k): str(v) for k, v in data.items()} if domain.flat_yaml else flatten(data)
    return found


def form_messages(titles: dict[str, str]) -> dict[Path, dict[str, str]]:
    """The texts of every form YAML as `forms.<calculator>.…` keys."""
    found: dict[Path, dict[str, str]] = {}
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        calc = str(data["calculator"])
        texts: dict[str, str] = {}
        base = f"forms.{calc}"
        title = data.get("title") or titles.get(f"titles.{calc}")
        if title:
            texts[f"{base}.title"] = str(title)
        if data.get("intro"):
            texts[f"{base}.intro"] = str(data["intro"])
        for slot in data.get("slots") or data.get("inputs") or []:
            name = slot["name"]
            for field in SLOT_TEXTS:
                if slot.get(field):
                    texts[f"{base}.{name}.{field}"] = str(slot[field])
            for option in slot.get("options") or []:
                value = str(option["value"])
                if option.get("label"):
                    texts[f"{base}.{name}.{value}"] = str(option["label"])
                for field in OPTION_TEXTS:
                    if option.get(field):
                        texts[f"{base}.{name}.{value}.{field}"] = str(option[field])
        found[path] = texts
    return found


# ---------------------------------------------------------------------------------- updating
def update_source(catalog: Catalog, sources: dict[Path, dict[str, str]]) -> None:
    """zh.po ← the YAML files: add or change their keys; drop entries of theirs whose key left them."""
    owned = {rel(p) for p in sources}
    wanted: dict[str, tuple[str, str]] = {}
    for path, messages in sources.items():
        for key, text in messages.items():
            wanted[key] = (text, rel(path))
    for message in list(catalog):
        if not message.id:
            continue
        origin = {loc for loc, _ in message.locations}
        if origin & owned and message.id not in wanted:
            del catalog[message.id]
    for key, (text, origin) in wanted.items():
        existing = catalog.get(key)
        if existing is None:
            catalog.add(key, text, locations=[(origin, None)])
        else:
            existing.string = text
            existing.locations = [(origin, None)]


def sync_translation(source: Catalog, target: Catalog, fallback_new: bool) -> None:
    """mn.po ← zh.po: every key present, each with the Chinese it follows; gone keys dropped."""
    keys = [m.id for m in source if m.id]
    for message in list(target):
        if message.id and message.id not in source:
            del target[message.id]
    for key in keys:
        zh = source[key].string
        entry = target.get(key)
        if entry is None:
            flags = [FALLBACK] if fallback_new else []
            target.add(key, "", auto_comments=[f"zh: {zh}"], flags=flags)
            continue
        before = next((c[3:].strip() for c in entry.auto_comments if c.startswith("zh:")), None)
        others = [c for c in entry.auto_comments if not c.startswith("zh:")]
        entry.auto_comments = [f"zh: {zh}"] + others
        if before is not None and before != zh.strip() and entry.string:
            entry.flags.add(CHANGED)
        entry.locations = []


def dump(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100000, sort_output=True, include_lineno=False, omit_header=False)
    text = buffer.getvalue().decode("utf-8")
    # Babel stamps the header with today's date and its version: a re-run must not change the file.
    text = re.sub(r'"(POT-Creation-Date|PO-Revision-Date|Generated-By): [^"]*\\n"\n', "", text)
    return text.encode("utf-8")


def build(fallback_new: bool = False) -> dict[Path, bytes]:
    """What the catalog files should contain now."""
    out: dict[Path, bytes] = {}
    bot, elig = domains()
    for domain in (bot, elig):
        zh = read_catalog(domain.po("zh"), "zh", domain.what)
        sources = yaml_messages(domain)
        if domain is elig:
            titles = {m.id: m.string for m in zh if m.id and str(m.id).startswith("titles.")}
            for messages in sources.values():
                titles.update({k: v for k, v in messages.items() if k.startswith("titles.")})
            sources.update(form_messages(titles))
        update_source(zh, sources)
        mn = read_catalog(domain.po("mn"), "mn", domain.what)
        sync_translation(zh, mn, fallback_new)
        out[domain.po("zh")] = dump(zh)
        out[domain.po("mn")] = dump(mn)
    return out


def write(files: dict[Path, bytes]) -> list[Path]:
    changed = []
    for path, data in files.items():
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            changed.append(path)
    return changed


# ---------------------------------------------------------------------------------- extraction
KEY_FUNCTIONS = {"msg", "t", "m"}
KEY_RE = re.compile(r"[a-z][a-z0-9_.]*")


def python_keys(path: Path) -> list[tuple[str, int]]:
    """Literal keys passed first to msg()/t()/.m() in a Python file; both keys of `m("a" if x else "b")`."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in KEY_FUNCTIONS:
            continue
        arg = node.args[0]
        options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
        found += [(o.value, node.lineno) for o in options
                  if isinstance(o, ast.Constant) and isinstance(o.value, str) and KEY_RE.fullmatch(o.value)]
    return found


def used_keys(domain: Domain) -> dict[str, list[str]]:
    """Literal keys used in the domain's code (Python by its syntax tree) and templates (Babel's Jinja extractor)."""
    found: dict[str, list[str]] = {}
    for directory in domain.code_dirs:
        for path in sorted(directory.rglob("*.py")):
            for key, lineno in python_keys(path):
                found.setdefault(key, []).append(f"{rel(path)}:{lineno}")
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(directory), method_map=[("**/templates/**.html", "jinja2.ext:babel_extract")],
                keywords={"t": None}, comment_tags=(), options_map={"**/templates/**.html": {"extensions": ""}}):
            key = message if isinstance(message, str) else message[0]
            if key and KEY_RE.fullmatch(key):
                found.setdefault(key, []).append(f"{rel(directory / filename)}:{lineno}")
    return found


def missing_keys() -> dict[str, list[str]]:
    """Keys used in code that the zh catalog lacks (they would raise KeyError at run time)."""
    missing: dict[str, list[str]] = {}
    for domain in domains():
        catalog = read_catalog(domain.po("zh"), "zh", domain.what)
        for key, where in used_keys(domain).items():
            if key not in catalog:
                missing[f"{domain.name}:{key}"] = where
    return missing


def status() -> list[str]:
    lines = []
    for domain in domains():
        mn = read_catalog(domain.po("mn"), "mn", domain.what)
        entries = [m for m in mn if m.id]
        counts = {
            "translated, unreviewed": sum(1 for m in entries if m.string and "unreviewed" in m.flags),
            "translated, reviewed": sum(1 for m in entries if m.string and "unreviewed" not in m.flags
                                        and FALLBACK not in m.flags),
            "in Chinese on purpose (zh-fallback)": sum(1 for m in entries if FALLBACK in m.flags),
            "untranslated": sum(1 for m in entries if not m.string and FALLBACK not in m.flags),
            "Chinese changed since translated": sum(1 for m in entries if CHANGED in m.flags),
        }
        lines.append(f"{domain.name} ({len(entries)} keys): " + "; ".join(f"{k} {v}" for k, v in counts.items()))
    return lines


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("import-yaml", "update", "check", "status"))
    parser.add_argument("--fallback-new", action="store_true", help="mark keys new to mn.po as zh-fallback")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.command == "status":
        print("\n".join(status()))
        return 0
    files = build(args.fallback_new)
    if args.command == "check":
        stale = [rel(p) for p, data in files.items() if not p.is_file() or p.read_bytes() != data]
        if stale:
            print("catalogs out of date (run `make catalogs`): " + ", ".join(stale))
            return 1
        return 0
    for path in write(files):
        print(f"updated {rel(path)}")
    if args.command == "update":
        missing = missing_keys()
        for key, where in sorted(missing.items()):
            print(f"missing from zh.po: {key} (used at {', '.join(where[:3])})", file=sys.stderr)
        if missing:
            return 1
        print("\n".join(status()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
