"""A thousand files in one run: the real district_ingest DAG under a real scheduler (LocalExecutor, the
components of `make airflow`) with 1, 2 and 4 task slots (AIRFLOW__CORE__PARALLELISM), on PostgreSQL.

    .venv/bin/python -m bench.many_files [--files 1000] [--slots 1 2 4] [--files-per-task 20]

The files: the 53 demo files, each copied until there are ``--files`` (every copy's bytes made distinct —
a CSV gets blank lines at its end, a workbook a different zip timestamp — so none is a duplicate; a copy of
the same report and period is a correction that supersedes the one before). Every configuration starts
from an empty warehouse and a fresh Airflow home; the scheduler's first run of district_ingest takes them
all (MAX_FILES_PER_RUN = the file count). Measured: the run's wall time (from the API: start to end), files
per minute, the time inside process_file summed over the files (``stg_file_load`` started_at → finished_at)
and what is left — Airflow's part: scheduling, task start-up, XCom, the summary — per file.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.databases import drop_databases, fresh_database  # noqa: E402
from etl.ops.airflow_api import ThrowawayAirflow, call  # noqa: E402

DB_NAME = "district_reports_many_files"


def distinct_copy(source: Path, target: Path, n: int) -> None:
    """``source`` as a file of other bytes and the same content (the n-th copy, n < 40,000: a minute of the
    zip timestamps each, as zip keeps even seconds only)."""
    if source.suffix.lower() == ".csv":
        target.write_bytes(source.read_bytes() + b"\r\n" * n)
        return
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2022, 1, 1 + n // 1440, n // 60 % 24, n % 60, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, zin.read(item.filename))


def write_files(inbox: Path, count: int) -> int:
    from demo import write_demo_files

    demo_root = inbox.parent.parent / "demo-source"
    sources = sorted(write_demo_files(demo_root))
    written = 0
    n = 0
    while written < count:
        n += 1
        for source in sources:
            if written == count:
                break
            folder = inbox / source.parent.name
            folder.mkdir(parents=True, exist_ok=True)
            distinct_copy(source, folder / f"{source.stem}_第{n}份{source.suffix}", n)
            written += 1
    old = time.time() - 3600  # settled long ago: no file waits for FILE_SETTLE_SECONDS
    for path in inbox.rglob("*.*"):
        os.utime(path, (old, old))
    return written


def one_configuration(admin_dsn: str, files: int, slots: int, per_task: int, work: Path) -> dict:
    """Start a local Airflow with ``slots`` task slots on a fresh inbox of ``files`` files; the first
    scheduled district_ingest run takes them all."""
    import sqlalchemy as sa

    from etl.warehouse.engine import get_engine

    shared = work / "shared"
    written = write_files(shared / "inbox", files)
    url, _conninfo = fresh_database(admin_dsn, DB_NAME)
    airflow = ThrowawayAirflow(
        work / "airflow",
        work / "airflow.log",
        {
            "AIRFLOW__CORE__PARALLELISM": str(slots),
            "SHARED_DIR": str(shared),
            "WAREHOUSE_URL": url,
            "MAX_FILES_PER_RUN": str(files),
            "FILES_PER_TASK": str(per_task),
            "FILE_SETTLE_SECONDS": "0",
        },
    ).start()
    try:
        run = wait_for_run(airflow)
    finally:
        airflow.stop()
    engine = get_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT status, started_at, finished_at FROM stg_file_load WHERE status <> 'duplicate'")
        ).all()
        statuses = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM stg_file_load GROUP BY status")).all())
    get_engine.cache_clear()
    inside = sum((_dt(f) - _dt(s)).total_seconds() for _status, s, f in rows if s and f)
    seconds = (_dt(run["end_date"]) - _dt(run["start_date"])).total_seconds()
    used_slots = min(slots, os.cpu_count() or 1)
    return {
        "slots": slots,
        "files": written,
        "statuses": statuses,
        "seconds": seconds,
        "files_per_minute": written / seconds * 60,
        "inside_per_file": inside / max(1, len(rows)),
        "overhead_per_file": (seconds * used_slots - inside) / written,
        "state": run["state"],
    }


def _dt(value) -> dt.datetime:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    return value.replace(tzinfo=None) if value.tzinfo else value


def wait_for_run(airflow: ThrowawayAirflow, timeout: float = 3600) -> dict:
    """The first district_ingest run, once it has ended (the scheduler starts it on its own)."""
    deadline = time.monotonic() + timeout
    token = None
    while time.monotonic() < deadline:
        try:
            if token is None and (airflow.home / "logins.env").exists():
                token = airflow.token("admin", airflow.logins()["AIRFLOW_ADMIN_PASSWORD"])
            if token:
                status, body = call(
                    f"{airflow.base}/api/v2/dags/district_ingest/dagRuns?order_by=start_date", token=token
                )
                runs = (body or {}).get("dag_runs", []) if status == 200 else []
                done = [r for r in runs if r["state"] in ("success", "failed")]
                if done:
                    return done[0]
        except OSError:
            pass
        time.sleep(3)
    raise SystemExit("district_ingest did not finish")


def _spin(iterations: int) -> None:
    total = 0
    for i in range(iterations):
        total += i * i % 7


def two_process_speedup(rounds: int = 5, iterations: int = 4_000_000) -> list[float]:
    """What two processes get from this machine's cores on pure computation: the speed-up of two processes
    over one on the same CPU-bound work (a pure-Python loop, twice: one after the other in one process, then
    at once in two), a ratio per round. Two vCPUs that are siblings of one core give well under 2×."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    ratios = []
    for _ in range(rounds):
        start = time.perf_counter()
        _spin(iterations)
        _spin(iterations)
        alone = time.perf_counter() - start
        start = time.perf_counter()
        workers = [fork.Process(target=_spin, args=(iterations,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        ratios.append(alone / (time.perf_counter() - start))
    return ratios


def run(admin_dsn: str, files: int, slots: list[int], per_task: int, unbatched: int = 0) -> list[dict]:
    """Each slot count with ``per_task`` files a task; then, if ``unbatched``, that many files at two slots
    with one file a task (the DAG before batching), for the per-file overhead side by side."""
    results = []
    with tempfile.TemporaryDirectory(prefix="many-files-") as work:
        for n in slots:
            results.append(one_configuration(admin_dsn, files, n, per_task, Path(work) / f"batched{n}"))
            print(results[-1], flush=True)
        if unbatched:
            results.append(one_configuration(admin_dsn, unbatched, 2, 1, Path(work) / "unbatched"))
            results[-1]["files_per_task"] = 1
            print(results[-1], flush=True)
    drop_databases(admin_dsn, DB_NAME)
    results.append({"two_processes": two_process_speedup()})
    return results


def render(results: list[dict], per_task: int) -> tuple[str, list[tuple[str, bool, str]]]:
    loop = next((r["two_processes"] for r in results if "two_processes" in r), None)
    results = [r for r in results if "two_processes" not in r]
    one = results[0]
    lines = [
        f"## A thousand files in one run (bench/many_files.py, FILES_PER_TASK = {per_task}, {os.cpu_count()} cores)",
        "",
        "| task slots | files | run (wall) | files / minute | speed-up | inside process_file, per file | Airflow's part, per file | outcome |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    checks = []
    for r in results:
        if r.get("files_per_task") == 1:
            lines.append(
                f"| {r['slots']}, **one file a task** (before batching) | {r['files']:,} | {r['seconds']:.0f} s | "
                f"{r['files_per_minute']:.0f} | — | {r['inside_per_file']:.2f} s | {r['overhead_per_file']:.2f} s | "
                f"{r['state']}: {', '.join(f'{k} {v}' for k, v in sorted(r['statuses'].items()))} |"
            )
            continue
        lines.append(
            f"| {r['slots']} | {r['files']:,} | {r['seconds']:.0f} s | {r['files_per_minute']:.0f} | "
            f"{one['seconds'] / r['seconds']:.2f}× | {r['inside_per_file']:.2f} s | {r['overhead_per_file']:.2f} s | "
            f"{r['state']}: {', '.join(f'{k} {v}' for k, v in sorted(r['statuses'].items()))} |"
        )
        checks.append(
            (
                f"{r['slots']} slot(s): Airflow's part ≤ 0.5 s a file",
                r["overhead_per_file"] <= 0.5,
                f"{r['overhead_per_file']:.2f} s",
            )
        )
    two = next((r for r in results if r["slots"] == 2 and r.get("files_per_task") != 1), None)
    if loop and two:
        loop_speedup = statistics.median(loop)
        lines += [
            "",
            f"What this machine's two vCPUs give two processes, measured after the runs: twice a CPU-bound loop "
            f"in two processes at once against one after the other in one, **{loop_speedup:.2f}×** (median of "
            f"{len(loop)}: {', '.join(f'{x:.2f}' for x in loop)}). Two task slots gave "
            f"{one['seconds'] / two['seconds']:.2f}×"
            + (
                " — more than the loop: one slot leaves the second vCPU partly idle while its task waits for "
                "PostgreSQL, files and the scheduler."
                if one["seconds"] / two["seconds"] > loop_speedup
                else "."
            ),
        ]
    return "\n".join(lines), checks


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.many_files")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--files-per-task", type=int, default=20)
    parser.add_argument("--unbatched", type=int, default=200, help="files run one a task, for comparison (0: none)")
    args = parser.parse_args(argv)
    admin = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    results = run(admin, args.files, args.slots, args.files_per_task, args.unbatched)
    table, checks = render(results, args.files_per_task)
    print(table)
    for name, ok, value in checks:
        print(f"{'MET    ' if ok else 'NOT MET'}  {name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
