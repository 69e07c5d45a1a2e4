"""Every database invariant of the exception queue, attacked directly: each case
writes around the services and expects the database itself to refuse, naming the
constraint."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from exceptions_queue.models import ExceptionComment, ExceptionItem

pytestmark = pytest.mark.django_db

S = ExceptionItem.Status
# PostgreSQL names the partial unique index; SQLite names the column it covers.
ONE_OPEN = ("exception_one_open_per_dedupe_key", "exceptions_queue_exceptionitem.dedupe_key")


def _row(**values) -> ExceptionItem:
    now = timezone.now()
    fields = {
        "code": "UNKNOWN_CUSTOMER",
        "severity": "medium",
        "title": "Invoice in_1: customer cus_1 unknown",
        "dedupe_key": "UNKNOWN_CUSTOMER|stripe:invoice:in_1|customer",
        "step_key": "stripe.invoice",
        "first_seen_at": now,
        "last_seen_at": now,
    }
    fields.update(values)
    return ExceptionItem.objects.create(**fields)


def _breaks(constraint: str | tuple[str, ...], action) -> None:
    names = (constraint,) if isinstance(constraint, str) else constraint
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        action()
    assert any(name in str(excinfo.value) for name in names), str(excinfo.value)


def _update(obj, **values):
    return lambda: type(obj).objects.filter(pk=obj.pk).update(**values)


@pytest.mark.parametrize("status", [S.NEW, S.IN_REVIEW, S.RESUBMITTED])
def test_it_refuses_a_second_open_item_with_one_dedupe_key(status):
    _row(status=status)
    _breaks(ONE_OPEN, lambda: _row())


def test_it_allows_closed_items_beside_the_open_one():
    now = timezone.now()
    _row(status=S.RESOLVED, resolved_at=now)
    _row(status=S.DISMISSED, resolved_at=now, dismissed_reason="Test data")
    _row()
    assert ExceptionItem.objects.count() == 3


def test_it_refuses_reopening_a_closed_item_beside_an_open_one():
    closed = _row(status=S.RESOLVED, resolved_at=timezone.now())
    _row()
    _breaks(ONE_OPEN, _update(closed, status=S.NEW, resolved_at=None))


def test_it_refuses_zero_occurrences():
    _breaks("exception_occurrences_positive", _update(_row(), occurrences=0))


@pytest.mark.parametrize("reason", ["", "  "])
def test_it_refuses_a_dismissal_without_a_reason(reason):
    item = _row()
    _breaks(
        "exception_dismissal_needs_reason",
        _update(item, status=S.DISMISSED, resolved_at=timezone.now(), dismissed_reason=reason),
    )


@pytest.mark.parametrize("status", [S.RESOLVED, S.DISMISSED])
def test_it_refuses_a_closed_item_without_resolved_at(status):
    _breaks("exception_resolved_at_iff_closed", _update(_row(), status=status, dismissed_reason="x"))


def test_it_refuses_an_open_item_with_resolved_at():
    _breaks("exception_resolved_at_iff_closed", _update(_row(), resolved_at=timezone.now()))


def test_it_refuses_unknown_statuses_codes_and_severities():
    item = _row()
    _breaks("exception_status_valid", _update(item, status="open"))
    _breaks("exception_code_valid", _update(item, code="MYSTERY"))
    _breaks("exception_severity_valid", _update(item, severity="meh"))


def test_it_refuses_a_blank_dedupe_key_or_title():
    item = _row()
    _breaks("exception_dedupe_key_not_blank", _update(item, dedupe_key=""))
    _breaks("exception_title_not_blank", _update(item, title=""))


def test_it_refuses_half_a_subject():
    content_type = ContentType.objects.get_for_model(ExceptionItem)
    _breaks("exception_subject_complete", _update(_row(), content_type=content_type))
    _breaks("exception_subject_complete", _update(_row(dedupe_key="k2"), object_id=5))


def test_it_refuses_an_amount_without_an_iso_currency():
    item = _row()
    _breaks("exception_amount_has_currency", _update(item, amount="10.00"))
    _breaks("exception_currency_iso_or_blank", _update(item, currency="usd"))


def test_it_refuses_last_seen_before_first_seen():
    item = _row()
    _breaks("exception_seen_in_order", _update(item, last_seen_at=item.first_seen_at.replace(year=2000)))


def test_it_refuses_a_blank_comment():
    comment = ExceptionComment.objects.create(item=_row(), actor="analyst", body="Checked")
    _breaks("exception_comment_not_blank", _update(comment, body=" \n"))
