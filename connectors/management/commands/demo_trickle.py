"""manage.py demo_trickle: the connectors and the schedule of the demo's steady trickle.

    python -m connectors.hubspot.fake_server --port 8430 &
    python -m connectors.avalara.fake_server --port 8450 &
    manage.py demo_trickle --hubspot-url http://127.0.0.1:8430 --avatax-url http://127.0.0.1:8450

Creates (or brings back in line) hubspot-local, avatax-local, metering-local and the
trickle's column mappings on billing-csv, and, unless REVOPS_DEMO_TRICKLE is off, the
schedule "demo trickle" that runs `connectors.demo_flow.trickle.trickle_tick` every
minute (see that module for what a tick does). `--now` runs the schedule's next tick
at once instead of waiting for the worker. Running it again changes nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.demo_flow import setup, trickle
from revops.errors import DomainValidationError


class Command(BaseCommand):
    help = "Set up the demo trickle's connectors and its every-minute schedule."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hubspot-url", required=True, help="the fake HubSpot, e.g. http://127.0.0.1:8430"
        )
        parser.add_argument("--avatax-url", required=True, help="the fake AvaTax, e.g. http://127.0.0.1:8450")
        parser.add_argument("--seed", type=int, default=1, help="what the ticks do depends only on it")
        parser.add_argument(
            "--now", action="store_true", help="run the schedule's next tick now, in this process"
        )

    def handle(self, *args, hubspot_url: str, avatax_url: str, seed: int, now: bool, **options):
        try:
            done = setup.demo_setup(hubspot_url=hubspot_url, avatax_url=avatax_url, seed=seed, schedule=True)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        except DomainValidationError as exc:
            raise CommandError(f"Cannot set up the demo trickle: {exc.messages}") from None
        self.stdout.write("Demo trickle: " + ", ".join(done))
        if not settings.REVOPS_DEMO_TRICKLE:
            self.stdout.write("REVOPS_DEMO_TRICKLE is off: nothing will trickle in.")
        if now:
            self.stdout.write(trickle.tick_now())
