"""One declarative contract per report type, one module each: the single source of truth for columns,
Chinese headers and aliases, value kinds, units and keys. The parser, the loader and the warehouse are
driven by them; business rules (enums, ranges, cross-column rules) live in the Great Expectations suite
``expectations/<report_type>.json``.

Adding a report type: a module here defining ``CONTRACT`` (with its ``Publication``: the mart view leaders
read and how the review pack shows it), its suite, its ``warehouse_sql/fct_*.sql`` and ``mart_*.sql``, its
demo generator (``demo/``), a line in ``etl/reference/calendar.yaml`` and their tests. Modules are discovered:
lineage, the review pack, the indicator printout, templates and receipts follow from the contract, and
``tests/etl/contracts/test_contracts.py`` fails when a contract lacks one of its pieces.
"""

from __future__ import annotations

import importlib
import pkgutil

from etl.contracts.base import KINDS, Column, ReportContract, header_base, header_key

__all__ = ["CONTRACTS", "KINDS", "Column", "ReportContract", "header_base", "header_key"]


_VOCABULARY = {"base", "publication"}  # the modules that define what a contract is, not contracts


def _discover() -> dict[str, ReportContract]:
    contracts: dict[str, ReportContract] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _VOCABULARY:
            continue
        contract = importlib.import_module(f"{__name__}.{info.name}").CONTRACT
        contracts[contract.report_type] = contract
    return contracts


CONTRACTS: dict[str, ReportContract] = _discover()
