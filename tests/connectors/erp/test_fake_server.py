"""The fake NetSuite: its control endpoint, and the command line that stops by itself."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx


def test_it_switches_faults_and_refuses_an_unknown_one(fake_erp):
    with httpx.Client(base_url=fake_erp.base_url) as http:
        assert http.post("/_control", json={"fault": "explode"}).status_code == 400
        state = http.post("/_control", json={"fault": "500", "count": 2}).json()
        assert state["fault"] == {"fault": "500", "count": 2}
        body = {"externalId": "X-1"}
        headers = {"Authorization": 'OAuth realm="x"'}
        statuses = [
            http.post("/services/rest/record/v1/invoice", json=body, headers=headers).status_code
            for _ in range(3)
        ]
        assert statuses == [500, 500, 204]
        assert (
            http.get("/services/rest/record/v1/invoice/eid:X-1", headers=headers).json()["externalId"]
            == "X-1"
        )
        assert http.get("/services/rest/record/v1/invoice/eid:X-1").status_code == 401
        assert http.post("/_control/reset").json()["records"] == {}


def test_it_runs_from_the_command_line_and_stops_by_itself():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "connectors.erp.fake_server", "--port", "0", "--max-seconds", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert "fake NetSuite listening on http://127.0.0.1:" in result.stdout
    assert time.monotonic() - started < 20
