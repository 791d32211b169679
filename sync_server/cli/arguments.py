"""Argument types and the options several commands share; each refuses bad input with a sentence."""

from __future__ import annotations

import argparse
from pathlib import Path

from sync_server.settings import Settings


def limit(text: str):
    from sync_server.web.ratelimit import Limit

    try:
        rate, burst = text.split("/")
        limit = Limit(rate=float(rate), burst=int(burst))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not RATE/BURST, e.g. 5/60") from None
    if limit.rate <= 0 or limit.burst < 1:
        raise argparse.ArgumentTypeError("RATE must be above 0 and BURST at least 1")
    return limit


def networks(text: str) -> str:
    from sync_server.web.proxy import parse_networks

    try:
        parse_networks([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds between 0 and 3600")
    return value


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number above 0")
    return int(text)


def days(least: int):
    from sync_server.store.retention import LONGEST_DAYS

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of days") from None
        if not least <= value <= LONGEST_DAYS:
            raise argparse.ArgumentTypeError(f"days must be from {least} to {LONGEST_DAYS}, not {value}")
        return value

    return parse


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Settings.data_dir, help=f"inbox folder (default: {Settings.data_dir})")


def office_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--with-phone", action="store_true", help="add phone numbers, only those given with consent")
    data_dir_option(parser)
    parser.add_argument("--registry", type=Path, default=Settings.registry, help=f"station registry (default: {Settings.registry})")


def retention_days_options(parser: argparse.ArgumentParser, after_close: str, most: str) -> None:
    parser.add_argument(after_close, type=days(0), default=Settings.phone_days_after_close,
                        help=f"remove a phone this many days after its record closes (default: {Settings.phone_days_after_close})")
    parser.add_argument(most, type=days(1), default=Settings.phone_days_max,
                        help=f"and at the latest this many days after receipt, whatever the status (default: {Settings.phone_days_max})")
