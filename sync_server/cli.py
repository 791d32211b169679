"""The `minqing` command: build the site, serve it, look after the inbox."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from .settings import Settings

__all__ = ["CommandError", "main"]



class CommandError(Exception):
    """A command that cannot do what was asked: `main` prints `error: <message>` and
    exits with `status` (2: a mistake in the input, such as the registry; 1: the rest)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# `inbox import`: the file was read, but some records were rejected or not stored.
IMPORT_INCOMPLETE = 3


def _cmd_build(args: argparse.Namespace) -> int:
    from build_scripts.publish import StrictBuildError, build_site
    from build_scripts.volunteer import publish_sheets
    from minqing.registry import RegistryError

    if args.public_keys is None and Path("data/keys/public.json").exists():
        args.public_keys = Path("data/keys/public.json")
    started = time.perf_counter()
    try:
        report = build_site(Path(args.config), args.registry, args.site_dir, args.public_keys, strict=args.strict)
        sheets = publish_sheets(Path(args.config), args.registry, args.site_dir, args.tablets)
    except (RegistryError, StrictBuildError) as exc:
        raise CommandError(str(exc), 2) from None
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    took = time.perf_counter() - started
    print(
        f"built in {took:.2f}s: {len(report.written)} written, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged"
    )
    if sheets:
        print(f"volunteer sheets for {sheets[0]} tablets in {sheets[1]} (print them; never publish them)")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from minqing.registry import RegistryError

    from .app import create_app
    from .inbox import Inbox, InboxLocked
    from .serving import serve

    settings = Settings(
        data_dir=args.data_dir,
        site_dir=args.site_dir,
        registry=args.registry,
        allowed_origins=tuple(args.allow_origin),
        trust_forwarded_for=tuple(args.trust_forwarded_for),
        device_limit=args.device_limit,
        address_limit=args.address_limit,
        max_concurrent_requests=args.max_concurrent_requests,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        phone_days_after_close=args.phone_days_after_close,
        phone_days_max=args.phone_days_max,
    )
    try:
        inbox = Inbox(settings.data_dir, segment_size=settings.segment_size)
    except InboxLocked as exc:
        raise CommandError(f"{exc}.") from None
    try:
        app = create_app(settings, inbox=inbox)
    except RegistryError as exc:
        inbox.close()
        raise CommandError(str(exc), 2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"minqing: serving {settings.site_dir} and the API on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    serve(app, args.host, args.port, settings.header_timeout, settings.keep_alive_timeout)
    return 0


def terminal_safe(text: str) -> str:
    """Text a citizen wrote, safe to print on a terminal: control characters (escape
    sequences, carriage returns, bidirectional overrides) shown as \\uXXXX escapes."""
    import unicodedata

    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in text
    )


def _cmd_inbox_list(args: argparse.Namespace) -> int:
    from .inbox import Inbox
    from .keys_commands import record_opener

    with Inbox(args.data_dir, writer=False) as inbox:
        stored = list(inbox.records())
    # Phone numbers stay out of listings: see `inbox export` in the office tools. So does
    # their keyed digest, which is the phone to anyone who also has the key.
    stored = [{**r, "has_phone": bool(r.get("phone") or (r.get("sealed") or {}).get("phone"))} for r in stored]
    records = [{k: v for k, v in r.items() if k not in ("phone", "phone_fingerprint", "sealed")}
               for r in record_opener(args, with_phone=False, required=False)(stored)]
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for r in records:
            text = (r["feeling"] or r["suggestion"]).replace("\n", " ")[:40]
            line = f"{r['receipt']}  {r['received_at'][:16]}  {r['station_id']:<24} {r['rating'] or '-':<12} {text}"
            print(terminal_safe(line))
        print(f"{len(records)} records")
    return 0


def _cmd_inbox_import(args: argparse.Namespace) -> int:
    from .inbox import InboxLocked
    from .kiosk_import import KioskFileError, complete, import_local, import_remote, read_export, summary

    try:
        export = read_export(args.file)
        if args.server:
            results = import_remote(args.server, export)
        else:
            results = import_local(args.data_dir, args.registry, export)
    except (KioskFileError, InboxLocked) as exc:
        hint = " (pass --server URL to import through the running server)" if isinstance(exc, InboxLocked) else ""
        raise CommandError(f"{exc}{hint}.") from None
    print(summary(results))
    # Scripts and people alike must notice a file that did not go in whole.
    return 0 if complete(results) else IMPORT_INCOMPLETE


def _cmd_backup(args: argparse.Namespace) -> int:
    from .backup import BackupIncomplete, make_backup, prune, verify

    try:
        if args.prune:
            removed = prune(args.dest, args.keep_days)
            print(f"removed {len(removed)} backups older than {args.keep_days} days from {args.dest}")
            for folder in removed:
                print(f"  {folder.name}")
            return 0
        if args.verify:
            counts = verify(args.dest)["counts"]
            print(f"{args.dest} is a complete backup: {counts['records']} records, {counts['triage_entries']} triage "
                  f"entries, {counts['accounts']} accounts, {counts['files']} files, every checksum matches")
            return 0
        report = make_backup(args.data_dir, args.dest)
    except (BackupIncomplete, FileExistsError, FileNotFoundError, NotADirectoryError) as exc:
        raise CommandError(f"{exc}.") from None
    print(f"backed up {report.records} records, {report.triage_entries} triage entries and {report.accounts} accounts "
          f"({report.files} files) to {args.dest}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from .backup import BackupIncomplete, restore

    try:
        counts = restore(args.backup, args.data_dir)["counts"]
    except (BackupIncomplete, FileExistsError) as exc:
        raise CommandError(f"{exc}.") from None
    print(f"restored {counts['records']} records, {counts['triage_entries']} triage entries and {counts['accounts']} "
          f"accounts into {args.data_dir}; serve it with: minqing serve --data-dir {args.data_dir}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import check
    from .inbox import InboxLocked

    if not args.data_dir.is_dir():
        raise CommandError(f"there is no data folder at {args.data_dir}.")
    try:
        found = check(args.data_dir, repair=args.repair)
    except InboxLocked as exc:
        raise CommandError(f"{exc}.") from None
    for note in found.notes:
        print(note)
    for problem in found.problems:
        print(f"problem: {problem}")
    for done in found.repaired:
        print(f"repaired: {done}")
    if not found.problems:
        print("no problems found")
        return 0
    if not args.repair:
        print("run `minqing check --repair` (server stopped) to save what can be saved")
    return 0 if args.repair else 1


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


def _networks(text: str) -> str:
    from .proxy import parse_networks

    try:
        parse_networks([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds between 0 and 3600")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number above 0")
    return int(text)


def _write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        # Reports and exports can hold citizens' words and phones: owner-only, whatever the umask.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        print(f"written: {output}", file=sys.stderr)


def _cmd_inbox_report(args: argparse.Namespace) -> int:
    from .keys_commands import record_opener
    from .office.commands import render_report

    try:
        opener = record_opener(args, args.with_phone, required=args.kind == "weekly")
        data = render_report(args.data_dir, args.registry, args.kind, args.format, args.date, args.with_phone,
                             opener if args.kind == "weekly" else None)
    except ValueError:
        raise CommandError("--date takes YYYY-MM-DD for weekly and YYYY-MM for monthly.", 2) from None
    _write_output(data, args.output)
    return 0


def _cmd_inbox_export(args: argparse.Namespace) -> int:
    from .keys_commands import record_opener
    from .office.commands import export_records

    opener = record_opener(args, args.with_phone, required=True)
    _write_output(export_records(args.data_dir, args.registry, args.with_phone, opener), args.output)
    return 0


def _cmd_inbox_retention(args: argparse.Namespace) -> int:
    from .inbox import InboxLocked
    from .office.commands import remove_old_phones

    after_close = args.days if args.days is not None else args.days_after_close
    try:
        removed = remove_old_phones(args.data_dir, after_close, max_days=args.max_days)
    except (InboxLocked, ValueError) as exc:
        raise CommandError(f"{exc}.") from None
    print(f"removed the phone number from {removed} records (closed more than {after_close} days ago, "
          f"or received more than {args.max_days} days ago)")
    return 0


def _cmd_office_user(args: argparse.Namespace) -> int:
    from . import keys_commands
    from .accounts import AccountError, Accounts
    from .backup import refuse_backup
    from .keys import KeysError

    refuse_backup(args.data_dir)
    accounts = Accounts(args.data_dir)
    secrets = keys_commands.Secrets(getattr(args, "password_stdin", False))

    def new_password() -> str:
        return secrets.ask("password: ", confirm=True)

    try:
        if args.office_command == "add-user":
            sectors = [s for s in (args.sectors or "").split(",") if s]
            by = keys_commands.before_add_user(args, secrets)
            password = new_password()
            accounts.add(args.name, password, args.role, args.display or "", sectors, args.department or "")
            keys_commands.after_add_user(args, by, password, sectors)
        elif args.office_command == "set-password":
            accounts.set_password(args.name, keys_commands.before_set_password(args, secrets, new_password))
        else:
            accounts.disable(args.name)
            keys_commands.after_disable(args)
    except (AccountError, KeysError, ValueError) as exc:
        raise CommandError(f"{exc}.", 2) from None
    print(f"{args.office_command}: {args.name} done")
    return 0


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Settings.data_dir, help=f"inbox folder (default: {Settings.data_dir})")


def _office_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--with-phone", action="store_true", help="add phone numbers, only those given with consent")
    _data_dir(parser)
    parser.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")


def _days(least: int):
    from .retention import LONGEST_DAYS

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of days") from None
        if not least <= value <= LONGEST_DAYS:
            raise argparse.ArgumentTypeError(f"days must be from {least} to {LONGEST_DAYS}, not {value}")
        return value

    return parse


def _retention_days(parser: argparse.ArgumentParser, after_close: str, most: str) -> None:
    parser.add_argument(after_close, type=_days(0), default=Settings.phone_days_after_close,
                        help=f"remove a phone this many days after its record closes (default: {Settings.phone_days_after_close})")
    parser.add_argument(most, type=_days(1), default=Settings.phone_days_max,
                        help=f"and at the latest this many days after receipt, whatever the status (default: {Settings.phone_days_max})")


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, help="a new or empty folder (with --verify: a backup; with --prune: "
                        "the folder that holds the backups)")
    parser.add_argument("--verify", action="store_true", help="check a backup's manifest and every checksum")
    parser.add_argument("--prune", action="store_true", help="delete the backups in DEST older than --keep-days")
    parser.add_argument("--keep-days", type=_days(1), default=Settings.phone_days_max,
                        help=f"with --prune: keep backups this many days, the longest phone retention (default: {Settings.phone_days_max})")
    _data_dir(parser)
    parser.set_defaults(func=_cmd_backup)


def _parser() -> argparse.ArgumentParser:
    from . import keys_commands

    parser = argparse.ArgumentParser(prog="minqing", description="民情哨: offline-first public-opinion posts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="validate site/stations.yml and build the static site")
    build.add_argument("--config", default="mkdocs.yml", help="MkDocs configuration (default: mkdocs.yml)")
    build.add_argument("--registry", type=Path, help="station registry (default: the one mkdocs.yml names)")
    build.add_argument("--site-dir", type=Path, help="output folder (default: site_dir of mkdocs.yml)")
    build.add_argument("--public-keys", type=Path, help="sealed records: the public-key file `minqing keys init` wrote, "
                       "published as keys.json (default: data/keys/public.json when it exists)")
    build.add_argument(
        "--tablets", type=Path, help="volunteer tablets and PINs (default: kiosk-tablets.yml beside the registry)"
    )
    build.add_argument("--strict", action="store_true", help="refuse to build when site.base_url is loopback or not HTTPS")
    build.set_defaults(func=_cmd_build)

    serve = sub.add_parser("serve", help="serve the built site and the upload API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    _data_dir(serve)
    serve.add_argument("--site-dir", type=Path, default=Settings.site_dir, help=f"built site (default: {Settings.site_dir})")
    serve.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")
    serve.add_argument("--allow-origin", action="append", default=[], help="another origin allowed to upload")
    serve.add_argument("--device-limit", type=_limit, default=Settings.device_limit_default(),
                       help="uploads per device as RATE/BURST, requests per second and burst (default: 5/60)")
    serve.add_argument("--address-limit", type=_limit, default=Settings.address_limit_default(),
                       help="uploads per client address as RATE/BURST (default: 20/300)")
    serve.add_argument("--trust-forwarded-for", metavar="PROXIES", type=_networks, action="append", default=[],
                       help="your reverse proxies' addresses or networks (comma-separated or repeated, e.g. 127.0.0.1): "
                            "their X-Forwarded-For and X-Forwarded-Proto are believed, nobody else's (default: none)")
    serve.add_argument("--max-concurrent-requests", type=_positive, default=Settings.max_concurrent_requests,
                       help="requests handled at once, 503 past it (default: 200)")
    serve.add_argument("--header-timeout", type=_seconds, default=Settings.header_timeout,
                       help="seconds a connection may take to send a request's headers (default: 10)")
    serve.add_argument("--body-timeout", type=_seconds, default=Settings.body_timeout,
                       help="seconds a request may take to send its whole body, 408 past it (default: 60)")
    serve.add_argument("--keep-alive-timeout", type=_seconds, default=Settings.keep_alive_timeout,
                       help="seconds an idle connection stays open between requests (default: 5)")
    _retention_days(serve, "--phone-days-after-close", "--phone-days-max")
    serve.set_defaults(func=_cmd_serve)

    inbox = sub.add_parser("inbox", help="read, import into and back up the office inbox")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    listing = inbox_sub.add_parser("list", help="list stored submissions (phone numbers left out)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    _data_dir(listing)
    listing.add_argument("--registry", type=Path, default=Path("site/stations.yml"), help="station registry")
    keys_commands.reader_options(listing)
    listing.set_defaults(func=keys_commands.catching(_cmd_inbox_list))
    importing = inbox_sub.add_parser(
        "import",
        help="import a file a kiosk tablet exported (idempotent)",
        description="Import a kiosk export. Exit status: 0 every record is in the inbox, 1 the file or the "
        "inbox could not be used, 3 some records were rejected or not stored (the summary says which).",
    )
    importing.add_argument("file", type=Path, help="the exported .json file")
    _data_dir(importing)
    importing.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")
    importing.add_argument("--server", help="import through a running server at this URL instead")
    importing.set_defaults(func=_cmd_inbox_import)
    _backup_arguments(inbox_sub.add_parser("backup", help="the same as `minqing backup`"))
    report = inbox_sub.add_parser("report", help="the weekly meeting pack or the monthly report")
    report.add_argument("kind", choices=["weekly", "monthly"])
    report.add_argument("--format", choices=["html", "csv", "xlsx"], default="html")
    report.add_argument("--date", help="weekly: any day of the week (YYYY-MM-DD); monthly: YYYY-MM (default: now)")
    _office_output(report)
    keys_commands.reader_options(report)
    report.set_defaults(func=keys_commands.catching(_cmd_inbox_report))
    export = inbox_sub.add_parser("export", help="every record as CSV (UTF-8 with BOM), phone numbers left out")
    _office_output(export)
    keys_commands.reader_options(export)
    export.set_defaults(func=keys_commands.catching(_cmd_inbox_export))
    retention = inbox_sub.add_parser("retention", help="remove phone numbers from records closed long ago")
    _retention_days(retention, "--days-after-close", "--max-days")
    retention.add_argument("--days", type=_days(0), help=argparse.SUPPRESS)  # the old name of --days-after-close
    _data_dir(retention)
    retention.set_defaults(func=_cmd_inbox_retention)

    _backup_arguments(sub.add_parser("backup", help="back up the whole data folder (also while serving); verify; prune"))
    restore = sub.add_parser("restore", help="restore a backup into a new or empty data folder")
    restore.add_argument("backup", type=Path, help="a folder `minqing backup` wrote")
    restore.add_argument("data_dir", type=Path, help="the data folder to create (new or empty)")
    restore.set_defaults(func=_cmd_restore)
    check = sub.add_parser("check", help="what is wrong in the data folder and what can be saved")
    check.add_argument("--repair", action="store_true", help="save what can be saved (server stopped)")
    _data_dir(check)
    check.set_defaults(func=_cmd_check)

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
            action.add_argument("--password-stdin", action="store_true",
                                help="read the password from standard input (with keys on: the unlocking secret first)")
            keys_commands.unlocker_options(action)
        action.set_defaults(func=_cmd_office_user)
    keys_commands.add_keys_parser(sub, _data_dir)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .backup import BackupIncomplete

    args = _parser().parse_args(argv)
    try:
        try:
            return args.func(args)
        except BackupIncomplete as exc:  # any command opening an interrupted backup as its data folder
            raise CommandError(f"{exc}.") from None
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status


if __name__ == "__main__":
    sys.exit(main())
