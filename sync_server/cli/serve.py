"""`minqing serve`: the site, the upload API and the office on one port."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sync_server.cli.arguments import data_dir_option, limit, networks, positive, retention_days_options, seconds
from sync_server.cli.errors import CommandError
from sync_server.settings import Settings

__all__ = ["add_parser"]


def _cmd_serve(args: argparse.Namespace) -> int:
    from minqing.registry import RegistryError
    from sync_server.app import create_app
    from sync_server.store import StoreLocked, open_store
    from sync_server.web.serving import serve

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
        # Opened before the app, so a second writer is refused with a sentence at once; the
        # triage log is read beside the running server (see `create_app`).
        store = open_store(settings.data_dir, segment_size=settings.segment_size, load_triage=False)
    except StoreLocked as exc:
        raise CommandError(f"{exc}.") from None
    try:
        app = create_app(settings, store=store)
    except RegistryError as exc:
        store.close()
        raise CommandError(str(exc), 2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"minqing: serving {settings.site_dir} and the API on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    serve(app, args.host, args.port, settings.header_timeout, settings.keep_alive_timeout)
    return 0


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="serve the built site and the upload API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    data_dir_option(serve)
    serve.add_argument("--site-dir", type=Path, default=Settings.site_dir, help=f"built site (default: {Settings.site_dir})")
    serve.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")
    serve.add_argument("--allow-origin", action="append", default=[], help="another origin allowed to upload")
    serve.add_argument("--device-limit", type=limit, default=Settings.device_limit_default(),
                       help="uploads per device as RATE/BURST, requests per second and burst (default: 5/60)")
    serve.add_argument("--address-limit", type=limit, default=Settings.address_limit_default(),
                       help="uploads per client address as RATE/BURST (default: 20/300)")
    serve.add_argument("--trust-forwarded-for", metavar="PROXIES", type=networks, action="append", default=[],
                       help="your reverse proxies' addresses or networks (comma-separated or repeated, e.g. 127.0.0.1): "
                            "their X-Forwarded-For and X-Forwarded-Proto are believed, nobody else's (default: none)")
    serve.add_argument("--max-concurrent-requests", type=positive, default=Settings.max_concurrent_requests,
                       help="requests handled at once, 503 past it (default: 200)")
    serve.add_argument("--header-timeout", type=seconds, default=Settings.header_timeout,
                       help="seconds a connection may take to send a request's headers (default: 10)")
    serve.add_argument("--body-timeout", type=seconds, default=Settings.body_timeout,
                       help="seconds a request may take to send its whole body, 408 past it (default: 60)")
    serve.add_argument("--keep-alive-timeout", type=seconds, default=Settings.keep_alive_timeout,
                       help="seconds an idle connection stays open between requests (default: 5)")
    retention_days_options(serve, "--phone-days-after-close", "--phone-days-max")
    serve.set_defaults(func=_cmd_serve)
