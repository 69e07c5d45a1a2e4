"""Customer pages: editing through the services leaves history an auditor can read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from revops.actors import Actor
from revops.models import BusinessEvent, Customer, OwnershipRefusal
from revops.services.ownership import ownership_rule_save
from revops.services.parties import customer_update
from tests import factories as f

pytestmark = pytest.mark.django_db

DETAIL_FIELDS = {
    "status": "active",
    "payment_terms_days": "30",
    "address_line1": "1 Market St",
    "address_line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}


def details(customer: Customer, **changes) -> dict:
    data = {**DETAIL_FIELDS, "name": customer.name, "reason": "Customer asked by email (ticket 77)"}
    data.update(changes)
    return data


@pytest.fixture
def customer():
    return f.CustomerFactory(name="Globex Ltd", number="C-100")


def test_it_saves_an_edit_with_history_of_who_why_and_what(client, analyst, customer):
    client.force_login(analyst)
    response = client.post(
        reverse("customer_edit", args=[customer.pk]), details(customer, name="Globex Corporation")
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("customer_detail", args=[customer.pk])
    customer.refresh_from_db()
    assert customer.name == "Globex Corporation"
    latest = customer.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == analyst
    assert latest.history_actor == "analyst"
    assert latest.history_source == "revops"
    assert latest.history_change_reason == "Customer asked by email (ticket 77)"
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("name", "Globex Ltd", "Globex Corporation")]


def test_the_history_tab_shows_before_and_after_with_the_username(client, analyst, auditor, customer):
    client.force_login(analyst)
    client.post(reverse("customer_edit", args=[customer.pk]), details(customer, name="Globex Corporation"))

    client.force_login(auditor)
    response = client.get(reverse("customer_history", args=[customer.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="old">Globex Ltd</span> → <span class="new">Globex Corporation</span>' in html
    assert "analyst" in html
    assert "Customer asked by email (ticket 77)" in html


def test_the_history_tab_loads_alone_for_htmx(client, auditor, customer):
    client.force_login(auditor)
    response = client.get(
        reverse("customer_history", args=[customer.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tab-panel"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tab-panel">')
    assert "<html" not in html
    assert 'aria-current="page" class="active">History</a>' in html


def test_the_detail_page_shows_contacts_documents_and_balance(client, auditor, customer):
    f.ContactFactory(customer=customer, name="Ada Payables", is_primary=True)
    f.InvoiceFactory(customer=customer, number="INV-9")
    f.PaymentFactory(customer=customer, number="PAY-9", amount="50.00", status="unapplied")
    client.force_login(auditor)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert "Ada Payables" in html
    assert "INV-9" in html and "PAY-9" in html
    assert "108.00 USD" in html  # open receivable
    assert "50.00 USD" in html  # unapplied cash
    assert "Edit details" not in html  # an auditor gets no edit buttons


def test_it_edits_the_tax_classification(client, integration_admin, customer):
    client.force_login(integration_admin)
    data = {
        "tax_id": "12-3456789",
        "tax_country": "us",
        "tax_region": "CA",
        "tax_exempt": "on",
        "exemption_certificate": "CERT-1",
        "reason": "Exemption certificate received",
    }
    response = client.post(reverse("customer_tax_edit", args=[customer.pk]), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.tax_id, customer.tax_country, customer.tax_exempt) == ("12-3456789", "US", True)
    assert customer.history.first().history_change_reason == "Exemption certificate received"


@pytest.mark.parametrize(
    ("url_name", "data", "field", "message"),
    [
        ("customer_edit", {"country": "United States"}, "country", "two-letter ISO 3166-1 country code"),
        ("customer_edit", {"payment_terms_days": "400"}, "payment_terms_days", "at most 365 days"),
        ("customer_edit", {"name": "New name", "reason": ""}, "reason", "Say why you are making this change"),
        ("customer_edit", {}, None, "Nothing changed"),
        ("customer_tax_edit", {"tax_exempt": "on"}, "exemption_certificate", "needs the reference"),
    ],
)
def test_it_explains_what_is_wrong_and_saves_nothing(
    client, analyst, customer, url_name, data, field, message
):
    client.force_login(analyst)
    if url_name == "customer_edit":
        payload = details(customer, **data)
    else:
        payload = {
            "tax_id": "",
            "tax_country": "US",
            "tax_region": "CA",
            "exemption_certificate": "",
            "reason": "Exempt now",
            **data,
        }
    before = customer.history.count()

    response = client.post(reverse(url_name, args=[customer.pk]), payload)

    assert response.status_code == 400
    form = response.context["form"]
    errors = form.errors.get(field or "__all__")
    assert errors and message in " ".join(errors)
    assert message in response.content.decode().replace("&#x27;", "'")
    assert customer.history.count() == before


def test_an_owned_field_needs_an_override_with_a_reason(client, analyst, integration_admin, customer):
    ownership_rule_save(
        object_type="customer",
        field="name",
        owner_system="salesforce",
        actor=Actor.for_user(integration_admin),
        reason="CRM is the master for account names",
    )
    client.force_login(analyst)
    url = reverse("customer_edit", args=[customer.pk])

    page = client.get(url).content.decode()
    assert "Owned by <strong>salesforce</strong>" in page

    refused = client.post(url, details(customer, name="Globex Corporation"))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "owned by salesforce" in html
    assert "Override ownership (reason required)" in html
    customer.refresh_from_db()
    assert customer.name == "Globex Ltd"

    accepted = client.post(url, details(customer, name="Globex Corporation", override_ownership="on"))
    assert accepted.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Globex Corporation"
    reason = customer.history.first().history_change_reason
    assert reason.startswith("Customer asked by email (ticket 77)") and "override" in reason


def test_an_auditor_post_changes_nothing(client, auditor, customer):
    client.force_login(auditor)
    history_rows = customer.history.count()
    events = BusinessEvent.objects.count()

    response = client.post(reverse("customer_edit", args=[customer.pk]), details(customer, name="Hijacked"))

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Globex Ltd"
    assert customer.history.count() == history_rows
    assert BusinessEvent.objects.count() == events
    assert OwnershipRefusal.objects.count() == 0


def test_changes_by_a_connector_show_the_system_and_run(client, auditor, customer):
    customer_update(
        customer=customer,
        changes={"city": "Oakland"},
        actor=Actor.for_system("salesforce", "connector salesforce-prod, run 12"),
        reason="Sync from Salesforce",
    )
    client.force_login(auditor)
    html = client.get(reverse("customer_history", args=[customer.pk])).content.decode()
    assert "connector salesforce-prod, run 12" in html
    assert '<span class="source">salesforce</span>' in html
    assert '<span class="old">San Francisco</span> → <span class="new">Oakland</span>' in html
