"""A record the pipeline writes for a known flow is written under its correlation
id: what it logs and the calls it makes out (the tax engine's) carry it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors import records as r
from connectors import tax_check, writers
from revops.actors import Actor
from revops.correlation import current_correlation_id
from revops.services.events import external_ref_link
from tests import factories as f

pytestmark = pytest.mark.django_db
CRM = Actor.for_system("crm", "connector crm-us run 1")


def _invoice(contract_external_id: str | None) -> r.InvoiceRecord:
    return r.InvoiceRecord(
        external_id="in_1",
        number="INV-1",
        customer_external_id="cus_1",
        currency="USD",
        status="open",
        tax_mode="exclusive",
        issue_date=dt.date(2026, 3, 1),
        due_date=None,
        subtotal=Decimal("100.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("100.00"),
        amount_paid=Decimal("0.00"),
        lines=(r.InvoiceLineRecord("Seats", Decimal(1), Decimal("100.00"), Decimal("100.00")),),
        contract_external_id=contract_external_id,
    )


@pytest.fixture
def known(monkeypatch):
    customer = f.CustomerFactory()
    contract = f.ContractFactory(customer=customer)
    for object_type, external_id, target in (
        ("customer", "cus_1", customer),
        ("contract", "sub_1", contract),
    ):
        external_ref_link(
            system="crm",
            object_type=object_type,
            external_id=external_id,
            target=target,
            actor=CRM,
            reason="t",
        )
    seen = []
    check = tax_check.check_invoice_tax

    def watching(rec, ctx, *, customer=None):
        seen.append(current_correlation_id())
        return check(rec, ctx, customer=customer)

    monkeypatch.setattr(tax_check, "check_invoice_tax", watching)
    ctx = writers.WriteContext(
        system="crm", actor=CRM, legal_entity=customer.legal_entity, reason="Sync crm-us run 1"
    )
    return contract, ctx, seen


def test_an_invoice_of_a_known_contract_is_checked_and_written_under_its_flow(known):
    contract, ctx, seen = known
    result = writers.write(_invoice("sub_1"), ctx)
    assert seen == [str(contract.correlation_id)]
    assert result.obj.correlation_id == contract.correlation_id
    assert current_correlation_id() is None


def test_an_invoice_of_no_known_flow_is_written_outside_any(known):
    _, ctx, seen = known
    writers.write(_invoice(None), ctx)
    assert seen == [None]
