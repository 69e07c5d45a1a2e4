"""A billed usage contract for the late usage tests.

Contract K-USE (monthly, USD) has a metered API line (0.01 USD a call) and a
metered storage line (2.00 USD a GB), both from 2026-01-01. Invoice INV-APR,
issued 2026-04-01 for April, bills March's 1,000 API calls in arrears (10.00 +
10 % tax) with no storage usage, as a billing run would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from revops.actors import Actor
from revops.models import Contract, ContractLine, Customer, Invoice
from revops.services import billing, contracts
from tests import factories as f

SETUP = Actor.for_system("tests", "usage setup")
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))


@dataclass
class BilledContract:
    customer: Customer
    contract: Contract
    api: ContractLine
    storage: ContractLine
    invoice: Invoice


def billed_contract(
    *, legal_entity=None, customer_number: str = "C-USE", number: str = "K-USE"
) -> BilledContract:
    legal_entity = legal_entity or f.LegalEntityFactory()
    customer = f.CustomerFactory(number=customer_number, legal_entity=legal_entity, currency="USD")
    api = f.ProductFactory(sku="API-CALLS", name="API calls", unit_label="calls")
    storage = f.ProductFactory(sku="STORAGE", name="Storage", unit_label="GB")
    contract = contracts.contract_create(
        number=number,
        customer=customer,
        start_date=dt.date(2026, 1, 1),
        billing_frequency="monthly",
        currency="USD",
        lines=[
            contracts.LineSpec(api, Decimal(0), Decimal("0.01")),
            contracts.LineSpec(storage, Decimal(0), Decimal("2.00")),
        ],
        actor=SETUP,
        reason="setup",
    )
    contracts.contract_activate(contract=contract, actor=SETUP)
    api_line = contract.lines.get(product=api)
    storage_line = contract.lines.get(product=storage)
    invoice = billing.invoice_create(
        number="INV-APR",
        customer=customer,
        contract=contract,
        issue_date=APRIL[0],
        period_start=APRIL[0],
        period_end=APRIL[1],
        lines=[
            billing.InvoiceLineSpec(
                "API calls, usage in March 2026",
                1000,
                "0.01",
                tax_rate="10",
                tax_jurisdiction="US-TX",
                product=api,
                contract_line=api_line,
                period_start=MARCH[0],
                period_end=MARCH[1],
            )
        ],
        actor=SETUP,
    )
    return BilledContract(customer, contract, api_line, storage_line, invoice)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
