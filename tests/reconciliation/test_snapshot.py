"""Loading another system's documents from a CSV export."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from reconciliation.models import ExternalRecord

pytestmark = pytest.mark.django_db

HEADER = "external_id,reference,customer_key,amount,tax_amount,currency,status,record_date\n"


def test_it_loads_and_replaces_a_snapshot(tmp_path):
    path = tmp_path / "ns.csv"
    path.write_text(
        HEADER + "ns-1,INV-1,C-1,108.00,8.00,usd,Open,2026-03-01\nns-2,INV-2,C-1,5,0,USD,paid,2026-03-02\n"
    )
    call_command(
        "load_snapshot", str(path), "--system", "NetSuite", "--type", "invoice", stdout=io.StringIO()
    )
    record = ExternalRecord.objects.get(external_id="ns-1")
    assert (record.system, record.currency, record.status, record.amount) == ("netsuite", "USD", "open", 108)
    path.write_text(HEADER + "ns-1,INV-1,C-1,110.00,8.00,USD,open,2026-03-01\n")
    call_command(
        "load_snapshot",
        str(path),
        "--system",
        "netsuite",
        "--type",
        "invoice",
        "--replace",
        stdout=io.StringIO(),
    )
    assert list(ExternalRecord.objects.values_list("external_id", "amount")) == [("ns-1", 110)]


def test_one_bad_row_refuses_the_file_naming_each_problem(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "ns-1,INV-1,C-1,1O8.00,0,USD,open,2026-03-01\n,INV-2,C-1,5,0,EURO,open,03/02/2026\n"
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("load_snapshot", str(path), "--system", "netsuite", "--type", "invoice")
    message = str(excinfo.value)
    assert "Row 1: amount and tax_amount must be numbers" in message
    assert (
        "Row 2: external_id is empty; currency EURO is not an ISO 4217 code; record_date must be a date"
        in message
    )
    assert not ExternalRecord.objects.exists()


def test_a_file_without_the_needed_columns_is_refused(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("id,total\n1,2\n")
    with pytest.raises(CommandError, match="has no column amount, currency, external_id, record_date"):
        call_command("load_snapshot", str(path), "--system", "netsuite", "--type", "invoice")
