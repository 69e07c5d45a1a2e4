"""Writes for connector configuration: validated, audited (without secrets),
with the connector's Django-Q2 schedule kept in step."""

from __future__ import annotations

from typing import Any

from croniter import croniter
from django.db import transaction
from django_q.models import Schedule

from connectors.base import get_kind
from connectors.errors import ConfigurationError
from connectors.http import validate_base_url
from connectors.models import Connector
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models.base import stamp

SCHEDULE_FUNC = "connectors.tasks.scheduled_sync"
CONFIG_FIELDS = (
    "name",
    "kind",
    "legal_entity",
    "enabled",
    "base_url",
    "schedule_type",
    "interval_minutes",
    "cron",
    "object_types",
    "direction",
)


def _validate(connector: Connector) -> None:
    errors: dict[str, list[str]] = {}
    try:
        kind = get_kind(connector.kind)
    except LookupError as exc:
        raise DomainValidationError({"kind": [str(exc)]}) from None
    if connector.base_url:
        try:
            connector.base_url = validate_base_url(connector.base_url)
        except ConfigurationError as exc:
            errors["base_url"] = [exc.message]
    elif not kind.default_base_url and kind.needs_base_url:
        errors["base_url"] = ["This kind of connector needs the address of the system to connect to."]
    unknown = sorted(set(connector.object_types or []) - set(kind.streams))
    if unknown:
        errors["object_types"] = [
            f"{kind.label} cannot sync {', '.join(unknown)}; it syncs {', '.join(kind.streams)}."
        ]
    if (
        connector.schedule_type == Connector.ScheduleType.INTERVAL
        and not (connector.interval_minutes or 0) >= 1
    ):
        errors["interval_minutes"] = ["Give the interval in whole minutes (at least 1)."]
    if connector.schedule_type == Connector.ScheduleType.CRON:
        problem = _cron_problem(connector.cron)
        if problem:
            errors["cron"] = [problem]
    if errors:
        raise DomainValidationError(errors)


def _cron_problem(expression: str) -> str | None:
    fields = (expression or "").split()
    if len(fields) != 5:
        return (
            "A cron expression has five fields: minute hour day-of-month month day-of-week (e.g. 0 * * * *)."
        )
    if not croniter.is_valid(expression):
        return f"{expression!r} is not a valid cron expression."
    return None


@transaction.atomic
def connector_save(
    *,
    actor: Actor,
    reason: str,
    connector: Connector | None = None,
    values: dict[str, Any],
    credentials: dict[str, str] | None = None,
    webhook_secret: str | None = None,
) -> Connector:
    """Create or change a connector. `credentials` and `webhook_secret` replace
    the stored ones only when given (None keeps them); blank credential values
    keep the stored value of that key."""
    unknown = sorted(set(values) - set(CONFIG_FIELDS))
    if unknown:
        raise DomainValidationError({name: ["This field cannot be set here."] for name in unknown})
    connector = connector or Connector()
    for name, value in values.items():
        setattr(connector, name, value)
    if credentials is not None:
        stored = dict(connector.credentials.reveal() or {}) if connector.credentials is not None else {}
        stored.update({k: v for k, v in credentials.items() if v})
        connector.credentials = stored
    if webhook_secret:
        connector.webhook_secret = webhook_secret
    _validate(connector)
    clash = Connector.objects.filter(name=connector.name).exclude(pk=connector.pk)
    if clash.exists():
        raise DomainValidationError({"name": [f"A connector named {connector.name} already exists."]})
    stamp(connector, actor, reason)
    connector.save()
    _sync_schedule(connector)
    return connector


def _sync_schedule(connector: Connector) -> None:
    """Keep exactly one Django-Q2 schedule per scheduled, enabled connector."""
    existing = (
        Schedule.objects.filter(pk=connector.q_schedule_id).first() if connector.q_schedule_id else None
    )
    wanted = connector.enabled and connector.schedule_type != Connector.ScheduleType.MANUAL
    if not wanted:
        if existing is not None:
            existing.delete()
        if connector.q_schedule_id:
            Connector.objects.filter(pk=connector.pk).update(q_schedule_id=None)
            connector.q_schedule_id = None
        return
    schedule = existing or Schedule(func=SCHEDULE_FUNC, args=str(connector.pk), repeats=-1)
    schedule.name = f"sync connector {connector.name}"
    if connector.schedule_type == Connector.ScheduleType.INTERVAL:
        schedule.schedule_type, schedule.minutes, schedule.cron = (
            Schedule.MINUTES,
            connector.interval_minutes,
            None,
        )
    else:
        schedule.schedule_type, schedule.cron, schedule.minutes = Schedule.CRON, connector.cron, None
    schedule.save()
    if connector.q_schedule_id != schedule.pk:
        Connector.objects.filter(pk=connector.pk).update(q_schedule_id=schedule.pk)
        connector.q_schedule_id = schedule.pk


@transaction.atomic
def connector_delete(*, connector: Connector, actor: Actor, reason: str) -> None:
    if connector.q_schedule_id:
        Schedule.objects.filter(pk=connector.q_schedule_id).delete()
    stamp(connector, actor, reason)
    connector.delete()
