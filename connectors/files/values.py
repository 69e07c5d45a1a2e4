"""Reading the text of CSV cells as typed values, strictly: numbers with exactly
the separators the mapping names, dates in ISO form or the mapping's format,
timestamps in ISO 8601. A value that cannot be read raises `RowError` (a
`MappingError`) naming the canonical field, the text found and, for a line of a
grouped document, which line it was, so the import can report the row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from connectors import records as r
from connectors.files.fields import field_label
from revops.money import MoneyError, check_currency

_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RowError(r.MappingError):
    """A value that cannot be mapped. `row_index` is the line's position in a
    grouped payload (None for a single-row payload)."""

    def __init__(
        self,
        message: str,
        *,
        field: str,
        actual: object = None,
        expected: object = None,
        row_index: int | None = None,
    ):
        super().__init__(message, field=field, expected=expected, actual=actual)
        self.row_index = row_index


# -- values --------------------------------------------------------------------------------------


def number_example(options: Mapping[str, str]) -> str:
    thousands, decimal = options.get("thousands", ""), options.get("decimal") or "."
    return f"1{thousands}234{decimal}50"


def parse_decimal(text: str, *, thousands: str = "", decimal: str = ".") -> Decimal:
    """A number written with exactly the given separators, or ValueError: no
    currency signs, exponents or stray spaces, and thousands separators only in
    groups of three."""
    sign, body = "", text
    if text[:1] in ("+", "-"):
        sign, body = ("-" if text[0] == "-" else ""), text[1:]
    whole, mark, fraction = body.partition(decimal)
    if mark and not _DIGITS.fullmatch(fraction):
        raise ValueError(text)
    if thousands and thousands in whole:
        groups = whole.split(thousands)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise ValueError(text)
        whole = "".join(groups)
    if not _DIGITS.fullmatch(whole):
        raise ValueError(text)
    try:
        return Decimal(f"{sign}{whole}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern checks above make this unreachable
        raise ValueError(text) from None


def parse_date(text: str, date_format: str = "") -> dt.date:
    if not date_format:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    return dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 - a calendar date, no zone


def parse_timestamp(text: str, date_format: str = "") -> dt.datetime:
    """ISO 8601 date and time (UTC when no offset is given) or a date (midnight UTC)."""
    try:
        day = parse_date(text, date_format)
    except ValueError:
        pass
    else:
        return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    if not _ISO_DATE.match(text):
        raise ValueError(text)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


class Values:
    """One row's texts, read as typed values; errors name the field and the row."""

    def __init__(self, object_type: str, values: Mapping[str, str], options: Mapping[str, str], index=None):
        self.object_type = object_type
        self.values = values
        self.options = options
        self.index = index

    def fail(self, field: str, message: str, *, actual: object = None, expected: object = None) -> RowError:
        where = f" (line {self.index + 1})" if self.index is not None else ""
        return RowError(
            f"{field_label(self.object_type, field)}{where} {message}",
            field=field,
            actual=actual,
            expected=expected,
            row_index=self.index,
        )

    def text(self, field: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = (self.values.get(field) or "").strip()
        if required and not value:
            raise self.fail(field, "is empty; every row needs it.", actual=value)
        if max_length is not None and len(value) > max_length:
            raise self.fail(
                field, f"is longer than {max_length} characters.", actual=value, expected=f"≤ {max_length}"
            )
        return value

    def decimal(self, field: str, *, required: bool = False) -> Decimal | None:
        text = self.text(field, required=required)
        if not text:
            return None
        thousands, decimal = self.options.get("thousands", ""), self.options.get("decimal") or "."
        try:
            return parse_decimal(text, thousands=thousands, decimal=decimal)
        except ValueError:
            example = number_example(self.options)
            raise self.fail(
                field,
                f"“{text}” is not a number as this mapping writes them (e.g. {example}).",
                actual=text,
                expected=example,
            ) from None

    def date(self, field: str, *, required: bool = False) -> dt.date | None:
        text = self.text(field, required=required)
        if not text:
            return None
        date_format = self.options.get("date_format", "")
        try:
            return parse_date(text, date_format)
        except ValueError:
            form = date_format or "YYYY-MM-DD"
            raise self.fail(
                field, f"“{text}” is not a date in the form {form}.", actual=text, expected=form
            ) from None

    def timestamp(self, field: str) -> dt.datetime:
        text = self.text(field, required=True)
        try:
            return parse_timestamp(text, self.options.get("date_format", ""))
        except ValueError:
            raise self.fail(
                field,
                f"“{text}” is not a timestamp; write 2026-03-01T12:00:00Z or a date.",
                actual=text,
                expected="ISO 8601",
            ) from None

    def currency(self, field: str, *, required: bool = False) -> str | None:
        text = self.text(field, required=required)
        if not text:
            return None
        try:
            return check_currency(text.upper())
        except MoneyError:
            raise self.fail(
                field, f"“{text}” is not an ISO 4217 currency code such as USD.", actual=text
            ) from None

    def choice(self, field: str, choices: Mapping[str, str], default: str) -> str:
        text = self.text(field)
        if not text:
            return default
        key = re.sub(r"[\s-]+", "_", text.casefold())
        if key not in choices:
            allowed = ", ".join(sorted(set(choices.values())))
            raise self.fail(field, f"“{text}” is not one of {allowed}.", actual=text, expected=allowed)
        return choices[key]
