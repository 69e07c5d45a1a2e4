"""The queue filter: each field, search on business keys, sorts, bad values."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from exceptions_queue.filters import filter_queue
from exceptions_queue.models import ExceptionItem
from tests.exceptions_queue.queue_factories import ExceptionItemFactory as Item

pytestmark = pytest.mark.django_db

S = ExceptionItem.Status


def _ids(params, user):
    qs, form = filter_queue(QueryDict(params), user=user)
    return {item.pk for item in qs}, form


def test_it_shows_open_items_by_default_and_any_status_on_request(analyst):
    new, review, resub = Item(status=S.NEW), Item(status=S.IN_REVIEW), Item(status=S.RESUBMITTED)
    resolved, dismissed = Item(status=S.RESOLVED), Item(status=S.DISMISSED)
    assert _ids("", analyst)[0] == {new.pk, review.pk, resub.pk}
    assert _ids("status=open", analyst)[0] == {new.pk, review.pk, resub.pk}
    assert _ids("status=resolved", analyst)[0] == {resolved.pk}
    assert _ids("status=all", analyst)[0] == {new.pk, review.pk, resub.pk, resolved.pk, dismissed.pk}


def test_it_filters_by_assignee_me_none_and_a_person(analyst, integration_admin):
    mine, theirs, nobodys = Item(assignee=analyst), Item(assignee=integration_admin), Item()
    assert _ids("assignee=me", analyst)[0] == {mine.pk}
    assert _ids("assignee=none", analyst)[0] == {nobodys.pk}
    assert _ids(f"assignee={integration_admin.pk}", analyst)[0] == {theirs.pk}


def test_it_turns_bad_values_into_form_errors_and_ignores_them(analyst):
    item = Item()
    ids, form = _ids("status=bogus&code=NOPE&assignee=x&older_than=-3&amount_min=abc&sort=drop", analyst)
    assert ids == {item.pk}
    assert set(form.errors) == {"status", "code", "assignee", "older_than", "amount_min"}
