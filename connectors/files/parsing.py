"""Reading an uploaded CSV file into raw records for the sync engine.

The file must be UTF-8 (a byte-order mark is allowed) with a header row. Each
data row keeps the values of the mapped columns under their canonical field
names; rows with the same contract or invoice number become one record whose
lines are sorted, so the same rows in another order hash the same. Row
numbers are spreadsheet row numbers (the header is row 1) and live beside the
records, never in the hashed payload: a row that moves to another line is still
the same content.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.base import RawRecord
from connectors.files.fields import GROUPED, fields_for, id_field

BOM = b"\xef\xbb\xbf"
MAX_ID_LENGTH = 200
SOURCE_TYPE = "csv_row"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


class FileProblem(Exception):
    """The file cannot be imported at all (a 4xx for the person who uploaded it)."""

    def __init__(self, message: str, *, missing: list[str] | None = None, present: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.missing = missing or []
        self.present = present or []


@dataclass(frozen=True)
class Row:
    number: int  # spreadsheet row number: the header is row 1
    values: dict[str, str]  # canonical field → cell text (stripped)
    problem: dict[str, str] | None = None  # {"field", "message"}: what is wrong with the row itself


@dataclass
class ParsedFile:
    columns: list[str]  # the header as written
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class FileRecord:
    raw: RawRecord
    rows: tuple[int, ...]  # row numbers, in the order of the record's lines


def decode(content: bytes) -> str:
    head = content[:8192]
    if content.startswith(_WORKBOOK_MAGIC) or b"\x00" in head:
        raise FileProblem(
            "This is not a CSV file: it looks like a spreadsheet workbook or another binary file. "
            "Save it as “CSV UTF-8 (comma delimited)” and upload that."
        )
    if content.startswith(BOM):
        content = content[len(BOM) :]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileProblem(
            f"The file is not UTF-8 text: byte 0x{content[exc.start]:02X} on line {line} is not valid UTF-8. "
            "Save it as “CSV UTF-8” and upload it again."
        ) from None


def _match_columns(header: list[str], columns: Mapping[str, str]) -> dict[str, int]:
    """{canonical field: index in the row}; column names match ignoring case and
    surrounding spaces."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().casefold(), []).append(index)
    present = [name.strip() for name in header if name.strip()]
    missing, duplicated, found = [], [], {}
    for field_name, column in columns.items():
        hits = positions.get(column.strip().casefold(), [])
        if not hits:
            missing.append(column)
        elif len(hits) > 1:
            duplicated.append(column)
        else:
            found[field_name] = hits[0]
    if missing:
        raise FileProblem(
            f"The file lacks {'this mapped column' if len(missing) == 1 else 'these mapped columns'}: "
            f"{', '.join(missing)}. The file's columns are: {', '.join(present) or '(none)'}.",
            missing=missing,
            present=present,
        )
    if duplicated:
        raise FileProblem(
            f"The header names {', '.join(duplicated)} more than once; which column to read is ambiguous.",
            present=present,
        )
    return found


def read_csv(content: bytes, columns: Mapping[str, str], *, delimiter: str = ",") -> ParsedFile:
    """The file's header and its non-blank data rows, with the mapped columns'
    values. Raises FileProblem for a file that cannot be read as a whole."""
    if not content.strip():
        raise FileProblem("The file is empty.")
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise FileProblem("The first line must be the header with the column names; it is blank.")
        positions = _match_columns(header, columns)
        parsed = ParsedFile(columns=[name.strip() for name in header])
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "") for name, i in positions.items()}
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            problem = (
                {
                    "field": "",
                    "message": f"The row has {len(header) + len(extra)} values "
                    f"but the header has {len(header)} columns.",
                }
                if extra
                else None
            )
            parsed.rows.append(Row(number, values, problem))
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV near row {reader.line_num}: {exc}.") from None
    if not parsed.rows:
        raise FileProblem("The file has a header but no data rows.")
    return parsed


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _external_id(row: Row, key_field: str) -> tuple[str, dict[str, str] | None]:
    """(external id, problem): rows without a usable id still get a stable id, so
    they are stored, counted and reported like any other row."""
    value = row.values.get(key_field, "")
    if not value:
        return f"(no id) {_digest(row.values)[:16]}", row.problem
    if len(value) > MAX_ID_LENGTH:
        too_long = {"field": key_field, "message": f"The id is longer than {MAX_ID_LENGTH} characters."}
        return f"(id too long) {_digest(row.values)[:16]}", row.problem or too_long
    return value, row.problem


def build_records(object_type: str, parsed: ParsedFile, options: Mapping[str, str]) -> list[FileRecord]:
    """Raw records in the order their first row appears in the file."""
    key_field = id_field(object_type)
    number_options = {k: options.get(k, "") for k in ("thousands", "decimal", "date_format")}
    if object_type not in GROUPED:
        records = []
        for row in parsed.rows:
            external_id, problem = _external_id(row, key_field)
            payload = {"values": row.values, "options": number_options}
            if problem:
                payload["problem"] = problem
            raw = RawRecord(object_type, external_id, payload, source_type=SOURCE_TYPE)
            records.append(FileRecord(raw, (row.number,)))
        return records
    groups: dict[str, list[Row]] = {}
    for row in parsed.rows:
        external_id, problem = _external_id(row, key_field)
        groups.setdefault(external_id, []).append(Row(row.number, row.values, problem))
    records = []
    for external_id, rows in groups.items():
        # Sorted by content: the same lines in another order are the same record.
        ordered = sorted(rows, key=lambda r: _digest([r.values, r.problem]))
        payload = {"rows": [r.values for r in ordered], "options": number_options}
        if any(r.problem for r in ordered):
            payload["problems"] = [r.problem for r in ordered]
        raw = RawRecord(object_type, external_id, payload, source_type=SOURCE_TYPE)
        records.append(FileRecord(raw, tuple(r.number for r in ordered)))
    return records


def parse(
    content: bytes, object_type: str, columns: Mapping[str, str], options: Mapping[str, str]
) -> tuple[ParsedFile, list[FileRecord]]:
    unknown = sorted(set(columns) - {f.name for f in fields_for(object_type)})
    if unknown:
        raise FileProblem(
            f"The mapping names fields that {object_type} rows do not have: {', '.join(unknown)}."
        )
    # In the order of the object type's fields, whatever order the stored mapping kept.
    ordered = {f.name: columns[f.name] for f in fields_for(object_type) if f.name in columns}
    parsed = read_csv(content, ordered, delimiter=options.get("delimiter") or ",")
    return parsed, build_records(object_type, parsed, options)
