"""Customers and contacts through the services: validation, history, ownership."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from revops.actors import Actor
from revops.errors import DomainValidationError, OwnershipConflict
from revops.models import BusinessEvent, Customer, CustomerContact, OwnershipRefusal, OwnershipRule
from revops.services.ownership import ownership_rule_delete, ownership_rule_save
from revops.services.parties import (
    contact_add,
    contact_make_primary,
    contact_remove,
    customer_create,
    customer_update,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

CRM = Actor.for_system("salesforce", "connector salesforce-prod, run 7")


@pytest.fixture
def customer():
    return f.CustomerFactory(name="Globex Corporation")


def test_it_records_who_why_and_what_changed(customer, analyst):
    customer_update(
        customer=customer,
        changes={"name": "Globex Corp.", "payment_terms_days": 45},
        actor=Actor.for_user(analyst),
        reason="Name per signed order form",
    )
    latest, previous = customer.history.all()[:2]
    assert latest.history_user == analyst
    assert latest.history_actor == "analyst"
    assert latest.history_source == "revops"
    assert latest.history_change_reason == "Name per signed order form"
    delta = latest.diff_against(previous)
    assert {(c.field, c.old, c.new) for c in delta.changes} == {
        ("name", "Globex Corporation", "Globex Corp."),
        ("payment_terms_days", 30, 45),
    }
    event = BusinessEvent.objects.get(type="customer.updated")
    assert event.actor == "analyst" and event.payload["fields"] == ["name", "payment_terms_days"]


def test_it_writes_no_history_when_nothing_changes(customer, analyst):
    before = customer.history.count()
    customer_update(
        customer=customer, changes={"name": customer.name}, actor=Actor.for_user(analyst), reason="x"
    )
    assert customer.history.count() == before


def test_it_attributes_a_system_change_to_the_connector_run(customer):
    customer_update(customer=customer, changes={"city": "Oakland"}, actor=CRM, reason="Account sync")
    latest = customer.history.first()
    assert (latest.history_source, latest.history_actor, latest.history_user) == (
        "salesforce",
        "connector salesforce-prod, run 7",
        None,
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"tax_id": "DE12345"}, "tax_id", "expected DE followed by 9 digits"),
        ({"country": "Germany"}, "country", "two-letter ISO country code"),
        ({"tax_exempt": True}, "exemption_certificate", "needs the exemption certificate"),
        ({"name": "  "}, "name", "needs a name"),
        ({"number": "C-9"}, "number", "cannot be changed here"),
    ],
)
def test_it_refuses_invalid_customer_data_with_a_clear_message(customer, analyst, changes, field, message):
    if "tax_id" in changes:
        changes = {**changes, "tax_country": "DE"}
    with pytest.raises(DomainValidationError) as excinfo:
        customer_update(customer=customer, changes=changes, actor=Actor.for_user(analyst), reason="x")
    assert message in " ".join(excinfo.value.message_dict[field])
    customer.refresh_from_db()
    assert customer.name == "Globex Corporation" and customer.tax_id == ""


def test_it_normalises_and_accepts_a_valid_vat_number(customer, analyst):
    customer_update(
        customer=customer,
        changes={"tax_country": "de", "tax_id": "de 123 456 789"},
        actor=Actor.for_user(analyst),
        reason="VAT id from invoice address",
    )
    customer.refresh_from_db()
    assert (customer.tax_country, customer.tax_id) == ("DE", "DE123456789")


def test_it_creates_a_customer_with_history_and_refuses_a_duplicate_number():
    entity = f.LegalEntityFactory()
    customer = customer_create(
        number="C-1", name="Initech", legal_entity=entity, currency="USD", country="us", actor=CRM
    )
    assert customer.history.get().history_type == "+"
    with pytest.raises(DomainValidationError) as excinfo:
        customer_create(
            number="C-1", name="Other", legal_entity=entity, currency="USD", country="US", actor=CRM
        )
    assert "already in use" in str(excinfo.value)
    assert Customer.objects.count() == 1


# -- ownership --------------------------------------------------------------------------


@pytest.fixture
def crm_owns_names(integration_admin):
    return ownership_rule_save(
        object_type="customer",
        field="name",
        owner_system="salesforce",
        actor=Actor.for_user(integration_admin),
        reason="CRM is the master for account names",
    )


def test_it_refuses_a_person_editing_a_field_another_system_owns(customer, auditor, crm_owns_names):
    no_override = f.UserFactory(username="clerk")
    with pytest.raises(OwnershipConflict) as excinfo:
        customer_update(
            customer=customer, changes={"name": "X"}, actor=Actor.for_user(no_override), reason="x"
        )
    assert excinfo.value.fields == {"name": "salesforce"}
    with pytest.raises(DomainValidationError) as excinfo:
        customer_update(
            customer=customer,
            changes={"name": "X"},
            actor=Actor.for_user(no_override),
            reason="x",
            override_ownership=True,
        )
    assert "permission to override" in str(excinfo.value)
    customer.refresh_from_db()
    assert customer.name == "Globex Corporation"


def test_it_lets_an_analyst_override_ownership_with_a_reason_in_history(customer, analyst, crm_owns_names):
    customer_update(
        customer=customer,
        changes={"name": "Globex Corp."},
        actor=Actor.for_user(analyst),
        reason="Legal name per contract",
        override_ownership=True,
    )
    customer.refresh_from_db()
    assert customer.name == "Globex Corp."
    reason = customer.history.first().history_change_reason
    assert reason == "Legal name per contract (ownership override of name (owned by salesforce))"


def test_it_applies_what_a_system_owns_and_records_what_it_does_not(customer, crm_owns_names):
    stripe = Actor.for_system("stripe", "connector stripe-eu, run 3")
    customer_update(
        customer=customer, changes={"name": "Globex (Stripe)", "city": "Austin"}, actor=stripe, reason="sync"
    )
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("Globex Corporation", "Austin")
    refusal = OwnershipRefusal.objects.get()
    assert (refusal.field, refusal.owner_system, refusal.attempted_by_system) == (
        "name",
        "salesforce",
        "stripe",
    )
    assert (refusal.current_value, refusal.attempted_value) == ("Globex Corporation", "Globex (Stripe)")
    # The owner itself writes freely.
    customer_update(customer=customer, changes={"name": "Globex LLC"}, actor=CRM, reason="sync")
    customer.refresh_from_db()
    assert customer.name == "Globex LLC"


def test_a_field_rule_beats_the_all_fields_rule(customer, integration_admin, crm_owns_names):
    ownership_rule_save(
        object_type="customer",
        field="*",
        owner_system="stripe",
        actor=Actor.for_user(integration_admin),
        reason="Billing owns the rest",
    )
    customer_update(customer=customer, changes={"name": "A", "city": "B"}, actor=CRM, reason="sync")
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("A", "San Francisco")
    assert OwnershipRefusal.objects.get().field == "city"


def test_it_validates_ownership_rules(integration_admin, crm_owns_names):
    admin = Actor.for_user(integration_admin)
    with pytest.raises(DomainValidationError) as excinfo:
        ownership_rule_save(object_type="customer", field="nmae", owner_system="crm", actor=admin, reason="x")
    assert "has no field 'nmae'" in str(excinfo.value)
    with pytest.raises(DomainValidationError) as excinfo:
        ownership_rule_save(object_type="customer", field="name", owner_system="crm", actor=admin, reason="x")
    assert "already exists" in str(excinfo.value)
    ownership_rule_delete(rule=crm_owns_names, actor=admin, reason="Owner moved to billing")
    assert not OwnershipRule.objects.exists()
    assert OwnershipRule.history.first().history_type == "-"


# -- contacts -----------------------------------------------------------------------------


def test_the_first_contact_is_primary_and_primary_moves_cleanly(customer, analyst):
    actor = Actor.for_user(analyst)
    first = contact_add(
        customer=customer, name="Ann AP", email="AP@globex.example", actor=actor, reason="new"
    )
    second = contact_add(customer=customer, name="Bob", email="bob@globex.example", actor=actor, reason="new")
    assert first.is_primary and not second.is_primary and first.email == "ap@globex.example"
    contact_make_primary(contact=second, actor=actor, reason="Ann left")
    assert list(customer.contacts.filter(is_primary=True).values_list("name", flat=True)) == ["Bob"]
    with pytest.raises(DomainValidationError) as excinfo:
        contact_remove(contact=CustomerContact.objects.get(name="Bob"), actor=actor, reason="x")
    assert "Make another contact primary" in str(excinfo.value)
    contact_remove(contact=first, actor=actor, reason="Ann left the company")
    assert customer.contacts.count() == 1


def test_it_refuses_a_duplicate_or_invalid_contact_email(customer, analyst):
    actor = Actor.for_user(analyst)
    contact_add(customer=customer, name="Ann", email="ann@globex.example", actor=actor, reason="x")
    with pytest.raises(DomainValidationError) as excinfo:
        contact_add(customer=customer, name="Ann 2", email="ANN@globex.example", actor=actor, reason="x")
    assert "already a contact" in str(excinfo.value)
    with pytest.raises(DomainValidationError) as excinfo:
        contact_add(customer=customer, name="Bad", email="not-an-email", actor=actor, reason="x")
    assert "email" in excinfo.value.message_dict


def test_every_change_needs_a_reason(customer, analyst):
    with pytest.raises(ValueError, match="reason"):
        customer_update(customer=customer, changes={"city": "X"}, actor=Actor.for_user(analyst), reason=" ")
    customer.refresh_from_db()
    assert customer.city == "San Francisco"


def test_an_anonymous_user_cannot_act():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValueError):
        Actor.for_user(AnonymousUser())


def test_override_permission_is_granted_to_analysts_and_admins_only(analyst, integration_admin, auditor):
    perm = Permission.objects.get(codename="override_ownership")
    assert analyst.has_perm("revops.override_ownership")
    assert integration_admin.has_perm("revops.override_ownership")
    assert not auditor.has_perm("revops.override_ownership")
    assert perm.content_type.app_label == "revops"
