"""Detail pages and the dashboard: related objects, the amendment timeline,
usage, credits, applications and the quote-to-cash trail."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from revops.actors import Actor
from revops.services.billing import CreditLineSpec, InvoiceLineSpec, credit_note_issue, invoice_create
from revops.services.contracts import (
    LineChange,
    LineSpec,
    contract_activate,
    contract_amend,
    contract_create,
    usage_record,
)
from revops.services.payments import payment_apply, payment_receive
from tests import factories as f

pytestmark = pytest.mark.django_db

CPQ = Actor.for_system("salesforce_cpq", "connector cpq, run 3")
BILLING = Actor.for_system("stripe", "connector stripe, run 8")


@pytest.fixture(autouse=True)
def fresh_totals():
    """The dashboard keeps its money totals for a minute; each test starts afresh."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def signed_in(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def amended_contract():
    seats = f.ProductFactory(sku="SEAT", name="Platform seat")
    api = f.ProductFactory(sku="API", name="API calls", unit_label="call")
    contract = contract_create(
        number="CT-9",
        customer=f.CustomerFactory(name="Pied Piper"),
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        billing_frequency="monthly",
        lines=[
            LineSpec(seats, Decimal("10"), Decimal("12.50")),
            LineSpec(api, Decimal("0"), Decimal("0.01")),
        ],
        actor=CPQ,
    )
    contract_activate(contract=contract, actor=CPQ)
    seat_line = contract.lines.get(product=seats)
    contract_amend(
        contract=contract,
        effective_date=dt.date(2026, 4, 1),
        changes=[LineChange(line=seat_line, quantity=Decimal("15"))],
        actor=CPQ,
        reason="Upsell: 5 more seats",
    )
    api_line = contract.lines.get(product=api)
    usage_record(
        contract_line=api_line,
        quantity="1500",
        usage_at=dt.datetime(2026, 2, 3, tzinfo=dt.UTC),
        source="meter",
        source_event_id="evt-1",
        actor=CPQ,
    )
    usage_record(
        contract_line=api_line,
        quantity="500",
        usage_at=dt.datetime(2026, 2, 9, tzinfo=dt.UTC),
        source="meter",
        source_event_id="evt-2",
        actor=CPQ,
    )
    return contract


def test_the_contract_page_shows_the_amendment_timeline_and_usage(signed_in, amended_contract):
    html = signed_in.get(reverse("contract_detail", args=[amended_contract.pk])).content.decode()
    old, new = amended_contract.lines.filter(product__sku="SEAT").order_by("effective_from")
    assert "As signed" in html
    assert "Amendment 1</strong> — Upsell: 5 more seats" in html
    assert f"replaced by #{old.pk}" not in html
    assert f"replaced by #{new.pk}" in html
    assert f"replaces #{old.pk}" in html
    assert "2026-04-01" in html
    # Usage: both February records summed for the API line.
    assert "2,000 call" in html


def test_the_contract_history_lists_lines_and_amendments(signed_in, amended_contract):
    html = signed_in.get(reverse("contract_history", args=[amended_contract.pk])).content.decode()
    assert "Amendment 1" in html
    assert "Upsell: 5 more seats" in html
    assert "connector cpq, run 3" in html


@pytest.fixture
def settled_invoice():
    customer = f.CustomerFactory(name="Aviato")
    invoice = invoice_create(
        number="INV-77",
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Seats", 10, "12.50", tax_rate="8", tax_jurisdiction="CA")],
        actor=BILLING,
    )
    credit_note_issue(
        invoice=invoice,
        number="CN-1",
        issue_date=dt.date(2026, 3, 5),
        lines=[CreditLineSpec("Service outage", "10.00", invoice_line=invoice.lines.get())],
        actor=BILLING,
        reason="Outage credit",
    )
    payment = payment_receive(
        number="PAY-77",
        legal_entity=invoice.legal_entity,
        amount="50.00",
        currency="USD",
        received_date=dt.date(2026, 3, 10),
        method="card",
        customer=customer,
        actor=BILLING,
    )
    payment_apply(payment=payment, invoice=invoice, actor=BILLING)
    invoice.refresh_from_db()
    return invoice


def test_the_invoice_page_shows_lines_credits_and_applications(signed_in, settled_invoice):
    html = signed_in.get(reverse("invoice_detail", args=[settled_invoice.pk])).content.decode()
    assert "Seats" in html and "CA" in html
    assert "CN-1" in html and "Service outage" in html
    assert "PAY-77" in html
    assert "125.00 USD" in html  # subtotal
    assert "135.00 USD" in html  # total with 8 % tax
    assert "74.20 USD" in html  # due after the payment and the credit with its tax
    assert "50.00 USD" in html  # applied payment
    assert "invoice.created" in html or "invoice.issued" in html  # the correlation trail


def test_the_payment_page_shows_where_the_cash_went(signed_in, settled_invoice):
    payment = settled_invoice.applications.get().payment
    html = signed_in.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    assert "INV-77" in html
    assert "0.00 USD" in html  # nothing unapplied


def test_the_invoice_history_includes_payment_applications(signed_in, settled_invoice):
    html = signed_in.get(reverse("invoice_history", args=[settled_invoice.pk])).content.decode()
    assert "Payment application" in html
    assert "connector stripe, run 8" in html


def test_the_dashboard_counts_and_sums_per_currency(signed_in, settled_invoice):
    f.InvoiceFactory(currency="EUR", number="INV-EUR")
    html = signed_in.get(reverse("dashboard")).content.decode()
    assert "Open invoices" in html
    assert f"{settled_invoice.amount_due:,.2f} USD" in html
    assert "108.00 EUR" in html
    assert "Recent changes" in html and "Invoice INV-77" in html
    assert "Amounts summed at" in html


def test_the_dashboard_totals_are_kept_for_a_minute(signed_in, settled_invoice):
    first = signed_in.get(reverse("dashboard")).context["board"]
    f.InvoiceFactory(currency="GBP")
    again = signed_in.get(reverse("dashboard")).context["board"]
    assert again.totals_at == first.totals_at
    assert "GBP" not in {row.currency for row in again.open_ar}


def test_an_unknown_object_is_a_404_with_a_way_back(signed_in):
    response = signed_in.get(reverse("invoice_detail", args=[999999]))
    assert response.status_code == 404
    assert "Back to the dashboard" in response.content.decode()


def test_the_products_page_lists_prices(signed_in):
    from revops.models import Price

    product = f.ProductFactory(sku="SEAT-X", name="Seat X")
    Price.objects.create(product=product, currency="EUR", unit_amount="9.5", active_from=dt.date(2026, 1, 1))
    html = signed_in.get(reverse("product_list"), {"q": "seat-x"}).content.decode()
    assert "SEAT-X" in html and "9.50 EUR from 2026-01-01" in html


def test_detail_pages_do_not_query_per_row(
    signed_in, settled_invoice, amended_contract, django_assert_max_num_queries
):
    customer = settled_invoice.customer
    for n in range(20):
        f.ContactFactory(customer=customer, email=f"c{n}@x.example")
        f.InvoiceFactory(customer=customer)
    with django_assert_max_num_queries(20):
        signed_in.get(reverse("customer_detail", args=[customer.pk]))
    with django_assert_max_num_queries(20):
        signed_in.get(reverse("invoice_detail", args=[settled_invoice.pk]))
    with django_assert_max_num_queries(20):
        signed_in.get(reverse("contract_detail", args=[amended_contract.pk]))
    with django_assert_max_num_queries(25):
        signed_in.get(reverse("customer_history", args=[customer.pk]))


def test_other_apps_can_add_a_top_bar_link(signed_in, client, no_role_user):
    from revops.web import nav

    nav.register_nav_item("Reports", "product_list", permission="revops.view_product", order=5)
    try:
        html = signed_in.get(reverse("dashboard")).content.decode()
        assert re.search(r'<a href="/products/"[^>]*>Reports</a>', html)
        nav.register_nav_item("Secret", "login", permission="revops.no_such_permission")
        assert "Secret" not in signed_in.get(reverse("dashboard")).content.decode()
    finally:
        nav._ITEMS.pop("product_list", None)
        nav._ITEMS.pop("login", None)
