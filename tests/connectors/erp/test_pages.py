"""The ERP pages: postings for readers, the field mapping for Integration Admins."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import ErpMapping, OutboundPosting
from revops import models as m
from revops.actors import Actor
from revops.services.billing import invoice_issue
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_it_lists_a_connectors_postings_by_status(client, auditor, erp_connector):
    invoice = f.InvoiceFactory(status=m.Invoice.Status.DRAFT)
    invoice_issue(invoice=invoice, actor=Actor.for_system("revops", "test"))
    client.force_login(auditor)
    url = reverse("connectors:erp_postings", kwargs={"pk": erp_connector.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert f"INV-US01-{invoice.number}" in response.text
    assert f"INV-US01-{invoice.number}" not in client.get(url, {"status": "posted"}).text
    assert client.get(url, {"status": "nonsense"}).status_code == 200
    detail = client.get(reverse("connectors:detail", kwargs={"pk": erp_connector.pk}))
    assert url in detail.text


def test_it_saves_the_erp_mapping_with_its_history(client, integration_admin, erp_connector):
    client.force_login(integration_admin)
    url = reverse("connectors:erp_mapping", kwargs={"pk": erp_connector.pk})
    assert "US-CA = 8" in client.get(url).text
    response = client.post(
        url,
        {
            "subsidiary_id": "2",
            "ar_account_id": "121",
            "cash_account_id": "500",
            "default_item_id": "300",
            "tax_codes": "US-CA = 8\ndefault = 9",
            "item_ids": "SKU-SEAT = 301",
            "reason": "Second subsidiary",
        },
    )
    assert response.status_code == 302
    mapping = ErpMapping.objects.get(connector=erp_connector)
    assert (mapping.subsidiary_id, mapping.tax_codes) == ("2", {"US-CA": "8", "default": "9"})
    assert mapping.history.latest().history_change_reason == "Second subsidiary"


def test_it_refuses_a_malformed_tax_code_line_with_a_form_error(client, integration_admin, erp_connector):
    client.force_login(integration_admin)
    url = reverse("connectors:erp_mapping", kwargs={"pk": erp_connector.pk})
    response = client.post(url, {"tax_codes": "US-CA 8", "reason": "typo"})
    assert response.status_code == 400
    assert "Line 1" in response.text
    assert ErpMapping.objects.get(connector=erp_connector).tax_codes["US-CA"] == "8"
    assert OutboundPosting.objects.count() == 0


def test_an_analyst_cannot_edit_the_erp_mapping(client, analyst, erp_connector):
    client.force_login(analyst)
    url = reverse("connectors:erp_mapping", kwargs={"pk": erp_connector.pk})
    assert client.post(url, {"subsidiary_id": "9", "reason": "x"}).status_code == 403
    assert ErpMapping.objects.get(connector=erp_connector).subsidiary_id == "1"
