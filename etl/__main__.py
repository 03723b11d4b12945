"""Command line: ``python -m etl demo`` writes the demo district files into the shared folder;
``python -m etl indicators`` prints the indicator views; ``python -m etl ingest`` processes the inbox
without a scheduler (the same code the DAG runs); ``migrate`` upgrades the warehouse schema and
``create-leader-role`` creates the read-only role for leaders (PostgreSQL)."""
from __future__ import annotations

import argparse
import sys

from etl.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="write demo district files into SHARED_DIR/inbox")
    sub.add_parser("indicators", help="print the indicator views from WAREHOUSE_URL")
    sub.add_parser("ingest", help="process every file waiting in the inbox, without Airflow")
    sub.add_parser("migrate", help="create or upgrade the warehouse schema (also done by every ingest run)")
    role = sub.add_parser("create-leader-role", help="PostgreSQL: a login role that can only read the mart views")
    role.add_argument("--name", default="leader")
    role.add_argument("--password", default=None, help="optional; or set it later with ALTER ROLE")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "demo":
        from etl.demo import write_demo_files

        files = write_demo_files(settings.shared_dir)
        print(f"wrote {len(files)} demo files into {settings.inbox}")
    elif args.command == "indicators":
        from etl.report import indicator_tables, render
        from etl.warehouse import get_engine

        print(f"warehouse: {settings.warehouse_url}")
        print(render(indicator_tables(get_engine(settings.warehouse_url))))
    elif args.command == "ingest":
        from etl.pipeline import discover, log_summary, prepare, process_file

        prepare(settings)
        outcomes = [process_file(f, settings).as_dict() for f in discover(settings)]
        for o in outcomes:
            print(f"{o['status']:<10} {o['file']}  {o['reason_zh']}")
        print(log_summary(outcomes))
    elif args.command == "migrate":
        from etl.schema import ensure_schema
        from etl.warehouse import get_engine

        applied = ensure_schema(get_engine(settings.warehouse_url))
        print(f"warehouse up to date; migrations applied now: {applied or 'none'}")
    elif args.command == "create-leader-role":
        from etl.roles import create_leader_role
        from etl.warehouse import get_engine

        create_leader_role(get_engine(settings.warehouse_url), args.name, args.password)
        print(f"role {args.name}: SELECT on schema mart only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
