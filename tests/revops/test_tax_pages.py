"""The tax rate table pages: everyone with a role reads, Integration Admins change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from revops.actors import Actor
from revops.models import TaxJurisdiction, TaxRateComponent
from revops.services import tax
from revops.web.nav import nav_items_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def irvine(integration_admin):
    actor = Actor.for_user(integration_admin)
    jurisdiction = tax.tax_jurisdiction_create(
        code="US-CA-92615", name="Irvine, CA", country="US", region="CA", actor=actor, reason="Rates"
    )
    tax.tax_component_add(
        jurisdiction=jurisdiction,
        name="CA COUNTY TAX",
        authority="ORANGE",
        type="county",
        rate="0.25",
        valid_from=dt.date(2017, 1, 1),
        actor=actor,
        reason="County rate",
    )
    return jurisdiction


def test_it_lists_jurisdictions_for_an_auditor_without_edit_links(client, auditor, irvine):
    client.force_login(auditor)
    response = client.get(reverse("tax_jurisdiction_list"))
    assert response.status_code == 200
    assert b"US-CA-92615" in response.content and b"Add jurisdiction" not in response.content
    assert "Tax rates" in [item["label"] for item in nav_items_for(auditor)]


def test_it_filters_the_list_in_place(client, analyst, irvine):
    client.force_login(analyst)
    response = client.get(
        reverse("tax_jurisdiction_list"), {"q": "nowhere"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"No jurisdiction matches" in response.content


def test_it_shows_rates_and_history(client, analyst, irvine):
    client.force_login(analyst)
    page = client.get(reverse("tax_jurisdiction_detail", args=[irvine.pk]))
    assert (
        b"CA COUNTY TAX" in page.content and b"0.25 %" in page.content and b"Edit or end" not in page.content
    )
    history = client.get(reverse("tax_jurisdiction_history", args=[irvine.pk]))
    assert b"County rate" in history.content and b"integrator" in history.content


def test_it_lets_an_integration_admin_add_a_jurisdiction_with_a_reason(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(
        reverse("tax_jurisdiction_add"),
        {"code": "DE", "name": "Germany", "country": "de", "reason": "VAT for DE01"},
    )
    jurisdiction = TaxJurisdiction.objects.get(code="DE")
    assert response.status_code == 302 and response["Location"] == reverse(
        "tax_jurisdiction_detail", args=[jurisdiction.pk]
    )
    assert jurisdiction.country == "DE"
    assert jurisdiction.history.get().history_change_reason == "VAT for DE01"


def test_it_refuses_a_duplicate_code_with_a_form_error(client, integration_admin, irvine):
    client.force_login(integration_admin)
    response = client.post(
        reverse("tax_jurisdiction_add"),
        {"code": "US-CA-92615", "name": "Again", "country": "US", "reason": "dup"},
    )
    assert response.status_code == 400 and b"already exists" in response.content
    assert TaxJurisdiction.objects.count() == 1


def test_it_lets_an_integration_admin_add_and_end_a_rate(client, integration_admin, irvine):
    client.force_login(integration_admin)
    response = client.post(
        reverse("tax_component_add", args=[irvine.pk]),
        {
            "name": "CA STATE TAX",
            "authority": "CALIFORNIA",
            "type": "state",
            "rate": "6",
            "valid_from": "2017-01-01",
            "reason": "State rate",
        },
    )
    assert response.status_code == 302
    state = TaxRateComponent.objects.get(name="CA STATE TAX")
    assert state.rate == Decimal("6") and state.valid_to is None
    response = client.post(
        reverse("tax_component_edit", args=[irvine.pk, state.pk]),
        {
            "name": "CA STATE TAX",
            "authority": "CALIFORNIA",
            "type": "state",
            "rate": "6",
            "valid_from": "2017-01-01",
            "valid_to": "2026-06-30",
            "reason": "Rate ends mid-year",
        },
    )
    assert response.status_code == 302
    state.refresh_from_db()
    assert state.valid_to == dt.date(2026, 6, 30)
    assert state.history.first().history_change_reason == "Rate ends mid-year"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rate": "150"}, b"less than or equal to 100"),
        ({"rate": "abc"}, b"Enter a number"),
        ({"valid_to": "2016-01-01"}, b"must end on or after"),
        ({"reason": ""}, b"Say why"),
        ({"valid_from": "2020-01-01"}, b"already has a rate of 0.25"),
    ],
)
def test_it_refuses_a_bad_rate_with_a_form_error_not_a_500(
    client, integration_admin, irvine, values, message
):
    client.force_login(integration_admin)
    data = {
        "name": "CA COUNTY TAX",
        "authority": "ORANGE",
        "type": "county",
        "rate": "0.5",
        "valid_from": "2030-01-01",
        "reason": "x",
        **values,
    }
    response = client.post(reverse("tax_component_add", args=[irvine.pk]), data)
    assert response.status_code == 400 and message in response.content
    assert irvine.components.count() == 1


def test_it_refuses_an_analyst_who_changes_rates(client, analyst, irvine):
    client.force_login(analyst)
    component = irvine.components.get()
    response = client.post(
        reverse("tax_component_edit", args=[irvine.pk, component.pk]),
        {"name": "X", "type": "county", "rate": "9", "valid_from": "2017-01-01", "reason": "no"},
    )
    assert response.status_code == 403
    component.refresh_from_db()
    assert component.rate == Decimal("0.25")


def test_it_answers_404_for_a_rate_of_another_jurisdiction(client, integration_admin, irvine):
    other = TaxJurisdiction.objects.create(code="DE", name="Germany", country="DE")
    client.force_login(integration_admin)
    component = irvine.components.get()
    assert client.get(reverse("tax_component_edit", args=[other.pk, component.pk])).status_code == 404
    assert client.get(reverse("tax_jurisdiction_detail", args=[99999])).status_code == 404
