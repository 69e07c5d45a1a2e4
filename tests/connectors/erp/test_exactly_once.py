"""Three hundred invoices post exactly once while the ERP drops 30 % of its answers
after committing: ERP documents = canonical documents, no duplicates.

Three hundred are enough: at that fault rate about a hundred answers are dropped, so
each path a dropped answer can take is walked many times (an invoice found by its
external id on the next attempt, a customer upserted again, a posting first made on
a retry), and the test asserts that each was. More invoices only repeat those paths;
REVOPS_ERP_EXACTLY_ONCE_INVOICES runs it with more (e.g. 2000).

The invoices and their postings are written in bulk (what issuing them through the
services creates is covered in test_posting); the sending is the worker's code."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from connectors import posting as p
from connectors.models import OutboundPosting
from revops import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db
INVOICES = int(os.environ.get("REVOPS_ERP_EXACTLY_ONCE_INVOICES", "300"))


def _open_invoices(customers, count: int) -> list[m.Invoice]:
    entity = customers[0].legal_entity
    return m.Invoice.objects.bulk_create(
        [
            m.Invoice(
                number=f"EO-{n:06d}",
                customer=customers[n % len(customers)],
                legal_entity=entity,
                currency="USD",
                issue_date=dt.date(2026, 3, 1),
                due_date=dt.date(2026, 3, 31),
                status=m.Invoice.Status.OPEN,
                subtotal=Decimal("100.00"),
                tax_total=Decimal("8.00"),
                total=Decimal("108.00"),
                amount_due=Decimal("108.00"),
            )
            for n in range(count)
        ],
        batch_size=500,
    )


def test_it_posts_every_invoice_exactly_once_despite_dropped_answers(erp_connector, fake_erp):
    customers = [f.CustomerFactory() for _ in range(20)]
    invoices = _open_invoices(customers, INVOICES)
    invoice_type = ContentType.objects.get_for_model(m.Invoice)
    OutboundPosting.objects.bulk_create(
        [
            OutboundPosting(
                connector=erp_connector,
                content_type=invoice_type,
                object_id=invoice.pk,
                document_label=invoice.number,
                action="create",
                revision=1,
                record_type="invoice",
                external_id=f"INV-US01-{invoice.number}",
                idempotency_key=p.idempotency_key(erp_connector, invoice, 1, "create"),
                correlation_id=invoice.correlation_id,
            )
            for invoice in invoices
        ],
        batch_size=500,
    )
    # The fake would take a second copy of an external id: only the lookup prevents duplicates.
    fake_erp.erp.control({"fault": "drop", "probability": 0.3, "unique_external_ids": False})

    for _ in range(50):
        due = list(OutboundPosting.objects.filter(status__in=p.CLAIMABLE).values_list("pk", flat=True))
        if not due:
            break
        for posting_id in due:
            p.posting_send(posting_id)

    counts = fake_erp.erp.state()["counts"]
    assert counts["dropped"] > INVOICES * 0.2  # the fault really struck
    # Every path a dropped answer leads to was taken: posted at the first attempt, found
    # by external id after a dropped answer, and a customer upserted again (the fake
    # counts an upsert of an existing record as an update).
    assert OutboundPosting.objects.filter(attempts=1).exists()
    assert OutboundPosting.objects.filter(response__has_key="found_by_external_id").count() > INVOICES * 0.2
    assert counts["updated"] > 0
    documents = fake_erp.erp.documents("invoice")
    external_ids = [d["externalId"] for d in documents]
    assert len(external_ids) == INVOICES
    assert set(external_ids) == {f"INV-US01-{invoice.number}" for invoice in invoices}
    assert OutboundPosting.objects.filter(status=OutboundPosting.Status.POSTED).count() == INVOICES
    erp_ids = {d["externalId"]: d["id"] for d in documents}
    assert all(
        erp_ids[ext] == erp_id for ext, erp_id in OutboundPosting.objects.values_list("external_id", "erp_id")
    )
    assert len(fake_erp.erp.documents("customer")) == len(customers)
