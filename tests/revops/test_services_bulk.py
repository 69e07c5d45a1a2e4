"""Set-based creation leaves what the one-by-one services leave: the same
rows, lines, history attribution, events and external ids; the same rules
refuse the same input with the same messages."""

from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import (
    BusinessEvent,
    Customer,
    CustomerContact,
    ExternalRef,
    Invoice,
    InvoiceLine,
)
from revops.services import billing, bulk, bulk_rows, event_listeners, parties
from revops.services.bulk_params import AnyOf
from revops.services.events import external_ref_link
from tests import factories as f

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Actor.for_system("crm", "connector crm-eu, run 7")
REASON = "Sync crm-eu run 7"


@pytest.fixture
def entity():
    return f.LegalEntityFactory()


def _one_by_one_then_bulk(one_by_one, in_bulk, snapshot):
    """Snapshots of the database after each way, from the same starting point."""
    with transaction.atomic():
        one_by_one()
        first = snapshot()
        transaction.set_rollback(True)
    with transaction.atomic():
        in_bulk()
        second = snapshot()
        transaction.set_rollback(True)
    return first, second


def _history(model, *fields):
    return sorted(
        model.history.order_by("history_date", "history_id").values_list(
            "history_type",
            "history_source",
            "history_actor",
            "history_user_id",
            "history_change_reason",
            *fields,
        )
    )


def _events():
    rows = []
    for event in BusinessEvent.objects.order_by("id"):
        correlation = event.correlation_id is not None and (
            Invoice.objects.filter(pk=event.subject_id, correlation_id=event.correlation_id).exists()
        )
        rows.append((event.type, event.subject_label, event.source, event.actor, event.payload, correlation))
    return sorted(rows)


def _refs():
    return sorted(
        (ref.system, ref.object_type, ref.external_id, str(ref.target)) for ref in ExternalRef.objects.all()
    )


# -- customers -------------------------------------------------------------------------------------

CUSTOMER_FIELDS = [
    "number",
    "name",
    "legal_entity_id",
    "status",
    "currency",
    "payment_terms_days",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tax_id",
    "tax_country",
    "tax_region",
    "tax_exempt",
    "exemption_certificate",
]


def _customer_specs(entity):
    return [
        bulk.CustomerSpec(
            number=" C-1 ",
            name=" Globex GmbH ",
            legal_entity=entity,
            currency="eur",
            country="de",
            details={"city": "Berlin", "tax_id": "de 123 456 789", "tax_country": "de"},
            contacts=(bulk.ContactSpec(name="Ap Team", email=" AP@Globex.example "),),
            external_id="cus_1",
        ),
        bulk.CustomerSpec(
            number="C-2",
            name="Initech",
            legal_entity=entity,
            currency="USD",
            country="US",
            details={"status": "closed", "payment_terms_days": 45},
            contacts=(
                bulk.ContactSpec(name="Bill", email="bill@initech.example"),
                bulk.ContactSpec(name="Peter", email="peter@initech.example", role="Engineer"),
            ),
            external_id="cus_2",
        ),
        bulk.CustomerSpec(number="C-3", name="Hooli", legal_entity=entity, currency="USD", country="US"),
    ]


def _create_customers_one_by_one(specs, *, system="crm"):
    for spec in specs:
        customer = parties.customer_create(
            number=spec.number,
            name=spec.name,
            legal_entity=spec.legal_entity,
            currency=spec.currency,
            country=spec.country,
            actor=SYSTEM,
            reason=REASON,
            **spec.details,
        )
        if spec.external_id:
            external_ref_link(
                system=system,
                object_type="customer",
                external_id=spec.external_id,
                target=customer,
                actor=SYSTEM,
                reason=REASON,
            )
        for contact in spec.contacts:
            parties.contact_add(
                customer=customer,
                name=contact.name,
                email=contact.email,
                phone=contact.phone,
                role=contact.role,
                actor=SYSTEM,
                reason=REASON,
            )


def _customer_snapshot():
    return {
        "customers": sorted(Customer.objects.values_list(*CUSTOMER_FIELDS)),
        "customer history": _history(Customer, *CUSTOMER_FIELDS),
        "contacts": sorted(
            CustomerContact.objects.values_list(
                "customer__number", "name", "email", "phone", "role", "is_primary"
            )
        ),
        "contact history": _history(CustomerContact, "name", "email", "is_primary"),
        "events": _events(),
        "event history": _history(BusinessEvent, "type", "subject_label"),
        "refs": _refs(),
        "ref history": _history(ExternalRef, "system", "object_type", "external_id"),
    }


def test_it_creates_customers_as_one_by_one_creation_does(entity):
    specs = _customer_specs(entity)
    first, second = _one_by_one_then_bulk(
        lambda: _create_customers_one_by_one(specs),
        lambda: bulk.customers_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm"),
        _customer_snapshot,
    )
    assert first == second
    assert len(second["customers"]) == 3 and len(second["customer history"]) == 3
    assert len(second["contacts"]) == 3 and len(second["refs"]) == 2
    assert [row[:5] for row in second["customer history"]] == [("+", "crm", SYSTEM.label, None, REASON)] * 3


def test_it_returns_saved_customers_with_their_ids(entity):
    result = bulk.customers_create_many(specs=_customer_specs(entity), actor=SYSTEM, reason=REASON)
    assert [c.number for c in result.objects] == ["C-1", "C-2", "C-3"]
    for customer in result.objects:
        assert customer.pk and Customer.objects.get(pk=customer.pk).number == customer.number
        assert not customer._state.adding


def test_a_person_is_recorded_as_the_history_user(entity, analyst):
    person = Actor.for_user(analyst)
    bulk.customers_create_many(specs=_customer_specs(entity)[:1], actor=person, reason="Imported")
    row = Customer.history.get()
    assert (row.history_user, row.history_source, row.history_actor) == (analyst, "revops", "analyst")
    assert row.history_change_reason == "Imported"


def _refusal(call):
    try:
        with transaction.atomic():
            call()
    except DomainValidationError as exc:
        return exc.message_dict
    raise AssertionError("not refused")


@pytest.mark.parametrize(
    "bad",
    [
        {"currency": "ZZZ"},
        {"country": "Germany"},
        {"name": "  "},
        {"details": {"tax_id": "123", "tax_country": "DE"}},
        {"details": {"tax_exempt": True}},
        {"details": {"favourite_colour": "blue"}},
        {"contacts": (bulk.ContactSpec(name="X", email="not-an-email"),)},
        {"contacts": (bulk.ContactSpec(name="", email="x@example.com"),)},
        # What only the model's fields hold (checked on values, without building the customer):
        {"name": "N" * 201},
        {"number": "C" * 41},
        {"details": {"city": "C" * 101, "postal_code": "P" * 21}},
        {"details": {"status": "dormant"}},
        {"details": {"payment_terms_days": -1}},
        {"details": {"payment_terms_days": "thirty"}},
        {"name": "", "country": "", "currency": ""},
    ],
)
def test_it_refuses_what_the_services_refuse_with_their_message(entity, bad):
    values = dict(number="C-9", name="Umbrella", legal_entity=entity, currency="USD", country="US")
    values.update(bad)
    spec = bulk.CustomerSpec(**values)
    expected = _refusal(lambda: _create_customers_one_by_one([spec]))
    result = bulk.customers_create_many(specs=[spec], actor=SYSTEM, reason=REASON, partial=True)
    assert result.created == {} and result.rejected[0].message_dict == expected
    with pytest.raises(bulk.BulkValidationError) as caught:
        bulk.customers_create_many(specs=[spec], actor=SYSTEM, reason=REASON)
    assert caught.value.rejected[0].message_dict == expected
    assert (
        not Customer.objects.exists() and not Customer.history.exists() and not BusinessEvent.objects.exists()
    )


def test_a_rule_only_the_database_holds_refuses_the_batch_as_it_refuses_one(entity):
    spec = bulk.CustomerSpec("C-1", "Long terms", entity, "USD", "US", details={"payment_terms_days": 400})
    with pytest.raises(IntegrityError, match="customer_terms_at_most_a_year"), transaction.atomic():
        _create_customers_one_by_one([spec])
    with pytest.raises(IntegrityError, match="customer_terms_at_most_a_year"), transaction.atomic():
        bulk.customers_create_many(specs=[spec], actor=SYSTEM, reason=REASON, partial=True)
    assert not Customer.objects.exists() and not Customer.history.exists()


def test_all_or_nothing_writes_nothing_when_one_spec_is_invalid(entity):
    specs = [*_customer_specs(entity), bulk.CustomerSpec("C-4", "Bad", entity, "USD", "Nowhere")]
    with pytest.raises(bulk.BulkValidationError) as caught:
        bulk.customers_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm")
    assert set(caught.value.rejected) == {3} and "3.country" in caught.value.message_dict
    assert not Customer.objects.exists() and not ExternalRef.objects.exists()
    assert not CustomerContact.objects.exists() and not BusinessEvent.objects.exists()


def test_partial_writes_the_valid_ones_and_reports_the_rest(entity):
    f.CustomerFactory(number="TAKEN", legal_entity=entity)
    specs = [
        bulk.CustomerSpec("C-1", "One", entity, "USD", "US", external_id="a"),
        bulk.CustomerSpec("TAKEN", "Two", entity, "USD", "US", external_id="b"),
        bulk.CustomerSpec("C-1", "Again", entity, "USD", "US", external_id="c"),  # second in the batch
        bulk.CustomerSpec("C-4", "Four", entity, "USD", "US", external_id="a"),  # id already linked above
        bulk.CustomerSpec("C-5", "Five", entity, "USD", "US", external_id=" "),
        bulk.CustomerSpec("C-6", "Six", entity, "USD", "XX1"),
    ]
    result = bulk.customers_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm", partial=True)
    assert [c.number for c in result.objects] == ["C-1"]
    assert result.rejected[1].message_dict == {"number": ["Customer number TAKEN is already in use."]}
    assert result.rejected[2].message_dict == {"number": ["Customer number C-1 is already in use."]}
    assert result.rejected[3].message_dict == {
        "external_id": ["crm customer a already points to another record."]
    }
    assert result.rejected[4].message_dict == {"external_id": ["An external id cannot be blank."]}
    assert set(result.rejected[5].message_dict) == {"country"}
    assert ExternalRef.objects.get().external_id == "a"


def test_an_external_id_the_system_already_uses_is_refused(entity):
    other = f.CustomerFactory(legal_entity=entity)
    external_ref_link(
        system="crm", object_type="customer", external_id="cus_1", target=other, actor=SYSTEM, reason=REASON
    )
    spec = bulk.CustomerSpec("C-1", "One", entity, "USD", "US", external_id="cus_1")
    result = bulk.customers_create_many(specs=[spec], actor=SYSTEM, reason=REASON, system="crm", partial=True)
    assert result.rejected[0].message_dict == {
        "external_id": ["crm customer cus_1 already points to another record."]
    }
    # Another system, or another object type, may use the same id.
    assert bulk.customers_create_many(specs=[spec], actor=SYSTEM, reason=REASON, system="erp").objects


def test_a_blank_reason_is_refused_before_anything_is_written(entity):
    with pytest.raises(ValueError):
        bulk.customers_create_many(specs=_customer_specs(entity), actor=SYSTEM, reason=" ")
    assert not Customer.objects.exists()


# -- invoices --------------------------------------------------------------------------------------


@pytest.fixture
def parties_for_invoices(entity):
    customer = parties.customer_create(
        number="C-1", name="Globex", legal_entity=entity, currency="USD", country="US", actor=SYSTEM
    )
    other = parties.customer_create(
        number="C-2", name="Initech", legal_entity=entity, currency="EUR", country="DE", actor=SYSTEM
    )
    contract = f.ContractFactory(customer=customer, currency="USD")
    product = f.ProductFactory()
    return customer, other, contract, product


def _invoice_specs(customer, other, contract, product):
    day = dt.date(2026, 3, 1)
    return [
        bulk.InvoiceSpec(
            number="INV-1",
            customer=customer,
            issue_date=day,
            lines=[
                billing.InvoiceLineSpec("Seats", 10, "12.50", tax_rate="8.875", tax_jurisdiction="NY"),
                billing.InvoiceLineSpec("Setup", 1, "99.99", tax_rate="8.875", product=product),
            ],
            contract=contract,
            period_start=day,
            period_end=dt.date(2026, 3, 31),
            external_id="in_1",
        ),
        bulk.InvoiceSpec(
            number="INV-2",
            customer=other,
            issue_date=day,
            lines=[billing.InvoiceLineSpec("Plan", 1, "40.00", tax_amount="5.22")],
            tax_mode="inclusive",
            due_date=dt.date(2026, 4, 15),
            expected_total=Decimal("40.00"),
            external_id="in_2",
        ),
        bulk.InvoiceSpec(
            number="INV-3",
            customer=customer,
            issue_date=day,
            lines=[billing.InvoiceLineSpec("Draft item", 2, "5.00")],
            issue=False,
            memo="not yet",
            external_id="in_3",
        ),
        bulk.InvoiceSpec(
            number="INV-4",
            customer=customer,
            issue_date=day,
            lines=[billing.InvoiceLineSpec("Free trial", 1, "0")],
            external_id="in_4",
        ),
    ]


def _create_invoices_one_by_one(specs, *, system="crm"):
    for spec in specs:
        invoice = billing.invoice_create(
            number=spec.number,
            customer=spec.customer,
            issue_date=spec.issue_date,
            lines=list(spec.lines),
            tax_mode=spec.tax_mode,
            contract=spec.contract,
            legal_entity=spec.legal_entity,
            currency=spec.currency,
            due_date=spec.due_date,
            period_start=spec.period_start,
            period_end=spec.period_end,
            issue=spec.issue,
            expected_total=spec.expected_total,
            memo=spec.memo,
            actor=SYSTEM,
            reason=REASON,
        )
        if spec.external_id:
            external_ref_link(
                system=system,
                object_type="invoice",
                external_id=spec.external_id,
                target=invoice,
                actor=SYSTEM,
                reason=REASON,
            )


INVOICE_FIELDS = [
    "number",
    "customer_id",
    "contract_id",
    "legal_entity_id",
    "currency",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "status",
    "tax_mode",
    "subtotal",
    "tax_total",
    "total",
    "amount_paid",
    "amount_credited",
    "amount_due",
    "memo",
]
LINE_FIELDS = [
    "invoice__number",
    "line_number",
    "product_id",
    "contract_line_id",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "tax_amount",
    "tax_rate",
    "tax_jurisdiction",
    "period_start",
    "period_end",
]


def _invoice_snapshot():
    by_contract = [
        (invoice.number, invoice.correlation_id == invoice.contract.correlation_id)
        for invoice in Invoice.objects.exclude(contract=None)
    ]
    return {
        "invoices": sorted(Invoice.objects.values_list(*INVOICE_FIELDS)),
        "correlation from contract": by_contract,
        "invoice history": _history(Invoice, *[name for name in INVOICE_FIELDS]),
        "lines": sorted(InvoiceLine.objects.values_list(*LINE_FIELDS)),
        "line history": _history(InvoiceLine, *LINE_FIELDS[1:]),
        "events": _events(),
        "event history": _history(BusinessEvent, "type", "subject_label", "payload"),
        "refs": _refs(),
        "ref history": _history(ExternalRef, "system", "object_type", "external_id"),
    }


def test_it_creates_invoices_as_one_by_one_creation_does(parties_for_invoices):
    specs = _invoice_specs(*parties_for_invoices)
    first, second = _one_by_one_then_bulk(
        lambda: _create_invoices_one_by_one(specs),
        lambda: bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm"),
        _invoice_snapshot,
    )
    assert first == second
    statuses = {row[0]: row[9] for row in second["invoices"]}
    assert statuses == {"INV-1": "open", "INV-2": "open", "INV-3": "draft", "INV-4": "paid"}
    assert second["correlation from contract"] == [("INV-1", True)]
    issued = [e for e in second["events"] if e[0] == "invoice.issued"]
    assert len(issued) == 3 and all(correlated for *_, correlated in issued)
    assert len(second["invoice history"]) == 4 + 3  # created, then issued (not the draft)


def test_an_issued_invoice_has_its_creation_before_its_issue_in_history(parties_for_invoices):
    specs = _invoice_specs(*parties_for_invoices)[:1]
    invoice = bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON).objects[0]
    latest = invoice.history.first()
    assert (latest.history_type, latest.status, latest.history_change_reason) == (
        "~",
        "open",
        "Invoice issued",
    )
    earlier = latest.prev_record
    assert (earlier.history_type, earlier.status, earlier.history_change_reason) == ("+", "draft", REASON)
    assert Invoice.objects.get(pk=invoice.pk).status == invoice.status == "open"


@pytest.mark.parametrize(
    "bad",
    [
        {"currency": "ZZZ"},
        {"tax_mode": "sometimes"},
        {"due_date": dt.date(2026, 2, 1)},
        {"period_start": dt.date(2026, 3, 31), "period_end": dt.date(2026, 3, 1)},
        {"lines": []},
        {"lines": [billing.InvoiceLineSpec("x", 1, "10", tax_rate="120")]},
        {"lines": [billing.InvoiceLineSpec("x", 1, "10", tax_amount="-1")]},
        {"lines": [billing.InvoiceLineSpec("x", 1, "10", tax_amount="11")], "tax_mode": "inclusive"},
        {"lines": [billing.InvoiceLineSpec("x", 1, "-10")]},
        {"lines": [billing.InvoiceLineSpec("x", "ten", "10")]},
        {"expected_total": Decimal("99.99")},
        {"number": "EXISTS"},
    ],
)
def test_it_refuses_invoices_the_services_refuse_with_their_message(parties_for_invoices, bad):
    customer, other, contract, product = parties_for_invoices
    _create_invoices_one_by_one(
        [bulk.InvoiceSpec("EXISTS", customer, dt.date(2026, 3, 1), [billing.InvoiceLineSpec("x", 1, "1")])]
    )
    values = dict(
        number="INV-9",
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[billing.InvoiceLineSpec("x", 1, "10")],
    )
    values.update(bad)
    spec = bulk.InvoiceSpec(**values)
    expected = _refusal(lambda: _create_invoices_one_by_one([spec]))
    before = (Invoice.objects.count(), Invoice.history.count(), BusinessEvent.objects.count())
    result = bulk.invoices_create_many(specs=[spec], actor=SYSTEM, reason=REASON, partial=True)
    assert result.created == {} and result.rejected[0].message_dict == expected
    assert (Invoice.objects.count(), Invoice.history.count(), BusinessEvent.objects.count()) == before


def test_a_contract_of_another_customer_or_currency_is_refused(parties_for_invoices):
    customer, other, contract, _ = parties_for_invoices
    line = [billing.InvoiceLineSpec("x", 1, "10")]
    specs = [
        bulk.InvoiceSpec("INV-1", other, dt.date(2026, 3, 1), line, contract=contract),
        bulk.InvoiceSpec("INV-2", customer, dt.date(2026, 3, 1), line, contract=contract, currency="EUR"),
    ]
    result = bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON, partial=True)
    assert set(result.rejected[0].message_dict) == {"contract"}
    assert set(result.rejected[1].message_dict) == {"currency"}


def test_the_same_number_twice_in_a_batch_creates_the_first(parties_for_invoices):
    customer, *_ = parties_for_invoices
    line = [billing.InvoiceLineSpec("x", 1, "10")]
    specs = [bulk.InvoiceSpec("INV-1", customer, dt.date(2026, 3, 1), line)] * 2
    result = bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON, partial=True)
    assert list(result.created) == [0]
    assert result.rejected[1].message_dict == {"number": ["Invoice INV-1 already exists in US01."]}


def test_the_database_still_refuses_what_breaks_its_constraints(parties_for_invoices):
    """The bulk writes go through the same constraints: a row that slipped past
    validation would still be refused, and the batch with it."""
    customer, *_ = parties_for_invoices
    spec = bulk.InvoiceSpec("INV-1", customer, dt.date(2026, 3, 1), [billing.InvoiceLineSpec("x", 1, "10")])
    original = billing.issued_status
    try:
        billing.issued_status = lambda invoice: Invoice.Status.PAID  # paid while 10.00 is due
        with pytest.raises(IntegrityError), transaction.atomic():
            bulk.invoices_create_many(specs=[spec], actor=SYSTEM, reason=REASON)
    finally:
        billing.issued_status = original
    assert not Invoice.objects.filter(number="INV-1").exists()


def test_it_works_on_the_embedded_sqlite_database(migrated_sqlite):
    script = r"""
import datetime as dt
import django
django.setup()
from revops.actors import Actor
from revops.models import BusinessEvent, Customer, ExternalRef, Invoice
from revops.services import billing, bulk, parties
a = Actor.for_system("crm", "sqlite bulk check")
le = parties.legal_entity_create(code="US01", name="Acme", country="US", functional_currency="USD", actor=a)
customers = bulk.customers_create_many(
    specs=[bulk.CustomerSpec(f"C{i}", f"Customer {i}", le, "USD", "US", external_id=f"cus_{i}") for i in range(3)],
    actor=a, reason="import", system="crm").objects
invoices = bulk.invoices_create_many(
    specs=[bulk.InvoiceSpec(f"INV-{c.number}", c, dt.date(2026, 3, 1),
                            [billing.InvoiceLineSpec("Seats", 1, "3790.00", tax_amount="274.78")])
           for c in customers],
    actor=a, reason="import").objects
assert Customer.objects.count() == 3 and Customer.history.count() == 3
assert ExternalRef.objects.count() == 3 and ExternalRef.history.count() == 3
assert [i.status for i in Invoice.objects.all()] == ["open"] * 3, list(Invoice.objects.values("status", "total"))
assert Invoice.history.count() == 6 and BusinessEvent.objects.count() == 6
assert BusinessEvent.objects.filter(type="invoice.issued").first().payload["total"] == "4064.7800"
print("ok")
"""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{migrated_sqlite}",
        "DJANGO_SETTINGS_MODULE": "revops.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_a_batch_lookup_returns_what_the_orm_returns(entity):
    for number in ("C-1", "C-2", "C-3"):
        f.CustomerFactory(number=number, legal_entity=entity)
    query = Customer.objects.filter(AnyOf(F("number"), ["C-1", "C-3", "C-9"])).values_list("number", "pk")
    assert sorted(bulk_rows.lookup(query)) == sorted(query) and len(list(query)) == 2
    assert bulk_rows.lookup(Customer.objects.filter(AnyOf(F("number"), [])).values_list("number")) == []


def test_a_batch_lookup_finds_keys_with_characters_an_array_quotes(entity):
    awkward = ['C"1', "C\\2", "C,3", "{C4}", "C 5", "NULL", "Ç6"]
    for number in awkward:
        f.CustomerFactory(number=number, legal_entity=entity)
    f.CustomerFactory(number="C7", legal_entity=entity)
    query = Customer.objects.filter(AnyOf(F("number"), [*awkward, "C8"])).values_list("number")
    assert sorted(number for (number,) in bulk_rows.lookup(query)) == sorted(awkward)
    by_id = Customer.objects.filter(AnyOf(F("pk"), [c.pk for c in Customer.objects.filter(number="C7")]))
    assert [c.number for c in by_id] == ["C7"]


def test_garbage_collection_is_paused_only_inside_and_restored(entity):
    assert gc.isenabled()
    with bulk_rows.collection_paused():
        assert not gc.isenabled()
        bulk.customers_create_many(specs=_customer_specs(entity), actor=SYSTEM, reason=REASON)
    assert gc.isenabled() and Customer.objects.count() == 3
    with pytest.raises(ValueError), bulk_rows.collection_paused():
        raise ValueError("a failed batch")
    assert gc.isenabled()


def test_listeners_hear_each_event_as_they_do_one_by_one(parties_for_invoices):
    heard = []

    def listener(event, subject):
        assert BusinessEvent.objects.filter(pk=event.pk, type=event.type).exists()  # written before
        heard.append((event.type, subject.number, event.payload["total"], event.correlation_id))

    specs = _invoice_specs(*parties_for_invoices)
    event_listeners.register_event_listener(listener)
    try:
        calls = []
        for create in (
            lambda: _create_invoices_one_by_one(specs),
            lambda: bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm"),
        ):
            heard.clear()
            with transaction.atomic():
                create()
                transaction.set_rollback(True)
            calls.append(sorted(heard, key=lambda call: call[1]))
    finally:
        event_listeners.unregister_event_listener(listener)
    one_by_one, in_bulk = calls
    assert len(in_bulk) == 3 and [c[:3] for c in in_bulk] == [c[:3] for c in one_by_one]
    assert all(correlation is not None for *_, correlation in in_bulk)


def test_a_listener_with_a_batch_hears_a_bulk_write_in_one_call(parties_for_invoices):
    batches, single = [], []

    def listener(event, subject):
        single.append(event.type)

    listener.batch = lambda pairs: batches.append([(event.type, subject.number) for event, subject in pairs])
    specs = _invoice_specs(*parties_for_invoices)
    event_listeners.register_event_listener(listener)
    try:
        with transaction.atomic():
            bulk.invoices_create_many(specs=specs, actor=SYSTEM, reason=REASON, system="crm")
            transaction.set_rollback(True)
    finally:
        event_listeners.unregister_event_listener(listener)
    assert single == [] and len(batches) >= 1
    heard = [pair for batch in batches for pair in batch]
    issued = sorted(number for kind, number in heard if kind == "invoice.issued")
    assert issued == sorted(s.number for s in specs if s.issue)
