"""The seam is the only way in: the server and `keys seal-existing` run on a store that
offers exactly what `interfaces.Submissions` names (the intake once read the engine's
`data_dir` and `fingerprint`, so a second engine would have failed at start)."""

from __future__ import annotations

from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store import Submissions, open_store
from tests.sync_server.conftest import health_here, make_item, post_batch

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
        self.department_copies = inner.department_copies

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
        assert health_here(client)["records"] == 2


def test_seal_existing_runs_on_any_store_that_keeps_the_seams_promises(tmp_path, registry_file):
    from sync_server.sealing.on_arrival import seal_existing
    from sync_server.stations import StationBook

    with open_store(tmp_path / "data") as store:
        counts = seal_existing(ProtocolOnly(store.submissions), StationBook(registry_file), b"k" * 32, tmp_path / "data")
    assert counts == (0, 0, 0)
