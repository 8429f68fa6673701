"""The knowledge pack on disk: read the YAML files, seed a database, export back.

The YAML files in knowledge/data are the bundled pack. `seed` fills an empty
database from them; `export` writes the database (including staff edits and
overrides) back to the same layout, so a round trip loses nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Clause, Edit, Faq, LexiconEntry, Office, Parameter, ParameterValue, Procedure, Setting
from .parameters import _plain, to_date

DATA_DIR = Path(__file__).resolve().parent / "data"
# Settings that describe this database's own state, never carried in a pack.
INTERNAL_SETTINGS = ("pack_version", "pack_fingerprint", "pack_digests", "pack_review")
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
                for name in ("offices", "lexicon", "out_of_scope", "smalltalk", "procedures", "settings")}
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
        for o in spec.get("staff_overrides") or []:
            created = o.get("created_at")
            p.values.append(ParameterValue(
                effective=to_date(o["effective"]), value=_plain(o.get("value")), source="staff",
                author=str(o.get("author") or ""), reason=str(o.get("reason") or ""),
                **({"created_at": _datetime(created)} if created else {})))
        session.add(p)
    seen: set[str] = set()
    for order, f in enumerate(pack["faqs"]):
        if f["id"] in seen:
            raise ValueError(f"duplicate FAQ id {f['id']!r} in {f['_file']}")
        seen.add(f["id"])
        session.add(Faq(id=f["id"], clause=f["clause"], sort=int(f.get("sort", order)), question=f["question"],
                        phrasings=list(f.get("phrasings") or []), answer=str(f["answer"]).strip(),
                        windows=list(f.get("windows") or []), calculator=f.get("calculator") or "",
                        intent=f.get("intent") or "answer", enabled=bool(f.get("enabled", True)),
                        updated_by=str(f.get("updated_by") or "")))
    for i, o in enumerate(pack["offices"].get("offices") or []):
        session.add(Office(id=o["id"], name=o["name"], full_name=o.get("full_name") or "", kind=o.get("kind", "county"),
                           aliases=list(o.get("aliases") or []), duties=o.get("duties") or "",
                           phone=str(o.get("phone") or ""), address=o.get("address") or "",
                           hours=o.get("hours") or "", note=o.get("note") or "", sort=i,
                           verified_by=str(o.get("verified_by") or ""), verified_at=to_date(o.get("verified_at"))))
    for p in pack["procedures"].get("procedures") or []:
        session.add(Procedure(clause=str(p["clause"]), calculator=p.get("calculator") or "", title=p["title"],
                              steps=list(p.get("steps") or []), documents=list(p.get("documents") or []),
                              where=p.get("where") or "", source=p["source"], enabled=bool(p.get("enabled", True)),
                              updated_by=str(p.get("updated_by") or ""), version=1))
    session.add_all(lexicon_rows(pack["lexicon"]))
    session.add(Setting(key="out_of_scope", value=pack["out_of_scope"].get("topics") or []))
    session.add(Setting(key="smalltalk", value=pack["smalltalk"].get("intents") or []))
    extra = {k: v for k, v in dict(pack["settings"]).items() if k not in INTERNAL_SETTINGS}
    extra.setdefault("complaint_hotline", "")
    for key, value in extra.items():
        session.add(Setting(key=key, value=value))
    session.flush()
    _remember(session, data_dir, pack)


def lexicon_rows(lex: dict[str, Any]) -> list[LexiconEntry]:
    """The lexicon file as table rows (one per kind and term; a later duplicate wins)."""
    rows: dict[tuple[str, str], LexiconEntry] = {}
    for term in lex.get("terms") or []:
        rows[("term", str(term))] = LexiconEntry(kind="term", term=str(term))
    for term, target in (lex.get("synonyms") or {}).items():
        rows[("synonym", str(term))] = LexiconEntry(kind="synonym", term=str(term), target=str(target))
    for term in lex.get("stopwords") or []:
        rows[("stopword", str(term))] = LexiconEntry(kind="stopword", term=str(term))
    return list(rows.values())


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


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
        entry = {"id": f.id, "clause": f.clause, "sort": f.sort, "question": f.question, "phrasings": f.phrasings,
                 "answer": f.answer, "windows": f.windows}
        if f.calculator:
            entry["calculator"] = f.calculator
        if f.intent != "answer":
            entry["intent"] = f.intent
        if not f.enabled:
            entry["enabled"] = False
        if f.updated_by:
            entry["updated_by"] = f.updated_by
        by_file.setdefault(f"clause-{f.clause}", []).append(entry)
    for stem, entries in by_file.items():
        dump(data_dir / "faq" / f"{stem}.yaml", {"faqs": entries})
    dump(data_dir / "offices.yaml", {"offices": [
        {"id": o.id, "name": o.name, "full_name": o.full_name, "kind": o.kind, "aliases": o.aliases, "duties": o.duties,
         "phone": o.phone, "address": o.address, "hours": o.hours, "note": o.note,
         **({"verified_by": o.verified_by} if o.verified_by else {}),
         **({"verified_at": o.verified_at.isoformat()} if o.verified_at else {})}
        for o in session.scalars(select(Office).order_by(Office.sort))]})
    procedures = session.scalars(select(Procedure).order_by(Procedure.id)).all()
    if procedures:
        dump(data_dir / "procedures.yaml", {"procedures": [
            {"clause": p.clause, "calculator": p.calculator, "title": p.title, "steps": p.steps,
             "documents": p.documents, "where": p.where, "source": p.source, "enabled": p.enabled,
             "updated_by": p.updated_by} for p in procedures]})
    lex = session.scalars(select(LexiconEntry).order_by(LexiconEntry.id)).all()
    dump(data_dir / "lexicon.yaml", {
        "terms": [e.term for e in lex if e.kind == "term"],
        "synonyms": {e.term: e.target for e in lex if e.kind == "synonym"},
        "stopwords": [e.term for e in lex if e.kind == "stopword"],
    })
    settings = {s.key: s.value for s in session.scalars(select(Setting))}
    dump(data_dir / "out_of_scope.yaml", {"topics": settings.get("out_of_scope") or []})
    dump(data_dir / "smalltalk.yaml", {"intents": settings.get("smalltalk") or []})
    dump(data_dir / "settings.yaml", {k: v for k, v in settings.items()
                                      if k not in ("out_of_scope", "smalltalk", *INTERNAL_SETTINGS)})


def today() -> dt.date:
    return dt.date.today()


# -- a newer bundled pack merged into a database staff have edited ---------------------------

FAQ_PACK_FIELDS = ("clause", "question", "phrasings", "answer", "windows", "calculator", "intent")
OFFICE_PACK_FIELDS = ("name", "full_name", "kind", "aliases", "duties", "phone", "address", "hours", "note")


def pack_files(data_dir: Path) -> list[Path]:
    return sorted([*data_dir.glob("*.yaml"), *(data_dir / "faq").glob("*.yaml")])


def fingerprint(data_dir: Path = DATA_DIR) -> str:
    """A hash of the pack's files: when it moves, the bundled pack is newer than the database's."""
    h = hashlib.sha1()
    for path in pack_files(data_dir):
        h.update(str(path.relative_to(data_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _faq_fields(f: dict[str, Any]) -> dict[str, Any]:
    return {"clause": str(f.get("clause")), "question": f["question"], "phrasings": list(f.get("phrasings") or []),
            "answer": str(f["answer"]).strip(), "windows": list(f.get("windows") or []),
            "calculator": f.get("calculator") or "", "intent": f.get("intent") or "answer"}


def _office_fields(o: dict[str, Any]) -> dict[str, Any]:
    return {"name": o["name"], "full_name": o.get("full_name") or "", "kind": o.get("kind", "county"),
            "aliases": list(o.get("aliases") or []), "duties": o.get("duties") or "",
            "phone": str(o.get("phone") or ""), "address": o.get("address") or "", "hours": o.get("hours") or "",
            "note": o.get("note") or ""}


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _digests(pack: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per entry, a digest of each field as the pack has it (to tell which fields a newer pack changed)."""
    out = {f"faq:{f['id']}": {k: _digest(v) for k, v in _faq_fields(f).items()} for f in pack["faqs"]}
    out.update({f"office:{o['id']}": {k: _digest(v) for k, v in _office_fields(o).items()}
                for o in pack["offices"].get("offices") or []})
    return out


def _set(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def _remember(session: Session, data_dir: Path, pack: dict[str, Any]) -> None:
    """Note which pack this database now follows (its files' hash and each entry's digest)."""
    _set(session, "pack_fingerprint", fingerprint(data_dir))
    _set(session, "pack_digests", _digests(pack))
    session.flush()


def edited_fields(session: Session, entity: str) -> dict[str, set[str]]:
    """Fields staff changed, per entry id ("*" for an entry staff created)."""
    out: dict[str, set[str]] = {}
    for edit in session.scalars(select(Edit).where(Edit.entity == entity)):
        fields = out.setdefault(edit.entity_id, set())
        if edit.before is None:
            fields.add("*")
        elif isinstance(edit.after, dict):
            fields.update(edit.after)
    return out


def merge_if_changed(session: Session, data_dir: Path = DATA_DIR) -> list[dict[str, Any]] | None:
    """Merge the bundled pack when its files changed since this database last followed them."""
    row = session.get(Setting, "pack_fingerprint")
    if row is not None and row.value == fingerprint(data_dir):
        return None
    if row is not None and session.bind is not None and session.bind.dialect.name == "postgresql":
        session.execute(select(Setting).where(Setting.key == "pack_fingerprint").with_for_update())
        session.refresh(row)
        if row.value == fingerprint(data_dir):
            return None  # another worker merged it while we waited
    return merge(session, data_dir)


def merge(session: Session, data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """Bring a database up to a newer pack without losing staff work.

    Clauses, the pack's own dated values, the lexicon and topic lists follow the pack. FAQ entries
    and offices nobody edited follow the pack; fields staff edited are kept, and where the pack
    changed them too the entry is listed for review (setting "pack_review"). Entries the pack no
    longer has are switched off, not deleted, unless staff created them. Returns the new review items.
    """
    pack = read_pack(data_dir)
    old = dict((session.get(Setting, "pack_digests").value or {}) if session.get(Setting, "pack_digests") else {})
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    items: list[dict[str, Any]] = []

    for c in pack["clauses"]:
        data = {k: (str(v) if k == "id" else v) for k, v in c.items()}
        row = session.get(Clause, data["id"])
        if row is None:
            session.add(Clause(**data))
        else:
            for k, v in data.items():
                setattr(row, k, v)

    for name, spec in pack["parameters"].items():
        p = session.get(Parameter, name)
        if p is None:
            p = Parameter(name=name)
            session.add(p)
        p.description, p.clause = spec.get("description", ""), str(spec["clause"])
        p.unit, p.quote = spec["unit"], spec.get("quote", "")
        file_values = {to_date(d): _plain(v) for d, v in (spec.get("values") or {}).items()}
        for v in list(p.values):
            if v.source == "file":
                if v.effective in file_values:
                    v.value = file_values.pop(v.effective)
                else:
                    p.values.remove(v)
        for day, value in file_values.items():
            p.values.append(ParameterValue(effective=day, value=value, source="file"))

    def merge_rows(kind: str, model: type, entries: list[tuple[str, dict[str, Any], dict[str, Any]]],
                   label_of: Any) -> None:
        edited = edited_fields(session, kind)
        seen = set()
        for key, fields, extra in entries:
            seen.add(key)
            row = session.get(model, key)
            if row is None:
                session.add(model(id=key, **fields, **extra))
                continue
            for k, v in extra.items():
                setattr(row, k, v)
            mine = edited.get(key, set())
            before = old.get(f"{kind}:{key}")
            conflicts = {}
            for k, v in fields.items():
                if k in mine or "*" in mine:
                    changed_in_pack = not isinstance(before, dict) or before.get(k) != _digest(v)
                    if changed_in_pack and getattr(row, k) != v:
                        conflicts[k] = {"ours": getattr(row, k), "pack": v}
                else:
                    setattr(row, k, v)
            if conflicts:
                items.append({"entity": kind, "id": key, "label": label_of(row), "kind": "changed",
                              "fields": conflicts, "at": now})
        for row in session.scalars(select(model)):
            mine = edited.get(row.id, set())
            if row.id not in seen and "*" not in mine and getattr(row, "enabled", False):
                row.enabled = False
                items.append({"entity": kind, "id": row.id, "label": label_of(row), "kind": "removed",
                              "fields": {}, "at": now})

    merge_rows("faq", Faq, [(f["id"], _faq_fields(f), {"sort": int(f.get("sort", i))})
                           for i, f in enumerate(pack["faqs"])],
               lambda r: r.question)
    merge_rows("office", Office, [(o["id"], _office_fields(o), {"sort": i})
                                  for i, o in enumerate(pack["offices"].get("offices") or [])], lambda r: r.name)

    session.execute(LexiconEntry.__table__.delete())
    session.flush()
    session.add_all(lexicon_rows(pack["lexicon"]))
    _set(session, "out_of_scope", pack["out_of_scope"].get("topics") or [])
    _set(session, "smalltalk", pack["smalltalk"].get("intents") or [])
    for key, value in dict(pack["settings"]).items():
        if key not in INTERNAL_SETTINGS and session.get(Setting, key) is None:
            session.add(Setting(key=key, value=value))

    review = [i for i in (session.get(Setting, "pack_review").value or [] if session.get(Setting, "pack_review")
                          else []) if (i["entity"], i["id"]) not in {(n["entity"], n["id"]) for n in items}]
    _set(session, "pack_review", review + items)
    _remember(session, data_dir, pack)
    version = session.get(Setting, "pack_version")
    _set(session, "pack_version", int(version.value or 0) + 1 if version else 1)
    session.flush()
    return items


def review_items(session: Session) -> list[dict[str, Any]]:
    row = session.get(Setting, "pack_review")
    return list(row.value or []) if row else []


def resolve_review(session: Session, entity: str, entity_id: str, take_pack: bool, author: str) -> None:
    """Close one review item: keep the staff version, or take the pack's (logged as a staff edit)."""
    from .service import StaffService

    items = review_items(session)
    item = next((i for i in items if i["entity"] == entity and i["id"] == entity_id), None)
    if item is None:
        return
    if take_pack:
        svc = StaffService(session)
        if item["kind"] == "removed":
            if entity == "faq":
                svc.update_faq(entity_id, {"enabled": False}, author, "采用新版知识包（已删除的条目）")
        else:
            changes = {k: v["pack"] for k, v in item["fields"].items()}
            if entity == "faq":
                svc.update_faq(entity_id, changes, author, "采用新版知识包")
            elif entity == "office":
                svc.update_office(entity_id, {k: v for k, v in changes.items() if k in svc.OFFICE_EDITABLE},
                                  author, "采用新版知识包")
    elif item["kind"] == "removed" and entity == "faq":
        from .service import StaffService

        StaffService(session).update_faq(entity_id, {"enabled": True}, author, "保留本地条目（新版知识包已删除）")
    _set(session, "pack_review", [i for i in items if i is not item])
    session.flush()


# -- a whole pack in and out as a ZIP (the console's export / import) ---------------------------

def export_zip(session: Session) -> bytes:
    """The database as a pack (YAML files) in a ZIP."""
    with tempfile.TemporaryDirectory() as tmp:
        export(session, Path(tmp))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in pack_files(Path(tmp)):
                zf.write(path, str(path.relative_to(tmp)))
        return buf.getvalue()


class PackError(ValueError):
    """An uploaded pack that cannot be read (the message is for staff)."""


MAX_ZIP_BYTES = 20 * 1024 * 1024


def unpack_zip(data: bytes, target: Path) -> Path:
    """Unpack an uploaded pack ZIP safely (no paths outside, YAML only, bounded size); the pack folder."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PackError("这不是ZIP文件，请上传从本后台导出的知识包") from None
    total = 0
    with zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            if info.is_dir():
                continue
            parts = [p for p in name.split("/") if p]
            if not name.endswith(".yaml") or ".." in parts or name.startswith("/"):
                continue
            total += info.file_size
            if total > MAX_ZIP_BYTES:
                raise PackError("知识包太大")
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(zf.read(info))
    # a ZIP of a folder holds the pack one level down
    roots = [p.parent for p in target.rglob("clauses.yaml")]
    if not roots:
        raise PackError("ZIP里没有 clauses.yaml，不是完整的知识包")
    root = min(roots, key=lambda p: len(p.parts))
    try:
        pack = read_pack(root)
    except (yaml.YAMLError, OSError, AttributeError, TypeError) as exc:
        raise PackError(f"知识包里有文件格式不对：{exc}") from None
    if not pack["clauses"] or not pack["faqs"]:
        raise PackError("知识包里没有条款或问答")
    return root


def _comparable(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "faq": {f["id"]: {**_faq_fields(f), "enabled": bool(f.get("enabled", True))} for f in pack["faqs"]},
        "office": {o["id"]: {**_office_fields(o), "verified_by": o.get("verified_by") or "",
                             "verified_at": str(o.get("verified_at") or "")}
                   for o in pack["offices"].get("offices") or []},
        "parameter": {n: {"values": {str(k): _plain(v) for k, v in (s.get("values") or {}).items()},
                          "overrides": [(str(o["effective"]), o.get("value"), o.get("reason") or "")
                                        for o in s.get("staff_overrides") or []]}
                      for n, s in pack["parameters"].items()},
        "clause": {str(c["id"]): {k: v for k, v in c.items() if k != "id"} for c in pack["clauses"]},
        "procedure": {f"{p['clause']}:{p['title']}": dict(p) for p in pack["procedures"].get("procedures") or []},
        "setting": {k: {"value": v} for k, v in pack["settings"].items() if k not in INTERNAL_SETTINGS},
    }
    return out


def diff(session: Session, data_dir: Path) -> dict[str, dict[str, list[Any]]]:
    """What importing the pack in `data_dir` would change: per kind, added / removed / changed (id, fields)."""
    with tempfile.TemporaryDirectory() as tmp:
        export(session, Path(tmp))
        ours = _comparable(read_pack(Path(tmp)))
    theirs = _comparable(read_pack(data_dir))
    out: dict[str, dict[str, list[Any]]] = {}
    for kind in ours:
        a, b = ours[kind], theirs[kind]
        changed = []
        for key in sorted(set(a) & set(b)):
            fields = [f for f in sorted(set(a[key]) | set(b[key])) if a[key].get(f) != b[key].get(f)]
            if fields:
                changed.append((key, fields))
        out[kind] = {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)), "changed": changed}
    return out


def replace(session: Session, data_dir: Path, author: str) -> None:
    """Make the database's knowledge exactly the pack in `data_dir` (runtime tables are untouched)."""
    read_pack(data_dir)  # fails before anything is deleted
    session.execute(ParameterValue.__table__.delete())
    for model in (Parameter, Faq, Office, Clause, LexiconEntry, Procedure):
        session.execute(model.__table__.delete())
    keep = {"pack_version", "ledger_retention_days"}
    session.execute(Setting.__table__.delete().where(Setting.key.notin_(keep)))
    session.flush()
    session.expunge_all()
    pack = read_pack(data_dir)
    if "ledger_retention_days" in pack["settings"]:
        session.execute(Setting.__table__.delete().where(Setting.key == "ledger_retention_days"))
    seed(session, data_dir)
    _set(session, "pack_fingerprint", fingerprint(DATA_DIR))  # the bundled pack is not merged over an import
    session.add(Edit(entity="pack", entity_id="import", before=None,
                     after={"faqs": len(pack["faqs"]), "offices": len(pack["offices"].get("offices") or [])},
                     author=author, reason="导入知识包"))
    version = session.get(Setting, "pack_version")
    _set(session, "pack_version", int(version.value or 0) + 1 if version else 1)
    session.flush()
