from revops.models.api import ApiToken, IdempotencyRecord
from revops.models.billing import CreditNote, CreditNoteLine, Invoice, InvoiceLine, TaxMode
from revops.models.catalog import Price, Product
from revops.models.contracts import Contract, ContractAmendment, ContractLine, UsageRecord
from revops.models.integration import (
    ALL_FIELDS,
    OBJECT_TYPES,
    BusinessEvent,
    ExternalRef,
    OwnershipRefusal,
    OwnershipRule,
)
from revops.models.parties import Customer, CustomerContact, LegalEntity
from revops.models.payments import Payment, PaymentApplication
from revops.models.tax import TaxJurisdiction, TaxRateComponent

__all__ = [
    "ALL_FIELDS",
    "OBJECT_TYPES",
    "ApiToken",
    "BusinessEvent",
    "Contract",
    "ContractAmendment",
    "ContractLine",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "CustomerContact",
    "ExternalRef",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceLine",
    "LegalEntity",
    "OwnershipRefusal",
    "OwnershipRule",
    "Payment",
    "PaymentApplication",
    "Price",
    "Product",
    "TaxJurisdiction",
    "TaxMode",
    "TaxRateComponent",
    "UsageRecord",
]
