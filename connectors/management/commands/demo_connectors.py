"""manage.py demo_connectors: a Stripe connector for the demo, against a local Stripe.

    manage.py demo_connectors --stripe-url http://127.0.0.1:8420
    manage.py demo_connectors --seed-stripe http://127.0.0.1:8420 --webhook-base http://127.0.0.1:8000

`--stripe-url` creates (or brings back in line) the connector "stripe-local" of kind
stripe on the demo's US01 legal entity, through `connector_save` so it has history.
Running it again changes nothing.

`--seed-stripe` fills an empty local Stripe (localstripe) with a small, deterministic
account through Stripe's own API: customers with US addresses, three plans, paid
subscriptions and a few one-off payments. A Stripe that already has customers is left
alone. It then registers a webhook (localstripe's `/_config/webhooks/<id>`) that sends
every later event, signed with the connector's webhook secret, to
`<webhook-base>/webhooks/stripe-local/`; the seeding's own events are not sent, so the
seeded data arrives when someone runs a sync.
"""

from __future__ import annotations

import contextlib
import logging
import time

import httpx
from django.core.management.base import BaseCommand, CommandError

from connectors.models import Connector
from connectors.services import connector_save
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models import LegalEntity

CONNECTOR_NAME = "stripe-local"
LEGAL_ENTITY_CODE = "US01"
API_KEY = "sk_test_demo"
WEBHOOK_SECRET = "whsec_demo_local"
WEBHOOK_ID = "revops"
HTTP_TIMEOUT = 15.0
# localstripe sends each event a second after it happens, to the webhooks registered by
# then: the webhook is registered once the seeding's own events have gone out to nobody,
# so that Sync now, not a burst of webhooks, is what brings the seeded data in.
EVENTS_SETTLE_SECONDS = 2.5
REASON = "Demo: Stripe connector for the local Stripe started by scripts/demo"

# name, accounts-payable email, street, city, state, postal code
CUSTOMERS = (
    ("Northwind Analytics Inc.", "ap@northwind-analytics.example", "400 Pine St", "Seattle", "WA", "98101"),
    ("Bluebird Logistics LLC", "billing@bluebird-logistics.example", "77 Harbor Dr", "Boston", "MA", "02110"),
    ("Cedar & Stone Architects", "accounts@cedarstone.example", "1200 Market St", "Denver", "CO", "80202"),
    ("Helios Solar Co.", "ap@helios-solar.example", "18 Sunset Blvd", "Phoenix", "AZ", "85004"),
    ("Ironclad Security Group", "finance@ironclad-sec.example", "901 K St NW", "Washington", "DC", "20001"),
    ("Juniper Health Partners", "payables@juniper-health.example", "55 Elm St", "Nashville", "TN", "37203"),
    (
        "Keystone Robotics Corp.",
        "ap@keystone-robotics.example",
        "3100 Liberty Ave",
        "Pittsburgh",
        "PA",
        "15201",
    ),
    (
        "Lakeside Learning Inc.",
        "billing@lakeside-learning.example",
        "640 Lake Shore Dr",
        "Chicago",
        "IL",
        "60611",
    ),
    ("Magnolia Foods LLC", "ap@magnolia-foods.example", "210 Canal St", "New Orleans", "LA", "70130"),
    (
        "Nimbus Media Studios",
        "accounts@nimbus-media.example",
        "8800 Sunset Ave",
        "Los Angeles",
        "CA",
        "90069",
    ),
    ("Orchard Supply Partners", "ap@orchard-supply.example", "15 Orchard Rd", "Portland", "OR", "97205"),
    ("Prairie Wind Energy", "finance@prairie-wind.example", "420 Main St", "Des Moines", "IA", "50309"),
)
# plan id → (product name, interval, interval count, unit amount in cents)
PLANS = {
    "demo-monthly": ("Revenue Hub Monthly", "month", 1, 4900),
    "demo-quarterly": ("Revenue Hub Quarterly", "month", 3, 13500),
    "demo-annual": ("Revenue Hub Annual", "year", 1, 49900),
}
SUBSCRIBED = 10  # the first ten customers subscribe; the last two only pay one-off
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"
# customer index, amount in cents, card: one-off payments besides the subscriptions
ONE_OFF_PAYMENTS = ((10, 125000, GOOD_CARD), (11, 78000, GOOD_CARD), (11, 32000, DECLINED_CARD))


class Command(BaseCommand):
    help = (
        "Set up the demo's Stripe connector: --stripe-url creates the connector stripe-local "
        "(idempotent); --seed-stripe fills an empty local Stripe with demo data and registers "
        "its webhook to --webhook-base."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stripe-url", metavar="URL", help="Create the connector stripe-local with this base URL."
        )
        parser.add_argument(
            "--seed-stripe", metavar="URL", help="Seed the local Stripe at URL if it has no customers."
        )
        parser.add_argument(
            "--webhook-base",
            metavar="BASE",
            default="http://127.0.0.1:8000",
            help="Where revops is served, for the webhook (default http://127.0.0.1:8000).",
        )

    def handle(self, *args, stripe_url, seed_stripe, webhook_base, **options):
        if not stripe_url and not seed_stripe:
            raise CommandError("Give --stripe-url URL, --seed-stripe URL, or both.")
        if stripe_url:
            self.stdout.write(ensure_connector(stripe_url))
        if seed_stripe:
            try:
                lines = seed(seed_stripe, webhook_base)
            except KeyboardInterrupt:  # the demo was stopped while seeding
                self.stderr.write("Seeding the local Stripe was interrupted.")
                raise SystemExit(130) from None
            for line in lines:
                self.stdout.write(line)


# -- the connector ----------------------------------------------------------------------------


def ensure_connector(base_url: str) -> str:
    """Create or update stripe-local; returns one line saying what was done."""
    entity = (
        LegalEntity.objects.filter(code=LEGAL_ENTITY_CODE).first()
        or LegalEntity.objects.order_by("pk").first()
    )
    if entity is None:
        return f"No legal entity exists yet, so no {CONNECTOR_NAME} connector was created."
    base_url = base_url.strip().rstrip("/")
    values = {
        "name": CONNECTOR_NAME,
        "kind": "stripe",
        "legal_entity": entity,
        "enabled": True,
        "base_url": base_url,
        "schedule_type": Connector.ScheduleType.MANUAL,
        "interval_minutes": None,
        "cron": "",
        "object_types": [],
        "direction": Connector.Direction.PULL,
    }
    credentials = {"api_key": API_KEY}
    existing = Connector.objects.filter(name=CONNECTOR_NAME).first()
    if existing is not None and _matches(existing, values, credentials):
        return f"Connector {CONNECTOR_NAME} already points at {base_url}; nothing to do."
    actor = Actor.for_system("demo", "demo data loader")
    try:
        connector = connector_save(
            actor=actor,
            reason=REASON,
            connector=existing,
            values=values,
            credentials=credentials,
            webhook_secret=WEBHOOK_SECRET,
        )
    except DomainValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        raise CommandError(f"Could not save connector {CONNECTOR_NAME}: {problems}") from None
    verb = "Updated" if existing is not None else "Created"
    return (
        f"{verb} connector {connector.name} (Stripe, legal entity {entity.code}) for the local Stripe "
        f"at {base_url}; use Sync now on its page under /connectors/."
    )


def _matches(connector: Connector, values: dict, credentials: dict) -> bool:
    for name, value in values.items():
        current = connector.legal_entity_id if name == "legal_entity" else getattr(connector, name)
        wanted = value.pk if name == "legal_entity" else value
        if current != wanted:
            return False
    stored = connector.credentials.reveal() if connector.credentials is not None else {}
    secret = connector.webhook_secret.reveal() if connector.webhook_secret is not None else ""
    return all((stored or {}).get(k) == v for k, v in credentials.items()) and secret == WEBHOOK_SECRET


# -- the local Stripe -------------------------------------------------------------------------


class _Stripe:
    """Form-encoded calls to a Stripe API, failing with a CommandError that says what broke."""

    def __init__(self, http: httpx.Client):
        self.http = http

    def call(self, method: str, path: str, *, ok_codes: tuple[str, ...] = (), **form) -> dict:
        try:
            response = self.http.request(method, path, data=form or None)
        except httpx.HTTPError as exc:
            raise CommandError(f"{method} {self.http.base_url}{path} failed: {exc}") from None
        if response.is_success:
            return response.json() if response.content else {}
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if error.get("code") in ok_codes:
            return {"error": error}
        raise CommandError(
            f"{method} {self.http.base_url}{path} answered {response.status_code}: {response.text[:500]}"
        )

    def card(self, customer_id: str, number: str) -> str:
        card = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"}
        method = self.call("POST", "/v1/payment_methods", type="card", **card)
        self.call("POST", f"/v1/payment_methods/{method['id']}/attach", customer=customer_id)
        return method["id"]


@contextlib.contextmanager
def _quiet_httpx():
    """httpx logs every request at INFO; the summary says what the seventy-odd calls did."""
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def seed(stripe_url: str, webhook_base: str) -> list[str]:
    """Seed the local Stripe if it has no customers, then register the webhook. Returns the summary."""
    stripe_url = stripe_url.strip().rstrip("/")
    webhook_url = f"{webhook_base.strip().rstrip('/')}/webhooks/{CONNECTOR_NAME}/"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with (
        _quiet_httpx(),
        httpx.Client(base_url=stripe_url, headers=headers, timeout=HTTP_TIMEOUT, trust_env=False) as http,
    ):
        api = _Stripe(http)
        if api.call("GET", "/v1/customers?limit=1").get("data"):
            lines = [f"The local Stripe at {stripe_url} already has customers; it was not seeded again."]
        else:
            lines = [_seed_account(api, stripe_url)]
            time.sleep(EVENTS_SETTLE_SECONDS)
        api.call("POST", f"/_config/webhooks/{WEBHOOK_ID}", url=webhook_url, secret=WEBHOOK_SECRET)
    lines.append(f"Registered the local Stripe's webhook {WEBHOOK_ID!r}: every event goes to {webhook_url}.")
    return lines


def _seed_account(api: _Stripe, stripe_url: str) -> str:
    customers = []
    for name, email, street, city, state, postal_code in CUSTOMERS:
        address = {
            "address[line1]": street,
            "address[city]": city,
            "address[state]": state,
            "address[postal_code]": postal_code,
            "address[country]": "US",
        }
        customers.append(api.call("POST", "/v1/customers", name=name, email=email, **address)["id"])
    for plan_id, (product, interval, count, amount) in PLANS.items():
        api.call(
            "POST",
            "/v1/plans",
            id=plan_id,
            amount=str(amount),
            currency="usd",
            interval=interval,
            interval_count=str(count),
            nickname=product,
            **{"product[name]": product},
        )
    plan_ids = list(PLANS)
    for index, customer_id in enumerate(customers[:SUBSCRIBED]):
        method = api.card(customer_id, GOOD_CARD)
        api.call(
            "POST", f"/v1/customers/{customer_id}", **{"invoice_settings[default_payment_method]": method}
        )
        api.call(
            "POST",
            "/v1/subscriptions",
            customer=customer_id,
            **{"items[0][plan]": plan_ids[index % len(plan_ids)], "items[0][quantity]": str(1 + index % 4)},
        )
    declined = 0
    for index, amount, number in ONE_OFF_PAYMENTS:
        customer_id = customers[index]
        intent = api.call(
            "POST",
            "/v1/payment_intents",
            amount=str(amount),
            currency="usd",
            customer=customer_id,
            payment_method=api.card(customer_id, number),
        )
        confirmed = api.call(
            "POST", f"/v1/payment_intents/{intent['id']}/confirm", ok_codes=("card_declined",)
        )
        declined += "error" in confirmed
    return (
        f"Seeded the local Stripe at {stripe_url}: {len(customers)} customers, {len(PLANS)} plans, "
        f"{SUBSCRIBED} subscriptions with their first invoice paid by card, "
        f"{len(ONE_OFF_PAYMENTS)} one-off payments ({declined} declined)."
    )
