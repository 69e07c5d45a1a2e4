"""Two thousand invoices post exactly once while the ERP drops 30 % of its answers
after committing: ERP documents = canonical documents, no duplicates."""

from __future__ import annotations

import pytest

from connectors import posting as p
from connectors.models import OutboundPosting
from revops import models as m
from revops.actors import Actor
from revops.services.billing import invoice_issue
from tests import factories as f

pytestmark = pytest.mark.django_db
INVOICES = 2000


def test_it_posts_every_invoice_exactly_once_despite_dropped_answers(erp_connector, fake_erp):
    actor = Actor.for_system("revops", "test")
    customers = [f.CustomerFactory() for _ in range(20)]
    for n in range(INVOICES):
        invoice = f.InvoiceFactory(status=m.Invoice.Status.DRAFT, customer=customers[n % len(customers)])
        invoice_issue(invoice=invoice, actor=actor)
    assert OutboundPosting.objects.count() == INVOICES
    # The fake would take a second copy of an external id: only our lookup prevents duplicates.
    fake_erp.erp.control({"fault": "drop", "probability": 0.3, "unique_external_ids": False})

    for _ in range(50):
        due = list(OutboundPosting.objects.filter(status__in=p.CLAIMABLE).values_list("pk", flat=True))
        if not due:
            break
        for posting_id in due:
            p.posting_send(posting_id)

    state = fake_erp.erp.state()
    assert state["counts"]["dropped"] > INVOICES * 0.2  # the fault really struck
    documents = fake_erp.erp.documents("invoice")
    external_ids = [d["externalId"] for d in documents]
    expected = {f"INV-US01-{number}" for number in m.Invoice.objects.values_list("number", flat=True)}
    assert len(external_ids) == INVOICES
    assert set(external_ids) == expected
    assert OutboundPosting.objects.filter(status=OutboundPosting.Status.POSTED).count() == INVOICES
    erp_ids = {d["externalId"]: d["id"] for d in documents}
    assert all(
        erp_ids[ext] == erp_id for ext, erp_id in OutboundPosting.objects.values_list("external_id", "erp_id")
    )
    assert len(fake_erp.erp.documents("customer")) == len(customers)
