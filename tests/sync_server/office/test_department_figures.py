"""Figures per department and town, from histories written by hand (plain dicts, as the
triage rules write them: each step keeps in `before` the fields it changed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from sync_server.office.department_figures import NO_DEPARTMENT, NO_TOWN, Period, figures
from sync_server.office.records import Row
from sync_server.triage import new_entry
from tests.sync_server.dispatch.world import MARKET, POLICE, act
from tests.sync_server.dispatch.world import REGISTRY as WORLD

REGISTRY = SimpleNamespace(
    stations=[SimpleNamespace(id="bus", town="东城街道"), SimpleNamespace(id="school", town="西城街道")],
    departments=[SimpleNamespace(id="police", name="区公安分局"), SimpleNamespace(id="market", name="区市场监督管理局")],
)
NOVEMBER = Period.month(2026, 11, date(2026, 12, 10))
LATER = datetime(2026, 12, 10, tzinfo=timezone.utc)


def at(day: int, hour: int = 2, month: int = 11) -> str:
    return datetime(2026, month, day, hour, tzinfo=timezone.utc).isoformat()


def step(when: str, action: str, frm: str, to: str, **extra) -> dict:
    return {"at": when, "by": "amy", "by_display": "王干事", "action": action, "from": frm, "to": to, "note": "", **extra}


def dispatch(when: str, department: str, sign_due: str, frm: str = "accepted", previous: str = "") -> dict:
    return step(when, "assign", frm, "assigned", department=department,
                before={"department": previous, "sign_due": None, "signed_at": None, "deadline": None})


def row(rid: str, history: list[dict], station: str = "bus", **fields) -> Row:
    entry = {**new_entry(at(1)), "history": history, "updated_at": history[-1]["at"] if history else at(1), **fields}
    return Row(record={"id": rid, "station_id": station}, triage=entry, station_name="", sector_id="", sector_name="",
               overdue=False)


def closed_on_time_matter(rid: str = "A", department: str = "police") -> Row:
    return row(rid, [
        step(at(2), "accept", "received", "accepted"),
        dispatch(at(3), department, sign_due=at(4)),
        step(at(3, 9), "sign", "assigned", "in_progress", before={"signed_at": None}),
        step(at(10), "submit", "in_progress", "review"),
        step(at(12), "approve", "review", "closed", before={"proposal": {}}),
        step(at(20), "follow_up", "closed", "followed_up"),
    ], status="followed_up", department=department, deadline="2026-11-15", sign_due=at(4), signed_at=at(3, 9),
        closed_at=at(12), satisfaction_after="satisfied")


def test_a_matter_signed_and_closed_in_time_counts_everywhere_for_its_department():
    police = figures([closed_on_time_matter()], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.dispatched, police.sign_judged, police.signed_on_time) == (1, 1, 1)
    assert (police.handled, police.handled_closed, police.closed, police.closed_on_time) == (1, 1, 1, 1)
    assert (police.verdicts, police.satisfied, police.overdue_ever, police.overdue_now) == (1, 1, 0, 0)
    assert (police.sign_rate, police.close_rate, police.on_time_rate, police.satisfaction) == (1, 1, 1, 1)


def test_a_town_counts_the_matters_of_its_posts():
    result = figures([closed_on_time_matter("A"), closed_on_time_matter("B", "market")], REGISTRY, NOVEMBER, LATER)
    assert result.towns["东城街道"].dispatched == 2
    assert "西城街道" not in result.towns


def test_a_record_from_a_post_the_registry_lost_counts_under_an_unknown_town():
    lost = closed_on_time_matter()
    lost = Row(**{**lost.__dict__, "record": {"id": "A", "station_id": "gone"}})
    assert figures([lost], REGISTRY, NOVEMBER, LATER).towns[NO_TOWN].dispatched == 1


def test_a_record_listed_twice_counts_once():
    matter = closed_on_time_matter()
    assert figures([matter, matter], REGISTRY, NOVEMBER, LATER).departments["police"].dispatched == 1


def test_a_sign_after_its_due_time_is_late_and_an_unsigned_one_is_judged_only_once_due():
    late = row("L", [dispatch(at(3), "police", sign_due=at(4)),
                     step(at(6), "sign", "assigned", "in_progress", before={"signed_at": None})],
               status="in_progress", department="police", deadline="2026-12-30", sign_due=at(4))
    waiting = row("W", [dispatch(at(3), "police", sign_due=at(5))], status="assigned", department="police",
                  deadline="2026-12-30", sign_due=at(5))
    police = figures([late, waiting], REGISTRY, NOVEMBER, datetime(2026, 11, 4, 1, tzinfo=timezone.utc)).departments["police"]
    assert (police.dispatched, police.sign_judged, police.signed_on_time) == (2, 0, 0)  # nothing due yet on the 4th
    police = figures([late, waiting], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.sign_judged, police.signed_on_time) == (2, 0)


def test_a_send_back_within_the_sign_time_is_a_timely_answer_and_counts_as_returned():
    sent_back = row("S", [dispatch(at(3), "police", sign_due=at(4)),
                          step(at(3, 8), "send_back", "assigned", "returned", before={"returned_by": ""})],
                    status="returned", department="police", returned_by="police", sign_due=at(4))
    police = figures([sent_back], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.returned, police.sign_judged, police.signed_on_time) == (1, 1, 1)
    assert (police.handled, police.handled_closed) == (1, 0)


def reassigned_matter() -> Row:
    """Dispatched to police, which asked for more time; 改派 to market, which signed and closed."""
    return row("R", [
        dispatch(at(3), "police", sign_due=at(4)),
        step(at(3, 5), "sign", "assigned", "in_progress", before={"signed_at": None}),
        step(at(5), "ask_extension", "in_progress", "in_progress", before={"extension": None}),
        step(at(6), "reassign", "in_progress", "assigned", department="market", from_department="police",
             before={"department": "police", "sign_due": at(4), "signed_at": at(3, 5), "extension": {}}),
        step(at(6, 5), "sign", "assigned", "in_progress", before={"signed_at": None}),
        step(at(9), "close", "in_progress", "closed", before={"closed_at": None}),
    ], status="closed", department="market", deadline="2026-11-20", sign_due=at(7), closed_at=at(9))


def test_after_reassignment_each_step_counts_for_the_department_holding_the_matter_then():
    result = figures([reassigned_matter()], REGISTRY, NOVEMBER, LATER).departments
    police, market = result["police"], result["market"]
    assert (police.dispatched, police.extension_asked, police.signed_on_time, police.closed) == (1, 1, 1, 0)
    # The office moved it away: not held against police's 办结率.
    assert (police.handled, police.handled_closed) == (0, 0)
    assert (market.dispatched, market.signed_on_time, market.handled_closed, market.closed_on_time) == (1, 1, 1, 1)


def test_an_undone_step_counts_for_nothing_and_the_redone_one_counts():
    undone_close = row("U", [
        dispatch(at(3), "police", sign_due=at(4)),
        step(at(3, 5), "sign", "assigned", "in_progress", before={"signed_at": None}),
        step(at(8), "close", "in_progress", "closed", before={"closed_at": None, "outcome": None}),
        step(at(8, 3), "undo", "closed", "in_progress", undid=2),
        step(at(25), "close", "in_progress", "closed", before={"closed_at": None, "outcome": None}),
    ], status="closed", department="police", deadline="2026-11-20", sign_due=at(4), closed_at=at(25))
    police = figures([undone_close], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.closed, police.closed_on_time) == (1, 0)  # only the closing of the 25th, after the deadline


def test_an_undone_reassignment_leaves_the_matter_with_the_first_department():
    matter = row("V", [
        dispatch(at(3), "police", sign_due=at(4)),
        step(at(4), "reassign", "assigned", "assigned", department="market", from_department="police",
             before={"department": "police", "sign_due": at(4), "signed_at": None}),
        step(at(4, 3), "undo", "assigned", "assigned", undid=1),
        step(at(4, 4), "send_back", "assigned", "returned", before={"returned_by": ""}),
    ], status="returned", department="police", returned_by="police", sign_due=at(4))
    result = figures([matter], REGISTRY, NOVEMBER, LATER).departments
    assert "market" not in result
    assert (result["police"].dispatched, result["police"].returned) == (1, 1)


def test_a_merged_duplicate_is_no_closing_and_leaves_the_base_of_the_close_rate():
    merged = row("M", [dispatch(at(3), "police", sign_due=at(4)),
                       step(at(5), "merge", "assigned", "closed", before={"merged_into": None})],
                 status="closed", outcome="merged", department="police", deadline="2026-11-20", closed_at=at(5))
    police = figures([merged], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.dispatched, police.closed, police.handled) == (1, 0, 0)


def test_a_matter_without_department_counts_under_no_department():
    unmapped = row("N", [step(at(3), "assign", "accepted", "assigned")], status="assigned", lead="某某办公室",
                   lead_unmapped=True, deadline="2026-11-20")
    result = figures([unmapped], REGISTRY, NOVEMBER, LATER).departments
    assert set(result) == {NO_DEPARTMENT}
    assert (result[NO_DEPARTMENT].dispatched, result[NO_DEPARTMENT].overdue_now) == (1, 1)


def test_an_old_entry_is_counted_by_its_lead_name_and_never_judged_for_signing():
    old = {"status": "closed", "updated_at": at(9), "outcome": "resolved", "track": "immediate", "lead": "区公安分局",
           "responsible": "", "deadline": "2026-11-08", "weekly": False, "public_reply": "", "reason": "", "summary": "",
           "satisfaction_after": None, "merged_into": None, "merged": [], "closed_at": at(9), "history": [
               {"at": at(3), "by": "amy", "action": "assign", "from": "accepted", "to": "assigned", "note": ""},
               {"at": at(4), "by": "police", "action": "start", "from": "assigned", "to": "in_progress", "note": ""},
               {"at": at(9), "by": "police", "action": "close", "from": "in_progress", "to": "closed", "note": ""}]}
    matter = Row(record={"id": "O", "station_id": "school"}, triage=old, station_name="", sector_id="", sector_name="",
                 overdue=False)
    police = figures([matter], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.dispatched, police.sign_judged, police.closed, police.closed_on_time) == (1, 0, 1, 0)
    assert (police.overdue_ever, police.overdue_now) == (1, 0)  # late from the 9th until closed that day


def test_handovers_count_by_dispatch_time_and_closings_by_closing_time():
    october = row("P", [dispatch(at(28, month=10), "police", sign_due=at(29, month=10)),
                        step(at(29, month=10), "sign", "assigned", "in_progress", before={"signed_at": None}),
                        step(at(2), "close", "in_progress", "closed", before={"closed_at": None})],
                  status="closed", department="police", deadline="2026-11-05", closed_at=at(2))
    police = figures([october], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.dispatched, police.handled, police.sign_judged) == (0, 0, 0)
    assert (police.closed, police.closed_on_time) == (1, 1)
    previous = figures([october], REGISTRY, NOVEMBER.previous(), LATER).departments["police"]
    assert (previous.dispatched, previous.handled, previous.handled_closed, previous.closed) == (1, 1, 0, 0)


def test_a_past_month_does_not_move_when_the_matter_changes_later():
    matter = closed_on_time_matter()
    history = [*matter.triage["history"], step(at(2, month=12), "follow_up", "followed_up", "followed_up")]
    later = Row(**{**matter.__dict__, "triage": {**matter.triage, "history": history}})
    assert figures([later], REGISTRY, NOVEMBER, LATER) == figures([matter], REGISTRY, NOVEMBER, LATER)


def test_closing_is_on_time_against_the_deadline_in_force_at_closing():
    extended = row("X", [
        dispatch(at(3), "police", sign_due=at(4)),
        step(at(3, 5), "sign", "assigned", "in_progress", before={"signed_at": None}),
        step(at(8), "ask_extension", "in_progress", "in_progress", before={"extension": None}),
        step(at(9), "grant_extension", "in_progress", "in_progress", before={"deadline": "2026-11-10", "extension": {}}),
        step(at(15), "close", "in_progress", "closed", before={"closed_at": None}),
        # Reopened by a dissatisfied follow-up, then given a shorter deadline: not the one of the 15th.
        step(at(16), "follow_up", "closed", "in_progress", before={"closed_at": at(15)}),
        step(at(17), "grant_extension", "in_progress", "in_progress", before={"deadline": "2026-11-20", "extension": {}}),
    ], status="in_progress", department="police", deadline="2026-11-12", sign_due=at(4))
    police = figures([extended], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.extension_asked, police.extension_granted) == (1, 2)
    assert (police.closed, police.closed_on_time) == (1, 1)
    assert (police.verdicts, police.satisfied) == (1, 0)
    # Overdue from the 13th (deadline the 12th) to the end of the month, and still at its end.
    assert (police.overdue_ever, police.overdue_now) == (1, 1)


def test_a_matter_late_during_the_month_and_closed_is_overdue_ever_but_not_now():
    late = row("Y", [dispatch(at(1), "police", sign_due=at(2)),
                     step(at(20), "close", "assigned", "closed", before={"closed_at": None})],
               status="closed", department="police", deadline="2026-11-10", sign_due=at(2), closed_at=at(20))
    police = figures([late], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.overdue_ever, police.overdue_now, police.closed_on_time) == (1, 0, 0)
    assert (figures([late], REGISTRY, NOVEMBER, LATER).towns["东城街道"].overdue_ever) == 1


def test_a_matter_in_review_is_the_offices_and_not_overdue():
    waiting = row("Z", [dispatch(at(1), "police", sign_due=at(2)),
                        step(at(2), "submit", "assigned", "review", before={"proposal": None})],
                  status="review", department="police", deadline="2026-11-05", sign_due=at(2))
    assert figures([waiting], REGISTRY, NOVEMBER, LATER).departments["police"].overdue_ever == 0


def test_a_running_month_is_counted_to_today():
    running = Period.month(2026, 11, date(2026, 11, 10))
    waiting = row("T", [dispatch(at(1), "police", sign_due=at(2))], status="assigned", department="police",
                  deadline="2026-11-12", sign_due=at(2))
    police = figures([waiting], REGISTRY, running, datetime(2026, 11, 10, 3, tzinfo=timezone.utc)).departments["police"]
    assert (police.overdue_now, police.sign_judged, police.signed_on_time) == (0, 1, 0)


def test_another_source_of_verdicts_counts_for_the_department_holding_the_matter_then():
    def citizens(matter):
        return [(datetime(2026, 11, 7, tzinfo=timezone.utc), False), (datetime(2026, 12, 20, tzinfo=timezone.utc), True)]

    police = figures([reassigned_matter()], REGISTRY, NOVEMBER, LATER, verdicts=[citizens]).departments
    assert (police["market"].verdicts, police["market"].satisfied) == (1, 0)
    assert police["police"].verdicts == 0


def test_the_read_sides_report_rows_hold_every_matter_that_counts(sample_registry):
    from sync_server.office.department_figures import period_figures
    from sync_server.office.readside_index import MemoryReadSide

    def record(rid, received):
        return {"id": rid, "station_id": "hebin-primary", "received_at": received, "created_at": received, "rating": None,
                "feeling": "", "suggestion": "", "phone": None, "consent": False, "receipt": f"R{rid}", "flags": []}

    # Untouched since September and overdue since October: overdue in both months.
    stale = {**new_entry(at(1, month=9)), "status": "assigned", "department": "police", "deadline": "2026-10-05",
             "updated_at": at(2, month=9), "history": [dispatch(at(2, month=9), "police", sign_due=at(3, month=9))]}
    # Closed in October: counts for October only.
    closed = {**new_entry(at(1, month=10)), "status": "closed", "department": "police", "deadline": "2026-10-20",
              "updated_at": at(10, month=10), "closed_at": at(10, month=10),
              "history": [dispatch(at(2, month=10), "police", sign_due=at(3, month=10)),
                          step(at(10, month=10), "close", "assigned", "closed")]}
    readside = MemoryReadSide([record("S", at(1, month=9)), record("C", at(1, month=10))], {"S": stale, "C": closed})
    today = date(2026, 11, 20)
    now, before = period_figures(readside, sample_registry, Period.month(2026, 11, today), today, LATER)
    assert (now.departments["police"].overdue_now, now.departments["police"].closed) == (1, 0)
    assert (before.departments["police"].overdue_ever, before.departments["police"].closed) == (1, 1)
    assert now.towns["西城街道"].overdue_now == 1


def test_histories_written_by_the_real_rules_count_as_their_steps_say():
    """The dispatch rules' own steps (sync_server.dispatch): 交办 to police, 退回, 交办 to
    market, 改派 to urban and its 撤回, 签收, 延期 granted, 提交办结, 审核办结, 回访."""
    def at_day(day: int, minutes: int = 0) -> datetime:
        return datetime(2026, 11, day, 2, tzinfo=timezone.utc) + timedelta(minutes=minutes)

    entry = act(new_entry(at(2)), "accept", now=at_day(2))
    entry = act(entry, "assign", now=at_day(2), department="police", track="immediate", deadline="2026-11-12")
    entry = act(entry, "send_back", account=POLICE, now=at_day(2, 30), reason="不属于本单位职责")
    entry = act(entry, "assign", now=at_day(3), department="market", track="immediate", deadline="2026-11-12")
    entry = act(entry, "reassign", now=at_day(3, 5), department="urban", note="派错了")
    entry = act(entry, "undo", now=at_day(3, 6))
    entry = act(entry, "sign", account=MARKET, now=at_day(3, 30))
    entry = act(entry, "ask_extension", account=MARKET, now=at_day(9), deadline="2026-11-20", reason="需要联合执法")
    entry = act(entry, "grant_extension", now=at_day(10))
    entry = act(entry, "submit", account=MARKET, now=at_day(18), outcome="resolved", result="已整治",
                public_reply="已整治完毕。")
    entry = act(entry, "approve", now=at_day(19), public_reply="已整治完毕。")
    entry = act(entry, "follow_up", now=at_day(24), satisfaction="fair")
    matter = Row(record={"id": "W", "station_id": "park"}, triage=entry, station_name="", sector_id="", sector_name="",
                 overdue=False)
    result = figures([matter], WORLD, NOVEMBER, LATER)
    police, market = result.departments["police"], result.departments["market"]
    assert (police.dispatched, police.returned, police.sign_judged, police.signed_on_time) == (1, 1, 1, 1)
    assert (police.handled, police.handled_closed) == (1, 0)
    assert "urban" not in result.departments  # its 改派 was taken back
    assert (market.dispatched, market.signed_on_time, market.extension_asked, market.extension_granted) == (1, 1, 1, 1)
    assert (market.handled_closed, market.closed, market.closed_on_time) == (1, 1, 1)  # by the extended deadline
    assert (market.verdicts, market.satisfied, market.overdue_ever) == (1, 1, 0)
    assert result.towns["儒林镇"].dispatched == 2


def test_a_matter_counts_once_by_its_latest_verdict_and_an_unanswered_call_is_no_verdict():
    matter = closed_on_time_matter()
    history = [*matter.triage["history"], step(at(21), "verdict", "followed_up", "followed_up", choice="dissatisfied"),
               step(at(22), "follow_up", "followed_up", "followed_up", choice="no_answer")]
    later = Row(**{**matter.__dict__, "triage": {**matter.triage, "history": history}})
    police = figures([later], REGISTRY, NOVEMBER, LATER).departments["police"]
    assert (police.verdicts, police.satisfied) == (1, 0)
