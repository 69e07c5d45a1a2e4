"""Saved views of the queue: the built-in ones everybody has, and filters a
person saved under a name for themselves (reads and writes)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.db.models import QuerySet

from exceptions_queue.filters import FILTER_PARAMS
from exceptions_queue.models import SavedView
from revops.actors import Actor
from revops.errors import field_error

NAME_MAX = 80
QUERY_MAX = 2000
VIEWS_PER_PERSON = 50


@dataclass(frozen=True)
class BuiltInView:
    key: str
    name: str
    query: str  # the queue's query string


BUILT_IN_VIEWS = (
    BuiltInView("open", "All open", ""),
    BuiltInView("mine", "Assigned to me", "assignee=me"),
    BuiltInView("breaching", "Breaching SLA", "sla=breaching"),
    BuiltInView("unassigned", "Unassigned", "assignee=none"),
)


def clean_query(query: str) -> str:
    """Only the filter's own parameters, without empty values or the page number."""
    pairs = [(key, value) for key, value in parse_qsl(query.lstrip("?")) if key in FILTER_PARAMS and value]
    return urlencode(pairs)


def saved_views_for(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user).order_by("name", "id")


def saved_view_save(*, user, name: str, query: str, actor: Actor) -> SavedView:
    """Save the filter `query` under `name` for `user`, replacing a view of the same name."""
    name = " ".join((name or "").split())
    if not name:
        raise field_error("name", "Give the view a name.")
    if len(name) > NAME_MAX:
        raise field_error("name", f"At most {NAME_MAX} characters.")
    query = clean_query(query or "")
    if len(query) > QUERY_MAX:
        raise field_error("query", "This filter is too long to save.")
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(user=user, name=name).first()
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing
        if SavedView.objects.filter(user=user).count() >= VIEWS_PER_PERSON:
            raise field_error("name", f"You have {VIEWS_PER_PERSON} saved views; delete one first.")
        return SavedView.objects.create(user=user, name=name, query=query)


def saved_view_delete(*, view: SavedView, actor: Actor) -> None:
    with transaction.atomic():
        SavedView.objects.filter(pk=view.pk).delete()
