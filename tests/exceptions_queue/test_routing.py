"""Routing and SLA rules: the first matching rule in order gives a new item its
team, priority and due time; the default takes the rest; rule changes are
audited and checked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from exceptions_queue import routing
from exceptions_queue.models import ExceptionItem, Priority, RoutingRule
from exceptions_queue.services import exception_open
from revops.actors import Actor
from tests import factories as f

pytestmark = pytest.mark.django_db

SYNC = Actor.for_system("stripe", "connector stripe-us, run 1")


@pytest.fixture
def admin(integration_admin):
    return Actor.for_user(integration_admin)


@pytest.fixture
def teams(db):
    return {name: Group.objects.create(name=name) for name in ("Tax", "Billing operations", "Cash", "Triage")}


def open_item(code="TAX_MISMATCH", key="k1", **extra):
    item, _ = exception_open(
        code=code,
        dedupe_key=key,
        title="Something is wrong",
        message="",
        step_key="stripe.invoice",
        actor=SYNC,
        **extra,
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def rules(teams, admin):
    us = f.LegalEntityFactory(name="Acme US")
    made = {
        "big tax": routing.routing_rule_create(
            actor=admin,
            reason="set up",
            name="Large US tax",
            position=10,
            codes=["TAX_MISMATCH"],
            legal_entity=us,
            currency="USD",
            amount_min=Decimal("1000"),
            team=teams["Tax"],
            priority=Priority.URGENT,
            sla_hours=4,
        ),
        "tax": routing.routing_rule_create(
            actor=admin,
            reason="set up",
            name="Tax",
            position=20,
            codes=["TAX_MISMATCH"],
            team=teams["Tax"],
            sla_hours=24,
        ),
        "stripe": routing.routing_rule_create(
            actor=admin,
            reason="set up",
            name="Stripe",
            position=30,
            connector_name="stripe-us",
            team=teams["Billing operations"],
            sla_hours=48,
        ),
        "default": routing.routing_rule_set_default(
            team=teams["Triage"], actor=admin, reason="set up", sla_hours=72
        ),
    }
    made["us"] = us
    return made


def test_it_routes_by_the_first_matching_rule_in_order(rules, teams):
    big = open_item(key="a", legal_entity=rules["us"], amount=Decimal("1500.00"), currency="USD")
    assert (big.team, big.priority, big.routing_rule) == (teams["Tax"], Priority.URGENT, rules["big tax"])
    assert big.due_at == big.first_seen_at + dt.timedelta(hours=4)
    assert "routed to Tax by rule Large US tax" in big.history.earliest().history_change_reason

    small = open_item(key="b", legal_entity=rules["us"], amount=Decimal("999.99"), currency="USD")
    assert small.routing_rule == rules["tax"] and small.due_at == small.first_seen_at + dt.timedelta(hours=24)
    assert small.priority == Priority.HIGH  # no priority on the rule: the severity's

    euros = open_item(key="c", legal_entity=rules["us"], amount=Decimal("5000"), currency="EUR")
    assert euros.routing_rule == rules["tax"]  # the amount range is in USD


def test_it_matches_connector_and_falls_back_to_the_default(rules, teams):
    stripe = open_item(code="UNKNOWN_CUSTOMER", key="d", connector_name="stripe-us")
    assert (stripe.team, stripe.routing_rule) == (teams["Billing operations"], rules["stripe"])
    other = open_item(code="UNKNOWN_CUSTOMER", key="e", connector_name="hubspot")
    assert (other.team, other.routing_rule) == (teams["Triage"], rules["default"])
    assert other.due_at == other.first_seen_at + dt.timedelta(hours=72)


def test_a_disabled_rule_is_skipped_and_a_repeat_keeps_its_routing(rules, teams, admin):
    routing.routing_rule_update(rule=rules["tax"], actor=admin, reason="tax team away", enabled=False)
    item = open_item(key="f")
    assert item.routing_rule == rules["default"]
    routing.routing_rule_update(rule=rules["tax"], actor=admin, reason="back", enabled=True)
    again = open_item(key="f")
    assert again.pk == item.pk and again.routing_rule == rules["default"] and again.due_at == item.due_at


def test_without_rules_an_item_has_no_team_and_the_priority_of_its_severity(db):
    item = open_item(code="STATEMENT_UNBALANCED", key="g")
    assert (item.team, item.due_at, item.priority) == (None, None, Priority.URGENT)


def test_it_refuses_bad_rules_with_field_messages(teams, admin):
    cases = [
        ({"codes": ["NOPE"]}, "codes"),
        ({"amount_min": Decimal("10")}, "currency"),
        ({"amount_min": Decimal("10"), "amount_max": Decimal("5"), "currency": "USD"}, "amount_max"),
        ({"sla_hours": 0}, "sla_hours"),
        ({"name": "  "}, "name"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as caught:
            routing.routing_rule_create(
                actor=admin, reason="try", **{"name": "R", "team": teams["Tax"], **values}
            )
        assert field in caught.value.message_dict, values
    with pytest.raises(ValidationError) as caught:
        routing.routing_rule_create(actor=admin, reason=" ", name="R", team=teams["Tax"])
    assert "reason" in caught.value.message_dict
    routing.routing_rule_create(actor=admin, reason="ok", name="R", position=5, team=teams["Tax"])
    with pytest.raises(ValidationError) as caught:
        routing.routing_rule_create(actor=admin, reason="ok", name="R2", position=5, team=teams["Tax"])
    assert "position" in caught.value.message_dict
    assert RoutingRule.objects.count() == 1


def test_the_default_rule_keeps_matching_everything_and_cannot_be_deleted(rules, admin):
    with pytest.raises(ValidationError):
        routing.routing_rule_update(rule=rules["default"], actor=admin, reason="x", codes=["TAX_MISMATCH"])
    with pytest.raises(ValidationError):
        routing.routing_rule_delete(rule=rules["default"], actor=admin, reason="x")
    routing.routing_rule_delete(rule=rules["stripe"], actor=admin, reason="Stripe retired")
    deleted = RoutingRule.history.filter(id=rules["stripe"].pk).latest("history_date")
    assert deleted.history_type == "-" and deleted.history_change_reason == "Deleted: Stripe retired"


def test_it_describes_rules_in_words(rules):
    assert (
        routing.describe_rule(rules["big tax"]) == f"Tax mismatch · {rules['us']} · amount from 1,000.00 USD"
    )
    assert routing.describe_rule(rules["default"]) == "Every item no other rule takes"


# -- pages --------------------------------------------------------------------------------------


def test_an_admin_adds_a_rule_in_the_browser_and_its_history_says_why(client, integration_admin, teams):
    client.force_login(integration_admin)
    response = client.post(
        reverse("exceptions_queue:rule_add"),
        {
            "name": "Late usage",
            "position": "15",
            "enabled": "on",
            "codes": ["LATE_USAGE"],
            "team": teams["Billing operations"].pk,
            "priority": "3",
            "sla_hours": "72",
            "reason": "Usage team owns late usage",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get(name="Late usage")
    assert (rule.codes, rule.team, rule.sla_hours, rule.priority) == (
        ["LATE_USAGE"],
        teams["Billing operations"],
        72,
        3,
    )
    assert rule.history.get().history_change_reason == "Created: Usage team owns late usage"
    page = client.get(reverse("exceptions_queue:rule_list")).content.decode()
    assert "Late usage" in page and "72 h" in page and "There is no default rule" in page


def test_the_rule_form_shows_errors_instead_of_saving(client, integration_admin, teams):
    client.force_login(integration_admin)
    response = client.post(
        reverse("exceptions_queue:rule_add"),
        {"name": "Big", "team": teams["Tax"].pk, "amount_min": "100", "reason": "x"},
    )
    assert response.status_code == 400
    assert "An amount range needs its currency." in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_the_default_rule_form_sets_only_who_and_how_fast(client, integration_admin, teams):
    client.force_login(integration_admin)
    url = reverse("exceptions_queue:rule_add") + "?default=1"
    assert 'name="codes"' not in client.get(url).content.decode()
    response = client.post(
        url, {"name": "Everything else", "team": teams["Triage"].pk, "sla_hours": "48", "reason": "catch-all"}
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.is_default and rule.sla_hours == 48


def test_analysts_read_rules_but_cannot_change_them(client, analyst, teams, admin):
    rule = routing.routing_rule_create(actor=admin, reason="x", name="Tax", team=teams["Tax"])
    client.force_login(analyst)
    page = client.get(reverse("exceptions_queue:rule_list")).content.decode()
    assert "Tax" in page and reverse("exceptions_queue:rule_edit", args=[rule.pk]) not in page
    assert (
        client.post(reverse("exceptions_queue:rule_delete", args=[rule.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_deleting_a_rule_needs_a_reason(client, integration_admin, teams, admin):
    rule = routing.routing_rule_create(actor=admin, reason="x", name="Tax", team=teams["Tax"])
    client.force_login(integration_admin)
    url = reverse("exceptions_queue:rule_delete", args=[rule.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "merged into default"}).status_code == 302
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
    assert ExceptionItem.objects.count() == 0
