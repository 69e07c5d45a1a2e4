"""Django admin: every registered model's pages open for a superuser, with history."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from revops.models import OwnershipRefusal
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_every_revops_model_has_a_working_admin(client, superuser):
    invoice = f.InvoiceFactory()
    f.ContactFactory(customer=invoice.customer)
    f.PaymentFactory(customer=invoice.customer)
    client.force_login(superuser)
    models = [model for model in admin.site._registry if model._meta.app_label == "revops"]
    assert len(models) >= 19
    failures = []
    for model in models:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls = [reverse(f"{prefix}_changelist")]
        obj = model._default_manager.first()
        if obj is not None:
            urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
            if model is not OwnershipRefusal:
                urls.append(reverse(f"{prefix}_history", args=[obj.pk]))
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                failures.append(f"{url}: {status}")
    assert not failures, failures


def test_an_admin_edit_is_attributed_to_the_user(client, superuser):
    customer = f.CustomerFactory(name="Before")
    client.force_login(superuser)
    url = reverse("admin:revops_customer_change", args=[customer.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "name": "After",
            "legal_entity": customer.legal_entity_id,
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        }
    )
    data.pop("tax_exempt", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    row = customer.history.first()
    assert (row.history_user, row.history_actor, row.history_source) == (superuser, "root", "revops")
