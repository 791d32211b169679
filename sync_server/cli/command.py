"""The `minqing` command: build the site, serve it, look after the inbox, the keys and
the office accounts. Each command group lives in a module of its own and adds its own
parser; this one only puts them together and turns a `CommandError` into an exit status."""

from __future__ import annotations

import argparse
import sys

from sync_server.cli import data, inbox, keys, office, serve, site
from sync_server.cli.arguments import data_dir_option
from sync_server.cli.errors import CommandError
from sync_server.cli.passwordcost import take_test_cost
from sync_server.store import BackupIncomplete, JournalDamaged

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description="民情哨: offline-first public-opinion posts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (site, serve, inbox, data, office):
        group.add_parser(sub)
    keys.add_keys_parser(sub, data_dir_option)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    take_test_cost(args.command)
    try:
        try:
            return args.func(args)
        except BackupIncomplete as exc:  # any command opening an interrupted backup as its data folder
            raise CommandError(f"{exc}.") from None
        except JournalDamaged as exc:  # any command that changes the keys or accounts
            raise CommandError(f"{exc}.") from None
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status

