"""Writes of the ERP configuration (keyword-only, atomic, attributed)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from connectors.models import Connector, ErpMapping
from revops.actors import Actor
from revops.models.base import stamp


@transaction.atomic
def erp_mapping_save(
    *, connector: Connector, values: dict[str, Any], actor: Actor, reason: str
) -> ErpMapping:
    """Create or change the connector's ERP mapping; the change is kept in its history."""
    mapping = ErpMapping.objects.select_for_update().filter(connector=connector).first() or ErpMapping(
        connector=connector
    )
    for name, value in values.items():
        setattr(mapping, name, value)
    stamp(mapping, actor, reason)
    mapping.full_clean()
    mapping.save()
    return mapping
