"""The engine's set-based path (connectors.bulk) against the one-by-one path:
the same records give the same database, whichever path writes them; what the
bulk path cannot write goes one by one and still opens exception items."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from connectors import bulk, engine
from connectors import records as r
from connectors.base import ConnectorKind, Page, RawRecord, register_kind
from connectors.models import Connector, InboundRecord, SourceObject
from exceptions_queue.models import ExceptionItem
from revops.actors import Actor
from revops.models import (
    BusinessEvent,
    Customer,
    CustomerContact,
    ExternalRef,
    Invoice,
    InvoiceLine,
)
from revops.services import bulk as services
from revops.services.events import external_ref_link
from tests import factories as f

pytestmark = pytest.mark.django_db


@register_kind
class PagesKind(ConnectorKind):
    """Serves `PagesKind.pages[stream]` one page at a time; richer payloads
    than the engine tests' memory source (addresses, contacts, tax ids, lines,
    products, contracts, draft and inclusive-tax invoices)."""

    key = "pages"
    label = "Pages (bulk tests)"
    streams = ("customer", "invoice")
    needs_base_url = False
    pages: ClassVar[dict[str, list[list[dict[str, Any]]]]] = {}

    def test_connection(self) -> str:
        return "ok"

    def fetch(self, stream, cursor, *, full):
        pages = self.pages.get(stream, [])
        index = (cursor or {}).get("page", 0)
        items = pages[index] if index < len(pages) else []
        records = [
            RawRecord(
                item.get("type", stream), item["id"], item, source_type=stream, version=item.get("v", "")
            )
            for item in items
        ]
        return Page(records, {"page": index + 1}, done=index + 1 >= len(pages))

    def map(self, raw):
        p = raw.payload
        if raw.object_type == "customer":
            if not p.get("name"):
                raise r.MappingError(f"Customer {raw.external_id} has no name.", field="name")
            return r.CustomerRecord(
                external_id=p["id"],
                name=p["name"],
                currency=p.get("currency"),
                email=p.get("email", ""),
                address=r.Address(**p.get("address", {})),
                tax_id=p.get("tax_id", ""),
                deleted=p.get("deleted", False),
            )
        if raw.object_type == "product":
            return r.ProductRecord(external_id=p["id"], name=p["name"], sku=p["id"])
        lines = tuple(
            r.InvoiceLineRecord(
                description=line[0],
                quantity=Decimal(1),
                unit_amount=Decimal(line[1]),
                amount=Decimal(line[1]),
                tax_amount=Decimal(line[2]),
                tax_rate=Decimal(line[3]) if len(line) > 3 else Decimal(0),
                product_external_id=line[4] if len(line) > 4 else None,
            )
            for line in p["lines"]
        )
        amounts = sum(line.amount for line in lines)
        taxes = sum(line.tax_amount for line in lines)
        inclusive = p.get("tax_mode") == "inclusive"
        return r.InvoiceRecord(
            external_id=p["id"],
            number=p.get("number", ""),
            customer_external_id=p["customer"],
            currency=p.get("currency", "USD"),
            status=p.get("status", "open"),
            tax_mode=p.get("tax_mode", "exclusive"),
            issue_date=dt.date(2026, 3, 1),
            due_date=dt.date(2026, 3, 31) if "no_due" not in p else None,
            subtotal=amounts,
            tax_total=taxes,
            total=Decimal(p["total"]) if "total" in p else (amounts if inclusive else amounts + taxes),
            amount_paid=Decimal(0),
            lines=lines,
            contract_external_id=p.get("contract"),
        )


@pytest.fixture
def source():
    PagesKind.pages = {}
    yield PagesKind
    PagesKind.pages = {}


@pytest.fixture
def connector():
    return Connector.objects.create(name="pg", kind="pages", legal_entity=f.LegalEntityFactory())


def _run(connector, **kwargs):
    run = engine.run_create(connector=connector, trigger="manual", **kwargs)
    return engine.execute_run(run.pk)


def _one_by_one(monkeypatch):
    monkeypatch.setattr(bulk, "process_batch", lambda raws, **kwargs: (Counter(), raws))


def _customer(i, **extra):
    return {"id": f"cus_{i}", "name": f"Customer {i}", "currency": "USD", "v": "001", **extra}


def _invoice(i, customer, **extra):
    return {
        "id": f"in_{i}",
        "number": f"INV-{i}",
        "customer": customer,
        "lines": [["Platform", "100.00", "8.00", "8"], ["Seats", "250.00", "20.00", "8"]],
        "v": "001",
        **extra,
    }


# -- what the database holds, without ids and times ------------------------------------------------

_RUN = re.compile(r"run \d+")


def _plain(value):
    if isinstance(value, str):
        return _RUN.sub("run N", value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _history(model, *fields):
    return sorted(
        _plain(row)
        for row in model.history.values_list(
            "history_type",
            "history_source",
            "history_actor",
            "history_user_id",
            "history_change_reason",
            *fields,
        )
    )


def _label(obj):
    return str(obj) if obj is not None else None


def snapshot(*runs):
    events = []
    for event in BusinessEvent.objects.all():
        subject = event.subject
        correlated = event.correlation_id is not None and event.correlation_id == getattr(
            subject, "correlation_id", None
        )
        events.append((event.type, event.subject_label, event.source, event.actor, event.payload, correlated))
    return _plain(
        {
            "runs": [
                (run.read, run.created, run.updated, run.unchanged, run.skipped, run.business_errors)
                for run in runs
            ],
            "customers": sorted(
                Customer.objects.values_list(
                    "number",
                    "name",
                    "status",
                    "currency",
                    "country",
                    "city",
                    "postal_code",
                    "tax_id",
                    "tax_country",
                )
            ),
            "customer history": _history(Customer, "number", "name", "status", "tax_id"),
            "contacts": sorted(
                CustomerContact.objects.values_list("customer__number", "name", "email", "is_primary")
            ),
            "contact history": _history(CustomerContact, "email", "is_primary"),
            "invoices": sorted(
                Invoice.objects.values_list(
                    "number",
                    "customer__number",
                    "contract__number",
                    "status",
                    "tax_mode",
                    "subtotal",
                    "tax_total",
                    "total",
                    "amount_due",
                    "issue_date",
                    "due_date",
                )
            ),
            "invoice history": _history(Invoice, "number", "status", "total"),
            "lines": sorted(
                InvoiceLine.objects.values_list(
                    "invoice__number",
                    "line_number",
                    "description",
                    "amount",
                    "tax_amount",
                    "tax_rate",
                    "product__sku",
                )
            ),
            "line history": _history(InvoiceLine, "line_number", "description", "amount"),
            "events": sorted(events),
            "event history": _history(BusinessEvent, "type", "subject_label", "payload"),
            "refs": sorted(
                (ref.system, ref.object_type, ref.external_id, _label(ref.target))
                for ref in ExternalRef.objects.all()
            ),
            "ref history": _history(ExternalRef, "object_type", "external_id"),
            "inbound": sorted(
                (
                    i.object_type,
                    i.external_id,
                    i.version,
                    i.source_type,
                    i.content_hash,
                    i.payload,
                    i.outcome,
                    i.message,
                    _label(i.content_type.get_object_for_this_type(pk=i.object_id)) if i.object_id else None,
                    i.exception_item_id is not None,
                )
                for i in InboundRecord.objects.all()
            ),
            "source objects": sorted(
                SourceObject.objects.values_list(
                    "object_type", "external_id", "applied_version", "applied_hash"
                )
            ),
            "exception items": sorted(
                ExceptionItem.objects.values_list(
                    "code", "dedupe_key", "title", "status", "occurrences", "step_key"
                )
            ),
        }
    )


def assert_same(one_by_one, in_bulk):
    """Table by table, what only one way left behind."""
    differences = {
        name: {
            "one by one only": [row for row in rows if row not in in_bulk[name]],
            "bulk only": [row for row in in_bulk[name] if row not in rows],
        }
        for name, rows in one_by_one.items()
        if rows != in_bulk[name]
    }
    assert not differences, differences


def _both_ways(monkeypatch, connector, prepare, runs=1):
    """The same syncs one by one and then through the bulk path, from the same
    starting point; returns both snapshots and how many records of the syncs
    the bulk path took (counted in `BULK_TOOK`)."""
    results = []
    for one_by_one in (True, False):
        with transaction.atomic():
            with monkeypatch.context() as patch:
                if one_by_one:
                    _one_by_one(patch)
                prepare()
                BULK_TOOK.clear()
                if not one_by_one:
                    patch.setattr(bulk, "process_batch", _counting(bulk.process_batch))
                done = [_run(connector, full=True) for _ in range(runs)]
            assert all(run.status == "succeeded" for run in done)
            results.append(snapshot(*done))
            transaction.set_rollback(True)
    return results


BULK_TOOK: Counter = Counter()


def _counting(process_batch):
    def counted(raws, **kwargs):
        counts, rest = process_batch(raws, **kwargs)
        BULK_TOOK.update(counts)
        return counts, rest

    return counted


def _known_products_and_contract(connector):
    actor = Actor.for_system("pages", "setup")
    product = f.ProductFactory(sku="SKU-1", name="Platform seat")
    external_ref_link(
        system="pages",
        object_type="product",
        external_id="prod_1",
        target=product,
        actor=actor,
        reason="setup",
    )
    customer = f.CustomerFactory(
        number="cus_old", name="Old Customer", legal_entity=connector.legal_entity, currency="USD"
    )
    external_ref_link(
        system="pages",
        object_type="customer",
        external_id="cus_old",
        target=customer,
        actor=actor,
        reason="setup",
    )
    contract = f.ContractFactory(customer=customer, currency="USD", number="CT-1")
    external_ref_link(
        system="pages",
        object_type="contract",
        external_id="sub_1",
        target=contract,
        actor=actor,
        reason="setup",
    )


# -- equivalence ------------------------------------------------------------------------------------


def test_new_records_give_the_same_database_either_way(monkeypatch, connector, source):
    def prepare():
        _known_products_and_contract(connector)
        source.pages = {
            "customer": [
                [
                    _customer(
                        1,
                        email="AP@One.example",
                        address={"line1": "1 Main St", "city": "Austin", "country": "US"},
                    ),
                    _customer(2, currency=None, tax_id="12-3456789"),
                    _customer(3, deleted=True, address={"country": "de", "postal_code": "10115"}),
                ],
                [_customer(i) for i in range(4, 9)],
            ],
            "invoice": [
                [
                    _invoice(1, "cus_1"),
                    _invoice(2, "cus_2", status="draft", number=""),
                    _invoice(3, "cus_old", contract="sub_1"),
                    _invoice(
                        4, "cus_3", tax_mode="inclusive", lines=[["Plan", "40.00", "5.22", "15", "prod_1"]]
                    ),
                    _invoice(5, "cus_4", status="paid", no_due=True),
                    _invoice(6, "cus_5", lines=[["Free", "0", "0"]]),
                ]
            ],
        }

    one_by_one, in_bulk = _both_ways(monkeypatch, connector, prepare)
    assert_same(one_by_one, in_bulk)
    assert in_bulk["runs"] == [(14, 14, 0, 0, 0, 0)]
    assert BULK_TOOK == {"created": 14}
    assert len(in_bulk["invoices"]) == 6 and len(in_bulk["contacts"]) == 1
    assert {row[0]: row[3] for row in in_bulk["invoices"]}["INV-6"] == "paid"


def _statements(connector, source, size, start):
    source.pages = {"customer": [[_customer(i) for i in range(start, start + size)]]}
    run = engine.run_create(connector=connector, trigger="manual", full=True)
    with CaptureQueriesContext(connection) as queries:
        run = engine.execute_run(run.pk)
    assert (run.read, run.created) == (size, size)
    return len(queries)


def test_the_bulk_path_writes_a_page_in_as_many_statements_whatever_its_size(connector, source):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's; elsewhere bulk_create batches by the parameter limit")
    _statements(connector, source, 5, 1000)  # the first one also looks up sequences and table sizes
    small = _statements(connector, source, 20, 0)
    large = _statements(connector, source, 400, 100)
    # One by one, it is some thirty a record; a copy into a table with foreign
    # keys takes two more statements (triggers off, then its references checked).
    assert small == large < 50
    assert Customer.history.count() == 425 and ExternalRef.objects.count() == 425


def test_a_mixed_page_gives_the_same_counts_and_items_either_way(monkeypatch, connector, source):
    def prepare():
        _known_products_and_contract(connector)
        source.pages = {
            "customer": [[_customer(1), _customer(2)]],
            "invoice": [[_invoice(1, "cus_1"), _invoice(2, "cus_2")]],
        }
        _run(connector)  # what revops holds before the mixed page
        source.pages = {
            "customer": [
                [
                    _customer(1),  # exactly as stored: unchanged
                    _customer(2, name="Customer 2 renamed", v="002"),  # known: an update
                    _customer(3),  # new
                    _customer(4, name=""),  # cannot be mapped
                    _customer(5, currency="ZZZ"),  # breaks a rule
                    _customer(6),  # twice in the page: created, then updated
                    _customer(6, name="Customer 6 again"),
                    _customer(7, v="001"),  # new
                ]
            ],
            "invoice": [
                [
                    _invoice(1, "cus_1"),  # exactly as stored
                    _invoice(3, "cus_404"),  # unknown customer
                    _invoice(4, "cus_3", total="999.00"),  # stated total does not add up
                    _invoice(5, "cus_7"),  # new
                    _invoice(6, "cus_1", number="INV-5"),  # a number another invoice of the page has
                    _invoice(7, "cus_old", contract="sub_404"),  # an unknown contract: none, one by one
                    _invoice(8, "cus_old", lines=[["x", "10", "0", "0", "prod_404"]]),  # unknown product
                    _invoice(9, "cus_3", status="void"),  # a status only the one-by-one path follows
                    _invoice(10, "cus_old"),  # new
                ]
            ],
        }

    one_by_one, in_bulk = _both_ways(monkeypatch, connector, prepare)
    assert_same(one_by_one, in_bulk)
    read, created, updated, unchanged, skipped, errors = in_bulk["runs"][0]
    assert read == created + updated + unchanged + skipped + errors == 17
    assert (created, updated, unchanged, errors) == (8, 2, 2, 5)
    # New and valid: customers 3 and 7 and invoice 10 (invoice 5 shares its
    # number with invoice 6, so both go one by one); and the two exact repeats.
    assert BULK_TOOK == {"created": 3, "unchanged": 2}
    codes = Counter(item[0] for item in in_bulk["exception items"])
    assert codes == {
        "VALIDATION_FAILED": 2,
        "UNKNOWN_CUSTOMER": 1,
        "AMOUNT_MISMATCH": 1,
        "DUPLICATE_DOCUMENT": 1,
    }


def test_a_record_named_earlier_in_the_page_is_not_created_before_its_turn(monkeypatch, connector, source):
    """An invoice naming a customer that comes later in the page fails, as it
    does when the page is processed in order."""

    def prepare():
        source.pages = {
            "customer": [
                [
                    {**_invoice(1, "cus_late"), "type": "invoice"},
                    _customer("late"),
                    _customer(2),
                ]
            ]
        }

    one_by_one, in_bulk = _both_ways(monkeypatch, connector, prepare)
    assert_same(one_by_one, in_bulk)
    assert [item[0] for item in in_bulk["exception items"]] == ["UNKNOWN_CUSTOMER"]
    assert len(in_bulk["customers"]) == 2
    assert BULK_TOOK == {"created": 1}  # customer 2: customer "late" waits for its turn


def test_running_again_changes_nothing(monkeypatch, connector, source):
    def prepare():
        source.pages = {
            "customer": [[_customer(i) for i in range(1, 6)], [_customer(0, currency="ZZZ")]],
            "invoice": [[_invoice(i, f"cus_{i}") for i in range(1, 6)]],
        }

    one_by_one, in_bulk = _both_ways(monkeypatch, connector, prepare, runs=2)
    assert_same(one_by_one, in_bulk)
    first, second = in_bulk["runs"]
    assert first == (11, 10, 0, 0, 0, 1)
    assert second == (11, 0, 0, 10, 0, 1)  # the failed record is tried again, and fails again
    assert BULK_TOOK == {"created": 10, "unchanged": 10}
    assert [item[4] for item in in_bulk["exception items"]] == [2]  # the same item, seen twice


def test_a_repeat_in_the_bulk_path_marks_the_stored_record_unchanged(connector, source):
    source.pages = {"customer": [[_customer(1), _customer(2)]]}
    first = _run(connector)
    tables = (Customer.objects.count(), Customer.history.count(), BusinessEvent.objects.count())
    again = _run(connector, full=True)
    assert (again.read, again.unchanged) == (2, 2)
    assert (Customer.objects.count(), Customer.history.count(), BusinessEvent.objects.count()) == tables
    assert set(InboundRecord.objects.values_list("outcome", "last_run_id")) == {("unchanged", again.pk)}
    assert set(InboundRecord.objects.values_list("run_id", flat=True)) == {first.pk}


def test_an_earlier_failure_is_resolved_when_the_record_goes_through(connector, source):
    source.pages = {"invoice": [[_invoice(1, "cus_9"), _invoice(2, "cus_9")]]}
    _run(connector)
    assert ExceptionItem.objects.filter(status="new").count() == 2
    source.pages = {"customer": [[_customer(9), _customer(10)]], "invoice": source.pages["invoice"]}
    run = _run(connector, full=True)
    assert run.business_errors == 0 and Invoice.objects.count() == 2
    assert set(ExceptionItem.objects.values_list("status", flat=True)) == {"resolved"}


def test_a_constraint_error_hands_the_page_to_the_one_by_one_path(monkeypatch, connector, source):
    """If the set-based write meets a constraint (e.g. a record written
    meanwhile by a webhook), nothing of it stays and every record of the page
    goes one by one."""
    source.pages = {"customer": [[_customer(1), _customer(2), _customer(3)]]}
    calls = []
    create = services.customers_create_many

    def refuse(**kwargs):
        calls.append(kwargs)
        with transaction.atomic():
            create(**kwargs)
            raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "customers_create_many", refuse)
    run = _run(connector)
    assert calls and (run.read, run.created) == (3, 3)
    assert Customer.objects.count() == 3 and Customer.history.count() == 3
    assert ExternalRef.objects.count() == 3 and InboundRecord.objects.count() == 3


def test_a_single_record_goes_one_by_one(connector, source, monkeypatch, settings):
    settings.REVOPS_SYNC_BATCH_RECORDS = 1  # each page in its own transaction
    taken = []
    original = bulk.process_batch

    def spy(raws, **kwargs):
        taken.append(len(raws))
        return original(raws, **kwargs)

    monkeypatch.setattr(bulk, "process_batch", spy)
    source.pages = {"customer": [[_customer(1)], [_customer(2), _customer(3)]]}
    run = _run(connector)
    assert run.created == 3 and taken == [2]


def _raw(item, stream=None):
    stream = stream or ("invoice" if item["id"].startswith("in_") else "customer")
    return RawRecord(stream, item["id"], item, source_type=stream, version=item.get("v", ""))


def _synchronous_commit_after(connector, raws, *, run=True):
    kind = PagesKind(connector)
    sync_run = engine.run_create(connector=connector, trigger="manual") if run else None
    with transaction.atomic():
        engine.process_records(raws, run=sync_run, kind=kind)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]


def test_a_sync_page_written_entirely_set_based_commits_without_waiting_for_the_disk(connector):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    assert _synchronous_commit_after(connector, [_raw(_customer(1)), _raw(_customer(2))]) == "off"
    assert Customer.objects.count() == 2


def test_a_page_with_records_for_the_one_by_one_path_or_from_a_webhook_commits_as_usual(connector):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    unknown_customer = _raw(_invoice(1, "cus_404"))
    assert _synchronous_commit_after(connector, [_raw(_customer(1)), unknown_customer]) == "on"
    assert _synchronous_commit_after(connector, [_raw(_customer(2)), _raw(_customer(3))], run=False) == "on"
    assert Customer.objects.count() == 3


def test_a_page_with_work_to_do_on_commit_commits_as_usual(connector):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    kind = PagesKind(connector)
    run = engine.run_create(connector=connector, trigger="manual")
    with transaction.atomic():
        transaction.on_commit(lambda: None)  # e.g. an ERP posting queued by an event listener
        engine.process_records([_raw(_customer(1)), _raw(_customer(2))], run=run, kind=kind)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert Customer.objects.count() == 2
