"""The raw store and source versions of records the set-based path wrote
(`connectors.bulk`), left as the one-by-one path leaves them: each raw record
stored with outcome "created" and the object it made, and the version applied
of its source object."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from connectors.base import RawRecord
from connectors.models import InboundRecord, SourceObject
from revops.services.bulk_params import array_param
from revops.services.bulk_rows import JsonText, grown, rows_insert, server_insert, timed

# A source version holds what its raw record holds: on PostgreSQL the server
# copies it from the raw rows just stored, so Python formats, and the server
# parses, one row a record less.
_SOURCES_SQL = (
    "INSERT INTO connectors_sourceobject "
    "(connector_id, object_type, external_id, applied_version, applied_hash, applied_at) "
    "SELECT connector_id, object_type, external_id, version, content_hash, CAST(%s AS timestamptz) "
    "FROM connectors_inboundrecord WHERE id = ANY(CAST(%s AS bigint[])) ORDER BY id"
)


def store_written(
    raws: list[RawRecord],
    digests: list[str],
    texts: list[str],
    created: dict[int, Any],
    *,
    run,
    connector,
) -> None:
    """Store the raw records at the positions of `created` (position → the
    object it made); `digests` and `texts` are each payload's content hash
    and the JSON it was taken of, stored as it is."""
    if not created:
        return
    now = timezone.now()
    on_server = connection.vendor == "postgresql"
    with timed("raw store"):
        inbound = _inbound_rows(raws, digests, texts, created, run=run, connector=connector, now=now)
        sources = [] if on_server else _source_rows(inbound)
    if not on_server:
        rows_insert(InboundRecord, inbound)
        rows_insert(SourceObject, sources)
        return
    rows_insert(InboundRecord, inbound, ids=True)
    with timed("raw store"):
        server_insert(_SOURCES_SQL, [now, array_param([row["id"] for row in inbound])])
    grown(SourceObject, len(inbound))  # looked up by every page: its statistics kept fresh


def _inbound_rows(raws, digests, texts, created, *, run, connector, now) -> list[dict[str, Any]]:
    run_id = run.pk if run else None
    rows = []
    for pos, obj in sorted(created.items()):
        raw = raws[pos]
        rows.append(
            {
                "connector_id": connector.pk,
                "object_type": raw.object_type,
                "source_type": raw.source_type[:40],
                "external_id": raw.external_id,
                "version": raw.version[:64],
                "content_hash": digests[pos],
                "payload": JsonText(texts[pos]),  # jsonb: the keys' order is the server's
                "received_at": now,
                "run_id": run_id,
                "last_run_id": run_id,
                "outcome": InboundRecord.Outcome.CREATED,
                "message": "",
                "content_type_id": ContentType.objects.get_for_model(obj).pk,
                "object_id": obj.pk,
                "exception_item_id": None,
            }
        )
    return rows


def _source_rows(inbound: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "connector_id": row["connector_id"],
            "object_type": row["object_type"],
            "external_id": row["external_id"],
            "applied_version": row["version"],
            "applied_hash": row["content_hash"],
            "applied_at": row["received_at"],
        }
        for row in inbound
    ]
