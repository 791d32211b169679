"""`minqing office add-user | set-password | disable-user`: office accounts."""

from __future__ import annotations

import argparse

from sync_server.cli import keys
from sync_server.cli.arguments import data_dir_option
from sync_server.cli.errors import CommandError

__all__ = ["add_parser"]


def _cmd_office_user(args: argparse.Namespace) -> int:
    from sync_server.sealing.keyring import KeysError
    from sync_server.store import changing_secrets, open_accounts, refuse_backup
    from sync_server.store.accounts import AccountError

    refuse_backup(args.data_dir)
    secrets = keys.Secrets(getattr(args, "password_stdin", False))

    def new_password() -> str:
        return secrets.ask("password: ", confirm=True)

    # Secrets first (never asked while the lock is held), then one change to the secret
    # files: the account and its keys saved together, or neither (see `changing_secrets`).
    try:
        if args.office_command == "add-user":
            sectors = [s for s in (args.sectors or "").split(",") if s]
            by = keys.before_add_user(args, secrets)
            password = new_password()
            with changing_secrets(args.data_dir) as change:
                open_accounts(args.data_dir, change).add(args.name, password, args.role, args.display or "", sectors,
                                                         args.department or "")
                keys.after_add_user(args, by, password, sectors, change)
        elif args.office_command == "set-password":
            asked = keys.before_set_password(args, secrets, new_password)
            with changing_secrets(args.data_dir) as change:
                keys.set_password_keys(args, asked, change)
                open_accounts(args.data_dir, change).set_password(args.name, asked.password)
        else:
            with changing_secrets(args.data_dir) as change:
                open_accounts(args.data_dir, change).disable(args.name)
                keys.after_disable(args, change)
    except (AccountError, KeysError, ValueError) as exc:
        raise CommandError(f"{exc}.", 2) from None
    print(f"{args.office_command}: {args.name} done")
    return 0


def add_parser(sub) -> None:
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
        data_dir_option(action)
        if action.prog.split()[-1] != "disable-user":
            action.add_argument("--password-stdin", action="store_true",
                                help="read the password from standard input (with keys on: the unlocking secret first)")
            keys.unlocker_options(action)
        action.set_defaults(func=_cmd_office_user)
