"""Which canonical model a side's records are rows of, so that a break links to
the record it concerns (the exception item's subject)."""

from __future__ import annotations

from django.db import models

from reconciliation.models import Kind, Side
from reconciliation.statements.models import BankEntry
from revops.models import Contract, ContractLine, Invoice, Payment


def side_model(kind: str, side: str) -> type[models.Model] | None:
    left, right = {
        Kind.INVOICES_ERP: (Invoice, None),
        Kind.PAYMENTS_INVOICES: (Payment, Invoice),
        Kind.CASH_APPLICATION: (BankEntry, Invoice),
        Kind.USAGE_BILLED: (ContractLine, ContractLine),
        Kind.DEALS_CONTRACTS: (None, Contract),
    }[kind]
    return left if side == Side.LEFT else right
