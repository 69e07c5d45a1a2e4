"""manage.py load_demo: load the demo dataset and create the demo logins."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from revops.demo.builder import existing_demo_entities, load_demo
from revops.demo.context import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEFAULT_TODAY, DemoOptions
from revops.demo.users import ensure_demo_users


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date like 2026-11-15, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Load a deterministic demo dataset (two legal entities, customers, contracts, usage, invoices, "
        "credit notes, payments) through the services, and create one demo login per role. "
        "Does nothing if the demo legal entities already exist."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"Random seed (default {DEFAULT_SEED})."
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=DEFAULT_TODAY,
            help=f"Reference day all dates derive from (default {DEFAULT_TODAY.isoformat()}).",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"How many customers (default {DEFAULT_CUSTOMERS}; 10 to 800).",
        )
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo logins.")

    def handle(self, *args, seed, today, customers, no_users, **options):
        if not 10 <= customers <= 800:
            raise CommandError("--customers must be between 10 and 800.")
        verbose = options["verbosity"] >= 2
        existing = existing_demo_entities()
        if existing:
            self.stdout.write(
                f"Demo data is already loaded (legal entities {', '.join(existing)} exist); nothing to do."
            )
        else:
            self.stdout.write(
                f"Loading demo data: seed {seed}, today {today.isoformat()}, {customers} customers…"
            )

            def progress(step: str, seconds: float) -> None:
                if verbose:
                    self.stdout.write(f"  {step}: {seconds:.1f} s")

            result = load_demo(DemoOptions(seed=seed, today=today, customers=customers), progress=progress)
            self._summary(result)
        if not no_users:
            self._logins(ensure_demo_users())

    def _summary(self, result) -> None:
        width = max(len(name) for name in result.counts)
        self.stdout.write("")
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<{width}}  {count:>6}")
        for name, statuses in result.statuses.items():
            detail = ", ".join(f"{status} {n}" for status, n in statuses.items())
            self.stdout.write(f"  {name} by status: {detail}")
        self.stdout.write(f"  history rows by the demo loader: {result.history_rows}")
        self.stdout.write(f"  digest of the data (the same for the same seed and day): {result.digest}")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {result.seconds:.1f} s."))

    def _logins(self, logins) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (published demo passwords: use them in a demo database only):")
        rows = [("username", "password", "role")] + [(x.username, x.password, x.role) for x in logins]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
