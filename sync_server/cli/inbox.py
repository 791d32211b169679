"""`minqing inbox list | import | report | export | retention`: the office inbox from a terminal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sync_server.cli import keys
from sync_server.cli.arguments import data_dir_option, days, office_output_options, retention_days_options
from sync_server.cli.data import backup_arguments
from sync_server.cli.errors import CommandError
from sync_server.cli.output import json_safe, terminal_safe, write_output
from sync_server.settings import Settings

__all__ = ["IMPORT_INCOMPLETE", "add_parser"]


# `inbox import`: the file was read, but some records were rejected or not stored.
IMPORT_INCOMPLETE = 3


def _cmd_inbox_list(args: argparse.Namespace) -> int:
    from sync_server.store import open_store

    with open_store(args.data_dir, writer=False, load_triage=False) as store:
        stored = list(store.submissions.records())
    # Phone numbers stay out of listings: see `inbox export` in the office tools. So does
    # their keyed digest, which is the phone to anyone who also has the key.
    stored = [{**r, "has_phone": bool(r.get("phone") or (r.get("sealed") or {}).get("phone"))} for r in stored]
    records = [{k: v for k, v in r.items() if k not in ("phone", "phone_fingerprint", "sealed")}
               for r in keys.record_opener(args, with_phone=False, required=False)(stored)]
    if args.json:
        print(json_safe(json.dumps(records, ensure_ascii=False, indent=1)))
    else:
        for r in records:
            text = (r["feeling"] or r["suggestion"]).replace("\n", " ")
            # Words that break a rule come escaped (longer), and are marked.
            text = f"[不符合提交规则] {text[:120]}" if r.get("words_problem") else text[:40]
            line = f"{r['receipt']}  {r['received_at'][:16]}  {r['station_id']:<24} {r['rating'] or '-':<12} {text}"
            print(terminal_safe(line))
        print(f"{len(records)} records")
    return 0


def _cmd_inbox_import(args: argparse.Namespace) -> int:
    from sync_server.intake.kiosk_import import KioskFileError, complete, import_local, import_remote, read_export, summary
    from sync_server.store import StoreLocked

    try:
        export = read_export(args.file)
        if args.server:
            results = import_remote(args.server, export)
        else:
            results = import_local(args.data_dir, args.registry, export)
    except (KioskFileError, StoreLocked) as exc:
        hint = " (pass --server URL to import through the running server)" if isinstance(exc, StoreLocked) else ""
        raise CommandError(f"{exc}{hint}.") from None
    print(summary(results))
    # Scripts and people alike must notice a file that did not go in whole.
    return 0 if complete(results) else IMPORT_INCOMPLETE


def _cmd_inbox_report(args: argparse.Namespace) -> int:
    from sync_server.office.commands import render_report

    try:
        opener = keys.record_opener(args, args.with_phone, required=args.kind == "weekly")
        data = render_report(args.data_dir, args.registry, args.kind, args.format, args.date, args.with_phone,
                             opener if args.kind == "weekly" else None)
    except ValueError:
        raise CommandError("--date takes YYYY-MM-DD for weekly and YYYY-MM for monthly.", 2) from None
    write_output(data, args.output)
    return 0


def _cmd_inbox_export(args: argparse.Namespace) -> int:
    from sync_server.office.commands import export_records

    opener = keys.record_opener(args, args.with_phone, required=True)
    write_output(export_records(args.data_dir, args.registry, args.with_phone, opener, args.format), args.output)
    return 0


def _cmd_inbox_retention(args: argparse.Namespace) -> int:
    from sync_server.office.commands import remove_old_phones
    from sync_server.store import StoreLocked

    after_close = args.days if args.days is not None else args.days_after_close
    try:
        removed = remove_old_phones(args.data_dir, after_close, max_days=args.max_days)
    except (StoreLocked, ValueError) as exc:
        raise CommandError(f"{exc}.") from None
    print(f"removed the phone number from {removed} records (closed more than {after_close} days ago, "
          f"or received more than {args.max_days} days ago)")
    return 0


def add_parser(sub) -> None:
    inbox = sub.add_parser("inbox", help="read, import into and back up the office inbox")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    listing = inbox_sub.add_parser("list", help="list stored submissions (phone numbers left out)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    data_dir_option(listing)
    listing.add_argument("--registry", type=Path, default=Path("site/stations.yml"), help="station registry")
    keys.reader_options(listing)
    listing.set_defaults(func=keys.catching(_cmd_inbox_list))
    importing = inbox_sub.add_parser(
        "import",
        help="import a file a kiosk tablet exported (idempotent)",
        description="Import a kiosk export. Exit status: 0 every record is in the inbox, 1 the file or the "
        "inbox could not be used, 3 some records were rejected or not stored (the summary says which).",
    )
    importing.add_argument("file", type=Path, help="the exported .json file")
    data_dir_option(importing)
    importing.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")
    importing.add_argument("--server", help="import through a running server at this URL instead")
    importing.set_defaults(func=_cmd_inbox_import)
    backup_arguments(inbox_sub.add_parser("backup", help="the same as `minqing backup`"))
    report = inbox_sub.add_parser("report", help="the weekly meeting pack or the monthly report")
    report.add_argument("kind", choices=["weekly", "monthly"])
    report.add_argument("--format", choices=["html", "csv", "xlsx"], default="html")
    report.add_argument("--date", help="weekly: any day of the week (YYYY-MM-DD); monthly: YYYY-MM (default: now)")
    office_output_options(report)
    keys.reader_options(report)
    report.set_defaults(func=keys.catching(_cmd_inbox_report))
    export = inbox_sub.add_parser("export", help="every record as CSV (UTF-8 with BOM) or the office's 明细 XLSX, "
                                  "phone numbers left out")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    office_output_options(export)
    keys.reader_options(export)
    export.set_defaults(func=keys.catching(_cmd_inbox_export))
    retention = inbox_sub.add_parser("retention", help="remove phone numbers from records closed long ago")
    retention_days_options(retention, "--days-after-close", "--max-days")
    retention.add_argument("--days", type=days(0), help=argparse.SUPPRESS)  # the old name of --days-after-close
    data_dir_option(retention)
    retention.set_defaults(func=_cmd_inbox_retention)
