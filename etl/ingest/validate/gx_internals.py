"""Every use of Great Expectations' internals, in one place, behind one version guard.

The pipeline reaches below GX's public API in five places, for speed, for a page GX cannot make on its
own, or to keep GX inside the shared folder:

* ``shortcuts``: seven pieces of GX's bookkeeping cut short while a suite is validated (no DataFrame
  fingerprint; an expectation's configuration, a metric's id and kwargs, and the rows of a column pair or
  a row condition computed once; a suite's metric graph planned once per process; the failing rows'
  index columns taken a column at a time);
* ``format_map_output``: GX's own formatting of a map expectation's result, to merge the results of a
  file validated chunk by chunk into the result GX would give for the whole file;
* ``summary_index_builder``: a Data Docs index builder that lists a validation from a small cache
  instead of deserialising its whole stored result;
* ``copy_static_assets_when_changed``: the site's static files copied when they are missing or changed,
  not once per page;
* ``SharedFolderStoreBackend``: GX's file store, never following a link a clerk left in gx/ or data_docs/.

They were written against ``TESTED_GX`` (tests/etl/ingest/validate compare every suite with and
without them). On any other GX version each falls back to plain GX — validation as GX ships it, chunk
results merged by counting, GX's default Data Docs index, static files copied with every page, GX's own
file store (which follows links) — and says so once in the log.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

TESTED_GX = "1.24"  # major.minor the internals below were written and tested against
_PATCH_LOCK = threading.RLock()  # one validation at a time cuts GX short
_PLAIN_TYPES = (str, int, float, bool, type(None))


@lru_cache(maxsize=1)
def internals_usable() -> bool:
    """Whether the installed GX is the version these internals were tested against (logged once if not)."""
    import great_expectations as gx

    version = getattr(gx, "__version__", "unknown")
    if ".".join(version.split(".")[:2]) == TESTED_GX:
        return True
    log.warning(
        "Great Expectations %s is not the tested %s.x: validating with plain GX (no shortcuts, chunk results "
        "merged by counting, GX's default Data Docs index)",
        version,
        TESTED_GX,
    )
    return False


@contextmanager
def shortcuts(enabled: bool = True, index_columns: tuple[str, ...] = ()):
    """Seven pieces of GX's own bookkeeping, cut short while one suite is validated; the checks themselves
    and their results are unchanged (tests/etl/ingest/validate/test_suite.py compares every suite with and
    without).

    * No DataFrame fingerprint: GX hashes every cell of the frame (md5 of pandas' hash) into the result's
      batch_markers, twice per validation. The raw file's sha256 already identifies what was validated
      (stg_file_load and every fact row's lineage).
    * ``Expectation.configuration`` computed once per expectation object: GX rebuilds it from the pydantic
      model about a hundred times per expectation while it plans the metrics, half of a register's
      validation time. It depends only on the expectation's fields, which do not change while it is
      validated; callers that modify a configuration deep-copy it first.
    * ``IDDict.to_id`` (the md5 of a metric's JSON-serialised kwargs) computed once per distinct kwargs: GX
      asks for it about 1,600 times per register validation, for 28 distinct kwargs. Only kwargs made of
      plain values are memoised, by their exact values and types; anything else is computed as GX does.
    * A column pair's or column list's rows (``get_domain_records``: the batch less the rows its
      ``ignore_row_if`` skips) filtered once per domain: GX filters the whole frame again for each of the
      four metrics of a pair expectation, about 0.6 s of a million-row 12345 export. A domain with a row
      condition (``in_service_hall == False``) is filtered once too: GX runs ``DataFrame.query`` — parsing
      the condition anew — for each of its metrics. A single column's domain is that column and the
      result's ``index_columns`` only: GX drops a column's nulls from the frame it is given for each of
      its metrics, and the whole frame's other columns were copied each time for nothing. Only domains
      of plain values are kept, for the one batch this validation has.
    * ``get_metric_kwargs`` (a metric's domain and value kwargs for an expectation) computed once per
      metric, expectation type and kwargs: GX builds a new pydantic expectation and its configuration for
      each of about 190 calls per validation, a third of a register's validation time. Only plain kwargs
      are memoised, by their exact values; each caller gets its own copy.
    * The metric dependency graph of a suite's expectations (``Validator._generate_metric_dependency_
      subgraphs_for_each_expectation_configuration``) planned once per process: it depends only on the
      expectations as configured (parameters filled in), the result format, the batch's id — the same for
      every frame (etl.ingest.validate.suite.batch_definition) — and the execution engine's type, not on the
      data, except for the expectation types in ``PLANNED_FROM_DATA``, whose plans are never kept; planning
      again is about a third of a small file's validation. See ``_planned``.
    * The failing rows' values and index columns (``compute_unexpected_pandas_indices``, where the result
      names its index columns) taken a column at a time: GX looks up each failing row's every value with
      ``DataFrame.at``, 22 s of a 200,000-row export whose every row fails one rule. See
      ``unexpected_indices``."""
    if not enabled or not internals_usable():
        yield
        return
    with _PATCH_LOCK:  # GX's originals read under the lock too: never another validation's patches
        yield from _cut_short(index_columns)


def _cut_short(index_columns: tuple[str, ...]):
    """The body of ``shortcuts``: GX's originals kept, the shortcuts in place while it yields."""
    from great_expectations.core.id_dict import IDDict
    from great_expectations.execution_engine import pandas_execution_engine as engine
    from great_expectations.expectations.expectation import Expectation

    computed = Expectation.__dict__["configuration"]
    memo: dict[int, tuple[object, object]] = {}  # id → (the expectation, kept alive so ids stay unique; config)

    def configuration(self):
        hit = memo.get(id(self))
        if hit is None or hit[0] is not self:
            hit = memo[id(self)] = (self, computed.fget(self))
        return hit[1]

    hashed = IDDict.to_id
    ids: dict[tuple, object] = {}

    def to_id(self, id_keys=None, id_ignore_keys=None):
        try:
            key = (
                type(self),
                plain_key(self),
                None if id_keys is None else tuple(sorted(id_keys)),
                None if id_ignore_keys is None else tuple(sorted(id_ignore_keys)),
            )
        except TypeError:  # a value that is not plain (or keys that do not sort): as GX does
            return hashed(self, id_keys, id_ignore_keys)
        if key not in ids:
            ids[key] = hashed(self, id_keys, id_ignore_keys)
        return ids[key]

    filtered = engine.PandasExecutionEngine.get_domain_records
    domains: dict[tuple, object] = {}

    def get_domain_records(self, domain_kwargs: dict):
        whole_batch = "ignore_row_if" not in domain_kwargs and not domain_kwargs.get("row_condition")
        if whole_batch and not isinstance(domain_kwargs.get("column"), str):
            return filtered(self, domain_kwargs)  # the batch itself: nothing to filter
        try:
            key = (id(self), self.batch_manager.active_batch_data_id, plain_key(domain_kwargs))
        except TypeError:
            return filtered(self, domain_kwargs)
        if key not in domains:
            records = filtered(self, domain_kwargs)
            domains[key] = _one_column(records, domain_kwargs["column"], index_columns) if whole_batch else records
        return domains[key]

    from great_expectations.expectations import registry

    metric_kwargs = registry.get_metric_kwargs
    kwargs_of: dict[tuple, dict] = {}
    get_metric_kwargs = _memoised(metric_kwargs, kwargs_of)
    users = _metric_kwargs_users()
    from great_expectations.validator.validator import Validator

    plan = Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration
    from great_expectations.expectations.metrics.map_metric_provider import map_condition_auxilliary_methods as rows

    indices = rows.compute_unexpected_pandas_indices
    planned, taken_by_column = _planned(plan), unexpected_indices(indices)  # made (imports done) before any patch
    with _PATCH_LOCK:
        threshold = engine.HASH_THRESHOLD
        engine.HASH_THRESHOLD = -1  # "df.memory_usage().sum() < HASH_THRESHOLD" never holds: no fingerprint
        Expectation.configuration = property(configuration, doc=computed.__doc__)
        IDDict.to_id = to_id
        engine.PandasExecutionEngine.get_domain_records = get_domain_records
        for module in users:
            module.get_metric_kwargs = get_metric_kwargs
        Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration = planned
        rows.compute_unexpected_pandas_indices = taken_by_column
        try:
            yield
        finally:
            rows.compute_unexpected_pandas_indices = indices
            Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration = plan
            for module in users:
                module.get_metric_kwargs = metric_kwargs
            engine.PandasExecutionEngine.get_domain_records = filtered
            IDDict.to_id = hashed
            Expectation.configuration = computed
            engine.HASH_THRESHOLD = threshold
            memo.clear()
            ids.clear()
            domains.clear()
            kwargs_of.clear()


def _one_column(records, column: str, index_columns: tuple[str, ...]):
    """The batch's ``column`` and the index columns a result lists unexpected rows by (the batch itself
    when it has no such column: GX says why)."""
    if column not in records.columns:
        return records
    return records[[column, *(c for c in index_columns if c in records.columns and c != column)]]


PLANS_KEPT = 64  # suites' planned graphs kept per process (seven report types, a few result formats each)
PLANS: OrderedDict[tuple, list] = OrderedDict()  # key → [(evaluated configuration, the graph's edges)]
# GX's expectations whose get_validation_dependencies reads the batch (the column's type decides the plan):
# a suite with one of them is planned for every frame (tests/etl/ingest/validate/test_gx_internals.py checks
# that no other core expectation of the installed GX does so)
PLANNED_FROM_DATA = frozenset({"expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"})


def unexpected_indices(computed):
    """GX's ``compute_unexpected_pandas_indices`` taking each column's values at once where the result
    names its index columns (unexpected_index_column_names, no named index, values not excluded): a dict
    per failing row of its domain columns' and index columns' values, keyed in GX's order, the values as
    ``DataFrame.at`` gives them (each column's array iterated: numpy scalars, Timestamps, NA). Otherwise GX's
    own."""
    from great_expectations.expectations.metrics.util import get_dbms_compatible_column_names

    def compute_unexpected_pandas_indices(
        domain_records_df, expectation_domain_column_list, result_format, execution_engine, metrics
    ):
        names = result_format.get("unexpected_index_column_names")
        if (
            domain_records_df.index.names[0] is not None
            or not names
            or result_format.get("exclude_unexpected_values", False)
            or not expectation_domain_column_list
        ):
            return computed(
                domain_records_df=domain_records_df,
                expectation_domain_column_list=expectation_domain_column_list,
                result_format=result_format,
                execution_engine=execution_engine,
                metrics=metrics,
            )
        if not len(domain_records_df):
            return []  # as GX: no failing row, nothing looked up
        index = [
            get_dbms_compatible_column_names(
                column_names=name,
                batch_columns_list=metrics["table.columns"],
                error_message_template='Error: The unexpected_index_column "{column_name:s}" does not exist in '
                "Dataframe. Please check your configuration and try again.",
            )
            for name in names
        ]
        keys = list(dict.fromkeys(key for column in expectation_domain_column_list for key in (column, *index)))
        values = [domain_records_df[key].array for key in keys]
        return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]

    return compute_unexpected_pandas_indices


def _planned(plan):
    """GX's planning of a suite's metric graph, remembered by what it depends on (``shortcuts``). Kept: each
    expectation's evaluated configuration and its graph's edges (metric configurations: column names,
    value sets, the batch's id — no data, no execution engine); given back as fresh configurations and
    graphs on this validation's engine. A plan with an error (an expectation GX cannot plan) is not kept:
    GX plans it again and reports it as it does. GX rewrites a kept metric's column names to the batch's
    spelling while it resolves them (``get_dbms_compatible_metric_domain_kwargs``: the first column equal
    to it but for case); a metric's id is fixed when it is made, and any spelling of a name leads to the same
    first column, so a kept plan resolves exactly as a new one."""
    from great_expectations.validator.validation_graph import ValidationGraph
    from great_expectations.validator.validator import ExpectationValidationGraph

    def planned(
        self, expectation_configurations, processed_configurations, catch_exceptions, runtime_configuration=None
    ):
        try:
            key = (
                self.active_batch_id,
                type(self._execution_engine),
                catch_exceptions,
                plain_key(runtime_configuration),
                tuple(map(_configuration_key, expectation_configurations)),
            )
        except TypeError:  # something that is not a plain value, or planned from the data: planned as GX does
            key = None
        with _PATCH_LOCK:
            kept = PLANS.get(key) if key is not None else None
            if kept is not None:
                PLANS.move_to_end(key)
        if kept is None:
            graphs, results, processed = plan(
                self,
                expectation_configurations=expectation_configurations,
                processed_configurations=processed_configurations,
                catch_exceptions=catch_exceptions,
                runtime_configuration=runtime_configuration,
            )
            if key is not None and not results and len(graphs) == len(expectation_configurations):
                with _PATCH_LOCK:  # kept as planned, before this validation resolves (and renames) anything
                    PLANS[key] = copy.deepcopy([(g.configuration, list(g.graph.edges)) for g in graphs])
                    while len(PLANS) > PLANS_KEPT:
                        PLANS.popitem(last=False)
            return graphs, results, processed
        graphs = []
        for configuration, edges in kept:
            configuration = copy.deepcopy(configuration)  # each result gets its own, as from GX
            graph = ValidationGraph(execution_engine=self._execution_engine, edges=list(edges))
            graphs.append(ExpectationValidationGraph(configuration=configuration, graph=graph))
            processed_configurations.append(configuration)
        return graphs, [], processed_configurations

    return planned


def _configuration_key(configuration) -> tuple:
    """Every field of an expectation's configuration as a plain key, exactly as given (not as its JSON, which
    would make a tuple a list); TypeError for a field that is not plain, or an expectation planned from the data."""
    if configuration.type in PLANNED_FROM_DATA:
        raise TypeError(f"{configuration.type} is planned from the data")
    if configuration.expectation_context is not None or configuration.rendered_content:
        raise TypeError("a configuration with context or rendered content")
    severity = getattr(configuration.severity, "value", configuration.severity)
    fields = (
        configuration.type,
        configuration.kwargs,
        configuration.meta,
        configuration.notes,
        configuration.description,
        severity,
        configuration.success_on_last_run,
        configuration.id,
    )
    return plain_key(fields)


def _memoised(metric_kwargs, kwargs_of: dict):
    """``get_metric_kwargs`` remembered in ``kwargs_of`` by the metric, the expectation's type and kwargs
    and the runtime configuration (plain values only: anything else is computed as GX does)."""

    def get_metric_kwargs(metric_name, configuration=None, runtime_configuration=None):
        try:
            key = (
                metric_name,
                None if configuration is None else (configuration.type, plain_key(configuration.kwargs)),
                plain_key(runtime_configuration),
            )
        except TypeError:
            return metric_kwargs(metric_name, configuration, runtime_configuration)
        if key not in kwargs_of:
            kwargs_of[key] = metric_kwargs(metric_name, configuration, runtime_configuration)
        return _copied_kwargs(kwargs_of[key])

    return get_metric_kwargs


def _metric_kwargs_users() -> list:
    """The GX modules that call ``get_metric_kwargs`` by the name they imported."""
    import importlib

    names = (
        "great_expectations.expectations.registry",
        "great_expectations.expectations.expectation",
        "great_expectations.expectations.core.expect_column_values_to_be_in_type_list",
        "great_expectations.expectations.core.expect_column_values_to_be_of_type",
    )
    return [module for module in map(importlib.import_module, names) if hasattr(module, "get_metric_kwargs")]


def _copied_kwargs(kwargs: dict) -> dict:
    """A memoised ``get_metric_kwargs`` result as a fresh dict, with fresh IDDicts: a caller may change its own."""
    from great_expectations.core.id_dict import IDDict

    return {k: IDDict(v) if isinstance(v, IDDict) else v for k, v in kwargs.items()}


def plain_key(value) -> tuple:
    """A hashable key equal for two values exactly when they are the same plain values of the same types
    (str, int, float, bool, None, and lists, tuples and dicts of them); TypeError for anything else."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return kind, value
    # GX asks about 10,000 times a validation: leaves are keyed here, not by a call each
    if kind is list or kind is tuple:
        return kind, tuple([(type(v), v) if type(v) in _PLAIN_TYPES else plain_key(v) for v in value])
    if isinstance(value, dict):
        return dict, tuple(
            sorted(
                [((type(k), k), (type(v), v) if type(v) in _PLAIN_TYPES else plain_key(v)) for k, v in value.items()]
            )
        )
    raise TypeError(f"not a plain value: {kind.__name__}")


def format_map_output(
    result_format: dict,
    success: bool,
    element_count: int,
    nonnull_count: int | None,
    unexpected_count: int,
    unexpected_list: list,
    unexpected_index_list: list,
    index_column_names: list | None,
) -> dict:
    """A map expectation's result as GX formats it (its percentages and partial lists); on an untested GX
    the counts, percentages and lists computed here as GX documents them."""
    if internals_usable():
        from great_expectations.expectations.expectation import _format_map_output

        return _format_map_output(
            result_format,
            success,
            element_count,
            nonnull_count,
            unexpected_count,
            unexpected_list,
            unexpected_index_list,
            None,
            index_column_names,
        )
    missing = None if nonnull_count is None else element_count - nonnull_count
    partial = result_format.get("partial_unexpected_count", 20)
    result = {
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "unexpected_percent": _percent(unexpected_count, nonnull_count if nonnull_count is not None else element_count),
        "partial_unexpected_list": unexpected_list[:partial],
        "unexpected_list": unexpected_list,
        "unexpected_index_list": unexpected_index_list,
        "partial_unexpected_index_list": unexpected_index_list[:partial],
    }
    if missing is not None:
        result["missing_count"] = missing
        result["missing_percent"] = _percent(missing, element_count)
        result["unexpected_percent_total"] = _percent(unexpected_count, element_count)
        result["unexpected_percent_nonmissing"] = _percent(unexpected_count, nonnull_count)
    if index_column_names:
        result["unexpected_index_column_names"] = index_column_names
    return {"success": success, "result": result}


def _percent(part: int, whole: int | None) -> float | None:
    return part / whole * 100 if whole else None


def merge_map_results(parts: list, result_format: dict):
    """One expectation's result over a file from its results over the file's chunks (each chunk's lists
    already trimmed to the findings cap)."""
    import copy

    item = copy.copy(parts[0])
    failed = [p for p in parts if p.exception_info and p.exception_info.get("raised_exception")]
    if failed:
        item.success, item.exception_info, item.result = False, failed[0].exception_info, failed[0].result
        return item
    results = [p.result or {} for p in parts]
    if not all("element_count" in r for r in results):  # not a map result (expect_column_to_exist)
        item.success = all(p.success for p in parts)
        return item
    element = sum(r["element_count"] for r in results)
    has_missing = all("missing_count" in r for r in results)
    nonnull = element - sum(r["missing_count"] for r in results) if has_missing else None
    unexpected = sum(r["unexpected_count"] or 0 for r in results)
    unexpected_list = list(itertools.chain.from_iterable(r.get("unexpected_list") or [] for r in results))
    index_list = list(itertools.chain.from_iterable(r.get("unexpected_index_list") or [] for r in results))
    success = all(p.success for p in parts)
    merged = format_map_output(
        result_format,
        success,
        element,
        nonnull,
        unexpected,
        unexpected_list,
        index_list,
        results[0].get("unexpected_index_column_names"),
    )
    merged["result"]["unexpected_list"] = unexpected_list
    merged["result"]["unexpected_index_list"] = index_list
    item.success, item.result = success, merged["result"]
    return item


def copy_static_assets_when_changed(builder, static_dir: Path) -> None:
    """GX's site builder copies its static files (4 MB of fonts, images and styles) into the site each
    time it renders a page; with this, ``builder`` copies them only when one of them is missing or was
    changed since this process last copied them (size or mtime). On an untested GX it copies as GX does."""
    if not internals_usable():
        return
    import great_expectations as gx

    from etl.ingest.validate.offline_docs import file_stats

    store = builder.target_store
    copy_all = store.copy_static_assets
    source = Path(gx.__file__).parent / "render" / "view" / "static"
    shipped = [static_dir / p.relative_to(source) for p in source.rglob("*") if p.is_file() and p.name != ".DS_Store"]
    copied: dict = {}

    def copy_static_assets(static_assets_source_dir=None):
        if static_assets_source_dir is not None:  # GX's own recursion into a folder
            return copy_all(static_assets_source_dir)
        if copied and file_stats(shipped) == copied:
            return None
        copy_all()
        copied.clear()
        copied.update(file_stats(shipped))
        return None

    store.copy_static_assets = copy_static_assets


def index_builder_config(index_limit: int | None) -> dict | None:
    """The ``site_index_builder`` of the Data Docs site: ``SummaryIndexBuilder`` (below), or None for GX's
    default on an untested GX."""
    if not internals_usable():
        return None
    return {"module_name": __name__, "class_name": "SummaryIndexBuilder", "validation_results_limit": index_limit}


def _summary_index_builder_class():
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.render.renderer.site_builder import (
        FALSEY_YAML_STRINGS,
        DefaultSiteIndexBuilder,
        _resolve_asset_name,
    )
    from great_expectations.render.util import resource_key_passes_run_name_filter

    class SummaryIndexBuilder(DefaultSiteIndexBuilder):
        """GX's index builder, except that a validation's row (status, asset, batch spec) comes from a
        small JSON cache instead of deserialising its whole stored result (~10 ms each for a 2,000-row
        failure; the default index would take seconds after a few hundred files)."""

        cache_path: Path | None = None  # set by the caller; without it every row is read from its result

        def _add_validations_to_index_links(self, index_links_dict, site_keys) -> None:
            validations = self.site_section_builders_config.get("validations", "None")
            if not validations or validations in FALSEY_YAML_STRINGS:
                return
            run_name_filter = validations["run_name_filter"]
            keys = sorted(
                (k for k in site_keys if resource_key_passes_run_name_filter(k, run_name_filter)),
                key=lambda k: k.run_id.run_time,
                reverse=True,
            )
            if self.validation_results_limit:
                keys = keys[: self.validation_results_limit]
            cache = self.read_cache()
            listed = {}  # the cache keeps the rows of the listed validations only: it stays small
            for key in keys:
                cache_key = "/".join(key.to_tuple())
                summary = cache.get(cache_key) or self.summarise(key)
                if summary is None:
                    continue
                listed[cache_key] = summary
                self.add_resource_info_to_index_links_dict(
                    index_links_dict=index_links_dict,
                    expectation_suite_name=key.expectation_suite_identifier.name,
                    section_name="validations",
                    batch_identifier=key.batch_identifier,
                    run_id=key.run_id,
                    validation_success=summary["success"],
                    run_time=key.run_id.run_time,
                    run_name=key.run_id.run_name,
                    asset_name=summary["asset_name"],
                    batch_kwargs=summary["batch_kwargs"],
                    batch_spec=summary["batch_spec"],
                )
            if listed != cache:
                self.write_cache(listed)

        def summarise(self, key) -> dict | None:
            try:
                validation = self.data_context.get_validation_result(
                    batch_identifier=key.batch_identifier,
                    expectation_suite_name=key.expectation_suite_identifier.name,
                    run_id=key.run_id,
                    validation_results_store_name=self.source_stores.get("validations"),
                )
            except Exception:  # noqa: BLE001 - GX skips an unreadable result the same way
                validation = None
            if not isinstance(validation, ExpectationSuiteValidationResult):
                log.warning("validation result not found: %s - skipping", key.to_tuple())
                return None
            return json.loads(
                json.dumps(
                    {
                        "success": validation.success,
                        "asset_name": _resolve_asset_name(validation),
                        "batch_kwargs": validation.meta.get("batch_kwargs", {}),
                        "batch_spec": validation.meta.get("batch_spec", {}),
                    },
                    default=str,
                )
            )

        def read_cache(self) -> dict:
            if self.cache_path is None:
                return {}
            from etl.shared_paths import read_no_follow

            try:
                return json.loads(read_no_follow(self.cache_path) or b"{}")
            except ValueError:
                return {}

        def write_cache(self, cache: dict) -> None:
            if self.cache_path is None:
                return
            from etl.shared_paths import write_new

            data = json.dumps(cache, ensure_ascii=False).encode("utf-8")
            write_new(self.cache_path, self.cache_path.parent, data)  # gx/, made real by the caller

    return SummaryIndexBuilder


def store_backend_config() -> dict:
    """``module_name``/``class_name`` of the file store every GX store and the Data Docs site use:
    ``SharedFolderStoreBackend`` (below); on an untested GX nothing (GX's own, which follows links)."""
    if not internals_usable():
        return {}
    return {"module_name": __name__, "class_name": "SharedFolderStoreBackend"}


def _shared_folder_store_backend_class():
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend
    from great_expectations.exceptions import InvalidKeyError

    from etl.shared_paths import move_file, no_link_below, read_no_follow, remove_file, write_new

    class SharedFolderStoreBackend(TupleFilesystemStoreBackend):
        """GX's filesystem store for a folder clerks can write into (gx/ and data_docs/ in the share):
        a link left anywhere below its base directory is never followed — a folder we write into is made
        real (the link moved aside), a file is written without following a link at its name, and a
        stored object reached through a link is not there (GX follows links both ways)."""

        @property
        def _base(self) -> Path:
            return Path(self.full_base_directory)

        def _file(self, key) -> Path:
            if not isinstance(key, tuple):
                key = key.to_tuple()
            return self._base / self._convert_key_to_filepath(key)

        def _get(self, key):
            path = self._file(key)
            data = read_no_follow(path) if no_link_below(path, self._base) else None
            if data is None:  # missing, reached through a link, or no regular file
                raise InvalidKeyError(f"no stored object at {path}")
            return data.decode("utf-8").rstrip("\n")

        def _set(self, key, value, **kwargs):
            path = self._file(key)
            write_new(path, self._base.parent, value.encode("utf-8") if isinstance(value, str) else value)
            return str(path)

        def _move(self, source_key, dest_key, **kwargs):
            source, target = self._file(source_key), self._file(dest_key)
            moved = no_link_below(source, self._base) and move_file(source, target, self._base.parent)
            return dest_key if moved else False

        def list_keys(self, prefix: tuple = ()) -> list:
            if not no_link_below(self._base.joinpath(*prefix), self._base):
                return []
            # GX walks without entering linked folders; a linked file is left out here
            return [key for key in super().list_keys(prefix) if not self._file(key).is_symlink()]

        def remove_key(self, key):
            path = self._file(key)
            return no_link_below(path, self._base) and remove_file(path, self._base.parent)

    return SharedFolderStoreBackend


def __getattr__(name: str):
    # GX instantiates the index builder and the store backend by module and class name; build each class
    # (which subclasses a GX class) only then, so that importing this module never imports GX.
    factories = {
        "SummaryIndexBuilder": _summary_index_builder_class,
        "SharedFolderStoreBackend": _shared_folder_store_backend_class,
    }
    if name in factories:
        cls = factories[name]()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
