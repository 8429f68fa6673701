"""Calculators over HTTP: GET /api/v1/calculators and POST /api/v1/calculators/NAME.

The view parses the request, calls `eligibility.evaluate` with the engine's current knowledge
snapshot (so a staff override applies on the next request), and maps the package's errors:
bad input → 400 with {"error", "field"}, unknown calculator → 404 with the same shape. A body
that is not JSON (or not an object) is bad input too, never a 500. Strings in the body are
cleaned at the edge (lone surrogates, NUL) because an error message may quote them back.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from eligibility import REGISTRY, EligibilityError, UnknownCalculator, catalogue, evaluate
from eligibility.service import parse_json

from .db import get_engine
from .edge import EdgeError, clean_json

bp = Blueprint("calculators_api", __name__)


@bp.get("/api/v1/calculators")
def list_calculators():
    """Every calculator: name, title, clause, web page and the JSON Schema of its inputs."""
    return jsonify({"calculators": catalogue()})


@bp.post("/api/v1/calculators/<name>")
def compute(name: str):
    """Compute one calculator for the JSON object in the body (as_of optional, YYYY-MM-DD)."""
    engine = get_engine()
    try:
        REGISTRY.get(name)  # an unknown name is 404 whatever the body
        payload = clean_json(parse_json(request.get_data(cache=False), None))  # any content type; not JSON → 400
        with engine.db.session() as session:
            snapshot = engine.refresh(session)
        result = evaluate(name, payload, snapshot.parameters, engine.clock(), snapshot)
    except UnknownCalculator as exc:
        return jsonify(exc.to_dict()), 404
    except (EligibilityError, EdgeError) as exc:
        return jsonify(exc.to_dict()), 400
    return jsonify(result.to_dict())
