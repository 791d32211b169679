"""The public read model: what is public, in which order, and each post's 满意率."""

from __future__ import annotations

from sync_server.public.index import PublicIndex, published


def entry(status="closed", publication=True, verdict=None, station="hebin-primary", month="2026-11", **more):
    base = {"status": status, "outcome": "resolved", "merged_into": None, "verdict": verdict, "publication": None}
    if publication:
        base["publication"] = {"title": f"标题{month}", "done": "已处理", "month": month,
                               "published_at": f"{month}-20T08:00:00+00:00", "station_id": station,
                               "sector": "education-health"}
    base.update(more)
    return base


def loaded(entries, stations=None):
    index = PublicIndex(lambda sid: (stations or {}).get(sid, "hebin-primary"))
    index.load(entries)
    return index


def test_a_closed_published_matter_is_listed_with_month_only():
    page = loaded({"a": entry()}).page()
    assert [i.title for i in page.items] == ["标题2026-11"] and page.items[0].month == "2026-11"


def test_merged_and_declined_matters_are_never_public_whatever_they_carry():
    assert published("a", entry(status="declined")) is None
    assert published("a", entry(outcome="merged")) is None
    assert published("a", entry(merged_into="b")) is None
    assert published("a", entry(status="assigned")) is None


def test_a_withdrawal_removes_the_matter():
    index = loaded({"a": entry(), "b": entry(month="2026-10")})
    index.triage_changed({"a": entry(publication=False)})
    assert [i.id for i in index.page().items] == ["b"]


def test_reopening_removes_the_matter_even_if_publication_stayed():
    index = loaded({"a": entry()})
    index.triage_changed({"a": entry(status="assigned")})
    assert index.page().total == 0


def test_newest_publication_first_and_filters_by_station_sector_month():
    index = loaded({"a": entry(month="2026-09"), "b": entry(month="2026-11", station="other"),
                    "c": entry(month="2026-10")})
    assert [i.id for i in index.page().items] == ["b", "c", "a"]
    assert [i.id for i in index.page(station="hebin-primary").items] == ["c", "a"]
    assert [i.id for i in index.page(month="2026-09").items] == ["a"]
    assert index.page(sector="finance").total == 0
    assert index.months() == ["2026-11", "2026-10", "2026-09"]


def test_pages_are_cut_and_a_page_past_the_end_shows_the_last():
    index = loaded({str(n): entry(month=f"2026-{n % 12 + 1:02d}") for n in range(45)})
    first, last = index.page(size=20), index.page(page=9, size=20)
    assert (first.pages, len(first.items), last.page, len(last.items)) == (3, 20, 3, 5)


def test_rate_counts_satisfied_and_fair_over_verdicts_of_all_the_posts_matters():
    verdict = lambda choice: {"choice": choice, "source": "receipt"}  # noqa: E731
    index = loaded({"a": entry(verdict=verdict("satisfied")), "b": entry(publication=False, verdict=verdict("fair")),
                    "c": entry(publication=False, verdict=verdict("dissatisfied")),
                    "d": entry(publication=False, verdict=verdict("satisfied"))}, stations={"d": "elsewhere"})
    rate = index.rate("hebin-primary")
    assert (rate.good, rate.verdicts, rate.percent) == (2, 3, 67)
    assert index.rate("elsewhere").verdicts == 1 and index.rate("nowhere").percent is None


def test_a_changed_verdict_counts_once():
    index = loaded({"a": entry(verdict={"choice": "dissatisfied"})})
    index.triage_changed({"a": entry(verdict={"choice": "satisfied"})})
    assert (index.rate("hebin-primary").good, index.rate("hebin-primary").verdicts) == (1, 1)


def test_changes_before_the_load_are_kept_and_win():
    index = PublicIndex(lambda sid: "hebin-primary")
    index.triage_changed({"a": entry(publication=False)})
    assert not index.ready()
    index.load({"a": entry(), "b": entry()})
    assert [i.id for i in index.page().items] == ["b"]


def test_a_publication_without_post_or_sector_takes_the_matters_own():
    index = PublicIndex(lambda sid: "hebin-primary", lambda station: "education-health")
    index.load({"a": entry(station="")})
    item = index.page(station="hebin-primary", sector="education-health").items[0]
    assert (item.station_id, item.sector) == ("hebin-primary", "education-health")
