"""Shared search helpers: exact number, case-insensitive name and external id."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from revops.models import Customer, ExternalRef

# Beyond this many customers matching a name, documents are filtered with a
# subquery instead of a list of ids (correct, just slower).
_NAME_MATCH_ID_LIMIT = 500


def external_ids(model: type[Model], term: str) -> QuerySet:
    """Object ids of `model` that some system knows by the external id `term`."""
    return ExternalRef.objects.filter(
        external_id=term, content_type=ContentType.objects.get_for_model(model)
    ).values("object_id")


def customer_ids_matching(term: str) -> list[int] | QuerySet:
    """Ids of customers numbered `term` or whose name contains it, case-insensitively."""
    matches = (
        Customer.objects.filter(Q(number=term) | Q(name__icontains=term))
        .order_by()
        .values_list("id", flat=True)
    )
    ids = list(matches[: _NAME_MATCH_ID_LIMIT + 1])
    return matches if len(ids) > _NAME_MATCH_ID_LIMIT else ids


def document_search(model: type[Model], term: str) -> Q:
    """A document (contract, invoice, payment) by its number, its external id or
    its customer's name or number."""
    term = term.strip()
    if not term:
        return Q()
    return (
        Q(number=term)
        | Q(pk__in=list(external_ids(model, term).values_list("object_id", flat=True)[:100]))
        | Q(customer_id__in=customer_ids_matching(term))
    )


def external_refs_for(obj: Model) -> list[ExternalRef]:
    """Every system's id for one canonical object."""
    return list(
        ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("system", "object_type")
    )


def first_rows(qs: QuerySet, limit: int) -> tuple[list, bool]:
    """The first `limit` rows and whether there are more."""
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit
