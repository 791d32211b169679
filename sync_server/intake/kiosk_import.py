"""Importing a kiosk export file: the office's road for a tablet that cannot get online.

The file is what the station page's 导出 button writes. Its records go through the same
intake as the API, item by item under the same rules, in batches the API accepts, so
importing twice, or importing what the tablet later uploads anyway, stores each record
once. A record that could not be stored (a full disk, a server that stays busy or away)
is reported as `failed`: nothing after it is attempted, and importing the file again
later finishes the job.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync_server.intake.submission import valid_device_id, valid_kiosk
from sync_server.intake.writer import Intake, Result
from sync_server.stations import StationBook
from sync_server.store import open_store
from sync_server.web.errors import ApiError
from sync_server.web.strictjson import parse_json

__all__ = [
    "EXPORT_FORMAT",
    "Export",
    "KioskFileError",
    "batches",
    "import_local",
    "import_remote",
    "read_export",
    "summary",
]

EXPORT_FORMAT = "minqing-outbox-export"
BATCH_RECORDS = 100
# Under the server's 256 KiB body limit, like the browser's own uploads (`sync.js`).
BATCH_BYTES = 200 * 1024
# 429 and 503 are "later", not "no": wait as the server asks, a bounded number of times.
RETRIES = 5
MAX_WAIT_S = 300.0
DEFAULT_WAIT_S = 5.0
RECONNECT_WAIT_S = 2.0
TIMEOUT_S = 60
IMPORT_DEVICE = "kiosk-import"
FAILED = "failed"


class KioskFileError(ValueError):
    """The file is not a kiosk export this version understands, or the server could not be used."""


@dataclass(frozen=True)
class Export:
    device_id: str  # only for the server's rate limiting; never stored
    submissions: list[Any]
    kiosk: str | None = None


_FILE_PROBLEMS = {
    "invalid_utf8": "not UTF-8 text",
    "invalid_json": "not valid JSON",
    "invalid_number": "a number that is too long, NaN or Infinity",
    "duplicate_key": "a key that appears twice in one object",
    "too_deep": "nesting deeper than an export has",
}


def read_export(path: Path) -> Export:
    """The file's records, read with the API's strict JSON rules; or a `KioskFileError`."""
    try:
        body = Path(path).read_bytes()
    except OSError as exc:
        raise KioskFileError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        data = parse_json(body)
    except ApiError as exc:
        raise KioskFileError(f"{path}: not a readable export ({_FILE_PROBLEMS.get(exc.code, exc.code)})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise KioskFileError(f"{path}: not a kiosk export (expected format '{EXPORT_FORMAT}')")
    device_id, submissions, kiosk = data.get("device_id", IMPORT_DEVICE), data.get("submissions"), data.get("kiosk")
    if not valid_device_id(device_id) or not isinstance(submissions, list):
        raise KioskFileError(f"{path}: the export has no valid device_id or submissions list")
    if kiosk is not None and not valid_kiosk(kiosk):
        raise KioskFileError(f"{path}: the export's kiosk name is not 1-64 of A-Z, a-z, 0-9, - and _")
    return Export(device_id, submissions, kiosk)


def _wire(item: Any) -> bytes:
    # ASCII escapes carry any string, a lone surrogate included, for the server to judge.
    return json.dumps(item, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def batches(submissions: list[Any], records: int = BATCH_RECORDS, size: int = BATCH_BYTES) -> Iterator[list[Any]]:
    """Consecutive slices of at most `records` items and about `size` bytes on the wire.

    An item bigger than `size` on its own still goes, alone: the server judges it.
    """
    batch: list[Any] = []
    used = 0
    for item in submissions:
        cost = len(_wire(item)) + 1
        if batch and (len(batch) >= records or used + cost > size):
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += cost
    if batch:
        yield batch


def _failed(items: list[Any], reason: str) -> list[Result]:
    error = {"field": "submission", "code": FAILED, "message": reason}
    return [Result(item.get("id") if isinstance(item, dict) else None, FAILED, error=error) for item in items]


def _rest_failed(parts: list[list[Any]], start: int, reason: str) -> list[Result]:
    return [r for part in parts[start:] for r in _failed(part, reason)]


def import_local(data_dir: Path, registry: Path, export: Export) -> list[Result]:
    with open_store(data_dir, load_triage=False) as store:
        intake = Intake(store.submissions, StationBook(registry), data_dir)

        async def run() -> list[Result]:
            parts = list(batches(export.submissions))
            results: list[Result] = []
            for number, part in enumerate(parts):
                try:
                    results += await intake.submit(export.device_id, part, kiosk=export.kiosk)
                except ApiError as exc:
                    return results + _rest_failed(parts, number, f"not stored: {exc.status} {exc.code}")
            return results

        return asyncio.run(run())


def _retry_after(value: str | None) -> float:
    try:
        wait = float(value) if value else DEFAULT_WAIT_S
    except ValueError:
        wait = DEFAULT_WAIT_S
    return min(max(wait, 0.0), MAX_WAIT_S)


def _post(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()


def _send(url: str, body: bytes, sleep: Callable[[float], None]) -> list[dict] | str:
    """The server's results for one batch, or why it could not be delivered."""
    for attempt in range(RETRIES + 1):
        try:
            status, headers, raw = _post(url, body)
        except (OSError, http.client.HTTPException) as exc:
            if attempt < RETRIES:  # a server restarting: try again shortly
                sleep(RECONNECT_WAIT_S)
                continue
            return f"server not reachable ({getattr(exc, 'reason', None) or exc.__class__.__name__})"
        if status in (429, 503) and attempt < RETRIES:
            sleep(_retry_after({k.lower(): v for k, v in headers.items()}.get("retry-after")))
            continue
        if status != 200:
            return f"the server answered {status} {_error_code(raw)}".rstrip()
        try:
            results = json.loads(raw)["results"]
        except (ValueError, KeyError, TypeError):
            results = None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            return "the server's answer was not understood"
        return results
    raise AssertionError("unreachable: the last attempt returns")


def _error_code(raw: bytes) -> str:
    try:
        code = json.loads(raw).get("error", "")
    except (ValueError, AttributeError):
        return ""
    return code if isinstance(code, str) and code.isascii() and code.isprintable() else ""


def import_remote(server: str, export: Export, sleep: Callable[[float], None] = time.sleep) -> list[Result]:
    url = server.rstrip("/") + "/api/submissions/batch"
    parts = list(batches(export.submissions))
    results: list[Result] = []
    for number, part in enumerate(parts):
        payload: dict[str, Any] = {"device_id": export.device_id, "submissions": part}
        if export.kiosk is not None:
            payload["kiosk"] = export.kiosk
        answer = _send(url, _wire(payload), sleep)
        if isinstance(answer, str):
            return results + _rest_failed(parts, number, answer)
        if len(answer) != len(part):
            return results + _rest_failed(parts, number, "the server's answer did not match the batch")
        results += [Result(r.get("id"), r.get("status"), r.get("receipt"), r.get("error")) for r in answer]
    return results


def _shown(value: Any) -> str:
    # Ids come from a file anyone could have written: never pass control characters to a terminal.
    text = value if isinstance(value, str) else repr(value)
    return text.encode("unicode_escape").decode("ascii")[:80]


def summary(results: list[Result]) -> str:
    counts = Counter(r.status for r in results)
    lines = [
        f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, {counts['rejected']} rejected, "
        f"{counts[FAILED]} failed"
    ]
    for result in results:
        if result.status == "rejected":
            error = result.error or {}
            lines.append(f"  rejected {_shown(result.id)}: {_shown(error.get('field'))}: {_shown(error.get('code'))}")
    failed = [r for r in results if r.status == FAILED]
    if failed:
        lines.append(f"  {len(failed)} not stored ({_shown(failed[0].error['message'])}): import the file again later")
    return "\n".join(lines)


def complete(results: list[Result]) -> bool:
    """True when every record of the file is now in the inbox."""
    return all(r.status in ("accepted", "duplicate") for r in results)
