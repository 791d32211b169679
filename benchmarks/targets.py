"""What each benchmark figure is measured in and the target it is held to.

`TARGETS` names every figure a whole run writes to build/bench/results.json; each step
module lists its own in `METRICS` and the runner checks the two agree. A check compares
this run's figures only: targets hold at the full sizes, never at the smoke's.
"""

from __future__ import annotations

import math

# metric: (unit, target as text, check or None)
TARGETS = {
    "page_first_visit_kb": ("KB", "<= 60", lambda r: r["page_first_visit_kb"] <= 60),
    "page_offline_set_kb": ("KB", "after first visit", None),
    "page_fcp_ms": ("ms", "<= 720", lambda r: r["page_fcp_ms"] <= 720),
    "page_form_ready_ms": ("ms", "<= 1000", lambda r: r["page_form_ready_ms"] <= 1000),
    "page_repeat_offline_ms": ("ms", "< 300", lambda r: r["page_repeat_offline_ms"] < 300),
    "baseline_material_fcp_ms": ("ms", "baseline", None),
    "build_25_s": ("s", "< 3", lambda r: r["build_25_s"] < 3),
    "build_1000_s": ("s", "< 30", lambda r: r["build_1000_s"] < 30),
    "rebuild_one_s": ("s", "<= build_25_s / 2", lambda r: r["rebuild_one_s"] <= r["build_25_s"] / 2),
    "ingest_batched_per_s": ("/s", ">= 20x single", lambda r: r["ingest_batched_per_s"] >= 20 * r["ingest_single_per_s"]),
    "ingest_single_per_s": ("/s", "baseline", None),
    "ingest_p95_ms_25_clients": ("ms", "< 500", lambda r: r["ingest_p95_ms_25_clients"] < 500),
    "store_batch_ms_1k": ("ms", "", None),
    "store_batch_ms_10k": ("ms", "", None),
    "store_batch_ms_100k": ("ms", "<= 2x 1k", lambda r: r["store_batch_ms_100k"] <= 2 * r["store_batch_ms_1k"]),
    "baseline_tinydb_insert_ms_100k": ("ms", "baseline", None),
    "triage_change_ms_30k": ("ms", "< 100", lambda r: r["triage_change_ms_30k"] < 100),
    "backup_restore_s_100k": ("s", "< 60", lambda r: r["backup_restore_s_100k"] < 60),
    "sync_1000_queued_s": ("s", "< 10", lambda r: r["sync_1000_queued_s"] < 10),
    "office_list_ms_100k": ("ms", "< 150 (worst filter)", lambda r: r["office_list_ms_100k"] < 150),
    "office_search_ms_100k": ("ms", "< 150", lambda r: r["office_search_ms_100k"] < 150),
    "department_queue_100k": ("ms", "< 150 (slowest tab)", lambda r: r["department_queue_100k"] < 150),
    "baseline_office_list_ms_100k": ("ms", "baseline", None),
    "office_record_ms_100k": ("ms", "< 100", lambda r: r["office_record_ms_100k"] < 100),
    "office_status_change_ms_100k": ("ms", "< 100", lambda r: r["office_status_change_ms_100k"] < 100),
    "dispatch_one_100k": ("ms", "< 100", lambda r: r["dispatch_one_100k"] < 100),
    "office_report_ms_100k": ("ms", "< 1000 (worst report, cold)", lambda r: r["office_report_ms_100k"] < 1000),
    # Each report cold (first download after a change) against the target, and cached.
    **{f"office_report_ms_{kind}_{fmt}_100k": ("ms", "< 1000 (cold)", lambda r, m=f"office_report_ms_{kind}_{fmt}_100k":
                                                  r[m] < 1000)
       for kind in ("weekly", "monthly") for fmt in ("html", "csv", "xlsx")},
    **{f"office_report_cached_ms_{kind}_{fmt}_100k": ("ms", "< 1000 (cached)",
                                                         lambda r, m=f"office_report_cached_ms_{kind}_{fmt}_100k": r[m] < 1000)
       for kind in ("weekly", "monthly") for fmt in ("html", "csv", "xlsx")},
    "baseline_office_report_ms_100k": ("ms", "baseline", None),
    "duplicate_hints_100k": ("ms", "< 200 (one record)", lambda r: r["duplicate_hints_100k"] < 200),
    "office_export_ms_100k": ("ms", "measured (every record)", None),
    "office_server_start_s_100k": ("s", "< 3", lambda r: r["office_server_start_s_100k"] < 3),
    "office_ready_s_100k": ("s", "", None),
    "office_memory_mb_100k": ("MB", "< 400", lambda r: r["office_memory_mb_100k"] < 400),
    "office_triage_bytes_per_entry_100k": ("B", "< 400 (in memory)",
                                           lambda r: r["office_triage_bytes_per_entry_100k"] < 400),
    "upload_p95_ms_idle_100k": ("ms", "", None),
    "upload_p95_ms_3_staff_100k": ("ms", "<= 2x idle",
                                   lambda r: r["upload_p95_ms_3_staff_100k"] <= 2 * r["upload_p95_ms_idle_100k"]),
    "seal_page_ms": ("ms", "< 50 per record", lambda r: r["seal_page_ms"] < 50),
    "seal_page_cpu4x_ms": ("ms", "< 200 per record", lambda r: r["seal_page_cpu4x_ms"] < 200),
    "seal_server_ms": ("ms", "per record", None),
    "open_ms": ("ms", "per record", None),
    "ingest_plain_per_s": ("/s", "baseline (no keys)", None),
    "ingest_sealed_on_arrival_per_s": ("/s", "server seals plain arrivals", None),
    "ingest_browser_sealed_per_s": ("/s", "browser-sealed, checked only", None),
    "unlock_at_login_s": ("s", "scrypt N=2^17 + sector keys", None),
    "open_first_login_s": ("s", "log-in, first ever", None),
    "open_first_first_page_s": ("s", "< open_first_search", lambda r: r["open_first_first_page_s"] < r["open_first_search_100k_s"]),
    "open_first_search_100k_s": ("s", "first log-in ever: baseline", None),
    "open_quick_login_s": ("s", "log-in, quick copies", None),
    "open_quick_first_page_s": ("s", "< open_quick_search", lambda r: r["open_quick_first_page_s"] < r["open_quick_search_100k_s"]),
    "open_quick_search_100k_s": ("s", "< 10 after log-in", lambda r: r["open_quick_search_100k_s"] < 10),
    "idle_sockets_held": ("", ">= 1000", lambda r: r["idle_sockets_held"] >= 1000),
    "ratelimit_us_100k": ("us", "< 50 (was 7,700)", lambda r: r["ratelimit_us_100k"] < 50),
    "department_figures_100k": ("ms", "< 1000 (a month and the one before)", lambda r: r["department_figures_100k"] < 1000),
}



def figure(value: float, unit: str) -> str:
    """A figure as the docs quote it: 0.51 s, 41.9 KB, 692 ms, 1,483 ms, 9,516/s."""
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    if abs(value) < 10:
        text = f"{value:.2f}"
    elif abs(value) < 100:
        text = f"{value:.1f}"
    else:
        text = f"{value:,.0f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("/") else f"{text} {unit}"


def table(results: dict[str, float], verdicts: bool = True) -> list[tuple[str, str, str, str]]:
    """One row per target: metric, value, target, met (yes, NO, or - where nothing is checked)."""
    rows = []
    for metric, (unit, target, check) in TARGETS.items():
        if metric not in results:
            rows.append((metric, "(not measured)", target, "-"))
            continue
        try:
            verdict = "-" if check is None or not verdicts else ("yes" if check(results) else "NO")
        except KeyError:  # a check that compares with a figure this run lacks
            verdict = "-"
        rows.append((metric, figure(results[metric], unit), target, verdict))
    return rows
