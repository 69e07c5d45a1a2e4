"""Breaks: unmatched records open RECONCILIATION_BREAK items, one per record,
counted again by later runs and resolved by the run that matches them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from exceptions_queue.models import ExceptionItem, RoutingRule
from exceptions_queue.services import exception_resubmit
from reconciliation.breaks import STEP_KEY
from revops.actors import Actor
from tests.reconciliation.conftest import erp, invoice, run

pytestmark = pytest.mark.django_db


def breaks():
    return ExceptionItem.objects.filter(code="RECONCILIATION_BREAK").order_by("id")


def test_it_opens_a_break_for_an_invoice_missing_from_the_erp(erp_recon, customer):
    inv = invoice(customer, "INV-20", total="250.00", tax="0")
    result = run(erp_recon)
    item = breaks().get()
    assert result.breaks_opened == 1
    assert item.step_key == STEP_KEY and item.status == "new"
    assert item.subject == inv and item.customer == customer
    assert item.amount == 250 and item.currency == "USD"
    assert "INV-20" in item.title and "no match in ERP invoices" in item.title
    assert item.payload["side"] == "left" and item.payload["source_key"] == str(inv.pk)
    assert item.history.count() == 1


def test_it_counts_the_same_break_again_instead_of_opening_another(erp_recon, customer):
    invoice(customer, "INV-21")
    run(erp_recon)
    second = run(erp_recon)
    item = breaks().get()
    assert (second.breaks_opened, second.breaks_seen_again) == (0, 1)
    assert item.occurrences == 2
    assert item.history.first().history_change_reason == "Seen again (2 times)"


def test_it_resolves_the_break_when_a_later_run_matches_it(erp_recon, customer):
    invoice(customer, "INV-22")
    run(erp_recon)
    erp("ns-22", "INV-22")  # the invoice reaches the ERP
    later = run(erp_recon)
    item = breaks().get()
    assert later.breaks_resolved == 1
    assert item.status == "resolved" and f"Matched by run {later.pk}" in item.resolution_note
    assert item.history.first().history_actor.startswith("reconciliation Billing")


def test_it_names_the_fields_that_differ_from_the_other_side(erp_recon, customer):
    invoice(customer, "INV-23", total="1000.00", tax="80.00")
    erp("ns-23", "INV-23", amount="700.00", tax="56.00")
    run(erp_recon)
    left = breaks().get(payload__side="left")
    assert "differs from ERP invoices (amount, tax)" in left.title
    assert {d["field"]: (d["actual"], d["expected"]) for d in left.error_details} == {
        "amount": ("1000.0000", "700.0000"),
        "tax_amount": ("80.0000", "56.0000"),
    }
    assert breaks().filter(payload__side="right").count() == 1


def test_it_routes_breaks_like_any_exception(erp_recon, customer):
    team = Group.objects.create(name="Cash team")
    RoutingRule.objects.create(
        name="Breaks", position=1, team=team, codes=["RECONCILIATION_BREAK"], sla_hours=8
    )
    invoice(customer, "INV-24")
    run(erp_recon)
    item = breaks().get()
    assert item.team == team and item.due_at is not None
    assert "routed to Cash team" in item.history.get().history_change_reason


def test_resubmitting_with_a_correction_is_refused_with_what_to_do(erp_recon, customer, analyst):
    invoice(customer, "INV-27")
    run(erp_recon)
    item = exception_resubmit(
        item=breaks().get(), actor=Actor.for_user(analyst), reason="Fix", correction={"amount": "1"}
    )
    assert item.status == "new"
    assert "correct it there" in item.message


def test_a_difference_seen_again_unchanged_is_counted_not_rewritten(erp_recon, customer):
    invoice(customer, "INV-26", total="1000.00", tax="80.00")
    erp("ns-26", "INV-26", amount="700.00", tax="56.00")
    run(erp_recon)
    second = run(erp_recon)
    left = breaks().get(payload__side="left")
    assert (second.breaks_opened, second.breaks_seen_again) == (0, 2)
    assert left.occurrences == 2 and len(left.error_details) == 2
    assert left.history.first().history_change_reason == "Seen again (2 times)"


def test_each_step_of_a_break_has_its_history_row(erp_recon, customer):
    invoice(customer, "INV-27", total="500.00", tax="0")
    first = run(erp_recon)
    run(erp_recon)
    erp("ns-27", "INV-27", amount="500.00", tax="0")
    last = run(erp_recon)
    item = breaks().get()
    rows = list(item.history.order_by("history_date", "history_id"))
    assert [row.history_type for row in rows] == ["+", "~", "~"]
    assert [row.history_change_reason.split(":")[0] for row in rows] == [
        "Opened",
        "Seen again (2 times)",
        "Resolved",
    ]
    assert [(row.status, row.occurrences) for row in rows] == [("new", 1), ("new", 2), ("resolved", 2)]
    assert all(row.amount == 500 and row.dedupe_key == item.dedupe_key for row in rows)
    assert rows[0].history_actor == f"reconciliation {erp_recon.name}, run {first.pk}"
    assert rows[-1].resolution_note == f"Matched by run {last.pk} of {erp_recon.name}"


def test_it_resolves_a_break_whose_key_was_shortened_by_its_payload(erp_recon, customer):
    """An ERP id too long for a dedupe key is kept whole in the break's payload,
    which is how a later run that matches the record finds the break."""
    long_id = "ns-" + "7" * 240
    erp(long_id, "NSX-24")  # the ERP has an invoice billing does not
    run(erp_recon)
    item = breaks().get()
    assert "#" in item.dedupe_key and item.payload["source_key"] == long_id
    invoice(customer, "NSX-24")  # billing issues it under the ERP's number
    later = run(erp_recon)
    item.refresh_from_db()
    assert later.breaks_resolved == 1 and item.status == "resolved"
