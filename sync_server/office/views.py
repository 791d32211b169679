"""The office pages under /office/, and which module answers each: log-in
(`login_pages`), the inbox list (`inbox_page`) and its batch actions (`batch`), a
department's queue (`queue_page`), a record's page with its lifecycle actions
(`record_pages`), and the meeting reports (`report_pages`). What every page
shares, and the rules it keeps, is in `pages`."""

from __future__ import annotations

from starlette.routing import Route

from sync_server.intake.health import health
from sync_server.office.batch import batch
from sync_server.office.inbox_page import record_list
from sync_server.office.login_pages import home, login, login_form, logout
from sync_server.office.queue_page import queue_page
from sync_server.office.record_pages import record_action, record_page
from sync_server.office.report_pages import report, report_index

__all__ = ["routes"]


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/records", record_list, methods=["GET"]),
    Route("/records/{id}", record_page, methods=["GET"]),
    Route("/records/{id}/action", record_action, methods=["POST"]),
    Route("/queue", queue_page, methods=["GET"]),
    Route("/batch", batch, methods=["POST"]),
    Route("/reports", report_index, methods=["GET"]),
    Route("/reports/{kind:str}", report, methods=["GET"]),
    # The health answer where a logged-in browser sends its session cookie (path /office).
    Route("/health", health, methods=["GET"]),
]
