"""manage.py import_statement."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from reconciliation.statements.models import BankStatement
from tests import factories as f
from tests.statements.vendor import BANK

pytestmark = pytest.mark.django_db


def _run(*paths, **options):
    from io import StringIO

    out = StringIO()
    call_command("import_statement", *[str(BANK / p) for p in paths], stdout=out, **options)
    return json.loads(out.getvalue())


def test_it_prints_booked_and_available_balances_apart():
    summary = _run("camt/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml")
    [file] = summary["files"]
    [statement] = file["statements"]
    assert (statement["account"], statement["currency"], statement["new"]) == (
        "CH2909000000250094239",
        "CHF",
        True,
    )
    assert statement["booked"] == {
        "opening": "211993.19",
        "opening_date": "2020-11-24",
        "closing": "215112.21",
        "closing_date": "2020-11-24",
    }
    assert statement["available"]["closing"] == "215112.21"
    assert statement["available"]["forward"] == "216649.21"
    assert (statement["entries"], statement["credits"], statement["debits"]) == (5, "4733.72", "77.70")
    assert statement["balanced"] is True


def test_it_says_when_a_file_was_imported_before():
    _run("mt940/jejik_triodos.sta")
    [file] = _run("mt940/jejik_triodos.sta")["files"]
    assert file["new_file"] is False
    [statement] = file["statements"]
    assert (statement["new"], statement["balanced"], statement["reconcilable"]) == (False, False, False)
    assert statement["exception_item"] is not None
    assert BankStatement.objects.count() == 1


def test_it_exits_1_with_the_message_for_a_refused_file_and_imports_the_others():
    with pytest.raises(CommandError) as excinfo:
        _run("bai2/sample-parseError.txt", "bai2/sample1.txt")
    assert excinfo.value.returncode == 1
    assert "sample-parseError.txt: Line 1: record code 00 is not a BAI2 record" in str(excinfo.value)
    assert BankStatement.objects.filter(format="bai2").count() == 2


def test_it_attaches_the_statements_to_a_legal_entity():
    entity = f.LegalEntityFactory(code="CH01")
    _run("mt940/citi_mt940.txt", legal_entity="CH01")
    assert BankStatement.objects.get().legal_entity == entity


def test_it_refuses_an_unknown_legal_entity():
    with pytest.raises(CommandError, match="No legal entity with code 'XX'"):
        _run("mt940/citi_mt940.txt", legal_entity="XX")
