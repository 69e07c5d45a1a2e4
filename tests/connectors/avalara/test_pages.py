"""The Avalara connector in the connector pages: configured with its account id
and license key (encrypted, never shown back), and tested with a ping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import Connector
from tests import factories as f
from tests.connectors.avalara.fake_avatax import ACCOUNT_ID, LICENSE_KEY

pytestmark = pytest.mark.django_db


def test_it_adds_an_avalara_connector_and_keeps_the_license_key_secret(client, integration_admin, avatax):
    entity = f.LegalEntityFactory()
    client.force_login(integration_admin)
    form = client.get(reverse("connectors:add") + "?kind=avalara")
    assert form.status_code == 200 and b"License key" in form.content and b"Company code" in form.content
    response = client.post(
        reverse("connectors:add") + "?kind=avalara",
        {
            "name": "avatax-us",
            "legal_entity": entity.pk,
            "enabled": "on",
            "base_url": avatax.base_url,
            "direction": "pull",
            "schedule_type": "manual",
            "credential_account_id": ACCOUNT_ID,
            "credential_license_key": LICENSE_KEY,
            "reason": "Tax engine for US01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connector = Connector.objects.get(name="avatax-us")
    assert connector.kind == "avalara"
    assert connector.credentials.reveal()["license_key"] == LICENSE_KEY
    detail = client.get(reverse("connectors:detail", args=[connector.pk]))
    assert detail.status_code == 200 and LICENSE_KEY.encode() not in detail.content
    tested = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert b"Connection test passed: AvaTax answered at" in tested.content
    assert [r["path"] for r in avatax.requests] == ["/api/v2/utilities/ping"]


def test_it_reports_a_refused_license_key_on_test(client, integration_admin, avatax):
    connector = Connector.objects.create(
        name="avatax-us",
        kind="avalara",
        legal_entity=f.LegalEntityFactory(),
        base_url=avatax.base_url,
        credentials={"account_id": ACCOUNT_ID, "license_key": "WRONG-KEY"},
    )
    client.force_login(integration_admin)
    tested = client.post(reverse("connectors:test", args=[connector.pk]), follow=True)
    assert b"Connection test failed" in tested.content and b"did not accept the account id" in tested.content


def test_it_lists_the_tax_reported_to_avatax_for_an_auditor(client, auditor, avatax):
    import datetime as dt

    from connectors.avalara.commits import commit_send
    from connectors.models import OutboundPosting
    from revops.actors import Actor
    from revops.services.billing import InvoiceLineSpec, invoice_create

    connector = Connector.objects.create(
        name="avatax-us",
        kind="avalara",
        legal_entity=f.LegalEntityFactory(),
        base_url=avatax.base_url,
        credentials={"account_id": ACCOUNT_ID, "license_key": LICENSE_KEY},
    )
    customer = f.CustomerFactory(
        legal_entity=connector.legal_entity, country="US", region="CA", postal_code="92615"
    )
    invoice_create(
        number="INV-P-1",
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Yarn", quantity="1", unit_amount="100.00", tax_rate="7.75")],
        actor=Actor.for_system("revops", "test"),
    )
    commit_send(OutboundPosting.objects.get().pk)
    client.force_login(auditor)
    detail = client.get(reverse("connectors:detail", args=[connector.pk]))
    assert b"Tax reported to AvaTax" in detail.content
    page = client.get(reverse("connectors:erp_postings", args=[connector.pk]))
    assert page.status_code == 200
    assert b"Tax reported to AvaTax" in page.content and b"Edit ERP mapping" not in page.content
    assert b"revops-US01-INV-P-1" in page.content and b"SalesInvoice" in page.content
