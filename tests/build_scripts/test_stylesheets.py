"""Pruning and inlining stylesheets: rules that can match stay, the rest go."""

from __future__ import annotations

from build_scripts.stylesheets import classes_in_html, inline_stylesheets, prune_css

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
