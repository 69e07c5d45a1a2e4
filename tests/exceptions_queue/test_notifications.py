"""Emails to the owning team: at once for urgent and high items, once; and a
daily digest of items past due, once per team and day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from exceptions_queue import routing
from exceptions_queue.models import ExceptionItem, Priority, SlaDigest
from exceptions_queue.notifications import email_new_item, send_sla_digests
from exceptions_queue.services import exception_open
from revops.actors import Actor
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-us, run 1")


@pytest.fixture
def tax_team(integration_admin):
    team = Group.objects.create(name="Tax")
    for name in ("tina", "tom"):
        f.UserFactory(username=name, email=f"{name}@example.com").groups.add(team)
    f.UserFactory(username="gone", email="gone@example.com", is_active=False).groups.add(team)
    routing.routing_rule_set_default(
        team=team, actor=Actor.for_user(integration_admin), reason="x", sla_hours=24
    )
    return team


def open_item(code: str, key: str, **extra) -> ExceptionItem:
    return exception_open(
        code=code,
        dedupe_key=key,
        title=f"{code} on INV-1",
        message="Tax is 7.50, expected 7.75.",
        step_key="stripe.invoice",
        actor=SYNC,
        **extra,
    )[0]


def test_a_high_priority_item_emails_its_team_once(tax_team, django_capture_on_commit_callbacks, settings):
    settings.REVOPS_BASE_URL = "https://revops.example.com"
    with django_capture_on_commit_callbacks() as callbacks:
        item = open_item("TAX_MISMATCH", "a")
    assert len(callbacks) == 1  # the email is queued only once the item is committed
    assert email_new_item(item.pk) is True
    assert email_new_item(item.pk) is False  # a redelivered task sends nothing
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sorted(sent.to) == ["tina@example.com", "tom@example.com"]
    assert sent.subject.startswith("[revops] High: Tax mismatch")
    assert f"https://revops.example.com/exceptions/{item.pk}/" in sent.body
    assert "Tax is 7.50, expected 7.75." in sent.body and "Due:" in sent.body
    item.refresh_from_db()
    assert item.notified_at is not None


def test_normal_and_low_items_send_nothing_at_once(tax_team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        open_item("LATE_USAGE", "b")
    assert callbacks == [] and mail.outbox == []


def test_the_digest_lists_each_teams_overdue_items_once_a_day(tax_team):
    overdue = open_item("LATE_USAGE", "c")
    open_item("LATE_USAGE", "d")  # due tomorrow
    ExceptionItem.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - dt.timedelta(hours=30))
    assert send_sla_digests() == 1
    assert send_sla_digests() == 0  # the same day again: nothing more
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "[revops] 1 exception item past due for Tax"
    assert f"#{overdue.pk} Late usage" in body and "overdue by 30 hours" in body and "unassigned" in body
    assert SlaDigest.objects.get().item_count == 1
    assert send_sla_digests(today=timezone.localdate() + dt.timedelta(days=1)) == 1


def test_urgent_items_without_a_team_email_nobody(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        item = open_item("STATEMENT_UNBALANCED", "e")
    assert item.priority == Priority.URGENT and callbacks == []
