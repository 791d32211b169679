"""Severity: MEDIUM. When a registry edit removes a department, the matters dispatched to it
keep its id: no department account can see or act on them any more (an account of that
department is flagged, but the matters are not), and the staff inbox says nothing, unlike
an unmapped free-text lead. 'Nothing is silently dropped' fails: they wait for nobody.
Repro: dispatch to 'urban', delete its line from stations.yml, restart: inbox has no notice."""
from starlette.testclient import TestClient

from sync_server.app import create_app
from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import dispatch, login, seed

office = test_pages.office  # the same small office world


def test_staff_inbox_flags_matters_of_a_removed_department(office, settings, registry_file):
    park = seed(office, station_id="rulin-industrial-park", feeling="园区夜间聚集")
    dispatch(office, park["id"], "urban")
    office.__exit__(None, None, None)
    text = registry_file.read_text()
    registry_file.write_text("\n".join(line for line in text.splitlines() if "id: urban" not in line) + "\n")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        login(client, "amy")
        inbox = client.get("/office/records").text
        assert "登记册" in inbox and ("重新交办" in inbox or "改派" in inbox), "no notice about the orphaned matter"
        assert "该部门已不在登记册中" in client.get(f"/office/records/{park['id']}").text
