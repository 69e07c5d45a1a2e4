"""The demo's tax rate table: what the demo invoices' tax jurisdictions charge,
and the Avalara AvaTax fixture's Irvine address, so a synced invoice can be
checked against either.

- "CA": California's statewide base rate on the demo's US01 invoices, 7.25 %
  (6 % state, 0.25 % county, 1 % local);
- "US-CA-92615": Irvine, as AvaTax's own CreateTransaction example computes it,
  7.75 % over four jurisdictions (the base plus Orange County's 0.5 % district tax);
- "DE": German VAT on DE01's invoices, with its 2020 cut to 16 % as dated rates.
Dates are fixed, not relative to the demo's reference day, so the table is the
same on every load.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from revops.demo.context import Demo
from revops.models import TaxJurisdiction
from revops.services.tax import tax_component_add, tax_jurisdiction_create

REASON = "Demo data: tax rate table"
D = dt.date

# code → (name, country, region, legal entity code, [(tax, authority, type, rate, from, to)])
RATE_TABLE = {
    "CA": (
        "California statewide base rate",
        "US",
        "CA",
        "US01",
        [
            ("CA STATE TAX", "CALIFORNIA", "state", "6", D(2017, 1, 1), None),
            ("CA COUNTY TAX", "CALIFORNIA COUNTIES", "county", "0.25", D(2017, 1, 1), None),
            ("CA LOCAL TAX", "CALIFORNIA CITIES AND COUNTIES", "special", "1", D(2017, 1, 1), None),
        ],
    ),
    "US-CA-92615": (
        "Irvine, CA 92615 (Orange County)",
        "US",
        "CA",
        "US01",
        [
            ("CA STATE TAX", "CALIFORNIA", "state", "6", D(2017, 1, 1), None),
            ("CA COUNTY TAX", "ORANGE", "county", "0.25", D(2017, 1, 1), None),
            ("CA SPECIAL TAX", "ORANGE CO LOCAL TAX SL", "special", "1", D(2017, 1, 1), None),
            ("CA SPECIAL TAX", "ORANGE COUNTY DISTRICT TAX SP", "special", "0.5", D(2017, 1, 1), None),
        ],
    ),
    "DE": (
        "Germany (VAT, standard rate)",
        "DE",
        "",
        "DE01",
        [
            ("VAT", "BUNDESREPUBLIK DEUTSCHLAND", "country", "19", D(2007, 1, 1), D(2020, 6, 30)),
            ("VAT", "BUNDESREPUBLIK DEUTSCHLAND", "country", "16", D(2020, 7, 1), D(2020, 12, 31)),
            ("VAT", "BUNDESREPUBLIK DEUTSCHLAND", "country", "19", D(2021, 1, 1), None),
        ],
    ),
}


def build_tax_rates(demo: Demo) -> list[TaxJurisdiction]:
    """Create the demo jurisdictions and rates; a code that already exists is left as it is."""
    created = []
    for code, (name, country, region, entity_code, components) in RATE_TABLE.items():
        if TaxJurisdiction.objects.filter(code=code).exists():
            continue
        jurisdiction = tax_jurisdiction_create(
            code=code,
            name=name,
            country=country,
            region=region,
            legal_entity=demo.entities.get(entity_code),
            actor=demo.actor,
            reason=REASON,
        )
        for tax, authority, kind, rate, valid_from, valid_to in components:
            tax_component_add(
                jurisdiction=jurisdiction,
                name=tax,
                authority=authority,
                type=kind,
                rate=Decimal(rate),
                valid_from=valid_from,
                valid_to=valid_to,
                actor=demo.actor,
                reason=REASON,
            )
        created.append(jurisdiction)
    return created
