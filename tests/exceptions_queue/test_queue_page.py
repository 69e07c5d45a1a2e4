"""The exception queue page: rows, filters through the page, counts, saved views,
bulk controls by permission and htmx partials."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_queue.models import ExceptionItem
from tests import factories as f
from tests.exceptions_queue.queue_factories import ExceptionItemFactory as Item

pytestmark = pytest.mark.django_db

S = ExceptionItem.Status
URL = "/exceptions/"


def test_it_lists_open_items_with_what_each_row_tells(client, analyst):
    customer = f.CustomerFactory(name="Hooli Europe GmbH")
    overdue = Item(
        object_label="INV-000042",
        customer=customer,
        amount="1250.50",
        currency="EUR",
        due_at=timezone.now() - dt.timedelta(hours=5),
        occurrences=7,
        assignee=analyst,
    )
    Item(status=S.RESOLVED, object_label="INV-CLOSED")
    client.force_login(analyst)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "INV-000042" in html and "INV-CLOSED" not in html
    assert "Hooli Europe GmbH" in html and "1,250.50" in html
    assert "overdue 5 h" in html and "is-overdue" in html
    assert reverse("exceptions_queue:detail", args=[overdue.pk]) in html
