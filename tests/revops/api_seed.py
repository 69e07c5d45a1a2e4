"""A small, deterministic data set for the API contract tests: one of every
resource the API serves, made through the services where they exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from connectors.models import Connector, SyncRun
from exceptions_queue.models import BulkAction
from exceptions_queue.services import exception_open
from revops.actors import Actor
from revops.services import billing, payments
from revops.services.events import external_ref_link
from tests import factories as f
from tests.revops.usage_factories import billed_contract

SEED = Actor.for_system("tests", "api seed")


def seed(user) -> dict:
    billed = billed_contract()
    invoice = billed.invoice
    external_ref_link(
        system="stripe",
        object_type="invoice",
        external_id="in_seed",
        target=invoice,
        actor=SEED,
        reason="seed",
    )
    note = billing.credit_note_issue(
        invoice=invoice,
        number="CN-SEED",
        issue_date=dt.date(2026, 4, 2),
        lines=[billing.CreditLineSpec("Goodwill", Decimal("1.00"), tax_amount=Decimal("0"))],
        actor=SEED,
        reason="seed",
    )
    payment = f.PaymentFactory(customer=billed.customer, amount=Decimal("5.00"))
    payments.payment_apply(payment=payment, invoice=invoice, amount=Decimal("5.00"), actor=SEED)
    item = exception_open(
        code="UNKNOWN_CUSTOMER",
        dedupe_key="UNKNOWN_CUSTOMER|seed|invoice|in_x",
        title="Invoice in_x: customer cus_x unknown",
        message="The invoice names a customer revops does not know.",
        step_key="seed.invoice",
        actor=SEED,
        payload={"id": "in_x", "customer": "cus_x", "total": 100},
        error_details=[{"field": "customer", "path": "customer", "message": "Unknown customer"}],
    )[0]
    connector = Connector.objects.create(
        name="seed-memory", kind="memory", legal_entity=billed.customer.legal_entity
    )
    run = SyncRun.objects.create(connector=connector, trigger="manual", status="succeeded", read=1, created=1)
    bulk = BulkAction.objects.create(action="dismiss", total=0, created_by=user, finished_at=timezone.now())
    return {
        "invoice": invoice,
        "credit_note": note,
        "payment": payment,
        "item": item,
        "connector": connector,
        "run": run,
        "bulk": bulk,
        "contract": billed.contract,
        "customer": billed.customer,
        "usage_line": billed.storage,
    }
