"""Severity: LOW. A registry edit renaming a department (same id) leaves every matter already
dispatched to it showing the old name as 牵头部门 on the record page and in the 明细
export (the entry's `lead` text is copied at dispatch and never re-read from the
registry), while the figures use the new name: two names for one unit in one office.
Repro: dispatch to police, rename 区公安分局 -> 区公安局 in stations.yml, restart, export."""
import io

from openpyxl import load_workbook
from starlette.testclient import TestClient

from sync_server.app import create_app
from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import dispatch, login, seed

office = test_pages.office  # the same small office world


def test_export_names_the_department_as_the_registry_names_it_now(office, settings, registry_file):
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    office.__exit__(None, None, None)
    registry_file.write_text(registry_file.read_text().replace("name: 区公安分局", "name: 区公安局"))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        login(client, "amy")
        sheet = load_workbook(io.BytesIO(client.get("/office/records.xlsx").content)).active
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        lead = rows[0].index("牵头部门")
        assert rows[1][lead] == "区公安局"
        page = client.get(f"/office/records/{park['id']}").text
        # The 承办单位 row names it as the registry does now (the history keeps its note as written).
        assert "<td data-department>区公安局牵头" in page
