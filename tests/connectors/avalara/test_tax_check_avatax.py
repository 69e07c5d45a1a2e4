"""The tax check with an Avalara connector configured for the legal entity:
expected tax per line and jurisdiction comes from AvaTax, not the rate table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors import engine
from connectors.avalara.kind import AvalaraKind
from connectors.models import Connector
from connectors.resubmit import register_kind_handlers
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import BusinessEvent, Invoice
from tests import factories as f
from tests.connectors.avalara.fake_avatax import ACCOUNT_ID, LICENSE_KEY
from tests.connectors.tax_source_kind import TaxSourceKind

pytestmark = pytest.mark.django_db

register_kind_handlers(TaxSourceKind)

IRVINE = {
    "line1": "123 Main Street",
    "city": "Irvine",
    "region": "CA",
    "postal_code": "92615",
    "country": "US",
}


@pytest.fixture
def source():
    TaxSourceKind.reset()
    yield TaxSourceKind
    TaxSourceKind.reset()


@pytest.fixture
def entity():
    return f.LegalEntityFactory()


@pytest.fixture
def avalara(entity, avatax):
    return Connector.objects.create(
        name="avatax-us",
        kind="avalara",
        legal_entity=entity,
        base_url=avatax.base_url,
        credentials={"account_id": ACCOUNT_ID, "license_key": LICENSE_KEY},
    )


@pytest.fixture
def billing(entity):
    return Connector.objects.create(name="billing-us", kind=TaxSourceKind.key, legal_entity=entity)


def _sync(connector, source, *, tax="7.25", amount="100.00", mode="exclusive"):
    source.source["customer"] = [{"id": "cus_1", "name": "Yarn Shop", "currency": "USD", "address": IRVINE}]
    source.source["invoice"] = [
        {
            "id": "in_1",
            "number": "INV-1",
            "customer": "cus_1",
            "currency": "USD",
            "tax_mode": mode,
            "lines": [{"amount": amount, "tax": tax}],
        }
    ]
    run = engine.run_create(connector=connector, trigger="manual")
    return engine.execute_run(run.pk)


def test_it_opens_tax_mismatch_from_avataxs_answer(billing, avalara, source, avatax):
    run = _sync(billing, source, tax="7.25")
    assert run.status == "succeeded" and run.business_errors == 1
    item = ExceptionItem.objects.get()
    assert item.code == "TAX_MISMATCH"
    assert "Avalara AvaTax (connector avatax-us)" in item.message
    assert [(row["label"], row["expected"]) for row in item.error_details] == [
        ("Line 1 · CA STATE TAX (CALIFORNIA) 6 %", "6.00"),
        ("Line 1 · CA COUNTY TAX (ORANGE) 0.25 %", "0.25"),
        ("Line 1 · CA SPECIAL TAX (ORANGE COUNTY DISTRICT TAX SP) 0.5 %", "0.50"),
        ("Line 1 · CA SPECIAL TAX (ORANGE CO LOCAL TAX SL) 1 %", "1.00"),
        ("Line 1 · total tax 7.75 %", "7.75"),
    ]
    sent = [r for r in avatax.requests if r["path"] == "/api/v2/transactions/create"][0]["json"]
    assert (sent["type"], sent["commit"], sent["customerCode"]) == ("SalesOrder", False, "cus_1")
    assert sent["addresses"]["SingleLocation"]["postalCode"] == "92615"


def test_it_corrects_to_avataxs_tax_with_history_saying_so(billing, avalara, source, avatax, analyst):
    _sync(billing, source, tax="7.25")
    item = ExceptionItem.objects.get()
    exception_resubmit(
        item=item, correction={"_tax": "use_expected"}, actor=Actor.for_user(analyst), reason="ok"
    )
    invoice = Invoice.objects.get()
    assert (invoice.tax_total, invoice.total) == (Decimal("7.75"), Decimal("107.75"))
    assert "Avalara AvaTax (connector avatax-us) expects" in invoice.history.earliest().history_change_reason
    assert BusinessEvent.objects.get(type="invoice.tax_corrected").payload["expected_from"] == (
        "Avalara AvaTax (connector avatax-us)"
    )


def test_it_backs_the_tax_out_of_inclusive_lines(billing, avalara, source, avatax):
    # 107.75 including 7.75 %: 100.00 taxable, 7.75 tax.
    run = _sync(billing, source, tax="7.75", amount="107.75", mode="inclusive")
    assert run.business_errors == 0 and Invoice.objects.get().tax_total == Decimal("7.75")
    sent = [r for r in avatax.requests if r["path"] == "/api/v2/transactions/create"][0]["json"]
    assert sent["lines"][0]["taxIncluded"] is True


def test_it_retries_the_page_and_writes_nothing_when_avatax_is_unavailable(billing, avalara, source, avatax):
    avatax.mode = "unavailable"
    run = _sync(billing, source, tax="7.75")
    assert run.status == "retrying" and "503" in run.error_message
    assert not Invoice.objects.exists() and not ExceptionItem.objects.exists()


def test_it_fails_the_run_naming_the_tax_engine_when_credentials_are_refused(
    billing, avalara, source, avatax
):
    avatax.mode = "unauthorized"
    run = _sync(billing, source, tax="7.75")
    assert run.status == "failed" and run.error_class == "configuration"
    assert run.error_message.startswith("Tax engine connector avatax-us: POST")
    assert "401" in run.error_message and not Invoice.objects.exists()


def test_it_leaves_the_check_to_the_rate_table_when_the_tax_engine_is_disabled(
    billing, avalara, source, avatax
):
    Connector.objects.filter(pk=avalara.pk).update(enabled=False)
    run = _sync(billing, source, tax="1.00")
    assert run.business_errors == 0 and Invoice.objects.exists()
    assert avatax.requests == []


def test_it_tests_the_kinds_connection_with_a_ping(avalara, avatax):
    kind = AvalaraKind(avalara)
    try:
        assert kind.test_connection().startswith("AvaTax answered at")
        assert kind.fetch("anything", None, full=True).records == []
    finally:
        kind.close()
