"""Contracts: activation, amendments that never overwrite the past, expiry, usage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, Contract, ContractLine, UsageRecord
from revops.services.contracts import (
    LineChange,
    LineSpec,
    contract_activate,
    contract_amend,
    contract_cancel,
    contract_create,
    contracts_expire_due,
    usage_record,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

CRM = Actor.for_system("hubspot", "connector hubspot, run 1")


@pytest.fixture
def contract():
    product = f.ProductFactory(sku="SEAT")
    contract = contract_create(
        number="CT-1",
        customer=f.CustomerFactory(),
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        billing_frequency="monthly",
        lines=[LineSpec(product, Decimal("10"), Decimal("12.50"))],
        actor=CRM,
    )
    return contract_activate(contract=contract, actor=CRM)


def test_it_activates_and_records_the_event_with_the_correlation_id(contract):
    assert contract.status == Contract.Status.ACTIVE and contract.activated_at is not None
    event = BusinessEvent.objects.get(type="contract.activated")
    assert event.correlation_id == contract.correlation_id


def test_an_amendment_closes_the_old_line_and_adds_a_successor(contract):
    old = contract.lines.get()
    old_rows_before = old.history.count()
    amendment = contract_amend(
        contract=contract,
        effective_date=dt.date(2026, 4, 1),
        changes=[LineChange(line=old, quantity=Decimal("15"))],
        actor=CRM,
        reason="Upsell: 5 more seats",
    )
    old.refresh_from_db()
    new = old.replaced_by
    assert (old.quantity, old.effective_from, old.effective_to) == (
        Decimal("10"),
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
    )
    assert old.ended_by == amendment
    assert (new.quantity, new.unit_price, new.effective_from, new.effective_to) == (
        Decimal("15"),
        Decimal("12.50"),
        dt.date(2026, 4, 1),
        dt.date(2027, 1, 1),
    )
    assert new.amendment == amendment and amendment.sequence == 1
    # The past is not overwritten: the old line's only change is its end date.
    latest, previous = old.history.all()[:2]
    assert old.history.count() == old_rows_before + 1
    assert [c.field for c in latest.diff_against(previous).changes] == ["effective_to", "ended_by"]
    assert new.history.get().history_change_reason == "Upsell: 5 more seats"


def test_it_refuses_amending_a_line_that_is_no_longer_in_effect(contract):
    old = contract.lines.get()
    contract_amend(
        contract=contract,
        effective_date=dt.date(2026, 4, 1),
        changes=[LineChange(line=old, quantity=1)],
        actor=CRM,
        reason="down",
    )
    with pytest.raises(DomainValidationError) as excinfo:
        contract_amend(
            contract=contract,
            effective_date=dt.date(2026, 6, 1),
            changes=[LineChange(line=old, quantity=2)],
            actor=CRM,
            reason="again",
        )
    assert "not in effect" in str(excinfo.value)
    assert ContractLine.objects.count() == 2


def test_it_refuses_an_amendment_dated_outside_the_term_or_at_the_line_start(contract):
    line = contract.lines.get()
    for day in (dt.date(2025, 12, 1), dt.date(2027, 2, 1), dt.date(2026, 1, 1)):
        with pytest.raises(DomainValidationError):
            contract_amend(
                contract=contract,
                effective_date=day,
                changes=[LineChange(line=line, quantity=3)],
                actor=CRM,
                reason="x",
            )
    assert contract.amendments.count() == 0 and ContractLine.objects.count() == 1


def test_it_can_add_and_end_lines_in_one_amendment(contract):
    line = contract.lines.get()
    storage = f.ProductFactory(sku="GB")
    contract_amend(
        contract=contract,
        effective_date=dt.date(2026, 7, 1),
        changes=[LineChange(line=line, end=True)],
        new_lines=[LineSpec(storage, Decimal("100"), Decimal("0.10"))],
        actor=CRM,
        reason="Swap seats for storage",
    )
    line.refresh_from_db()
    assert line.effective_to == dt.date(2026, 7, 1) and not hasattr(line, "replaced_by")
    assert contract.lines.get(product=storage).effective_from == dt.date(2026, 7, 1)


def test_cancelling_ends_running_lines(contract):
    contract_cancel(
        contract=contract, effective_date=dt.date(2026, 5, 15), actor=CRM, reason="Customer churned"
    )
    contract.refresh_from_db()
    assert contract.status == "cancelled" and contract.end_date == dt.date(2026, 5, 14)
    assert contract.lines.get().effective_to == dt.date(2026, 5, 15)


def test_it_expires_contracts_past_their_end_date_once(contract):
    job = Actor.for_system("revops", "scheduled job expire_contracts")
    assert contracts_expire_due(today=dt.date(2026, 12, 31), actor=job) == 0
    assert contracts_expire_due(today=dt.date(2027, 1, 1), actor=job) == 1
    assert contracts_expire_due(today=dt.date(2027, 1, 2), actor=job) == 0
    contract.refresh_from_db()
    assert contract.status == "expired"
    assert contract.history.first().history_actor == "scheduled job expire_contracts"


def test_usage_is_idempotent_on_its_source_event_id(contract):
    line = contract.lines.get()
    at = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
    first, created = usage_record(
        contract_line=line, quantity="42", usage_at=at, source="meter", source_event_id="ev-1", actor=CRM
    )
    again, created_again = usage_record(
        contract_line=line, quantity="42", usage_at=at, source="meter", source_event_id="ev-1", actor=CRM
    )
    assert created and not created_again and first.pk == again.pk
    assert (first.period_start, first.period_end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert UsageRecord.objects.count() == 1


def test_usage_outside_the_line_is_refused(contract):
    with pytest.raises(DomainValidationError) as excinfo:
        usage_record(
            contract_line=contract.lines.get(),
            quantity="1",
            usage_at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
            source="meter",
            source_event_id="ev-9",
            actor=CRM,
        )
    assert "not in effect" in str(excinfo.value)
    assert not UsageRecord.objects.exists()


def test_a_draft_contract_without_lines_cannot_be_activated():
    draft = contract_create(
        number="CT-2",
        customer=f.CustomerFactory(),
        start_date=dt.date(2026, 1, 1),
        billing_frequency="annual",
        actor=CRM,
    )
    with pytest.raises(DomainValidationError) as excinfo:
        contract_activate(contract=draft, actor=CRM)
    assert "at least one line" in str(excinfo.value)
    draft.refresh_from_db()
    assert draft.status == "draft"
