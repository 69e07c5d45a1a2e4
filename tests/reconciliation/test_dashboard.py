"""The dashboard shows open reconciliation breaks and reconciliations whose last
run failed, each linking to where a person acts on them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from exceptions_queue.models import ExceptionItem
from reconciliation import services
from reconciliation.models import Kind, Run
from tests.reconciliation.conftest import ADMIN, erp, invoice, run

pytestmark = pytest.mark.django_db


def tiles(client, user):
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return {tile.label: tile for tile in response.context["board"].tiles}, response.content.decode()


def finished(recon, status, minutes_ago):
    made = Run.objects.create(
        reconciliation=recon,
        trigger="schedule",
        requested_by="schedule",
        status=status,
        finished_at=timezone.now(),
    )
    Run.objects.filter(pk=made.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return made


def test_it_counts_open_breaks_and_links_to_them_in_the_queue(client, analyst, erp_recon, customer):
    invoice(customer, "INV-1")
    invoice(customer, "INV-2")
    erp("ns-9", "INV-9", amount="55.00", customer_key="C-999")
    run(erp_recon)
    ExceptionItem.objects.filter(title__startswith="INV-2 (").update(
        status="resolved", resolved_at=timezone.now()
    )
    shown, html = tiles(client, analyst)
    assert ExceptionItem.objects.filter(code="RECONCILIATION_BREAK", status="new").count() == 2  # INV-1, ns-9
    assert shown["Open reconciliation breaks"].count == 2
    labels = list(shown)  # the queue's own tiles first, then reconciliation's, whatever order apps load in
    assert labels.index("Exceptions breaching SLA") < labels.index("Open reconciliation breaks")
    assert 'href="/exceptions/?code=RECONCILIATION_BREAK"' in html
    queue = client.get("/exceptions/", {"code": "RECONCILIATION_BREAK"})
    assert queue.status_code == 200 and len(queue.context["rows"]) == 2


def test_it_counts_reconciliations_whose_last_run_failed(client, analyst, erp_recon):
    other = services.reconciliation_save(
        name="Stripe ⇄ invoices", kind=Kind.PAYMENTS_INVOICES, actor=ADMIN, reason="test setup"
    )
    switched_off = services.reconciliation_save(
        name="Old ERP",
        kind=Kind.INVOICES_ERP,
        external_system="olderp",
        enabled=False,
        actor=ADMIN,
        reason="t",
    )
    finished(erp_recon, "failed", 30)
    finished(erp_recon, "succeeded", 60)  # older: the failure is the latest
    finished(other, "failed", 60)
    finished(other, "succeeded", 30)  # recovered since
    finished(switched_off, "failed", 10)
    shown, html = tiles(client, analyst)
    assert shown["Reconciliations whose last run failed"].count == 1
    assert 'href="/reconciliation/"' in html


def test_people_who_may_not_read_reconciliations_get_no_tile(client, analyst, monkeypatch):
    from django.contrib.auth.models import Permission

    analyst.groups.first().permissions.remove(
        Permission.objects.get(codename="view_reconciliation", content_type__app_label="reconciliation")
    )
    shown, _ = tiles(client, analyst)
    assert "Reconciliations whose last run failed" not in shown
    assert "Open reconciliation breaks" in shown
