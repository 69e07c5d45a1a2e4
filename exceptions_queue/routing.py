"""Routing and SLA rules: which team owns a new exception item, how urgent it is,
and when it is due.

Rules are few (tens, not thousands), so matching reads the enabled rules in
order and tests each in Python: one small query per opened item, and the
conditions stay readable. The writes (create, update, delete) are services with
an actor and a reason like every other write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from exceptions_queue.codes import CODES
from exceptions_queue.models import PRIORITY_FOR_SEVERITY, ExceptionItem, Priority, RoutingRule
from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import LegalEntity
from revops.models.base import stamp

RULE_FIELDS = (
    "name",
    "position",
    "enabled",
    "codes",
    "legal_entity",
    "connector_name",
    "currency",
    "amount_min",
    "amount_max",
    "team",
    "priority",
    "sla_hours",
)


# -- matching --------------------------------------------------------------------------------------


def rule_matches(rule: RoutingRule, item: ExceptionItem) -> bool:
    """Every condition the rule sets holds for the item; an unset condition holds."""
    if rule.is_default:
        return True
    if rule.codes and item.code not in rule.codes:
        return False
    if rule.legal_entity_id and rule.legal_entity_id != item.legal_entity_id:
        return False
    if rule.connector_name and rule.connector_name != item.connector_name:
        return False
    if rule.amount_min is not None or rule.amount_max is not None or rule.currency:
        if item.amount is None or item.currency != rule.currency:
            return False
        if rule.amount_min is not None and item.amount < rule.amount_min:
            return False
        if rule.amount_max is not None and item.amount > rule.amount_max:
            return False
    return True


def rules_in_order() -> list[RoutingRule]:
    """Enabled rules in the order they are tried: by position, the default last."""
    return list(
        RoutingRule.objects.filter(enabled=True).select_related("team").order_by("is_default", "position")
    )


def first_match(item: ExceptionItem, rules: Iterable[RoutingRule] | None = None) -> RoutingRule | None:
    for rule in rules_in_order() if rules is None else rules:
        if rule_matches(rule, item):
            return rule
    return None


def routing_for(item, *, opened_at: dt.datetime, rules: Iterable[RoutingRule] | None = None) -> tuple:
    """(rule, values): the first matching rule (or None) and the routing fields
    it gives a new item — routing_rule_id, team_id, priority, due_at. The one
    decision both the single-item and the set-based open use."""
    rule = first_match(item, rules)
    if rule is None:
        return None, {
            "routing_rule_id": None,
            "team_id": None,
            "priority": PRIORITY_FOR_SEVERITY[item.severity],
            "due_at": None,
        }
    return rule, {
        "routing_rule_id": rule.pk,
        "team_id": rule.team_id,
        "priority": rule.priority or PRIORITY_FOR_SEVERITY[item.severity],
        "due_at": opened_at + dt.timedelta(hours=rule.sla_hours) if rule.sla_hours else None,
    }


def apply_routing(item: ExceptionItem, *, opened_at: dt.datetime) -> RoutingRule | None:
    """Set team, priority and due time on an item being opened (not saved here)."""
    rule, values = routing_for(item, opened_at=opened_at)
    item.routing_rule = rule
    item.priority = values["priority"]
    if rule is not None:
        item.team = rule.team
        item.due_at = values["due_at"]
    return rule


def describe_rule(rule: RoutingRule) -> str:
    """The conditions in words, for lists and history: "Tax mismatch · US entity · over 1,000.00 USD"."""
    if rule.is_default:
        return "Every item no other rule takes"
    parts = []
    if rule.codes:
        parts.append(", ".join(CODES[code].label if code in CODES else code for code in rule.codes))
    if rule.legal_entity_id:
        parts.append(str(rule.legal_entity))
    if rule.connector_name:
        parts.append(f"connector {rule.connector_name}")
    if rule.amount_min is not None and rule.amount_max is not None:
        parts.append(f"amount {rule.amount_min:,.2f} to {rule.amount_max:,.2f} {rule.currency}")
    elif rule.amount_min is not None:
        parts.append(f"amount from {rule.amount_min:,.2f} {rule.currency}")
    elif rule.amount_max is not None:
        parts.append(f"amount up to {rule.amount_max:,.2f} {rule.currency}")
    return " · ".join(parts) or "Every item"


# -- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def routing_rule_create(*, actor: Actor, reason: str, **values: Any) -> RoutingRule:
    rule = RoutingRule()
    if values.get("position") is None:
        values["position"] = _next_position()
    return _save(rule, values, actor=actor, reason=reason, verb="Created")


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, actor: Actor, reason: str, **values: Any) -> RoutingRule:
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_default:
        # The default rule only chooses who and how fast: it must keep matching everything.
        conditions = {
            "codes",
            "legal_entity",
            "connector_name",
            "currency",
            "amount_min",
            "amount_max",
            "enabled",
        }
        touched = sorted(name for name in conditions & set(values) if values[name] != getattr(rule, name))
        if touched:
            raise field_error(
                touched[0], "The default rule matches every item; set conditions on another rule instead."
            )
    return _save(rule, values, actor=actor, reason=reason, verb="Changed")


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule, actor: Actor, reason: str) -> None:
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_default:
        raise field_error("rule", "The default rule cannot be deleted: every item needs an owner.")
    reason = _required_reason(reason)
    stamp(rule, actor, f"Deleted: {reason}")
    rule.delete()


@transaction.atomic
def routing_rule_set_default(
    *,
    team: Group,
    actor: Actor,
    reason: str,
    sla_hours: int | None = None,
    priority: int | None = None,
    name: str = "Default",
) -> RoutingRule:
    """Create the default rule, or change who it routes to."""
    rule = RoutingRule.objects.select_for_update().filter(is_default=True).first()
    values = {"team": team, "sla_hours": sla_hours, "priority": priority}
    if rule is None:
        rule = RoutingRule(is_default=True, name=name)
        values["position"] = _next_position()
        return _save(rule, values, actor=actor, reason=reason, verb="Created")
    return _save(rule, values, actor=actor, reason=reason, verb="Changed")


def _next_position() -> int:
    last = RoutingRule.objects.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 10


def _save(rule: RoutingRule, values: dict[str, Any], *, actor: Actor, reason: str, verb: str) -> RoutingRule:
    reason = _required_reason(reason)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown routing rule fields: {sorted(unknown)}")
    values = _clean(values, rule)
    for name, value in values.items():
        setattr(rule, name, value)
    errors = _validate(rule)
    if errors:
        raise DomainValidationError(errors)
    stamp(rule, actor, f"{verb}: {reason}")
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        text = str(exc)
        if "routing_rule_position_unique" in text or "position" in text:
            raise field_error("position", f"Another rule already has position {rule.position}.") from None
        if "name" in text:
            raise field_error("name", f"A rule named {rule.name!r} already exists.") from None
        raise
    return rule


def _clean(values: dict[str, Any], rule: RoutingRule) -> dict[str, Any]:
    values = dict(values)
    if "name" in values:
        values["name"] = " ".join((values["name"] or "").split())
    if "codes" in values:
        values["codes"] = sorted(set(values["codes"] or []))
    if "connector_name" in values:
        values["connector_name"] = (values["connector_name"] or "").strip()
    if "currency" in values:
        values["currency"] = (values["currency"] or "").strip().upper()
    for name in ("amount_min", "amount_max"):
        if name in values and values[name] is not None:
            values[name] = Decimal(values[name])
    return values


def _validate(rule: RoutingRule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not rule.name:
        add("name", "A rule needs a name.")
    unknown = [code for code in rule.codes if code not in CODES]
    if unknown:
        add("codes", f"Not exception codes: {', '.join(unknown)}.")
    if rule.team_id is None:
        add("team", "Choose the team that owns the items this rule matches.")
    if rule.priority is not None and rule.priority not in Priority.values:
        add("priority", "Choose a priority from the list.")
    if rule.sla_hours is not None and rule.sla_hours < 1:
        add("sla_hours", "An SLA is at least one hour; leave it blank for no due time.")
    if (rule.amount_min is not None or rule.amount_max is not None) and not rule.currency:
        add("currency", "An amount range needs its currency.")
    if rule.currency and len(rule.currency) != 3:
        add("currency", "Use a three-letter ISO currency code.")
    if rule.amount_min is not None and rule.amount_max is not None and rule.amount_max < rule.amount_min:
        add("amount_max", "The upper amount is below the lower one.")
    if rule.legal_entity_id is not None and not LegalEntity.objects.filter(pk=rule.legal_entity_id).exists():
        add("legal_entity", "No such legal entity.")
    return errors


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "Say why you are changing routing (it is kept in the rule's history).")
    return reason
