"""Set-based opening, counting again and resolving of many items: the same
fields, routing and history rows as the single-item services write."""

# The routing tests' fixtures are imported, and named again as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_queue import set_writes
from exceptions_queue.models import ExceptionItem, Status
from exceptions_queue.services import exception_open, exception_resolve_if_open
from revops.actors import Actor
from tests.exceptions_queue.test_routing import admin, rules, teams  # noqa: F401

pytestmark = pytest.mark.django_db

RUN = Actor.for_system("reconciliation", "reconciliation Billing, run 7")
ROUTED = ("team_id", "priority", "due_at", "routing_rule_id", "severity", "status", "occurrences")
# Items that land on each rule of the `rules` fixture, and on none of the others.
CASES = [
    {"code": "TAX_MISMATCH", "amount": Decimal("1500.00"), "currency": "USD", "entity": True},
    {"code": "TAX_MISMATCH", "amount": Decimal("999.99"), "currency": "USD", "entity": True},
    {"code": "TAX_MISMATCH", "amount": Decimal("5000"), "currency": "EUR", "entity": True},
    {"code": "RECONCILIATION_BREAK", "amount": Decimal("10"), "currency": "USD", "entity": False},
]


def _values(case, key, us):
    return {
        "dedupe_key": key,
        "title": f"{case['code']} {case['amount']} {case['currency']}",
        "message": "  What is wrong.  ",
        "source_system": "revops",
        "legal_entity_id": us.pk if case["entity"] else None,
        "amount": case["amount"],
        "currency": case["currency"],
        "payload": {"side": "left", "amount": str(case["amount"])},
        "error_details": [{"field": "amount", "message": "differs"}],
    }


@pytest.mark.parametrize("case", CASES)
def test_it_routes_and_fills_an_item_as_the_single_open_does(case, rules):
    now = timezone.now()
    values = _values(case, "bulk", rules["us"])
    opened = set_writes.open_many(
        code=case["code"], step_key="tests.step", items=[values], actor=RUN, now=now
    )
    single, _ = exception_open(
        code=case["code"],
        dedupe_key="single",
        title=values["title"],
        message=values["message"],
        step_key="tests.step",
        actor=RUN,
        source_system="revops",
        legal_entity=rules["us"] if case["entity"] else None,
        amount=case["amount"],
        currency=case["currency"],
        payload=values["payload"],
        error_details=values["error_details"],
    )
    bulk = ExceptionItem.objects.get(dedupe_key="bulk")
    single.refresh_from_db()
    assert opened == 1
    assert bulk.routing_rule_id is not None
    assert [getattr(bulk, name) for name in ROUTED if name != "due_at"] == [
        getattr(single, name) for name in ROUTED if name != "due_at"
    ]
    assert bulk.due_at - bulk.first_seen_at == single.due_at - single.first_seen_at
    for name in ("title", "message", "payload", "error_details", "amount", "currency", "legal_entity_id"):
        assert getattr(bulk, name) == getattr(single, name), name
    assert bulk.message == "What is wrong."
    # One history row each, with the same reason (routing named) and who.
    (bulk_history,) = bulk.history.all()
    (single_history,) = single.history.all()
    assert bulk_history.history_type == single_history.history_type == "+"
    assert bulk_history.history_change_reason == single_history.history_change_reason
    assert "routed to" in bulk_history.history_change_reason
    assert (bulk_history.history_source, bulk_history.history_actor) == ("reconciliation", RUN.label)
    assert (bulk_history.team_id, bulk_history.priority, bulk_history.amount) == (
        bulk.team_id,
        bulk.priority,
        bulk.amount,
    )
    assert bulk_history.payload == bulk.payload


def test_it_opens_many_items_each_with_its_history_row(rules):
    now = timezone.now()
    items = [_values(CASES[n % len(CASES)], f"k{n}", rules["us"]) for n in range(1_200)]
    assert (
        set_writes.open_many(code="TAX_MISMATCH", step_key="tests.step", items=items, actor=RUN, now=now)
        == 1_200
    )
    assert ExceptionItem.objects.filter(status=Status.NEW, first_seen_at=now).count() == 1_200
    history = ExceptionItem.history.filter(history_type="+", history_date=now)
    assert history.count() == 1_200
    assert set(history.values_list("id", flat=True)) == set(
        ExceptionItem.objects.values_list("id", flat=True)
    )


def test_a_clash_with_an_open_item_writes_nothing(rules):
    now = timezone.now()
    set_writes.open_many(
        code="TAX_MISMATCH",
        step_key="tests.step",
        items=[_values(CASES[0], "same", rules["us"])],
        actor=RUN,
        now=now,
    )
    items = [_values(CASES[1], "other", rules["us"]), _values(CASES[1], "same", rules["us"])]
    with pytest.raises(Exception) as excinfo:
        set_writes.open_many(code="TAX_MISMATCH", step_key="tests.step", items=items, actor=RUN, now=now)
    assert set_writes.clashes(excinfo.value)
    assert list(ExceptionItem.objects.values_list("dedupe_key", flat=True)) == ["same"]
    assert ExceptionItem.history.count() == 1


def test_counting_again_adds_an_occurrence_with_the_repeat_history(rules):
    now = timezone.now()
    set_writes.open_many(
        code="TAX_MISMATCH",
        step_key="tests.step",
        items=[_values(CASES[0], "a", rules["us"]), _values(CASES[1], "b", rules["us"])],
        actor=RUN,
        now=now,
    )
    later = now + dt.timedelta(hours=1)
    a = ExceptionItem.objects.get(dedupe_key="a")
    assert set_writes.count_again_many(ids=[a.pk], actor=RUN, now=later) == 1
    a.refresh_from_db()
    b = ExceptionItem.objects.get(dedupe_key="b")
    assert (a.occurrences, a.last_seen_at, b.occurrences, b.last_seen_at) == (2, later, 1, now)
    latest = a.history.latest()
    assert (latest.history_type, latest.history_change_reason, latest.occurrences) == (
        "~",
        "Seen again (2 times)",
        2,
    )
    assert latest.history_date == later and b.history.count() == 1


def test_resolving_closes_the_open_ones_with_the_note_and_leaves_closed_ones(rules, admin):  # noqa: F811
    now = timezone.now()
    set_writes.open_many(
        code="TAX_MISMATCH",
        step_key="tests.step",
        items=[_values(CASES[0], "a", rules["us"]), _values(CASES[1], "b", rules["us"])],
        actor=RUN,
        now=now,
    )
    b = exception_resolve_if_open(dedupe_key="b", actor=admin, note="fixed by hand")
    a = ExceptionItem.objects.get(dedupe_key="a")
    resolved = set_writes.resolve_many(ids=[a.pk, b.pk], note="Matched by run 8", actor=RUN, now=now)
    assert resolved == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.resolution_note, a.resolved_at) == (Status.RESOLVED, "Matched by run 8", now)
    assert b.resolution_note == "fixed by hand" and b.history.count() == 2
    latest = a.history.latest()
    assert (latest.history_change_reason, latest.status, latest.history_actor) == (
        "Resolved: Matched by run 8",
        Status.RESOLVED,
        RUN.label,
    )
