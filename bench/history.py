"""A year of history in PostgreSQL, and what leaders' queries and the review pack cost on it.

    .venv/bin/python -m bench.history [--quick]      # part of make bench

Built deterministically in the benchmark's own database:

* 12345 tickets: twelve monthly exports (2023-01 … 2023-12) for each of the six districts and 市本级,
  ``TICKETS_PER_MONTH`` tickets each (10,080,000 current in all; ``--quick``: a tenth), generated column-wise
  with numpy and derived by the project's own ``etl.contracts.hotline_tickets.derive`` (reply minutes,
  the 3-working-day deadline from the working-day calendar, in time or not) — the rows the project would
  load — COPYed with a ``stg_file_load`` row behind every export. Every fifth export was resubmitted: its
  first version (95 % of the rows) stays as history (``is_current`` 0, ``superseded_by``).
* every other report type from the demo files loaded through the project's own path (process_file), each
  load then repeated for every period of 2023 with its own ``stg_file_load`` row: 365 daily flood
  reports for each of the three flood districts (21 streets), monthly volunteer reports, quarterly
  registers, monthly task, rectification and renovation ledgers; dates in the facts moved to the period.
* every current version approved (``stg_approval``), as leaders see approved figures only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.databases import drop_databases, fresh_database  # noqa: E402

YEAR = 2023
MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
TICKETS_PER_MONTH = 120_000
RESUBMIT_EVERY = 5  # every fifth export has an earlier version kept as history
HOTLINE_COLUMNS = (
    "load_id, source_sha256, source_sheet, source_row, ticket_id, received_at, district, street, category, "
    "first_reply_at, closed_at, satisfaction, reply_minutes, replied_within_2h, closure_deadline, "
    "closed_within_3wd, approximate_cols"
)
CATEGORIES = np.array(["城市管理", "供热供暖", "物业管理", "市政设施", "环境保护", "交通出行", "社会保障", "其他"])
SATISFACTION = np.array(["满意", "基本满意", "不满意", "未评价"], dtype=object)


def units() -> list[tuple[str, str, list[str]]]:
    """(code, name, streets) of the units that report: 市本级 and the six districts."""
    from etl.reference.places import default_places

    places = default_places()
    found = []
    for unit in places.reporting_units:
        streets = [p.name for p in places.places if p.level == "street" and p.parent_code == unit.code]
        found.append((unit.code, unit.name, streets or ["市本级"]))
    return found


def hotline_month(code: str, streets: list[str], period: str, tickets: int, seed: int) -> pd.DataFrame:
    """One month's export for one unit, as parsed and derived by the project (before lineage columns)."""
    from etl.contracts.hotline_tickets import derive

    rng = np.random.default_rng(seed)
    start = np.datetime64(f"{period}-01T00:00:00")
    days = pd.Period(period).days_in_month
    received = start + np.sort(rng.integers(0, days * 86_400, tickets)).astype("timedelta64[s]")
    reply = received + (rng.gamma(1.6, 45.0, tickets) * 60).astype("timedelta64[s]")
    closed = reply + (rng.gamma(1.3, 30.0, tickets) * 3600).astype("timedelta64[s]")
    open_ = rng.random(tickets) < 0.04
    frame = pd.DataFrame(
        {
            "ticket_id": [f"{code[-2:]}{period.replace('-', '')}{i:07d}" for i in range(tickets)],
            "received_at": received.astype("datetime64[us]"),
            "district": code,
            "street": np.array(streets, dtype=object)[rng.integers(0, len(streets), tickets)],
            "category": CATEGORIES[rng.integers(0, len(CATEGORIES), tickets)],
            "first_reply_at": reply.astype("datetime64[us]"),
            "closed_at": pd.Series(closed.astype("datetime64[us]")).mask(open_),
            "satisfaction": SATISFACTION[rng.choice(4, tickets, p=[0.56, 0.2, 0.08, 0.16])],
        }
    )
    return derive(frame, period, keep_datetime64=True)


def audit_row(cursor, **values) -> int:
    """A stg_file_load row for a load the benchmark writes (column names are ours)."""
    columns = ", ".join(values)
    cursor.execute(
        f"INSERT INTO stg_file_load ({columns}) VALUES ({', '.join(f'%({c})s' for c in values)}) RETURNING load_id",
        values,
    )
    return cursor.fetchone()[0]


def copy_hotline(cursor, frame: pd.DataFrame, load_id: int, sha: str) -> None:
    out = frame.assign(load_id=load_id, source_sha256=sha, source_sheet=None, source_row=np.arange(2, len(frame) + 2))
    out["approximate_cols"] = None
    buffer = io.StringIO()
    out[[c.strip() for c in HOTLINE_COLUMNS.split(",")]].to_csv(buffer, index=False, header=False, na_rep="\\N")
    with cursor.copy(f"COPY fct_hotline_ticket ({HOTLINE_COLUMNS}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
        copy.write(buffer.getvalue())


def build_hotline(conninfo: str, tickets_per_month: int) -> int:
    """The year of 12345 exports, each behind a stg_file_load row, one transaction each; returns the
    current tickets."""
    import psycopg

    total, seed = 0, 0
    with psycopg.connect(conninfo, options="-c search_path=staging,core,mart,public") as conn:
        for period in MONTHS:
            for code, name, streets in units():
                seed += 1
                frame = hotline_month(code, streets, period, tickets_per_month, seed)
                versions = [frame.iloc[: int(len(frame) * 0.95)], frame] if seed % RESUBMIT_EVERY == 0 else [frame]
                earlier = None
                for n, version in enumerate(versions, start=1):
                    sha = hashlib.sha256(f"history|hotline|{code}|{period}|{n}".encode()).hexdigest()
                    received = dt.datetime.fromisoformat(f"{period}-01") + dt.timedelta(days=32 + n)
                    with conn.transaction(), conn.cursor() as cursor:
                        load_id = audit_row(
                            cursor,
                            run_id="bench-history",
                            file_name=f"{name}_12345热线工单_{period}_第{n}版.csv",
                            folder=name,
                            source_path=f"{name}/{name}_12345热线工单_{period}_第{n}版.csv",
                            sha256=sha,
                            size_bytes=len(version) * 120,
                            report_type="hotline_tickets",
                            district_code=code,
                            period=period,
                            rows_read=len(version),
                            rows_loaded=len(version),
                            status="accepted",
                            is_current=int(n == len(versions)),
                            received_at=received,
                            started_at=received,
                            finished_at=received,
                        )
                        copy_hotline(cursor, version, load_id, sha)
                        if earlier is not None:
                            cursor.execute(
                                "UPDATE stg_file_load SET superseded_by = %s WHERE load_id = %s", (load_id, earlier)
                            )
                    earlier = load_id
                total += len(frame)
    return total


# report type → (the periods of the year its demo load is repeated for, the fact columns moved with it)
def repeated_periods(grain: str) -> list[str]:
    if grain == "day":
        return [(dt.date(YEAR, 1, 1) + dt.timedelta(days=d)).isoformat() for d in range(365)]
    if grain == "quarter":
        return [f"{YEAR}Q{q}" for q in range(1, 5)]
    return MONTHS


def _period_start(period: str) -> dt.date:
    if "Q" in period:
        year, quarter = period.split("Q")
        return dt.date(int(year), 3 * int(quarter) - 2, 1)
    return dt.date.fromisoformat(period if len(period) == 10 else f"{period}-01")


def repeat_demo_loads(conninfo: str) -> int:
    """Every demo load but the 12345 ones, repeated for each period of the year (its facts copied with
    the new load id, a DATE column moved by the distance between the periods); returns the loads added."""
    import psycopg

    added = 0
    with psycopg.connect(conninfo, options="-c search_path=staging,core,mart,public") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT l.load_id, l.report_type, l.period, l.district_code, r.period_grain, r.fact_table "
            "FROM stg_file_load l JOIN dim_report_type r ON r.report_type = l.report_type "
            "WHERE l.is_current = 1 AND l.report_type <> 'hotline_tickets' ORDER BY l.load_id"
        )
        demo = cur.fetchall()
        cur.execute("SELECT * FROM stg_file_load LIMIT 0")
        audit_columns = [d.name for d in cur.description if d.name not in ("load_id", "period", "is_current", "sha256")]
        for load_id, report_type, period, district, grain, fact_table in demo:
            cur.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                (fact_table,),
            )
            columns = cur.fetchall()
            periods = repeated_periods(grain)
            if grain == "day":  # the demo's 7 days of each district, round the year
                periods = periods[(_period_start(period).toordinal()) % 7 :: 7]
            for new in periods:
                if new == period:
                    continue
                shift = (_period_start(new) - _period_start(period)).days
                kept = ", ".join(audit_columns)
                cur.execute(
                    f"INSERT INTO stg_file_load ({kept}, period, is_current, sha256) "
                    f"SELECT {kept}, %s, 1, md5(sha256 || %s) || md5(%s || sha256) "
                    "FROM stg_file_load WHERE load_id = %s RETURNING load_id",
                    (new, new, new, load_id),
                )
                new_id = cur.fetchone()[0]
                names = [c for c, _ in columns if c != "load_id"]
                values = [f"{c} + {shift}" if t == "date" else c for c, t in columns if c != "load_id"]
                cur.execute(
                    f"INSERT INTO {fact_table} (load_id, {', '.join(names)}) "
                    f"SELECT %s, {', '.join(values)} FROM {fact_table} WHERE load_id = %s",
                    (new_id, load_id),
                )
                added += 1
        conn.commit()
    return added


def approve_everything(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo, options="-c search_path=staging,core,mart,public") as conn:
        count = conn.execute(
            "INSERT INTO stg_approval (report_type, district_code, period, load_id, decision, decided_by, decided_at, "
            "comment, decided_via) SELECT report_type, district_code, period, load_id, 'approved', 'bench', "
            "now(), NULL, 'cli' FROM stg_file_load WHERE is_current = 1"
        ).rowcount
    return count


# ------------------------------------------------------------------------------------------- measuring


def figure_views() -> list[str]:
    """Every mart_ view (warehouse_sql/), leaders' and stewards' alike."""
    return sorted(p.stem for p in (REPO / "warehouse_sql").glob("mart_*.sql"))


def timed(conninfo: str, sql: str, params: tuple = (), repeats: int = 5) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(conninfo, options="-c search_path=staging,core,mart,public") as conn:
        for _ in range(repeats):
            start = time.perf_counter()
            conn.execute(sql, params).fetchall()
            times.append(time.perf_counter() - start)
    return times


def one_slice(conninfo: str, view: str) -> tuple[str, tuple] | None:
    """The query for one district × period of ``view``, by the columns it has (None: it has neither)."""
    import psycopg

    with psycopg.connect(conninfo, options="-c search_path=staging,core,mart,public") as conn:
        columns = [d.name for d in conn.execute(f"SELECT * FROM {view} LIMIT 0").description]
    where, params = [], []
    if "district_code" in columns:
        where.append("district_code = %s")
        params.append("210504")
    for column, value in (("period", "2023-06"), ("date", dt.date(YEAR, 6, 15))):
        if column in columns:
            where.append(f"{column} = %s" if column == "date" else f"{column} IN (%s, '{YEAR}Q2')")
            params.append(value)
            break
    if not where:
        return None
    return f"SELECT * FROM {view} WHERE {' AND '.join(where)}", tuple(params)


def measure_views(conninfo: str, repeats: int = 5) -> dict[str, dict]:
    results = {}
    for view in figure_views():
        full = timed(conninfo, f"SELECT * FROM {view}", repeats=repeats)
        entry = {"full": full}
        sliced = one_slice(conninfo, view)
        if sliced is not None:
            entry["slice"] = timed(conninfo, *sliced, repeats=repeats)
        results[view] = entry
    return results


def build(admin_dsn: str, workdir: Path, tickets_per_month: int) -> tuple[str, str, dict]:
    """A fresh database ``DB_NAME`` holding the year; returns (url, conninfo, counts)."""
    import psycopg

    from demo import write_demo_files
    from etl.config import Settings
    from etl.ingest.pipeline import ingest_inbox
    from etl.warehouse.engine import get_engine

    url, conninfo = fresh_database(admin_dsn, DB_NAME)
    settings = Settings(workdir / "shared", url, 0)
    counts = {}
    start = time.perf_counter()
    write_demo_files(settings.shared_dir)
    (settings.inbox / "平山区").mkdir(parents=True, exist_ok=True)
    for export in settings.inbox.glob("*/*12345*"):  # the year's exports replace the demo's September
        export.unlink()
    ingest_inbox(settings)
    counts["demo_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    counts["tickets_current"] = build_hotline(conninfo, tickets_per_month)
    counts["hotline_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    counts["repeated_loads"] = repeat_demo_loads(conninfo)
    counts["approved"] = approve_everything(conninfo)
    with get_engine(url).begin() as conn:  # the summaries the project writes with every load
        from etl.warehouse import summaries

        counts["summarised_loads"] = summaries.rebuild(conn)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        for table in ("stg_file_load", "fct_hotline_ticket", "fct_flood_cleanup"):
            counts[f"rows_{table}"] = conn.execute(
                f"SELECT COUNT(*) FROM staging.{table}"
                if table.startswith("stg")
                else f"SELECT COUNT(*) FROM core.{table}"
            ).fetchone()[0]
    counts["repeat_seconds"] = time.perf_counter() - start
    get_engine.cache_clear()
    return url, conninfo, counts


DB_NAME = "district_reports_history"
EMPTY_DB = "district_reports_history_empty"


def forget_load(url: str, load_id: int) -> None:
    """Remove one load and everything written for it, so the same file loads again."""
    import sqlalchemy as sa

    from etl.warehouse.engine import get_engine

    with get_engine(url).begin() as conn:
        for table in (
            "fct_load_summary",
            "fct_hotline_load_summary",
            "fct_hotline_ticket",
            "stg_finding",
            "stg_quarantined_row",
            "stg_approval_request",
        ):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE load_id = :id"), {"id": load_id})
        conn.execute(sa.text("DELETE FROM stg_file_load WHERE load_id = :id"), {"id": load_id})


def new_month_seconds(url: str, workdir: Path, rows: int, repeats: int = 3) -> list[float]:
    """process_file of one new month's 12345 export (bench/inputs.py, ``rows`` tickets) into the warehouse
    at ``url``, ``repeats`` times (the load removed in between); a first, unmeasured run warms GX."""
    import shutil

    from bench.inputs import write_hotline_csv
    from etl.config import Settings
    from etl.ingest.pipeline import prepare, process_file

    settings = Settings(workdir / "shared-new-month", url, 0)
    prepare(settings)
    source, _bad = write_hotline_csv(workdir / "inputs", rows)
    times = []
    for attempt in range(repeats + 1):
        target = settings.inbox / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        start = time.perf_counter()
        outcome = process_file(f"{source.parent.name}/{source.name}", settings)
        if attempt:
            times.append(time.perf_counter() - start)
        assert outcome.status in ("accepted", "flagged"), outcome
        forget_load(url, outcome.load_id)
    return times


def review_pack_seconds(url: str, workdir: Path, repeats: int = 3) -> list[float]:
    from etl.config import Settings
    from etl.publish.review_pack import publish

    settings = Settings(workdir / "shared-pack", url, 0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        publish(settings, as_of=f"{YEAR}-12-31")
        times.append(time.perf_counter() - start)
    return times


def empty_warehouse(admin_dsn: str) -> str:
    """A second database holding the schema only: the new month's load measured into it too."""
    from etl.warehouse.engine import get_engine
    from etl.warehouse.schema import ensure_schema

    url, _conninfo = fresh_database(admin_dsn, EMPTY_DB)
    ensure_schema(get_engine(url))
    return url


# mart_hotline_by_district's district rows as the view computed them before the summaries: every ticket
# added up on each query. Measured beside the view, in the same run, for the ratio.
BY_SCANNING_EVERY_TICKET = """
SELECT l.period, f.district AS district_code, COUNT(*) AS tickets,
       SUM(CASE WHEN f.replied_within_2h THEN 1 ELSE 0 END), SUM(CASE WHEN f.closed_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.closed_within_3wd THEN 1 ELSE 0 END), SUM(CASE WHEN f.closure_deadline IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.satisfaction IS NOT NULL AND f.satisfaction <> '未评价' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.satisfaction IN ('满意', '基本满意') THEN 1 ELSE 0 END)
FROM fct_hotline_ticket f JOIN stg_file_load l ON l.load_id = f.load_id AND l.is_current = 1
GROUP BY l.period, f.district
"""


def run(admin_dsn: str, quick: bool, keep: bool = False) -> dict:
    """Build the year, then measure: every mart view (full and one district × period, median of 5), the
    review pack (median of 3) and a new month's export into this warehouse and into an empty one."""
    import tempfile

    tickets = TICKETS_PER_MONTH // (10 if quick else 1)
    with tempfile.TemporaryDirectory(prefix="history-") as work:
        work = Path(work)
        url, conninfo, counts = build(admin_dsn, work, tickets)
        try:
            result = {"counts": counts, "tickets_per_month": tickets, "quick": quick}
            result["views"] = measure_views(conninfo)
            result["hotline_by_scanning"] = timed(conninfo, BY_SCANNING_EVERY_TICKET)
            result["review_pack"] = review_pack_seconds(url, work)
            result["new_month_rows"] = TICKETS_PER_MONTH
            result["new_month_history"] = new_month_seconds(url, work, TICKETS_PER_MONTH)
            result["new_month_empty"] = new_month_seconds(empty_warehouse(admin_dsn), work, TICKETS_PER_MONTH)
        finally:
            if not keep:
                drop_databases(admin_dsn, DB_NAME, EMPTY_DB)
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import statistics

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    parser = argparse.ArgumentParser(prog="python -m bench.history")
    parser.add_argument("--quick", action="store_true", help="a tenth of the tickets")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)
    admin = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    result = run(admin, args.quick, args.keep)
    print(json.dumps(result["counts"], ensure_ascii=False))
    for view, entry in result["views"].items():
        line = f"{view:45} full {statistics.median(entry['full']):7.3f} s"
        if "slice" in entry:
            line += f"   one district × period {statistics.median(entry['slice']):7.3f} s"
        print(line)
    print(f"review pack {statistics.median(result['review_pack']):.2f} s")
    history, empty = statistics.median(result["new_month_history"]), statistics.median(result["new_month_empty"])
    print(f"new month: into the year {history:.2f} s, into an empty warehouse {empty:.2f} s ({history / empty:.2f}×)")
    return 0


def render(result: dict) -> tuple[str, list[tuple[str, bool, str]]]:
    """The results.md section of the year of history, and its targets."""
    from statistics import median

    c = result["counts"]
    lines = [
        "## A year of history (bench/history.py)",
        "",
        f"Built: {c['tickets_current']:,} current 12345 tickets ({result['tickets_per_month']:,} per export, "
        f"{c['rows_fct_hotline_ticket']:,} rows with the resubmitted first versions), "
        f"{c['rows_stg_file_load']:,} loads in `stg_file_load`, {c['rows_fct_flood_cleanup']:,} flood rows "
        f"(365 days × 21 streets), every current version approved; built in "
        f"{c['demo_seconds'] + c['hotline_seconds'] + c['repeat_seconds']:.0f} s."
        + (" **--quick: a tenth of the tickets.**" if result["quick"] else ""),
        "",
        "| view | full table (median of 5) | one district × period | min / max (full) |",
        "|---|---:|---:|---:|",
    ]
    checks = []
    for view, entry in result["views"].items():
        full = median(entry["full"])
        one = median(entry["slice"]) if "slice" in entry else None
        lines.append(
            f"| `{view}` | {full:.3f} s | {'—' if one is None else f'{one:.3f} s'} | "
            f"{min(entry['full']):.3f} / {max(entry['full']):.3f} s |"
        )
        checks.append((f"`{view}` full ≤ 2 s", full <= 2.0, f"{full:.3f} s"))
        if one is not None:
            checks.append((f"`{view}` one district × period ≤ 0.5 s", one <= 0.5, f"{one:.3f} s"))
    scan = median(result["hotline_by_scanning"])
    summed = median(result["views"]["mart_hotline_by_district"]["full"])
    pack = median(result["review_pack"])
    history, empty = median(result["new_month_history"]), median(result["new_month_empty"])
    lines += [
        "",
        f"- 12345 figures: the view adds up `fct_hotline_load_summary` ({summed:.3f} s); the same district rows by "
        f"adding up every ticket, as the view did before (measured beside it): {scan:.2f} s — "
        f"{scan / summed:.0f}× slower.",
        f"- Review pack (`publish`, as of {YEAR}-12-31): {pack:.2f} s (median of 3; "
        f"{', '.join(f'{t:.2f}' for t in result['review_pack'])}).",
        f"- A new month's export ({result['new_month_rows']:,} tickets, process_file, median of 3): into this "
        f"warehouse {history:.2f} s, into an empty one {empty:.2f} s — {history / empty:.2f}×.",
    ]
    checks += [
        ("review pack ≤ 60 s", pack <= 60, f"{pack:.2f} s"),
        (
            "a new month into a year of history ≤ 1.5× into an empty warehouse",
            history <= 1.5 * empty,
            f"{history / empty:.2f}×",
        ),
    ]
    return "\n".join(lines), checks


if __name__ == "__main__":
    raise SystemExit(main())
