"""The other pairs of sides: metered ⇄ billed usage, CRM deals ⇄ contracts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from reconciliation import services
from reconciliation.models import ExternalRecord, Kind
from reconciliation.runs import run_now
from revops.models import UsageRecord
from tests import factories as f
from tests.reconciliation.conftest import ADMIN, known_as
from tests.revops.usage_factories import MARCH, at, billed_contract

pytestmark = pytest.mark.django_db


def _recon(kind, **values):
    recon = services.reconciliation_save(name=str(kind), kind=kind, actor=ADMIN, reason="test", **values)
    services.rule_save(
        reconciliation=recon,
        actor=ADMIN,
        reason="test",
        position=10,
        name="Same reference",
        method="exact_reference",
    )
    return recon


def test_usage_billed_per_line_and_period_matches_and_unbilled_usage_is_a_break(db):
    billed = billed_contract()
    for n, (line, quantity) in enumerate(((billed.api, 600), (billed.api, 400), (billed.storage, 5))):
        UsageRecord.objects.create(
            contract_line=line,
            quantity=Decimal(quantity),
            usage_at=at(MARCH[0]),
            period_start=MARCH[0],
            period_end=MARCH[1],
            source="meter",
            source_event_id=f"e{n}",
        )
    recon = _recon(Kind.USAGE_BILLED)
    run = run_now(reconciliation=recon, actor=ADMIN, date_from=MARCH[0], date_to=MARCH[1])
    matched = run.lines.get(outcome="matched")
    assert (matched.left_amount, matched.right_amount) == (Decimal("1000"), Decimal("1000"))
    unbilled = run.lines.get(outcome="unmatched")
    assert unbilled.left_id == billed.storage.pk and unbilled.left_amount == 5
    assert run.breaks_opened == 1


def test_a_won_deal_matches_the_contract_that_carries_its_crm_id(db):
    customer = f.CustomerFactory(number="C-900")
    contract = f.ContractFactory(
        customer=customer, status="active", start_date=dt.date(2026, 3, 1), activated_at=timezone.now()
    )
    known_as(contract, "hubspot", "contract", "deal-77")
    for deal in ("deal-77", "deal-78"):
        ExternalRecord.objects.create(
            system="hubspot",
            object_type="deal",
            external_id=deal,
            reference=deal,
            customer_key="C-900",
            amount=0,
            currency="USD",
            status="closedwon",
            record_date=dt.date(2026, 3, 1),
            loaded_at=timezone.now(),
        )
    recon = _recon(Kind.DEALS_CONTRACTS, external_system="hubspot")
    run = run_now(
        reconciliation=recon, actor=ADMIN, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31)
    )
    assert run.lines.get(outcome="matched").right_id == contract.pk
    assert run.lines.get(outcome="unmatched").left_reference == "deal-78"


def test_usage_of_a_period_billing_has_not_passed_yet_is_not_compared(db):
    billed = billed_contract()
    april = dt.date(2026, 4, 1)
    UsageRecord.objects.create(
        contract_line=billed.api,
        quantity=Decimal(70),
        usage_at=at(april),
        period_start=april,
        period_end=dt.date(2026, 4, 30),
        source="meter",
        source_event_id="apr-1",
    )
    recon = _recon(Kind.USAGE_BILLED)
    run = run_now(reconciliation=recon, actor=ADMIN, date_from=april, date_to=dt.date(2026, 4, 30))
    assert run.left_count == 0 and run.breaks_opened == 0


def test_an_invoice_no_payment_matched_is_unpaid_not_a_break(db):
    customer = f.CustomerFactory(number="C-901")
    f.InvoiceFactory(customer=customer, number="INV-901")
    f.PaymentFactory(customer=customer, amount=Decimal("5.00"), gateway="stripe", gateway_reference="ch_901")
    recon = _recon(Kind.PAYMENTS_INVOICES)
    run = run_now(
        reconciliation=recon, actor=ADMIN, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31)
    )
    assert (run.left_unmatched, run.right_unmatched) == (1, 1)
    assert run.breaks_opened == 1  # the payment applied to nothing; the open invoice is a receivable
