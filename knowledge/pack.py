"""The knowledge pack on disk: read the YAML files, seed a database, export back.

The YAML files in knowledge/data are the bundled pack. `seed` fills an empty
database from them; `export` writes the database (including staff edits and
overrides) back to the same layout, so a round trip loses nothing.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Clause, Faq, LexiconEntry, Office, Parameter, ParameterValue, Setting
from .parameters import _plain, to_date

DATA_DIR = Path(__file__).resolve().parent / "data"
FAQ_FIELDS = ("question", "phrasings", "answer", "windows", "calculator", "intent")


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def read_pack(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """Parse every pack file into plain Python structures."""
    faqs: list[dict[str, Any]] = []
    for path in sorted((data_dir / "faq").glob("*.yaml")):
        doc = _load(path)
        default_clause = doc.get("clause")
        for entry in doc.get("faqs") or []:
            entry = dict(entry)
            entry["clause"] = str(entry.get("clause", default_clause))
            entry["_file"] = path.name
            faqs.append(entry)
    optional = {name: (_load(data_dir / f"{name}.yaml") if (data_dir / f"{name}.yaml").exists() else {})
                for name in ("offices", "lexicon", "out_of_scope", "smalltalk")}
    return {
        "clauses": _load(data_dir / "clauses.yaml").get("clauses", []),
        "parameters": _load(data_dir / "parameters.yaml"),
        "faqs": faqs,
        **optional,
    }


def seed(session: Session, data_dir: Path = DATA_DIR) -> None:
    """Fill an empty database with the pack."""
    pack = read_pack(data_dir)
    for c in pack["clauses"]:
        session.add(Clause(**{k: (str(v) if k == "id" else v) for k, v in c.items()}))
    for name, spec in pack["parameters"].items():
        p = Parameter(name=name, description=spec.get("description", ""), clause=str(spec["clause"]),
                      unit=spec["unit"], quote=spec.get("quote", ""), window_param=spec.get("window") or "")
        for day, value in (spec.get("values") or {}).items():
            p.values.append(ParameterValue(effective=to_date(day), value=_plain(value), source="file"))
        session.add(p)
    seen: set[str] = set()
    for order, f in enumerate(pack["faqs"]):
        if f["id"] in seen:
            raise ValueError(f"duplicate FAQ id {f['id']!r} in {f['_file']}")
        seen.add(f["id"])
        session.add(Faq(id=f["id"], clause=f["clause"], sort=order, question=f["question"],
                        phrasings=list(f.get("phrasings") or []), answer=str(f["answer"]).strip(),
                        windows=list(f.get("windows") or []), calculator=f.get("calculator") or "",
                        intent=f.get("intent") or "answer"))
    for i, o in enumerate(pack["offices"].get("offices") or []):
        session.add(Office(id=o["id"], name=o["name"], full_name=o.get("full_name") or "", kind=o.get("kind", "county"),
                           aliases=list(o.get("aliases") or []), duties=o.get("duties") or "",
                           phone=str(o.get("phone") or ""), address=o.get("address") or "",
                           hours=o.get("hours") or "", note=o.get("note") or "", sort=i))
    lex = pack["lexicon"]
    rows: dict[tuple[str, str], LexiconEntry] = {}
    for term in lex.get("terms") or []:
        rows[("term", str(term))] = LexiconEntry(kind="term", term=str(term))
    for term, target in (lex.get("synonyms") or {}).items():
        rows[("synonym", str(term))] = LexiconEntry(kind="synonym", term=str(term), target=str(target))
    for term in lex.get("stopwords") or []:
        rows[("stopword", str(term))] = LexiconEntry(kind="stopword", term=str(term))
    session.add_all(rows.values())
    session.add(Setting(key="out_of_scope", value=pack["out_of_scope"].get("topics") or []))
    session.add(Setting(key="smalltalk", value=pack["smalltalk"].get("intents") or []))
    extra = _load(data_dir / "settings.yaml") if (data_dir / "settings.yaml").exists() else {}
    extra.setdefault("complaint_hotline", "")
    for key, value in extra.items():
        session.add(Setting(key=key, value=value))
    session.flush()


def export(session: Session, data_dir: Path) -> None:
    """Write the database back to the pack layout (staff edits and overrides included)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "faq").mkdir(exist_ok=True)

    def dump(path: Path, obj: Any) -> None:
        with path.open("w", encoding="utf-8") as fh:
            yaml.safe_dump(obj, fh, allow_unicode=True, sort_keys=False, width=120)

    clauses = session.scalars(select(Clause).order_by(Clause.sort)).all()
    dump(data_dir / "clauses.yaml", {"clauses": [
        {k: getattr(c, k) for k in ("id", "sort", "section", "theme", "title", "summary", "text",
                                    "lead_offices", "responsible_offices", "target_groups", "keywords")}
        for c in clauses]})
    params: dict[str, Any] = {}
    for p in session.scalars(select(Parameter).order_by(Parameter.name)):
        values: dict[str, Any] = {}
        overrides = []
        for v in p.values:
            if v.source == "file":
                values[v.effective.isoformat()] = v.value
            else:
                overrides.append({"effective": v.effective.isoformat(), "value": v.value, "author": v.author,
                                  "reason": v.reason, "created_at": v.created_at.isoformat() if v.created_at else ""})
        params[p.name] = {"description": p.description, "clause": p.clause, "unit": p.unit, "quote": p.quote,
                          "values": values}
        if p.window_param:
            params[p.name]["window"] = p.window_param
        if overrides:
            params[p.name]["staff_overrides"] = overrides
    dump(data_dir / "parameters.yaml", params)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for f in session.scalars(select(Faq).order_by(Faq.sort, Faq.id)):
        entry = {"id": f.id, "clause": f.clause, "question": f.question, "phrasings": f.phrasings,
                 "answer": f.answer, "windows": f.windows}
        if f.calculator:
            entry["calculator"] = f.calculator
        if f.intent != "answer":
            entry["intent"] = f.intent
        if not f.enabled:
            entry["enabled"] = False
        by_file.setdefault(f"clause-{f.clause}", []).append(entry)
    for stem, entries in by_file.items():
        dump(data_dir / "faq" / f"{stem}.yaml", {"faqs": entries})
    dump(data_dir / "offices.yaml", {"offices": [
        {"id": o.id, "name": o.name, "full_name": o.full_name, "kind": o.kind, "aliases": o.aliases, "duties": o.duties,
         "phone": o.phone, "address": o.address, "hours": o.hours, "note": o.note}
        for o in session.scalars(select(Office).order_by(Office.sort))]})
    lex = session.scalars(select(LexiconEntry).order_by(LexiconEntry.id)).all()
    dump(data_dir / "lexicon.yaml", {
        "terms": [e.term for e in lex if e.kind == "term"],
        "synonyms": {e.term: e.target for e in lex if e.kind == "synonym"},
        "stopwords": [e.term for e in lex if e.kind == "stopword"],
    })
    settings = {s.key: s.value for s in session.scalars(select(Setting))}
    dump(data_dir / "out_of_scope.yaml", {"topics": settings.get("out_of_scope") or []})
    dump(data_dir / "smalltalk.yaml", {"intents": settings.get("smalltalk") or []})
    dump(data_dir / "settings.yaml", {k: v for k, v in settings.items() if k not in ("out_of_scope", "smalltalk")})


def today() -> dt.date:
    return dt.date.today()
