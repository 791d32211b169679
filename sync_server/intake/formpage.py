"""The station page as the server hands it out: a one-time form token on every GET, and
the same page again, filled in, when a no-JavaScript submission is refused.

The site is static, so the token is a substitution in the built page: the form carries
`<input type="hidden" name="form_token" value="" data-form-token>` and the server fills
the empty value. The id of a no-JavaScript submission is then a keyed digest of that
token (and the words), never of the reporter's address: a reload of one form is one
record, two people behind one address are two. A page with no token (a static host, a
copy kept by the service worker) still posts; its record gets a random id.

A refused submission gets its own station page back, with what was typed, the message
beside the field and a fresh token: one source of markup for the form, never a copy.
"""

from __future__ import annotations

import re
import secrets
import uuid
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sync_server.store.installation import installation_key, keyed_digest

__all__ = ["TOKEN_FIELD", "form_submission_id", "refused_form_page", "station_page"]

TOKEN_FIELD = "form_token"
_TOKEN_SLOT = 'name="form_token" value="" data-form-token'
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_STATION_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# The service worker's offline shell (build_scripts/pages.py) lives beside the stations;
# it is served as built: a token kept in a shared offline copy would be one for everyone.
_SHELL = "_shell"
_FIELDS = ("rating", "feeling", "suggestion", "phone", "consent")
# A token-bearing page is this browser's alone: no shared cache may hand it to another.
_PRIVATE = {"Cache-Control": "private, no-cache"}


def _page_file(site_dir: str | Path, station_id: str) -> Path | None:
    if not _STATION_ID.match(station_id or "") and station_id != _SHELL:
        return None
    path = Path(site_dir) / "s" / station_id / "index.html"
    return path if path.is_file() else None


def _with_token(html: str) -> str:
    return html.replace(_TOKEN_SLOT, f'name="form_token" value="{secrets.token_urlsafe(24)}" data-form-token', 1)


def form_submission_id(data_dir: str | Path, token: str | None, content: str) -> str:
    """The record id of a no-JavaScript submission: keyed by the installation's secret
    over the form's token and its words, or random when the page carried no token."""
    if not token or not _TOKEN.match(token):
        return str(uuid.uuid4())
    digest = keyed_digest(installation_key(data_dir), "no-js-form", token, content)
    return str(uuid.UUID(digest[:32], version=4))


async def station_page(request: Request) -> Response:
    """GET /s/<id>/: the built page with a fresh token; anything else is the site's."""
    path = _page_file(request.app.state.settings.site_dir, request.path_params["station"])
    if path is None:
        # Let the static files answer (their 404 page included).
        from starlette.exceptions import HTTPException

        raise HTTPException(404)
    html = path.read_text("utf-8")
    return HTMLResponse(html if path.parent.name == _SHELL else _with_token(html), headers=_PRIVATE)


def _fill(html: str, values: dict[str, str], error: dict) -> str:
    """The station page with `values` typed back in and the error's message beside its field."""
    field, message = error.get("field", ""), error.get("message", "")
    for name in ("feeling", "suggestion"):
        html = re.sub(
            rf'(<textarea id="mq-{name}"[^>]*>)(</textarea>)',
            lambda m, n=name: m.group(1) + escape(values.get(n, "")) + m.group(2),
            html, count=1,
        )
    html = html.replace('name="phone" value=""', f'name="phone" value="{escape(values.get("phone", ""))}"', 1)
    if values.get("rating") in ("satisfied", "fair", "dissatisfied"):
        html = html.replace(f'name="rating" value="{values["rating"]}"', f'name="rating" value="{values["rating"]}" checked', 1)
    if values.get("consent") in ("yes", "on", "true"):
        html = html.replace('name="consent" value="yes"', 'name="consent" value="yes" checked', 1)
    if values.get("phone") or field in ("phone", "consent"):
        html = html.replace('<details class="mq-contact"', '<details class="mq-contact" open', 1)
    # "Say something" belongs to the whole form, not to one field.
    slot = field if field in _FIELDS and error.get("code") != "empty" else "form"
    html = html.replace(
        f'data-error-for="{slot}" role="alert"></p>', f'data-error-for="{slot}" role="alert">{escape(message)}</p>', 1
    )
    if slot != "form":
        html = re.sub(rf'(\sdata-field="{slot}")', r'\1 aria-invalid="true"', html, count=1)
    return html


def refused_form_page(site_dir: str | Path, station_id: str, values: dict[str, str], error: dict) -> Response | None:
    """The station's own page, refilled, for a refused no-JavaScript submission; None
    when this server does not hold the page (the site is hosted elsewhere)."""
    path = _page_file(site_dir, station_id)
    if path is None or station_id == _SHELL:
        return None
    html = _fill(path.read_text("utf-8"), values, error)
    # The answer comes from the API's address: the page's relative links need their base.
    html = html.replace("<head>", f'<head><base href="/s/{station_id}/">', 1)
    return HTMLResponse(_with_token(html), status_code=400, headers=_PRIVATE)
