"""The server's house: imports run one way, from the top packages down to the lower ones,
no two modules import each other (however indirectly, and counting imports inside
functions), and every module is small enough to read in one sitting."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SERVER = REPO / "sync_server"
# Lowest first. A module may import its own package and any package ranked below it,
# never one above. Top-level modules are named like packages.
LAYERS = [
    # Leaves that import nothing of the server: the lifecycle's rules and words, the dispatch's rules,
    # when a file changed, the words' rules, 群众说了算's rules (verdicts).
    {"triage", "triage_terms", "dispatch", "verdicts", "filestamp", "words"},
    {"letters"},  # 工作建议函 and 督办单: numbers, words, tracking, the Word file (pure)
    {"web"},  # HTTP plumbing
    {"store"},  # every record, entry and account the server keeps, behind one seam
    {"stations"},  # the registry as the server reads it (reloaded when its file changes)
    {"sealing"},  # envelopes, keyring, unlock, quick-open copies
    # uploads, the no-JavaScript form, kiosk import, the citizen's look-up; 你说我办 (what anyone may read)
    {"intake", "public"},
    {"office"},  # triage pages, reports, downloads
    {"settings"},
    {"app"},  # the factory
    {"cli"},  # the `minqing` command
]
LONGEST_MODULE = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every sync_server module this file imports: at the top, inside a function, or by
    name at run time (`importlib.import_module`, `__import__`)."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import; the house uses absolute ones"
            # `from package import module` is an edge to the module (a package's own
            # __init__ runs first for any of its modules, and is not counted for it).
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and _imports_by_name(node.func) and node.args:
            name = node.args[0]
            assert isinstance(name, ast.Constant), f"{path.name}: a module imported by a computed name"
            found.add(f"{name.value}.")  # the trailing dot: "this module", not a name in it
    return {name for name in found if name.startswith("sync_server.")}


def _imports_by_name(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or \
        (isinstance(func, ast.Attribute) and func.attr == "import_module")


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SERVER.rglob("*.py")}
    # `from sync_server.store import inbox` names the module sync_server.store.embedded.inbox; a
    # name that is not a module (a function) counts as its module.
    return {name: {_module_of(imp, modules) for imp in _imports(path)} - {name} for name, path in modules.items()}


def _module_of(name: str, modules) -> str:
    if name.endswith("."):
        return name[:-1]
    return name if name in modules else name.rpartition(".")[0]


def _layer(module: str) -> int:
    top = module.split(".")[1]
    return next(rank for rank, names in enumerate(LAYERS) if top in names)


def test_every_package_and_top_level_module_has_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in SERVER.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert tops == set().union(*LAYERS)


def test_imports_run_down_the_layers_never_up():
    upward = [f"{module} imports {target}" for module, targets in _graph().items() if module != "sync_server"
              for target in targets if target != "sync_server" and _layer(target) > _layer(module)]
    assert upward == []


def test_no_two_modules_import_each_other_even_through_others():
    graph = _graph()
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_module_is_longer_than_one_sitting():
    long = {str(p.relative_to(REPO)): n for p in SERVER.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > LONGEST_MODULE}
    assert long == {}


def test_no_command_group_is_over_three_hundred_lines():
    long = {p.name: n for p in (SERVER / "cli").glob("*.py") if (n := len(p.read_text("utf-8").splitlines())) > 300}
    assert long == {}


def test_outside_the_store_stored_data_is_reached_only_through_its_seam():
    # The seam: `sync_server.store` and its engine-neutral modules. An engine's own
    # package is the store's business alone, so a second engine changes nothing above.
    reaching_in = sorted(f"{module} imports {target}" for module, targets in _graph().items()
                         if not module.startswith("sync_server.store")
                         for target in targets if target.startswith("sync_server.store.embedded"))
    assert reaching_in == []


RUN_TIME_IMPORTS = {
    "importlib": 'import importlib\n\ndef app():\n    return importlib.import_module("sync_server.app")\n',
    "__import__": 'def app():\n    return __import__("sync_server.app", fromlist=["create_app"]).create_app\n',
}


@pytest.mark.parametrize("code", RUN_TIME_IMPORTS.values(), ids=RUN_TIME_IMPORTS)
def test_an_import_made_at_run_time_counts_too(tmp_path, monkeypatch, code):
    shutil.copytree(REPO / "sync_server", tmp_path / "sync_server", ignore=shutil.ignore_patterns("__pycache__"))
    # Retention (in the store, low) reaching the app factory (top), which opens the store
    # whose inbox imports retention: upward, and a cycle.
    with open(tmp_path / "sync_server" / "store" / "retention.py", "a") as module:
        module.write("\n\n" + code)
    layout = sys.modules[__name__]  # the checks above read these two globals
    monkeypatch.setattr(layout, "SERVER", tmp_path / "sync_server")
    monkeypatch.setattr(layout, "REPO", tmp_path)
    with pytest.raises(AssertionError):
        layout.test_imports_run_down_the_layers_never_up()
    with pytest.raises(AssertionError):
        layout.test_no_two_modules_import_each_other_even_through_others()
