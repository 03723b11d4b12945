"""Habits the tree keeps: no module imports another module's private names (ruff's PLC2701 misses imports
inside one package, so this reads every first-party file), and the ruff configuration exists where `make test`
runs it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("etl", "demo", "bench", "dags", "plugins", "tests")
# Third-party internals may be touched in these modules only, each behind a version guard.
THIRD_PARTY_INTERNALS = {"etl/ingest/validate/gx_internals.py", "etl/openpyxl_internals.py"}


def python_files() -> list[Path]:
    return sorted(p for top in FIRST_PARTY for p in (REPO / top).rglob("*.py") if "office_suite" not in p.parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def first_party(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in {
        *FIRST_PARTY,
        "conftest",
        "workbooks",
        "warehouse_helpers",
        "hostile",
    }


def private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        a.asname or a.name.split(".")[-1]
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and first_party(n.module)
        for a in n.names
        if not is_private(a.name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            rel = str(path.relative_to(REPO))
            third_party_ok = rel in THIRD_PARTY_INTERNALS and not first_party(node.module)
            found += [
                f"{rel}:{node.lineno} from {node.module} import {a.name}"
                for a in node.names
                if is_private(a.name) and not third_party_ok
            ]
        elif (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.value.id not in ("self", "cls")
        ):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    found = [hit for path in python_files() for hit in private_imports(path)]
    assert found == []


def test_the_check_finds_a_private_import(tmp_path):
    """The check itself can fail: a planted private import is reported."""
    planted = REPO / "etl" / "_habit_probe_tmp.py"
    planted.write_text(
        "from etl.ingest.load.record import _secret\nfrom etl import load\nload._other()\n", encoding="utf-8"
    )
    try:
        assert len(private_imports(planted)) == 2
    finally:
        planted.unlink()


@pytest.mark.parametrize("rule", ["C90", "PLC2701", "max-complexity"])
def test_ruff_is_configured_with_the_bounds(rule):
    assert rule in (REPO / "pyproject.toml").read_text(encoding="utf-8")
