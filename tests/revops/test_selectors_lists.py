"""List selectors and pagination: filters, whitelisted sorts, bounded counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from revops.actors import Actor
from revops.models import Customer
from revops.selectors.contracts import contract_detail
from revops.selectors.customers import CUSTOMER_SORTS, customer_balances, customer_list
from revops.selectors.dashboard import capped_count
from revops.selectors.invoices import INVOICE_SORTS, invoice_list
from revops.selectors.payments import payment_list
from revops.services.events import external_ref_link
from revops.web.pagination import max_page, paginate
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_unknown_sort_falls_back_to_the_default():
    f.CustomerFactory(name="b"), f.CustomerFactory(name="a")
    assert [c.name for c in customer_list(sort="'; drop table --")] == ["a", "b"]


@pytest.mark.parametrize("sorts", [CUSTOMER_SORTS, INVOICE_SORTS])
def test_every_sort_is_a_plain_column_order(sorts):
    for key, columns in sorts.items():
        assert columns[0].lstrip("-") == key.lstrip("-")


def test_external_id_search_is_scoped_to_the_object_type():
    customer = f.CustomerFactory()
    invoice = f.InvoiceFactory(customer=customer)
    actor = Actor.for_system("stripe", "connector stripe")
    external_ref_link(
        system="stripe",
        object_type="customer",
        external_id="cus_1",
        target=customer,
        actor=actor,
        reason="sync",
    )
    external_ref_link(
        system="stripe", object_type="invoice", external_id="in_1", target=invoice, actor=actor, reason="sync"
    )
    assert list(customer_list(q="cus_1")) == [customer]
    assert list(customer_list(q="in_1")) == []
    assert list(invoice_list(q="in_1")) == [invoice]


def test_invoice_filters_combine():
    keep = f.InvoiceFactory(currency="EUR", issue_date=dt.date(2026, 5, 1), due_date=dt.date(2026, 5, 31))
    f.InvoiceFactory(currency="USD", issue_date=dt.date(2026, 5, 1), due_date=dt.date(2026, 5, 31))
    f.InvoiceFactory(currency="EUR", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 1, 31))
    found = invoice_list(
        currency="EUR", issued_from=dt.date(2026, 4, 1), status="open", customer_id=keep.customer_id
    )
    assert list(found) == [keep]


def test_payment_search_finds_by_customer_number():
    payment = f.PaymentFactory()
    f.PaymentFactory()
    assert list(payment_list(q=payment.customer.number)) == [payment]


def test_paginate_counts_with_a_limited_subquery(settings):
    settings.REVOPS_LIST_COUNT_CAP = 100
    entity = f.LegalEntityFactory()
    Customer.objects.bulk_create(
        [
            Customer(number=f"C{n}", name=f"N{n}", legal_entity=entity, currency="USD", country="US")
            for n in range(120)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        page = paginate(customer_list(), page="2", params={"status": ""})
    assert (page.count, page.count_capped, page.count_label) == (100, True, "100+")
    # Page 2 is the deepest allowed (cap / 50): there is no "next", only advice to filter.
    assert page.number == 2 and len(page.items) == 50 and not page.has_next and page.at_max_page
    assert page.num_pages is None
    count_sql = next(q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper())
    assert "LIMIT 101" in count_sql
    assert max_page() == 2
    first = paginate(customer_list(), page="1", params={})
    assert first.has_next
    beyond = paginate(customer_list(), page="3", params={})
    assert beyond.number == 2


def test_capped_count():
    for _ in range(3):
        f.CustomerFactory()
    assert capped_count(Customer.objects.all(), cap=2) == (2, True)
    assert capped_count(Customer.objects.all(), cap=5) == (3, False)


def test_customer_balances_per_currency():
    customer = f.CustomerFactory()
    f.InvoiceFactory(customer=customer)
    f.InvoiceFactory(customer=customer, currency="EUR")
    f.InvoiceFactory(customer=customer, status="void", amount_due="108.00")
    f.PaymentFactory(customer=customer, amount="20.00", status="unapplied")
    balances = {b.currency: b for b in customer_balances(customer)}
    assert balances["USD"].open_ar == 108 and balances["USD"].open_invoices == 1
    assert balances["USD"].unapplied_cash == 20
    assert balances["EUR"].open_ar == 108


def test_contract_detail_with_no_lines_has_only_the_signed_step():
    contract = f.ContractFactory()
    detail = contract_detail(contract.pk, today=dt.date(2026, 6, 1))
    assert len(detail.timeline) == 1 and detail.timeline[0].amendment is None
    assert detail.current_lines == [] and detail.usage == []
