"""Bulk actions: the confirmed set is fixed, each item goes through the single
action's service with history, closed items are skipped, progress adds up, a
redelivered task changes nothing twice, and read-only users change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from exceptions_queue import bulk
from exceptions_queue.models import BulkAction, ExceptionItem
from exceptions_queue.services import exception_dismiss, exception_open
from revops.actors import Actor

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-us, run 1")
S = ExceptionItem.Status


def open_items(count: int, code: str = "UNKNOWN_CUSTOMER", prefix: str = "k") -> list[ExceptionItem]:
    return [
        exception_open(
            code=code,
            dedupe_key=f"{prefix}{n}",
            title=f"Item {n}",
            message="",
            step_key="test.invoice",
            actor=SYNC,
            connector_name="stripe-us",
        )[0]
        for n in range(count)
    ]


@pytest.fixture
def me(analyst):
    return Actor.for_user(analyst)


def test_it_dismisses_everything_selected_with_the_reason_on_each_item(
    django_capture_on_commit_callbacks, me
):
    items = open_items(5)
    with django_capture_on_commit_callbacks(execute=True):
        started = bulk.bulk_action_start(
            action="dismiss", items=ExceptionItem.objects.all(), params={"reason": "Test data"}, actor=me
        )
    started.refresh_from_db()
    assert (started.state, started.total, started.processed, started.succeeded) == ("done", 5, 5, 5)
    for item in items:
        item.refresh_from_db()
        assert (
            item.status == S.DISMISSED and item.dismissed_reason == f"Test data (bulk action #{started.pk})"
        )
        assert item.history.first().history_user == me.user


def test_it_fixes_the_set_when_confirmed_and_skips_items_closed_meanwhile(me, analyst):
    items = open_items(3)
    with override_settings(REVOPS_BULK_INLINE_MAX=0):  # queued for the worker
        started = bulk.bulk_action_start(
            action="dismiss", items=ExceptionItem.objects.all(), params={"reason": "noise"}, actor=me
        )
    open_items(2, prefix="late")  # opened after the confirmation: not touched
    exception_dismiss(item=items[0], actor=me, reason="someone else got there first")
    done = bulk.run_bulk_action(started.pk)
    assert (done.total, done.succeeded, done.skipped, done.failed) == (3, 2, 1, 0)
    assert done.errors == [{"item_id": items[0].pk, "outcome": "skipped", "message": "Already dismissed."}]
    assert ExceptionItem.objects.filter(status=S.NEW).count() == 2
    # A duplicate delivery of the finished task changes nothing.
    assert bulk.run_bulk_action(started.pk) is None
    assert BulkAction.objects.get(pk=started.pk).processed == 3


def test_it_assigns_and_unassigns(django_capture_on_commit_callbacks, me, analyst):
    open_items(2)
    with django_capture_on_commit_callbacks(execute=True):
        bulk.bulk_action_start(
            action="assign", items=ExceptionItem.objects.all(), params={"assignee_id": analyst.pk}, actor=me
        )
    assert set(ExceptionItem.objects.values_list("assignee", "status")) == {(analyst.pk, S.IN_REVIEW)}
    with django_capture_on_commit_callbacks(execute=True):
        bulk.bulk_action_start(
            action="assign", items=ExceptionItem.objects.all(), params={"assignee_id": ""}, actor=me
        )
    assert set(ExceptionItem.objects.values_list("assignee", flat=True)) == {None}


def test_it_resumes_a_run_whose_worker_died(me):
    open_items(4)
    with override_settings(REVOPS_BULK_INLINE_MAX=0):
        started = bulk.bulk_action_start(
            action="dismiss", items=ExceptionItem.objects.all(), params={"reason": "noise"}, actor=me
        )
    # A worker took it, dismissed the first two and died before finishing.
    first_two = ExceptionItem.objects.filter(pk__in=started.item_ids[:2])
    for item in first_two:
        exception_dismiss(item=item, actor=me, reason="noise")
    BulkAction.objects.filter(pk=started.pk).update(
        state="running", processed=2, succeeded=2, heartbeat_at=timezone.now()
    )
    assert bulk.run_bulk_action(started.pk) is None  # alive elsewhere: left alone
    BulkAction.objects.filter(pk=started.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    done = bulk.run_bulk_action(started.pk)
    assert (done.state, done.processed, done.succeeded, done.skipped) == ("done", 4, 4, 0)
    assert not ExceptionItem.objects.exclude(status=S.DISMISSED).exists()


def test_it_refuses_a_count_that_moved_and_bad_parameters(me):
    open_items(3)
    items = ExceptionItem.objects.all()
    with pytest.raises(ValidationError, match="3 items now match, not 2"):
        bulk.bulk_action_start(
            action="dismiss", items=items, params={"reason": "x"}, actor=me, expected_count=2
        )
    with pytest.raises(ValidationError, match="needs a reason"):
        bulk.bulk_action_start(action="dismiss", items=items, params={"reason": "  "}, actor=me)
    with pytest.raises(ValidationError, match="active user"):
        bulk.bulk_action_start(action="assign", items=items, params={"assignee_id": "999999"}, actor=me)
    with pytest.raises(ValidationError, match="not a bulk action"):
        bulk.bulk_action_start(action="delete", items=items, params={}, actor=me)
    assert not BulkAction.objects.exists()


def test_resubmitting_leaves_items_waiting_for_their_result_alone(me):
    items = open_items(2)
    ExceptionItem.objects.filter(pk=items[0].pk).update(status=S.RESUBMITTED)
    assert bulk.eligible("resubmit", ExceptionItem.objects.all()).count() == 1
    assert bulk.eligible("dismiss", ExceptionItem.objects.all()).count() == 2


# -- pages ----------------------------------------------------------------------------------------


def test_dismissing_everything_matching_a_filter_confirms_the_count_then_runs(
    client, analyst, django_capture_on_commit_callbacks
):
    open_items(3, code="LATE_USAGE")
    open_items(2, code="TAX_MISMATCH", prefix="t")
    client.force_login(analyst)
    url = reverse("exceptions_queue:bulk_confirm")
    page = client.get(url, {"action": "dismiss", "scope": "filter", "code": "LATE_USAGE"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Dismiss 3 items?" in text and "Late usage" in text
    hidden_query = page.context["hidden"]
    assert ("query", "code=LATE_USAGE") in hidden_query
    missing_reason = client.post(url, {**dict(hidden_query), "expected_count": "3", "reason": ""})
    assert missing_reason.status_code == 400 and ExceptionItem.objects.filter(status=S.DISMISSED).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {**dict(hidden_query), "expected_count": "3", "reason": "Usage feed replayed"}
        )
    assert response.status_code == 302
    action = BulkAction.objects.get()
    assert response["Location"] == reverse("exceptions_queue:bulk_detail", args=[action.pk])
    assert ExceptionItem.objects.filter(status=S.DISMISSED, code="LATE_USAGE").count() == 3
    assert ExceptionItem.objects.filter(status=S.NEW, code="TAX_MISMATCH").count() == 2
    progress = client.get(response["Location"]).content.decode()
    assert "Done" in progress and "3 of 3" in progress


def test_ticked_items_are_assigned_from_the_confirmation_page(
    client, analyst, integration_admin, django_capture_on_commit_callbacks
):
    items = open_items(3)
    client.force_login(analyst)
    url = reverse("exceptions_queue:bulk_confirm")
    ids = [str(items[0].pk), str(items[2].pk)]
    page = client.get(url, {"action": "assign", "ids": ids})
    assert "Assign 2 items?" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {"action": "assign", "ids": ids, "expected_count": "2", "assignee_id": str(integration_admin.pk)},
        )
    assert list(ExceptionItem.objects.filter(assignee=integration_admin).order_by("pk")) == [
        items[0],
        items[2],
    ]


def test_the_confirmation_refuses_bad_selections_without_a_500(client, analyst):
    client.force_login(analyst)
    url = reverse("exceptions_queue:bulk_confirm")
    assert client.get(url, {"action": "explode"}).status_code == 400
    assert client.get(url, {"action": "dismiss", "ids": ["x"]}).status_code == 302
    assert client.get(url, {"action": "dismiss"}).status_code == 302
    assert client.get(url, {"action": "dismiss", "scope": "filter", "status": "nonsense"}).status_code == 302
    assert not BulkAction.objects.exists()


def test_auditors_cannot_start_bulk_actions(client, auditor):
    open_items(1)
    client.force_login(auditor)
    response = client.post(
        reverse("exceptions_queue:bulk_confirm"),
        {"action": "dismiss", "scope": "filter", "query": "", "expected_count": "1", "reason": "x"},
    )
    assert response.status_code == 403
    assert not BulkAction.objects.exists() and ExceptionItem.objects.get().status == S.NEW
