"""manage.py load_snapshot: load another system's documents (an ERP's invoices,
a CRM's won deals) from a CSV export, for reconciliations to compare against.

    manage.py load_snapshot --system netsuite --type invoice invoices.csv [--replace]

The CSV's header names the columns: external_id, reference, customer_key
(the customer's number in revops), legal_entity_code, amount, tax_amount,
currency, status, record_date (YYYY-MM-DD). Every row is checked first; one bad
row refuses the whole file, naming each problem by row number.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reconciliation.services import SNAPSHOT_FIELDS, external_records_load
from revops.actors import Actor


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--system", required=True, help='e.g. "netsuite" or "hubspot"')
        parser.add_argument("--type", dest="object_type", required=True, help='e.g. "invoice" or "deal"')
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Also forget this system's documents the file no longer has.",
        )

    def handle(self, *args, path: Path, system: str, object_type: str, replace: bool, **options):
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                missing = {"external_id", "amount", "currency", "record_date"} - set(reader.fieldnames or ())
                if missing:
                    raise CommandError(
                        f"{path} has no column {', '.join(sorted(missing))}; the header names "
                        f"{', '.join(SNAPSHOT_FIELDS)}."
                    )
                rows = list(reader)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} cannot be read as UTF-8 CSV: {exc}") from None
        actor = Actor.for_system(system, f"load_snapshot {path.name}")
        try:
            loaded = external_records_load(
                system=system, object_type=object_type, rows=rows, actor=actor, replace=replace
            )
        except ValidationError as exc:
            raise CommandError("Nothing was loaded:\n" + "\n".join(exc.messages)) from None
        self.stdout.write(f"Loaded {loaded} {object_type} records of {system} from {path.name}.")
