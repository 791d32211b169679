"""Importing a kiosk export file: the office's road for a tablet that cannot get online.

The file is what the station page's 导出 button writes. Its records go through the same
intake as the API, in batches of the API's size, so importing twice, or importing what
the tablet later uploads anyway, stores each record once.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from .inbox import Inbox
from .intake import Intake, Result
from .stations import StationBook
from .submission import valid_device_id

__all__ = ["EXPORT_FORMAT", "KioskFileError", "import_local", "import_remote", "read_export", "summary"]

EXPORT_FORMAT = "minqing-outbox-export"
BATCH = 100


class KioskFileError(ValueError):
    """The file is not a kiosk export this version understands, or the server refused it."""


def read_export(path: Path) -> tuple[str, list[dict[str, Any]]]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KioskFileError(f"{path}: not a readable JSON file ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise KioskFileError(f"{path}: not a kiosk export (expected format '{EXPORT_FORMAT}')")
    device_id, submissions = data.get("device_id"), data.get("submissions")
    if not valid_device_id(device_id) or not isinstance(submissions, list):
        raise KioskFileError(f"{path}: the export has no valid device_id or submissions list")
    return device_id, submissions


def import_local(data_dir: Path, registry: Path, device_id: str, submissions: list) -> list[Result]:
    with Inbox(data_dir) as inbox:
        intake = Intake(inbox, StationBook(registry))

        async def run() -> list[Result]:
            results: list[Result] = []
            for start in range(0, len(submissions), BATCH):
                results += await intake.submit(device_id, submissions[start : start + BATCH])
            return results

        return asyncio.run(run())


def import_remote(server: str, device_id: str, submissions: list) -> list[Result]:
    results: list[Result] = []
    for start in range(0, len(submissions), BATCH):
        body = json.dumps({"device_id": device_id, "submissions": submissions[start : start + BATCH]}).encode()
        request = urllib.request.Request(
            server.rstrip("/") + "/api/submissions/batch", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise KioskFileError(f"the server refused the batch: {exc.code} {exc.read()[:200]!r}") from None
        results += [Result(r["id"], r["status"], r.get("receipt"), r.get("error")) for r in answer["results"]]
    return results


def summary(results: list[Result]) -> str:
    counts = Counter(r.status for r in results)
    lines = [f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, {counts['rejected']} rejected"]
    for result in results:
        if result.status == "rejected":
            lines.append(f"  rejected {result.id}: {result.error['field']}: {result.error['code']}")
    return "\n".join(lines)
