"""Customers: the list with filters and search, and the detail page's data."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from revops.models import (
    Contract,
    Customer,
    CustomerContact,
    ExternalRef,
    Invoice,
    Payment,
)
from revops.selectors.search import external_ids, external_refs_for, first_rows

# Sort keys a list may ask for, each backed by an index.
CUSTOMER_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "number": ("number",),
    "-number": ("-number",),
}
CUSTOMER_DEFAULT_SORT = "name"

OPEN_AR_STATUSES = (Invoice.Status.OPEN,)
UNAPPLIED_PAYMENT_STATUSES = (
    Payment.Status.RECEIVED,
    Payment.Status.UNAPPLIED,
    Payment.Status.PARTIALLY_APPLIED,
)
RELATED_LIMIT = 20


def customer_search(term: str) -> Q:
    term = term.strip()
    if not term:
        return Q()
    # The external ids are fetched first: an OR with a subquery would stop
    # PostgreSQL from combining the number and trigram indexes (a full scan).
    known_as = list(external_ids(Customer, term).values_list("object_id", flat=True)[:100])
    return Q(number=term) | Q(name__icontains=term) | Q(pk__in=known_as)


def customer_list(
    *, q: str = "", status: str = "", legal_entity_id: int | None = None, sort: str = CUSTOMER_DEFAULT_SORT
) -> QuerySet[Customer]:
    qs = Customer.objects.select_related("legal_entity")
    if status:
        qs = qs.filter(status=status)
    if legal_entity_id:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    if q:
        qs = qs.filter(customer_search(q))
    return qs.order_by(*CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS[CUSTOMER_DEFAULT_SORT]))


@dataclass
class CurrencyBalance:
    currency: str
    open_ar: object = 0
    open_invoices: int = 0
    unapplied_cash: object = 0


@dataclass
class CustomerDetail:
    customer: Customer
    contacts: list[CustomerContact]
    contracts: list[Contract]
    invoices: list[Invoice]
    payments: list[Payment]
    balances: list[CurrencyBalance]
    external_refs: list[ExternalRef]
    more_contracts: bool = False
    more_invoices: bool = False
    more_payments: bool = False


def customer_balances(customer: Customer) -> list[CurrencyBalance]:
    """Open receivables and unapplied cash per currency."""
    balances: dict[str, CurrencyBalance] = {}
    open_ar = (
        Invoice.objects.filter(customer=customer, status__in=OPEN_AR_STATUSES)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_due"), n=Count("id"))
    )
    for row in open_ar:
        balance = balances.setdefault(row["currency"], CurrencyBalance(row["currency"]))
        balance.open_ar, balance.open_invoices = row["total"], row["n"]
    unapplied = (
        Payment.objects.filter(customer=customer, status__in=UNAPPLIED_PAYMENT_STATUSES)
        .order_by()
        .values("currency")
        .annotate(total=Sum(F("amount") - F("amount_applied")))
    )
    for row in unapplied:
        balances.setdefault(row["currency"], CurrencyBalance(row["currency"])).unapplied_cash = row["total"]
    return [balances[code] for code in sorted(balances)]


def customer_detail(customer_id: int) -> CustomerDetail:
    """Raises Customer.DoesNotExist."""
    customer = (
        Customer.objects.select_related("legal_entity")
        .prefetch_related(
            Prefetch("contacts", queryset=CustomerContact.objects.order_by("-is_primary", "name", "id"))
        )
        .get(pk=customer_id)
    )
    contracts, more_contracts = first_rows(customer.contracts.order_by("-start_date", "-id"), RELATED_LIMIT)
    invoices, more_invoices = first_rows(customer.invoices.order_by("-issue_date", "-id"), RELATED_LIMIT)
    payments, more_payments = first_rows(customer.payments.order_by("-received_date", "-id"), RELATED_LIMIT)
    return CustomerDetail(
        customer=customer,
        contacts=list(customer.contacts.all()),
        contracts=contracts,
        invoices=invoices,
        payments=payments,
        balances=customer_balances(customer),
        external_refs=external_refs_for(customer),
        more_contracts=more_contracts,
        more_invoices=more_invoices,
        more_payments=more_payments,
    )
