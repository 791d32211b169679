"""The office pages under /office/, and which module answers each: log-in
(`login_pages`), the inbox list (`inbox_page`), its batch actions (`batch`) and its
明细 export (`export_page`), a department's queue (`queue_page`), a record's page with
its lifecycle actions (`record_pages`), the 回访 list (`callbacks_page`), 督办 (`supervision_pages`), the 工作建议函 and
督办单 (`letter_pages`, `letter_view_pages`), the meeting reports (`report_pages`) and
the departments' 考核 (`ratings_page`). What every page
shares, and the rules it keeps, is in `pages`."""

from __future__ import annotations

from starlette.routing import Route

from sync_server.intake.health import health
from sync_server.office.batch import batch
from sync_server.office.callbacks_page import callbacks_export, callbacks_page
from sync_server.office.export_page import record_export
from sync_server.office.inbox_page import record_list
from sync_server.office.letter_pages import letter_create, letter_edit, letter_form, letter_list
from sync_server.office.letter_view_pages import letter_answer, letter_docx_download, letter_page, letter_print, letter_void
from sync_server.office.login_pages import home, login, login_form, logout
from sync_server.office.queue_page import queue_page
from sync_server.office.ratings_page import ratings
from sync_server.office.record_pages import record_action, record_page
from sync_server.office.report_pages import report, report_index
from sync_server.office.results_page import results
from sync_server.office.supervision_pages import supervise

__all__ = ["routes"]


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/records", record_list, methods=["GET"]),
    Route("/records.xlsx", record_export, methods=["GET"]),
    Route("/records/{id}", record_page, methods=["GET"]),
    Route("/records/{id}/action", record_action, methods=["POST"]),
    Route("/records/{id}/supervise", supervise, methods=["POST"]),
    Route("/letters", letter_list, methods=["GET"]),
    Route("/letters/new", letter_form, methods=["GET"]),
    Route("/letters/new", letter_create, methods=["POST"]),
    Route("/letters/new/edit", letter_edit, methods=["POST"]),
    Route("/letters/{id}", letter_page, methods=["GET"]),
    Route("/letters/{id}/print", letter_print, methods=["GET"]),
    Route("/letters/{id}/docx", letter_docx_download, methods=["GET"]),
    Route("/letters/{id}/answer", letter_answer, methods=["POST"]),
    Route("/letters/{id}/void", letter_void, methods=["POST"]),
    Route("/queue", queue_page, methods=["GET"]),
    Route("/callbacks", callbacks_page, methods=["GET"]),
    Route("/callbacks.xlsx", callbacks_export, methods=["GET"]),
    Route("/batch", batch, methods=["POST"]),
    Route("/reports", report_index, methods=["GET"]),
    Route("/reports/{kind:str}", report, methods=["GET"]),
    Route("/ratings", ratings, methods=["GET"]),
    Route("/results", results, methods=["GET"]),
    # The health answer where a logged-in browser sends its session cookie (path /office).
    Route("/health", health, methods=["GET"]),
]
