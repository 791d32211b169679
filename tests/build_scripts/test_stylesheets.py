"""Pruning and inlining stylesheets: rules that can match stay, the rest go."""

from __future__ import annotations

from build_scripts.stylesheets import (
    classes_in_html,
    custom_properties_read,
    elements_written,
    inline_stylesheets,
    prune_css,
    prune_custom_properties,
)

CSS = (
    '@charset "UTF-8";'
    ".md-header{color:red}.md-search{color:blue}.md-search,.md-nav{margin:0}"
    "body{margin:0}.md-nav :not(.md-search){padding:0}"
    '.x:after{content:"}{"}'
    "@media screen{.md-search{display:none}.md-header{display:block}}"
    "@media print{.md-search{display:none}}"
    "@keyframes spin{0%{opacity:0}to{opacity:1}}"
    "[data-md-color-primary=red]{--c:red}[data-md-color-primary=indigo]{--c:blue}"
)


def test_rules_for_classes_no_page_has_are_dropped_and_the_rest_kept():
    used = classes_in_html('<body data-md-color-primary="red"><header class="md-header"><nav class="md-nav x">')
    pruned = prune_css(CSS, used)
    assert ".md-header{color:red}" in pruned and "body{margin:0}" in pruned
    assert ".md-search,.md-nav{margin:0}" in pruned  # one selector of the list can match
    assert ".md-search{color:blue}" not in pruned
    assert ".md-nav :not(.md-search){padding:0}" in pruned  # :not(.x) does not need .x
    assert '.x:after{content:"}{"}' in pruned  # braces inside strings are not blocks
    assert "@media screen{.md-header{display:block}}" in pruned
    assert "@media print" not in pruned  # emptied groups go
    assert "@keyframes spin{0%{opacity:0}to{opacity:1}}" in pruned
    assert "[data-md-color-primary=red]{--c:red}" in pruned and "indigo" not in pruned
    assert pruned.startswith('@charset "UTF-8";')


def test_local_stylesheet_links_become_style_elements():
    html = '<head><link rel="stylesheet" href="../../assets/a.css"><link rel="stylesheet" href="other.css"></head>'
    out = inline_stylesheets(html, {"a.css": "p{margin:0}"})
    assert out == '<head><style>p{margin:0}</style><link rel="stylesheet" href="other.css"></head>'


def test_custom_properties_nothing_reads_are_dropped_and_the_rest_kept():
    css = (
        ':root{--icon-note:url("data:image/svg+xml;charset=utf-8,<svg>;</svg>");--fg:red;--unused:var(--fg2);--fg2:blue}'
        ":root{--only-unread:1}"
        ".md-header{color:var(--fg);--local:2}"
        "@media screen{:root{--wide:1px;--page:0}}"
    )
    pruned = prune_custom_properties(css, custom_properties_read("<p style='margin:var(--page)'>"))
    assert ".md-header{color:var(--fg)}" in pruned  # read by a rule; --local is read by nothing
    assert "--fg:red" in pruned
    assert "--icon-note" not in pruned  # its value holds semicolons inside a string
    assert "--unused" not in pruned and "--fg2" not in pruned  # read only by a dropped property
    assert ":root{--only-unread" not in pruned and "--wide" not in pruned  # emptied rules go
    assert "@media screen{:root{--page:0}}" in pruned  # read by a page


def test_a_rule_for_elements_no_page_or_script_writes_is_dropped():
    css = ("kbd{color:red}.md-typeset blockquote{margin:0}p{margin:1em}"
           "li:nth-child(odd){color:blue}a:not(img){color:green}input[type=checkbox]{width:1em}"
           "code,p>b{color:gray}")
    names = elements_written('<p class="x"><a href="#"><b>x</b></a></p><ul><li>1</li></ul>') | {"md-typeset"}
    names |= elements_written('view.innerHTML = `<input type="checkbox">`;')
    pruned = prune_css(css, names)
    assert "kbd" not in pruned and "blockquote" not in pruned
    assert "p{margin:1em}" in pruned
    assert "li:nth-child(odd){color:blue}" in pruned  # `odd` names no element
    assert "a:not(img){color:green}" in pruned  # :not(img) needs no img
    assert "input[type=checkbox]{width:1em}" in pruned  # written by a script
    assert "code,p>b{color:gray}" in pruned  # one selector that can match keeps the rule


def test_elements_written_reads_tags_and_created_elements():
    assert elements_written('<DIV>x</DIV> document.createElement("dialog")') >= {"<div", "<dialog", "<html", "<body"}
