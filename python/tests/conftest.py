"""Shared helpers: the repository's fixtures and the tables that go with
them (the same files the Rust tests read)."""
import importlib
import json
import os
import pathlib
from typing import Dict, List, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
DATA = pathlib.Path(__file__).resolve().parent / "data"

# CI sets this, so that tests needing jsonschema or python-idmefv2 fail
# rather than skip when either is missing.
REQUIRE_ALL = os.environ.get("IDMEFV2_RS_TEST_ALL") == "1"


def fixture_files(folder: str) -> List[pathlib.Path]:
    files = sorted((FIXTURES / folder).glob("*.json"))
    assert files, f"no fixtures in {folder}"
    return files


def table(folder: str) -> Dict[str, Tuple[str, ...]]:
    """EXPECTED.tsv of a fixture folder: file stem or name -> columns."""
    rows: Dict[str, Tuple[str, ...]] = {}
    for line in (FIXTURES / folder / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, *rest = line.split("\t")
        rows[name] = tuple(rest)
    return rows


def optional(module: str):
    """Imports a test dependency; skips without it, fails in CI."""
    if REQUIRE_ALL:
        return importlib.import_module(module)
    return pytest.importorskip(module)


def load(path: pathlib.Path):
    return json.loads(path.read_bytes())
