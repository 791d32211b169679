"""可能重复: which records are suggested as duplicates of one record, and why (the Dice
coefficient of character bigrams after normalising width, case, punctuation and space)."""

from __future__ import annotations

from datetime import date

from sync_server.office.duplicate_hints import THRESHOLD, WINDOW_DAYS, normalise, similarity, suggest, window
from sync_server.office.records import Row
from sync_server.triage import new_entry


def _row(rid, words="", station="hebin-primary", received="2026-12-07T02:00:00+00:00", **entry):
    record = {"id": rid, "receipt": f"R-{rid}", "received_at": received, "station_id": station, "feeling": words,
              "suggestion": ""}
    return Row(record=record, triage={**new_entry(received), **entry}, station_name=station, sector_id="s",
               sector_name="教育卫生", overdue=False)


def test_width_case_punctuation_and_space_do_not_count():
    assert normalise("校门口　拥堵！ ＡＢＣ，abc。\n") == "校门口拥堵abcabc"
    assert similarity("校门口放学时很拥堵。", "校门口 放学时很拥堵！！") == 1.0


def test_identical_words_are_fully_similar_and_unrelated_words_not_at_all():
    assert similarity("路口积水严重，希望尽快处理", "路口积水严重，希望尽快处理") == 1.0
    assert similarity("路口积水严重", "夜市噪音扰民") == 0.0


def test_words_sharing_a_topic_but_saying_another_thing_stay_below_the_threshold():
    assert similarity("校门口放学时段很拥堵", "校门口的小卖部卖过期食品") < THRESHOLD
    assert similarity("车站附近黑车拉客严重", "车站附近黑车拉客严重，希望整治") >= THRESHOLD


def test_a_single_character_or_nothing_is_compared_without_error():
    assert similarity("好", "好") == 1.0 and similarity("", "") == 0.0 and similarity("。。", "好") == 0.0


def test_the_window_is_the_days_either_side_of_the_received_day():
    assert window(date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 14))
    assert WINDOW_DAYS == 7


def test_the_same_words_from_one_post_a_minute_later_are_suggested_first():
    me = _row("a", "路口积水严重，希望尽快处理")
    twin = _row("b", "路口积水严重，希望尽快处理", received="2026-12-07T02:01:00+00:00")
    near = _row("c", "路口积水严重，希望尽快处理一下", station="other-post")
    other = _row("d", "夜市噪音扰民")
    hints = suggest(me, me.record["feeling"], [(r, r.record["feeling"]) for r in (me, other, near, twin)])
    assert [h.row.id for h in hints] == ["b", "c"]
    assert hints[0].same_station and hints[0].score == 1.0 and not hints[1].same_station


def test_records_already_merged_away_or_merged_here_are_not_suggested():
    me = _row("a", "路口积水严重", merged=["b"])
    gone = _row("c", "路口积水严重", status="closed", outcome="merged", merged_into="x")
    here = _row("b", "路口积水严重")
    assert suggest(me, "路口积水严重", [(gone, "路口积水严重"), (here, "路口积水严重")]) == []


def test_a_record_without_words_gets_no_suggestion():
    me = _row("a", "")
    assert suggest(me, "", [(_row("b", ""), "")]) == []


def test_at_most_the_limit_is_suggested_best_first():
    me = _row("a", "路口积水严重，希望尽快处理")
    many = [(_row(str(n), "路口积水严重，希望尽快处理" + "快" * n), "路口积水严重，希望尽快处理" + "快" * n)
            for n in range(1, 12)]
    hints = suggest(me, me.record["feeling"], many)
    assert len(hints) == 5 and [h.score for h in hints] == sorted((h.score for h in hints), reverse=True)
