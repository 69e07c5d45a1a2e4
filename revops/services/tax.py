"""The tax rate table (writes) and the expected-tax calculation (pure).

`expected_line_tax` is the one place the expected tax of an invoice line is
computed from rate components: exclusive tax is amount × rate; inclusive tax is
the part of the amount that is tax, amount × rate / (1 + rate). The line's tax
is rounded once, at the total rate, and split over the components by largest
remainder, so the components always add up to exactly the line's tax.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from revops.actors import Actor
from revops.errors import field_error
from revops.models import LegalEntity, TaxJurisdiction, TaxMode, TaxRateComponent
from revops.models.base import stamp
from revops.money import MoneyError, allocate, quantize, to_decimal
from revops.services._common import UpdateResult, changed_fields, clean_fields, reject_unknown

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# -- the calculation (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentRate:
    """One rate component as the calculation needs it; `rate` is a percentage."""

    name: str
    rate: Decimal
    authority: str = ""
    type: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.authority})" if self.authority else self.name


def line_tax_total(amount: Decimal, tax_mode: str, total_rate: Decimal, currency: str) -> Decimal:
    """The tax of a line at `total_rate` percent, rounded to the currency's minor unit."""
    rate = to_decimal(total_rate) / HUNDRED
    amount = to_decimal(amount)
    if rate == 0:
        return quantize(ZERO, currency)
    if tax_mode == TaxMode.INCLUSIVE:
        return quantize(amount * rate / (1 + rate), currency)
    if tax_mode == TaxMode.EXCLUSIVE:
        return quantize(amount * rate, currency)
    raise MoneyError(f"Unknown tax mode {tax_mode!r}; use exclusive or inclusive.")


def expected_line_tax(
    amount: Decimal, tax_mode: str, components: Sequence[ComponentRate], currency: str
) -> list[Decimal]:
    """The expected tax of each component, in order; they sum exactly to the
    line's tax at the components' total rate, rounded once."""
    if not components:
        return []
    rates = [to_decimal(c.rate) for c in components]
    if any(rate < 0 for rate in rates):
        raise MoneyError("A tax rate cannot be negative.")
    total = line_tax_total(amount, tax_mode, sum(rates, ZERO), currency)
    if total == 0 or sum(rates, ZERO) == 0:
        return [quantize(ZERO, currency) for _ in components]
    return allocate(total, rates, currency)


def within_tolerance(expected: Decimal, actual: Decimal, tolerance: Decimal) -> bool:
    """True when `actual` tax is close enough to `expected` not to be a mismatch."""
    return abs(to_decimal(expected) - to_decimal(actual)) <= to_decimal(tolerance)


def percent_text(rate: Decimal) -> str:
    """A rate as people read it: 6 %, 0.25 %, 7.75 % (no trailing zeros)."""
    text = f"{to_decimal(rate):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def components_on(components: Sequence[TaxRateComponent], day: dt.date) -> list[ComponentRate]:
    """The components of a jurisdiction that apply on `day`, as calculation input."""
    return [
        ComponentRate(name=c.name, rate=c.rate, authority=c.authority, type=c.type)
        for c in components
        if c.applies_on(day)
    ]


# -- jurisdictions --------------------------------------------------------------------------------

JURISDICTION_FIELDS = ("code", "name", "country", "region", "legal_entity", "notes")
COMPONENT_FIELDS = ("name", "authority", "type", "rate", "valid_from", "valid_to")


def _clean_jurisdiction(jurisdiction: TaxJurisdiction) -> None:
    jurisdiction.code = (jurisdiction.code or "").strip()
    jurisdiction.name = (jurisdiction.name or "").strip()
    jurisdiction.country = (jurisdiction.country or "").strip().upper()
    jurisdiction.region = (jurisdiction.region or "").strip()
    if not jurisdiction.code:
        raise field_error("code", "A jurisdiction needs the code invoice lines name it by.")
    if len(jurisdiction.country) != 2 or not jurisdiction.country.isalpha():
        raise field_error("country", "Use the two-letter ISO 3166-1 country code, e.g. US or DE.")
    clean_fields(jurisdiction)


@transaction.atomic
def tax_jurisdiction_create(
    *,
    code: str,
    name: str,
    country: str,
    region: str = "",
    legal_entity: LegalEntity | None = None,
    notes: str = "",
    actor: Actor,
    reason: str,
) -> TaxJurisdiction:
    jurisdiction = TaxJurisdiction(
        code=code, name=name, country=country, region=region, legal_entity=legal_entity, notes=notes
    )
    _clean_jurisdiction(jurisdiction)
    stamp(jurisdiction, actor, reason)
    jurisdiction.save()
    return jurisdiction


@transaction.atomic
def tax_jurisdiction_update(
    *, jurisdiction: TaxJurisdiction, changes: Mapping[str, Any], actor: Actor, reason: str
) -> UpdateResult:
    reject_unknown(changes, JURISDICTION_FIELDS, "Tax jurisdiction")
    jurisdiction = TaxJurisdiction.objects.select_for_update().get(pk=jurisdiction.pk)
    changed = changed_fields(jurisdiction, changes)
    if not changed:
        return UpdateResult(jurisdiction)
    for name, value in changed.items():
        setattr(jurisdiction, name, value)
    _clean_jurisdiction(jurisdiction)
    stamp(jurisdiction, actor, reason)
    jurisdiction.save()
    return UpdateResult(jurisdiction, changed=sorted(changed))


# -- rate components ------------------------------------------------------------------------------


def _clean_component(component: TaxRateComponent) -> None:
    component.name = (component.name or "").strip()
    component.authority = (component.authority or "").strip()
    if not component.name:
        raise field_error("name", 'Name the tax, e.g. "CA STATE TAX".')
    if component.type not in TaxRateComponent.Type.values:
        raise field_error("type", f"Unknown component type {component.type!r}.")
    try:
        component.rate = to_decimal(component.rate)
    except MoneyError as exc:
        raise field_error("rate", str(exc)) from None
    if not ZERO <= component.rate <= HUNDRED:
        raise field_error("rate", f"A rate is a percentage between 0 and 100, not {component.rate}.")
    if component.valid_to is not None and component.valid_to < component.valid_from:
        raise field_error("valid_to", "A rate must end on or after the day it starts.")
    clean_fields(component, exclude=["jurisdiction"])
    _refuse_overlap(component)


def _refuse_overlap(component: TaxRateComponent) -> None:
    """Two rates of the same tax and authority cannot apply on the same day."""
    others = TaxRateComponent.objects.filter(
        jurisdiction=component.jurisdiction, name=component.name, authority=component.authority
    ).exclude(pk=component.pk)
    if component.valid_to is not None:
        others = others.filter(valid_from__lte=component.valid_to)
    clash = others.exclude(valid_to__lt=component.valid_from).order_by("valid_from").first()
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else "open-ended"
        raise field_error(
            "valid_from",
            f"{clash.name} already has a rate of {clash.rate} % from {clash.valid_from.isoformat()} "
            f"({until}); end it before adding a rate that overlaps it.",
        )


@transaction.atomic
def tax_component_add(
    *,
    jurisdiction: TaxJurisdiction,
    name: str,
    type: str,  # noqa: A002 - the component's type, as the model names it
    rate: Decimal | str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    authority: str = "",
    actor: Actor,
    reason: str,
) -> TaxRateComponent:
    TaxJurisdiction.objects.select_for_update().get(pk=jurisdiction.pk)  # one writer per jurisdiction
    component = TaxRateComponent(
        jurisdiction=jurisdiction,
        name=name,
        authority=authority,
        type=type,
        rate=rate,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _clean_component(component)
    stamp(component, actor, reason)
    component.save()
    return component


@transaction.atomic
def tax_component_update(
    *, component: TaxRateComponent, changes: Mapping[str, Any], actor: Actor, reason: str
) -> UpdateResult:
    reject_unknown(changes, COMPONENT_FIELDS, "Tax rate component")
    TaxJurisdiction.objects.select_for_update().get(pk=component.jurisdiction_id)
    component = TaxRateComponent.objects.select_related("jurisdiction").get(pk=component.pk)
    changes = dict(changes)
    if "rate" in changes:
        try:
            changes["rate"] = to_decimal(changes["rate"])
        except MoneyError as exc:
            raise field_error("rate", str(exc)) from None
    changed = changed_fields(component, changes)
    if not changed:
        return UpdateResult(component)
    for name, value in changed.items():
        setattr(component, name, value)
    _clean_component(component)
    stamp(component, actor, reason)
    component.save()
    return UpdateResult(component, changed=sorted(changed))


def tax_component_end(
    *, component: TaxRateComponent, valid_to: dt.date, actor: Actor, reason: str
) -> TaxRateComponent:
    """The rate stops applying after `valid_to` (a new rate may start the next day)."""
    return tax_component_update(
        component=component, changes={"valid_to": valid_to}, actor=actor, reason=reason
    ).obj
