"""Payments: the list with filters, and the detail page with applications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from revops.models import BusinessEvent, ExternalRef, Payment, PaymentApplication
from revops.selectors.customers import UNAPPLIED_PAYMENT_STATUSES
from revops.selectors.invoices import events_for_correlation
from revops.selectors.search import document_search, external_refs_for

PAYMENT_SORTS: dict[str, tuple[str, ...]] = {
    "-received_date": ("-received_date", "-id"),
    "received_date": ("received_date", "id"),
    "number": ("number",),
    "-number": ("-number",),
}
PAYMENT_DEFAULT_SORT = "-received_date"


def payment_list(
    *,
    q: str = "",
    status: str = "",
    legal_entity_id: int | None = None,
    customer_id: int | None = None,
    method: str = "",
    currency: str = "",
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    unidentified: bool = False,
    unapplied_cash: bool = False,
    sort: str = PAYMENT_DEFAULT_SORT,
) -> QuerySet[Payment]:
    """`unidentified`: only payments whose payer is not yet known;
    `unapplied_cash`: only payments with cash not yet applied to invoices."""
    qs = Payment.objects.select_related("customer", "legal_entity")
    if status:
        qs = qs.filter(status=status)
    if legal_entity_id:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if method:
        qs = qs.filter(method=method)
    if currency:
        qs = qs.filter(currency=currency)
    if received_from:
        qs = qs.filter(received_date__gte=received_from)
    if received_to:
        qs = qs.filter(received_date__lte=received_to)
    if unidentified:
        qs = qs.filter(customer__isnull=True)
    if unapplied_cash:
        qs = qs.filter(status__in=UNAPPLIED_PAYMENT_STATUSES)
    if q:
        qs = qs.filter(document_search(Payment, q))
    return qs.order_by(*PAYMENT_SORTS.get(sort, PAYMENT_SORTS[PAYMENT_DEFAULT_SORT]))


@dataclass
class PaymentDetail:
    payment: Payment
    applications: list[PaymentApplication]
    events: list[BusinessEvent]
    external_refs: list[ExternalRef]


def payment_detail(payment_id: int) -> PaymentDetail:
    """Raises Payment.DoesNotExist."""
    payment = Payment.objects.select_related("customer", "legal_entity").get(pk=payment_id)
    applications = list(payment.applications.select_related("invoice").order_by("applied_date", "id"))
    return PaymentDetail(
        payment=payment,
        applications=applications,
        events=events_for_correlation(payment.correlation_id),
        external_refs=external_refs_for(payment),
    )
