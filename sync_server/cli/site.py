"""`minqing build`: validate the registry and build the static site."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sync_server.cli.arguments import data_dir_option
from sync_server.cli.errors import CommandError

__all__ = ["add_parser"]


def _check_public_keys(args: argparse.Namespace) -> None:
    """Stop before building when keys exist but the public keys to publish are missing or
    old: compared with the keyring of the data folder, and with the one beside the file."""
    from build_scripts.public_keys import load_public_keys, published_keys_problem
    from sync_server.sealing.keyring import Keyring

    if args.public_keys is not None and not args.public_keys.is_file():
        raise CommandError(f"there is no public-key file at {args.public_keys}: pass the public.json that "
                           "`minqing keys init` wrote (DATA_DIR/keys/public.json).", 2)
    published = {sector: entry["kid"] for sector, entry in load_public_keys(args.public_keys).items()}
    keyrings = [Keyring(args.data_dir)]
    if args.public_keys is not None and (args.public_keys.parent / "keyring.json").is_file():
        keyrings.append(Keyring(args.public_keys.parent.parent))
    for keyring in keyrings:
        current = {sector: key.kid for sector, key in keyring.public_keys().items()}
        problem = published_keys_problem(published, current, args.public_keys, keyring.public_path)
        if problem:
            raise CommandError(problem, 2)


def _cmd_build(args: argparse.Namespace) -> int:
    from build_scripts.publish import StrictBuildError, build_site
    from build_scripts.volunteer import publish_sheets
    from minqing.registry import RegistryError

    default = Path(args.data_dir) / "keys" / "public.json"
    if args.public_keys is None and default.exists():
        args.public_keys = default
    started = time.perf_counter()
    try:
        _check_public_keys(args)
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


def add_parser(sub) -> None:
    build = sub.add_parser("build", help="validate site/stations.yml and build the static site")
    build.add_argument("--config", default="mkdocs.yml", help="MkDocs configuration (default: mkdocs.yml)")
    build.add_argument("--registry", type=Path, help="station registry (default: the one mkdocs.yml names)")
    build.add_argument("--site-dir", type=Path, help="output folder (default: site_dir of mkdocs.yml)")
    build.add_argument("--public-keys", type=Path, help="sealed records: the public-key file `minqing keys init` wrote, "
                       "published as keys.json (default: DATA_DIR/keys/public.json when it exists); with keys in "
                       "the data folder, the build stops if these are missing or not the current ones")
    data_dir_option(build)
    build.add_argument(
        "--tablets", type=Path, help="volunteer tablets and PINs (default: kiosk-tablets.yml beside the registry)"
    )
    build.add_argument("--strict", action="store_true", help="refuse to build when site.base_url is loopback or not HTTPS")
    build.set_defaults(func=_cmd_build)
