"""The 可能重复 suggestions of one record's page: its candidates gathered from the read
side and compared by `duplicate_hints`.

The candidates are what this account's list would show for the record's sector (or,
for a record of no known sector, its post) over the window's days (`inbox_page.listed`),
so a suggestion never names a record the account cannot open. A sealed candidate's words
are those opened for this session's keys (`OpenedWords.words_of`); one it cannot open is
never compared, and a record whose own words this session cannot open gets no hint.
"""

from __future__ import annotations

import dataclasses

from sync_server.office.duplicate_hints import Hint, suggest, window
from sync_server.office.inbox_page import listed
from sync_server.office.records import Filters, Row, local_date

__all__ = ["hints_for"]


def _text(record: dict) -> str:
    return f"{record.get('feeling') or ''}\n{record.get('suggestion') or ''}"


def hints_for(state, account, unlocked, row: Row) -> list[Hint]:
    """`row` as its page shows it (sealed words opened for this session, or locked)."""
    if row.record.get("sealed_locked"):
        return []
    since, until = window(local_date(row.record["received_at"]))
    scope = Filters(sector=row.sector_id) if row.sector_id else Filters(station=row.record["station_id"])
    rows = listed(state, account, unlocked, dataclasses.replace(scope, since=since.isoformat(), until=until.isoformat()),
                  True)
    sealed = [r.id for r in rows if not (r.record.get("feeling") or r.record.get("suggestion"))]
    opened = state.opened_words.words_of(unlocked, account.sees_sector, sealed) if sealed else {}
    candidates = ((r, opened[r.id] if r.id in opened else _text(r.record)) for r in rows)
    return suggest(row, _text(row.record), candidates)
