"""Find canonical objects by the ids other systems give them."""

from __future__ import annotations

from django.db import models

from revops.models import ExternalRef


def find_by_external_id(*, system: str, object_type: str, external_id: str) -> models.Model | None:
    ref = (
        ExternalRef.objects.select_related("content_type")
        .filter(system=system, object_type=object_type, external_id=external_id)
        .first()
    )
    if ref is None:
        return None
    return ref.content_type.get_object_for_this_type(pk=ref.object_id)


def external_id_of(*, system: str, obj: models.Model) -> str | None:
    from django.contrib.contenttypes.models import ContentType

    return (
        ExternalRef.objects.filter(
            system=system, content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )
        .values_list("external_id", flat=True)
        .first()
    )
