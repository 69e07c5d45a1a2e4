"""Connectors through the API: listed without secrets, a run started as Sync
now starts it (one at a time), its status followed; readers start nothing."""

from __future__ import annotations

import pytest

from connectors.models import Connector, SyncRun
from tests import factories as f
from tests.connectors import memory_kind  # noqa: F401 - registers the "memory" connector kind
from tests.revops.api_support import api_client

pytestmark = pytest.mark.django_db

SECRET = "sk_test_SECRETVALUE123"


@pytest.fixture
def connector():
    return Connector.objects.create(
        name="mem", kind="memory", legal_entity=f.LegalEntityFactory(), credentials={"api_key": SECRET}
    )


def test_the_list_shows_connectors_and_never_their_secrets(analyst, connector):
    response = api_client(analyst).get("/api/v1/connectors/")
    assert [row["name"] for row in response.json()["results"]] == ["mem"]
    assert SECRET not in response.content.decode() and "credentials" not in response.json()["results"][0]


def test_run_now_queues_one_run_and_refuses_a_second_while_it_is_active(
    integration_admin, connector, django_capture_on_commit_callbacks
):
    client = api_client(integration_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/api/v1/connectors/{connector.pk}/run/", {"full": True}, format="json")
    assert response.status_code == 202
    run = SyncRun.objects.get(connector=connector)
    assert (run.status, run.trigger, run.full, run.requested_by) == ("queued", "manual", True, "integrator")
    assert len(callbacks) == 1  # handed to the workers once the run is committed
    assert client.get(f"/api/v1/sync-runs/{run.pk}/").json()["status"] == "queued"

    again = client.post(f"/api/v1/connectors/{connector.pk}/run/", {}, format="json")
    assert again.status_code == 409
    assert f"already has run {run.pk} queued" in again.json()["error"]["message"]
    assert SyncRun.objects.count() == 1


def test_a_disabled_connector_does_not_run(integration_admin, connector):
    connector.enabled = False
    connector.save()
    response = api_client(integration_admin).post(
        f"/api/v1/connectors/{connector.pk}/run/", {}, format="json"
    )
    assert response.status_code == 409 and "disabled" in response.json()["error"]["message"]
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_readers_cannot_start_a_run(cast, role, connector):
    response = api_client(cast[role]).post(f"/api/v1/connectors/{connector.pk}/run/", {}, format="json")
    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def test_runs_filter_by_connector(analyst, connector):
    run = SyncRun.objects.create(connector=connector, trigger="manual", status="succeeded", read=1, created=1)
    rows = api_client(analyst).get("/api/v1/sync-runs/", {"connector": connector.pk}).json()["results"]
    assert [(row["id"], row["connector"], row["read"]) for row in rows] == [(run.pk, "mem", 1)]
