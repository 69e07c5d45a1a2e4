"""Field-ownership rules: which system is authoritative for which field."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from revops.actors import MANUAL_SYSTEM
from revops.models import ALL_FIELDS, OwnershipRefusal, OwnershipRule


def ownership_rule_list(*, object_type: str = "") -> QuerySet[OwnershipRule]:
    qs = OwnershipRule.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs.order_by("object_type", "field")


def recent_refusals(*, limit: int = 20) -> list[OwnershipRefusal]:
    return list(OwnershipRefusal.objects.order_by("-created_at", "-id")[:limit])


def field_owners(object_type: str, fields: Iterable[str]) -> dict[str, str]:
    """For each of `fields`, the system other than revops that owns it (a field
    rule beats the object type's `*` rule); fields anyone may write are left out."""
    rules = dict(OwnershipRule.objects.filter(object_type=object_type).values_list("field", "owner_system"))
    owners = {}
    for name in fields:
        owner = rules.get(name) or rules.get(ALL_FIELDS)
        if owner and owner != MANUAL_SYSTEM:
            owners[name] = owner
    return owners
