"""Command line: `python -m eligibility list` and `python -m eligibility calc NAME --json '{...}'`.

Opens the database named by the settings (knowledge.settings) so staff overrides apply.
Success prints the result JSON; bad input prints {"error": "...", "field": "..."} and exits 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from knowledge.db import Database
from knowledge.service import load_snapshot
from knowledge.settings import load_settings

from .errors import EligibilityError
from .registry import REGISTRY
from .service import catalogue, evaluate, parse_json, today

EXIT_BAD_INPUT = 2


def _print(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def cmd_list(_args: argparse.Namespace) -> int:
    """Print every calculator with its clause, title and JSON Schema of inputs."""
    _print(catalogue())
    return 0


def cmd_calc(args: argparse.Namespace) -> int:
    """Compute calculator NAME for the inputs given as a JSON object."""
    try:
        REGISTRY.get(args.name)
        payload = parse_json(args.json, "json")
        settings = load_settings()
        database = Database(settings["DATABASE_URL"]).init()
        try:
            with database.session() as session:
                snapshot = load_snapshot(session)
            result = evaluate(args.name, payload, snapshot.parameters, today(settings), snapshot)
        finally:
            database.dispose()
    except EligibilityError as exc:
        _print(exc.to_dict())
        return EXIT_BAD_INPUT
    _print(result.to_dict())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eligibility", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help=cmd_list.__doc__)
    p_list.set_defaults(func=cmd_list)
    p_calc = sub.add_parser("calc", help=cmd_calc.__doc__)
    p_calc.add_argument("name", help="calculator name, e.g. internship")
    p_calc.add_argument("--json", default="{}", help="inputs as a JSON object (as_of optional, YYYY-MM-DD)")
    p_calc.set_defaults(func=cmd_calc)
    args = parser.parse_args(argv)
    return args.func(args)
