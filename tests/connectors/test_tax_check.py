"""The tax check in the pipeline: TAX_MISMATCH from the rate table, its two
one-click corrections through exception_resubmit, and what they leave behind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors import engine
from connectors.base import RawRecord
from connectors.models import Connector, InboundRecord
from connectors.resubmit import register_kind_handlers, split_correction
from connectors.writers import WriteContext
from exceptions_queue.models import ExceptionItem
from exceptions_queue.services import exception_resubmit
from revops.actors import Actor
from revops.models import BusinessEvent, Customer, Invoice, TaxRateComponent
from revops.services import tax
from tests import factories as f
from tests.connectors.tax_source_kind import TaxSourceKind

pytestmark = pytest.mark.django_db

register_kind_handlers(TaxSourceKind)

IRVINE = "US-CA-92615"


@pytest.fixture
def source():
    TaxSourceKind.reset()
    yield TaxSourceKind
    TaxSourceKind.reset()


@pytest.fixture
def entity():
    return f.LegalEntityFactory()


@pytest.fixture
def admin_actor():
    return Actor.for_system("revops", "setup")


@pytest.fixture
def irvine(entity, admin_actor):
    """The four California components of the AvaTax fixture: 7.75 % in all."""
    jurisdiction = tax.tax_jurisdiction_create(
        code=IRVINE, name="Irvine, CA 92615", country="US", region="CA", actor=admin_actor, reason="Rates"
    )
    for name, authority, kind, rate in (
        ("CA STATE TAX", "CALIFORNIA", "state", "6"),
        ("CA COUNTY TAX", "ORANGE", "county", "0.25"),
        ("CA SPECIAL TAX", "ORANGE CO LOCAL TAX SL", "special", "1"),
        ("CA SPECIAL TAX", "ORANGE COUNTY DISTRICT TAX SP", "special", "0.5"),
    ):
        tax.tax_component_add(
            jurisdiction=jurisdiction,
            name=name,
            authority=authority,
            type=kind,
            rate=Decimal(rate),
            valid_from=dt.date(2017, 1, 1),
            actor=admin_actor,
            reason="Rates",
        )
    return jurisdiction


@pytest.fixture
def connector(entity):
    return Connector.objects.create(name="billing-us", kind=TaxSourceKind.key, legal_entity=entity)


def _invoice(number="INV-1", *, tax_amount="7.25", amount="100.00", mode="exclusive", jurisdiction=IRVINE):
    return {
        "id": f"in_{number}",
        "number": number,
        "customer": "cus_1",
        "currency": "USD",
        "tax_mode": mode,
        "lines": [{"amount": amount, "tax": tax_amount, "jurisdiction": jurisdiction}],
    }


def _sync(connector, source, *invoices):
    source.source["customer"] = [{"id": "cus_1", "name": "Yarn Shop Irvine", "currency": "USD"}]
    source.source["invoice"] = list(invoices)
    run = engine.run_create(connector=connector, trigger="manual")
    return engine.execute_run(run.pk)


def test_it_opens_tax_mismatch_with_a_row_per_jurisdiction_and_two_corrections(connector, source, irvine):
    run = _sync(connector, source, _invoice(tax_amount="7.25"))
    assert run.status == "succeeded" and run.business_errors == 1
    assert not Invoice.objects.exists()
    item = ExceptionItem.objects.get()
    assert item.code == "TAX_MISMATCH" and item.step_key == "taxsource.invoice"
    assert item.customer is not None and item.customer.name == "Yarn Shop Irvine"
    assert item.message == (
        "Invoice INV-1: line 1 has 7.25 USD tax where the tax rate table expects 7.75 USD "
        "(tolerance 0.01 USD a line)."
    )
    labels = [row["label"] for row in item.error_details]
    assert labels == [
        f"Line 1 ({IRVINE}) · CA STATE TAX (CALIFORNIA) 6 %",
        f"Line 1 ({IRVINE}) · CA COUNTY TAX (ORANGE) 0.25 %",
        f"Line 1 ({IRVINE}) · CA SPECIAL TAX (ORANGE CO LOCAL TAX SL) 1 %",
        f"Line 1 ({IRVINE}) · CA SPECIAL TAX (ORANGE COUNTY DISTRICT TAX SP) 0.5 %",
        f"Line 1 ({IRVINE}) · total tax 7.75 %",
    ]
    assert [row["expected"] for row in item.error_details] == ["6.00", "0.25", "1.00", "0.50", "7.75"]
    assert item.error_details[-1]["actual"] == "7.25"
    options = item.suggested_correction["options"]
    assert [o["key"] for o in options] == ["accept_source", "use_expected"]
    assert options[0]["label"] == "Accept taxsource's tax of 7.25 USD as an override"
    assert options[0]["correction"] == {"_tax": "accept_source"}
    assert options[1]["label"] == "Correct the tax to the expected 7.75 USD"
    assert "the total becomes 107.75 USD instead of 107.25 USD" in options[1]["description"]
    assert InboundRecord.objects.get(object_type="invoice").outcome == "business_error"


def test_it_writes_the_expected_tax_when_the_analyst_corrects_it(connector, source, irvine, analyst):
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    exception_resubmit(
        item=item,
        correction=item.suggested_correction["options"][1]["correction"],
        actor=Actor.for_user(analyst),
        reason="Irvine district tax was missing in billing",
    )
    item.refresh_from_db()
    assert item.status == "resolved" and item.correction == {"_tax": "use_expected"}
    invoice = Invoice.objects.get(number="INV-1")
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("100.00"),
        Decimal("7.75"),
        Decimal("107.75"),
    )
    line = invoice.lines.get()
    assert (line.amount, line.tax_amount, line.tax_rate) == (
        Decimal("100.00"),
        Decimal("7.75"),
        Decimal("7.75"),
    )
    created = invoice.history.earliest()
    assert created.history_user == analyst
    assert "tax corrected to the 7.75 USD the tax rate table expects instead of taxsource's 7.25 USD" in (
        created.history_change_reason
    )
    assert "line 1 7.25 USD → 7.75 USD" in created.history_change_reason
    assert created.history_change_reason.endswith("Irvine district tax was missing in billing")
    event = BusinessEvent.objects.get(type="invoice.tax_corrected", subject_id=invoice.pk)
    assert event.payload["reason"] == "Irvine district tax was missing in billing"
    assert event.payload["exception_item"] == item.pk
    assert event.payload["lines"][0]["expected"] == "7.75" and event.payload["lines"][0]["actual"] == "7.25"
    history = item.history.filter(history_user=analyst).order_by("history_date", "history_id")
    assert "Resubmitted with corrected _tax: Irvine district tax was missing in billing" in [
        h.history_change_reason for h in history
    ]


def test_it_keeps_the_source_tax_as_an_override_when_the_analyst_accepts_it(
    connector, source, irvine, analyst
):
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    exception_resubmit(
        item=item,
        correction={"_tax": "accept_source"},
        actor=Actor.for_user(analyst),
        reason="Customer holds a partial district exemption",
    )
    item.refresh_from_db()
    assert item.status == "resolved"
    invoice = Invoice.objects.get(number="INV-1")
    assert (invoice.tax_total, invoice.total) == (Decimal("7.25"), Decimal("107.25"))
    created = invoice.history.earliest()
    assert created.history_user == analyst
    assert (
        "tax override: taxsource's 7.25 USD accepted instead of the 7.75 USD" in created.history_change_reason
    )
    assert created.history_change_reason.endswith("Customer holds a partial district exemption")
    event = BusinessEvent.objects.get(type="invoice.tax_override_accepted", subject_id=invoice.pk)
    assert event.actor.endswith("resubmitted by analyst")
    assert event.payload["expected_from"] == "the tax rate table"
    assert not BusinessEvent.objects.filter(type="invoice.tax_corrected").exists()


def test_it_corrects_only_the_tax_of_an_inclusive_invoice(connector, source, irvine, analyst):
    # 107.75 with 7.75 % included carries 7.75 of tax; the source says 7.00.
    _sync(connector, source, _invoice(amount="107.75", tax_amount="7.00", mode="inclusive"))
    item = ExceptionItem.objects.get()
    assert (
        "the line amounts and the total of 107.75 USD stay"
        in (item.suggested_correction["options"][1]["description"])
    )
    exception_resubmit(
        item=item, correction={"_tax": "use_expected"}, actor=Actor.for_user(analyst), reason="ok"
    )
    invoice = Invoice.objects.get(number="INV-1")
    assert (invoice.tax_mode, invoice.subtotal, invoice.tax_total, invoice.total) == (
        "inclusive",
        Decimal("107.75"),
        Decimal("7.75"),
        Decimal("107.75"),
    )
    assert invoice.lines.get().amount == Decimal("107.75")


def test_it_opens_nothing_when_the_tax_is_within_the_tolerance(connector, source, irvine, settings):
    settings.REVOPS_TAX_TOLERANCE = Decimal("0.01")
    run = _sync(connector, source, _invoice("INV-1", tax_amount="7.76"), _invoice("INV-2", tax_amount="7.75"))
    assert run.business_errors == 0 and run.created == 3
    assert not ExceptionItem.objects.exists()
    assert Invoice.objects.get(number="INV-1").tax_total == Decimal("7.76")


def test_it_opens_one_item_when_the_same_mismatch_is_delivered_twice(connector, source, irvine):
    _sync(connector, source, _invoice(tax_amount="7.25"))
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    assert item.occurrences == 2 and item.status == "new"
    assert not Invoice.objects.exists()


def test_it_does_not_check_lines_without_a_known_jurisdiction(connector, source, irvine):
    run = _sync(
        connector,
        source,
        _invoice("INV-1", tax_amount="1.00", jurisdiction=""),
        _invoice("INV-2", tax_amount="1.00", jurisdiction="US-NV-89501"),
    )
    assert run.business_errors == 0 and Invoice.objects.count() == 2


def test_it_uses_the_rate_valid_on_the_issue_date(connector, source, irvine, admin_actor):
    state = irvine.components.get(name="CA STATE TAX")
    tax.tax_component_end(
        component=state, valid_to=dt.date(2026, 2, 28), actor=admin_actor, reason="Rate cut"
    )
    tax.tax_component_add(
        jurisdiction=irvine,
        name="CA STATE TAX",
        authority="CALIFORNIA",
        type="state",
        rate="5.5",
        valid_from=dt.date(2026, 3, 1),
        actor=admin_actor,
        reason="Rate cut",
    )
    # The source invoices are issued on 2026-03-01: 5.5 + 0.25 + 1 + 0.5 = 7.25 %.
    run = _sync(connector, source, _invoice(tax_amount="7.25"))
    assert run.business_errors == 0 and Invoice.objects.get().tax_total == Decimal("7.25")


def test_it_expects_no_tax_from_an_exempt_customer(connector, source, irvine):
    _sync(connector, source)
    Customer.objects.update(tax_exempt=True, exemption_certificate="CA-RESALE-1")
    run = _sync(connector, source, _invoice(tax_amount="7.75"))
    item = ExceptionItem.objects.get()
    assert run.business_errors == 1 and item.error_details[-1]["expected"] == "0.00"


def test_it_asks_the_database_a_fixed_number_of_times_when_nothing_applies(connector, entity, irvine):
    customer = f.CustomerFactory(legal_entity=entity)
    from revops.services.events import external_ref_link

    external_ref_link(
        system="taxsource",
        object_type="customer",
        external_id="cus_1",
        target=customer,
        actor=Actor.for_system("taxsource", "t"),
        reason="t",
    )
    kind = TaxSourceKind(connector)
    ctx = WriteContext(
        system="taxsource", actor=Actor.for_system("taxsource", "t"), legal_entity=entity, reason="t"
    )
    from connectors.tax_check import check_invoice_tax

    records = [kind.map(_raw(_invoice(f"INV-{i}", jurisdiction=""))) for i in range(50)]
    with CaptureQueriesContext(connection) as queries:
        for rec in records:
            assert check_invoice_tax(rec, ctx) is None
    assert len(queries) <= 2
    other = [kind.map(_raw(_invoice(f"INV-{i}", jurisdiction="US-NV-89501"))) for i in range(50)]
    with CaptureQueriesContext(connection) as queries:
        for rec in other:
            assert check_invoice_tax(rec, ctx) is None
    assert len(queries) == 0


def test_it_opens_tax_mismatch_from_the_bulk_path_too(connector, source, irvine):
    # A page of several new invoices goes through the set-based path first.
    run = _sync(
        connector,
        source,
        _invoice("INV-1", tax_amount="7.75"),
        _invoice("INV-2", tax_amount="6.00"),
        _invoice("INV-3", tax_amount="7.75"),
    )
    assert run.business_errors == 1 and run.created == 3
    assert set(Invoice.objects.values_list("number", flat=True)) == {"INV-1", "INV-3"}
    assert ExceptionItem.objects.get().external_id == "in_INV-2"


def test_it_leaves_a_corrected_invoice_alone_when_the_source_sends_it_again(
    connector, source, irvine, analyst
):
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    exception_resubmit(
        item=item, correction={"_tax": "use_expected"}, actor=Actor.for_user(analyst), reason="ok"
    )
    changed = {**_invoice(tax_amount="7.25"), "status": "paid"}
    run = _sync(connector, source, changed)
    assert run.business_errors == 0
    assert ExceptionItem.objects.count() == 1
    assert Invoice.objects.get().total == Decimal("107.75")


def test_it_refuses_an_unknown_directive():
    with pytest.raises(ValueError, match="_tax must be one of"):
        split_correction({"_tax": "split_the_difference"})
    with pytest.raises(ValueError, match="_discount is not a correction"):
        split_correction({"_discount": "yes"})
    assert split_correction({"total": "1", "_tax": "use_expected"}) == (
        {"total": "1"},
        {"_tax": "use_expected"},
    )


def test_it_reopens_the_item_when_a_directive_does_not_fit(connector, source, irvine, analyst):
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = exception_resubmit(
        item=ExceptionItem.objects.get(),
        correction={"_tax": "guess"},
        actor=Actor.for_user(analyst),
        reason="trying",
    )
    assert item.status == "new" and "must be one of" in item.message
    assert not Invoice.objects.exists()


def _raw(payload: dict) -> RawRecord:
    return RawRecord("invoice", payload["id"], payload, source_type="invoice")


def test_it_sets_up_the_fixture_jurisdiction_at_7_75(irvine):
    assert sum(
        TaxRateComponent.objects.filter(jurisdiction=irvine).values_list("rate", flat=True)
    ) == Decimal("7.75")


def test_it_reaches_the_team_a_routing_rule_names_with_its_due_time(connector, source, irvine, entity):
    from django.contrib.auth.models import Group

    from exceptions_queue.models import RoutingRule

    team = Group.objects.create(name="Indirect tax")
    RoutingRule.objects.create(
        name="Tax mismatches of US01",
        position=1,
        codes=["TAX_MISMATCH"],
        legal_entity=entity,
        team=team,
        priority=2,
        sla_hours=24,
    )
    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    assert item.team == team and item.priority == 2
    assert item.due_at - item.first_seen_at == dt.timedelta(hours=24)
    assert item.legal_entity == entity


def test_it_lets_an_analyst_fix_it_in_the_browser_with_history_of_who_and_what(
    client, connector, source, irvine, analyst
):
    from django.urls import reverse

    _sync(connector, source, _invoice(tax_amount="7.25"))
    item = ExceptionItem.objects.get()
    client.force_login(analyst)
    page = client.get(reverse("exceptions_queue:detail", args=[item.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "CA SPECIAL TAX (ORANGE COUNTY DISTRICT TAX SP) 0.5 %" in text
    assert "Correct the tax to the expected 7.75 USD" in text and "Accept taxsource" in text
    response = client.post(
        reverse("exceptions_queue:resubmit", args=[item.pk]),
        {"option": "use_expected", "reason": "District tax missing in billing"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "resolved"
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal("107.75")
    history = client.get(reverse("invoice_history", args=[invoice.pk])).content.decode()
    assert "District tax missing in billing" in history and "resubmitted by analyst" in history
    assert "line 1 7.25 USD → 7.75 USD" in history


def test_it_leaves_a_bad_tax_mode_or_currency_to_the_invoice_services(connector, source, irvine):
    run = _sync(
        connector,
        source,
        _invoice("INV-1", tax_amount="1.00", mode="sideways"),
        {**_invoice("INV-2", tax_amount="1.00"), "currency": "ZZZ"},
    )
    assert run.status == "succeeded" and run.business_errors == 2
    assert set(ExceptionItem.objects.values_list("code", flat=True)) <= {
        "VALIDATION_FAILED",
        "CURRENCY_MISMATCH",
    }
    assert not Invoice.objects.exists()
