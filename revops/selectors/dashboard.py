"""The home page: how much there is, what is owed, what just happened."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, QuerySet, Sum

from revops.models import BusinessEvent, Contract, Customer, Invoice, Payment
from revops.selectors.customers import UNAPPLIED_PAYMENT_STATUSES
from revops.selectors.history import HistoryEntry, recent_changes


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count at most `cap` rows (then say "cap+"): never a full-table count."""
    cap = cap if cap is not None else settings.REVOPS_LIST_COUNT_CAP
    found = qs.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


@dataclass
class Tile:
    label: str
    count: int
    capped: bool
    url_name: str
    query: str = ""


@dataclass
class CurrencyTotal:
    currency: str
    amount: object
    count: int


@dataclass
class Dashboard:
    tiles: list[Tile]
    open_ar: list[CurrencyTotal]
    unapplied_cash: list[CurrencyTotal]
    events: list[BusinessEvent]
    changes: list[HistoryEntry]


def _tile(label: str, qs: QuerySet, url_name: str, query: str = "") -> Tile:
    count, capped = capped_count(qs)
    return Tile(label, count, capped, url_name, query)


def dashboard() -> Dashboard:
    open_invoices = Invoice.objects.filter(status=Invoice.Status.OPEN)
    unapplied = Payment.objects.filter(status__in=UNAPPLIED_PAYMENT_STATUSES)
    tiles = [
        _tile(
            "Active customers",
            Customer.objects.filter(status=Customer.Status.ACTIVE),
            "customer_list",
            "status=active",
        ),
        _tile(
            "Active contracts",
            Contract.objects.filter(status=Contract.Status.ACTIVE),
            "contract_list",
            "status=active",
        ),
        _tile("Open invoices", open_invoices, "invoice_list", "status=open"),
        _tile("Payments with unapplied cash", unapplied, "payment_list", "status=unapplied"),
    ]
    open_ar = [
        CurrencyTotal(row["currency"], row["total"], row["n"])
        for row in open_invoices.order_by()
        .values("currency")
        .annotate(total=Sum("amount_due"), n=Count("id"))
        .order_by("currency")
    ]
    cash = [
        CurrencyTotal(row["currency"], row["total"], row["n"])
        for row in unapplied.order_by()
        .values("currency")
        .annotate(total=Sum(F("amount") - F("amount_applied")), n=Count("id"))
        .order_by("currency")
    ]
    return Dashboard(
        tiles=tiles,
        open_ar=open_ar,
        unapplied_cash=cash,
        events=list(BusinessEvent.objects.order_by("-occurred_at", "-id")[:15]),
        changes=recent_changes(limit=15),
    )
