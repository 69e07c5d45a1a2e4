"""Bulk writes hand each listener the events of the types it names, once per
record, and every event to a listener that names none; the ERP posting and
AvaTax listeners name theirs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from connectors import posting
from connectors.avalara import commits
from revops.actors import Actor
from revops.models import BusinessEvent
from revops.services import billing, bulk, event_listeners
from tests import factories as f

pytestmark = pytest.mark.django_db

SYSTEM = Actor.for_system("crm", "connector crm-eu, run 7")


def _write(entity):
    customers = bulk.customers_create_many(
        specs=[
            bulk.CustomerSpec(
                number=f"C-{i}", name=f"Customer {i}", legal_entity=entity, currency="USD", country="US"
            )
            for i in range(3)
        ],
        actor=SYSTEM,
        reason="Sync crm-eu run 7",
    ).objects
    bulk.invoices_create_many(
        specs=[
            bulk.InvoiceSpec(
                number=f"INV-{i}",
                customer=customer,
                issue_date=dt.date(2026, 3, 1),
                lines=[billing.InvoiceLineSpec("Seats", 2, "12.50")],
                issue=i != 2,  # the last one stays a draft: no invoice.issued
            )
            for i, customer in enumerate(customers)
        ],
        actor=SYSTEM,
        reason="Sync crm-eu run 7",
    )


def test_a_listener_hears_only_the_types_it_names_once_per_record():
    typed, untyped = [], []

    def invoices_only(event, subject):
        typed.append((event.type, subject.number))

    invoices_only.event_types = ("invoice.issued",)
    invoices_only.batch = lambda pairs: typed.extend((e.type, s.number) for e, s in pairs)

    def everything(event, subject):
        untyped.append((event.type, subject.number))

    entity = f.LegalEntityFactory()
    for listener in (invoices_only, everything):
        event_listeners.register_event_listener(listener)
    try:
        with transaction.atomic():
            _write(entity)
            written = sorted(BusinessEvent.objects.values_list("type", "subject_label"))
            transaction.set_rollback(True)
    finally:
        for listener in (invoices_only, everything):
            event_listeners.unregister_event_listener(listener)
    assert sorted(typed) == [("invoice.issued", "INV-0"), ("invoice.issued", "INV-1")]
    assert sorted(untyped) == sorted(
        [("customer.created", f"C-{i}") for i in range(3)]
        + [("invoice.issued", "INV-0"), ("invoice.issued", "INV-1")]
    )
    assert len(written) == len(untyped) == 5  # every event written was heard by the one naming none


def test_the_connectors_listeners_name_the_types_they_act_on():
    assert posting.on_business_event.event_types == posting.EVENT_TYPES
    assert commits.on_business_event.event_types == commits.EVENT_TYPES
    assert event_listeners.listening_to("invoice.issued")
    assert not event_listeners.listening_to("customer.created")
