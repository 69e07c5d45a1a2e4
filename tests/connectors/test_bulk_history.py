"""History rows the set-based path writes are the ones the one-by-one path
writes, column by column: the tracked values, history_type, history_user,
history_source, history_actor and the change reason. On PostgreSQL the bulk
path has the server copy them from the rows just written; elsewhere it writes
them from Python (both are run by the suite: the first with DATABASE_URL on
PostgreSQL, the second on the embedded SQLite)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection, models
from django.utils import timezone

from revops.actors import Actor
from revops.models import BusinessEvent, Customer, CustomerContact, ExternalRef, Invoice, InvoiceLine
from revops.services.bulk_rows import STATEMENTS, history_insert, model_rows
from tests import factories as f
from tests.connectors.test_bulk import (  # noqa: F401 (connector and source are fixtures)
    _both_ways,
    _customer,
    _invoice,
    _known_products_and_contract,
    _plain,
    assert_same,
    connector,
    source,
)

pytestmark = pytest.mark.django_db

_GENERIC = {"object_id": "content_type", "subject_id": "subject_type"}  # id → its content type field


def _target(row, id_name: str):
    content_type = getattr(row, _GENERIC[id_name])
    model = content_type.model_class()
    obj = model._default_manager.filter(pk=getattr(row, id_name)).first()
    return (content_type.model, str(obj) if obj is not None else None)


def _value(row, field: models.Field, live):
    """A history column as comparable across two databases whose ids and
    clocks differ: related rows by what they show, generic targets too, and
    instants and uuids by whether they equal the live row's."""
    value = getattr(row, field.attname)
    if field.is_relation:
        related = getattr(row, field.name)
        return str(related) if related is not None else None
    if field.attname in _GENERIC:
        return _target(row, field.attname)
    if isinstance(field, models.DateTimeField | models.UUIDField):
        return value is not None and live is not None and value == getattr(live, field.attname)
    return value


def full_history(model):
    """Every history row of `model`, every column but the history row's own id
    and time and the object's id."""
    historical = model.history.model
    fields = [
        f for f in historical._meta.concrete_fields if f.attname not in ("history_id", "history_date", "id")
    ]
    lives = {obj.pk: obj for obj in model._default_manager.all()}
    rows = [
        tuple((field.attname, _value(row, field, lives.get(row.id))) for field in fields)
        for row in historical.objects.all()
    ]
    return sorted(_plain(rows), key=repr)


def _all_history():
    return {
        model.__name__: full_history(model)
        for model in (Customer, CustomerContact, Invoice, InvoiceLine, BusinessEvent, ExternalRef)
    }


def test_history_rows_are_the_one_by_one_paths_column_for_column(monkeypatch, connector, source):  # noqa: F811
    def prepare():
        _known_products_and_contract(connector)
        source.pages = {
            "customer": [
                [
                    _customer(1, email="ap@one.example", address={"line1": "1 Main St", "country": "US"}),
                    _customer(2, tax_id="12-3456789"),
                    _customer(3, deleted=True),
                ]
            ],
            "invoice": [
                [
                    _invoice(1, "cus_1"),
                    _invoice(2, "cus_2", status="draft"),
                    _invoice(3, "cus_old", contract="sub_1"),
                    _invoice(4, "cus_3", lines=[["Plan", "40.00", "0", "0", "prod_1"]]),
                ]
            ],
        }

    histories = []

    def snapshot_with_history(*runs):
        histories.append(_all_history())
        return {}

    monkeypatch.setattr("tests.connectors.test_bulk.snapshot", snapshot_with_history)
    STATEMENTS.clear()
    _both_ways(monkeypatch, connector, prepare)
    if connection.vendor == "postgresql":
        # Copied by the server: customers, contacts, invoices created and
        # issued, lines, events and external ids; the source versions too.
        assert STATEMENTS["history"] >= 9 and STATEMENTS["server insert"] >= 2
    one_by_one, in_bulk = histories
    assert_same(one_by_one, in_bulk)
    # Created, issued: the invoice has two history rows, the draft one.
    assert Counter(dict(row)["history_type"] for row in in_bulk["Invoice"]) == {"+": 4, "~": 3}
    actors = Counter(dict(row)["history_actor"] for rows in in_bulk.values() for row in rows)
    assert actors["connector pg, run N"] > 30


def _contacts(count):
    customer = f.CustomerFactory()
    now = timezone.now()
    contacts = [
        CustomerContact(
            customer=customer,
            name=f"Contact {i}",
            email=f"c{i}@example.com",
            is_primary=i == 0,
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    CustomerContact.objects.bulk_create(contacts)
    return contacts


def test_history_written_from_rows_that_differ_from_the_table(monkeypatch):
    """What the rows say wins over the table: copied from it with one value
    given for a column all the rows differ in, written from the rows when the
    values differ from row to row."""
    actor = Actor.for_system("pages", "connector pg, run 1")
    contacts = _contacts(3)
    rows = model_rows(contacts, exclude=())
    assert all(row["id"] for row in rows)
    same_role = [{**row, "role": "billing"} for row in rows]
    history_insert(
        CustomerContact,
        same_role,
        history_type="+",
        actor=actor,
        reason="Imported",
        when=timezone.now(),
        differs=("role",),
    )
    varied = [{**row, "role": f"role {i}"} for i, row in enumerate(rows)]
    STATEMENTS.clear()
    history_insert(
        CustomerContact,
        varied,
        history_type="~",
        actor=actor,
        reason="Changed",
        when=timezone.now(),
        differs=("role",),
    )
    if connection.vendor == "postgresql":
        # Varied values: written from the rows (one COPY, its foreign keys maybe checked after it).
        assert STATEMENTS["copy"] == 1 and set(STATEMENTS) <= {"copy", "references"}
    history = CustomerContact.history.order_by("history_id").values_list(
        "id", "history_type", "role", "email", "history_source", "history_actor", "history_change_reason"
    )
    ids = [c.pk for c in contacts]
    assert list(history) == [
        *[
            (pk, "+", "billing", f"c{i}@example.com", "pages", "connector pg, run 1", "Imported")
            for i, pk in enumerate(ids)
        ],
        *[
            (pk, "~", f"role {i}", f"c{i}@example.com", "pages", "connector pg, run 1", "Changed")
            for i, pk in enumerate(ids)
        ],
    ]
    assert set(CustomerContact.objects.values_list("role", flat=True)) == {""}  # the table itself untouched


def test_history_of_rows_as_written_keeps_every_column():
    actor = Actor.for_system("pages", "connector pg, run 2")
    contacts = _contacts(2)
    rows = model_rows(contacts, exclude=())
    when = timezone.now() + dt.timedelta(seconds=1)
    STATEMENTS.clear()
    history_insert(CustomerContact, rows, history_type="+", actor=actor, reason="Imported", when=when)
    # On PostgreSQL one statement copies them; elsewhere they are written from Python.
    expected = {"history": 1} if connection.vendor == "postgresql" else {"insert": 1}
    assert dict(STATEMENTS) == expected
    copied = list(CustomerContact.history.order_by("history_id"))
    assert [h.id for h in copied] == [c.pk for c in contacts]
    for h, contact in zip(copied, contacts, strict=True):
        for field in CustomerContact.history.model._meta.concrete_fields:
            if field.attname.startswith("history_"):
                continue
            assert getattr(h, field.attname) == getattr(contact, field.attname), field.attname
        assert (h.history_date, h.history_type, h.history_user_id) == (when, "+", None)
        assert (h.history_source, h.history_actor, h.history_change_reason) == (
            "pages",
            "connector pg, run 2",
            "Imported",
        )
