"""Command line: ``python -m etl demo`` writes the demo district files into the shared folder (the
repository's top-level ``demo`` package, not part of ``etl``);
``python -m etl indicators`` prints the indicator views; ``python -m etl ingest`` processes the inbox
without a scheduler (the same code the DAG runs); ``migrate`` upgrades the warehouse schema;
``create-leader-role`` creates the read-only role for leaders (PostgreSQL); ``publish`` writes the review
pack; ``data-docs [--rebuild]`` renders the Data Docs index (every page) again; ``template`` writes blank
official templates; ``reprocess`` and ``backfill`` put archived files back (``--now``: and process them);
``workdays check|fill`` validates the working-day calendar / fills pending 12345 deadlines in place;
``approval list|approve|reject|unapprove`` is the stewards' approval without the Airflow UI."""

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
    sub.add_parser("publish", help="write the city review pack (xlsx + HTML) into SHARED_DIR/published")
    docs = sub.add_parser("data-docs", help="render the Data Docs index again from the stored validations")
    docs.add_argument(
        "--rebuild",
        action="store_true",
        help="render every page again (after a GX upgrade or a damaged site; ~50 ms a page)",
    )
    role = sub.add_parser("create-leader-role", help="PostgreSQL: a login role that can only read the mart views")
    role.add_argument("--name", default="leader")
    role.add_argument("--password", default=None, help="optional; or set it later with ALTER ROLE")
    sub.add_parser(
        "airflow-access",
        help="FAB auth manager: create the Steward role and the users named in the environment (etl/web/access.py)",
    )
    standalone = sub.add_parser(
        "airflow-standalone", help="make airflow: the Airflow UI with real logins; stopping it stops every process"
    )
    standalone.add_argument("--port", type=int, default=8080)
    sub.add_parser(
        "prod-smoke", help="make prod-smoke: the compose topology as processes (Celery, Redis, PostgreSQL), checked"
    )
    template = sub.add_parser("template", help="write the official blank templates (填报模板) from the contracts")
    template.add_argument("--report-type", default=None, help="one report type (default: all)")
    template.add_argument("--district", default=None, help="narrow the drop-downs to one unit, e.g. 明山区 or 市本级")
    template.add_argument("--out", default=None, help="output folder (default: SHARED_DIR/templates)")
    again = sub.add_parser("reprocess", help="put the archived raw file of a load back into the inbox")
    again.add_argument("load_id", type=int)
    again.add_argument(
        "--now", action="store_true", help="process it right away, even if the same bytes were rejected before (force)"
    )
    backfill = sub.add_parser("backfill", help="re-drop the current and rejected files of a period into the inbox")
    backfill.add_argument("period", help="2021Q4, 2022-03 or 2021-07-29, as stored in stg_file_load.period")
    backfill.add_argument("--report-type", default=None)
    backfill.add_argument(
        "--now", action="store_true", help="process them at once, again even if the same bytes were rejected before"
    )
    workdays = sub.add_parser(
        "workdays", help="the working-day calendar of the 12345 deadlines (etl/reference/workdays.yaml)"
    )
    workdays.add_argument(
        "action",
        choices=("check", "fill"),
        help="check: validate the calendar and show the years covered; fill: load it into "
        "dim_workday and fill the pending (期限待定) deadlines in place",
    )
    approval = sub.add_parser("approval", help="steward approval of district reports (etl/approval)")
    approval.add_argument(
        "action",
        choices=("list", "approve", "reject", "unapprove"),
        help="list: what awaits a decision and what is approved; approve/reject a version awaiting a decision; "
        "unapprove: withdraw an approval (a reason is required)",
    )
    approval.add_argument("load_id", type=int, nargs="?", help="the load (stg_file_load.load_id) decided on")
    approval.add_argument("--by", default=None, help="who decides (default: the login name)")
    approval.add_argument("--comment", default="", help="the comment; required to reject or unapprove")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "demo":
        from demo import record_demo_submissions, write_demo_files

        files = write_demo_files(settings.shared_dir)
        record_demo_submissions(settings, files)  # demo only: each file's realistic received time
        print(f"wrote {len(files)} demo files into {settings.inbox}")
    elif args.command == "indicators":
        from etl.publish.indicators import indicator_tables, render
        from etl.warehouse.engine import get_engine

        print(f"warehouse: {settings.warehouse_url_shown}")
        print(render(indicator_tables(get_engine(settings.warehouse_url))))
    elif args.command == "ingest":
        from etl.ingest.pipeline import ingest_inbox

        return ingest_inbox(settings)
    elif args.command == "publish":
        from etl.publish.review_pack import publish

        for kind, path in publish(settings).items():
            print(f"review pack ({kind}): {path}")
    elif args.command == "data-docs":
        from etl.ingest.validate.data_docs import DataDocs

        docs = DataDocs.from_settings(settings)
        print(f"Data Docs: {settings.shared_dir / (docs.rebuild() if args.rebuild else docs.refresh_index())}")
    elif args.command == "migrate":
        from etl.warehouse.engine import get_engine
        from etl.warehouse.schema import ensure_schema

        applied = ensure_schema(get_engine(settings.warehouse_url), force=True)
        print(f"warehouse up to date; migrations applied now: {applied or 'none'}")
    elif args.command == "create-leader-role":
        from etl.warehouse.engine import get_engine
        from etl.warehouse.roles import create_leader_role

        create_leader_role(get_engine(settings.warehouse_url), args.name, args.password)
        print(f"role {args.name}: SELECT on schema mart only")
    elif args.command == "airflow-access":
        from etl.web.access import ensure_roles, ensure_users, users_from_env

        users = users_from_env()
        ensure_roles()
        created = ensure_users(users)
        print(f"roles ready; users created: {', '.join(created) or 'none'} (of {len(users)} listed)")
    elif args.command == "prod-smoke":
        from etl.ops.prod_smoke import main as prod_smoke

        return prod_smoke()
    elif args.command == "airflow-standalone":
        from etl.ops.local_airflow import main as standalone

        return standalone(args.port)
    elif args.command in _HANDLERS:
        return _HANDLERS[args.command](args, settings)
    elif args.command == "workdays":
        return _workdays(args.action, settings)
    elif args.command == "approval":
        return _approval(args, settings)
    return 0


def _approval(args, settings: Settings) -> int:
    import getpass

    from etl.approval.decisions import Decision, StaleDecision, decide
    from etl.approval.lock import APPROVED, REJECTED, UNAPPROVED
    from etl.approval.units import approved, awaiting_decision
    from etl.warehouse.engine import get_engine

    if args.action == "list":
        engine = get_engine(settings.warehouse_url)
        for title, versions in (("awaiting a decision", awaiting_decision(engine)), ("approved", approved(engine))):
            print(f"{title}: {len(versions)}")
            for v in versions:
                held = f"  (replaces approved load {v.replaces})" if v.replaces is not None else ""
                print(f"  {v.load_id:>8}  {v.unit_label}  {v.file_name}  rows {v.rows_loaded}{held}")
        return 0
    if args.load_id is None:
        print("a load_id is required (python -m etl approval list shows them)", file=sys.stderr)
        return 2
    decision = {"approve": APPROVED, "reject": REJECTED, "unapprove": UNAPPROVED}[args.action]
    try:
        outcome = decide(Decision(args.load_id, decision, args.by or getpass.getuser(), args.comment), settings)
    except (StaleDecision, ValueError) as exc:
        print(f"not applied: {exc}", file=sys.stderr)
        return 1
    print(outcome.summary_zh())
    if outcome.clerk_note:
        print(f"note for the clerk: {outcome.clerk_note}")
    print("leaders' views show it now; run `python -m etl publish` (or wait for city_review_publish) for the pack")
    return 0


def _template(args, settings: Settings) -> int:
    from pathlib import Path

    from etl.publish.templates import write_all_templates, write_template

    out = Path(args.out) if args.out else settings.templates
    root = settings.shared_dir if not args.out else None  # in the share: written through no link (etl.shared_paths)
    if root is None:
        out.mkdir(parents=True, exist_ok=True)
    try:
        paths = (
            [write_template(args.report_type, out, args.district, root=root)]
            if args.report_type
            else write_all_templates(out, args.district, root=root)
        )
    except ValueError as exc:  # unknown report type or district
        print(exc, file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


def _reprocess(args, settings: Settings) -> int:
    from etl.ingest.inbox.reprocess import UnknownLoadError, reprocess
    from etl.ingest.pipeline import prepare, process_file, refresh_docs_index

    prepare(settings)
    try:
        path = reprocess(args.load_id, settings)
    except (UnknownLoadError, FileExistsError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"back in the inbox: {path}")
    if args.now:
        o = process_file(str(path.relative_to(settings.inbox)), settings, force=True)
        refresh_docs_index([o.as_dict()], settings)
        print(f"{o.status:<10} {o.file}  {o.reason_zh}")
    return 0


def _backfill(args, settings: Settings) -> int:
    from etl.ingest.inbox.reprocess import backfill
    from etl.ingest.pipeline import prepare, process_file, refresh_docs_index

    prepare(settings)
    try:
        paths = backfill(args.period, args.report_type, settings)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    outcomes = []
    for path in paths:
        if args.now:
            o = process_file(str(path.relative_to(settings.inbox)), settings, force=True)
            outcomes.append(o.as_dict())
            print(f"{o.status:<10} {o.file}  {o.reason_zh}")
        else:
            print(path)
    refresh_docs_index(outcomes, settings)
    if not args.now:
        print(
            f"{len(paths)} files back in the inbox; the next run (or `python -m etl ingest`) processes them "
            "(byte-identical files are duplicates there: use --now after a rule or reference change)"
        )
    return 0


_HANDLERS = {"template": _template, "reprocess": _reprocess, "backfill": _backfill}


def _workdays(action: str, settings: Settings) -> int:
    from etl.config import local_time
    from etl.publish.pending_deadlines import COVERAGE_ALERT_DAYS, coverage_gap, fill_pending_deadlines
    from etl.reference.workdays import CalendarError, active_calendar, calendar_file

    try:
        calendar = active_calendar()
    except CalendarError as exc:
        print(exc, file=sys.stderr)
        return 1
    years = calendar.years
    reference = [y for y, c in years.items() if c.source == "reference"]
    print(
        f"working-day calendar {calendar_file()}: {min(years)}–{max(years)} configured"
        f" ({len(reference)} from the file: {reference or 'none'}; the rest from the chinese-calendar package)"
    )
    today = local_time().date()
    if (gap := coverage_gap(today, calendar)) is not None:
        print(
            f"WARNING: configured only up to {gap}, less than the next {COVERAGE_ALERT_DAYS} days: add {gap.year + 1}"
        )
    if action == "fill":
        from etl.warehouse.engine import get_engine
        from etl.warehouse.schema import ensure_schema

        engine = get_engine(settings.warehouse_url)
        ensure_schema(engine)  # dim_workday follows the calendar file
        result = fill_pending_deadlines(engine, calendar)
        print(f"filled {result['filled']} pending deadlines; {result['still_pending']} still pending")
    return 0


if __name__ == "__main__":
    sys.exit(main())
