"""Intake: decide what happens to each submission of a batch, and store the new ones.

Batches that arrive together are committed together (group commit): one writer task
takes every batch waiting, decides each item in arrival order against the inbox and
the records staged before it, stores all new records in one durable write, and only
then answers. So a record is acknowledged only once it is on disk, the same id in two
concurrent batches is stored once, and 25 tablets syncing at once cost a few writes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from anyio import to_thread

from .inbox import Inbox
from .receipt import receipt_for
from .stations import StationBook
from .submission import FieldError, Submission, validate_submission

__all__ = ["Batch", "Intake", "Result"]


@dataclass(frozen=True)
class Result:
    id: Any
    status: str  # accepted | duplicate | rejected
    receipt: str | None = None
    error: dict[str, str] | None = None
    flags: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data = {"id": self.id, "status": self.status, "receipt": self.receipt, "error": self.error}
        if self.flags:
            data["flags"] = list(self.flags)
        return data


@dataclass
class Batch:
    device_id: str
    items: list[Any]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Intake:
    def __init__(self, inbox: Inbox, stations: StationBook) -> None:
        self.inbox, self.stations = inbox, stations
        self._waiting: list[Batch] = []
        self._writer: asyncio.Task | None = None

    async def submit(self, device_id: str, items: list[Any]) -> list[Result]:
        batch = Batch(device_id, items)
        self._waiting.append(batch)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await batch.done

    async def _drain(self) -> None:
        while self._waiting:
            batches, self._waiting = self._waiting, []
            now = datetime.now(timezone.utc)
            staged: dict[str, dict[str, Any]] = {}
            decided = [[self._decide(item, b.device_id, now, staged) for item in b.items] for b in batches]
            try:
                await to_thread.run_sync(self.inbox.add, list(staged.values()))
            except Exception as exc:  # noqa: BLE001 - every waiter must hear about it
                for batch in batches:
                    batch.done.set_exception(exc)
                continue
            for batch, results in zip(batches, decided, strict=True):
                batch.done.set_result(results)

    def _decide(self, item: Any, device_id: str, now: datetime, staged: dict[str, dict]) -> Result:
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            submission = validate_submission(item, now)
        except FieldError as error:
            return Result(item_id if isinstance(item_id, str) else None, "rejected", error=error.as_json())
        fingerprint = submission.fingerprint()
        known = staged.get(submission.id)
        stored_fingerprint = known["fingerprint"] if known else self.inbox.fingerprint(submission.id)
        if stored_fingerprint is not None:
            receipt = known["receipt"] if known else self.inbox.receipt(submission.id)
            if stored_fingerprint == fingerprint:
                return Result(submission.id, "duplicate", receipt=receipt)
            conflict = FieldError("id", "conflict", "同一编号的记录已经收到，但内容不同；已保存的记录未作改动。")
            return Result(submission.id, "rejected", error=conflict.as_json())
        station = self.stations.station(submission.station_id)
        if station is None:
            unknown = FieldError("station_id", "unknown_station", f"没有编号为“{submission.station_id}”的民情哨。")
            return Result(submission.id, "rejected", error=unknown.as_json())
        flags = () if station.active else ("station_retired",)
        receipt = self._free_receipt(submission.id, staged)
        staged[submission.id] = self._record(submission, fingerprint, receipt, device_id, now, flags)
        return Result(submission.id, "accepted", receipt=receipt, flags=flags)

    def _free_receipt(self, submission_id: str, staged: dict[str, dict]) -> str:
        taken = {r["receipt"] for r in staged.values()}
        attempt = 0
        while True:
            code = receipt_for(submission_id, attempt)
            if self.inbox.receipt_owner(code) is None and code not in taken:
                return code
            attempt += 1

    @staticmethod
    def _record(submission: Submission, fingerprint: str, receipt: str, device_id: str, now: datetime, flags) -> dict:
        return {
            **submission.__dict__,
            "fingerprint": fingerprint,
            "receipt": receipt,
            "device_id": device_id,
            "received_at": now.isoformat(timespec="milliseconds"),
            "flags": list(flags),
        }
