"""The exception queue through the API: every action a person takes on the
item page or the queue gives the same result and the same history rows when
taken through the API (same services, same who and why), and the API refuses
what the page refuses."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from exceptions_queue.models import ExceptionComment, ExceptionItem
from exceptions_queue.registry import register_resubmit_handler, unregister_resubmit_handler
from exceptions_queue.services import exception_open
from revops.actors import Actor
from tests.revops.api_support import api_client

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-eu, run 42")
STEP = "test.api_invoice"
S = ExceptionItem.Status
HISTORY = (
    "history_type",
    "status",
    "assignee_id",
    "correction",
    "dismissed_reason",
    "resolution_note",
    "history_change_reason",
    "history_user_id",
    "history_source",
    "history_actor",
)


@pytest.fixture
def handler():
    calls = []
    register_resubmit_handler(STEP, lambda item, correction, actor: calls.append((correction, actor.label)))
    yield calls
    unregister_resubmit_handler(STEP)


def open_item(n: int) -> ExceptionItem:
    return exception_open(
        code="AMOUNT_MISMATCH",
        dedupe_key=f"AMOUNT_MISMATCH|stripe:invoice:in_{n}|total",
        title=f"Invoice in_{n}: total does not add up",
        message="The lines add up to 10800 but the invoice says 18000.",
        step_key=STEP,
        actor=SYNC,
        external_id=f"in_{n}",
        payload={"id": f"in_{n}", "total": 18000, "lines": {"data": [{"amount": 10800}]}},
        error_details=[{"field": "total", "path": "total", "message": "Total differs", "expected": 10800}],
        suggested_correction={
            "summary": "The lines are right.",
            "options": [{"key": "use_lines", "label": "Use the lines", "correction": {"total": 10800}}],
        },
    )[0]


def history(item: ExceptionItem) -> list[tuple]:
    rows = item.history.order_by("history_date", "history_id").values_list(*HISTORY)
    # A bulk action names itself in the reason ("bulk action #12"); the number differs by design.
    return [
        tuple(re.sub(r"bulk action #\d+", "bulk action #N", v) if isinstance(v, str) else v for v in row)
        for row in rows
    ]


def same_history(by_page: ExceptionItem, by_api: ExceptionItem) -> None:
    """Every row after the opening one (whose title names its own invoice) is the same."""
    assert history(by_page)[1:] == history(by_api)[1:]
    assert len(history(by_page)) > 1


@pytest.fixture
def pair():
    return open_item(1), open_item(2)


def page(client, name: str, item: ExceptionItem, data: dict):
    response = client.post(reverse(f"exceptions_queue:{name}", args=[item.pk]), data)
    assert response.status_code == 302, response.content
    return response


def test_assigning_to_me_through_the_api_writes_what_the_page_writes(client, analyst, pair):
    client.force_login(analyst)
    page(client, "assign", pair[0], {"assignee": "me"})
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[1].pk}/assign/", {"assignee": "me"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["status"]) == ("analyst", S.IN_REVIEW)
    same_history(*pair)


def test_a_comment_through_the_api_is_the_pages_comment(client, analyst, pair):
    client.force_login(analyst)
    page(client, "comment", pair[0], {"body": "Asked billing to check"})
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[1].pk}/comment/", {"body": "Asked billing to check"}, format="json"
    )
    assert response.status_code == 201
    comments = [
        list(ExceptionComment.objects.filter(item=item).values_list("author", "actor", "body"))
        for item in pair
    ]
    assert comments[0] == comments[1] == [(analyst.pk, "analyst", "Asked billing to check")]


def test_resubmitting_a_correction_through_the_api_writes_what_the_page_writes(
    client, analyst, pair, handler
):
    client.force_login(analyst)
    page(client, "resubmit", pair[0], {"fix_0": "10800", "reason": "Total typed wrong"})
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[1].pk}/resubmit/",
        {"correction": {"total": 10800}, "reason": "Total typed wrong"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == S.RESOLVED
    assert handler == [({"total": 10800}, "analyst"), ({"total": 10800}, "analyst")]
    same_history(*pair)


def test_a_suggested_fix_through_the_api_writes_what_the_page_writes(client, analyst, pair, handler):
    client.force_login(analyst)
    page(client, "resubmit", pair[0], {"option": "use_lines", "reason": "Lines are right"})
    api_client(analyst).post(
        f"/api/v1/exceptions/{pair[1].pk}/resubmit/",
        {"option": "use_lines", "reason": "Lines are right"},
        format="json",
    )
    same_history(*pair)


def test_dismissing_through_the_api_writes_what_the_page_writes(client, analyst, pair):
    client.force_login(analyst)
    page(client, "dismiss", pair[0], {"reason": "Duplicate of in_0"})
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[1].pk}/dismiss/", {"reason": "Duplicate of in_0"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == S.DISMISSED
    same_history(*pair)


def test_checking_a_correction_through_the_api_changes_nothing(analyst, pair, handler):
    before = history(pair[0])
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[0].pk}/check/", {"correction": {"total": 10800}}, format="json"
    )
    assert response.json() == {"would_go_through": True, "errors": []}
    assert history(pair[0]) == before


def test_it_refuses_a_correction_of_a_path_the_payload_does_not_have(analyst, pair, handler):
    response = api_client(analyst).post(
        f"/api/v1/exceptions/{pair[0].pk}/resubmit/",
        {"correction": {"totl": 1}, "reason": "typo"},
        format="json",
    )
    assert response.status_code == 422
    assert "correction.totl" in response.json()["error"]["fields"]
    assert handler == []


def test_it_refuses_to_dismiss_a_closed_item_with_the_services_message(analyst, pair):
    client = api_client(analyst)
    client.post(f"/api/v1/exceptions/{pair[0].pk}/dismiss/", {"reason": "once"}, format="json")
    again = client.post(f"/api/v1/exceptions/{pair[0].pk}/dismiss/", {"reason": "twice"}, format="json")
    assert again.status_code == 422
    assert again.json()["error"]["message"]


def test_bulk_dismiss_through_the_api_writes_what_the_queue_writes(
    client, analyst, django_capture_on_commit_callbacks
):
    by_page = [open_item(n) for n in (1, 2)]
    by_api = [open_item(n) for n in (3, 4)]
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exceptions_queue:bulk_confirm"),
            {"action": "dismiss", "ids": [i.pk for i in by_page], "reason": "Test data", "expected_count": 2},
        )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(analyst).post(
            "/api/v1/exceptions/bulk/",
            {"action": "dismiss", "ids": [i.pk for i in by_api], "reason": "Test data", "expected_count": 2},
            format="json",
        )
    assert response.status_code == 201 and response.json()["total"] == 2
    for page_item, api_item in zip(by_page, by_api, strict=True):
        same_history(page_item, api_item)
    progress = api_client(analyst).get(f"/api/v1/exceptions/bulk/{response.json()['id']}/").json()
    assert (progress["state"], progress["succeeded"]) == ("done", 2)


def test_bulk_by_filter_acts_on_what_the_queues_filter_matches(analyst, django_capture_on_commit_callbacks):
    items = [open_item(n) for n in (1, 2)]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(analyst).post(
            "/api/v1/exceptions/bulk/",
            {"action": "assign", "filter": {"code": "AMOUNT_MISMATCH"}, "assignee_id": analyst.pk},
            format="json",
        )
    assert response.status_code == 201
    assert all(ExceptionItem.objects.get(pk=i.pk).assignee == analyst for i in items)


def test_the_list_takes_the_queues_filters_and_refuses_bad_ones(analyst, pair):
    client = api_client(analyst)
    found = client.get("/api/v1/exceptions/", {"q": "in_2"}).json()["results"]
    assert [row["id"] for row in found] == [pair[1].pk]
    refused = client.get("/api/v1/exceptions/", {"amount_min": "10"})
    assert refused.status_code == 422 and "currency" in refused.json()["error"]["fields"]


def test_an_auditor_reads_the_queue_but_changes_nothing(auditor, pair):
    client = api_client(auditor)
    assert client.get(f"/api/v1/exceptions/{pair[0].pk}/").status_code == 200
    before = history(pair[0])
    for action, body in [
        ("assign", {"assignee": ""}),
        ("comment", {"body": "x"}),
        ("dismiss", {"reason": "x"}),
    ]:
        response = client.post(f"/api/v1/exceptions/{pair[0].pk}/{action}/", body, format="json")
        assert response.status_code == 403, action
    assert history(pair[0]) == before and not ExceptionComment.objects.exists()
