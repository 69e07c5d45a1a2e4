"""The canonical resources through the API: invoice lookup by number or any
external id, contracts with lines and amendments, usage recorded once per
source event id through the usage service, a quote-to-cash flow by
correlation id, and an auditor's token that writes nothing anywhere."""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from revops.models import BusinessEvent, UsageRecord
from tests.revops.api_seed import seed
from tests.revops.api_support import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(superuser):
    return seed(superuser)


@pytest.mark.parametrize("ref", ["INV-APR", "in_seed"])
def test_it_finds_an_invoice_by_number_or_external_id_with_its_amount_due(analyst, data, ref):
    response = api_client(analyst).get("/api/v1/invoices/lookup/", {"ref": ref})
    assert response.status_code == 200
    body = response.json()
    invoice = data["invoice"]
    invoice.refresh_from_db()
    assert (body["id"], body["status"], body["amount_due"]) == (
        invoice.pk,
        invoice.status,
        str(invoice.amount_due),
    )
    assert {"system": "stripe", "object_type": "invoice", "external_id": "in_seed"} in body["external_ids"]


def test_a_lookup_that_finds_nothing_is_a_404(analyst, data):
    response = api_client(analyst).get("/api/v1/invoices/lookup/", {"ref": "in_nothing"})
    assert response.status_code == 404 and "in_nothing" in response.json()["error"]["message"]


def test_a_contract_comes_with_its_lines(analyst, data):
    body = api_client(analyst).get(f"/api/v1/contracts/{data['contract'].pk}/").json()
    assert sorted(line["product"] for line in body["lines"]) == ["API-CALLS", "STORAGE"]
    assert body["amendments"] == []


def test_usage_is_recorded_once_per_source_event_id(integration_admin, data):
    client = api_client(integration_admin)
    body = {
        "contract_line": data["usage_line"].pk,
        "quantity": "12.5",
        "usage_at": "2026-05-10T08:00:00Z",
        "source": "meter",
        "source_event_id": "evt-77",
    }
    first = client.post("/api/v1/usage/", body, format="json")
    again = client.post("/api/v1/usage/", {**body, "quantity": "99"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    record = UsageRecord.objects.get(source="meter", source_event_id="evt-77")
    assert str(record.quantity) == "12.500000" and again.json()["id"] == record.pk
    assert record.history.get().history_user == integration_admin


def test_late_usage_is_refused_with_the_services_explanation(integration_admin, data):
    body = {
        "contract_line": data["usage_line"].pk,
        "quantity": "1",
        "usage_at": "2026-03-10T08:00:00Z",
        "source": "meter",
        "source_event_id": "evt-late",
    }
    response = api_client(integration_admin).post("/api/v1/usage/", body, format="json")
    assert response.status_code == 422
    assert "closed by invoice INV-APR" in response.json()["error"]["fields"]["period_start"][0]
    assert not UsageRecord.objects.filter(source_event_id="evt-late").exists()


def test_events_follow_one_flow_by_correlation_id(auditor, data):
    correlation = data["invoice"].correlation_id
    rows = api_client(auditor).get("/api/v1/events/", {"correlation_id": str(correlation)}).json()["results"]
    assert rows and {row["correlation_id"] for row in rows} == {str(correlation)}
    assert len(rows) == BusinessEvent.objects.filter(correlation_id=correlation).count()


def _write_operations():
    document = SchemaGenerator(api_version="1").get_schema(request=None, public=True)
    for path, operations in document["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete"):
                yield path, method


def test_an_auditor_token_cannot_write_anything(auditor, data):
    """Every write operation the schema lists, with a real id, refused with
    403 and nothing changed."""
    from tests.revops.test_role_walk import _snapshot

    client = api_client(auditor)
    ids = {
        "/api/v1/exceptions/{id}/": data["item"].pk,
        "/api/v1/connectors/{id}/": data["connector"].pk,
    }
    before = (_snapshot(), UsageRecord.objects.count())
    operations = list(_write_operations())
    assert len(operations) >= 8
    for path, method in operations:
        prefix = next((p for p in ids if path.startswith(p)), None)
        url = path.replace("{id}", str(ids[prefix])) if prefix else path
        response = getattr(client, method)(
            url, {"reason": "x", "body": "x", "action": "dismiss"}, format="json"
        )
        assert response.status_code == 403, (method, url, response.status_code)
    assert (_snapshot(), UsageRecord.objects.count()) == before


def test_the_docs_page_reaches_the_schema(client, analyst):
    client.force_login(analyst)
    assert reverse("api:schema") in client.get(reverse("api:docs")).content.decode()
