"""Reads, role permissions and the admin pages of the exception queue."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from exceptions_queue.models import ExceptionItem
from exceptions_queue.selectors import item_list, open_item_for_key, open_items_for
from exceptions_queue.services import exception_comment, exception_open, exception_resolve
from revops.actors import Actor
from revops.roles import AUDITOR, FINANCE_ANALYST, INTEGRATION_ADMIN
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-eu, run 1")


def _open(key, subject=None, code="TAX_MISMATCH", **extra):
    return exception_open(
        code=code,
        dedupe_key=key,
        title=f"Problem {key}",
        message="",
        step_key="stripe.invoice",
        actor=SYNC,
        subject=subject,
        **extra,
    )[0]


def test_it_lists_the_open_items_of_one_object():
    invoice, other = f.InvoiceFactory(), f.InvoiceFactory()
    first, second = _open("a", invoice), _open("b", invoice)
    _open("c", other)
    exception_resolve(item=_open("d", invoice), actor=SYNC, note="Gone")
    assert list(open_items_for(invoice)) == [second, first]
    assert open_item_for_key("a") == first and open_item_for_key("d") is None


def test_it_filters_the_queue():
    a = _open("a", code="TAX_MISMATCH", connector_id=1)
    b = _open("b", code="LATE_USAGE", connector_id=2)
    exception_resolve(item=b, actor=SYNC, note="Billed next period")
    assert list(item_list()) == [b, a]
    assert list(item_list(status="open")) == [a]
    assert list(item_list(status="resolved")) == [b]
    assert list(item_list(code="LATE_USAGE")) == [b]
    assert list(item_list(connector_id=1)) == [a]


def test_roles_can_read_and_only_analysts_and_admins_can_change():
    def codenames(role):
        perms = Group.objects.get(name=role).permissions.filter(content_type__app_label="exceptions_queue")
        return set(perms.values_list("codename", flat=True))

    read = {
        "view_exceptionitem",
        "view_exceptioncomment",
        "view_routingrule",
        "view_bulkaction",
        "view_sladigest",
    }
    write = read | {"change_exceptionitem", "add_exceptioncomment", "add_bulkaction"}
    routing = {"add_routingrule", "change_routingrule", "delete_routingrule"}
    assert codenames(FINANCE_ANALYST) == write
    assert codenames(INTEGRATION_ADMIN) == write | routing
    assert codenames(AUDITOR) == read


def test_the_admin_pages_open(client, superuser):
    item = _open("a", f.InvoiceFactory())
    exception_comment(item=item, body="Looking", actor=SYNC)
    client.force_login(superuser)
    for model in ("exceptionitem", "exceptioncomment"):
        obj = ExceptionItem.objects.get() if model == "exceptionitem" else item.comments.get()
        for view, args in (("changelist", []), ("change", [obj.pk]), ("history", [obj.pk])):
            url = reverse(f"admin:exceptions_queue_{model}_{view}", args=args)
            assert client.get(url).status_code == 200, url
