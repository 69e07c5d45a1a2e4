"""A tax mismatch arriving through a connector (a CSV invoice import), end to
end: the item reaches the team and due time of its routing rule, carries the
expected and actual tax per jurisdiction, and each one-click correction
resubmits the invoice through the pipeline with the right result and history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from connectors.files import services
from exceptions_queue import routing
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import Invoice
from revops.services.tax import tax_component_add, tax_jurisdiction_create
from tests import factories as f
from tests.connectors.files.conftest import COLUMNS, csv_text

pytestmark = pytest.mark.django_db

TAX_COLUMNS = {**COLUMNS["invoice"], "tax_jurisdiction": "Jurisdiction", "tax_amount": "Tax"}
SETUP = Actor.for_system("tests", "tax mismatch tests")

# 100.00 of yarn in Irvine: AvaTax's example expects 7.75 over four jurisdictions; the source says 7.50.
INVOICE = csv_text(
    "Invoice,Customer,Date,Due,Currency,Description,Qty,Unit,VAT %,Tax,Jurisdiction,Total",
    "INV-77,C-300,2026-03-02,2026-04-01,USD,Yarn,1,100.00,7.5,7.50,US-CA-92615,107.50",
)


@pytest.fixture
def irvine(legal_entity):
    jurisdiction = tax_jurisdiction_create(
        code="US-CA-92615", name="Irvine, CA", country="US", region="CA", actor=SETUP, reason="rates"
    )
    for name, authority, kind, rate in (
        ("CA STATE TAX", "CALIFORNIA", "state", "6"),
        ("CA COUNTY TAX", "ORANGE", "county", "0.25"),
        ("CA SPECIAL TAX", "ORANGE CO LOCAL TAX SL", "special", "1"),
        ("CA SPECIAL TAX", "ORANGE COUNTY DISTRICT TAX SP", "special", "0.5"),
    ):
        tax_component_add(
            jurisdiction=jurisdiction,
            name=name,
            authority=authority,
            type=kind,
            rate=Decimal(rate),
            valid_from=dt.date(2017, 1, 1),
            actor=SETUP,
            reason="rates",
        )
    f.CustomerFactory(number="C-300", legal_entity=legal_entity, currency="USD")
    return jurisdiction


@pytest.fixture
def import_invoices(run_import, file_connector):
    mapping = services.mapping_save(
        connector=file_connector,
        object_type="invoice",
        name="with tax",
        columns=TAX_COLUMNS,
        actor=SETUP,
        reason="test mapping",
    )

    def run(text, *, name="upload.csv"):
        return run_import("invoice", text, name=name, mapping=mapping)

    return run


@pytest.fixture
def tax_team(integration_admin):
    team = Group.objects.create(name="Tax")
    routing.routing_rule_create(
        actor=Actor.for_user(integration_admin),
        reason="tax team",
        name="Tax",
        codes=["TAX_MISMATCH"],
        team=team,
        sla_hours=24,
    )
    return team


def _item(upload) -> ExceptionItem:
    (error,) = upload.report["errors"]
    assert error["code"] == "TAX_MISMATCH"
    return ExceptionItem.objects.get(pk=error["exception_item_id"])


def test_it_reaches_the_tax_team_with_expected_and_actual_per_jurisdiction(import_invoices, irvine, tax_team):
    upload = import_invoices(INVOICE)
    assert (upload.run.read, upload.run.created, upload.run.business_errors) == (1, 0, 1)
    assert not Invoice.objects.filter(number="INV-77").exists()  # held back until someone decides
    item = _item(upload)
    assert item.team == tax_team and item.due_at == item.first_seen_at + dt.timedelta(hours=24)
    assert item.customer.number == "C-300" and item.external_id == "INV-77"
    labels = " | ".join(row["label"] for row in item.error_details)
    assert "ORANGE COUNTY DISTRICT TAX SP" in labels and "CALIFORNIA" in labels
    expected = {str(row["expected"]) for row in item.error_details}
    assert {"6.00", "0.25", "1.00", "0.50"} <= expected
    assert [option["correction"] for option in item.suggested_correction["options"]] == [
        {"_tax": "accept_source"},
        {"_tax": "use_expected"},
    ]
    # The same file again: still one open item, seen twice.
    again = _item(import_invoices(INVOICE, name="again.csv"))
    assert again.pk == item.pk and again.occurrences == 2


def test_correcting_to_the_expected_tax_writes_the_invoice_with_it(
    import_invoices, irvine, tax_team, analyst
):
    item = _item(import_invoices(INVOICE))
    done = exception_resubmit(
        item=item,
        actor=Actor.for_user(analyst),
        correction={"_tax": "use_expected"},
        reason="Irvine has the 0.5 % district tax",
    )
    assert done.status == "resolved"
    invoice = Invoice.objects.get(number="INV-77")
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("100.00"),
        Decimal("7.75"),
        Decimal("107.75"),
    )
    assert invoice.history.earliest().history_user == analyst
    reasons = [row.history_change_reason for row in done.history.all()]
    assert any("Resubmitted with corrected _tax: Irvine has the 0.5 % district tax" in r for r in reasons)


def test_accepting_the_source_value_keeps_it_and_records_the_override(
    import_invoices, irvine, tax_team, analyst
):
    item = _item(import_invoices(INVOICE))
    done = exception_resubmit(
        item=item,
        actor=Actor.for_user(analyst),
        correction={"_tax": "accept_source"},
        reason="Customer holds a partial exemption (certificate 55-1)",
    )
    assert done.status == "resolved"
    invoice = Invoice.objects.get(number="INV-77")
    assert (invoice.tax_total, invoice.total) == (Decimal("7.50"), Decimal("107.50"))
    created = invoice.history.earliest()
    assert created.history_user == analyst
    assert "Customer holds a partial exemption" in created.history_change_reason
