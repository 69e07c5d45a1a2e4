"""manage.py import_file: one JSON object on stdout, exit 0 when processed,
2 for unusable input."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connectors.models import FileImport
from revops.models import Customer
from tests.connectors.files.conftest import csv_text

pytestmark = pytest.mark.django_db

CSV = csv_text(
    "Customer No,Company,Currency,Email,City,Country",
    "C-1,Acme Corp,USD,,Austin,US",
    "C-2,Globex,EUR,,Berlin,DE",
    "C-3,Initech,1.5,,Dallas,US",
)


def _call(*args) -> dict:
    out = StringIO()
    call_command("import_file", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_the_counts_and_rejected_rows_as_json(tmp_path, file_connector, make_mapping):
    make_mapping("customer", name="crm")
    path = tmp_path / "customers.csv"
    path.write_text(CSV)
    result = _call("crm-files", "customer", str(path))
    assert (
        result["status"] == "succeeded" and result["mapping"] == "crm" and result["file"] == "customers.csv"
    )
    assert (result["rows"], result["read"], result["created"], result["business_errors"]) == (3, 3, 2, 1)
    (error,) = result["errors"]
    assert (error["row"], error["external_id"], error["field"], error["column"]) == (
        4,
        "C-3",
        "currency",
        "Currency",
    )
    assert error["exception_item_id"] and "1.5" in error["message"]
    assert Customer.objects.count() == 2

    again = _call("crm-files", "customer", str(path), "--mapping", "crm")
    assert (again["read"], again["unchanged"], again["created"], again["business_errors"]) == (3, 2, 0, 1)
    assert FileImport.objects.filter(requested_by="command line").count() == 2


def test_it_exits_2_when_a_mapped_column_is_missing(tmp_path, file_connector, make_mapping):
    make_mapping("customer")
    path = tmp_path / "customers.csv"
    path.write_text("Customer No,Company\nC-1,Acme\n")
    with pytest.raises(CommandError) as error:
        _call("crm-files", "customer", str(path))
    assert error.value.returncode == 2
    assert "lacks these mapped columns: Currency, Email, City, Country" in str(error.value)
    assert not FileImport.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "customer", "x.csv"), "No file-import connector named 'nope'"),
        (("crm-files", "customer", "/no/such/file.csv"), "Cannot read"),
        (("crm-files", "payment", "{path}"), "no column mapping for payment files"),
        (("crm-files", "customer", "{path}", "--mapping", "other"), "no customer mapping named 'other'"),
    ],
)
def test_it_exits_2_for_unusable_input(tmp_path, file_connector, make_mapping, args, message):
    make_mapping("customer")
    path = tmp_path / "customers.csv"
    path.write_text(CSV)
    with pytest.raises(CommandError) as error:
        _call(*[a.format(path=path) for a in args])
    assert error.value.returncode == 2 and message in str(error.value)
