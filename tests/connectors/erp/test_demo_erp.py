"""manage.py demo_erp sets up the demo's NetSuite connector once, and it posts."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from connectors import posting as p
from connectors.models import Connector, ErpMapping, OutboundPosting
from revops import models as m
from revops.actors import Actor
from revops.services.billing import invoice_issue
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_connector_once_and_posts_to_the_fake(fake_erp, settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    f.LegalEntityFactory()
    call_command("demo_erp", erp_url=fake_erp.base_url)
    call_command("demo_erp", erp_url=fake_erp.base_url)
    connector = Connector.objects.get(name="netsuite-local")
    assert connector.history.count() == 1
    assert ErpMapping.objects.get(connector=connector).history.count() == 1
    invoice = f.InvoiceFactory(status=m.Invoice.Status.DRAFT)
    invoice_issue(invoice=invoice, actor=Actor.for_system("revops", "test"))
    assert p.posting_send(OutboundPosting.objects.get(connector=connector).pk) == "posted"
    assert fake_erp.erp.get("invoice", f"eid:INV-US01-{invoice.number}") is not None
