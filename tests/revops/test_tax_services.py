"""Writes to the tax rate table: who, why, and the rules they keep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from revops.actors import Actor
from revops.models import TaxJurisdiction, TaxRateComponent
from revops.selectors.history import object_history
from revops.selectors.tax import components_by_code, jurisdiction_codes
from revops.services import tax
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(integration_admin):
    return Actor.for_user(integration_admin)


@pytest.fixture
def vat(actor):
    return tax.tax_jurisdiction_create(
        code="DE", name="Germany", country="de", actor=actor, reason="EU VAT for DE01"
    )


def test_it_creates_a_jurisdiction_with_who_and_why(vat, integration_admin):
    vat.refresh_from_db()
    assert vat.country == "DE"
    row = vat.history.get()
    assert row.history_user == integration_admin and row.history_change_reason == "EU VAT for DE01"
    assert row.history_actor == integration_admin.username


def test_it_refuses_a_jurisdiction_without_code_or_with_a_bad_country(actor):
    with pytest.raises(ValidationError, match="needs the code"):
        tax.tax_jurisdiction_create(code=" ", name="X", country="US", actor=actor, reason="r")
    with pytest.raises(ValidationError, match="two-letter"):
        tax.tax_jurisdiction_create(code="X", name="X", country="USA", actor=actor, reason="r")
    with pytest.raises(ValueError, match="needs a reason"):
        tax.tax_jurisdiction_create(code="X", name="X", country="US", actor=actor, reason="")
    assert not TaxJurisdiction.objects.exists()


def test_it_refuses_a_second_jurisdiction_with_one_code(vat, actor):
    with pytest.raises(ValidationError, match="already exists"):
        tax.tax_jurisdiction_create(code="DE", name="Deutschland", country="DE", actor=actor, reason="r")


def test_it_updates_only_what_changed(vat, actor):
    result = tax.tax_jurisdiction_update(
        jurisdiction=vat, changes={"name": "Germany (VAT)", "country": "DE"}, actor=actor, reason="Rename"
    )
    assert result.changed == ["name"]
    assert vat.history.count() == 2
    assert (
        tax.tax_jurisdiction_update(
            jurisdiction=vat, changes={"name": "Germany (VAT)"}, actor=actor, reason="x"
        ).changed
        == []
    )
    with pytest.raises(ValidationError, match="cannot be changed here"):
        tax.tax_jurisdiction_update(jurisdiction=vat, changes={"id": 5}, actor=actor, reason="x")


def test_it_adds_ends_and_replaces_a_rate_without_overlap(vat, actor):
    standard = tax.tax_component_add(
        jurisdiction=vat,
        name="VAT",
        type="country",
        rate="16",
        valid_from=dt.date(2020, 7, 1),
        actor=actor,
        reason="Cut",
    )
    with pytest.raises(ValidationError, match="already has a rate of 16"):
        tax.tax_component_add(
            jurisdiction=vat,
            name="VAT",
            type="country",
            rate="19",
            valid_from=dt.date(2021, 1, 1),
            actor=actor,
            reason="Back",
        )
    tax.tax_component_end(component=standard, valid_to=dt.date(2020, 12, 31), actor=actor, reason="Cut ends")
    back = tax.tax_component_add(
        jurisdiction=vat,
        name="VAT",
        type="country",
        rate="19",
        valid_from=dt.date(2021, 1, 1),
        actor=actor,
        reason="Back",
    )
    standard.refresh_from_db()
    assert [c.applies_on(dt.date(2020, 12, 31)) for c in (standard, back)] == [True, False]
    assert [c.applies_on(dt.date(2021, 1, 1)) for c in (standard, back)] == [False, True]
    entries = object_history(vat)
    assert {e.reason for e in entries} >= {"Cut", "Cut ends", "Back"}
    assert any(e.object_label == "Rate VAT 19 %" for e in entries)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rate": "101"}, "between 0 and 100"),
        ({"rate": "seven"}, "is not a number"),
        ({"type": "planet"}, "Unknown component type"),
        ({"name": " "}, "Name the tax"),
        ({"valid_to": dt.date(2019, 1, 1)}, "end on or after"),
    ],
)
def test_it_refuses_a_component_that_breaks_a_rule(vat, actor, values, message):
    arguments = dict(name="VAT", type="country", rate="19", valid_from=dt.date(2020, 1, 1))
    arguments.update(values)
    with pytest.raises(ValidationError, match=message):
        tax.tax_component_add(jurisdiction=vat, actor=actor, reason="r", **arguments)
    assert not TaxRateComponent.objects.exists()


def test_it_updates_a_rate_with_history(vat, actor):
    component = tax.tax_component_add(
        jurisdiction=vat,
        name="VAT",
        type="country",
        rate="19",
        valid_from=dt.date(2020, 1, 1),
        actor=actor,
        reason="r",
    )
    result = tax.tax_component_update(
        component=component, changes={"rate": "19.0"}, actor=actor, reason="same"
    )
    assert result.changed == []
    result = tax.tax_component_update(
        component=component, changes={"rate": "7"}, actor=actor, reason="Reduced"
    )
    assert result.changed == ["rate"] and result.obj.rate == Decimal("7")
    assert component.history.first().history_change_reason == "Reduced"


def test_it_finds_the_rates_that_apply_to_a_legal_entity(actor):
    us, de = (
        f.LegalEntityFactory(),
        f.LegalEntityFactory(code="DE01", country="DE", functional_currency="EUR"),
    )
    shared = tax.tax_jurisdiction_create(code="DE", name="Germany", country="DE", actor=actor, reason="r")
    only_de = tax.tax_jurisdiction_create(
        code="DE-REDUCED", name="Germany reduced", country="DE", legal_entity=de, actor=actor, reason="r"
    )
    tax.tax_jurisdiction_create(code="EMPTY", name="No rates yet", country="DE", actor=actor, reason="r")
    for jurisdiction in (shared, only_de):
        tax.tax_component_add(
            jurisdiction=jurisdiction,
            name="VAT",
            type="country",
            rate="19",
            valid_from=dt.date(2020, 1, 1),
            actor=actor,
            reason="r",
        )
    assert jurisdiction_codes(de) == {"DE", "DE-REDUCED"}
    assert jurisdiction_codes(us) == {"DE"}
    assert {code: len(rows) for code, rows in components_by_code(["DE", "DE-REDUCED"], us).items()} == {
        "DE": 1,
        "DE-REDUCED": 0,
    }


def test_it_loads_a_demo_rate_table_with_the_avatax_example_and_german_vat():
    import random

    from revops.demo.context import Demo, DemoOptions, demo_actor
    from revops.demo.tax import build_tax_rates
    from revops.services.tax import components_on, expected_line_tax

    us = f.LegalEntityFactory()
    de = f.LegalEntityFactory(code="DE01", country="DE", functional_currency="EUR")
    demo = Demo(options=DemoOptions(customers=1), rng=random.Random(1), actor=demo_actor())
    demo.entities = {"US01": us, "DE01": de}
    assert [j.code for j in build_tax_rates(demo)] == ["CA", "US-CA-92615", "DE"]
    assert build_tax_rates(demo) == []  # loading again changes nothing
    irvine = TaxJurisdiction.objects.get(code="US-CA-92615")
    rates = components_on(list(irvine.components.all()), dt.date(2026, 3, 1))
    assert sum(r.rate for r in rates) == Decimal("7.75") and irvine.legal_entity == us
    assert expected_line_tax(Decimal("100.00"), "exclusive", rates, "USD") == [
        Decimal(x) for x in ("6.00", "0.25", "1.00", "0.50")
    ]
    vat = list(TaxJurisdiction.objects.get(code="DE").components.all())
    assert [r.rate for r in components_on(vat, dt.date(2020, 8, 1))] == [Decimal("16")]
    assert [r.rate for r in components_on(vat, dt.date(2026, 3, 1))] == [Decimal("19")]
    # DE01 prices include VAT: 119.00 carries 19.00.
    assert expected_line_tax(
        Decimal("119.00"), "inclusive", components_on(vat, dt.date(2026, 3, 1)), "EUR"
    ) == [Decimal("19.00")]
    state = TaxJurisdiction.objects.get(code="CA").components.all()
    assert sum(c.rate for c in state) == Decimal("7.25")
    assert {c.history.get().history_actor for c in TaxRateComponent.objects.all()} == {demo.actor.label}
