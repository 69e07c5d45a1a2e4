"""The demo trickle against the fakes on 127.0.0.1: ticks fill revops with
contracts, usage, invoices, payments, ERP postings, tax commits and the
business errors a new user should see, one correlation id per flow."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from connectors import posting
from connectors.avalara import commits
from connectors.avalara.fake_server import FakeAvaTax
from connectors.demo_flow import setup, trickle
from connectors.erp.fake_server import FakeErp, FakeErpServer
from connectors.hubspot.fake_server import FakeHubSpotServer
from connectors.models import Connector, ErpMapping, OutboundPosting
from exceptions_queue.models import ExceptionItem
from revops import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db
S = OutboundPosting.Status
SEED = 7


@pytest.fixture
def fakes(settings):
    settings.REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    hubspot = FakeHubSpotServer(0, token=setup.HUBSPOT_TOKEN, client_secret=setup.HUBSPOT_CLIENT_SECRET)
    hubspot.start()
    avatax = FakeAvaTax().start()
    erp = FakeErpServer(0, erp=FakeErp(seed=SEED), max_hang=5).start()
    yield {"hubspot": hubspot, "avatax": avatax, "erp": erp}
    hubspot.stop()
    avatax.stop()
    erp.stop()


@pytest.fixture
def demo(fakes):
    entity = f.LegalEntityFactory(code="US01")
    netsuite = Connector.objects.create(
        name="netsuite-local",
        kind="netsuite",
        legal_entity=entity,
        base_url=fakes["erp"].base_url,
        credentials={
            "account_id": "DEMO_SB1",
            "consumer_key": "k",
            "consumer_secret": "s",
            "token_id": "t",
            "token_secret": "u",
        },
        direction=Connector.Direction.PUSH,
    )
    ErpMapping.objects.create(
        connector=netsuite,
        subsidiary_id="1",
        ar_account_id="120",
        cash_account_id="499",
        tax_codes={"default": "9"},
        default_item_id="300",
    )
    # A contract that ended last year, as the demo's history holds.
    ended = f.ContractFactory(
        number="K-ENDED-1",
        customer=f.CustomerFactory(legal_entity=entity),
        status=m.Contract.Status.EXPIRED,
        start_date="2025-01-01",
        end_date="2025-12-31",
    )
    product = f.ProductFactory(sku="API-CALLS")
    m.ContractLine.objects.create(
        contract=ended,
        product=product,
        quantity=1,
        unit_price="0.01",
        effective_from="2025-01-01",
        effective_to="2026-01-01",
    )
    setup.demo_setup(
        hubspot_url=fakes["hubspot"].base_url, avatax_url=fakes["avatax"].base_url, seed=SEED, schedule=True
    )
    return entity


def _drain(limit: int = 40) -> None:
    """What the worker does with the postings and tax steps the ticks queued."""
    for _ in range(limit):
        due = list(
            OutboundPosting.objects.filter(status__in=(S.PENDING, S.UNCERTAIN)).select_related("connector")
        )
        if not due:
            return
        for step in due:
            (commits.commit_send if step.connector.kind == "avalara" else posting.posting_send)(step.pk)
    raise AssertionError("postings still pending after draining")


def _items(code: str) -> list[ExceptionItem]:
    return list(ExceptionItem.objects.filter(code=code))


def test_it_fills_revops_with_flows_and_the_expected_problems(demo, fakes):
    results = [trickle.trickle_tick(seed=SEED, tick=tick) for tick in range(20)]
    assert all(result.startswith(f"tick {n}") for n, result in enumerate(results)), results
    _drain()

    contracts = m.Contract.objects.filter(status="active", customer__legal_entity=demo)
    assert contracts.count() >= 10
    assert m.ContractAmendment.objects.exists()
    invoices = m.Invoice.objects.filter(number__startswith="TRK-")
    assert invoices.count() >= 8
    assert m.PaymentApplication.objects.filter(invoice__number__startswith="TRK-").count() >= 5
    assert m.UsageRecord.objects.filter(source="metering").count() >= 20
    # Each issued invoice was posted to the ERP and committed to the tax engine.
    erp_posted = OutboundPosting.objects.filter(
        connector__kind="netsuite", record_type="invoice", status=S.POSTED
    )
    assert erp_posted.count() == invoices.count() - 1  # the one NetSuite refused
    assert OutboundPosting.objects.filter(
        connector__kind="netsuite", record_type="customerPayment", status=S.POSTED
    ).exists()
    committed = OutboundPosting.objects.filter(
        connector__kind="avalara", record_type="SalesInvoice", status=S.POSTED
    )
    assert committed.count() == invoices.count()
    assert len(fakes["avatax"].documents) == invoices.count()

    # One flow, one correlation id: deal → contract → invoice → postings → payment.
    invoice = invoices.filter(contract__isnull=False, status="paid").first()
    assert invoice.correlation_id == invoice.contract.correlation_id
    assert set(
        OutboundPosting.objects.filter(object_id=invoice.pk, content_type__model="invoice").values_list(
            "correlation_id", flat=True
        )
    ) == {invoice.correlation_id}

    # The business errors of ticks 4, 9, 14 and 19.
    [mismatch] = _items("TAX_MISMATCH")
    assert "TRK-00004-1" in mismatch.message
    assert _items("UNKNOWN_CUSTOMER") and any("name" in i.message for i in _items("VALIDATION_FAILED"))
    [ended] = _items("INVALID_CONTRACT_STATE")
    assert "K-ENDED-1" in ended.message or ended.payload.get("contract") == "K-ENDED-1"
    assert not _items("LATE_USAGE") and not _items("DEAD_LETTER")
    [rejected] = _items("ERP_REJECTED")
    assert (
        "accounting period" in rejected.message
        and rejected.object_id == m.Invoice.objects.get(number="TRK-00019-1").pk
    )
    assert rejected.correlation_id == m.Invoice.objects.get(number="TRK-00019-1").correlation_id


def test_a_tick_runs_once_and_the_trickle_stops_at_its_cap(demo, fakes, settings):
    assert trickle.trickle_tick(seed=SEED, tick=0).startswith("tick 0")
    assert trickle.trickle_tick(seed=SEED, tick=0) == "tick 0 ran already"
    assert Schedule.objects.get(name=setup.SCHEDULE_NAME).kwargs == setup.schedule_kwargs(SEED, 1)
    assert trickle.tick_now().startswith("tick 1")
    assert Schedule.objects.get(name=setup.SCHEDULE_NAME).kwargs == setup.schedule_kwargs(SEED, 2)
    settings.REVOPS_DEMO_TRICKLE_MAX_TICKS = 2
    assert "stopped after 2 ticks" in trickle.tick_now()
    settings.REVOPS_DEMO_TRICKLE = False
    assert "off" in trickle.trickle_tick(seed=SEED, tick=2)
    assert Schedule.objects.get(name=setup.SCHEDULE_NAME).kwargs == setup.schedule_kwargs(SEED, 2)


def test_no_schedule_when_the_trickle_is_off(fakes, settings):
    settings.REVOPS_DEMO_TRICKLE = False
    f.LegalEntityFactory(code="US01")
    done = setup.demo_setup(
        hubspot_url=fakes["hubspot"].base_url, avatax_url=fakes["avatax"].base_url, seed=1, schedule=True
    )
    assert not Schedule.objects.filter(name=setup.SCHEDULE_NAME).exists()
    assert set(Connector.objects.values_list("name", flat=True)) == {
        "hubspot-local",
        "avatax-local",
        "metering-local",
        "billing-csv",
    }
    assert len(done) == 4


def test_the_command_sets_up_the_trickle_and_runs_its_next_tick_now(fakes):
    from io import StringIO

    from django.core.management import CommandError, call_command

    urls = ["--hubspot-url", fakes["hubspot"].base_url, "--avatax-url", fakes["avatax"].base_url]
    with pytest.raises(CommandError, match="run manage.py load_demo first"):
        call_command("demo_trickle", *urls, stdout=StringIO())
    f.LegalEntityFactory(code="US01")
    out = StringIO()
    call_command("demo_trickle", *urls, "--seed", "5", "--now", stdout=out)
    assert "schedule 'demo trickle' every minute" in out.getvalue()
    assert "tick 0: deal" in out.getvalue()
    assert Schedule.objects.get(name=setup.SCHEDULE_NAME).kwargs == setup.schedule_kwargs(5, 1)
    assert m.Contract.objects.filter(status="active").count() == 1


def test_a_tick_with_a_fake_down_is_lost_and_the_next_one_runs(demo, fakes):
    fakes["hubspot"].stop()
    result = trickle.trickle_tick(seed=SEED, tick=0)
    assert result.startswith("tick 0 stopped: The demo's fake at")
    assert Schedule.objects.get(name=setup.SCHEDULE_NAME).kwargs == setup.schedule_kwargs(SEED, 1)
