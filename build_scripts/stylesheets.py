"""Inline each page's stylesheets, pruned to the rules the site can match.

On a 400 kbps link with 400 ms latency a stylesheet costs a second round trip before
first paint, and mkdocs-material's main.css (137 KB, 23 KB gzipped) is mostly rules for
features this site does not use (search, code, tabs, blog...). Since the site ships
without material's JavaScript, the classes in the built HTML, plus the few our own
scripts add, are every class a page will ever carry. A rule whose every selector needs
a class that no page has can never match, and is dropped. Likewise a rule whose every
selector names an element (`kbd`, `blockquote`, `img`) that no page and no script of
ours writes: the pages carry no Markdown extensions that would make them.

The theme also declares about a hundred custom properties (`--md-...`), many of them
inline SVG icons for features the site does not use; a declaration that nothing reads
(no `var()` in the kept rules, our own stylesheet, pages or scripts) is dropped too.

Pure functions: CSS text and a set of names (classes, colour attributes, elements) in,
CSS text out.
"""

from __future__ import annotations

import re

__all__ = ["classes_in_html", "custom_properties_read", "elements_written", "inline_stylesheets", "prune_css", "prune_custom_properties"]

_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
# mkdocs-material's palette keys its rules on these attributes; only the values the
# pages carry can match.
_COLOR_ATTR = re.compile(r'\b(data-md-color-[a-z]+)="([^"]*)"')
_SELECTOR_COLOR = re.compile(r"\[(data-md-color-[a-z]+)=([^\]]+)\]")
_SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
_ELEMENT = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_CREATED = re.compile(r"""createElement\(\s*["']([a-zA-Z][a-zA-Z0-9-]*)["']""")
# A type selector: a name at the start of a compound (after a combinator or the start).
_SELECTOR_TYPE = re.compile(r"(?:^|[\s>+~])([a-zA-Z][a-zA-Z0-9-]*)")
_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+\.css)">')
# Blocks whose content is rules (pruned inside); any other at-rule is kept whole.
_RULE_GROUPS = ("@media", "@supports", "@layer", "@container")


def classes_in_html(html: str) -> set[str]:
    """Class names, `data-md-color-*=value` pairs written as `attr=value`, and the
    elements the page has, written as `<name` (see `elements_written`)."""
    names = {name for value in _CLASS_ATTR.findall(html) for name in value.split()}
    return names | {f"{attr}={value}" for attr, value in _COLOR_ATTR.findall(html)} | elements_written(html)


def elements_written(text: str) -> set[str]:
    """Element names a page or script can make, as `<name`: every `<name` it holds (tags,
    and HTML in a script's strings) and every `createElement("name")`."""
    names = {m.lower() for m in _ELEMENT.findall(text)} | set(_CREATED.findall(text))
    return {f"<{name}" for name in names} | {"<html", "<body"}


def _outside_strings(text: str):
    """(index, character) of each character of `text` outside its quoted strings (the
    quotes themselves included in the string), backslash escapes respected."""
    i, quote = 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        else:
            yield i, ch
        i += 1


def _blocks(css: str):
    """Top-level (prelude, body) pairs of a minified stylesheet; strings respected."""
    start, depth, prelude_end = 0, 0, 0
    for i, ch in _outside_strings(css):
        if ch == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                yield css[start:prelude_end], css[prelude_end + 1 : i]
                start = i + 1
        elif ch == ";" and depth == 0:  # @charset, @import: statements without a block
            yield css[start : i + 1], None
            start = i + 1


def _selector_can_match(selector: str, classes: set[str]) -> bool:
    # Pseudo-classes like :not(.x) do not require .x; only count classes outside them.
    required = re.sub(r":(?:not|where|is|has)\([^()]*\)", "", selector)
    if not all(name in classes for name in _SELECTOR_CLASS.findall(required)):
        return False
    if not all(f"{attr}={value.strip(chr(34) + chr(39))}" in classes for attr, value in _SELECTOR_COLOR.findall(required)):
        return False
    # Element names: attribute selectors and pseudo-classes hold none (`:nth-child(odd)`).
    bare = re.sub(r"::?[\w-]+(?:\([^()]*\))?", "", re.sub(r"\[[^\]]*\]", "", required))
    return all(f"<{name.lower()}" in classes for name in _SELECTOR_TYPE.findall(bare))


def _map_rules(css: str, rule) -> str:
    """`css` with each style rule's body replaced by `rule(prelude, body)` (None drops the
    rule), walking into rule groups (@media ...) and dropping those left empty; other
    at-rules (@font-face, @keyframes) and statements stay as they are."""
    out = []
    for prelude, body in _blocks(css):
        if body is None:
            out.append(prelude)
        elif prelude.startswith(_RULE_GROUPS):
            inner = _map_rules(body, rule)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        elif (kept := rule(prelude, body)) is not None:
            out.append(f"{prelude}{{{kept}}}")
    return "".join(out)


def prune_css(css: str, classes: set[str]) -> str:
    return _map_rules(css, lambda prelude, body: body if any(
        _selector_can_match(s, classes) for s in prelude.split(",")) else None)


_VAR = re.compile(r"var\(\s*(--[\w-]+)")
_CUSTOM = re.compile(r"\s*(--[\w-]+)\s*:")


def _declarations(body: str) -> list[str]:
    """A rule body split at its top-level semicolons; strings and parentheses respected."""
    parts, start, depth = [], 0, 0
    for i, ch in _outside_strings(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ";" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [part for part in parts if part.strip()]


def _without_properties(css: str, dropped: set[str]) -> str:
    def rule(prelude: str, body: str) -> str | None:
        kept = [d for d in _declarations(body) if not ((m := _CUSTOM.match(d)) and m.group(1) in dropped)]
        return ";".join(kept) if kept else None

    return _map_rules(css, rule)


def custom_properties_read(text: str) -> set[str]:
    """The custom properties a text reads with `var(--x)`: a stylesheet, a page, a script."""
    return set(_VAR.findall(text))


def prune_custom_properties(css: str, read_elsewhere: set[str]) -> str:
    """Drop the declarations of custom properties that neither `css` nor anything else reads.

    `read_elsewhere`: what our own stylesheet, the pages and the scripts read (see
    `custom_properties_read`). Repeated until nothing changes: a property read only by a
    dropped one goes too.
    """
    dropped: set[str] = set()
    while True:
        kept = _without_properties(css, dropped)
        declared = {m.group(1) for m in re.finditer(r"[{;]\s*(--[\w-]+)\s*:", kept)}
        unread = declared - read_elsewhere - custom_properties_read(kept)
        if not unread:
            return kept
        dropped |= unread


def inline_stylesheets(html: str, stylesheets: dict[str, str]) -> str:
    """Replace each `<link rel="stylesheet">` whose href is in `stylesheets` by a `<style>`."""

    def swap(match: re.Match) -> str:
        href = match.group(1)
        name = href.rsplit("/", 1)[-1]
        css = stylesheets.get(name)
        return match.group(0) if css is None else f"<style>{css}</style>"

    return _LINK.sub(swap, html)
