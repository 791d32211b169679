"""A generated office: N records in inbox segments written straight through the store's
own functions (no HTTP), half of them dispatched to the registry's 12 departments with the
history real use leaves (`dispatch_history`): about 30% of all records closed, 40% of
those judged (by receipt or by phone, some 不满意, some of those 重新办理), about 5% of
them published (公开); and the accounts asked for (three by default)."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY
from minqing.registry import load_registry
from sync_server.dispatch.rules import CITIZEN
from sync_server.intake.receipt import receipt_for
from sync_server.store.accounts import Account
from sync_server.store.embedded import segmentsummary, tinystore
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import SEGMENT_SIZE, TABLE
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import apply, new_entry
from sync_server.triage_terms import TriageError

PASSWORD = "bench-password-1"
# name: (role, display name, sectors, department). Each costs a scrypt of about a second
# under load: a caller names only the accounts it logs in with.
ACCOUNTS = {"amy": ("staff", "王干事", (), ""), "bob": ("staff", "李干事", (), ""),
            "police": ("department", "公安分局张警官", ("public-order",), "police")}
FEELINGS = ["园区门口晚上经常有人聚集，", "车站附近黑车拉客的情况比以前少了，", "校门口放学时段秩序明显好转，",
            "村里赌博的现象还有，", "菜市场周边占道经营严重，"]
SUGGESTIONS = ["希望加强夜间巡逻。", "建议多安排一名交警。", "希望长期坚持下去。", ""]


def _write_segment(path: Path, records: list[dict]) -> None:
    # The store's own storage class, one write per segment: TinyDB's insert path would
    # take minutes for a million records.
    tinystore.AtomicJSONStorage(path).write({TABLE: {str(n): r for n, r in enumerate(records, 1)}})


def generate(data_dir: Path, count: int, triaged: float = 0.5, seed: int = 11,
             accounts: tuple[str, ...] = tuple(ACCOUNTS)) -> None:
    """The inbox as a server that stored these records would leave it, segment summaries
    included (a folder without them, as after an upgrade, rebuilds them at its first start)."""
    rng = random.Random(seed)
    registry = load_registry(SAMPLE_REGISTRY)
    stations = [s.id for s in registry.stations]
    now = datetime.now(timezone.utc)
    # Spread over a year and a bit, oldest first, as the server would have stored them.
    step = timedelta(days=400) / count
    start = now - timedelta(days=400)
    folder = data_dir / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    triage: dict[str, dict] = {}
    segment: list[dict] = []
    number = 1
    for n in range(count):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        received = (start + n * step).isoformat(timespec="milliseconds")
        feeling = rng.choice(FEELINGS) * rng.randint(2, 6) + f"（第{n}条）"
        segment.append({
            "id": sid, "station_id": rng.choice(stations), "created_at": received, "rating":
            rng.choice(["satisfied", "fair", "dissatisfied", None]), "feeling": feeling,
            "suggestion": rng.choice(SUGGESTIONS), "phone": None, "consent": False,
            "fingerprint": sid.replace("-", "") * 2, "receipt": receipt_for(sid), "device_id": "bench",
            "received_at": received, "flags": [],
        })
        if rng.random() < triaged:
            triage[sid] = dispatch_history(rng, registry, segment[-1]["station_id"], start + n * step, now)
        if len(segment) == SEGMENT_SIZE:
            path = folder / f"segment-{number:06d}.json"
            _write_segment(path, segment)
            # As the server does when a segment closes (the newest stays open, unsummarised).
            segmentsummary.write(data_dir, path, segment)
            segment, number = [], number + 1
    if segment:
        _write_segment(folder / f"segment-{number:06d}.json", segment)
    TriageBook(data_dir).put_many(triage)
    book = Accounts(data_dir)
    for name in accounts:
        role, display, sectors, department = ACCOUNTS[name]
        book.add(name, PASSWORD, role, display, sectors=list(sectors), department=department)


STAFF = Account("amy", "staff", "王干事", (), "", False)


def dispatch_history(rng: random.Random, registry, station_id: str, received: datetime, now: datetime) -> dict:
    """One dispatched matter as the office and its departments leave it, through the real
    rules (`triage.apply`): 受理 and 交办 (mostly to its sector's lead, some 协办), then
    签收, progress notes, 延期, 退回, 改派, 催办, 提交办结 and 审核 in the shares real use
    shows, then what comes after a closing (`_after_closing`); every step at its own
    time after the record arrived, none in the future. About 60% of the matters close
    (30% of the records at the default half dispatched)."""
    sector = registry.station(station_id).sector
    departments = registry.departments
    lead = registry.lead_of(sector) if rng.random() < 0.75 else rng.choice(departments)
    helpers = [d.id for d in departments if sector in d.helps and d.id != lead.id]
    clock = [received]

    def take(entry, action, account=STAFF, hours=1.0, **fields):
        clock[0] = min(clock[0] + timedelta(hours=hours * rng.uniform(0.5, 1.5)), now)
        return apply(entry, action, fields, account.name, clock[0], account=account, registry=registry)

    def desk(department):
        return Account(f"{department.id}-desk", "department", f"{department.name}办公室", (), department.id, False)

    entry = take(new_entry(received.isoformat(timespec="milliseconds")), "accept", hours=0.5)
    co = ",".join(rng.sample(helpers, 1)) if helpers and rng.random() < 0.2 else ""
    entry = take(entry, "assign", department=lead.id, track="immediate" if rng.random() < 0.7 else "long_term",
                 co_departments=co, summary=f"{registry.sector(sector).name}问题")
    roll = rng.random()
    if roll < 0.10:  # still to be signed, some chased
        return take(entry, "urge", hours=30, note="请尽快签收") if rng.random() < 0.3 else entry
    if roll < 0.15:  # sent back to the office
        return take(entry, "send_back", desk(lead), hours=20, reason="不属本单位职责")
    if roll < 0.20:  # reassigned, then signed by the new unit
        other = rng.choice([d for d in departments if d.id != lead.id])
        entry = take(entry, "reassign", hours=20, department=other.id, note="调整承办单位")
        lead = other
    entry = take(entry, "sign", desk(lead), hours=8)
    if rng.random() < 0.5:
        entry = take(entry, "progress", desk(lead), hours=48, note="已约谈相关人员，正在整改")
    if rng.random() < 0.05:
        entry = take(entry, "flag_weekly", hours=24)
    if rng.random() < 0.10:
        later = (date.fromisoformat(entry["deadline"]) + timedelta(days=14)).isoformat()
        entry = take(entry, "ask_extension", desk(lead), hours=24, deadline=later, reason="需要跨部门协调")
        entry = take(entry, "grant_extension" if rng.random() < 0.7 else "refuse_extension", hours=8, note="期限不变")
    if rng.random() < 0.83:
        entry = take(entry, "submit", desk(lead), hours=72, outcome="resolved", result="已整改到位",
                     public_reply="经核查，相关问题已整改到位。")
        if rng.random() < 0.15:
            entry = take(entry, "redo", hours=24, note="请补充整改照片")
        else:
            entry = take(entry, "approve", hours=24)
            try:
                entry = _after_closing(rng, entry, take, desk(lead), station_id, registry.sector(sector))
            except TriageError:  # a step the clock no longer allows (a deadline in the past): stop there
                pass
    return entry


CHOICES, WEIGHTS = ("satisfied", "fair", "dissatisfied"), (55, 30, 15)


def _after_closing(rng: random.Random, entry: dict, take, desk: Account, station_id: str, sector) -> dict:
    """群众说了算 on a closed matter: 40% judged, by receipt (60%) or by a phone 回访; a
    不满意 is reopened (重新办理, closed again, mostly judged again) or maintained (维持原处理);
    5% of the rest only called, 未接通; 5% of those still closed published (公开)."""
    roll = rng.random()
    if roll < 0.42:  # a few judged matters reopened and not yet closed again leave the closed
        entry = _judge(rng, entry, take)
        if entry["verdict"]["choice"] == "dissatisfied":
            if rng.random() < 0.5:
                entry = take(entry, "reopen", hours=24, reopen_reason="群众不满意，重新办理")
                entry = take(entry, "sign", desk, hours=8)
                entry = take(entry, "submit", desk, hours=72, outcome="resolved", result="已再次整改",
                             public_reply="已重新办理，问题已整改到位。")
                entry = take(entry, "approve", hours=24)
                if rng.random() < 0.6:
                    entry = _judge(rng, entry, take)
            else:
                entry = take(entry, "maintain", hours=24, maintain_reason="经核查已按规定处理，已向群众说明情况。")
    elif roll < 0.45:
        entry = take(entry, "follow_up", hours=72, satisfaction="no_answer")
    if entry["status"] in ("closed", "followed_up") and rng.random() < 0.05:
        entry = take(entry, "publish", hours=48, public_title=f"{sector.name}问题已整改",
                     public_done="经核查，相关问题已整改到位，将持续巡查。", station_id=station_id, sector=sector.id)
    return entry


def _judge(rng: random.Random, entry: dict, take) -> dict:
    choice = rng.choices(CHOICES, WEIGHTS)[0]
    if rng.random() < 0.6:
        return take(entry, "verdict", CITIZEN, hours=48, client_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    round=entry.get("round", 1), choice=choice)
    return take(entry, "follow_up", hours=72, satisfaction=choice)
