"""`minqing office add-user | set-password | disable-user | set-department`: office accounts."""

from __future__ import annotations

import argparse
from pathlib import Path

from sync_server.cli import keys
from sync_server.cli.arguments import data_dir_option
from sync_server.cli.errors import CommandError
from sync_server.settings import Settings

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
            # A taken name is said first (the store's `add`), then a wrong department.
            taken = open_accounts(args.data_dir).get(args.name) is not None
            if (args.role == "department" or args.department) and not taken:
                args.department = _department_id(args)
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
        elif args.office_command == "set-department":
            department = _department_id(args)
            with changing_secrets(args.data_dir) as change:
                open_accounts(args.data_dir, change).set_department(args.name, department)
        else:
            with changing_secrets(args.data_dir) as change:
                open_accounts(args.data_dir, change).disable(args.name)
                keys.after_disable(args, change)
    except (AccountError, KeysError, ValueError) as exc:
        raise CommandError(f"{exc}.", 2) from None
    print(f"{args.office_command}: {args.name} done")
    return 0


def _department_id(args: argparse.Namespace) -> str:
    """The registry id --department names (an id, or a department's exact name)."""
    from minqing.registry import RegistryError, load_registry

    if getattr(args, "role", "department") != "department":
        raise CommandError("--department is for department users (--role department).", 2)
    if not args.department:
        raise CommandError("a department user needs --department ID (a department id of the registry).", 2)
    try:
        registry = load_registry(args.registry)
    except RegistryError as exc:
        raise CommandError(f"{exc}", 2) from None
    found = registry.department(args.department) or registry.department_named(args.department)
    if found is None:
        known = ", ".join(d.id for d in registry.departments)
        raise CommandError(f"the registry has no department '{args.department}' (ids: {known}).", 2)
    return found.id


def add_parser(sub) -> None:
    office = sub.add_parser("office", help="office accounts: add users, set passwords, disable users")
    office_sub = office.add_subparsers(dest="office_command", required=True, metavar="ACTION")
    add = office_sub.add_parser("add-user", help="add an office account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["staff", "department", "viewer"])
    add.add_argument("--sectors", help="department, with sealing: comma-separated sector ids whose keys it holds")
    add.add_argument("--display", help="name shown in the pages and the history")
    add.add_argument("--department", help="department users: the registry id of its department (it sees the "
                                          "matters dispatched to that department)")
    for name, helptext in (("set-password", "set a new password (and enable the account)"),
                           ("disable-user", "disable an account; its history stays")):
        office_sub.add_parser(name, help=helptext).add_argument("name")
    moved = office_sub.add_parser("set-department", help="set a department user's department (ends its sessions)")
    moved.add_argument("name")
    moved.add_argument("--department", required=True, help="the registry id of the department")
    for action in (add, moved):
        action.add_argument("--registry", type=Path, default=Settings.registry,
                            help=f"station registry, for the department ids (default: {Settings.registry})")
    for action in office_sub.choices.values():
        data_dir_option(action)
        if action.prog.split()[-1] not in ("disable-user", "set-department"):
            action.add_argument("--password-stdin", action="store_true",
                                help="read the password from standard input (with keys on: the unlocking secret first)")
            keys.unlocker_options(action)
        action.set_defaults(func=_cmd_office_user)
