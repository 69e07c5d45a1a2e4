"""File imports end to end through the sync engine: good rows land, bad rows
are reported with row, field and message and open exception items, and the same
file (or the same rows in another order) changes nothing the second time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.models import FileImport, InboundRecord, SyncRun
from exceptions_queue.models import ExceptionItem
from revops.actors import Actor
from revops.models import Contract, Customer, ExternalRef, Invoice, Payment, UsageRecord
from revops.services import contracts
from tests import factories as f
from tests.connectors.files.conftest import csv_text

pytestmark = pytest.mark.django_db

CUSTOMERS = csv_text(
    "Customer No,Company,Currency,Email,City,Country",
    "C-100,Acme Corp,USD,ap@acme.example,Austin,US",
    "C-101,Globex,EUR,,Berlin,DE",
    "C-102,,USD,,Boston,US",
    "C-103,Initech,US Dollars,,Dallas,US",
    "C-104,Umbrella,GBP,,London,GB",
)


def _history_rows() -> int:
    return (
        Customer.history.count()
        + Contract.history.count()
        + Invoice.history.count()
        + Payment.history.count()
    )


def _errors_by_row(upload: FileImport) -> dict[int, dict]:
    return {error["row"]: error for error in upload.report["errors"]}


def test_it_imports_the_good_rows_and_reports_the_bad_ones(run_import):
    upload = run_import("customer", CUSTOMERS)
    run = upload.run
    assert run.trigger == SyncRun.Trigger.FILE and run.file_name == "upload.csv"
    assert run.status == "succeeded"
    assert (run.read, run.created, run.business_errors) == (5, 3, 2)
    assert run.read == run.created + run.updated + run.unchanged + run.skipped + run.business_errors
    assert set(Customer.objects.values_list("number", flat=True)) == {"C-100", "C-101", "C-104"}
    acme = Customer.objects.get(number="C-100")
    assert (acme.name, acme.currency, acme.city) == ("Acme Corp", "USD", "Austin")
    assert acme.history.first().history_source == "file"

    errors = _errors_by_row(upload)
    assert set(errors) == {4, 5}
    assert errors[4]["field"] == "name" and errors[4]["column"] == "Company"
    assert errors[4]["external_id"] == "C-102" and "empty" in errors[4]["message"]
    assert errors[5]["field"] == "currency" and "US Dollars" in errors[5]["message"]
    items = ExceptionItem.objects.filter(connector_name="crm-files")
    assert items.count() == 2
    item = items.get(pk=errors[5]["exception_item_id"])
    assert item.code == "VALIDATION_FAILED" and item.step_key == "file.customer"
    assert item.sync_run_id == run.pk and item.error_details[0]["field"] == "currency"


def test_the_same_file_again_changes_nothing(run_import):
    first = run_import("customer", CUSTOMERS)
    history, inbound = _history_rows(), InboundRecord.objects.count()
    second = run_import("customer", CUSTOMERS, name="upload-again.csv")
    run = second.run
    assert (run.read, run.unchanged, run.created, run.updated) == (5, 3, 0, 0)
    # The bad rows are still bad: reported again, on the items they opened the first time.
    assert run.business_errors == 2
    assert _history_rows() == history and InboundRecord.objects.count() == inbound
    assert ExceptionItem.objects.count() == 2
    assert sorted(e["exception_item_id"] for e in second.report["errors"]) == sorted(
        e["exception_item_id"] for e in first.report["errors"]
    )
    assert first.sha256 == second.sha256


def test_the_same_rows_in_another_order_change_nothing(run_import):
    lines = CUSTOMERS.strip().split("\n")
    run_import("customer", CUSTOMERS)
    history = _history_rows()
    reordered = run_import("customer", csv_text(lines[0], *reversed(lines[1:])))
    assert (reordered.run.unchanged, reordered.run.created, reordered.run.business_errors) == (3, 0, 2)
    assert _history_rows() == history
    # Row numbers follow the new file.
    assert set(_errors_by_row(reordered)) == {3, 4}


def test_a_changed_row_updates_only_that_customer(run_import):
    run_import("customer", CUSTOMERS)
    changed = CUSTOMERS.replace("Acme Corp", "Acme Corporation")
    run = run_import("customer", changed).run
    assert (run.updated, run.unchanged) == (1, 2)
    assert Customer.objects.get(number="C-100").name == "Acme Corporation"


def test_fixing_a_bad_row_resolves_its_item(run_import):
    run_import("customer", CUSTOMERS)
    fixed = CUSTOMERS.replace("C-102,,USD", "C-102,Hooli,USD")
    run = run_import("customer", fixed).run
    assert run.created == 1 and Customer.objects.filter(number="C-102", name="Hooli").exists()
    item = ExceptionItem.objects.get(error_details__0__field="name")
    assert item.status == "resolved"


@pytest.fixture
def catalogue(legal_entity):
    customer = f.CustomerFactory(number="C-200", legal_entity=legal_entity, currency="USD")
    seat = f.ProductFactory(sku="SEAT")
    api = f.ProductFactory(sku="API-CALLS")
    return customer, seat, api


CONTRACTS = csv_text(
    "Contract,Customer,Start,End,Billing,Currency,SKU,Qty,Price",
    "K-1,C-200,2026-01-01,2026-12-31,monthly,USD,SEAT,10,25.00",
    "K-2,C-200,2026-02-01,,annual,USD,SEAT,1,1000",
    "K-1,C-200,2026-01-01,2026-12-31,monthly,USD,API-CALLS,0,0.01",
    "K-3,C-999,2026-01-01,,monthly,USD,SEAT,1,10",
    "K-2,C-200,2026-02-01,,annual,USD,NOPE,1,5",
    "K-4,C-200,2026-01-01,,monthly,USD,SEAT,1x,10",
)


def test_rows_of_one_contract_become_its_lines_and_errors_name_the_row(run_import, catalogue):
    upload = run_import("contract", CONTRACTS)
    run = upload.run
    assert (run.read, run.created, run.business_errors) == (4, 1, 3)
    contract = Contract.objects.get(number="K-1")
    assert contract.status == "active" and contract.customer.number == "C-200"
    assert sorted((line.product.sku, line.quantity) for line in contract.lines.all()) == [
        ("API-CALLS", Decimal("0")),
        ("SEAT", Decimal("10")),
    ]
    # References to revops numbers were linked for the file system.
    assert ExternalRef.objects.filter(system="file", object_type="product", external_id="SEAT").exists()
    errors = _errors_by_row(upload)
    assert errors[5]["code"] == "UNKNOWN_CUSTOMER" and errors[5]["field"] == "customer_number"
    assert errors[5]["column"] == "Customer"
    # K-2's lines are rows 3 and 6; the unknown product is the line of row 6.
    unknown = next(e for e in upload.report["errors"] if e["external_id"] == "K-2")
    assert unknown["code"] == "UNKNOWN_PRODUCT" and sorted(unknown["rows"]) == [3, 6]
    bad_quantity = errors[7]
    assert bad_quantity["field"] == "quantity" and bad_quantity["column"] == "Qty"
    assert "1x" in bad_quantity["message"]


def test_a_mapping_error_in_a_later_line_reports_that_row(run_import, catalogue):
    text = csv_text(
        "Contract,Customer,Start,End,Billing,Currency,SKU,Qty,Price",
        "K-9,C-200,2026-01-01,,monthly,USD,SEAT,1,10",
        "K-9,C-200,2026-01-01,,monthly,USD,API-CALLS,2,abc",
    )
    upload = run_import("contract", text)
    (error,) = upload.report["errors"]
    assert (error["row"], error["field"], sorted(error["rows"])) == (3, "unit_price", [2, 3])
    assert error["message"].startswith("Unit price (line ") and "abc" in error["message"]


INVOICES = csv_text(
    "Invoice,Customer,Date,Due,Currency,Description,Qty,Unit,VAT %,Total",
    "INV-1,C-200,2026-03-01,2026-03-31,USD,Seats,10,25.00,10,297.00",
    "INV-1,C-200,2026-03-01,2026-03-31,USD,Setup,1,20.00,10,297.00",
    "INV-2,C-200,2026-03-01,2026-03-31,USD,Seats,10,25.00,10,300.00",
    "INV-2,C-200,2026-03-01,2026-03-31,USD,Setup,1,20.00,10,300.00",
)


def test_an_invoice_whose_lines_do_not_add_up_to_its_total_is_an_amount_mismatch(run_import, catalogue):
    upload = run_import("invoice", INVOICES)
    assert (upload.run.created, upload.run.business_errors) == (1, 1)
    good = Invoice.objects.get(number="INV-1")
    assert (good.subtotal, good.tax_total, good.total) == (
        Decimal("270.00"),
        Decimal("27.00"),
        Decimal("297.00"),
    )
    assert good.lines.count() == 2 and good.status == "open"
    (error,) = upload.report["errors"]
    assert error["code"] == "AMOUNT_MISMATCH" and error["field"] == "total" and error["column"] == "Total"
    assert error["external_id"] == "INV-2" and sorted(error["rows"]) == [4, 5]
    item = ExceptionItem.objects.get(pk=error["exception_item_id"])
    assert item.code == "AMOUNT_MISMATCH" and "297.00" in item.message


def test_payments_are_recorded_and_applied_to_the_invoice_they_name(run_import, catalogue):
    run_import("invoice", INVOICES)
    upload = run_import(
        "payment",
        csv_text(
            "Reference,Customer,Amount,Currency,Received,Method,Invoice",
            "PAY-1,C-200,297.00,USD,2026-03-20,Bank transfer,INV-1",
            "PAY-2,C-200,-5,USD,2026-03-20,card,",
        ),
    )
    assert (upload.run.created, upload.run.business_errors) == (1, 1)
    payment = Payment.objects.get(number="PAY-1")
    assert payment.method == "bank_transfer" and payment.amount == Decimal("297.00")
    invoice = Invoice.objects.get(number="INV-1")
    assert invoice.amount_due == Decimal("0.00")
    assert _errors_by_row(upload)[3]["field"] == "amount"


@pytest.fixture
def active_contract(catalogue):
    customer, _seat, api = catalogue
    actor = Actor.for_system("tests", "setup")
    contract = contracts.contract_create(
        number="K-USE",
        customer=customer,
        start_date=dt.date(2026, 1, 1),
        billing_frequency="monthly",
        currency="USD",
        lines=[contracts.LineSpec(api, Decimal(0), Decimal("0.01"))],
        actor=actor,
        reason="setup",
    )
    contracts.contract_activate(contract=contract, actor=actor)
    return contract, contract.lines.get()


USAGE = csv_text(
    "Event,Contract,SKU,Units,At",
    "evt-1,K-USE,API-CALLS,1200,2026-03-05T10:00:00Z",
    "evt-2,K-USE,API-CALLS,800,2026-03-06",
    "evt-3,K-NONE,API-CALLS,5,2026-03-06",
    "evt-4,K-USE,SEAT,5,2026-03-06",
    "evt-5,K-USE,API-CALLS,5,2025-12-31",
)


def test_usage_is_recorded_once_per_event_id(run_import, active_contract):
    contract, line = active_contract
    upload = run_import("usage", USAGE)
    assert (upload.run.created, upload.run.business_errors) == (2, 3)
    assert sorted(UsageRecord.objects.values_list("source_event_id", "quantity")) == [
        ("evt-1", Decimal("1200")),
        ("evt-2", Decimal("800")),
    ]
    usage = UsageRecord.objects.get(source_event_id="evt-1")
    assert usage.source == "file" and usage.contract_line == line
    assert usage.usage_at == dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
    codes = {e["external_id"]: (e["code"], e["field"]) for e in upload.report["errors"]}
    assert codes == {
        "evt-3": ("INVALID_CONTRACT_STATE", "contract_number"),
        "evt-4": ("UNKNOWN_PRODUCT", "product_sku"),
        "evt-5": ("INVALID_CONTRACT_STATE", "timestamp"),
    }

    # The same events again, one with another quantity: nothing new is recorded.
    history = UsageRecord.history.count()
    again = run_import("usage", USAGE.replace("evt-2,K-USE,API-CALLS,800", "evt-2,K-USE,API-CALLS,900"))
    assert (again.run.created, again.run.unchanged) == (0, 2)
    assert UsageRecord.objects.count() == 2 and UsageRecord.history.count() == history
    assert UsageRecord.objects.get(source_event_id="evt-2").quantity == Decimal("800")
    changed = InboundRecord.objects.get(external_id="evt-2", payload__values__quantity="900")
    assert changed.outcome == "unchanged" and "already recorded" in changed.message


def test_a_large_file_is_processed_in_pages_of_one_transaction_each(run_import, monkeypatch):
    from connectors.files.kind import FileKind

    monkeypatch.setattr(FileKind, "page_size", 3)
    rows = [f"C-{i},Customer {i},USD,,Austin,US" for i in range(1, 9)]
    upload = run_import("customer", csv_text("Customer No,Company,Currency,Email,City,Country", *rows))
    assert (upload.run.read, upload.run.created) == (8, 8)
    # Three pages of this file; the other object types' streams have nothing to read.
    assert upload.run.cursor_after["customer"] == {"file_import": upload.pk, "offset": 8, "_done": True}
    assert upload.run.pages == 3 + 4
