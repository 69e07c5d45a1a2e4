"""object_history: simple-history rows as entries an auditor can read."""

from __future__ import annotations

import datetime as dt

import pytest

from revops.actors import Actor
from revops.models import Customer
from revops.selectors.history import object_history, recent_changes, table_history
from revops.services.billing import InvoiceLineSpec, invoice_create
from revops.services.ownership import ownership_rule_delete, ownership_rule_save
from revops.services.parties import contact_add, contact_remove, customer_update
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("hubspot", "connector hubspot, run 5")


def by_field(entry) -> dict[str, tuple[str, str]]:
    return {change.field: (change.old, change.new) for change in entry.changes}


def test_a_change_names_who_why_and_each_field_before_and_after(analyst):
    customer = f.CustomerFactory(name="Old name", status="active", payment_terms_days=30)
    customer_update(
        customer=customer,
        changes={
            "name": "New name",
            "status": "on_hold",
            "payment_terms_days": 45,
            "tax_exempt": True,
            "exemption_certificate": "CERT-9",
        },
        actor=Actor.for_user(analyst),
        reason="Credit hold",
    )

    entry = object_history(customer)[0]

    assert (entry.type, entry.actor, entry.source, entry.user, entry.reason) == (
        "changed",
        "analyst",
        "revops",
        "analyst",
        "Credit hold",
    )
    assert by_field(entry) == {
        "Name": ("Old name", "New name"),
        "Status": ("Active", "On hold"),  # choices read as their labels
        "Payment terms days": ("30", "45"),
        "Tax exempt": ("No", "Yes"),
        "Exemption certificate reference": ("", "CERT-9"),
    }


def test_a_system_change_names_the_connector_run():
    customer = f.CustomerFactory(city="Paris")
    customer_update(customer=customer, changes={"city": "Lyon"}, actor=SYNC, reason="Sync")
    entry = object_history(customer)[0]
    assert (entry.actor, entry.source, entry.user) == ("connector hubspot, run 5", "hubspot", "")
    assert by_field(entry) == {"City": ("Paris", "Lyon")}


def test_it_includes_contacts_added_and_removed_newest_first(analyst):
    customer = f.CustomerFactory()
    actor = Actor.for_user(analyst)
    contact_add(customer=customer, name="Ann", email="ann@x.example", actor=actor, reason="Onboarding")
    bob = contact_add(customer=customer, name="Bob", email="bob@x.example", actor=actor, reason="Second AP")
    contact_remove(contact=bob, actor=actor, reason="Left the company")

    entries = object_history(customer)
    labels = [(e.type, e.object_label, e.reason) for e in entries if e.model_name == "customercontact"]

    assert labels == [
        ("deleted", "Contact Bob", "Left the company"),
        ("created", "Contact Bob", "Second AP"),
        ("created", "Contact Ann", "Onboarding"),
    ]
    created_bob = entries[[e.reason for e in entries].index("Second AP")]
    assert by_field(created_bob)["Email"] == ("", "bob@x.example")
    assert "Customer" not in by_field(created_bob)  # the parent link is implied
    assert all(e.parent_id == customer.pk for e in entries if e.model_name == "customercontact")


def test_money_is_shown_in_the_currency_and_foreign_keys_by_name():
    customer = f.CustomerFactory(name="Soylent")
    invoice = invoice_create(
        number="INV-5",
        customer=customer,
        issue_date=dt.date(2026, 3, 1),
        lines=[InvoiceLineSpec("Seats", 3, "10", tax_rate="10")],
        actor=SYNC,
    )
    entries = object_history(invoice)
    created = next(e for e in entries if e.model_name == "invoice" and e.type == "created")
    fields = by_field(created)
    assert fields["Total"] == ("", "33.00 USD")
    assert fields["Customer"] == ("", str(customer))
    assert fields["Issue date"] == ("", "2026-03-01")
    line = next(e for e in entries if e.model_name == "invoiceline")
    assert line.object_label == "Line 1"
    assert by_field(line)["Quantity"] == ("", "3")


def test_it_limits_the_entries_and_still_diffs_the_oldest_shown(analyst):
    customer = f.CustomerFactory(name="v0")
    for n in range(1, 6):
        customer_update(customer=customer, changes={"name": f"v{n}"}, actor=SYNC, reason=f"rename {n}")

    entries = object_history(customer, limit=3)

    assert [e.reason for e in entries] == ["rename 5", "rename 4", "rename 3"]
    assert by_field(entries[-1]) == {"Name": ("v2", "v3")}


def test_table_history_keeps_deleted_rows(integration_admin):
    actor = Actor.for_user(integration_admin)
    rule = ownership_rule_save(
        object_type="customer", field="name", owner_system="salesforce", actor=actor, reason="CRM master"
    )
    ownership_rule_delete(rule=rule, actor=actor, reason="Retired")

    from revops.models import OwnershipRule

    entries = table_history(OwnershipRule, label=lambda row: f"{row.object_type}.{row.field}")
    assert [(e.type, e.object_label, e.reason) for e in entries] == [
        ("deleted", "customer.name", "Retired"),
        ("created", "customer.name", "CRM master"),
    ]


def test_recent_changes_merges_models_newest_first(analyst):
    customer = f.CustomerFactory()
    customer_update(
        customer=customer, changes={"city": "Rome"}, actor=Actor.for_user(analyst), reason="Moved"
    )
    contact_add(
        customer=customer, name="Cy", email="cy@x.example", actor=Actor.for_user(analyst), reason="New AP"
    )
    entries = recent_changes(limit=2)
    assert [e.reason for e in entries] == ["New AP", "Moved"]
    assert entries[0].parent_id == customer.pk


def test_a_customer_with_no_history_rows_has_an_empty_history():
    entity = f.LegalEntityFactory()
    customer = Customer.objects.bulk_create(
        [Customer(number="C-BULK", name="Bulk", legal_entity=entity, currency="USD", country="US")]
    )[0]
    assert object_history(Customer.objects.get(pk=customer.pk)) == []
