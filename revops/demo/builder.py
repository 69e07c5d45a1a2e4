"""Load the demo dataset: every row written through the services by the demo
actor, in one transaction, deterministic for a given seed and reference day."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count

from revops import models as m
from revops.demo.catalog import build_catalog
from revops.demo.context import DEMO_ENTITY_CODES, Demo, DemoOptions, demo_actor
from revops.demo.contracts import build_contracts
from revops.demo.digest import demo_digest
from revops.demo.invoicing import build_credit_notes, build_invoices
from revops.demo.parties import build_account_changes, build_customers, build_entities
from revops.demo.payments import build_payments, build_write_offs
from revops.demo.tax import build_tax_rates

COUNTED_MODELS = (
    m.LegalEntity,
    m.Customer,
    m.CustomerContact,
    m.Product,
    m.Price,
    m.Contract,
    m.ContractAmendment,
    m.ContractLine,
    m.UsageRecord,
    m.Invoice,
    m.InvoiceLine,
    m.CreditNote,
    m.Payment,
    m.PaymentApplication,
    m.ExternalRef,
    m.BusinessEvent,
)
BY_STATUS = (m.Contract, m.Invoice, m.Payment, m.Customer)


@dataclass
class DemoResult:
    loaded: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    history_rows: int = 0
    digest: str = ""


def existing_demo_entities() -> list[str]:
    return list(
        m.LegalEntity.objects.filter(code__in=DEMO_ENTITY_CODES)
        .order_by("code")
        .values_list("code", flat=True)
    )


def _steps(demo: Demo):
    yield "legal entities", lambda: build_entities(demo)
    yield "tax rates", lambda: build_tax_rates(demo)
    yield "product catalog", lambda: build_catalog(demo)
    yield "customers and contacts", lambda: build_customers(demo)
    plans = []
    yield "contracts and amendments", lambda: plans.extend(build_contracts(demo))
    invoices = []
    yield "usage and invoices", lambda: invoices.extend(build_invoices(demo, plans))
    yield "credit notes", lambda: build_credit_notes(demo, invoices)
    yield "payments", lambda: build_payments(demo, invoices)
    yield "collections", lambda: build_write_offs(demo)
    yield "account changes", lambda: build_account_changes(demo)


def summary() -> tuple[dict[str, int], dict[str, dict[str, int]], int]:
    counts = {model._meta.verbose_name_plural: model.objects.count() for model in COUNTED_MODELS}
    statuses = {
        model._meta.verbose_name_plural: dict(
            model.objects.values_list("status").annotate(n=Count("id")).order_by("status")
        )
        for model in BY_STATUS
    }
    history = sum(
        model.history.filter(history_source=demo_actor().system).count() for model in COUNTED_MODELS
    )
    return counts, statuses, history


def load_demo(options: DemoOptions, progress: Callable[[str, float], None] | None = None) -> DemoResult:
    """Load the demo data unless a demo legal entity already exists (then do nothing)."""
    if existing_demo_entities():
        return DemoResult(loaded=False)
    started = time.monotonic()
    demo = Demo(options=options, rng=random.Random(options.seed), actor=demo_actor())
    with transaction.atomic():
        for name, step in _steps(demo):
            step_started = time.monotonic()
            step()
            if progress:
                progress(name, time.monotonic() - step_started)
    counts, statuses, history = summary()
    return DemoResult(
        loaded=True,
        seconds=time.monotonic() - started,
        counts=counts,
        statuses=statuses,
        history_rows=history,
        digest=demo_digest(),
    )
