"""The server's house: imports run one way, from the top packages down to the lower ones,
no two modules import each other (however indirectly, and counting imports inside
functions), and every module is small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SERVER = REPO / "sync_server"
# Lowest first. A module may import its own package and any package ranked below it,
# never one above. Top-level modules are named like packages.
LAYERS = [
    # Leaves that import nothing of the server: the lifecycle's rules, and when a file changed.
    {"triage", "filestamp"},
    {"web"},  # HTTP plumbing
    {"store"},  # every record, entry and account the server keeps, behind one seam
    {"stations"},  # the registry as the server reads it (reloaded when its file changes)
    {"sealing"},  # envelopes, keyring, unlock, quick-open copies
    {"intake"},  # uploads, the no-JavaScript form, kiosk import, the citizen's look-up
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
    """Every sync_server module this file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import; the house uses absolute ones"
            found.add(node.module or "")
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("sync_server.")}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SERVER.rglob("*.py")}
    # `from sync_server.store import inbox` names the module sync_server.store.embedded.inbox; a
    # name that is not a module (a function) counts as its module.
    return {name: {imp if imp in modules else imp.rpartition(".")[0] for imp in _imports(path)} - {name}
            for name, path in modules.items()}


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
