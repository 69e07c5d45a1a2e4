"""Import a CSV file through a file-import connector, in the foreground."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.files import services
from connectors.files.kind import FileKind
from connectors.models import FILE_OBJECT_TYPES, Connector, SyncRun

UNUSABLE = 2  # the file or the arguments cannot be imported at all
NOT_DONE = 1  # the connector is busy, or the run failed


class Command(BaseCommand):
    help = (
        "Import a CSV file of customers, contracts, invoices, payments or usage through a file-import "
        "connector and its column mapping, in this process, and print the run's counts and rejected rows "
        "as one JSON object. Exit status 0 when the file was processed (even if rows were rejected), "
        "2 for unusable input (unknown connector or mapping, unreadable file, missing mapped columns), "
        "1 when the connector is busy or the run failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("connector", help="The file-import connector's name")
        parser.add_argument("object_type", choices=[key for key, _ in FILE_OBJECT_TYPES])
        parser.add_argument("path", help="The CSV file")
        parser.add_argument("--mapping", help="The column mapping's name (needed when there are several)")

    def handle(self, *args, **options):
        connector = Connector.objects.filter(name=options["connector"], kind=FileKind.key).first()
        if connector is None:
            names = (
                Connector.objects.filter(kind=FileKind.key).order_by("name").values_list("name", flat=True)
            )
            raise CommandError(
                f"No file-import connector named {options['connector']!r}; "
                f"file-import connectors: {', '.join(names) or 'none'}.",
                returncode=UNUSABLE,
            )
        path = Path(options["path"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.", returncode=UNUSABLE) from None
        try:
            mapping = services.mapping_for(connector, options["object_type"], options.get("mapping"))
            checked = services.import_check(file_name=path.name, content=content, mapping=mapping)
            upload = services.import_start(
                connector=connector, mapping=mapping, checked=checked, requested_by="command line"
            )
        except services.ImportRefused as refused:
            code = NOT_DONE if refused.status == 409 else UNUSABLE
            raise CommandError(refused.message, returncode=code) from None
        upload = services.import_run(upload.pk)
        result = services.result(upload)
        self.stdout.write(json.dumps(result, sort_keys=True, default=str))
        if result["status"] != SyncRun.Status.SUCCEEDED:
            raise CommandError(
                f"Run {result['run']} {result['status']}: {result['error_message']}", returncode=NOT_DONE
            )
