"""The `minqing` command: build the site, serve it, look after the inbox."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_build(args: argparse.Namespace) -> int:
    from build_scripts.publish import build_site
    from build_scripts.registry import RegistryError

    started = time.perf_counter()
    try:
        report = build_site(Path(args.config), args.registry, args.site_dir)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - started
    print(
        f"built in {took:.2f}s: {len(report.written)} written, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description="民情哨: offline-first public-opinion posts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="validate site/stations.yml and build the static site")
    build.add_argument("--config", default="mkdocs.yml", help="MkDocs configuration (default: mkdocs.yml)")
    build.add_argument("--registry", type=Path, help="station registry (default: the one mkdocs.yml names)")
    build.add_argument("--site-dir", type=Path, help="output folder (default: site_dir of mkdocs.yml)")
    build.set_defaults(func=_cmd_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
