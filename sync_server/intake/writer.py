"""Intake: decide what happens to each submission of a batch, and store the new ones.

Batches that arrive together are committed together (group commit): one writer task
takes every batch waiting, decides each item in arrival order against the inbox and
the records staged before it, stores all new records in one durable write, and only
then answers. So a record is acknowledged only once it is on disk, the same id in two
concurrent batches is stored once, and 25 tablets syncing at once cost a few writes.

The writer never dies and no batch waits forever. A failure while deciding one item
rejects that item. A full disk (any `OSError` from the write) answers 507 to the
batches of that write, which are then not acknowledged and stay on the devices. Any
other failure of a shared write is retried batch by batch, so one batch that cannot be
stored fails alone, with the JSON 500 shape, and its neighbours are stored.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anyio import to_thread

from sync_server.intake.receipt import receipt_for
from sync_server.intake.submission import FieldError, clock_skewed, validate_sealed_submission, validate_submission
from sync_server.sealing.envelope import SealError, check_envelope
from sync_server.sealing.on_arrival import IntakeSealer, same_clear_fields, sealed_fingerprints
from sync_server.stations import StationBook
from sync_server.store.arrival import arrival_minute
from sync_server.store.fingerprint import Fingerprints
from sync_server.store.installation import installation_key
from sync_server.store.interfaces import Submissions
from sync_server.web.errors import ApiError

__all__ = ["Batch", "Intake", "Result"]

log = logging.getLogger("minqing.intake")

DISK_FULL = "服务器存储空间不足，这批记录没有保存；记录仍在您的设备上，稍后会自动重试。"
WRITE_FAILED = "服务器保存这批记录时出错；记录仍在您的设备上，稍后会自动重试。"
# A device that hears 507 waits this long before trying again.
DISK_FULL_RETRY_AFTER = "300"


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
    items: list[Any]
    kiosk: str | None = None
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def answer(self, results: list[Result]) -> None:
        if not self.done.done():
            self.done.set_result(results)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)


def _where(exc: BaseException) -> str:
    # Where it failed, never what it was given: an exception's message can hold a citizen's text.
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


class Intake:
    def __init__(
        self,
        inbox: Submissions,
        stations: StationBook,
        data_dir: str | Path,
        key: bytes | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        """`data_dir` holds the key material (the installation key, the sector keys),
        whichever store keeps the records."""
        self.inbox, self.stations, self.clock = inbox, stations, clock
        self.key = key if key is not None else installation_key(data_dir)
        self.sealer = IntakeSealer(data_dir)
        self._waiting: list[Batch] = []
        self._writer: asyncio.Task | None = None

    async def submit(self, device_id: str | None, items: list[Any], kiosk: str | None = None) -> list[Result]:
        """Decide and store one batch; its results in order, or an `ApiError` for the batch.

        `device_id` is accepted from callers but never stored: a browser's identifier
        would link one citizen's reports (issue 10). `kiosk` is a tablet name chosen by
        the office, stored on each record of the batch.
        """
        batch = Batch(items, kiosk)
        self._waiting.append(batch)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # Shielded: a client that hangs up must not cancel the answer others share.
        return await asyncio.shield(batch.done)

    async def _drain(self) -> None:
        while self._waiting:
            batches, self._waiting = self._waiting, []
            try:
                await self._commit(batches)
            except BaseException as exc:
                log.error("intake write failed: %s", _where(exc))
                for batch in batches:
                    batch.fail(ApiError(500, "server_error", WRITE_FAILED))
                if not isinstance(exc, Exception):  # cancelled at shutdown: answer the rest, then stop
                    for batch in self._waiting:
                        batch.fail(ApiError(500, "server_error", WRITE_FAILED))
                    self._waiting = []
                    raise

    async def _commit(self, batches: list[Batch]) -> None:
        now = self.clock()
        staged: dict[str, dict[str, Any]] = {}
        decided = [[self._decide_safely(item, batch.kiosk, now, staged) for item in batch.items] for batch in batches]
        try:
            await to_thread.run_sync(self.inbox.add, list(staged.values()))
        except OSError as exc:
            log.error("inbox write failed, batches not acknowledged: %s", exc.strerror or type(exc).__name__)
            for batch in batches:
                batch.fail(ApiError(507, "insufficient_storage", DISK_FULL, {"Retry-After": DISK_FULL_RETRY_AFTER}))
            return
        except Exception as exc:
            if len(batches) > 1:
                # Find the batch that cannot be stored; the others must not pay for it.
                for batch in batches:
                    await self._commit([batch])
                return
            log.error("inbox write failed for one batch: %s", _where(exc))
            batches[0].fail(ApiError(500, "server_error", WRITE_FAILED))
            return
        for batch, results in zip(batches, decided, strict=True):
            batch.answer(results)

    def _decide_safely(self, item: Any, kiosk: str | None, now: datetime, staged: dict[str, dict]) -> Result:
        try:
            return self._decide(item, kiosk, now, staged)
        except Exception as exc:  # noqa: BLE001 - one item's failure must not stop the others
            log.error("could not decide one submission, rejected it: %s", _where(exc))
            error = FieldError("submission", "internal", "服务器无法处理这条记录，请联系工作人员。")
            return Result(_echo_id(item), "rejected", error=error.as_json())

    def _decide(self, item: Any, kiosk: str | None, now: datetime, staged: dict[str, dict]) -> Result:
        sent_id = _echo_id(item)
        sealed = isinstance(item, dict) and item.get("sealed") is not None
        try:
            submission = validate_sealed_submission(item) if sealed else validate_submission(item)
        except FieldError as error:
            return Result(sent_id, "rejected", error=error.as_json())
        fields = submission.__dict__
        if sealed:
            try:
                # The envelope's shape first: what follows reads its fields as strings.
                fields = {**fields, "sealed": check_envelope(item["sealed"])}
            except SealError as error:
                return Result(sent_id, "rejected", error=FieldError("sealed", error.code, error.message).as_json())
            fingerprints = sealed_fingerprints(self.key, fields)
        else:
            fingerprints = Fingerprints.of(self.key, fields)
        known = staged.get(submission.id)
        stored = Fingerprints.stored(known) if known else self.inbox.fingerprints(submission.id)
        if stored is not None:
            receipt = known["receipt"] if known else self.inbox.receipt(submission.id)
            if self._same(known, submission.id, sealed, stored, fingerprints, fields):
                return Result(sent_id, "duplicate", receipt=receipt)
            conflict = FieldError("id", "conflict", "同一编号的记录已经收到，但内容不同；已保存的记录未作改动。")
            return Result(sent_id, "rejected", error=conflict.as_json())
        station = self.stations.station(submission.station_id)
        if station is None:
            unknown = FieldError("station_id", "unknown_station", f"没有编号为“{submission.station_id}”的民情哨。")
            return Result(sent_id, "rejected", error=unknown.as_json())
        if sealed:
            try:
                self.sealer.check(fields, station.sector)
            except SealError as error:
                return Result(sent_id, "rejected", error=FieldError("sealed", error.code, error.message).as_json())
        else:
            key = self.sealer.key_for(station.sector)
            if key is not None:
                # Plain on arrival, the sector has a key: seal before anything is written.
                fields = self.sealer.seal(fields, key)
                fingerprints = sealed_fingerprints(self.key, fields)
        flags = ("station_retired",) if not station.active else ()
        if clock_skewed(submission.created_at, now):
            flags += ("clock_skew",)
        receipt = self._free_receipt(submission.id, staged)
        staged[submission.id] = _record(fields, fingerprints, receipt, kiosk, now, flags)
        return Result(sent_id, "accepted", receipt=receipt, flags=flags)

    def _same(self, known, submission_id, sealed, stored, fingerprints, fields) -> bool:
        record = known or self.inbox.get(submission_id)
        if record is not None and ("sealed" in record) != sealed:
            # One side sealed, the other plain (sealed on arrival, or by `seal-existing`):
            # the words cannot be compared without a key, the clear fields can.
            return same_clear_fields(record, fields)
        return stored.same_submission(fingerprints, fields)

    def _free_receipt(self, submission_id: str, staged: dict[str, dict]) -> str:
        taken = {r["receipt"] for r in staged.values()}
        attempt = 0
        while True:
            code = receipt_for(submission_id, attempt)
            if self.inbox.receipt_owner(code) is None and code not in taken:
                return code
            attempt += 1


def _echo_id(item: Any) -> str | None:
    """The id exactly as the client sent it: its outbox compares ids as strings."""
    item_id = item.get("id") if isinstance(item, dict) else None
    return item_id if isinstance(item_id, str) else None


def _record(
    fields: dict[str, Any], fingerprints: Fingerprints, receipt: str, kiosk: str | None, now: datetime, flags
) -> dict[str, Any]:
    # No browser device id: a lasting identifier would link one citizen's reports.
    return {
        **fields,
        **fingerprints.as_record_fields(),
        "receipt": receipt,
        "kiosk": kiosk,
        # The minute only: records of one upload must not share a finer time (see store.arrival).
        "received_at": arrival_minute(now),
        "flags": list(flags),
    }
