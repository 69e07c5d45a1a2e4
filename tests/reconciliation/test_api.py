"""Reconciliation runs and their report lines through the API: read by every
role, filtered by run and outcome, refused to users without a role."""

from __future__ import annotations

import pytest

from reconciliation.models import Run, RunLine
from tests.reconciliation.walk import walk_reconciliation
from tests.revops.api_support import api_client

pytestmark = pytest.mark.django_db


def test_a_run_reads_with_its_counts_and_totals(auditor):
    run = walk_reconciliation({})["run"]
    run.refresh_from_db()
    body = api_client(auditor).get(f"/api/v1/reconciliation-runs/{run.pk}/").json()
    assert (body["id"], body["status"], body["reconciliation_name"]) == (
        run.pk,
        run.status,
        "Walk billing ⇄ ERP",
    )
    assert len(body["totals"]) == run.totals.count()
    listed = api_client(auditor).get(
        "/api/v1/reconciliation-runs/", {"reconciliation": run.reconciliation_id}
    )
    assert [row["id"] for row in listed.json()["results"]] == [run.pk]


def test_report_lines_filter_by_run_and_outcome(analyst):
    run = walk_reconciliation({})["run"]
    other = Run.objects.create(reconciliation=run.reconciliation, trigger="manual", requested_by="x")
    RunLine.objects.create(
        run=run, outcome="unmatched", currency="USD", left_key="in_1", left_reference="INV-1"
    )
    RunLine.objects.create(
        run=other, outcome="unmatched", currency="USD", right_key="9", right_reference="INV-9"
    )
    client = api_client(analyst)
    rows = client.get("/api/v1/reconciliation-lines/", {"run": run.pk, "outcome": "unmatched"}).json()[
        "results"
    ]
    assert [row["left_reference"] for row in rows] == ["INV-1"]
    assert client.get("/api/v1/reconciliation-lines/", {"outcome": "lost"}).status_code == 400


def test_users_without_a_role_read_no_run(no_role_user):
    run = walk_reconciliation({})["run"]
    assert api_client(no_role_user).get(f"/api/v1/reconciliation-runs/{run.pk}/").status_code == 403
