"""manage.py import_statement FILE [FILE ...]: import bank statement files."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reconciliation.statements.services import SOURCE_SYSTEM, StatementRefused, statement_import
from revops.actors import Actor
from revops.models import LegalEntity

REFUSED = 1


class Command(BaseCommand):
    help = (
        "Import camt.052/.053/.054, BAI2 or MT940/MT942 bank statement files (the format is read from the "
        "content) and print one JSON summary: per statement the account, currency, booked and available "
        "balances, entries, credits and debits, whether it balances and whether it was new. Importing a "
        "file again changes nothing. Exit status 1 when a file is refused, with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="file", help="Statement files")
        parser.add_argument("--legal-entity", help="Code of the legal entity that holds these accounts")

    def handle(self, *args, **options):
        entity = None
        if options.get("legal_entity"):
            entity = LegalEntity.objects.filter(code=options["legal_entity"]).first()
            if entity is None:
                raise CommandError(
                    f"No legal entity with code {options['legal_entity']!r}.", returncode=REFUSED
                )
        actor = Actor.for_system(SOURCE_SYSTEM, "manage.py import_statement")
        files, refusals = [], []
        for name in options["paths"]:
            path = Path(name)
            try:
                content = path.read_bytes()
            except OSError as exc:
                refusals.append(f"{path}: cannot be read ({exc.strerror or exc}).")
                files.append({"file": path.name, "refused": f"cannot be read ({exc.strerror or exc})"})
                continue
            try:
                result = statement_import(
                    content=content, filename=path.name, actor=actor, legal_entity=entity
                )
            except StatementRefused as refused:
                refusals.append(f"{path}: {refused.message}")
                files.append({"file": path.name, "refused": refused.message})
                continue
            files.append(result.summary())
        self.stdout.write(json.dumps({"files": files}, indent=2, ensure_ascii=False))
        if refusals:
            raise CommandError("\n".join(refusals), returncode=REFUSED)
