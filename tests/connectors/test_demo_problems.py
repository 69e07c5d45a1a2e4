"""The demo's exception queue is filled through the real pipeline: problem rows
of two CSV files become routed items; running the command again changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from exceptions_queue.models import ExceptionItem
from revops.models import Invoice

pytestmark = pytest.mark.django_db


def _call(name: str, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_it_imports_the_problem_files_and_routes_each_item():
    _call("load_demo", "--customers", "30")
    _call("demo_exceptions")
    first = json.loads(_call("demo_problems").strip().splitlines()[-1])
    assert first["invoices"] == {"read": 12, "created": 6, "unchanged": 0, "business_errors": 6}
    # Usage for October, which the demo's invoices have closed (late), and for contracts that cannot take it.
    assert first["usage"]["business_errors"] == 4
    by_code = {}
    for item in ExceptionItem.objects.select_related("team"):
        by_code.setdefault(item.code, []).append(item)
    assert sorted((code, len(items)) for code, items in by_code.items()) == [
        ("AMOUNT_MISMATCH", 1),
        ("INVALID_CONTRACT_STATE", 2),
        ("LATE_USAGE", 2),
        ("TAX_MISMATCH", 3),
        ("UNKNOWN_CUSTOMER", 2),
    ]
    assert {item.team.name for item in by_code["TAX_MISMATCH"]} == {"Tax"}
    # The invoice over 1,000 USD goes to the urgent rule; the others to the plain tax rule.
    urgent = sorted(
        item.external_id
        for item in by_code["TAX_MISMATCH"]
        if item.routing_rule.name == "Large tax differences"
    )
    assert urgent == ["CSV-1102", "CSV-1103"]
    assert Invoice.objects.filter(number__startswith="CSV-10").count() == 6

    again = json.loads(_call("demo_problems").strip().splitlines()[-1])
    assert "skipped" in again["invoices"] and "skipped" in again["usage"]
    assert ExceptionItem.objects.filter(occurrences__gt=1).count() == 0
