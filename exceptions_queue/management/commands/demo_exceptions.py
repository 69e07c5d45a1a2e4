"""manage.py demo_exceptions: the demo's teams and routing rules.

Creates four teams (user groups) with the demo users as members and a set of
routing and SLA rules, through the routing services so they have history.
Running it again changes nothing. The demo's exception items themselves come
from the connectors' pipeline (`demo_connectors --problems`), as they would in
production.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from exceptions_queue import routing
from exceptions_queue.models import Priority, RoutingRule
from revops.actors import Actor

REASON = "Demo: teams and routing rules loaded by demo_exceptions"

# team → demo users in it
TEAMS = {
    "Tax": ("analyst",),
    "Billing operations": ("analyst",),
    "Cash application": ("analyst",),
    "Integrations": ("admin",),
}

# name, position, codes, team, priority, SLA hours, extra conditions
RULES = (
    (
        "Large tax differences",
        10,
        ["TAX_MISMATCH"],
        "Tax",
        Priority.URGENT,
        8,
        {"currency": "USD", "amount_min": Decimal("1000.00")},
    ),
    ("Tax", 20, ["TAX_MISMATCH"], "Tax", None, 24, {}),
    ("Pipeline failures", 30, ["DEAD_LETTER", "ERP_REJECTED"], "Integrations", Priority.HIGH, 4, {}),
    ("Cash and bank", 40, ["RECONCILIATION_BREAK", "STATEMENT_UNBALANCED"], "Cash application", None, 24, {}),
    (
        "Master data and billing",
        50,
        [
            "UNKNOWN_CUSTOMER",
            "UNKNOWN_PRODUCT",
            "INVALID_CONTRACT_STATE",
            "CURRENCY_MISMATCH",
            "AMOUNT_MISMATCH",
            "DUPLICATE_DOCUMENT",
            "VALIDATION_FAILED",
            "OWNERSHIP_CONFLICT",
        ],
        "Billing operations",
        None,
        48,
        {},
    ),
    ("Late usage", 60, ["LATE_USAGE"], "Billing operations", Priority.LOW, 120, {}),
)


class Command(BaseCommand):
    help = "Create the demo's teams and exception routing rules (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {
            user.username: user for user in get_user_model().objects.filter(username__in={"analyst", "admin"})
        }
        teams = {}
        for name, members in TEAMS.items():
            teams[name], _ = Group.objects.get_or_create(name=name)
            for username in members:
                if username in users:
                    users[username].groups.add(teams[name])
        actor = Actor.for_system("revops", "demo loader")
        created = 0
        for name, position, codes, team, priority, sla, extra in RULES:
            if RoutingRule.objects.filter(name=name).exists():
                continue
            routing.routing_rule_create(
                actor=actor,
                reason=REASON,
                name=name,
                position=position,
                codes=codes,
                team=teams[team],
                priority=priority,
                sla_hours=sla,
                **extra,
            )
            created += 1
        if not RoutingRule.objects.filter(is_default=True).exists():
            routing.routing_rule_set_default(
                team=teams["Billing operations"],
                actor=actor,
                reason=REASON,
                sla_hours=72,
                name="Everything else",
            )
            created += 1
        self.stdout.write(f"Teams: {', '.join(TEAMS)}; {created} routing rule(s) added.")
