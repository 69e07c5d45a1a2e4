"""End to end in a real browser: a tax mismatch arrives through a CSV invoice
import, lands with the tax team, and an analyst corrects it to the expected tax
with one click; the invoice is written with 7.75 and its History says who
changed what and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from connectors.files import services
from connectors.files.kind import FileKind
from connectors.models import Connector
from connectors.resubmit import register_kind_handlers
from exceptions_queue import routing
from exceptions_queue.models import ExceptionItem
from revops.actors import Actor
from revops.models import Invoice
from revops.services.tax import tax_component_add, tax_jurisdiction_create
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

register_kind_handlers(FileKind)
SETUP = Actor.for_system("tests", "browser tax test")
COLUMNS = {
    "number": "Invoice",
    "customer_number": "Customer",
    "issue_date": "Date",
    "due_date": "Due",
    "currency": "Currency",
    "description": "Description",
    "quantity": "Qty",
    "unit_amount": "Unit",
    "tax_amount": "Tax",
    "tax_jurisdiction": "Jurisdiction",
}
CSV = (
    "Invoice,Customer,Date,Due,Currency,Description,Qty,Unit,Tax,Jurisdiction\n"
    "INV-88,C-300,2026-03-02,2026-04-01,USD,Yarn,1,100.00,7.50,US-CA-92615\n"
)


@pytest.fixture
def item(integration_admin):
    entity = f.LegalEntityFactory()
    f.CustomerFactory(number="C-300", legal_entity=entity, currency="USD")
    irvine = tax_jurisdiction_create(
        code="US-CA-92615", name="Irvine, CA", country="US", region="CA", actor=SETUP, reason="rates"
    )
    for name, authority, rate in (
        ("CA STATE TAX", "CALIFORNIA", "6"),
        ("CA COUNTY TAX", "ORANGE", "0.25"),
        ("CA SPECIAL TAX", "ORANGE CO LOCAL TAX SL", "1"),
        ("CA SPECIAL TAX", "ORANGE COUNTY DISTRICT TAX SP", "0.5"),
    ):
        tax_component_add(
            jurisdiction=irvine,
            name=name,
            authority=authority,
            type="special",
            rate=Decimal(rate),
            valid_from=dt.date(2017, 1, 1),
            actor=SETUP,
            reason="rates",
        )
    routing.routing_rule_create(
        actor=Actor.for_user(integration_admin),
        reason="tax team",
        name="Tax",
        codes=["TAX_MISMATCH"],
        team=Group.objects.create(name="Tax"),
        sla_hours=24,
    )
    connector = Connector.objects.create(name="billing-csv", kind="file", legal_entity=entity)
    mapping = services.mapping_save(
        connector=connector, object_type="invoice", name="export", columns=COLUMNS, actor=SETUP, reason="map"
    )
    checked = services.import_check(file_name="invoices.csv", content=CSV.encode(), mapping=mapping)
    upload = services.import_start(
        connector=connector, mapping=mapping, checked=checked, requested_by="tests"
    )
    services.import_run(upload.pk)
    return ExceptionItem.objects.get(code="TAX_MISMATCH")


def test_an_analyst_corrects_a_tax_mismatch_to_the_expected_tax(live_server, analyst, item, page):
    assert item.team.name == "Tax" and item.due_at is not None
    page.goto(f"{live_server.url}/exceptions/{item.pk}/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/exceptions/{item.pk}/")

    problem = page.locator(".problem").inner_text()
    assert "ORANGE COUNTY DISTRICT TAX SP" in problem and "7.50" in problem and "7.75" in problem

    page.fill("#id_fix_reason", "Irvine charges the 0.5 % district tax")
    page.click(".fixes button:has-text('Correct the tax to the expected')")
    page.wait_for_selector("#item .message-success")
    assert page.locator(".item-head .pill-resolved").count() == 1

    invoice = Invoice.objects.get(number="INV-88")
    assert (invoice.tax_total, invoice.total) == (Decimal("7.75"), Decimal("107.75"))

    page.goto(f"{live_server.url}/invoices/{invoice.pk}/history/")
    history = page.locator("main").inner_text()
    assert "analyst" in history and "Irvine charges the 0.5 % district tax" in history
    assert "7.75" in history
