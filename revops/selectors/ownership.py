"""Field-ownership rules: which system is authoritative for which field."""

from __future__ import annotations

from django.db.models import QuerySet

from revops.models import OwnershipRefusal, OwnershipRule


def ownership_rule_list(*, object_type: str = "") -> QuerySet[OwnershipRule]:
    qs = OwnershipRule.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs.order_by("object_type", "field")


def recent_refusals(*, limit: int = 20) -> list[OwnershipRefusal]:
    return list(OwnershipRefusal.objects.order_by("-created_at", "-id")[:limit])
