"""Reads for exception items: the queue (sorts, search on business keys, counts
per status and code), the connectors items name, and items by object or key.
The queue's filter form lives in `exceptions_queue.filters`."""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import OperationalError, connection, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from exceptions_queue.codes import ExceptionCode
from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Status
from revops.models import Customer
from revops.selectors.customers import customer_search
from revops.selectors.dashboard import Tile

OPEN = "open"  # a status filter meaning new, in review or resubmitted
ALL = "all"  # a status filter meaning any status

SLA_BREACHING = "breaching"
SLA_DUE_SOON = "due_soon"
SLA_ON_TRACK = "on_track"
SLA_NONE = "none"
SLA_CHOICES = [
    (SLA_BREACHING, "Breaching SLA"),
    (SLA_DUE_SOON, "Due within 24 h"),
    (SLA_ON_TRACK, "On track (due after 24 h)"),
    (SLA_NONE, "No SLA"),
]

# Sort keys the queue may ask for. Each is backed by an index over the open
# items, the set analysts work in (migrations 0005 and 0008); newest and oldest
# also over any status (0007). Other sorts of closed items sort the matches.
QUEUE_SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-last_seen_at", "-id"),
    "oldest": ("first_seen_at", "id"),
    "due": ("due_at", "id"),
    "priority": ("priority", "-last_seen_at", "-id"),
    "occurrences": ("-occurrences", "-id"),
}
QUEUE_SORT_LABELS = {
    "newest": "Newest",
    "oldest": "Oldest",
    "due": "Due soonest",
    "priority": "Priority",
    "occurrences": "Most occurrences",
}
QUEUE_DEFAULT_SORT = "newest"

# The customers a search names are looked up once and passed as their ids;
# beyond these many, items are filtered by a subquery instead (correct, slower).
_CUSTOMER_ID_LIMIT = 500
_CUSTOMER_ID_ARRAY_LIMIT = 10000  # PostgreSQL: up to this many as one array
# Counts on the queue (matching items, per status, per code, per saved view)
# stop here and say "1,000+": past that the number no longer changes what an
# analyst does next, and every count stays a short scan at a million items.
QUEUE_COUNT_CAP = 1000
QUEUE_PER_PAGE = 50
FACET_TIMEOUT_MS = 150
CONNECTOR_CHOICES_CACHE_KEY = "exceptions_queue:connector-choices"
CONNECTOR_CHOICES_SECONDS = 60


# Large columns a queue row never shows.
ROW_DEFERRED = ("payload", "error_details", "suggested_correction", "correction", "message")


def queue_items(condition: Q, *, sort: str = QUEUE_DEFAULT_SORT) -> QuerySet[ExceptionItem]:
    """Items matching `condition`, with what a queue row shows, in a whitelisted order."""
    ordering = QUEUE_SORTS.get(sort, QUEUE_SORTS[QUEUE_DEFAULT_SORT])
    if sort == "due":
        ordering = (models.F("due_at").asc(nulls_last=True), "id")
    return (
        ExceptionItem.objects.filter(condition)
        .select_related("assignee", "team", "legal_entity", "customer")
        .defer(*ROW_DEFERRED)
        .order_by(*ordering)
    )


def queue_rows(ids: list[int]) -> list[ExceptionItem]:
    """The items with these ids, in this order, with what a queue row shows.

    The queue finds a page's ids first (an index-only scan of the covering
    index for most filters) and then reads those rows by primary key."""
    found = ExceptionItem.objects.filter(pk__in=ids).select_related("assignee", "team", "customer")
    found = found.defer(*ROW_DEFERRED).in_bulk()
    return [found[pk] for pk in ids if pk in found]


def queue_search(term: str) -> Q:
    """Items by a business key: the external id, the object's label (an invoice
    or contract number, exact or its beginning), a correlation id, the customer
    (number or part of the name) or a dedupe key."""
    term = term.strip()
    if not term:
        return Q()
    try:
        correlation = uuid.UUID(term)
    except ValueError:
        correlation = None
    if correlation is not None:
        return Q(correlation_id=correlation) | Q(external_id=term)
    condition = Q(external_id=term) | Q(object_label__startswith=term)
    if "|" in term:  # dedupe keys are code|object|rule
        condition |= Q(dedupe_key=term)
    customers = Customer.objects.filter(customer_search(term)).order_by().values_list("id", flat=True)
    limit = _CUSTOMER_ID_ARRAY_LIMIT if connection.vendor == "postgresql" else _CUSTOMER_ID_LIMIT
    ids = list(customers[: limit + 1])
    if len(ids) > limit:
        condition |= Q(customer_id__in=customers)
    elif len(ids) > _CUSTOMER_ID_LIMIT:
        # Thousands of ids travel as one array parameter, not thousands of parameters.
        condition |= Q(customer_id__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
    elif ids:
        condition |= Q(customer_id__in=ids)
    return condition


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """How many rows, counting at most `cap` + 1: (count, capped)."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    count = qs.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


def capped_counts(conditions: dict[str, Q], *, cap: int | None = None) -> dict[str, tuple[int, bool]]:
    """(count, capped) of the items matching each condition, counting at most
    cap + 1 of each, in one statement: one round trip instead of one per count."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    parts, params = [], []
    for condition in conditions.values():
        qs = ExceptionItem.objects.filter(condition).order_by().values_list("id")[: cap + 1]
        sql, condition_params = qs.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) s)")  # noqa: S608
        params.extend(condition_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)  # noqa: S608
        counts = cursor.fetchone()
    return {key: (min(count, cap), count > cap) for key, count in zip(conditions, counts, strict=True)}


def counts_by(
    condition: Q, field: str, values, *, per_value: bool = True, cap: int | None = None
) -> dict[str, tuple[int, bool]]:
    """Counts of the items matching `condition` per value of `field`, as
    (count, capped), bounded whatever the table's size.

    `per_value`: one capped count per value, each an index-only scan when an
    index leads with `field` and the condition's other column (status and code
    have one): exact up to the cap. Otherwise one pass over at most cap + 1
    matching rows, grouped: exact when fewer match, else lower bounds (capped);
    (None, False) for every value if that pass takes longer than FACET_TIMEOUT_MS."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    values = list(values)
    if per_value:
        # One statement: the filter is compiled once and run per value against a
        # list of the values (`v`), each run a capped index scan.
        qs = ExceptionItem.objects.filter(condition, **{field: RawSQL("v.value", [])})
        sql, params = qs.order_by().values_list("id")[: cap + 1].query.sql_with_params()
        listed = " UNION ALL ".join(["SELECT %s AS value"] * len(values))
        statement = f"SELECT v.value, (SELECT COUNT(*) FROM ({sql}) s) FROM ({listed}) v"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(statement, [*params, *values])
            found = dict(cursor.fetchall())
        return {value: (min(found[value], cap), found[value] > cap) for value in values}
    found, capped = sampled_counts(condition, (field,), cap=cap)
    if found is None:
        return {value: (None, False) for value in values}
    return {value: (min(found.get((value,), 0), cap), capped) for value in values}


def sampled_counts(
    condition: Q, fields: tuple[str, ...], *, cap: int | None = None
) -> tuple[dict[tuple, int] | None, bool]:
    """Counts per combination of `fields` over at most cap + 1 matching items:
    ({values: count}, capped); (None, False) if the pass takes longer than
    FACET_TIMEOUT_MS."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    sample = ExceptionItem.objects.filter(condition).order_by().values_list(*fields)[: cap + 1]
    sql, params = sample.query.sql_with_params()
    columns = ", ".join(f"s.{connection.ops.quote_name(field)}" for field in fields)
    groups = ", ".join(str(n) for n in range(1, len(fields) + 1))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A filter no index serves and few items match would read the whole table:
                # past this the page shows the facets without numbers rather than wait.
                cursor.execute(f"SET LOCAL statement_timeout = {int(FACET_TIMEOUT_MS)}")
            cursor.execute(f"SELECT {columns}, COUNT(*) FROM ({sql}) s GROUP BY {groups}", params)  # noqa: S608
            found = {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}
    except OperationalError:
        return None, False
    return found, sum(found.values()) > cap


def status_counts(
    condition: Q, *, per_value: bool = True, cap: int | None = None
) -> dict[str, tuple[int, bool]]:
    return counts_by(condition, "status", Status.values, per_value=per_value, cap=cap)


def code_counts(
    condition: Q, *, per_value: bool = True, cap: int | None = None
) -> dict[str, tuple[int, bool]]:
    return counts_by(condition, "code", ExceptionCode.values, per_value=per_value, cap=cap)


def connector_choices() -> list[tuple[int, str]]:
    """(connector id, name) for every connector that has items, cached briefly.

    A skip scan over the connector index: one index probe per connector, not a
    pass over every item."""
    choices = cache.get(CONNECTOR_CHOICES_CACHE_KEY)
    if choices is None:
        table = connection.ops.quote_name(ExceptionItem._meta.db_table)
        # The table name comes from the model, never from input.
        sql = f"""
            WITH RECURSIVE ids(connector_id) AS (
                SELECT (SELECT connector_id FROM {table} WHERE connector_id IS NOT NULL
                        ORDER BY connector_id LIMIT 1)
                UNION ALL
                SELECT (SELECT t.connector_id FROM {table} t WHERE t.connector_id > ids.connector_id
                        ORDER BY t.connector_id LIMIT 1)
                FROM ids WHERE ids.connector_id IS NOT NULL
            )
            SELECT ids.connector_id,
                   (SELECT t.connector_name FROM {table} t WHERE t.connector_id = ids.connector_id LIMIT 1)
            FROM ids WHERE ids.connector_id IS NOT NULL
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        choices = sorted(((pk, name or f"Connector #{pk}") for pk, name in rows), key=lambda c: c[1].lower())
        cache.set(CONNECTOR_CHOICES_CACHE_KEY, choices, CONNECTOR_CHOICES_SECONDS)
    return choices


def open_items_for(subject: models.Model) -> QuerySet[ExceptionItem]:
    """The open items concerning one canonical object, newest first."""
    return ExceptionItem.objects.filter(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        status__in=OPEN_STATUSES,
    ).order_by("-last_seen_at", "-id")


def item_list(
    *,
    status: str | None = None,
    code: str | None = None,
    assignee_id: int | None = None,
    legal_entity_id: int | None = None,
    connector_id: int | None = None,
    correlation_id: uuid.UUID | str | None = None,
) -> QuerySet[ExceptionItem]:
    """Items newest first, filtered; `status="open"` means any open status."""
    qs = ExceptionItem.objects.select_related("assignee", "team", "legal_entity")
    if status == OPEN:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if code:
        qs = qs.filter(code=code)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if legal_entity_id:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    if connector_id:
        qs = qs.filter(connector_id=connector_id)
    if correlation_id:
        qs = qs.filter(correlation_id=correlation_id)
    return qs.order_by("-last_seen_at", "-id")


def open_item_for_key(dedupe_key: str) -> ExceptionItem | None:
    return ExceptionItem.objects.filter(dedupe_key=dedupe_key, status__in=OPEN_STATUSES).first()


def dashboard_tiles(user) -> list:
    """The dashboard's queue tiles: open items and those breaching their SLA,
    capped like the queue's own counts, for people who may read the queue."""
    if not user.has_perm("exceptions_queue.view_exceptionitem"):
        return []
    open_items = ExceptionItem.objects.filter(status__in=OPEN_STATUSES)
    breaching = open_items.filter(due_at__lt=timezone.now())
    return [
        Tile("Open exception items", *capped_count(open_items), "exceptions_queue:list"),
        Tile("Exceptions breaching SLA", *capped_count(breaching), "exceptions_queue:list", "sla=breaching"),
    ]
