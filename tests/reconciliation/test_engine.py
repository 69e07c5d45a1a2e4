"""The matching engine through whole runs: ranked rules, tolerance, automatic
against suggested, ambiguity, one-to-many and many-to-one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reconciliation import services
from reconciliation.models import Kind, Run, RunTotal
from tests import factories as f
from tests.reconciliation.conftest import ADMIN, DAY, add_rule, erp, invoice, known_as, outcomes, records, run

pytestmark = pytest.mark.django_db


def test_it_matches_the_same_number_and_amounts_automatically(erp_recon, customer):
    invoice(customer, "INV-1")
    erp("ns-1", "INV-1")
    result = run(erp_recon)
    assert result.status == Run.Status.SUCCEEDED, result.error
    seen = outcomes(result)
    assert seen[("left", "INV-1")][0] == "matched"
    assert seen[("left", "INV-1")][1] == seen[("right", "INV-1")][1]
    assert (result.left_count, result.right_count, result.matched_groups) == (1, 1, 1)
    assert result.left_unmatched == result.right_unmatched == 0


def test_it_matches_by_the_erp_external_id_when_the_numbers_differ(erp_recon, customer):
    inv = invoice(customer, "INV-2")
    erp("INV-2", "NS-778")  # the ERP renumbered it; its external id is revops' number
    assert outcomes(run(erp_recon))[("left", "INV-2")][0] == "matched"
    assert inv.pk


def test_it_only_suggests_an_amount_within_the_percent_tolerance(erp_recon, customer):
    invoice(customer, "INV-3", total="1000.00", tax="0")
    erp("ns-3", "INV-3", amount="990.00", tax="0")
    result = run(erp_recon)
    assert outcomes(result)[("left", "INV-3")][0] == "suggested"
    assert result.suggested_groups == 1 and result.matched_groups == 0


def test_it_leaves_a_difference_beyond_every_tolerance_unmatched(erp_recon, customer):
    invoice(customer, "INV-4", total="1000.00", tax="0")
    erp("ns-4", "INV-4", amount="900.00", tax="0", record_date=DAY + dt.timedelta(days=9))
    result = run(erp_recon)
    assert outcomes(result)[("left", "INV-4")][0] == "unmatched"
    assert outcomes(result)[("right", "INV-4")][0] == "unmatched"
    assert (result.left_unmatched, result.right_unmatched) == (1, 1)


def test_it_requires_the_tax_to_agree_when_the_rule_compares_it(erp_recon, customer):
    invoice(customer, "INV-5", total="108.00", tax="8.00")
    erp("ns-5", "INV-5", amount="108.00", tax="9.00")
    # Not automatic (tax differs); the amount-only suggestion rule offers it instead.
    assert outcomes(run(erp_recon))[("left", "INV-5")][0] == "suggested"


def test_it_never_matches_an_ambiguous_reference_automatically(erp_recon, customer):
    invoice(customer, "INV-6")
    erp("ns-6a", "INV-6")
    erp("ns-6b", "INV-6")
    result = run(erp_recon)
    seen = {(side, key): outcome for side, key, _, outcome, _, _ in records(result)}
    assert seen[("left", str(customer.invoices.get().pk))] == "suggested"
    assert sorted(v for (side, _), v in seen.items() if side == "right") == ["suggested", "unmatched"]


def test_it_tries_rules_in_rank_order(erp_recon, customer):
    invoice(customer, "INV-7")
    erp("ns-7", "INV-7")
    line = run(erp_recon).lines.get()
    assert line.rule_id == erp_recon.rules.get(position=10).pk


def test_it_matches_one_payment_against_several_invoices(db):
    customer = f.CustomerFactory(number="C-200")
    recon = services.reconciliation_save(
        name="Stripe ⇄ invoices", kind=Kind.PAYMENTS_INVOICES, actor=ADMIN, reason="test"
    )
    add_rule(
        recon,
        10,
        "One payment, several invoices",
        method="amount_customer_date",
        cardinality="1:N",
        date_window_days=10,
    )
    for number, total in (("INV-A", "100.00"), ("INV-B", "250.50"), ("INV-C", "49.50")):
        invoice(customer, number, total=total, tax="0")
    f.PaymentFactory(
        customer=customer,
        amount=Decimal("400.00"),
        received_date=DAY + dt.timedelta(days=5),
        gateway="stripe",
        gateway_reference="ch_1",
    )
    result = run(recon)
    seen = records(result)
    assert len(seen) == 6  # the payment on each of its three lines, and the three invoices
    assert {group for _, _, _, _, group, _ in seen} == {1}
    assert {key for side, key, *_ in seen if side == "right"} == {str(i.pk) for i in customer.invoices.all()}
    assert result.matched_groups == 1 and result.lines.count() == 3


def test_it_matches_several_instalments_against_one_invoice(db):
    customer = f.CustomerFactory(number="C-300")
    recon = services.reconciliation_save(
        name="Instalments", kind=Kind.PAYMENTS_INVOICES, actor=ADMIN, reason="test"
    )
    add_rule(recon, 10, "Instalments", method="amount_customer_date", cardinality="N:1", date_window_days=31)
    invoice(customer, "INV-D", total="300.00", tax="0")
    for n in range(3):
        f.PaymentFactory(
            customer=customer,
            amount=Decimal("100.00"),
            received_date=DAY + dt.timedelta(days=n * 10),
            gateway="stripe",
            gateway_reference=f"ch_i{n}",
        )
    result = run(recon)
    assert result.matched_groups == 1
    assert result.lines.filter(outcome="matched").count() == 3
    assert result.left_unmatched == result.right_unmatched == 0


def test_it_does_not_sum_parts_that_fall_short_of_the_whole(db):
    customer = f.CustomerFactory(number="C-301")
    recon = services.reconciliation_save(
        name="Short", kind=Kind.PAYMENTS_INVOICES, actor=ADMIN, reason="test"
    )
    add_rule(recon, 10, "Instalments", method="amount_customer_date", cardinality="N:1", date_window_days=31)
    invoice(customer, "INV-E", total="300.00", tax="0")
    for n in range(2):
        f.PaymentFactory(
            customer=customer,
            amount=Decimal("100.00"),
            received_date=DAY,
            gateway="stripe",
            gateway_reference=f"ch_s{n}",
        )
    assert run(recon).matched_groups == 0


def test_it_totals_each_side_by_currency_and_outcome(erp_recon, customer):
    invoice(customer, "INV-8", total="100.00", tax="0")
    invoice(customer, "INV-9", total="50.00", tax="0")
    erp("ns-8", "INV-8", amount="100.00", tax="0")
    result = run(erp_recon)
    totals = {
        (t.side, t.currency, t.outcome): (t.count, t.amount) for t in RunTotal.objects.filter(run=result)
    }
    assert totals == {
        ("left", "USD", "matched"): (1, Decimal("100.0000")),
        ("left", "USD", "unmatched"): (1, Decimal("50.0000")),
        ("right", "USD", "matched"): (1, Decimal("100.0000")),
    }


def test_it_leaves_draft_invoices_and_other_systems_out(erp_recon, customer):
    invoice(customer, "INV-10", status="draft")
    erp("hs-1", "INV-10", system="hubspot")
    result = run(erp_recon)
    assert result.left_count == 0 and result.right_count == 0


@pytest.mark.parametrize(
    "text", ["inv-2026/0042", "RE 2026.0042", "  a-b/c.d  ", "Überweisung 12-3", "no-separators", ""]
)
def test_it_normalises_references_the_same_in_sql_and_in_python(text):
    from django.db import connection

    from reconciliation import sql

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql.normalised('%s')}", [text])
        assert cursor.fetchone()[0] == sql.normalise_reference(text)


def test_it_matches_when_only_the_two_systems_other_ids_agree(erp_recon, customer):
    """Billing knows the invoice by NetSuite's id (an ExternalRef), the ERP names it by
    that id too and by a number of its own: the further references pair them."""
    known_as(invoice(customer, "INV-70"), "netsuite", "invoice", "ns/7001")
    erp("NS-7001", "NSX-42")  # neither its number nor revops' number
    erp("NS-7002", "NSX-43", amount="55.00", tax="0")  # its own id names nothing in billing
    result = run(erp_recon)
    seen = outcomes(result)
    assert seen[("left", "INV-70")][0] == "matched"
    assert seen[("right", "NSX-42")][0] == "matched"
    assert seen[("right", "NSX-43")][0] == "unmatched"
    assert (result.matched_groups, result.right_unmatched) == (1, 1)


def test_it_matches_automatically_up_to_the_rules_amount_and_not_a_cent_more(erp_recon, customer):
    invoice(customer, "INV-80", total="108.00", tax="8.00")
    erp("ns-80", "INV-80", amount="108.01", tax="8.01")  # the rule allows 0.01
    invoice(customer, "INV-81", total="108.00", tax="8.00")
    erp("ns-81", "INV-81", amount="107.98", tax="8.00")  # 0.02 off: only the 2 % rule suggests it
    seen = outcomes(run(erp_recon))
    assert seen[("left", "INV-80")][0] == "matched"
    assert seen[("left", "INV-81")][0] == "suggested"
