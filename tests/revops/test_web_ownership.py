"""Ownership rules: Integration Admins change them; everyone else reads them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from revops.models import OwnershipRule
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_integration_admin_adds_edits_and_deletes_a_rule(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(
        reverse("ownership_rule_add"),
        {
            "object_type": "customer",
            "field": "name",
            "owner_system": "Salesforce",
            "notes": "CRM master",
            "reason": "CRM is the account master",
        },
    )
    assert response.status_code == 302
    rule = OwnershipRule.objects.get()
    assert (rule.object_type, rule.field, rule.owner_system) == ("customer", "name", "salesforce")
    assert rule.history.get().history_change_reason == "CRM is the account master"

    response = client.post(
        reverse("ownership_rule_edit", args=[rule.pk]),
        {
            "object_type": "customer",
            "field": "name",
            "owner_system": "hubspot",
            "notes": "",
            "reason": "Moved CRM",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.owner_system == "hubspot"

    response = client.post(reverse("ownership_rule_delete", args=[rule.pk]), {"reason": "No longer needed"})
    assert response.status_code == 302
    assert not OwnershipRule.objects.exists()

    html = client.get(reverse("ownership_rule_history")).content.decode()
    assert "No longer needed" in html and "Moved CRM" in html
    assert '<span class="old">salesforce</span> → <span class="new">hubspot</span>' in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"field": "no_such_field"}, "field", "customer has no field 'no_such_field'"),
        ({"field": "Bad Field"}, "field", "lower case with underscores"),
        ({"owner_system": "   "}, "owner_system", "This field is required."),
        ({"field": "name"}, "field", "already exists"),
    ],
)
def test_it_explains_a_bad_rule(client, integration_admin, data, field, message):
    OwnershipRule.objects.create(object_type="customer", field="name", owner_system="salesforce")
    client.force_login(integration_admin)
    payload = {"object_type": "customer", "field": "city", "owner_system": "hubspot", "reason": "try", **data}
    response = client.post(reverse("ownership_rule_add"), payload)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert OwnershipRule.objects.count() == 1


def test_an_analyst_sees_the_rules_read_only(client, analyst):
    OwnershipRule.objects.create(object_type="customer", field="*", owner_system="salesforce")
    client.force_login(analyst)
    html = client.get(reverse("ownership_rule_list")).content.decode()
    assert "salesforce" in html
    assert reverse("ownership_rule_add") not in html
    assert "/edit/" not in html
    assert client.post(reverse("ownership_rule_add"), {"object_type": "customer"}).status_code == 403


def test_it_lists_refused_changes(client, auditor):
    from revops.actors import Actor
    from revops.services.parties import customer_update

    OwnershipRule.objects.create(object_type="customer", field="name", owner_system="salesforce")
    customer = f.CustomerFactory(name="Old")
    customer_update(
        customer=customer,
        changes={"name": "From billing"},
        actor=Actor.for_system("stripe", "connector stripe"),
        reason="sync",
    )
    client.force_login(auditor)
    html = client.get(reverse("ownership_rule_list")).content.decode()
    assert "customer.name" in html and "From billing" in html
