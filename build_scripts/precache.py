"""Finish a built site: the service worker's precache list and the CSP script hashes.

Runs after MkDocs wrote the site. Stylesheets are first pruned and inlined (see
`stylesheets`): a first visit on a weak signal paints after one round trip. The precache list is every asset the home page and
a station page reference, plus the home page itself; its version is a hash of those
bytes, so a republish that changes any of them installs a new worker, and one that
changes nothing leaves the worker byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from build_scripts.files import replace_file
from build_scripts.inline_modules import inline_module_scripts, link_modules
from build_scripts.public_keys import KEYS_NAME
from build_scripts.stylesheets import (
    classes_in_html,
    custom_properties_read,
    elements_written,
    inline_stylesheets,
    prune_css,
    prune_custom_properties,
)

__all__ = ["asset_refs", "inline_script_hashes", "precache_manifest", "finish_site"]

SW_NAME = "sw.js"
CSP_NAME = "csp.json"
OWN_ASSETS = ("js",)
# Modules a page carries inline, linked with their imports (see `inline_modules`): the
# station form is ready with its page, without a round trip per module.
INLINED_MODULES = ("form.js", "public.js")
# Classes our scripts add at run time, which no built page shows.
SCRIPT_CLASSES = frozenset({"mq-kiosk"})
_REF = re.compile(r"""<(?:link[^>]+href|script[^>]+src|img[^>]+src)=["']([^"'#?]+)""", re.I)
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", re.S | re.I)


def asset_refs(html: str, page_path: str) -> set[str]:
    """Site-relative paths of the local assets an HTML page (at `page_path`) references."""
    base = page_path.rsplit("/", 1)[0]
    refs = set()
    for ref in _REF.findall(html):
        if "://" in ref or ref.startswith("//") or ref.startswith("data:"):
            continue
        parts = [] if ref.startswith("/") else [p for p in base.split("/") if p]
        for part in ref.lstrip("/").split("/"):
            if part == "..":
                parts = parts[:-1]
            elif part not in ("", "."):
                parts.append(part)
        refs.add("/".join(parts))
    return refs


def inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE.findall(html)
    }


def precache_manifest(files: dict[str, bytes]) -> tuple[list[str], str]:
    """URLs to precache (site-relative, "./" is the home page) and their joint version."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    urls = sorted("./" if p == "index.html" else p for p in files)
    return urls, digest.hexdigest()[:16]


def _pruned(css: str, classes: set[str], read: set[str], cache: Path | None) -> str:
    """`prune_css`, then `prune_custom_properties`, remembered by their inputs: the same
    theme, pages and scripts prune the same."""
    if cache is None:
        return prune_custom_properties(prune_css(css, classes), read)
    names = "\n".join(sorted(classes)) + "\0" + "\n".join(sorted(read))
    key = hashlib.sha256(css.encode() + b"\0" + names.encode()).hexdigest()
    path = cache / f"{key}.css"
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        pruned = prune_custom_properties(prune_css(css, classes), read)
        replace_file(path, pruned.encode("utf-8"))
        return pruned


def _inline_styles(site_dir: Path, cache: Path | None) -> None:
    pages = sorted(site_dir.rglob("*.html"))
    texts = {page: page.read_text("utf-8") for page in pages}
    classes = set(SCRIPT_CLASSES)
    for text in texts.values():
        classes |= classes_in_html(text)
    ours = {p.name: p.read_text("utf-8") for p in (site_dir / "css").glob("*.css")}
    # What else may read a theme's custom property: our stylesheet, the pages, the scripts.
    read = set().union(*(custom_properties_read(text) for text in [*ours.values(), *texts.values()]))
    for script in [*(site_dir / "js").glob("*.js"), *site_dir.glob("sw.js")]:
        read |= custom_properties_read(script.read_text("utf-8"))
        classes |= elements_written(script.read_text("utf-8"))  # what the scripts render
    sheets = {
        p.name: _pruned(p.read_text("utf-8"), classes, read, cache)
        for p in (site_dir / "assets" / "stylesheets").glob("*.css")
    }
    sheets |= ours
    for page, text in texts.items():
        inlined = inline_stylesheets(text, sheets)
        if inlined != text:
            page.write_text(inlined, "utf-8")


def _inline_modules(site_dir: Path) -> None:
    js = site_dir / "js"
    sources = {p.name: p.read_text("utf-8") for p in js.glob("*.js")}
    linked: dict[tuple[str, str], str] = {}

    def entry(name: str):
        def text(js_base: str) -> str:
            if (name, js_base) not in linked:
                linked[name, js_base] = link_modules(name, sources, js_base)
            return linked[name, js_base]

        return text

    entries = {name: entry(name) for name in INLINED_MODULES if name in sources}
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text("utf-8")
        inlined = inline_module_scripts(text, entries)
        if inlined != text:
            page.write_text(inlined, "utf-8")


def _imported(js: Path, name: str) -> bool:
    return any(f'"./{name}"' in p.read_text("utf-8") for p in js.glob("*.js") if p.name != name)


def finish_site(site_dir: Path, cache: Path | None = None) -> None:
    _inline_styles(site_dir, cache)
    _inline_modules(site_dir)
    station_pages = sorted((site_dir / "s").glob("*/index.html"))
    sample = [site_dir / "index.html", *station_pages[:1]]
    refs = {"index.html"}
    for page in sample:
        refs |= asset_refs(page.read_text("utf-8"), page.relative_to(site_dir).as_posix())
    # Our own modules import each other, which no HTML shows: take them whole.
    refs |= {p.relative_to(site_dir).as_posix() for d in OWN_ASSETS for p in (site_dir / d).rglob("*") if p.is_file()}
    # A module pages carry inline, and no module imports, is never fetched: not precached.
    refs -= {f"js/{name}" for name in INLINED_MODULES if not _imported(site_dir / "js", name)}
    # The sectors' public keys: a form offline all day must still seal (issue 14).
    refs.add(KEYS_NAME)
    files = {ref: (site_dir / ref).read_bytes() for ref in refs if (site_dir / ref).is_file()}
    sw = site_dir / SW_NAME
    if sw.exists():
        files[SW_NAME] = sw.read_bytes()
        urls, version = precache_manifest(files)
        urls.remove(SW_NAME)
        text = sw.read_text("utf-8")
        text = text.replace('"__VERSION__"', json.dumps(version)).replace("[/*PRECACHE*/]", json.dumps(urls))
        sw.write_text(text, "utf-8")
    hashes: set[str] = set()
    for page in sorted(site_dir.rglob("*.html")):
        hashes |= inline_script_hashes(page.read_text("utf-8"))
    (site_dir / CSP_NAME).write_text(json.dumps({"script-src": sorted(hashes)}, indent=1) + "\n", "utf-8")
