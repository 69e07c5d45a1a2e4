"""The home page: how much there is, what is owed, what just happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from revops.models import BusinessEvent, Contract, Customer, Invoice, Payment
from revops.selectors.customers import UNAPPLIED_PAYMENT_STATUSES
from revops.selectors.history import HistoryEntry, recent_changes
from revops.selectors.sla import SlaCount, dashboard_sla_counts


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count at most `cap` rows (then say "cap+"): never a full-table count."""
    cap = cap if cap is not None else settings.REVOPS_LIST_COUNT_CAP
    found = qs.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


TOTALS_CACHE_KEY = "revops:dashboard:money-totals"
TOTALS_MAX_AGE = 60


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
    totals_at: dt.datetime
    events: list[BusinessEvent]
    changes: list[HistoryEntry]
    slas: list[SlaCount] = field(default_factory=list)  # flows breaching each business SLA
    slas_at: dt.datetime | None = None  # when they were counted


# Tiles other apps add (the exception queue registers its own from its
# AppConfig.ready, so revops imports none of them): each provider takes the
# user and returns the tiles that user may see. They follow revops' own tiles
# by `order` (like the navigation), not by the order apps happen to load in.
_TILE_PROVIDERS: list[tuple[int, Callable[[object], list[Tile]]]] = []


def register_tiles(provider: Callable[[object], list[Tile]], *, order: int = 100) -> None:
    if all(registered is not provider for _, registered in _TILE_PROVIDERS):
        _TILE_PROVIDERS.append((order, provider))
        _TILE_PROVIDERS.sort(key=lambda entry: entry[0])


def _tile(label: str, qs: QuerySet, url_name: str, query: str = "") -> Tile:
    count, capped = capped_count(qs)
    return Tile(label, count, capped, url_name, query)


def money_totals(*, max_age: int = TOTALS_MAX_AGE) -> tuple[list, list, dt.datetime]:
    """Open receivables and unapplied cash per currency, and when they were summed.

    Summing every open invoice is the one dashboard query that grows with the
    data (a quarter of a second at 200,000 open invoices), so the result is
    kept for `max_age` seconds and the page says how old it is.
    """
    cached = cache.get(TOTALS_CACHE_KEY) if max_age else None
    if cached is not None:
        return cached
    open_ar = [
        CurrencyTotal(row["currency"], row["total"], row["n"])
        for row in Invoice.objects.filter(status=Invoice.Status.OPEN)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_due"), n=Count("id"))
        .order_by("currency")
    ]
    cash = [
        CurrencyTotal(row["currency"], row["total"], row["n"])
        for row in Payment.objects.filter(status__in=UNAPPLIED_PAYMENT_STATUSES)
        .order_by()
        .values("currency")
        .annotate(total=Sum(F("amount") - F("amount_applied")), n=Count("id"))
        .order_by("currency")
    ]
    result = (open_ar, cash, timezone.now())
    if max_age:
        cache.set(TOTALS_CACHE_KEY, result, max_age)
    return result


def dashboard(user=None) -> Dashboard:
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
        _tile("Payments with unapplied cash", unapplied, "payment_list", "unapplied_cash=on"),
    ]
    if user is not None:
        for _order, provider in _TILE_PROVIDERS:
            tiles.extend(provider(user))
    open_ar, cash, totals_at = money_totals()
    slas, slas_at = dashboard_sla_counts()
    return Dashboard(
        tiles=tiles,
        open_ar=open_ar,
        unapplied_cash=cash,
        totals_at=totals_at,
        events=list(BusinessEvent.objects.order_by("-occurred_at", "-id")[:15]),
        changes=recent_changes(limit=15),
        slas=slas,
        slas_at=slas_at,
    )
