"""Link one ES module and its static imports into a single inline script.

On a 400 kbps link with 400 ms latency every module a page waits for is a round trip:
the station page's form became ready after its HTML plus one more request (about
0.7 s later), however the modules were preloaded. So the page carries the form's
modules inside the HTML, where they arrive with the page. They stay what they are in
`js/` (native modules, one concern each, imported as they are by the service worker, the
kiosk and the tests); this is not a bundler, only the one step that joins them:

- each module becomes a function scope that returns its exports, in dependency order;
- `import * as x from "./m.js"` and `import { a, b as c } from "./m.js"` become
  constants bound to those exports;
- `import.meta.url` and `import("./m.js")` keep meaning the module's own address in
  `js/`, so a module loaded later (kiosk.js, seal.js) is fetched from there as before;
- whole-line `//` comments are left out (outside template literals): they are a tenth of
  the script's gzipped bytes, and every byte delays the page's first paint on this link.

Only the forms our modules use are understood. Anything else (a default export, an
exported `let`, a re-export, a bare or computed specifier) stops the build with a
sentence naming the module: a linker that guesses would change the code's meaning.

Pure functions: module sources in, script text out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

__all__ = ["LinkError", "link_modules", "inline_module_scripts"]

_NAME = r"[A-Za-z_$][\w$]*"
_SPEC = r'"\./([\w-]+\.js)"'
_IMPORT_ALL = re.compile(rf"^import \* as ({_NAME}) from {_SPEC};\s*$")
_IMPORT_NAMED = re.compile(rf"^import \{{([^}}]*)\}} from {_SPEC};\s*$")
_EXPORT = re.compile(rf"^export (?:async function\*?|function\*?|const|class) ({_NAME})\b")
_DYNAMIC = re.compile(rf"\bimport\(\s*{_SPEC}\s*\)")
_BINDING = re.compile(rf"^({_NAME})(?:\s+as\s+({_NAME}))?$")


class LinkError(ValueError):
    """A module uses a form the linker does not understand."""


def _namespace(name: str) -> str:
    return "__m_" + re.sub(r"\W", "_", name.removesuffix(".js"))


def _bindings(names: str, module: str) -> str:
    pairs = []
    for item in (part.strip() for part in names.split(",")):
        match = _BINDING.match(item)
        if not match:
            raise LinkError(f"{module}: cannot link the import binding {item!r}")
        imported, local = match.groups()
        pairs.append(imported if local is None else f"{imported}: {local}")
    return ", ".join(pairs)


def _code_lines(source: str) -> list[str]:
    """The lines of `source` without its whole-line `//` comments.

    A line inside a template literal is text, not code, whatever it starts with: the
    literal is followed by its unescaped backticks (a comment line's backticks are not
    counted, as they are no code)."""
    kept, in_template = [], False
    for line in source.splitlines():
        if not in_template and line.lstrip().startswith("//"):
            continue
        kept.append(line)
        if len(re.findall(r"(?<!\\)`", line)) % 2:
            in_template = not in_template
    return kept


def _rewrite(name: str, source: str) -> tuple[list[str], str, list[str]]:
    """(static imports, body, exported names) of one module."""
    imports, exports, lines = [], [], []
    for line in _code_lines(source):
        if match := _IMPORT_ALL.match(line):
            local, target = match.groups()
            imports.append(target)
            lines.append(f"const {local} = {_namespace(target)};")
        elif match := _IMPORT_NAMED.match(line):
            names, target = match.groups()
            imports.append(target)
            lines.append(f"const {{ {_bindings(names, name)} }} = {_namespace(target)};")
        elif re.match(r"^import\b(?!\s*\()", line):
            raise LinkError(f"{name}: cannot link {line.strip()!r} (only `import * as x` and `import {{ a }}` of ./x.js)")
        elif match := _EXPORT.match(line):
            exports.append(match.group(1))
            lines.append(line.removeprefix("export "))
        elif line.startswith("export"):
            raise LinkError(f"{name}: cannot link {line.strip()!r} (only exported const, function and class)")
        else:
            lines.append(line)
    body = "\n".join(lines)
    body = _DYNAMIC.sub(lambda m: f'import(new URL("{m.group(1)}", __js).href)', body)
    if re.search(r"\bimport\s*\(", body.replace("import(new URL(", "")):
        raise LinkError(f"{name}: a dynamic import needs a literal \"./x.js\" specifier")
    body = body.replace("import.meta.url", f'new URL("{name}", __js).href')
    if "import.meta" in body:
        raise LinkError(f"{name}: only import.meta.url can be linked")
    return imports, body, exports


def link_modules(entry: str, sources: Mapping[str, str], js_base: str) -> str:
    """`entry` and everything it imports, as one classic-scoped module script.

    `sources` maps a module's file name in `js/` to its text; `js_base` is the address
    of `js/` relative to the page that will carry the script (for example "../../js/").
    """
    order: list[str] = []
    parsed: dict[str, tuple[list[str], str, list[str]]] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise LinkError(f"{name}: import cycle {' -> '.join((*path, name))}")
        if name in parsed:
            return
        if name not in sources:
            raise LinkError(f"{path[-1] if path else entry}: imports {name}, which is not in js/")
        parsed[name] = _rewrite(name, sources[name])
        for target in parsed[name][0]:
            visit(target, (*path, name))
        order.append(name)

    visit(entry, ())
    for name in order:
        # Inside <script>, these would end the element or change how it is parsed.
        if re.search(r"</script|<!--", parsed[name][1], re.I):
            raise LinkError(f"{name}: holds '</script' or '<!--', which cannot sit inside a <script> element")
    parts = [f"const __js = new URL({json.dumps(js_base)}, document.baseURI);"]
    for name in order:
        _, body, exports = parsed[name]
        if name == entry:
            parts.append(f"// js/{name}\n{{\n{body}\n}}")
        else:
            parts.append(
                f"// js/{name}\nconst {_namespace(name)} = (() => {{\n{body}\n"
                f"return Object.freeze({{ {', '.join(exports)} }});\n}})();"
            )
    return "\n".join(parts) + "\n"


def inline_module_scripts(html: str, entries: Mapping[str, str]) -> str:
    """Replace `<script type="module" src=".../js/<entry>">` by the entry's linked text.

    `entries` maps an entry's file name to a function of `js_base` (the `src` folder as
    the page wrote it) that returns the linked script.
    """

    def swap(match: re.Match) -> str:
        js_base, name = match.group(1), match.group(2)
        if name not in entries:
            return match.group(0)
        return f'<script type="module" async>{entries[name](js_base)}</script>'

    return re.sub(r'<script type="module" src="([^"]*js/)([\w-]+\.js)"></script>', swap, html)
