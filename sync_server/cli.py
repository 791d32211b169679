"""The `minqing` command: build the site, serve it, look after the inbox."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_build(args: argparse.Namespace) -> int:
    from build_scripts.publish import StrictBuildError, build_site
    from build_scripts.registry import RegistryError

    started = time.perf_counter()
    try:
        report = build_site(Path(args.config), args.registry, args.site_dir, strict=args.strict)
    except (RegistryError, StrictBuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    took = time.perf_counter() - started
    print(
        f"built in {took:.2f}s: {len(report.written)} written, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged"
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from build_scripts.registry import RegistryError

    from .app import create_app
    from .inbox import Inbox, InboxLocked
    from .settings import Settings

    settings = Settings(
        data_dir=args.data_dir,
        site_dir=args.site_dir,
        registry=args.registry,
        allowed_origins=tuple(args.allow_origin),
        trust_forwarded_for=args.trust_forwarded_for,
        device_limit=args.device_limit,
        address_limit=args.address_limit,
    )
    try:
        inbox = Inbox(settings.data_dir, segment_size=settings.segment_size)
    except InboxLocked as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return 1
    try:
        app = create_app(settings, inbox=inbox)
    except RegistryError as exc:
        inbox.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"minqing: serving {settings.site_dir} and the API on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level="warning")
    return 0


def _cmd_inbox_list(args: argparse.Namespace) -> int:
    from .inbox import Inbox

    with Inbox(args.data_dir, writer=False) as inbox:
        # Phone numbers stay out of listings: see `inbox export` in the office tools.
        records = [{k: v for k, v in r.items() if k != "phone"} | {"has_phone": bool(r.get("phone"))} for r in inbox.records()]
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for r in records:
            text = (r["feeling"] or r["suggestion"]).replace("\n", " ")
            print(f"{r['receipt']}  {r['received_at'][:16]}  {r['station_id']:<24} {r['rating'] or '-':<12} {text[:40]}")
        print(f"{len(records)} records")
    return 0


def _cmd_inbox_import(args: argparse.Namespace) -> int:
    from .inbox import InboxLocked
    from .kiosk_import import KioskFileError, import_local, import_remote, read_export, summary

    try:
        device_id, submissions = read_export(args.file)
        if args.server:
            results = import_remote(args.server, device_id, submissions)
        else:
            results = import_local(args.data_dir, args.registry, device_id, submissions)
    except (KioskFileError, InboxLocked) as exc:
        hint = " (pass --server URL to import through the running server)" if isinstance(exc, InboxLocked) else ""
        print(f"error: {exc}{hint}.", file=sys.stderr)
        return 1
    print(summary(results))
    return 0


def _cmd_inbox_backup(args: argparse.Namespace) -> int:
    from .inbox import Inbox

    with Inbox(args.data_dir, writer=False) as inbox:
        try:
            copied = inbox.backup(args.dest)
        except FileExistsError as exc:
            print(f"error: {exc}.", file=sys.stderr)
            return 1
    print(f"backed up {copied} records to {args.dest}")
    return 0


def _limit(text: str):
    from .ratelimit import Limit

    try:
        rate, burst = text.split("/")
        limit = Limit(rate=float(rate), burst=int(burst))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not RATE/BURST, e.g. 5/60") from None
    if limit.rate <= 0 or limit.burst < 1:
        raise argparse.ArgumentTypeError("RATE must be above 0 and BURST at least 1")
    return limit


def _write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        print(f"written: {output}", file=sys.stderr)


def _cmd_inbox_report(args: argparse.Namespace) -> int:
    from .office.commands import render_report

    try:
        data = render_report(args.data_dir, args.registry, args.kind, args.format, args.date, args.with_phone)
    except ValueError:
        print("error: --date takes YYYY-MM-DD for weekly and YYYY-MM for monthly.", file=sys.stderr)
        return 2
    _write_output(data, args.output)
    return 0


def _cmd_inbox_export(args: argparse.Namespace) -> int:
    from .office.commands import export_records

    _write_output(export_records(args.data_dir, args.registry, args.with_phone), args.output)
    return 0


def _cmd_inbox_retention(args: argparse.Namespace) -> int:
    from .inbox import InboxLocked
    from .office.commands import remove_old_phones

    try:
        removed = remove_old_phones(args.data_dir, args.days)
    except InboxLocked as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return 1
    print(f"removed the phone number from {removed} records closed more than {args.days} days ago")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the two passwords differ")
    return first


def _cmd_office_user(args: argparse.Namespace) -> int:
    from .accounts import AccountError, Accounts

    accounts = Accounts(args.data_dir)
    try:
        if args.office_command == "add-user":
            sectors = [s for s in (args.sectors or "").split(",") if s]
            accounts.add(args.name, _read_password(args), args.role, args.display or "", sectors, args.department or "")
        elif args.office_command == "set-password":
            accounts.set_password(args.name, _read_password(args))
        else:
            accounts.disable(args.name)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return 2
    print(f"{args.office_command}: {args.name} done")
    return 0


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="inbox folder (default: ./data)")


def _office_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--with-phone", action="store_true", help="add phone numbers, only those given with consent")
    _data_dir(parser)
    parser.add_argument("--registry", type=Path, default=Path("site/stations.yml"), help="station registry")


def _parser() -> argparse.ArgumentParser:
    from .settings import Settings

    parser = argparse.ArgumentParser(prog="minqing", description="民情哨: offline-first public-opinion posts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="validate site/stations.yml and build the static site")
    build.add_argument("--config", default="mkdocs.yml", help="MkDocs configuration (default: mkdocs.yml)")
    build.add_argument("--registry", type=Path, help="station registry (default: the one mkdocs.yml names)")
    build.add_argument("--site-dir", type=Path, help="output folder (default: site_dir of mkdocs.yml)")
    build.add_argument("--strict", action="store_true", help="refuse to build when site.base_url is loopback or not HTTPS")
    build.set_defaults(func=_cmd_build)

    serve = sub.add_parser("serve", help="serve the built site and the upload API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    _data_dir(serve)
    serve.add_argument("--site-dir", type=Path, default=Path("build/site"), help="built site (default: build/site)")
    serve.add_argument("--registry", type=Path, default=Path("site/stations.yml"), help="station registry")
    serve.add_argument("--allow-origin", action="append", default=[], help="another origin allowed to upload")
    serve.add_argument("--device-limit", type=_limit, default=Settings.device_limit_default(),
                       help="uploads per device as RATE/BURST, requests per second and burst (default: 5/60)")
    serve.add_argument("--address-limit", type=_limit, default=Settings.address_limit_default(),
                       help="uploads per client address as RATE/BURST (default: 20/300)")
    serve.add_argument("--trust-forwarded-for", action="store_true", help="behind your own reverse proxy")
    serve.set_defaults(func=_cmd_serve)

    inbox = sub.add_parser("inbox", help="read, import into and back up the office inbox")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    listing = inbox_sub.add_parser("list", help="list stored submissions (phone numbers left out)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    _data_dir(listing)
    listing.set_defaults(func=_cmd_inbox_list)
    importing = inbox_sub.add_parser("import", help="import a file a kiosk tablet exported (idempotent)")
    importing.add_argument("file", type=Path, help="the exported .json file")
    _data_dir(importing)
    importing.add_argument("--registry", type=Path, default=Path("site/stations.yml"), help="station registry")
    importing.add_argument("--server", help="import through a running server at this URL instead")
    importing.set_defaults(func=_cmd_inbox_import)
    backup = inbox_sub.add_parser("backup", help="copy a consistent snapshot of the inbox, also while serving")
    backup.add_argument("dest", type=Path, help="a new or empty folder")
    _data_dir(backup)
    backup.set_defaults(func=_cmd_inbox_backup)
    report = inbox_sub.add_parser("report", help="the weekly meeting pack or the monthly report")
    report.add_argument("kind", choices=["weekly", "monthly"])
    report.add_argument("--format", choices=["html", "csv", "xlsx"], default="html")
    report.add_argument("--date", help="weekly: any day of the week (YYYY-MM-DD); monthly: YYYY-MM (default: now)")
    _office_output(report)
    report.set_defaults(func=_cmd_inbox_report)
    export = inbox_sub.add_parser("export", help="every record as CSV (UTF-8 with BOM), phone numbers left out")
    _office_output(export)
    export.set_defaults(func=_cmd_inbox_export)
    retention = inbox_sub.add_parser("retention", help="remove phone numbers from records closed long ago")
    retention.add_argument("--days", type=int, default=180, help="closed more than this many days ago (default: 180)")
    _data_dir(retention)
    retention.set_defaults(func=_cmd_inbox_retention)

    office = sub.add_parser("office", help="office accounts: add users, set passwords, disable users")
    office_sub = office.add_subparsers(dest="office_command", required=True, metavar="ACTION")
    add = office_sub.add_parser("add-user", help="add an office account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["staff", "department", "viewer"])
    add.add_argument("--sectors", help="department: comma-separated sector ids it leads or helps with")
    add.add_argument("--display", help="name shown in the pages and the history")
    add.add_argument("--department", help="the department's name")
    for name, helptext in (("set-password", "set a new password (and enable the account)"),
                           ("disable-user", "disable an account; its history stays")):
        office_sub.add_parser(name, help=helptext).add_argument("name")
    for action in office_sub.choices.values():
        _data_dir(action)
        if action.prog.split()[-1] != "disable-user":
            action.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        action.set_defaults(func=_cmd_office_user)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
