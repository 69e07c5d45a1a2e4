"""List pages: search, filters, sort and a pagination that never counts everything."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from revops.actors import Actor
from revops.models import Customer, Invoice
from revops.services.events import external_ref_link
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("salesforce", "connector salesforce, run 1")


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def numbers_on(response, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}[\w-]+)</a>", response.content.decode())


def test_it_finds_a_customer_by_external_id(signed_in):
    wanted = f.CustomerFactory(name="Initech")
    f.CustomerFactory(name="Umbrella")
    external_ref_link(
        system="salesforce",
        object_type="customer",
        external_id="001Dn00000XyZ",
        target=wanted,
        actor=SYNC,
        reason="Linked on sync",
    )

    response = signed_in.get(reverse("customer_list"), {"q": "001Dn00000XyZ"})

    assert response.context["page"].items == [wanted]
    assert "Initech" in response.content.decode()


def test_it_finds_customers_by_exact_number_and_by_part_of_the_name(signed_in):
    a = f.CustomerFactory(number="C-777", name="Acme Rockets")
    b = f.CustomerFactory(number="C-778", name="ACME Anvils")
    f.CustomerFactory(number="C-779", name="Wayne Enterprises")

    assert signed_in.get(reverse("customer_list"), {"q": "C-777"}).context["page"].items == [a]
    by_name = signed_in.get(reverse("customer_list"), {"q": "acme", "sort": "name"}).context["page"].items
    assert by_name == [b, a]


def test_it_finds_an_invoice_by_external_id_and_by_customer_name(signed_in):
    globex = f.CustomerFactory(name="Globex")
    invoice = f.InvoiceFactory(customer=globex, number="INV-1")
    f.InvoiceFactory(number="INV-2")
    external_ref_link(
        system="stripe",
        object_type="invoice",
        external_id="in_1Abc",
        target=invoice,
        actor=SYNC,
        reason="sync",
    )

    assert signed_in.get(reverse("invoice_list"), {"q": "in_1Abc"}).context["page"].items == [invoice]
    assert signed_in.get(reverse("invoice_list"), {"q": "globex"}).context["page"].items == [invoice]
    assert signed_in.get(reverse("invoice_list"), {"q": "INV-2"}).context["page"].items[0].number == "INV-2"


def test_it_filters_customers_by_status_and_sorts_both_ways(signed_in):
    for number, status in [("C-1", "active"), ("C-3", "on_hold"), ("C-2", "on_hold"), ("C-4", "closed")]:
        f.CustomerFactory(number=number, status=status)

    ascending = signed_in.get(reverse("customer_list"), {"status": "on_hold", "sort": "number"})
    descending = signed_in.get(reverse("customer_list"), {"status": "on_hold", "sort": "-number"})

    assert [c.number for c in ascending.context["page"].items] == ["C-2", "C-3"]
    assert [c.number for c in descending.context["page"].items] == ["C-3", "C-2"]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_it_ignores_a_sort_that_is_not_allowed(signed_in):
    f.CustomerFactory(name="B"), f.CustomerFactory(name="A")
    response = signed_in.get(reverse("customer_list"), {"sort": "tax_id"})
    assert response.status_code == 200
    assert [c.name for c in response.context["page"].items] == ["A", "B"]


def test_it_filters_invoices_by_status_dates_and_overdue(signed_in):
    old_open = f.InvoiceFactory(
        number="INV-OLD", issue_date=dt.date(2020, 1, 1), due_date=dt.date(2020, 1, 31)
    )
    f.InvoiceFactory(number="INV-NEW", issue_date=dt.date(2099, 1, 1), due_date=dt.date(2099, 1, 31))
    f.InvoiceFactory(
        number="INV-PAID",
        status="paid",
        amount_paid="108.00",
        amount_due="0",
        issue_date=dt.date(2020, 2, 1),
        due_date=dt.date(2020, 2, 28),
    )

    overdue = signed_in.get(reverse("invoice_list"), {"overdue": "on"}).context["page"].items
    assert overdue == [old_open]
    paid = signed_in.get(reverse("invoice_list"), {"status": "paid"}).context["page"].items
    assert [i.number for i in paid] == ["INV-PAID"]
    in_2020 = signed_in.get(reverse("invoice_list"), {"issued_from": "2020-01-01", "issued_to": "2020-12-31"})
    assert {i.number for i in in_2020.context["page"].items} == {"INV-OLD", "INV-PAID"}
    by_due = signed_in.get(reverse("invoice_list"), {"sort": "-due_date"}).context["page"].items
    assert [i.number for i in by_due] == ["INV-NEW", "INV-PAID", "INV-OLD"]


def test_a_bad_filter_value_is_explained_not_a_server_error(signed_in):
    f.InvoiceFactory()
    response = signed_in.get(reverse("invoice_list"), {"issued_from": "last tuesday", "status": "bogus"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter the date as YYYY-MM-DD." in html
    assert "Select a valid choice." in html
    assert len(response.context["page"].items) == 1


def test_it_filters_payments_whose_payer_is_unknown(signed_in):
    known = f.PaymentFactory(number="PAY-K")
    unknown = f.PaymentFactory(number="PAY-U", customer=None, legal_entity=known.legal_entity)
    assert signed_in.get(reverse("payment_list"), {"unidentified": "on"}).context["page"].items == [unknown]
    assert "Payer unknown" in signed_in.get(reverse("payment_list")).content.decode()


def test_it_filters_payments_with_unapplied_cash(signed_in):
    open_cash = f.PaymentFactory(number="PAY-O", status="unapplied")
    f.PaymentFactory(number="PAY-A", status="applied", amount_applied="108.00")
    assert signed_in.get(reverse("payment_list"), {"unapplied_cash": "on"}).context["page"].items == [
        open_cash
    ]


def test_it_filters_contracts_by_customer(signed_in):
    contract = f.ContractFactory()
    f.ContractFactory()
    response = signed_in.get(reverse("contract_list"), {"customer": contract.customer_id})
    assert response.context["page"].items == [contract]


def test_the_count_stops_at_the_cap_and_says_so(signed_in, settings):
    settings.REVOPS_LIST_COUNT_CAP = 5
    entity = f.LegalEntityFactory()
    Customer.objects.bulk_create(
        [
            Customer(
                number=f"C-{n:03d}", name=f"Bulk {n:03d}", legal_entity=entity, currency="USD", country="US"
            )
            for n in range(12)
        ]
    )

    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(reverse("customer_list"), {"sort": "number"})

    page = response.context["page"]
    assert page.count_capped and page.count_label == "5+"
    assert "1–50 of 5+" not in response.content.decode()
    assert "of 5+" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts


def test_pages_are_fifty_rows_and_keep_the_filters(signed_in):
    entity = f.LegalEntityFactory()
    Customer.objects.bulk_create(
        [
            Customer(
                number=f"C-{n:03d}",
                name=f"Bulk {n:03d}",
                legal_entity=entity,
                currency="USD",
                country="US",
                status="on_hold",
            )
            for n in range(60)
        ]
    )
    first = signed_in.get(reverse("customer_list"), {"status": "on_hold", "sort": "number"})
    assert len(first.context["page"].items) == 50
    assert "?status=on_hold&amp;sort=number&amp;page=2" in first.content.decode()

    second = signed_in.get(reverse("customer_list"), {"status": "on_hold", "sort": "number", "page": "2"})
    assert [c.number for c in second.context["page"].items] == [f"C-{n:03d}" for n in range(50, 60)]
    assert not second.context["page"].has_next

    beyond = signed_in.get(reverse("customer_list"), {"page": "99999"})
    assert beyond.status_code == 200 and beyond.context["page"].number == 2


def test_htmx_gets_only_the_results_table(signed_in):
    f.InvoiceFactory(number="INV-H")
    response = signed_in.get(
        reverse("invoice_list"), {"q": "INV-H"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "INV-H" in html and "<form" not in html


def test_every_hx_get_has_an_href(signed_in):
    f.InvoiceFactory()
    html = signed_in.get(reverse("invoice_list")).content.decode()
    links = re.findall(r"<a [^>]*hx-get=[^>]*>", html)
    assert links
    for link in links:
        href = re.search(r'href="([^"]*)"', link).group(1)
        assert href == re.search(r'hx-get="([^"]*)"', link).group(1)


def test_the_body_sends_the_csrf_token_to_htmx(signed_in):
    html = signed_in.get(reverse("dashboard")).content.decode()
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html)
    assert "/static/js/htmx.min.js" in html and "unpkg" not in html and "cdn" not in html.lower()


def test_empty_lists_say_what_to_do(signed_in):
    html = signed_in.get(reverse("invoice_list")).content.decode()
    assert "No invoices yet" in html
    html = signed_in.get(reverse("invoice_list"), {"q": "nothing-like-this"}).content.decode()
    assert "No invoice matches these filters" in html


def test_money_shows_the_currency_minor_units_and_code(signed_in):
    f.InvoiceFactory(currency="JPY", subtotal="1200", tax_total="0", total="1200", amount_due="1200")
    f.InvoiceFactory(currency="BHD", subtotal="10.5", tax_total="0", total="10.5", amount_due="10.5")
    html = signed_in.get(reverse("invoice_list")).content.decode()
    assert "1,200 JPY" in html
    assert "10.500 BHD" in html
    assert Invoice.objects.count() == 2


@pytest.mark.parametrize("url_name", ["customer_list", "contract_list", "invoice_list", "payment_list"])
def test_a_list_page_costs_the_same_few_queries_for_any_number_of_rows(
    signed_in, url_name, django_assert_max_num_queries
):
    for _ in range(30):
        customer = f.CustomerFactory()
        f.ContractFactory(customer=customer)
        f.InvoiceFactory(customer=customer)
        f.PaymentFactory(customer=customer)
    # Session, user, permissions, the count, the page and the filter's choices.
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse(url_name))
    assert len(response.context["page"].items) == 30


def test_pages_with_fragments_vary_on_the_htmx_headers(signed_in):
    response = signed_in.get(reverse("invoice_list"))
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]
