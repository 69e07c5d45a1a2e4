"""Writes for file imports: column mappings (audited), starting an import as a
sync run of the "file" connector kind, running it, and its report of rejected
rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import engine
from connectors.base import get_kind
from connectors.files import kind as file_kind
from connectors.files import parsing
from connectors.files.fields import FIELDS, WRITER_FIELDS, id_field
from connectors.files.values import RowError
from connectors.models import ColumnMapping, Connector, FileImport, InboundRecord, SyncRun
from connectors.records import MappingError
from exceptions_queue.models import ExceptionItem
from revops.actors import Actor
from revops.errors import DomainValidationError
from revops.models.base import stamp

logger = logging.getLogger(__name__)

KIND = file_kind.FileKind.key
TASK = "connectors.files.tasks.process_file_import"
REPORT_LIMIT = 1000
EXTENSIONS = (".csv", ".txt", ".tsv")


def max_bytes() -> int:
    return settings.REVOPS_FILE_IMPORT_MAX_BYTES


def sync_row_limit() -> int:
    """Files with more rows than this are processed by a background worker."""
    return settings.REVOPS_FILE_IMPORT_SYNC_ROWS


class ImportRefused(Exception):
    """The upload cannot be imported; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400, missing=(), present=()):
        super().__init__(message)
        self.message = message
        self.status = status
        self.missing = list(missing)
        self.present = list(present)


# -- column mappings ------------------------------------------------------------------------------


def _date_format_problem(date_format: str) -> str | None:
    if not date_format:
        return None
    if "%" not in date_format:
        return "Write the format with strftime codes, e.g. %d/%m/%Y; leave it empty for YYYY-MM-DD."
    sample = dt.date(2026, 12, 31)
    try:
        written = sample.strftime(date_format)
        read = dt.datetime.strptime(written, date_format).date()  # noqa: DTZ007 - a calendar date
    except ValueError as exc:
        return f"{date_format!r} is not a usable date format: {exc}."
    if read != sample:
        return f"{date_format!r} does not say the day, month and year (31 Dec 2026 reads back as {read})."
    return None


def _clean_columns(object_type: str, columns: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    known = {f.name: f for f in FIELDS[object_type]}
    cleaned = {}
    for name, column in columns.items():
        if name not in known:
            errors[f"column_{name}"] = [f"{object_type.capitalize()} rows have no field {name}."]
            continue
        column = (column or "").strip()
        if len(column) > 200:
            errors[f"column_{name}"] = ["A column name is at most 200 characters."]
        elif column:
            cleaned[name] = column
    for name, spec in known.items():
        if spec.required and name not in cleaned and f"column_{name}" not in errors:
            errors[f"column_{name}"] = [f"{spec.label} is required: name the CSV column that holds it."]
    return cleaned, errors


@transaction.atomic
def mapping_save(
    *,
    connector: Connector,
    object_type: str,
    name: str,
    columns: dict[str, str],
    delimiter: str = ",",
    thousands_separator: str = "",
    decimal_separator: str = ".",
    date_format: str = "",
    actor: Actor,
    reason: str,
    mapping: ColumnMapping | None = None,
) -> ColumnMapping:
    """Create or change a column mapping ({canonical field: CSV column})."""
    if object_type not in FIELDS:
        raise DomainValidationError({"object_type": [f"Files cannot import {object_type}."]})
    if connector.kind != KIND:
        raise DomainValidationError({"connector": [f"{connector.name} is not a file-import connector."]})
    cleaned, errors = _clean_columns(object_type, columns)
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the mapping a name, e.g. “CRM export”."]
    elif (
        ColumnMapping.objects.filter(connector=connector, object_type=object_type, name=name)
        .exclude(pk=mapping.pk if mapping else None)
        .exists()
    ):
        errors["name"] = [f"{connector.name} already has a {object_type} mapping named {name}."]
    if delimiter not in ColumnMapping.Delimiter.values:
        errors["delimiter"] = ["Choose a listed delimiter."]
    if thousands_separator not in ColumnMapping.Thousands.values:
        errors["thousands_separator"] = ["Choose a listed thousands separator."]
    if decimal_separator not in ColumnMapping.DecimalMark.values:
        errors["decimal_separator"] = ["Choose a listed decimal mark."]
    elif thousands_separator == decimal_separator:
        errors["thousands_separator"] = ["The thousands separator must differ from the decimal mark."]
    problem = _date_format_problem((date_format or "").strip())
    if problem:
        errors["date_format"] = [problem]
    if errors:
        raise DomainValidationError(errors)
    mapping = mapping or ColumnMapping(connector=connector, object_type=object_type)
    mapping.name = name
    mapping.mapping = cleaned
    mapping.delimiter = delimiter
    mapping.thousands_separator = thousands_separator
    mapping.decimal_separator = decimal_separator
    mapping.date_format = (date_format or "").strip()
    stamp(mapping, actor, reason)
    mapping.save()
    return mapping


def mapping_for(connector: Connector, object_type: str, name: str | None = None) -> ColumnMapping:
    """The named mapping, or the only one of the connector and object type."""
    mappings = ColumnMapping.objects.filter(connector=connector, object_type=object_type)
    if name:
        found = mappings.filter(name=name).first()
        if found is None:
            known = ", ".join(mappings.values_list("name", flat=True)) or "none"
            raise ImportRefused(
                f"{connector.name} has no {object_type} mapping named {name!r}; its mappings are: {known}."
            )
        return found
    found = list(mappings[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise ImportRefused(
            f"{connector.name} has no column mapping for {object_type} files yet; create one."
        )
    raise ImportRefused(f"{connector.name} has several {object_type} mappings; name the one to use.")


def snapshot(mapping: ColumnMapping) -> dict[str, Any]:
    return {"name": mapping.name, "columns": dict(mapping.mapping), "options": mapping.options()}


# -- starting and running an import ------------------------------------------------------------


@dataclass
class CheckedFile:
    file_name: str
    content: bytes
    parsed: parsing.ParsedFile
    records: list[parsing.FileRecord] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.parsed.rows)


def import_check(*, file_name: str, content: bytes, mapping: ColumnMapping) -> CheckedFile:
    """Read the whole file with the mapping, or refuse it with a message a person can act on."""
    if len(content) > max_bytes():
        raise ImportRefused(
            f"The file is {len(content) / 1_048_576:.1f} MB; files up to {max_bytes() // 1_048_576} MB "
            "can be imported. Split it into smaller files.",
            status=413,
        )
    if not file_name.lower().endswith(EXTENSIONS):
        raise ImportRefused(
            f"{file_name} is not a CSV file: upload a .csv file (UTF-8, with a header row).", status=415
        )
    snap = snapshot(mapping)
    try:
        parsed, records = parsing.parse(content, mapping.object_type, snap["columns"], snap["options"])
    except parsing.FileProblem as problem:
        raise ImportRefused(problem.message, missing=problem.missing, present=problem.present) from None
    return CheckedFile(file_name, content, parsed, records)


def import_start(
    *,
    connector: Connector,
    mapping: ColumnMapping,
    checked: CheckedFile,
    user=None,
    requested_by: str = "",
) -> FileImport:
    """Create the import and its queued run (trigger "file"); nothing is written yet."""
    if connector.kind != KIND:
        raise ImportRefused(f"{connector.name} is not a file-import connector.")
    if mapping.connector_id != connector.pk:
        raise ImportRefused(f"Mapping {mapping.name} belongs to another connector.")
    if not connector.enabled:
        raise ImportRefused(f"{connector.name} is disabled; enable it before importing.", status=409)
    kind = get_kind(connector.kind)(connector)
    if mapping.object_type not in engine.streams_for(connector, kind):
        raise ImportRefused(
            f"{connector.name} is set to import only {', '.join(engine.streams_for(connector, kind))}, "
            f"not {mapping.object_type}.",
            status=409,
        )
    who = requested_by or (user.get_username() if user is not None else "")
    with transaction.atomic():
        try:
            run = engine.run_create(
                connector=connector,
                trigger=SyncRun.Trigger.FILE,
                full=True,
                requested_by=who[:200],
                file_name=checked.file_name[:255],
            )
        except engine.RunInProgress as exc:
            raise ImportRefused(
                f"{connector.name} is busy with run {exc.run.pk} ({exc.run.get_status_display().lower()}); "
                "upload the file again when it has finished.",
                status=409,
            ) from None
        return FileImport.objects.create(
            connector=connector,
            object_type=mapping.object_type,
            mapping=mapping,
            mapping_snapshot=snapshot(mapping),
            file_name=checked.file_name[:255],
            sha256=hashlib.sha256(checked.content).hexdigest(),
            size=len(checked.content),
            content=checked.content,
            row_count=checked.row_count,
            record_count=len(checked.records),
            uploaded_by=user if user is not None and user.is_authenticated else None,
            requested_by=who[:200],
            run=run,
        )


def import_enqueue(upload: FileImport) -> None:
    """Process the import in a background worker once this transaction commits.
    Only the id travels: the worker reads the stored bytes."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(TASK, upload.pk, task_name=f"import {upload.file_name} ({upload.connector.name})")
    )


def import_run(file_import_id: int) -> FileImport:
    """Process the import's rows (or resume them) and write its report.
    A duplicate call finds the run finished or taken, and changes nothing."""
    upload = FileImport.objects.select_related("run", "connector").get(pk=file_import_id)
    if upload.run_id is not None:
        engine.execute_run(upload.run_id)
    return import_finish(upload)


def import_finish(upload: FileImport) -> FileImport:
    """Write the report of a finished run once; a run still going is left alone."""
    if upload.report is not None or upload.run_id is None:
        return upload
    run = SyncRun.objects.get(pk=upload.run_id)
    if run.status in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING, SyncRun.Status.RETRYING):
        return upload
    report = build_report(upload, run)
    FileImport.objects.filter(pk=upload.pk, report__isnull=True).update(report=report)
    upload.refresh_from_db()
    return upload


# -- the report -----------------------------------------------------------------------------------

_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


def _failure(record: parsing.FileRecord, kind, item: dict | None, inbound: dict) -> dict[str, Any]:
    """Where a rejected record went wrong: its row, field and message."""
    row_index, field_name, message = None, "", inbound["message"]
    code = item["code"] if item else ""
    try:
        kind.map(record.raw)
    except RowError as exc:
        row_index, field_name, message = exc.row_index, exc.field, str(exc)
    except MappingError as exc:
        field_name, message = exc.field, str(exc)
    else:
        details = (item or {}).get("error_details") or [{}]
        field_name = details[0].get("field") or ""
        message = details[0].get("message") or message
        line = _LINE_FIELD.match(field_name)
        if line:
            row_index, field_name = int(line.group(1)) - 1, line.group(2)
    if row_index is None or not 0 <= row_index < len(record.rows):
        row_index = 0
    return {
        "row": record.rows[row_index],
        "rows": list(record.rows),
        "field": WRITER_FIELDS.get(field_name, field_name),
        "code": code or "VALIDATION_FAILED",
        "message": message,
    }


def build_report(upload: FileImport, run: SyncRun) -> dict[str, Any]:
    snap = upload.mapping_snapshot
    _, records = parsing.parse(bytes(upload.content), upload.object_type, snap["columns"], snap["options"])
    failed = list(
        InboundRecord.objects.filter(
            connector_id=upload.connector_id,
            object_type=upload.object_type,
            last_run=run,
            outcome=InboundRecord.Outcome.BUSINESS_ERROR,
        ).values("external_id", "content_hash", "message", "exception_item_id")
    )
    failed_ids = {f["external_id"] for f in failed}
    by_content = {
        (rec.raw.external_id, engine.content_hash(rec.raw.payload)): rec
        for rec in records
        if rec.raw.external_id in failed_ids
    }
    items = {
        item["pk"]: item
        for item in ExceptionItem.objects.filter(pk__in=[f["exception_item_id"] for f in failed]).values(
            "pk", "code", "error_details"
        )
    }
    kind = file_kind.FileKind(upload.connector)
    errors = []
    for inbound in failed:
        record = by_content.get((inbound["external_id"], inbound["content_hash"]))
        item = items.get(inbound["exception_item_id"])
        if record is None:  # not from this file (cannot happen for a run of one file)
            continue
        entry = _failure(record, kind, item, inbound)
        entry.update(
            external_id=inbound["external_id"],
            column=snap["columns"].get(entry["field"], ""),
            exception_item_id=inbound["exception_item_id"],
        )
        errors.append(entry)
    errors.sort(key=lambda e: e["row"])
    return {
        "rows": upload.row_count,
        "records": upload.record_count,
        "id_field": id_field(upload.object_type),
        "errors_total": len(errors),
        "errors": errors[:REPORT_LIMIT],
        "written_at": timezone.now().isoformat(),
    }


def result(upload: FileImport) -> dict[str, Any]:
    """The import's outcome as one JSON-ready object (the command prints it)."""
    run = SyncRun.objects.get(pk=upload.run_id) if upload.run_id else None
    report = upload.report or {}
    counts = {
        name: getattr(run, name, 0)
        for name in ("read", "created", "updated", "unchanged", "skipped", "business_errors")
    }
    return {
        "file_import": upload.pk,
        "run": run.pk if run else None,
        "status": run.status if run else "",
        "connector": upload.connector.name,
        "object_type": upload.object_type,
        "mapping": upload.mapping_snapshot.get("name", ""),
        "file": upload.file_name,
        "sha256": upload.sha256,
        "rows": upload.row_count,
        **counts,
        "error_message": run.error_message if run else "",
        "errors": report.get("errors", []),
        "errors_total": report.get("errors_total", 0),
    }
