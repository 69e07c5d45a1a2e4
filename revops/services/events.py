"""Business events and external references."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import BusinessEvent, ExternalRef
from revops.models.base import stamp
from revops.services.event_listeners import notify


def event_record(
    *,
    type: str,
    subject: models.Model,
    actor: Actor,
    correlation_id: uuid.UUID | None = None,
    occurred_at: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> BusinessEvent:
    """Append a business event. Call inside the transaction of the change it describes."""
    import json

    event = BusinessEvent(
        type=type,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        subject_label=str(subject)[:200],
        source=actor.system,
        actor=actor.label,
        occurred_at=occurred_at or timezone.now(),
        correlation_id=correlation_id,
        payload=json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder)),
    )
    stamp(event, actor, type)
    event.save()
    notify(event, subject)
    return event


@transaction.atomic
def external_ref_link(
    *, system: str, object_type: str, external_id: str, target: models.Model, actor: Actor, reason: str
) -> ExternalRef:
    """Link an external id to a canonical object; linking the same pair again is a no-op."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise DomainValidationError({"external_id": ["An external id cannot be blank."]})
    content_type = ContentType.objects.get_for_model(target)
    existing = ExternalRef.objects.filter(
        system=system, object_type=object_type, external_id=external_id
    ).first()
    if existing is not None:
        if existing.content_type_id == content_type.id and existing.object_id == target.pk:
            return existing
        raise DomainValidationError(
            {"external_id": [f"{system} {object_type} {external_id} already points to another record."]}
        )
    ref = ExternalRef(
        system=system,
        object_type=object_type,
        external_id=external_id,
        content_type=content_type,
        object_id=target.pk,
    )
    stamp(ref, actor, reason)
    try:
        with transaction.atomic():
            ref.save()
    except IntegrityError:
        raise DomainValidationError(
            {"external_id": [f"{target} already has a different {system} id."]}
        ) from None
    return ref


@transaction.atomic
def external_ref_move(
    *, system: str, object_type: str, external_id: str, target: models.Model, actor: Actor, reason: str
) -> ExternalRef:
    """Point an existing external id at another record, e.g. a contract line's
    successor after an amendment; the move is kept in the ref's history."""
    ref = ExternalRef.objects.select_for_update().get(
        system=system, object_type=object_type, external_id=external_id
    )
    ref.content_type = ContentType.objects.get_for_model(target)
    ref.object_id = target.pk
    stamp(ref, actor, reason)
    ref.save()
    return ref
