"""The demo dataset: loaded through the services, consistent, deterministic, and
loaded once only. One small load is shared by the module (rolled back at the end)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Sum

from revops import models as m
from revops.demo.builder import COUNTED_MODELS, load_demo
from revops.demo.context import DemoOptions
from revops.demo.digest import demo_digest
from revops.roles import AUDITOR, FINANCE_ANALYST, INTEGRATION_ADMIN
from revops.selectors.search import external_ids

pytestmark = pytest.mark.django_db
OPTIONS = DemoOptions(customers=20)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED_MODELS}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load once and roll back, load again and keep: both digests, for the
    determinism test, and the kept data for every other test."""
    with django_db_blocker.unblock(), transaction.atomic():
        with transaction.atomic():
            first = load_demo(OPTIONS)
            first_digest = demo_digest()
            transaction.set_rollback(True)
        assert not m.LegalEntity.objects.exists()
        second = load_demo(OPTIONS)
        yield {"first": first, "first_digest": first_digest, "second": second}
        transaction.set_rollback(True)


def test_it_is_deterministic(demo):
    assert demo["first"].loaded and demo["second"].loaded
    assert demo["first_digest"] == demo["second"].digest == demo_digest()
    assert demo["first"].counts == demo["second"].counts


def test_it_loads_two_entities_in_two_currencies(demo):
    entities = {e.code: e for e in m.LegalEntity.objects.all()}
    assert {code: e.functional_currency for code, e in entities.items()} == {"US01": "USD", "DE01": "EUR"}
    for entity in entities.values():
        customers = m.Customer.objects.filter(legal_entity=entity)
        assert customers.exists()
        assert set(customers.values_list("currency", flat=True)) == {entity.functional_currency}
        assert not m.Invoice.objects.filter(legal_entity=entity).exclude(currency=entity.functional_currency)
    assert m.Customer.objects.count() == OPTIONS.customers


def test_it_gives_every_customer_exactly_one_primary_contact(demo):
    for customer in m.Customer.objects.prefetch_related("contacts"):
        contacts = list(customer.contacts.all())
        assert 1 <= len(contacts) <= 3
        assert sum(c.is_primary for c in contacts) == 1


def test_it_issues_exclusive_and_inclusive_invoices_whose_lines_add_up(demo):
    assert m.Invoice.objects.filter(legal_entity__code="US01", tax_mode=m.TaxMode.EXCLUSIVE).exists()
    assert m.Invoice.objects.filter(legal_entity__code="DE01", tax_mode=m.TaxMode.INCLUSIVE).exists()
    assert m.Invoice.objects.filter(tax_mode=m.TaxMode.EXCLUSIVE, tax_total__gt=0).exists()
    assert m.Invoice.objects.filter(tax_mode=m.TaxMode.INCLUSIVE, tax_total__gt=0).exists()
    invoices = m.Invoice.objects.annotate(
        lines_amount=Sum("lines__amount"), lines_tax=Sum("lines__tax_amount")
    )
    for invoice in invoices:
        assert invoice.lines_amount == invoice.subtotal, invoice.number
        assert invoice.lines_tax == invoice.tax_total, invoice.number
        if invoice.tax_mode == m.TaxMode.INCLUSIVE:
            assert invoice.total == invoice.subtotal, invoice.number
        else:
            assert invoice.total == invoice.subtotal + invoice.tax_total, invoice.number
        if invoice.status != m.Invoice.Status.VOID:
            assert invoice.amount_due == invoice.total - invoice.amount_paid - invoice.amount_credited


def test_it_covers_the_invoice_and_contract_life_cycles(demo):
    invoice_statuses = set(m.Invoice.objects.values_list("status", flat=True))
    assert {"open", "paid", "void", "uncollectible"} <= invoice_statuses
    contract_statuses = set(m.Contract.objects.values_list("status", flat=True))
    assert {"active", "cancelled"} <= contract_statuses
    assert m.ContractAmendment.objects.exists()
    assert m.ContractLine.objects.filter(replaces__isnull=False, amendment__isnull=False).exists()
    assert m.CreditNote.objects.exists()
    assert m.UsageRecord.objects.exists()
    assert m.UsageRecord.objects.values("source", "source_event_id").distinct().count() == (
        m.UsageRecord.objects.count()
    )
    assert m.Customer.objects.filter(tax_exempt=True).exclude(exemption_certificate="").exists()


def test_it_records_payments_in_every_state(demo):
    statuses = set(m.Payment.objects.values_list("status", flat=True))
    assert {"applied", "partially_applied", "unapplied", "reversed"} <= statuses
    assert m.Payment.objects.filter(status="unapplied", customer__isnull=True).exists()
    over = m.Payment.objects.filter(status="partially_applied").first()
    assert 0 < over.amount_applied < over.amount
    # One transfer paying several invoices.
    assert m.Payment.objects.annotate(n=Count("applications")).filter(n__gte=2).exists()
    # A part payment leaves the invoice with less, but something, due.
    assert m.Invoice.objects.filter(amount_paid__gt=0, amount_due__gt=0).exists()


def test_it_writes_everything_through_the_services_as_the_demo_actor(demo):
    for model in COUNTED_MODELS:
        rows = model.objects.count()
        assert rows, model.__name__
        creations = model.history.filter(history_type="+")
        assert creations.count() == rows, model.__name__
        assert set(creations.values_list("history_source", "history_actor").distinct()) == {
            ("demo", "demo data loader")
        }, model.__name__
        assert not model.history.filter(history_change_reason__isnull=True).exists(), model.__name__
    events = m.BusinessEvent.objects.filter(source="demo", actor="demo data loader")
    assert events.count() == m.BusinessEvent.objects.count()
    invoice = m.Invoice.objects.filter(status="paid", contract__isnull=False).first()
    trail = events.filter(correlation_id=invoice.correlation_id).values_list("type", flat=True)
    assert {"contract.created", "invoice.issued", "payment.applied"} <= set(trail)


def test_it_links_external_ids_for_search(demo):
    systems = set(m.ExternalRef.objects.values_list("system", "object_type").distinct())
    assert {
        ("stripe", "customer"),
        ("stripe", "invoice"),
        ("stripe", "payment"),
        ("salesforce", "customer"),
    } <= systems
    ref = m.ExternalRef.objects.filter(system="salesforce", object_type="customer").first()
    assert ref.external_id.startswith("001") and len(ref.external_id) == 18
    assert list(external_ids(m.Customer, ref.external_id).values_list("object_id", flat=True)) == [
        ref.object_id
    ]
    assert m.ExternalRef.objects.filter(system="stripe", external_id__startswith="cus_").exists()


def test_a_second_load_does_nothing(demo):
    before, digest = _counts(), demo_digest()
    assert not load_demo(OPTIONS).loaded
    out = StringIO()
    call_command("load_demo", "--customers", "20", "--no-users", stdout=out)
    assert "already loaded" in out.getvalue()
    assert _counts() == before
    assert demo_digest() == digest


def test_the_command_creates_one_login_per_role_and_leaves_existing_users_alone(demo):
    User = get_user_model()
    User.objects.filter(username__in=["analyst", "admin", "auditor", "viewer"]).delete()
    User.objects.create_user("auditor", password="someone-elses-password")
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    for username, password in [
        ("analyst", "analyst-demo-2026"),
        ("admin", "admin-demo-2026"),
        ("viewer", "viewer-demo-2026"),
    ]:
        assert username in text and password in text
        assert authenticate(username=username, password=password) is not None
    assert "auditor-demo-2026" not in text
    assert authenticate(username="auditor", password="someone-elses-password") is not None
    groups = {u.username: set(u.groups.values_list("name", flat=True)) for u in User.objects.all()}
    assert groups["analyst"] == {FINANCE_ANALYST}
    assert groups["admin"] == {INTEGRATION_ADMIN}
    assert groups["viewer"] == set()
    assert AUDITOR not in groups["auditor"]  # left exactly as it was
    assert not User.objects.filter(is_superuser=True).exists()
