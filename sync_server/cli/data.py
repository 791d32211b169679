"""`minqing backup | restore | check`: the data folder as a whole."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sync_server.cli.arguments import data_dir_option, days
from sync_server.cli.errors import CommandError
from sync_server.settings import Settings

__all__ = ["add_parser", "backup_arguments"]


def _cmd_backup(args: argparse.Namespace) -> int:
    from sync_server.store import BackupIncomplete, make_backup, prune, verify

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
    for problem in report.problems:
        print(f"warning: copied as it is: {problem}", file=sys.stderr)
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from sync_server.store import BackupIncomplete, restore

    try:
        counts = restore(args.backup, args.data_dir)["counts"]
    except (BackupIncomplete, FileExistsError) as exc:
        raise CommandError(f"{exc}.") from None
    print(f"restored {counts['records']} records, {counts['triage_entries']} triage entries and {counts['accounts']} "
          f"accounts into {args.data_dir}; serve it with: minqing serve --data-dir {args.data_dir}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from sync_server.store import StoreLocked, check

    if not args.data_dir.is_dir():
        raise CommandError(f"there is no data folder at {args.data_dir}.")
    try:
        found = check(args.data_dir, repair=args.repair, seal=_sealer(args) if args.repair else None)
    except StoreLocked as exc:
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


def _sealer(args: argparse.Namespace):
    """With keys, what `--repair` puts back is sealed like every stored record."""
    from sync_server.sealing.keyring import Keyring
    from sync_server.sealing.on_arrival import PlainSealer
    from sync_server.stations import StationBook
    from sync_server.store.installation import installation_key

    if not Keyring(args.data_dir).exists():
        return None
    return PlainSealer(StationBook(args.registry), installation_key(args.data_dir), args.data_dir)


def backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, help="a new or empty folder (with --verify: a backup; with --prune: "
                        "the folder that holds the backups)")
    parser.add_argument("--verify", action="store_true", help="check a backup's manifest and every checksum")
    parser.add_argument("--prune", action="store_true", help="delete the backups in DEST older than --keep-days")
    parser.add_argument("--keep-days", type=days(1), default=Settings.phone_days_max,
                        help=f"with --prune: keep backups this many days, the longest phone retention (default: {Settings.phone_days_max})")
    data_dir_option(parser)
    parser.set_defaults(func=_cmd_backup)


def add_parser(sub) -> None:
    backup_arguments(sub.add_parser("backup", help="back up the whole data folder (also while serving); verify; prune"))
    restore = sub.add_parser("restore", help="restore a backup into a new or empty data folder")
    restore.add_argument("backup", type=Path, help="a folder `minqing backup` wrote")
    restore.add_argument("data_dir", type=Path, help="the data folder to create (new or empty)")
    restore.set_defaults(func=_cmd_restore)
    check = sub.add_parser("check", help="what is wrong in the data folder and what can be saved")
    check.add_argument("--repair", action="store_true", help="save what can be saved (server stopped); "
                       "sealed when there are keys")
    check.add_argument("--registry", type=Path, default=Settings.registry,
                       help=f"with --repair and keys: the station registry, for each record's sector (default: {Settings.registry})")
    data_dir_option(check)
    check.set_defaults(func=_cmd_check)
