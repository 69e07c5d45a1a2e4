"""The outbound posting's invariants, attacked around the services."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction

from connectors.models import OutboundPosting
from revops import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def _breaks(constraint: str, action, *, columns: str = "") -> None:
    """PostgreSQL names the constraint; SQLite names a check constraint, but a
    unique one only by its columns."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        action()
    message = str(excinfo.value)
    assert constraint in message or (connection.vendor == "sqlite" and columns and columns in message)


@pytest.fixture
def posting(erp_connector):
    invoice = f.InvoiceFactory()
    return OutboundPosting.objects.create(
        connector=erp_connector,
        content_type=ContentType.objects.get_for_model(m.Invoice),
        object_id=invoice.pk,
        action="create",
        revision=1,
        record_type="invoice",
        external_id=f"INV-US01-{invoice.number}",
        idempotency_key="revops-key-1",
    )


def _copy(posting, **changes):
    values = {
        "connector": posting.connector,
        "content_type": posting.content_type,
        "object_id": posting.object_id,
        "action": posting.action,
        "revision": posting.revision,
        "record_type": posting.record_type,
        "external_id": posting.external_id,
        "idempotency_key": "revops-key-2",
        **changes,
    }
    return lambda: OutboundPosting.objects.create(**values)


def test_it_refuses_a_second_posting_of_one_revision(posting):
    _breaks(
        "outbound_posting_one_per_revision", _copy(posting), columns="connectors_outboundposting.revision"
    )


def test_it_refuses_a_second_posting_with_one_idempotency_key(posting):
    _breaks("idempotency_key", _copy(posting, revision=2, idempotency_key=posting.idempotency_key))


def test_it_refuses_a_posted_posting_without_the_erps_id(posting):
    _breaks(
        "outbound_posting_posted_has_erp_id",
        lambda: OutboundPosting.objects.filter(pk=posting.pk).update(status="posted"),
    )


def test_it_refuses_a_blank_idempotency_key(posting):
    _breaks("outbound_posting_key_not_blank", _copy(posting, revision=3, idempotency_key=""))


def test_it_refuses_a_revision_below_one(posting):
    _breaks("outbound_posting_revision_positive", _copy(posting, revision=0))


def test_every_constraint_of_the_posting_has_a_case():
    from pathlib import Path

    source = Path(__file__).read_text()
    names = {c.name for c in OutboundPosting._meta.constraints}
    assert sorted(n for n in names if f'"{n}"' not in source) == []
