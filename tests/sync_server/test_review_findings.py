"""An outside review of issue 19 (the house by concern, one storage seam). Each test here
FAILS ON PURPOSE: it shows a promise of the issue or of the code that does not hold yet.
"""

from __future__ import annotations

import io
import shutil
import sys
import tomllib

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store import Submissions, open_store
from tests.conftest import REPO
from tests.sync_server import test_layout as layout
from tests.sync_server.conftest import make_item, post_batch

# -- the seam: code above the store uses only what `interfaces.Submissions` promises -----

_PROTOCOL = {name for name in vars(Submissions) if not name.startswith("_")} | set(Submissions.__annotations__)


class ProtocolOnly:
    """Another engine's submissions, as far as the seam can tell: the embedded inbox
    behind exactly the members `interfaces.Submissions` names, and nothing else."""

    def __init__(self, inner) -> None:
        object.__setattr__(self, "_inner", inner)

    def __getattr__(self, name):
        if name not in _PROTOCOL:
            raise AttributeError(f"{name!r} is not part of interfaces.Submissions")
        return getattr(self._inner, name)

    def __setattr__(self, name, value) -> None:
        setattr(self._inner, name, value)

    def __len__(self) -> int:
        return len(self._inner)

    def __contains__(self, submission_id) -> bool:
        return submission_id in self._inner


class ProtocolOnlyStore:
    def __init__(self, inner) -> None:
        self._inner = inner
        self.submissions, self.triage, self.accounts = ProtocolOnly(inner.submissions), inner.triage, inner.accounts

    def problems(self):
        return self._inner.problems()

    def close(self) -> None:
        self._inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_the_server_runs_on_any_store_that_keeps_the_seams_promises(settings):
    # Today the intake reads `inbox.data_dir` (intake/writer.py: the installation key and
    # the sealer) and the form post `inbox.fingerprint(...)` (intake/api.py): neither is
    # in `interfaces.Submissions`, so a second engine that fills the interface fails here.
    store = ProtocolOnlyStore(open_store(settings.data_dir, load_triage=False))
    assert isinstance(store.submissions, Submissions)
    with TestClient(create_app(settings, store=store), base_url="http://127.0.0.1:8000") as client:
        assert post_batch(client, [make_item()]).status_code == 200
        form = {"station_id": "hebin-primary", "rating": "satisfied", "feeling": "路灯修好了", "suggestion": "", "phone": ""}
        assert client.post("/api/submissions/form", data=form).status_code == 200
        assert client.get("/api/health").json()["records"] == 2


def test_seal_existing_runs_on_any_store_that_keeps_the_seams_promises(tmp_path, registry_file):
    from sync_server.sealing.on_arrival import seal_existing
    from sync_server.stations import StationBook

    with open_store(tmp_path / "data") as store:
        sealed, left = seal_existing(ProtocolOnly(store.submissions), StationBook(registry_file), b"k" * 32)
    assert (sealed, left) == (0, 0)


# -- packaging: the console script in an ordinary (non-editable) install ------------------

def test_every_server_package_is_in_the_distribution():
    # pyproject.toml lists packages by hand; a wheel (`pip install .`) holds only those, so
    # the console script `minqing = sync_server.cli.main:main` cannot even import: every
    # `minqing` command, `--help` included, ends in ModuleNotFoundError. At e709443 only
    # `serve` did (sync_server.office was already missing).
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "sync_server").rglob("__init__.py")}
    assert packages - listed == set()


# -- the layout test: an upward import or a cycle it cannot see ---------------------------

@pytest.mark.parametrize("code", [
    'import importlib\n\ndef app():\n    return importlib.import_module("sync_server.app")\n',
    'def app():\n    return __import__("sync_server.app", fromlist=["create_app"]).create_app\n',
], ids=["importlib", "__import__"])
def test_the_layout_test_sees_an_upward_import_made_at_run_time(tmp_path, monkeypatch, code):
    shutil.copytree(REPO / "sync_server", tmp_path / "sync_server", ignore=shutil.ignore_patterns("__pycache__"))
    # The store (low) reaching the app factory (top), which imports the store: upward, and a cycle.
    (tmp_path / "sync_server" / "store" / "sneaky.py").write_text(code)
    monkeypatch.setattr(layout, "REPO", tmp_path)
    monkeypatch.setattr(layout, "SERVER", tmp_path / "sync_server")
    with pytest.raises(AssertionError):
        layout.test_imports_run_down_the_layers_never_up()
    with pytest.raises(AssertionError):
        layout.test_no_two_modules_import_each_other_even_through_others()


# -- "no behaviour changes": the command line -----------------------------------------

def test_adding_an_existing_name_says_it_exists_as_before(tmp_path, monkeypatch, capsys):
    # At e709443 `office add-user` named the taken name first; now the account's other
    # checks run first, so the operator reads about --sectors or the password's length.
    from sync_server.cli.main import main
    from sync_server.store.accounts import dummy_hash

    monkeypatch.setattr("sync_server.store.accounts.SCRYPT", {"n": 2**10, "r": 8, "p": 1})
    dummy_hash.cache_clear()
    data = ["--data-dir", str(tmp_path / "data"), "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["office", "add-user", "amy", "--role", "staff", *data]) == 0
    for role, password in (("department", "a long enough password"), ("staff", "short")):
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        assert main(["office", "add-user", "amy", "--role", role, *data]) == 2
        assert capsys.readouterr().err == "error: the user 'amy' already exists.\n"
    dummy_hash.cache_clear()
