"""A small world per test: a copy of the sample registry, an empty inbox, the app."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.settings import Settings
from tests.conftest import SAMPLE_REGISTRY


def make_item(**fields) -> dict:
    item = {
        "id": str(uuid.uuid4()),
        "station_id": "hebin-primary",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rating": "fair",
        "feeling": "校门口的秩序比以前好多了。",
        "suggestion": "放学时段希望多安排一名交警。",
        "phone": None,
        "consent": False,
    }
    item.update(fields)
    return item


@pytest.fixture
def registry_file(tmp_path):
    path = tmp_path / "stations.yml"
    shutil.copy(SAMPLE_REGISTRY, path)
    return path


@pytest.fixture
def settings(tmp_path, registry_file, built_site) -> Settings:
    return Settings(data_dir=tmp_path / "data", site_dir=built_site, registry=registry_file)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def health_here(client) -> dict:
    """/api/health as a program on the server's own machine reads it, with the record
    count, the office index's state and the problems (anyone else reads only ok)."""
    local = TestClient(client.app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000))
    return local.get("/api/health").json()


def post_batch(client, items, device_id="tablet-1", **kwargs):
    return client.post("/api/submissions/batch", json={"device_id": device_id, "submissions": items}, **kwargs)


def store_items(data_dir, registry, items, device_id="kiosk-1"):
    """Store items through the real intake (as `inbox import` does), from a thread of its
    own: a browser test earlier in the session may leave an event loop running here."""
    from concurrent.futures import ThreadPoolExecutor

    from sync_server.intake.kiosk_import import Export, import_local

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(import_local, data_dir, registry, Export(device_id, items)).result()


def quarantine_a_segment(data_dir, registry, items) -> str:
    """Store `items` as one segment, break one record in its middle (as a bad disk block
    would), and open the folder as the writer, which sets the segment aside in the
    quarantine. Returns the id of the record whose bytes no longer parse."""
    from sync_server.store.embedded.inbox import Inbox
    from sync_server.store.embedded.tinystore import read_docs

    store_items(data_dir, registry, items)
    segment = data_dir / "inbox" / "segment-000001.json"
    victim = read_docs(segment, "submissions")[len(items) // 2]["id"]
    raw = segment.read_bytes()
    segment.write_bytes(raw.replace(f'"{victim}"'.encode(), f'"{victim}\x00'.encode(), 1))
    with Inbox(data_dir) as inbox:
        assert inbox.damaged and not (data_dir / "inbox" / "segment-000001.json").exists()
    return victim
