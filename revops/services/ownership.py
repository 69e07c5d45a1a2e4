"""Field ownership: which system may write which field.

`guard_changes` is the one place every service asks before it writes a change
from some system. A system that does not own a field has that change refused:
the refusal is recorded (for review) and the rest of the change goes through.
A person editing in revops is refused outright unless they hold the override
permission and give a reason; the override is then written to history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from revops.actors import Actor
from revops.errors import DomainValidationError, OwnershipConflict
from revops.models import ALL_FIELDS, OBJECT_TYPES, OwnershipRefusal, OwnershipRule
from revops.models.base import stamp

OVERRIDE_PERMISSION = "revops.override_ownership"
_VALID_OBJECT_TYPES = {key for key, _ in OBJECT_TYPES}


@dataclass
class GuardResult:
    allowed: dict[str, Any] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # field -> owner system
    overridden: dict[str, str] = field(default_factory=dict)


def owners_for(object_type: str) -> dict[str, str]:
    """{field or '*': owner system} for one object type."""
    return dict(OwnershipRule.objects.filter(object_type=object_type).values_list("field", "owner_system"))


def owner_of(rules: Mapping[str, str], field_name: str) -> str | None:
    return rules.get(field_name) or rules.get(ALL_FIELDS)


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def guard_changes(
    *,
    instance: models.Model,
    object_type: str,
    changes: Mapping[str, Any],
    actor: Actor,
    override_ownership: bool = False,
    reason: str = "",
) -> GuardResult:
    """Split `changes` into what `actor` may write and what it may not."""
    rules = owners_for(object_type)
    result = GuardResult()
    for name, value in changes.items():
        owner = owner_of(rules, name)
        if owner is None or owner == actor.system:
            result.allowed[name] = value
        elif override_ownership and actor.is_person:
            result.allowed[name] = value
            result.overridden[name] = owner
        else:
            result.refused[name] = owner

    if override_ownership and result.overridden:
        if not actor.has_perm(OVERRIDE_PERMISSION):
            raise DomainValidationError(
                {"override_ownership": ["You do not have permission to override field ownership."]}
            )
        if not reason.strip():
            raise DomainValidationError({"reason": ["An ownership override needs a reason."]})

    if result.refused:
        if actor.is_person:
            raise OwnershipConflict(result.refused, object_type)
        _record_refusals(instance, object_type, changes, result.refused, actor)
    return result


def _record_refusals(instance, object_type, changes, refused, actor: Actor) -> None:
    content_type = ContentType.objects.get_for_model(instance)
    OwnershipRefusal.objects.bulk_create(
        [
            OwnershipRefusal(
                content_type=content_type,
                object_id=instance.pk,
                object_type=object_type,
                field=name,
                attempted_by_system=actor.system,
                actor=actor.label,
                owner_system=owner,
                current_value=_jsonable(getattr(instance, name, None)),
                attempted_value=_jsonable(changes[name]),
                reason=f"{object_type}.{name} is owned by {owner}",
            )
            for name, owner in refused.items()
        ]
    )


def override_note(overridden: Mapping[str, str]) -> str:
    fields = ", ".join(f"{name} (owned by {owner})" for name, owner in sorted(overridden.items()))
    return f"ownership override of {fields}"


@transaction.atomic
def ownership_rule_save(
    *,
    object_type: str,
    field: str,
    owner_system: str,
    notes: str = "",
    actor: Actor,
    reason: str,
    rule: OwnershipRule | None = None,
) -> OwnershipRule:
    errors: dict[str, list[str]] = {}
    object_type = (object_type or "").strip()
    field_name = (field or "").strip() or ALL_FIELDS
    owner_system = (owner_system or "").strip().lower()
    if object_type not in _VALID_OBJECT_TYPES:
        errors["object_type"] = [f"Unknown object type {object_type!r}."]
    else:
        model = _model_for(object_type)
        known = {f.name for f in model._meta.concrete_fields}
        if field_name != ALL_FIELDS and field_name not in known:
            errors["field"] = [
                f"{object_type} has no field {field_name!r}; use * for all fields or one of: "
                + ", ".join(sorted(known - {"id", "created_at", "updated_at"}))
            ]
    if not owner_system:
        errors["owner_system"] = ["Name the system that owns the field, e.g. salesforce or revops."]
    clash = OwnershipRule.objects.filter(object_type=object_type, field=field_name)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        errors["field"] = [f"A rule for {object_type}.{field_name} already exists; edit that one."]
    if errors:
        raise DomainValidationError(errors)

    rule = rule or OwnershipRule()
    rule.object_type, rule.field, rule.owner_system, rule.notes = object_type, field_name, owner_system, notes
    stamp(rule, actor, reason)
    rule.save()
    return rule


@transaction.atomic
def ownership_rule_delete(*, rule: OwnershipRule, actor: Actor, reason: str) -> None:
    stamp(rule, actor, reason)
    rule.delete()


def _model_for(object_type: str) -> type[models.Model]:
    from revops import models as m

    return {
        "customer": m.Customer,
        "contact": m.CustomerContact,
        "product": m.Product,
        "price": m.Price,
        "contract": m.Contract,
        "contract_line": m.ContractLine,
        "usage": m.UsageRecord,
        "invoice": m.Invoice,
        "credit_note": m.CreditNote,
        "payment": m.Payment,
    }[object_type]
