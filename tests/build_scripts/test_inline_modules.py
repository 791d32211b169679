"""Linking the form's modules into one inline script: what it rewrites, what it refuses."""

from __future__ import annotations

import pytest

from build_scripts.inline_modules import LinkError, inline_module_scripts, link_modules

SOURCES = {
    "store.js": 'export const NAME = "db";\nexport function add(x) { return x; }\nexport class Box {}\n',
    "util.js": 'import * as store from "./store.js";\nexport async function save(x) { return store.add(x); }\n',
    "form.js": (
        'import * as store from "./store.js";\n'
        'import { save, save as keep } from "./util.js";\n'
        'const ROOT = new URL("../", import.meta.url);\n'
        'export function later() { return import("./extra.js"); }\n'
        "save(store.NAME); keep(1);\n"
    ),
}


def test_modules_are_linked_in_dependency_order_with_their_exports_bound():
    linked = link_modules("form.js", SOURCES, "../../js/")
    assert linked.startswith('const __js = new URL("../../js/", document.baseURI);')
    # Each dependency once, before what imports it; the entry last.
    assert linked.index("// js/store.js") < linked.index("// js/util.js") < linked.index("// js/form.js")
    assert linked.count("// js/store.js") == 1
    assert "return Object.freeze({ NAME, add, Box });" in linked
    assert "return Object.freeze({ save });" in linked
    assert "const store = __m_store;" in linked
    assert "const { save, save: keep } = __m_util;" in linked
    assert "export" not in linked.replace("Object.freeze", "")
    # Addresses stay the module's own in js/, not the page's.
    assert 'new URL("../", new URL("form.js", __js).href)' in linked
    assert 'import(new URL("extra.js", __js).href)' in linked


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('export default function () {}\n', "only exported const"),
        ("export let count = 0;\n", "only exported const"),
        ('export { a } from "./store.js";\n', "only exported const"),
        ('import thing from "./store.js";\n', "cannot link"),
        ('import "./store.js";\n', "cannot link"),
        ('import { x } from "lib";\n', "cannot link"),
        ("const m = import(name);\n", "literal"),
        ("const meta = import.meta.resolve;\n", "import.meta.url"),
        ('const s = "</script>";\n', "inside a <script>"),
        ('import * as m from "./missing.js";\n', "not in js/"),
    ],
)
def test_a_form_the_linker_does_not_understand_stops_the_build(source, reason):
    with pytest.raises(LinkError, match=reason):
        link_modules("entry.js", {**SOURCES, "entry.js": source}, "js/")


def test_an_import_cycle_stops_the_build():
    sources = {"a.js": 'import * as b from "./b.js";\n', "b.js": 'import * as a from "./a.js";\n'}
    with pytest.raises(LinkError, match="cycle a.js -> b.js -> a.js"):
        link_modules("a.js", sources, "js/")


def test_only_the_named_entries_are_inlined_with_the_pages_own_path_to_js():
    html = '<script type="module" src="../../js/form.js"></script><script type="module" src="../../js/kiosk.js"></script>'
    out = inline_module_scripts(html, {"form.js": lambda base: f"linked({base})"})
    assert out == '<script type="module" async>linked(../../js/)</script><script type="module" src="../../js/kiosk.js"></script>'


def test_whole_line_comments_are_left_out_but_not_lines_of_a_template_literal():
    source = (
        "// why this module exists\n"
        "    // an indented comment\n"
        "const page = `<p>\n"
        "// this line is text the page shows\n"
        "</p>`;\n"
        "const url = \"http://example.invalid/\"; // a trailing comment stays\n"
        "// after the literal: a comment again\n"
    )
    linked = link_modules("form.js", {"form.js": source}, "../js/")
    assert "why this module exists" not in linked and "an indented comment" not in linked
    assert "after the literal" not in linked
    assert "// this line is text the page shows\n" in linked
    assert 'const url = "http://example.invalid/"; // a trailing comment stays' in linked


def test_the_real_form_modules_link_without_their_comment_lines():
    from pathlib import Path

    js = Path(__file__).resolve().parents[2] / "site" / "docs" / "js"
    sources = {p.name: p.read_text(encoding="utf-8") for p in js.glob("*.js")}
    linked = link_modules("form.js", sources, "../js/")
    # Every backtick still paired: no template literal was cut by the comment filter.
    assert linked.count("`") % 2 == 0
    commented = [line for line in linked.splitlines() if line.lstrip().startswith("//")]
    assert commented == [line for line in commented if line.startswith("// js/")]
