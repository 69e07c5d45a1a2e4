"""Contacts: add, edit, make primary and remove in the browser, each with a reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from revops.models import CustomerContact
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return f.CustomerFactory(name="Hooli")


@pytest.fixture
def primary(customer):
    return f.ContactFactory(customer=customer, name="Pat Primary", email="pat@hooli.example", is_primary=True)


def test_it_adds_a_contact(client, analyst, customer):
    client.force_login(analyst)
    response = client.post(
        reverse("contact_add", args=[customer.pk]),
        {
            "name": "Gavin Payables",
            "email": "AP@Hooli.example",
            "phone": "",
            "role": "Accounts payable",
            "reason": "New AP contact from onboarding call",
        },
    )
    assert response.status_code == 302
    contact = customer.contacts.get()
    assert (contact.email, contact.is_primary) == ("ap@hooli.example", True)
    row = contact.history.get()
    assert (row.history_user, row.history_change_reason) == (analyst, "New AP contact from onboarding call")


def test_it_refuses_a_duplicate_email_with_a_clear_message(client, analyst, customer, primary):
    client.force_login(analyst)
    response = client.post(
        reverse("contact_add", args=[customer.pk]),
        {"name": "Pat Again", "email": "pat@hooli.example", "reason": "duplicate"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [
        "pat@hooli.example is already a contact of this customer."
    ]
    assert customer.contacts.count() == 1


def test_it_edits_a_contact_and_the_customer_history_shows_it(client, analyst, customer, primary):
    client.force_login(analyst)
    response = client.post(
        reverse("contact_edit", args=[customer.pk, primary.pk]),
        {
            "name": "Pat Primary",
            "email": "pat@hooli.example",
            "phone": "+1 555 0100",
            "role": "",
            "reason": "Phone number from signature",
        },
    )
    assert response.status_code == 302
    primary.refresh_from_db()
    assert primary.phone == "+1 555 0100"

    html = client.get(reverse("customer_history", args=[customer.pk])).content.decode()
    assert "Contact Pat Primary" in html
    assert '<span class="old">(empty)</span> → <span class="new">+1 555 0100</span>' in html
    assert "Phone number from signature" in html


def test_it_makes_another_contact_primary(client, integration_admin, customer, primary):
    other = f.ContactFactory(customer=customer, name="Olive Other")
    client.force_login(integration_admin)
    response = client.post(
        reverse("contact_make_primary", args=[customer.pk, other.pk]), {"reason": "Pat left the company"}
    )
    assert response.status_code == 302
    assert customer.contacts.get(is_primary=True) == other


def test_it_removes_a_contact_and_keeps_it_in_history(client, analyst, customer, primary):
    other = f.ContactFactory(customer=customer, name="Olive Other")
    client.force_login(analyst)
    response = client.post(
        reverse("contact_remove", args=[customer.pk, other.pk]), {"reason": "Bounced email"}
    )
    assert response.status_code == 302
    assert not CustomerContact.objects.filter(pk=other.pk).exists()
    html = client.get(reverse("customer_history", args=[customer.pk])).content.decode()
    assert "Contact Olive Other" in html and "Bounced email" in html


def test_removing_the_primary_contact_first_needs_another_primary(client, analyst, customer, primary):
    f.ContactFactory(customer=customer)
    client.force_login(analyst)
    response = client.post(reverse("contact_remove", args=[customer.pk, primary.pk]), {"reason": "Left"})
    assert response.status_code == 400
    assert "Make another contact primary" in response.content.decode()
    assert CustomerContact.objects.filter(pk=primary.pk).exists()


def test_a_contact_of_another_customer_is_not_found(client, analyst, customer):
    stranger = f.ContactFactory()
    client.force_login(analyst)
    assert client.get(reverse("contact_edit", args=[customer.pk, stranger.pk])).status_code == 404


def test_a_reason_is_required(client, analyst, customer, primary):
    client.force_login(analyst)
    response = client.post(reverse("contact_make_primary", args=[customer.pk, primary.pk]), {"reason": "  "})
    assert response.status_code == 400
    assert "Say why you are making this change" in response.content.decode()
