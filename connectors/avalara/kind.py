"""The Avalara AvaTax connector kind: a tax engine, not a data source.

It has no sync streams. The tax check (`connectors.tax_check`) asks it what tax
an incoming invoice should carry; it answers by creating an uncommitted
SalesOrder through CreateTransaction and reading the tax AvaTax computed per
line and jurisdiction. Issued invoices are also reported to it (committed,
adjusted by credit notes, voided) by `connectors.avalara.commits`. Test
connection calls the ping endpoint.
"""

from __future__ import annotations

from typing import Any

from connectors.avalara.client import AvaTaxClient
from connectors.avalara.mapping import address_of, expected_lines, transaction_model
from connectors.base import HttpKind, Page, RawRecord, register_kind
from connectors.records import InvoiceRecord
from connectors.tax_check import ExpectedLine


@register_kind
class AvalaraKind(HttpKind):
    key = "avalara"
    label = "Avalara AvaTax (tax engine)"
    streams = ()
    credential_fields = {
        "account_id": "Account id",
        "license_key": "License key",
        "company_code": "Company code (blank: DEFAULT)",
    }
    default_base_url = "https://rest.avatax.com"

    def make_client(self, base_url: str, credentials: dict[str, Any], http_client) -> AvaTaxClient:
        return AvaTaxClient(
            base_url,
            str(credentials.get("account_id", "")),
            str(credentials.get("license_key", "")),
            http_client=http_client,
        )

    def fetch(self, stream: str, cursor: dict[str, Any] | None, *, full: bool) -> Page:
        return Page([], None, done=True)  # a tax engine has nothing to sync

    def map(self, raw: RawRecord):
        return None

    # -- the tax check -------------------------------------------------------------------------

    def expected_tax(self, rec: InvoiceRecord, customer) -> dict[int, ExpectedLine] | None:
        """{line number: expected tax} for `rec`, or None when the customer's
        address is too incomplete for AvaTax to place the sale."""
        address = address_of(
            line1=customer.address_line1,
            city=customer.city,
            region=customer.region,
            postal_code=customer.postal_code,
            country=customer.country,
        )
        if address is None:
            return None
        model = transaction_model(
            rec,
            customer_code=customer.number,
            address=address,
            company_code=str(self.credentials().get("company_code", "") or ""),
            exemption_no=customer.exemption_certificate if customer.tax_exempt else "",
        )
        return expected_lines(self.client().create_transaction(model), rec.currency)
