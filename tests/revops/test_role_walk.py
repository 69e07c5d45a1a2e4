"""Walk every URL pattern of the project as every kind of user.

Each pattern must have an entry in EXPECTED saying what kind of page it is; a
new URL without one fails `test_it_has_an_expectation_for_every_url`, so no page
can be added without deciding who may see it.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from connectors.models import Connector, InboundRecord, SyncRun
from exceptions_queue.models import BulkAction, ExceptionItem, RoutingRule
from revops.models import BusinessEvent, CustomerContact, OwnershipRule, TaxJurisdiction, TaxRateComponent
from tests import factories as f
from tests.connectors import memory_kind  # noqa: F401 - registers the "memory" connector kind
from tests.connectors.files.walk import walk_objects
from tests.reconciliation.walk import walk_reconciliation
from tests.statements.walk import walk_statement

ROLES = ("anonymous", "no_role", "analyst", "integration_admin", "auditor", "superuser")

# Kinds of page → expected GET status per role (anonymous users are sent to login).
LOGIN = 302
READ = {
    "anonymous": LOGIN,
    "no_role": 403,
    "analyst": 200,
    "integration_admin": 200,
    "auditor": 200,
    "superuser": 200,
}
EDIT_MASTER_DATA = {**READ, "auditor": 403}
EDIT_OWNERSHIP = {**READ, "auditor": 403, "analyst": 403}
OPEN = dict.fromkeys(ROLES, 200)
# Logout answers POST only (GET is 405); a signed-in user is sent to the login page.
POST_ONLY_LOGOUT = {"anonymous": LOGIN, **{role: 405 for role in ROLES if role != "anonymous"}}

# A signed webhook endpoint: public, POST only; its signature is the only credential.
WEBHOOK = dict.fromkeys(ROLES, 405)
# Connector configuration and runs: Integration Admins only. Action buttons answer
# POST only; a GET is refused (403) before the method is checked (405).
CONFIGURE_CONNECTORS = {**READ, "auditor": 403, "analyst": 403}
RUN_CONNECTORS = {**CONFIGURE_CONNECTORS, "integration_admin": 405, "superuser": 405}

# Routing rules: Integration Admins configure them. Bulk actions: whoever may
# change items; the confirmation page without a selection is a 400.
CONFIGURE_ROUTING = {**READ, "auditor": 403, "analyst": 403}
BULK_CONFIRM = {**READ, "auditor": 403, "analyst": 400, "integration_admin": 400, "superuser": 400}
# An exception item's actions (assign, comment, dismiss, resubmit, check): POST
# only, for those who may change items; readers are refused before the method.
ACT_ON_EXCEPTIONS = {**READ, "auditor": 403, "analyst": 405, "integration_admin": 405, "superuser": 405}
# Saving or deleting one's own queue view: anyone who may read the queue, POST only.
SAVE_OWN_VIEW = {**READ, "analyst": 405, "integration_admin": 405, "auditor": 405, "superuser": 405}

# The REST API (/api/v1/): a missing credential is a 401, not a login redirect; a
# reader asking a write-only action for GET gets 405 after the role check.
API_READ = {**READ, "anonymous": 401}
API_ACTION = {**API_READ, "analyst": 405, "integration_admin": 405, "auditor": 405, "superuser": 405}
API_QUERY_NEEDED = {**API_READ, "analyst": 400, "integration_admin": 400, "auditor": 400, "superuser": 400}
API_DOCS = READ
# Any other address under /api/v1/: a 404 in the API's error shape, whoever asks.
API_NOT_FOUND = dict.fromkeys(ROLES, 404)
# API tokens: Integration Admins only; adding answers the form's POST (GET goes back to the list).
MANAGE_TOKENS = {**CONFIGURE_CONNECTORS}
ADD_TOKEN = {**MANAGE_TOKENS, "integration_admin": 302, "superuser": 302}
REVOKE_TOKEN = {**MANAGE_TOKENS, "integration_admin": 405, "superuser": 405}

# Reconciliations and their rules: Integration Admins. Running and deciding: POST only.
CONFIGURE_RECONCILIATION = {**READ, "auditor": 403, "analyst": 403}
RUN_RECONCILIATION = {**READ, "auditor": 403, "analyst": 405, "integration_admin": 405, "superuser": 405}

# url name → (kind of page, whether it changes data)
EXPECTED: dict[str, tuple[dict[str, int], bool]] = {
    "login": (OPEN, False),
    "webhook": (WEBHOOK, False),
    "logout": (POST_ONLY_LOGOUT, False),
    "dashboard": (READ, False),
    "customer_list": (READ, False),
    "customer_detail": (READ, False),
    "customer_history": (READ, False),
    "customer_edit": (EDIT_MASTER_DATA, True),
    "customer_tax_edit": (EDIT_MASTER_DATA, True),
    "contact_add": (EDIT_MASTER_DATA, True),
    "contact_edit": (EDIT_MASTER_DATA, True),
    "contact_make_primary": (EDIT_MASTER_DATA, True),
    "contact_remove": (EDIT_MASTER_DATA, True),
    "contract_list": (READ, False),
    "contract_detail": (READ, False),
    "contract_history": (READ, False),
    "contract_flow": (READ, False),
    "flow": (READ, False),
    "sla_breach_list": (READ, False),
    "invoice_list": (READ, False),
    "invoice_detail": (READ, False),
    "invoice_history": (READ, False),
    "payment_list": (READ, False),
    "payment_detail": (READ, False),
    "payment_history": (READ, False),
    "product_list": (READ, False),
    "ownership_rule_list": (READ, False),
    "ownership_rule_add": (EDIT_OWNERSHIP, True),
    "ownership_rule_history": (READ, False),
    "ownership_rule_edit": (EDIT_OWNERSHIP, True),
    "ownership_rule_delete": (EDIT_OWNERSHIP, True),
    "tax_jurisdiction_list": (READ, False),
    "tax_jurisdiction_detail": (READ, False),
    "tax_jurisdiction_history": (READ, False),
    "tax_jurisdiction_add": (EDIT_OWNERSHIP, True),
    "tax_jurisdiction_edit": (EDIT_OWNERSHIP, True),
    "tax_component_add": (EDIT_OWNERSHIP, True),
    "tax_component_edit": (EDIT_OWNERSHIP, True),
    "connectors:list": (READ, False),
    "connectors:add": (CONFIGURE_CONNECTORS, True),
    "connectors:detail": (READ, False),
    "connectors:edit": (CONFIGURE_CONNECTORS, True),
    "connectors:delete": (CONFIGURE_CONNECTORS, True),
    "connectors:files:list": (READ, False),
    "connectors:files:detail": (READ, False),
    "connectors:files:mapping_list": (READ, False),
    "connectors:files:upload": (CONFIGURE_CONNECTORS, True),
    "connectors:files:mapping_add": (CONFIGURE_CONNECTORS, True),
    "connectors:files:mapping_edit": (CONFIGURE_CONNECTORS, True),
    "connectors:sync": (RUN_CONNECTORS, True),
    "connectors:test": (RUN_CONNECTORS, True),
    "connectors:run_detail": (READ, False),
    "connectors:run_replay": (RUN_CONNECTORS, True),
    "connectors:record_detail": (READ, False),
    "connectors:record_replay": (RUN_CONNECTORS, True),
    "connectors:erp_postings": (READ, False),
    "connectors:erp_mapping": (CONFIGURE_CONNECTORS, True),
    "exceptions_queue:list": (READ, False),
    "exceptions_queue:saved_view_add": (SAVE_OWN_VIEW, False),
    "exceptions_queue:saved_view_remove": (SAVE_OWN_VIEW, False),
    "exceptions_queue:bulk_confirm": (BULK_CONFIRM, True),
    "exceptions_queue:bulk_list": (READ, False),
    "exceptions_queue:bulk_detail": (READ, False),
    "exceptions_queue:rule_list": (READ, False),
    "exceptions_queue:rule_history": (READ, False),
    "exceptions_queue:rule_add": (CONFIGURE_ROUTING, True),
    "exceptions_queue:rule_edit": (CONFIGURE_ROUTING, True),
    "exceptions_queue:rule_delete": (CONFIGURE_ROUTING, True),
    "exceptions_queue:detail": (READ, False),
    "exceptions_queue:assign": (ACT_ON_EXCEPTIONS, True),
    "exceptions_queue:comment": (ACT_ON_EXCEPTIONS, True),
    "exceptions_queue:dismiss": (ACT_ON_EXCEPTIONS, True),
    "exceptions_queue:resubmit": (ACT_ON_EXCEPTIONS, True),
    "exceptions_queue:check": (ACT_ON_EXCEPTIONS, True),
    # Bank statements: everyone with a role reads; analysts and admins upload.
    "statements:list": (READ, False),
    "statements:detail": (READ, False),
    "statements:upload": (EDIT_MASTER_DATA, True),
    # Reconciliation: everyone with a role reads; Integration Admins configure; analysts
    # and admins run and decide suggestions (POST only, refused to readers first).
    "reconciliation:list": (READ, False),
    "reconciliation:detail": (READ, False),
    "reconciliation:run": (READ, False),
    "reconciliation:run_export": (READ, False),
    "reconciliation:add": (CONFIGURE_RECONCILIATION, True),
    "reconciliation:edit": (CONFIGURE_RECONCILIATION, True),
    "reconciliation:rule_add": (CONFIGURE_RECONCILIATION, True),
    "reconciliation:rule_edit": (CONFIGURE_RECONCILIATION, True),
    "reconciliation:rule_delete": (CONFIGURE_RECONCILIATION, True),
    "reconciliation:run_start": (RUN_RECONCILIATION, True),
    "reconciliation:decide": (RUN_RECONCILIATION, True),
    "reconciliation:statement_cash": (READ, False),
    "api_tokens": (MANAGE_TOKENS, False),
    "api_token_add": (ADD_TOKEN, True),
    "api_token_revoke": (REVOKE_TOKEN, True),
    "api:schema": (API_READ, False),
    "api:docs": (API_DOCS, False),
    "api:customer-list": (API_READ, False),
    "api:customer-detail": (API_READ, False),
    "api:contract-list": (API_READ, False),
    "api:contract-detail": (API_READ, False),
    "api:invoice-list": (API_READ, False),
    "api:invoice-detail": (API_READ, False),
    "api:invoice-lookup": (API_QUERY_NEEDED, False),
    "api:credit-note-list": (API_READ, False),
    "api:credit-note-detail": (API_READ, False),
    "api:payment-list": (API_READ, False),
    "api:payment-detail": (API_READ, False),
    "api:usage-list": (API_READ, True),
    "api:usage-detail": (API_READ, False),
    "api:event-list": (API_READ, False),
    "api:event-detail": (API_READ, False),
    "api:exception-list": (API_READ, False),
    "api:exception-detail": (API_READ, False),
    "api:exception-assign": (API_ACTION, True),
    "api:exception-comment": (API_ACTION, True),
    "api:exception-dismiss": (API_ACTION, True),
    "api:exception-check": (API_ACTION, True),
    "api:exception-resubmit": (API_ACTION, True),
    "api:exception-bulk-list": (API_READ, True),
    "api:exception-bulk-detail": (API_READ, False),
    "api:connector-list": (API_READ, False),
    "api:connector-detail": (API_READ, False),
    "api:connector-run": (API_ACTION, True),
    "api:sync-run-list": (API_READ, False),
    "api:sync-run-detail": (API_READ, False),
    "api:reconciliation-run-list": (API_READ, False),
    "api:reconciliation-run-detail": (API_READ, False),
    "api:reconciliation-line-list": (API_READ, False),
    "api:not-found": (API_NOT_FOUND, False),
}


def _walk(patterns, prefix="", namespace=None):
    """(qualified name, route, pattern) for every URL pattern, admin left out."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns or None)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), entry


def all_patterns() -> list[tuple[str, str, URLPattern]]:
    return list(_walk(get_resolver().url_patterns))


def test_it_has_an_expectation_for_every_url():
    patterns = all_patterns()
    unnamed = [route for name, route, _ in patterns if not name]
    assert not unnamed, f"Every URL needs a name so this walk can check it: {unnamed}"
    missing = sorted({name for name, _, _ in patterns} - set(EXPECTED))
    assert not missing, f"Add these URLs to EXPECTED in {__name__} with who may use them: {missing}"
    stale = sorted(set(EXPECTED) - {name for name, _, _ in patterns})
    assert not stale, f"EXPECTED lists URLs that no longer exist: {stale}"


@pytest.fixture
def objects(db):
    """One real object for every kind of path argument."""
    customer = f.CustomerFactory()
    contact = f.ContactFactory(customer=customer, is_primary=True)
    f.ContactFactory(customer=customer)
    contract = f.ContractFactory(customer=customer)
    invoice = f.InvoiceFactory(customer=customer, contract=contract)
    payment = f.PaymentFactory(customer=customer)
    rule = OwnershipRule.objects.create(object_type="customer", field="name", owner_system="salesforce")
    jurisdiction = TaxJurisdiction.objects.create(code="US-CA-92615", name="Irvine", country="US")
    rate = TaxRateComponent.objects.create(
        jurisdiction=jurisdiction, name="CA STATE TAX", type="state", rate=6, valid_from="2017-01-01"
    )
    connector = Connector.objects.create(
        name="walk-memory",
        kind="memory",
        legal_entity=customer.legal_entity,
        credentials={"api_key": "sk_test_WALKSECRET123"},
    )
    run = SyncRun.objects.create(connector=connector, trigger="manual", status="succeeded", read=1, created=1)
    record = InboundRecord.objects.create(
        connector=connector,
        object_type="customer",
        external_id="cus_walk",
        content_hash="0" * 64,
        payload={"id": "cus_walk", "name": "Walk Ltd", "currency": "USD"},
        run=run,
        last_run=run,
        outcome="created",
    )
    team = Group.objects.create(name="Walk team")
    routing_rule = RoutingRule.objects.create(
        name="Walk rule", position=10, team=team, codes=["TAX_MISMATCH"]
    )
    bulk_action = BulkAction.objects.create(action="dismiss", total=0, created_by=f.UserFactory())
    now = timezone.now()
    exception_item = ExceptionItem.objects.create(
        code="UNKNOWN_CUSTOMER",
        severity="medium",
        title="walk-memory: invoice in_walk: customer cus_nobody unknown",
        dedupe_key="UNKNOWN_CUSTOMER|walk|invoice|in_walk",
        step_key="memory.invoice",
        payload={"id": "in_walk", "customer": "cus_nobody"},
        error_details=[{"field": "customer_external_id", "path": "customer", "message": "Unknown"}],
        first_seen_at=now,
        last_seen_at=now,
    )
    return {
        "routing_rule": routing_rule,
        "bulk_action": bulk_action,
        "exception_item": exception_item,
        "customer": customer,
        "contact": contact,
        "contract": contract,
        "invoice": invoice,
        "payment": payment,
        "rule": rule,
        "jurisdiction": jurisdiction,
        "rate": rate,
        "connector": connector,
        "run": run,
        "record": record,
        **walk_objects(customer.legal_entity),
    }


# url name → path kwargs, built from `objects`.
KWARGS = {
    "exceptions_queue:bulk_detail": lambda o: {"pk": o["bulk_action"].pk},
    # POST only: a GET is answered before the view is looked up.
    "exceptions_queue:saved_view_remove": lambda o: {"pk": 1},
    "exceptions_queue:rule_edit": lambda o: {"pk": o["routing_rule"].pk},
    "exceptions_queue:rule_delete": lambda o: {"pk": o["routing_rule"].pk},
    "exceptions_queue:detail": lambda o: {"pk": o["exception_item"].pk},
    "exceptions_queue:assign": lambda o: {"pk": o["exception_item"].pk},
    "exceptions_queue:comment": lambda o: {"pk": o["exception_item"].pk},
    "exceptions_queue:dismiss": lambda o: {"pk": o["exception_item"].pk},
    "exceptions_queue:resubmit": lambda o: {"pk": o["exception_item"].pk},
    "exceptions_queue:check": lambda o: {"pk": o["exception_item"].pk},
    "connectors:files:detail": lambda o: {"pk": o["file_import"].pk},
    "statements:detail": lambda o: {"pk": walk_statement(o).pk},
    "reconciliation:detail": lambda o: {"pk": walk_reconciliation(o)["recon"].pk},
    "reconciliation:edit": lambda o: {"pk": walk_reconciliation(o)["recon"].pk},
    "reconciliation:run_start": lambda o: {"pk": walk_reconciliation(o)["recon"].pk},
    "reconciliation:rule_add": lambda o: {"pk": walk_reconciliation(o)["recon"].pk},
    "reconciliation:rule_edit": lambda o: {"pk": walk_reconciliation(o)["rule"].pk},
    "reconciliation:rule_delete": lambda o: {"pk": walk_reconciliation(o)["rule"].pk},
    "reconciliation:run": lambda o: {"pk": walk_reconciliation(o)["run"].pk},
    "reconciliation:run_export": lambda o: {"pk": walk_reconciliation(o)["run"].pk},
    "reconciliation:decide": lambda o: {"pk": walk_reconciliation(o)["run"].pk},
    "reconciliation:statement_cash": lambda o: {"pk": walk_statement(o).pk},
    "connectors:files:mapping_edit": lambda o: {"pk": o["column_mapping"].pk},
    "webhook": lambda o: {"name": "no-such-connector"},
    "customer_detail": lambda o: {"pk": o["customer"].pk},
    "customer_history": lambda o: {"pk": o["customer"].pk},
    "customer_edit": lambda o: {"pk": o["customer"].pk},
    "customer_tax_edit": lambda o: {"pk": o["customer"].pk},
    "contact_add": lambda o: {"customer_pk": o["customer"].pk},
    "contact_edit": lambda o: {"customer_pk": o["customer"].pk, "pk": o["contact"].pk},
    "contact_make_primary": lambda o: {"customer_pk": o["customer"].pk, "pk": _secondary(o).pk},
    "contact_remove": lambda o: {"customer_pk": o["customer"].pk, "pk": _secondary(o).pk},
    "contract_detail": lambda o: {"pk": o["contract"].pk},
    "contract_history": lambda o: {"pk": o["contract"].pk},
    "contract_flow": lambda o: {"pk": o["contract"].pk},
    "flow": lambda o: {"correlation_id": o["contract"].correlation_id},
    "invoice_detail": lambda o: {"pk": o["invoice"].pk},
    "invoice_history": lambda o: {"pk": o["invoice"].pk},
    "payment_detail": lambda o: {"pk": o["payment"].pk},
    "payment_history": lambda o: {"pk": o["payment"].pk},
    "ownership_rule_edit": lambda o: {"pk": o["rule"].pk},
    "ownership_rule_delete": lambda o: {"pk": o["rule"].pk},
    "tax_jurisdiction_detail": lambda o: {"pk": o["jurisdiction"].pk},
    "tax_jurisdiction_history": lambda o: {"pk": o["jurisdiction"].pk},
    "tax_jurisdiction_edit": lambda o: {"pk": o["jurisdiction"].pk},
    "tax_component_add": lambda o: {"pk": o["jurisdiction"].pk},
    "tax_component_edit": lambda o: {"pk": o["jurisdiction"].pk, "component_pk": o["rate"].pk},
    "connectors:detail": lambda o: {"pk": o["connector"].pk},
    "connectors:edit": lambda o: {"pk": o["connector"].pk},
    "connectors:delete": lambda o: {"pk": o["connector"].pk},
    "connectors:sync": lambda o: {"pk": o["connector"].pk},
    "connectors:test": lambda o: {"pk": o["connector"].pk},
    "connectors:run_detail": lambda o: {"pk": o["run"].pk},
    "connectors:run_replay": lambda o: {"pk": o["run"].pk},
    "connectors:record_detail": lambda o: {"pk": o["record"].pk},
    "connectors:record_replay": lambda o: {"pk": o["record"].pk},
    "connectors:erp_postings": lambda o: {"pk": o["connector"].pk},
    "connectors:erp_mapping": lambda o: {"pk": o["connector"].pk},
    # POST only: a GET is answered before the token is looked up.
    "api_token_revoke": lambda o: {"pk": 1},
    "api:customer-detail": lambda o: {"pk": o["customer"].pk},
    "api:contract-detail": lambda o: {"pk": o["contract"].pk},
    "api:invoice-detail": lambda o: {"pk": o["invoice"].pk},
    "api:credit-note-detail": lambda o: {"pk": _api_object(o, "credit_note").pk},
    "api:payment-detail": lambda o: {"pk": o["payment"].pk},
    "api:usage-detail": lambda o: {"pk": _api_object(o, "usage").pk},
    "api:event-detail": lambda o: {"pk": _api_object(o, "event").pk},
    "api:exception-detail": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-assign": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-comment": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-dismiss": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-check": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-resubmit": lambda o: {"pk": o["exception_item"].pk},
    "api:exception-bulk-detail": lambda o: {"pk": o["bulk_action"].pk},
    "api:connector-detail": lambda o: {"pk": o["connector"].pk},
    "api:connector-run": lambda o: {"pk": o["connector"].pk},
    "api:sync-run-detail": lambda o: {"pk": o["run"].pk},
    "api:reconciliation-run-detail": lambda o: {"pk": walk_reconciliation(o)["run"].pk},
    "api:not-found": lambda o: {"unknown": "no-such-thing/"},
}


def _api_object(objects, kind: str):
    """Objects only the API's detail URLs need, made once per walk."""
    if kind not in objects:
        from tests.revops.api_walk import walk_object

        objects[kind] = walk_object(objects, kind)
    return objects[kind]


def _secondary(objects) -> CustomerContact:
    return objects["customer"].contacts.get(is_primary=False)


def _url(name: str, pattern: URLPattern, objects) -> str:
    kwargs = KWARGS[name](objects) if name in KWARGS else {}
    expected_args = set(pattern.pattern.converters)
    assert set(kwargs) == expected_args, f"{name}: give KWARGS for path arguments {sorted(expected_args)}"
    return reverse(name, kwargs=kwargs)


def _snapshot() -> dict[str, int]:
    """Rows in every history table that an edit page could touch."""
    from revops import models as m

    counts = {
        model.__name__: model.history.model.objects.count()
        for model in (m.Customer, m.CustomerContact, m.OwnershipRule, m.TaxJurisdiction, m.TaxRateComponent)
    }
    counts["events"] = BusinessEvent.objects.count()
    counts["connector history"] = Connector.history.count()
    counts["connectors"] = Connector.objects.count()
    counts["runs"] = SyncRun.objects.count()
    counts["exception item history"] = ExceptionItem.history.count()
    counts["routing rule history"] = RoutingRule.history.count()
    counts["bulk actions"] = BulkAction.objects.count()
    return counts


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_every_url_as_expected_for_each_role(client, cast, objects, role):
    user = cast[role]
    if user is not None:
        client.force_login(user)
    failures = []
    for name, _route, pattern in all_patterns():
        expectations, _changes = EXPECTED[name]
        url = _url(name, pattern, objects)
        response = client.get(url)
        if response.status_code != expectations[role]:
            failures.append(f"GET {url} ({name}): {response.status_code}, expected {expectations[role]}")
        elif response.status_code == LOGIN and role == "anonymous":
            login = reverse(settings.LOGIN_URL)
            if not response["Location"].startswith(login):
                failures.append(f"GET {url}: redirects to {response['Location']}, not the login page")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["anonymous", "no_role", "auditor"])
def test_it_refuses_every_change_from_users_who_may_only_read(client, cast, objects, role):
    user = cast[role]
    if user is not None:
        client.force_login(user)
    before = _snapshot()
    failures = []
    for name, _route, pattern in all_patterns():
        expectations, changes = EXPECTED[name]
        if not changes:
            continue
        url = _url(name, pattern, objects)
        data = {
            "name": "Changed by someone who may not",
            "email": "intruder@example.com",
            "object_type": "customer",
            "field": "city",
            "owner_system": "intruder",
            "country": "US",
            "reason": "trying",
        }
        response = client.post(url, data)
        anonymous = 401 if url.startswith("/api/v1/") else LOGIN
        expected = anonymous if role == "anonymous" else 403
        if response.status_code != expected:
            failures.append(f"POST {url} ({name}): {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)
    assert _snapshot() == before
    objects["customer"].refresh_from_db()
    assert objects["customer"].name != "Changed by someone who may not"


def test_it_logs_out_on_post_and_sends_the_user_to_login(client, analyst):
    client.force_login(analyst)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("dashboard")).status_code == LOGIN


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("analyst", 302), ("superuser", 200)])
def test_it_lets_only_staff_into_django_admin(client, cast, role, status):
    if cast[role] is not None:
        client.force_login(cast[role])
    assert client.get("/admin/").status_code == status
