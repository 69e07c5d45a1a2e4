"""The fake HubSpot as the demo runs it: a process on a port, answering the
documented shapes, refusing bad input with 4xx, sending v3-signed webhooks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from connectors.hubspot.signature import verify_v3

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/hubspot-local/", _Receiver.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_process(receiver):
    url, _ = receiver
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.hubspot.fake_server", "--port", str(port), "--seed"]
        + ["--token", "pat-cli", "--client-secret", "cli-secret", "--webhook-url", url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == f"fake HubSpot listening on http://127.0.0.1:{port}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_it_runs_as_a_module_with_seed_data_and_sends_signed_webhooks(fake_process, receiver):
    url, received = receiver
    auth = {"Authorization": "Bearer pat-cli"}
    listed = httpx.get(f"{fake_process}/crm/v3/objects/deals?associations=companies,line_items", headers=auth)
    (deal,) = listed.json()["results"]
    assert deal["associations"]["line_items"]["results"]
    closed = httpx.post(f"{fake_process}/_fake/deals/{deal['id']}/close", json={"won": True})
    assert closed.json()["properties"]["dealstage"] == "closedwon"
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:  # the seed's creation, then the close
        time.sleep(0.05)
    delivery = received[-1]
    event = json.loads(delivery["body"])[0]
    assert event["subscriptionType"] == "deal.propertyChange" and event["objectId"] == int(deal["id"])
    signed_at = verify_v3(
        secret="cli-secret",
        method="POST",
        uris=[url],
        body=delivery["body"],
        signature=delivery["headers"]["x-hubspot-signature-v3"],
        timestamp=delivery["headers"]["x-hubspot-request-timestamp"],
    )
    assert signed_at > 0


def test_it_refuses_a_wrong_token_and_bad_input_with_4xx(fake_process):
    assert httpx.get(f"{fake_process}/crm/v3/objects/companies").status_code == 401
    auth = {"Authorization": "Bearer pat-cli"}
    assert httpx.get(f"{fake_process}/crm/v3/objects/companies?limit=500", headers=auth).status_code == 400
    assert httpx.get(f"{fake_process}/crm/v3/objects/companies/424242", headers=auth).status_code == 404
    bad = httpx.post(f"{fake_process}/_fake/deals", json={"company_id": "1", "line_items": []})
    assert bad.status_code == 404
    unknown_product = httpx.post(f"{fake_process}/_fake/deals", json={"line_items": [{"product_id": "999"}]})
    assert unknown_product.status_code == 404 and "product 999" in unknown_product.json()["message"]
    not_json = httpx.post(
        f"{fake_process}/_fake/deals", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400


def test_search_filters_sorts_and_pages_as_documented(fake_process):
    auth = {"Authorization": "Bearer pat-cli"}
    for name in ("Zeta", "Alpha", "Mid"):
        httpx.post(
            f"{fake_process}/crm/v3/objects/companies", json={"properties": {"name": name}}, headers=auth
        ).raise_for_status()
    query = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]}
        ],
        "sorts": [{"propertyName": "name", "direction": "ASCENDING"}],
        "properties": ["name"],
        "limit": 2,
    }
    first = httpx.post(f"{fake_process}/crm/v3/objects/companies/search", json=query, headers=auth).json()
    assert first["total"] == 5 and len(first["results"]) == 2 and "associations" not in first["results"][0]
    second = httpx.post(
        f"{fake_process}/crm/v3/objects/companies/search",
        json={**query, "after": first["paging"]["next"]["after"]},
        headers=auth,
    ).json()
    names = [c["properties"]["name"] for c in first["results"] + second["results"]]
    assert names == sorted(names)
