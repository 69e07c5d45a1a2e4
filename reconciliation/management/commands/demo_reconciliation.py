"""manage.py demo_reconciliation: the demo's reconciliations, run over its last month.

Sets up, through the services (so with history), four reconciliations of the
demo data with their ranked rules — billing ⇄ NetSuite, Stripe payments ⇄
invoices, bank ⇄ invoices (cash application) and metered ⇄ billed usage — and
loads the NetSuite side as the ERP's saved-search export of the month would
give it, with a few planted differences: three invoices the ERP does not have,
one with another amount, one with another tax (close enough to be suggested,
not matched), one renumbered by the ERP (found by its external id) and one ERP
invoice billing never issued. Then runs each reconciliation once over the
month: the differences appear as breaks in the exception queue and as
suggestions in the run's report. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from reconciliation import services
from reconciliation.cash import CASH_RULES
from reconciliation.models import Kind, Reconciliation
from reconciliation.runs import run_now
from revops.actors import Actor
from revops.demo.context import DEFAULT_TODAY
from revops.models import Invoice

ACTOR = Actor.for_system("revops", "demo_reconciliation")
REASON = "Demo: reconciliations loaded by demo_reconciliation"
ERP = "netsuite"

RECONCILIATIONS = [
    (
        "Billing ⇄ NetSuite invoices",
        Kind.INVOICES_ERP,
        ERP,
        [
            {
                "position": 10,
                "name": "Same number, same amounts",
                "method": "exact_reference",
                "amount_tolerance": Decimal("0.01"),
                "compare_tax": True,
            },
            {
                "position": 20,
                "name": "Same number, amount within 2 %",
                "method": "exact_reference",
                "tolerance_percent": Decimal("2"),
                "action": "suggest",
            },
            {
                "position": 30,
                "name": "Same customer and amount within 3 days",
                "method": "amount_customer_date",
                "date_window_days": 3,
                "action": "suggest",
            },
        ],
    ),
    (
        "Stripe payments ⇄ invoices",
        Kind.PAYMENTS_INVOICES,
        "stripe",
        [
            {
                "position": 10,
                "name": "Invoice named, same amount",
                "method": "exact_reference",
                "amount_tolerance": Decimal("0.01"),
            },
            {
                "position": 20,
                "name": "Several invoices named",
                "method": "exact_reference",
                "cardinality": "1:N",
                "amount_tolerance": Decimal("0.01"),
            },
            {
                "position": 30,
                "name": "Invoice named, part or over payment",
                "method": "exact_reference",
                "tolerance_percent": Decimal("75"),
                "action": "suggest",
            },
            {
                "position": 40,
                "name": "Same customer and amount, paid within four months",
                "method": "amount_customer_date",
                "date_window_days": 120,
                "action": "suggest",
            },
        ],
    ),
    ("Bank ⇄ invoices (cash application)", Kind.CASH_APPLICATION, "", CASH_RULES),
    (
        "Metered ⇄ billed usage",
        Kind.USAGE_BILLED,
        "",
        [
            {
                "position": 10,
                "name": "Same contract line and period, same quantity",
                "method": "exact_reference",
            }
        ],
    ),
]


def erp_snapshot(date_from: dt.date, date_to: dt.date) -> list[dict]:
    """The month's issued invoices as the ERP holds them, with the planted differences."""
    invoices = list(
        Invoice.objects.filter(issue_date__range=(date_from, date_to))
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("customer", "legal_entity")
        .order_by("number")
    )
    rows = []
    for n, invoice in enumerate(invoices):
        if n in (0, 1, 2):
            continue  # never reached the ERP
        row = {
            "external_id": f"ns-{invoice.pk}",
            "reference": invoice.number,
            "customer_key": invoice.customer.number,
            "legal_entity_code": invoice.legal_entity.code,
            "amount": invoice.total,
            "tax_amount": invoice.tax_total,
            "currency": invoice.currency,
            "status": invoice.status,
            "record_date": invoice.issue_date.isoformat(),
        }
        if n == 3:
            row["amount"] = (invoice.total * Decimal("1.10")).quantize(Decimal("0.01"))
        elif n == 4:
            row["tax_amount"] = invoice.tax_total + Decimal("5.00")
        elif n == 5:
            row["external_id"], row["reference"] = invoice.number, f"NS{90000 + invoice.pk}"
        rows.append(row)
    if invoices:
        first = invoices[0]
        rows.append(
            {
                "external_id": "ns-extra-1",
                "reference": "NS-EXTRA-1",
                "customer_key": first.customer.number,
                "legal_entity_code": first.legal_entity.code,
                "amount": Decimal("1234.56"),
                "tax_amount": 0,
                "currency": first.currency,
                "status": "open",
                "record_date": date_to.isoformat(),
            }
        )
    return rows


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=DEFAULT_TODAY,
            help=f"Last day of the month reconciled (default {DEFAULT_TODAY.isoformat()}).",
        )

    def handle(self, *args, today: dt.date, **options):
        if Reconciliation.objects.filter(name=RECONCILIATIONS[0][0]).exists():
            self.stdout.write("Demo reconciliations are set up already; nothing changed.")
            return
        date_from = today - dt.timedelta(days=30)
        with transaction.atomic():
            made = []
            for name, kind, system, rules in RECONCILIATIONS:
                recon = services.reconciliation_save(
                    name=name, kind=kind, external_system=system, lookback_days=31, actor=ACTOR, reason=REASON
                )
                for rule in rules:
                    services.rule_save(reconciliation=recon, actor=ACTOR, reason=REASON, **rule)
                made.append(recon)
            loaded = services.external_records_load(
                system=ERP,
                object_type="invoice",
                rows=erp_snapshot(date_from, today),
                actor=ACTOR,
                replace=True,
            )
        self.stdout.write(f"Loaded the NetSuite snapshot: {loaded} invoices.")
        for recon in made:
            run = run_now(reconciliation=recon, actor=ACTOR, date_from=date_from, date_to=today)
            self.stdout.write(
                f"{recon.name}: run {run.pk} {run.status}, {run.matched_groups} matched, "
                f"{run.suggested_groups} suggested, {run.left_unmatched} + {run.right_unmatched} unmatched, "
                f"{run.breaks_opened} breaks opened"
            )
