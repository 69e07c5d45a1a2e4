"""Rows the bulk path copies in keep their foreign keys checked: by one query
per statement where the role may turn row triggers off, by the constraints'
own triggers otherwise."""

from __future__ import annotations

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from revops.models import Customer, ExternalRef
from revops.services import bulk_references, bulk_rows

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and its triggers are PostgreSQL's"),
]

MISSING = 2_000_000_000


def _ref_rows(*content_type_ids: int) -> list[dict]:
    return [
        {
            "system": "crm",
            "object_type": "customer",
            "external_id": f"C-{n}",
            "content_type_id": content_type_id,
            "object_id": n,
            "created_at": timezone.now(),
        }
        for n, content_type_id in enumerate(content_type_ids, start=1)
    ]


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_the_benchmark_role_checks_references_in_one_query():
    with connection.cursor() as cursor:
        assert bulk_references.triggers_skippable(cursor)


def test_it_writes_rows_whose_references_exist_and_turns_triggers_back_on():
    content_type = ContentType.objects.get_for_model(Customer).pk
    bulk_rows.rows_insert(ExternalRef, _ref_rows(content_type, content_type), ids=True)
    assert ExternalRef.objects.filter(content_type_id=content_type).count() == 2
    assert _role() == "origin"


def test_a_missing_referenced_row_refuses_the_statement():
    content_type = ContentType.objects.get_for_model(Customer).pk
    with pytest.raises(IntegrityError, match="content_type_id.*1 of the 2 rows"), transaction.atomic():
        bulk_rows.rows_insert(ExternalRef, _ref_rows(content_type, MISSING), ids=True)
    assert not ExternalRef.objects.exists()
    assert _role() == "origin"


def test_without_the_privilege_the_constraint_refuses_it(monkeypatch):
    monkeypatch.setattr(bulk_references, "triggers_skippable", lambda cursor: False)
    with pytest.raises(IntegrityError, match="content_type_id"), transaction.atomic():
        bulk_rows.rows_insert(ExternalRef, _ref_rows(MISSING), ids=True)
        with connection.cursor() as cursor:  # the deferred check, at once
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_referenced_rows_stay_locked_against_deletion_until_the_end():
    content_type = ContentType.objects.get_for_model(Customer).pk
    bulk_rows.rows_insert(ExternalRef, _ref_rows(content_type), ids=True)
    settings = connection.get_connection_params()
    with (
        psycopg.connect(**settings, autocommit=True) as other,
        pytest.raises(psycopg.errors.LockNotAvailable),
    ):
        other.execute("SELECT 1 FROM django_content_type WHERE id = %s FOR UPDATE NOWAIT", [content_type])
