"""Stored triage entries: compact, read-only, and read like the dicts they replace."""

from __future__ import annotations

import copy
import json
import pickle
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
from jinja2 import Environment

from sync_server.store.embedded import triageentry
from sync_server.store.embedded.triageentry import HistoryStep, TriageEntry, freeze, thaw
from sync_server.triage import apply, new_entry

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
ASSIGN = {"lead": "区公安分局", "responsible": "儒林镇", "deadline": "2026-12-01", "track": "immediate"}


def _through(*steps, start=None):
    entry = start or new_entry("2026-11-20T01:00:00+00:00")
    for n, (action, fields) in enumerate(steps):
        entry = apply(entry, action, fields, "amy", NOW + timedelta(minutes=n))
    return entry


def _merge_target():
    """The record a duplicate was merged into, as the office's merge writes it."""
    target = _through(("accept", {}), ("assign", ASSIGN))
    return {**target, "merged": [*target["merged"], "dup-1"],
            "history": [*target["history"], {"at": "2026-11-25T03:00:00+00:00", "by": "amy", "action": "merged_from",
                                             "from": "assigned", "to": "assigned", "note": "", "merged_id": "dup-1"}]}


def _dispatched():
    """A matter with the dispatch's fields: lists, a pending extension and proposal
    (dicts), steps with `before` and extras, as the lead department leaves it."""
    from tests.sync_server.dispatch.world import MARKET, act, dispatched

    entry = act(act(dispatched("market", co_departments="urban,police"), "sign", MARKET), "urge")
    entry = act(entry, "ask_extension", MARKET, deadline="2026-12-30", reason="需要调查")
    return {**act(entry, "submit", MARKET, outcome="partly", result="已约谈", public_reply="已约谈"),
            "extension": entry["extension"]}


# A line from an older or newer version: keys this code does not know, a key missing
# ("summary"), another order, and values that are not the defaults' types.
LEGACY = {"updated_at": "2026-01-02T03:04:05+00:00", "status": "accepted", "priority": 3, "tags": ["夜间", "噪音"],
          "contact": {"by": "电话", "when": ["上午"]}, "outcome": None, "track": None, "lead": None, "responsible": "",
          "deadline": None, "weekly": 0, "public_reply": "", "reason": "", "satisfaction_after": None,
          "merged_into": None, "merged": [], "closed_at": None,
          "history": [{"at": "2026-01-02T03:04:05+00:00", "by": "wang", "action": "accept", "from": "received",
                       "to": "accepted", "note": "", "ip": "x"}]}

def _talked():
    # Every field of 群众说了算: two rounds, a past verdict with a sealed comment, a
    # question answered, a call, a publication.
    from sync_server.dispatch.rules import CITIZEN
    from tests.sync_server.dispatch.world import MARKET, NOW, REGISTRY, act, dispatched

    def citizen(entry, action, **fields):
        return apply(entry, action, fields, "citizen", NOW, account=CITIZEN, registry=REGISTRY)

    entry = act(act(dispatched("market"), "sign", MARKET), "submit", MARKET, outcome="resolved", result="r",
                public_reply="已处理")
    entry = citizen(act(entry, "approve"), "verdict", client_id="c" * 36, round=1, choice="dissatisfied",
                    comment_sealed={"v": 1, "kid": "k", "iv": "x", "ct": "y"})
    entry = act(act(entry, "reopen", reopen_reason="仍未解决"), "ask", question="哪天？")
    entry = citizen(entry, "answer", client_id="d" * 36, question="q1", text="周五")
    entry = act(act(act(entry, "sign", MARKET), "submit", MARKET, outcome="resolved", result="r", public_reply="已处理"),
                "approve")
    entry = act(act(entry, "follow_up", satisfaction="no_answer"), "follow_up", satisfaction="fair")
    return act(entry, "publish", public_title="清理占道", public_done="已清理", station_id="park", sector="market")


ENTRIES = {
    "new": new_entry("2026-11-20T01:00:00+00:00"),
    "accepted": _through(("accept", {})),
    "followed_up": _through(("accept", {}), ("assign", ASSIGN), ("start", {"weekly": "yes"}),
                            ("close", {"outcome": "resolved"}), ("follow_up", {"satisfaction": "satisfied"})),
    "declined": _through(("decline", {"reason": "不属于", "public_reply": "感谢。"})),
    "merged": _through(("accept", {}), ("merge", {"into": "target-1"})),
    "merge_target": _merge_target(),
    "dispatched": _dispatched(),
    "talked": _talked(),
    "legacy": LEGACY,
}


@pytest.mark.parametrize("name", ENTRIES)
def test_a_stored_entry_reads_and_compares_like_its_dict(name):
    plain = ENTRIES[name]
    stored = freeze(plain)
    assert isinstance(stored, TriageEntry)
    assert stored == plain and plain == stored
    assert list(stored) == list(plain) and len(stored) == len(plain)
    assert thaw(stored) == plain and json.dumps(thaw(stored)) == json.dumps(plain)
    for key, value in plain.items():
        assert key in stored and thaw(stored.get(key)) == thaw(stored[key]) == value
    assert type(dict(stored)) is dict and {**stored} == dict(stored.items())
    assert "no such key" not in stored and stored.get("no such key", "x") == "x"
    with pytest.raises(KeyError):
        stored["no such key"]


def test_a_dispatched_entrys_lists_and_dicts_are_stored_read_only_and_thaw_back():
    plain = ENTRIES["dispatched"]
    stored = freeze(json.loads(json.dumps(plain)))
    assert stored["co_departments"] == ("urban", "police") and stored["urges"] == 1
    assert stored["extension"]["deadline"] == "2026-12-30" and stored["proposal"]["outcome"] == "partly"
    assert stored["history"][-1]["before"]["proposal"] is None
    assert thaw(stored) == plain and json.dumps(thaw(stored)) == json.dumps(plain)
    with pytest.raises(TypeError):
        stored["extension"]["deadline"] = "2027-01-01"


def test_an_old_lines_unknown_keys_are_kept_with_their_values_in_order():
    stored = freeze(LEGACY)
    assert stored["priority"] == 3 and thaw(stored["contact"]) == {"by": "电话", "when": ["上午"]}
    assert "summary" not in stored and list(stored) == list(LEGACY)
    assert thaw(stored["history"][0]) == LEGACY["history"][0]


def test_zero_and_none_are_not_taken_for_the_defaults_false_and_empty():
    stored = freeze(LEGACY)
    assert stored["weekly"] == 0 and stored["weekly"] is not False and type(stored["weekly"]) is int
    assert stored["lead"] is None
    assert freeze(new_entry("t"))["weekly"] is False and freeze(new_entry("t"))["lead"] == ""


def test_a_stored_entry_cannot_be_changed_in_place():
    stored = freeze(ENTRIES["followed_up"])
    with pytest.raises(TypeError):
        stored["status"] = "closed"  # type: ignore[index]
    with pytest.raises(AttributeError):
        stored.status = "closed"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        stored.history[0].note = "changed"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        stored.history.append({})  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        freeze(LEGACY)["tags"][0] = "改"  # type: ignore[index]
    with pytest.raises(TypeError):
        freeze(LEGACY)["contact"]["by"] = "信"  # type: ignore[index]
    assert stored == ENTRIES["followed_up"]


def test_a_writer_gets_a_plain_dict_from_a_stored_entry_and_the_stored_one_stays():
    # The last step is rewritten (it drops what 撤回 would need); the steps before it are shared.
    stored = freeze(_through(("accept", {}), ("assign", ASSIGN)))
    changed = apply(stored, "start", {}, "bob", NOW + timedelta(hours=1))
    assert type(changed) is dict and type(changed["history"]) is list
    assert changed["status"] == "in_progress" and len(changed["history"]) == 3
    assert stored["status"] == "assigned" and len(stored["history"]) == 2
    again = freeze(changed)
    assert again == changed and again["history"][0] is stored["history"][0]
    assert isinstance(again["history"][2], HistoryStep)


def test_a_template_reads_fields_as_attributes_and_a_missing_one_as_undefined():
    stored = freeze(_merge_target())
    page = Environment().from_string(
        "{{ e.lead }}|{{ e.deadline }}|{% for h in e.history %}{{ h.action }}:{{ h.from }}:{{ h.merged_id }};{% endfor %}"
        "|{{ e.merged_into or '-' }}|{{ e.nothing or '-' }}|{{ e['status'] }}")
    assert page.render(e=stored) == page.render(e=_merge_target())
    assert page.render(e=stored).startswith("区公安分局|2026-12-01|accept:received:;assign:accepted:;")


def test_vocabulary_strings_are_shared_between_entries_and_timestamps_within_one():
    first, second = (freeze(json.loads(json.dumps(ENTRIES["followed_up"]))) for _ in range(2))
    assert first["lead"] is second["lead"] and first["status"] is second["status"]
    assert first["history"][0]["by"] is second["history"][1]["by"]
    assert first["updated_at"] is first["history"][-1]["at"]


def test_copies_and_pickles_are_equal_entries():
    stored = freeze(LEGACY)
    assert copy.deepcopy(stored) is stored and copy.copy(stored) is stored
    again = pickle.loads(pickle.dumps(stored))
    assert again == LEGACY and isinstance(again, TriageEntry) and list(again) == list(LEGACY)


def test_past_the_cap_on_shapes_entries_still_read_the_same(monkeypatch):
    monkeypatch.setattr(triageentry, "_MAX_SHAPES", 0)
    for name, plain in ENTRIES.items():
        reordered = dict(reversed(list(plain.items())))  # a shape no entry had before
        assert freeze(reordered) == plain and list(freeze(reordered)) == list(reordered), name


def test_a_stored_entry_takes_a_small_fraction_of_its_dicts_memory():
    # Bytes allocated, not time: the same on every run. Each entry parsed afresh, as
    # from the log; its timestamps differ from the others', as in a real log.
    lines = [json.dumps(_through(("accept", {}), ("assign", ASSIGN),
                                 start=new_entry(f"2026-11-20T01:{n // 60:02d}:{n % 60:02d}+00:00"))).encode()
             for n in range(300)]

    def allocated(make):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = [make(json.loads(line)) for line in lines]
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(kept) == len(lines)
        return used / len(lines)

    as_dicts, compact = allocated(lambda e: e), allocated(freeze)
    print(f"a two-step entry: {as_dicts:.0f} B as dicts, {compact:.0f} B stored")
    assert compact < as_dicts / 3


def _undone():
    """A matter whose last step was taken back (`undid`), with every dispatch field set."""
    entry = {**_dispatched(), "supervision": "督办〔2026〕3号", "returned_by": "market", "lead_unmapped": True}
    return {**entry, "history": [*entry["history"], {"at": "2026-11-25T04:00:00+00:00", "by": "market-desk",
                                                 "by_display": "区市场监督管理局办公室", "action": "undo",
                                                 "from": "review", "to": "in_progress", "note": "撤回：提交办结",
                                                 "undid": 5, "from_department": "urban", "department": "market"}]}


def _slots_only(value):
    """No stored part keeps a dict of its own: every key is in a slot or a default."""
    if isinstance(value, triageentry._Frozen):
        assert getattr(value, "_extra", None) is None, list(value)
        for key in value:
            _slots_only(value[key])
    elif isinstance(value, tuple):
        for item in value:
            _slots_only(item)


@pytest.mark.parametrize("make", [_dispatched, _undone])
def test_every_dispatch_field_and_step_key_round_trips_from_its_slot(make):
    plain = make()
    stored = freeze(json.loads(json.dumps(plain)))
    _slots_only(stored)
    assert json.dumps(thaw(stored), ensure_ascii=False) == json.dumps(plain, ensure_ascii=False)
    assert thaw({**stored}) == plain and stored == plain and list(stored) == list(plain)
    for got, step in zip(stored["history"], plain["history"], strict=True):
        assert list(got) == list(step) and thaw({**got}) == step
        for key, value in step.items():
            assert thaw(got[key]) == value and type(thaw(got[key])) is type(value)


def test_the_words_many_entries_repeat_are_kept_once():
    first, second = (freeze(json.loads(json.dumps(_dispatched()))) for _ in range(2))
    assert first["history"][-1]["note"] is second["history"][-1]["note"]
    assert first["proposal"]["result"] is second["proposal"]["result"]
    assert first["history"][-1]["before"] == second["history"][-1]["before"]


def test_a_dispatched_entry_takes_a_small_fraction_of_its_dicts_memory():
    # As the benchmark's matters: each parsed afresh, its own timestamps.
    plain = _dispatched()
    lines = []
    for n in range(300):
        stamp = f"2026-11-2{n % 10}T0{n % 9}:{n // 60:02d}:{n % 60:02d}+00:00"
        entry = {**plain, "updated_at": stamp, "history": [{**step, "at": stamp} for step in plain["history"]]}
        lines.append(json.dumps(entry).encode())

    def allocated(make):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = [make(json.loads(line)) for line in lines]
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(kept) == len(lines)
        return used / len(lines)

    as_dicts, compact = allocated(lambda e: e), allocated(freeze)
    print(f"a dispatched entry: {as_dicts:.0f} B as dicts, {compact:.0f} B stored")
    assert compact < as_dicts / 5
