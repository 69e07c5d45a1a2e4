"""The bank statement pages: list, upload and statement detail."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exceptions_queue.models import ExceptionItem
from reconciliation.statements.models import BankStatement, StatementFile
from reconciliation.statements.services import statement_import
from revops.actors import Actor
from tests.statements.vendor import sample

pytestmark = pytest.mark.django_db

POSTFINANCE_053 = "camt/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"


def _upload(client, name, content=None):
    content = sample(name) if content is None else content
    upload = SimpleUploadedFile(name.split("/")[-1], content, content_type="application/octet-stream")
    return client.post(reverse("statements:upload"), {"file": upload})


def _import(name):
    return statement_import(
        content=sample(name), filename=name.split("/")[-1], actor=Actor.for_system("bank", "t")
    )


def test_it_imports_an_uploaded_statement_and_shows_it(client, analyst):
    client.force_login(analyst)
    response = _upload(client, POSTFINANCE_053)
    statement = BankStatement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("statements:detail", args=[statement.pk])
    assert StatementFile.objects.get().uploaded_by == analyst
    page = client.get(response["Location"]).content.decode()
    assert "Imported camt.053_P_CH2909000000250094239" in page
    assert "211,993.19 CHF" in page and "215,112.21 CHF" in page and "216,649.21 CHF" in page
    assert "value-dated after 2020-11-24" in page
    assert "0758103031480900" in page  # an entry's bank reference
    assert "PMNT/RCDT/VCOM" in page


def test_it_shows_the_parsers_message_for_a_refused_file_and_stores_nothing(client, analyst):
    client.force_login(analyst)
    response = _upload(client, "mt940/betterplace_sepa_snippet_broken.sta")
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "betterplace_sepa_snippet_broken.sta was not imported: Line 6: :25: cannot follow :61: (line 5)"
        in page
    )
    assert not StatementFile.objects.exists()


def test_it_refuses_a_file_over_the_limit_with_a_clear_message(client, analyst, settings):
    settings.REVOPS_STATEMENT_MAX_BYTES = 2048
    client.force_login(analyst)
    response = _upload(client, POSTFINANCE_053)
    assert response.status_code == 413
    assert "The file is 6 KB; statement files up to 2 KB can be imported." in response.content.decode()
    assert not StatementFile.objects.exists()


def test_it_asks_for_a_file_when_none_is_chosen(client, analyst):
    client.force_login(analyst)
    response = client.post(reverse("statements:upload"), {})
    assert response.status_code == 400
    assert "Choose the statement file the bank sent." in response.content.decode()


def test_it_says_when_a_file_was_already_imported(client, integration_admin):
    client.force_login(integration_admin)
    _upload(client, "mt940/jejik_knab.sta")
    response = _upload(client, "mt940/jejik_knab.sta")
    assert response["Location"].endswith(f"?file={StatementFile.objects.get().pk}")
    page = client.get(response["Location"]).content.decode()
    assert "jejik_knab.sta was already imported on" in page and "nothing changed" in page
    assert BankStatement.objects.count() == 2


def test_it_warns_about_unbalanced_statements_and_links_their_exception(client, analyst):
    client.force_login(analyst)
    response = _upload(client, "mt940/jejik_knab.sta")
    page = client.get(response["Location"]).content.decode()
    assert "Imported jejik_knab.sta: 2 statements. 1 does not balance" in page
    unbalanced = BankStatement.objects.get(balanced=False)
    item = ExceptionItem.objects.get()
    detail = client.get(reverse("statements:detail", args=[unbalanced.pk])).content.decode()
    assert "This statement does not balance" in detail
    assert reverse("exceptions_queue:detail", args=[item.pk]) in detail
    assert "4,500.00 EUR" in detail  # the difference to the closing balance


def test_it_links_the_exception_item_back_to_its_statement(client, analyst):
    client.force_login(analyst)
    _upload(client, "mt940/jejik_knab.sta")
    unbalanced = BankStatement.objects.get(balanced=False)
    item = ExceptionItem.objects.get()
    page = client.get(reverse("exceptions_queue:detail", args=[item.pk])).content.decode()
    assert reverse("statements:detail", args=[unbalanced.pk]) in page
    assert "4,500.00 EUR" in page and "EUR EUR" not in page


def test_it_does_not_let_an_auditor_upload(client, auditor):
    client.force_login(auditor)
    assert _upload(client, POSTFINANCE_053).status_code == 403
    assert not StatementFile.objects.exists()


def test_it_filters_the_list_by_account_and_balance_check(client, auditor):
    _import("mt940/jejik_rabobank.sta")
    _import("camt/FI_camt_054_sample.xml.xml")
    client.force_login(auditor)
    url = reverse("statements:list")
    unbalanced = client.get(url, {"balanced": "no"})
    assert [s.bank_statement_id for s in unbalanced.context["page"].items] == ["940A110615"]
    by_account = client.get(url, {"account": "1526.89.184EUR"})
    assert [s.bank_statement_id for s in by_account.context["page"].items] == ["940A120829"]
    unchecked = client.get(url, {"balanced": "unchecked"})
    assert [s.account for s in unchecked.context["page"].items] == ["FI7433010001222090"]
    page = client.get(url).content.decode()
    assert "✗" in page and "✓" in page
    assert "Upload a statement" not in page  # auditors read only


def test_it_answers_an_htmx_filter_with_the_results_alone(client, analyst):
    _import("mt940/jejik_rabobank.sta")
    client.force_login(analyst)
    response = client.get(
        reverse("statements:list"), {"balanced": "yes"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "<html" not in body


def test_it_answers_404_for_an_unknown_statement(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("statements:detail", args=[999999])).status_code == 404


def test_it_pages_the_entries_of_a_long_statement(client, analyst):
    result = _import("mt940/betterplace_sepa_mt9401.sta")
    longest = max((o.statement for o in result.statements), key=lambda s: s.entry_count)
    client.force_login(analyst)
    response = client.get(reverse("statements:detail", args=[longest.pk]))
    assert response.context["page"].count == longest.entry_count
    assert [e.sequence for e in response.context["page"].items] == list(range(1, longest.entry_count + 1))


def test_it_shows_bank_in_the_top_bar(client, auditor, no_role_user):
    client.force_login(auditor)
    assert f'href="{reverse("statements:list")}"' in client.get(reverse("dashboard")).content.decode()
    client.force_login(no_role_user)
    assert f'href="{reverse("statements:list")}"' not in client.get(reverse("dashboard")).content.decode()


def test_it_attaches_an_uploaded_statement_to_the_legal_entity_chosen(client, analyst):
    from tests import factories as f

    entity = f.LegalEntityFactory()
    client.force_login(analyst)
    upload = SimpleUploadedFile("citi.txt", sample("mt940/citi_mt940.txt"))
    response = client.post(reverse("statements:upload"), {"file": upload, "legal_entity": entity.pk})
    assert response.status_code == 302
    assert BankStatement.objects.get().legal_entity == entity
