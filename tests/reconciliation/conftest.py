"""Reconciliation fixtures: a billing ⇄ ERP reconciliation with the usual ranked
rules, and helpers that write invoices and ERP snapshot rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from reconciliation import services
from reconciliation.models import ExternalRecord, Kind
from reconciliation.runs import run_now
from revops.actors import Actor
from tests import factories as f

DAY = dt.date(2026, 3, 10)
ADMIN = Actor.for_system("tests", "reconciliation tests")


def add_rule(recon, position, name, **values):
    return services.rule_save(
        reconciliation=recon, actor=ADMIN, reason="test setup", position=position, name=name, **values
    )


@pytest.fixture
def erp_recon(db):
    recon = services.reconciliation_save(
        name="Billing ⇄ NetSuite",
        kind=Kind.INVOICES_ERP,
        external_system="netsuite",
        lookback_days=3000,  # resubmission runs up to today
        actor=ADMIN,
        reason="test setup",
    )
    add_rule(
        recon,
        10,
        "Same number, same amounts",
        method="exact_reference",
        amount_tolerance="0.01",
        compare_tax=True,
    )
    add_rule(
        recon,
        20,
        "Same number, amount within 2 %",
        method="exact_reference",
        tolerance_percent="2",
        action="suggest",
    )
    add_rule(
        recon,
        30,
        "Same customer and amount within 3 days",
        method="amount_customer_date",
        date_window_days=3,
        action="suggest",
    )
    return recon


@pytest.fixture
def customer(db):
    return f.CustomerFactory(number="C-100")


def invoice(customer, number, total="108.00", tax="8.00", issue_date=DAY, **extra):
    total, tax = Decimal(total), Decimal(tax)
    return f.InvoiceFactory(
        customer=customer,
        number=number,
        total=total,
        tax_total=tax,
        subtotal=total - tax,
        amount_due=total,
        issue_date=issue_date,
        due_date=issue_date + dt.timedelta(days=30),
        **extra,
    )


def erp(
    external_id,
    reference,
    amount="108.00",
    tax="8.00",
    customer_key="C-100",
    record_date=DAY,
    status="open",
    system="netsuite",
    object_type="invoice",
):
    return ExternalRecord.objects.update_or_create(
        system=system,
        object_type=object_type,
        external_id=external_id,
        defaults=dict(
            reference=reference,
            customer_key=customer_key,
            amount=Decimal(amount),
            tax_amount=Decimal(tax),
            currency="USD",
            status=status,
            record_date=record_date,
            loaded_at=timezone.now(),
        ),
    )[0]


def known_as(obj, system, object_type, external_id):
    """Record that another system knows `obj` by `external_id` (an ExternalRef)."""
    from django.contrib.contenttypes.models import ContentType

    from revops.models import ExternalRef

    return ExternalRef.objects.create(
        system=system,
        object_type=object_type,
        external_id=external_id,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
    )


def run(recon, *, actor=ADMIN):
    return run_now(
        reconciliation=recon,
        actor=actor,
        date_from=DAY - dt.timedelta(days=40),
        date_to=DAY + dt.timedelta(days=40),
    )


def records(run):
    """[(side, source key, reference, outcome, group, rule id)] of every record in a run's lines."""
    seen = []
    for line in run.lines.all():
        for side in ("left", "right"):
            key = getattr(line, f"{side}_key")
            if key:
                seen.append(
                    (side, key, getattr(line, f"{side}_reference"), line.outcome, line.group_no, line.rule_id)
                )
    return seen


def outcomes(run):
    """{(side, reference): (outcome, group)} of a run's records."""
    return {(side, ref): (outcome, group) for side, _, ref, outcome, group, _ in records(run)}
