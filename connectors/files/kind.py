"""The "file" connector kind: CSV files uploaded in the browser or given to
`manage.py import_file`, read through a saved column mapping.

A file import is a sync run (trigger "file") of this kind. The engine drives it
like any other run: `fetch` serves the run's file in pages of rows as raw
records, each page is written in one transaction with its cursor, and a run a
worker dropped is resumed from the last committed page. The file being read is
the `FileImport` attached to the connector's active run.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.base import ConnectorKind, Page, RawRecord, register_kind
from connectors.files import mapping, parsing
from connectors.files.links import link_references
from connectors.models import ACTIVE_RUN_STATUSES, FileImport
from connectors.records import MappingError

PAGE_SIZE = 500


@register_kind
class FileKind(ConnectorKind):
    key = "file"
    label = "File import (CSV)"
    streams = ("customer", "contract", "invoice", "payment", "usage")
    needs_base_url = False
    page_size: ClassVar[int] = PAGE_SIZE

    def __init__(self, connector):
        super().__init__(connector)
        self._upload: FileImport | None = None
        self._records: list[parsing.FileRecord] | None = None

    def test_connection(self) -> str:
        return "File imports need no connection: upload a CSV file on the imports page."

    def current_import(self) -> FileImport | None:
        if self._upload is None:
            self._upload = (
                FileImport.objects.select_related("run", "connector__legal_entity")
                .filter(connector=self.connector, run__status__in=ACTIVE_RUN_STATUSES)
                .order_by("-pk")
                .first()
            )
        return self._upload

    def records(self, upload: FileImport) -> list[parsing.FileRecord]:
        if self._records is None:
            snapshot = upload.mapping_snapshot
            _, self._records = parsing.parse(
                bytes(upload.content), upload.object_type, snapshot["columns"], snapshot["options"]
            )
        return self._records

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        upload = self.current_import()
        if upload is None or upload.object_type != stream:
            return Page([], None, done=True)
        records = self.records(upload)
        # A cursor from another file (the connector's stored one) means nothing here.
        offset = int(cursor["offset"]) if cursor and cursor.get("file_import") == upload.pk else 0
        page = [record.raw for record in records[offset : offset + self.page_size]]
        self._link(upload, page)
        end = offset + len(page)
        return Page(
            page,
            {"file_import": upload.pk, "offset": end},
            done=end >= len(records),
            request={"file_import": upload.pk, "offset": offset},
        )

    def _link(self, upload: FileImport, raws: list[RawRecord]) -> None:
        from connectors.engine import system_actor

        mapped = []
        for raw in raws:
            try:
                mapped.append(self.map(raw))
            except MappingError:
                continue  # reported when the engine maps it
        link_references(
            system=self.system(),
            records=mapped,
            legal_entity=self.connector.legal_entity,
            actor=system_actor(self.connector, upload.run, self),
        )

    def map(self, raw: RawRecord) -> object:
        return mapping.map_payload(raw.object_type, raw.payload)
