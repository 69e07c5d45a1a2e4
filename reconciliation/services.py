"""Writes for reconciliations: their settings and ranked rules (Integration
Admins), analysts' decisions on suggested matches, and snapshots of other
systems' documents. Keyword-only, atomic, with the actor and a reason stamped
on the history rows written in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from exceptions_queue.codes import ExceptionCode
from exceptions_queue.services import exception_open
from reconciliation.breaks import STEP_KEY, break_key, break_payload, close_items, describe, line_side
from reconciliation.models import (
    ExternalRecord,
    Kind,
    MatchDecision,
    MatchRule,
    Outcome,
    Reconciliation,
    Run,
    RunLine,
    Side,
)
from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import Customer, LegalEntity
from revops.models.base import stamp
from revops.money import CURRENCY_EXPONENTS

RULE_FIELDS = (
    "position",
    "name",
    "enabled",
    "method",
    "cardinality",
    "action",
    "amount_tolerance",
    "tolerance_percent",
    "date_window_days",
    "compare_tax",
    "compare_status",
)


# -- reconciliations and rules -------------------------------------------------------------------


@transaction.atomic
def reconciliation_save(
    *,
    name: str,
    kind: str,
    actor: Actor,
    reason: str,
    legal_entity: LegalEntity | None = None,
    external_system: str = "",
    lookback_days: int = 90,
    every_hours: int = 24,
    enabled: bool = True,
    reconciliation: Reconciliation | None = None,
) -> Reconciliation:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = ["Give the reconciliation a name."]
    elif Reconciliation.objects.filter(name=name).exclude(pk=getattr(reconciliation, "pk", None)).exists():
        errors["name"] = [f"A reconciliation named {name!r} exists already."]
    if kind not in Kind.values:
        errors["kind"] = [f"{kind!r} is not a kind of reconciliation ({', '.join(Kind.values)})."]
    external_system = (external_system or "").strip().lower()
    if kind in (Kind.INVOICES_ERP, Kind.DEALS_CONTRACTS) and not external_system:
        errors["external_system"] = ["Name the system whose snapshot is compared, e.g. netsuite or hubspot."]
    if lookback_days is None or not 0 < int(lookback_days) <= 3660:
        errors["lookback_days"] = ["Look back between 1 and 3,660 days."]
    if every_hours is None or not 0 <= int(every_hours) <= 24 * 31:
        errors["every_hours"] = ["Run every 0 (on demand only) to 744 hours."]
    if errors:
        raise DomainValidationError(errors)
    recon = reconciliation or Reconciliation()
    recon.name, recon.kind, recon.legal_entity = name, kind, legal_entity
    recon.external_system, recon.lookback_days, recon.every_hours = (
        external_system,
        lookback_days,
        every_hours,
    )
    recon.enabled = enabled
    stamp(recon, actor, reason)
    recon.save()
    return recon


def _clean_rule(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    clean["name"] = " ".join(str(values.get("name") or "").split())
    if not clean["name"]:
        errors["name"] = ["Give the rule a name an analyst recognises, e.g. 'Same number'."]
    for field, choices in (
        ("method", MatchRule.Method.values),
        ("cardinality", MatchRule.Cardinality.values),
        ("action", MatchRule.Action.values),
    ):
        if values.get(field) not in choices:
            errors[field] = [f"Choose one of: {', '.join(choices)}."]
    for field in ("amount_tolerance", "tolerance_percent"):
        try:
            number = Decimal(str(values.get(field, 0) or 0))
        except InvalidOperation:
            errors[field] = ["Enter a number, e.g. 0.05."]
            continue
        if number < 0 or (field == "tolerance_percent" and number > 100):
            errors[field] = [
                "Enter a tolerance from 0" + (" to 100 %." if field == "tolerance_percent" else ".")
            ]
        clean[field] = number
    for field, top in (("position", 32767), ("date_window_days", 366)):
        try:
            number = int(values.get(field) or 0)
        except (TypeError, ValueError):
            errors[field] = ["Enter a whole number."]
            continue
        if not 0 <= number <= top:
            errors[field] = [f"Enter a whole number from 0 to {top}."]
        clean[field] = number
    if errors:
        raise DomainValidationError(errors)
    return clean


@transaction.atomic
def rule_save(
    *, reconciliation: Reconciliation, actor: Actor, reason: str, rule: MatchRule | None = None, **values
) -> MatchRule:
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise field_error("rule", f"Unknown rule fields: {', '.join(sorted(unknown))}.")
    defaults = {
        "enabled": True,
        "compare_tax": False,
        "compare_status": False,
        "amount_tolerance": 0,
        "tolerance_percent": 0,
        "date_window_days": 0,
        "cardinality": "1:1",
        "action": "auto",
    }
    current = {field: getattr(rule, field) for field in RULE_FIELDS} if rule else defaults
    clean = _clean_rule({**current, **values})
    clash = MatchRule.objects.filter(reconciliation=reconciliation, position=clean["position"])
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        raise field_error(
            "position", f"Position {clean['position']} is taken by another rule; choose another."
        )
    rule = rule or MatchRule(reconciliation=reconciliation)
    for field in RULE_FIELDS:
        setattr(rule, field, clean[field])
    stamp(rule, actor, reason)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, rule: MatchRule, actor: Actor, reason: str) -> None:
    stamp(rule, actor, reason)
    rule.delete()


# -- decisions on suggestions ---------------------------------------------------------------------


@transaction.atomic
def suggestions_decide(
    *, run: Run, group_nos: Iterable[int], decision: str, actor: Actor, reason: str = ""
) -> int:
    """Confirm or reject suggested groups of a run; returns how many were decided.

    Each pair of a group becomes a MatchDecision every later run keeps. A
    confirmation resolves the records' open breaks; a rejection opens them.
    Groups decided already (or not suggestions) are left alone."""
    if decision not in MatchDecision.Decision.values:
        raise field_error("decision", "Confirm or reject.")
    group_nos = sorted({int(n) for n in group_nos})
    if not group_nos:
        raise field_error("groups", "Select at least one suggested match.")
    if decision == MatchDecision.Decision.REJECTED and not (reason or "").strip():
        raise field_error("reason", "Say why the suggestion is wrong; the reason is kept with the decision.")
    suggested = (run.line_ranges or {}).get(Outcome.SUGGESTED)
    if not suggested:
        return 0
    lines = list(
        RunLine.objects.select_for_update()
        .filter(run=run, id__range=suggested, outcome=Outcome.SUGGESTED, group_no__in=group_nos, decided="")
        .order_by("id")
    )
    now = timezone.now()
    recon = run.reconciliation
    for line in lines:
        record = MatchDecision.objects.filter(
            reconciliation=recon, left_key=line.left_key, right_key=line.right_key
        ).first() or MatchDecision(reconciliation=recon, left_key=line.left_key, right_key=line.right_key)
        record.decision, record.decided_at, record.decided_by, record.run = decision, now, actor.user, run
        record.reason = (reason or "").strip()[:300]
        stamp(record, actor, f"{decision.capitalize()} suggested match: {record.reason or 'no reason given'}")
        record.save()
    RunLine.objects.filter(pk__in=[line.pk for line in lines]).update(decided=decision)
    records = {
        (side, getattr(line, f"{side}_key")): (line, side)
        for line in lines
        for side in (Side.LEFT, Side.RIGHT)
    }
    if decision == MatchDecision.Decision.CONFIRMED:
        close_items(
            [break_key(recon.pk, side, key) for side, key in records],
            note=f"Match confirmed by {actor.label} in run {run.pk}",
            actor=actor,
            now=now,
        )
    else:
        for line, side in records.values():
            _open_break(run, line_side(line, side), actor)
    return len({line.group_no for line in lines})


def _open_break(run: Run, row: dict, actor: Actor) -> None:
    recon = run.reconciliation
    title, message, details = describe(recon, row, None)
    exception_open(
        code=ExceptionCode.RECONCILIATION_BREAK,
        dedupe_key=break_key(recon.pk, row["side"], row["source_key"]),
        title=f"Rejected match: {title}",
        message=message,
        step_key=STEP_KEY,
        actor=actor,
        source_system="revops",
        legal_entity=recon.legal_entity,
        external_id=row["source_key"][:255],
        customer=Customer.objects.filter(number=row["customer_key"]).first() if row["customer_key"] else None,
        amount=row["amount"],
        currency=row["currency"],
        payload=break_payload(recon, row),
        error_details=details,
    )


# -- other systems' documents --------------------------------------------------------------------

SNAPSHOT_FIELDS = (
    "external_id",
    "reference",
    "customer_key",
    "legal_entity_code",
    "amount",
    "tax_amount",
    "currency",
    "status",
    "record_date",
)


def _snapshot_row(number: int, raw: Mapping[str, Any], errors: list[str]) -> dict[str, Any] | None:
    row = {field: str(raw.get(field) or "").strip() for field in SNAPSHOT_FIELDS}
    problems = []
    if not row["external_id"]:
        problems.append("external_id is empty")
    try:
        row["amount"] = Decimal(row["amount"])
        row["tax_amount"] = Decimal(row["tax_amount"] or 0)
    except InvalidOperation:
        problems.append("amount and tax_amount must be numbers such as 1234.50")
    row["currency"] = row["currency"].upper()
    if row["currency"] not in CURRENCY_EXPONENTS:
        problems.append(f"currency {row['currency'] or '(empty)'} is not an ISO 4217 code")
    try:
        row["record_date"] = dt.date.fromisoformat(row["record_date"])
    except ValueError:
        problems.append("record_date must be a date such as 2026-03-31")
    row["status"] = row["status"].lower()
    if problems:
        errors.append(f"Row {number}: " + "; ".join(problems) + ".")
        return None
    return row


@transaction.atomic
def external_records_load(
    *, system: str, object_type: str, rows: Iterable[Mapping[str, Any]], actor: Actor, replace: bool = False
) -> int:
    """Load (insert or update) a snapshot of another system's documents. Every
    row is checked first; one bad row refuses the whole snapshot, naming each
    problem by row number, so a snapshot is never half loaded. `replace` also
    forgets this system's documents of this type that the snapshot no longer has."""
    system, object_type = (system or "").strip().lower(), (object_type or "").strip().lower()
    if not system or not object_type:
        raise field_error("system", "Name the system and the type of document, e.g. netsuite and invoice.")
    errors: list[str] = []
    clean = [row for n, raw in enumerate(rows, start=1) if (row := _snapshot_row(n, raw, errors)) is not None]
    seen: set[str] = set()
    for n, row in enumerate(clean, start=1):
        if row["external_id"] in seen:
            errors.append(f"Row {n}: external_id {row['external_id']} appears twice.")
        seen.add(row["external_id"])
    if errors:
        raise DomainValidationError(
            {"rows": errors[:50] + ([f"…and {len(errors) - 50} more."] if len(errors) > 50 else [])}
        )
    now = timezone.now()
    records = [ExternalRecord(system=system, object_type=object_type, loaded_at=now, **row) for row in clean]
    ExternalRecord.objects.bulk_create(
        records,
        batch_size=2_000,
        update_conflicts=True,
        unique_fields=["system", "object_type", "external_id"],
        update_fields=[f for f in SNAPSHOT_FIELDS if f != "external_id"] + ["loaded_at"],
    )
    if replace:
        ExternalRecord.objects.filter(system=system, object_type=object_type).exclude(loaded_at=now).delete()
    return len(records)
