"""The demo generators are registered by report type: every contract has exactly one generator, every
generator writes only known report types, and every file the demo writes is claimed (submitted_at) by
exactly one generator.

Parametrized over ``etl.contracts.CONTRACTS``: a new contract without a demo generator fails here.
"""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

import demo
from demo import DEMO_PERIODS, GENERATORS, generator_modules, submitted_at, write_demo_files
from etl.contracts import CONTRACTS

ROOT = Path(__file__).resolve().parents[2]
MODULES = generator_modules()


def generator_of(report_type: str) -> ModuleType:
    """The one generator module that writes ``report_type`` (AssertionError if none or several)."""
    writers = [m for m in MODULES if report_type in m.REPORT_TYPES]
    assert len(writers) == 1, (
        f"report type {report_type!r} needs exactly one demo generator (a module in demo/ "
        f"with it in REPORT_TYPES), found {[m.__name__ for m in writers]}"
    )
    assert GENERATORS.get(report_type) is writers[0], f"demo.GENERATORS[{report_type!r}] is not its module"
    return writers[0]


@pytest.mark.parametrize("report_type", sorted(CONTRACTS))
def test_every_contract_has_exactly_one_demo_generator(report_type):
    module = generator_of(report_type)
    assert report_type in module.PERIODS and DEMO_PERIODS[report_type] == module.PERIODS[report_type]


def test_the_registry_check_fails_for_a_report_type_without_a_generator():
    with pytest.raises(AssertionError, match="needs exactly one demo generator"):
        generator_of("no_such_report_type")


def test_registry_covers_exactly_the_contracts():
    assert set(GENERATORS) == set(CONTRACTS) == set(DEMO_PERIODS)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_generator_writes_known_report_types(module):
    assert isinstance(module.REPORT_TYPES, tuple) and module.REPORT_TYPES
    assert len(set(module.REPORT_TYPES)) == len(module.REPORT_TYPES)
    unknown = set(module.REPORT_TYPES) - set(CONTRACTS)
    assert not unknown, f"{module.__name__} writes report types with no contract: {sorted(unknown)}"
    assert set(module.PERIODS) == set(module.REPORT_TYPES)
    assert callable(module.write) and callable(module.submitted_at)
    assert all(GENERATORS[t] is module for t in module.REPORT_TYPES)


def test_generators_are_discovered_from_the_package():
    names = {p.stem for p in Path(demo.__file__).parent.glob("*.py")} - {"__init__", "common"}
    assert {m.__name__.rsplit(".", 1)[1] for m in MODULES} == names


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    return write_demo_files(tmp_path_factory.mktemp("registry"))


def test_every_written_file_has_one_submission_time(written):
    beijing = ZoneInfo("Asia/Shanghai")
    claimed_by: dict[str, set[str]] = {}
    for path in written:
        claims = [m for m in MODULES if m.submitted_at(path) is not None]
        assert len(claims) == 1, (path.name, [m.__name__ for m in claims])
        (module,) = claims
        claimed_by.setdefault(module.__name__, set()).add(path.name)
        when = submitted_at(path)
        assert isinstance(when, datetime) and when == module.submitted_at(path)
        assert datetime.fromtimestamp(path.stat().st_mtime, beijing).replace(tzinfo=None) == when
    assert set(claimed_by) == {m.__name__ for m in MODULES}, "every generator writes at least one file"


def test_submitted_at_refuses_a_file_no_generator_wrote(tmp_path):
    with pytest.raises(ValueError, match="no demo generator"):
        submitted_at(tmp_path / "明山区" / "明山区_不认识的报表_2022-12.xlsx")


def _underscore_imports(path: Path, packages: tuple[str, ...]) -> list[str]:
    """``from <package>… import _name`` and ``<demo module>._name`` uses in one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    demo_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in packages:
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "__future__":
                    bad.append(f"{path.name}:{node.lineno} from {node.module} import {alias.name}")
                if node.module == "demo" or node.module.startswith("demo."):
                    demo_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "demo":
                    demo_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in demo_aliases
        ):
            bad.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return bad


def test_nothing_imports_a_private_demo_name():
    """No demo module imports another module's private name (of demo or etl), and nothing outside imports a
    private name of demo."""
    bad = [b for path in sorted((ROOT / "demo").glob("*.py")) for b in _underscore_imports(path, ("demo", "etl"))]
    users = [
        *sorted((ROOT / "bench").glob("*.py")),
        ROOT / "etl" / "__main__.py",
        *sorted((ROOT / "tests").rglob("*.py")),
    ]
    bad += [b for path in users for b in _underscore_imports(path, ("demo",))]
    assert not bad, bad
