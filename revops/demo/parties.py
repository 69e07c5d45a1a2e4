"""Demo legal entities, customers and their billing contacts."""

from __future__ import annotations

from decimal import Decimal

from revops.demo import names
from revops.demo.context import CustomerProfile, Demo
from revops.demo.places import EU_PLACES, GERMAN_CITIES, GERMAN_STREETS, US_AREA_CODES, US_STATES, US_STREETS
from revops.models import Customer, Payment
from revops.services.parties import (
    contact_add,
    contact_make_primary,
    customer_create,
    customer_update,
    legal_entity_create,
)

GERMAN_VAT = Decimal("19")
ENTITIES = (
    # code, name, country, currency, tax registration
    ("US01", "Acme Cloud Inc.", "US", "USD", "84-2719305"),
    ("DE01", "Acme Cloud GmbH", "DE", "EUR", "DE318452967"),
)
TERMS_WEIGHTS = {15: 2, 30: 10, 45: 3, 60: 2}


def build_entities(demo: Demo) -> None:
    for code, name, country, currency, registration in ENTITIES:
        demo.entities[code] = legal_entity_create(
            code=code,
            name=name,
            country=country,
            functional_currency=currency,
            tax_registration_number=registration,
            actor=demo.actor,
            reason="Demo data: billing entity",
        )


def _fates(demo: Demo, count: int) -> list[str]:
    """Mostly active customers, a few on credit hold, churned, or brand new."""
    on_hold = max(1, round(count * 0.04))
    closed = max(1, round(count * 0.03))
    new = max(1, round(count * 0.05))
    fates = ["on_hold"] * on_hold + ["closed"] * closed + ["new"] * new
    fates += ["active"] * (count - len(fates))
    demo.rng.shuffle(fates)
    return fates


def _terms(demo: Demo) -> int:
    return demo.rng.choices(list(TERMS_WEIGHTS), weights=list(TERMS_WEIGHTS.values()))[0]


def _behaviour(demo: Demo, german: bool) -> dict:
    rng = demo.rng
    if german:
        method = rng.choices([Payment.Method.DIRECT_DEBIT, Payment.Method.BANK_TRANSFER], [4, 6])[0]
    else:
        method = rng.choices(
            [Payment.Method.CARD, Payment.Method.BANK_TRANSFER, Payment.Method.CHECK], [4, 4, 2]
        )[0]
    on_stripe = method in (Payment.Method.CARD, Payment.Method.DIRECT_DEBIT)
    gateway = {Payment.Method.CHECK: "lockbox"}.get(method, "stripe" if on_stripe else "bank")
    return {
        "size": rng.choices([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])[0],
        "method": method,
        "gateway": gateway,
        "on_stripe": on_stripe,
        "punctuality": rng.choices(["early", "on_time", "late"], [3, 5, 2])[0],
        "batch_payer": method == Payment.Method.BANK_TRANSFER and rng.random() < 0.2,
    }


def _create(demo: Demo, *, name: str, entity_code: str, **details) -> Customer:
    entity = demo.entities[entity_code]
    number = f"CUST-{10000 + demo.next_number('customer')}"
    return customer_create(
        number=number,
        name=name,
        legal_entity=entity,
        currency=entity.functional_currency,
        payment_terms_days=_terms(demo),
        actor=demo.actor,
        reason="Demo data: customer account",
        **details,
    )


def _us_customers(demo: Demo, count: int) -> None:
    rng = demo.rng
    exempt = max(1, round(count * 0.05))
    company = [
        f"{base} {rng.choice(names.US_COMPANY_SUFFIXES)}"
        for base in names.company_names(rng, names.US_COMPANY_STEMS, names.US_COMPANY_TRADES, count - exempt)
    ]
    public = [
        f"{stem} {kind}"
        for stem, kind in zip(
            rng.sample(names.US_COMPANY_STEMS, exempt),
            rng.choices(names.US_EXEMPT_KINDS, k=exempt),
            strict=True,
        )
    ]
    labelled = [(n, False) for n in company] + [(n, True) for n in public]
    rng.shuffle(labelled)
    fates = _fates(demo, count)
    for (name, is_exempt), fate in zip(labelled, fates, strict=True):
        state = rng.choices(US_STATES, weights=[s.weight for s in US_STATES])[0]
        city, zip_code = rng.choice(state.cities)
        details = {
            "address_line1": f"{rng.randint(10, 2999)} {rng.choice(US_STREETS)}",
            "address_line2": rng.choice(
                ["", "", f"Suite {rng.randint(1, 30) * 100}", f"Floor {rng.randint(2, 40)}"]
            ),
            "city": city,
            "region": state.code,
            "postal_code": zip_code,
            "tax_id": names.us_ein(rng),
            "tax_country": "US",
            "tax_region": state.code,
        }
        note = ""
        if is_exempt:
            certificate = f"EXM-{state.code}-{rng.randint(2021, 2025)}-{rng.randint(10000, 99999)}"
            details |= {"tax_exempt": True, "exemption_certificate": certificate}
            note = f"Exempt from sales tax, certificate {certificate}"
        customer = _create(demo, name=name, entity_code="US01", country="US", **details)
        demo.profiles.append(
            CustomerProfile(
                customer=customer,
                entity_code="US01",
                fate=fate,
                tax_rate=Decimal(0) if is_exempt else state.rate,
                tax_jurisdiction=state.code,
                tax_note=note,
                **_behaviour(demo, german=False),
            )
        )


def _de_customers(demo: Demo, count: int) -> None:
    rng = demo.rng
    company = names.company_names(rng, names.DE_COMPANY_STEMS, names.DE_COMPANY_TRADES, count)
    abroad = set(rng.sample(range(count), max(1, round(count * 0.1))))
    fates = _fates(demo, count)
    for index, (base, fate) in enumerate(zip(company, fates, strict=True)):
        if index in abroad:
            place = rng.choice(EU_PLACES)
            name = f"{base} {place.company_suffix}"
            details = {
                "address_line1": f"{place.street} {rng.randint(1, 120)}",
                "city": place.city,
                "postal_code": place.postal_code,
                "tax_id": names.vat_id(rng, place.country),
                "tax_country": place.country,
            }
            customer = _create(demo, name=name, entity_code="DE01", country=place.country, **details)
            rate, jurisdiction = Decimal(0), f"{place.country} reverse charge"
            note = "Reverse charge: VAT is accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
        else:
            name = f"{base} {rng.choice(names.DE_COMPANY_SUFFIXES)}"
            city = rng.choice(GERMAN_CITIES)
            details = {
                "address_line1": f"{rng.choice(GERMAN_STREETS)} {rng.randint(1, 180)}",
                "city": city.name,
                "region": city.state,
                "postal_code": rng.choice(city.postal_codes),
                "tax_id": names.vat_id(rng, "DE"),
                "tax_country": "DE",
            }
            customer = _create(demo, name=name, entity_code="DE01", country="DE", **details)
            rate, jurisdiction, note = GERMAN_VAT, "DE", ""
        demo.profiles.append(
            CustomerProfile(
                customer=customer,
                entity_code="DE01",
                fate=fate,
                tax_rate=rate,
                tax_jurisdiction=jurisdiction,
                tax_note=note,
                **_behaviour(demo, german=True),
            )
        )


def _phone(demo: Demo, customer: Customer, german: bool) -> str:
    """A number from the ranges set aside for fiction (555-01xx in the US)."""
    if not german:
        area = demo.rng.choice(US_AREA_CODES.get(customer.region, ("212",)))
        return f"+1 {area} 555 01{demo.rng.randint(0, 99):02d}"
    prefix = next((c.phone_prefix for c in GERMAN_CITIES if c.name == customer.city), "") or "+49 30 23125"
    return f"{prefix} {demo.rng.randint(100, 999)}"


def _contacts(demo: Demo, profile: CustomerProfile) -> None:
    rng = demo.rng
    customer = profile.customer
    german = profile.entity_code == "DE01"
    domain = names.company_domain(customer.name)
    roles = names.DE_CONTACT_ROLES if german else names.US_CONTACT_ROLES
    wanted = rng.choices([1, 2, 3], [4, 4, 2])[0]
    people = []
    while len(people) < wanted:
        full_name, local = names.person(rng, german)
        if all(local != other for _, other in people):
            people.append((full_name, local))
    added = []
    for position, (full_name, local) in enumerate(people):
        phone = _phone(demo, customer, german)
        added.append(
            contact_add(
                customer=customer,
                name=full_name,
                email=f"{local}@{domain}",
                phone=phone,
                role=roles[0] if position == 0 else rng.choice(roles[1:]),
                is_primary=position == 0,
                actor=demo.actor,
                reason="Demo data: billing contact",
            )
        )
    if len(added) > 1 and rng.random() < 0.15:
        contact_make_primary(
            contact=added[-1],
            actor=demo.actor,
            reason="Customer asked for invoices to go to a new billing contact",
        )


def _external_ids(demo: Demo, profile: CustomerProfile) -> None:
    if demo.rng.random() < 0.9:
        demo.link("salesforce", "customer", names.salesforce_id(demo.rng, "001"), profile.customer)
    if profile.on_stripe:
        demo.link("stripe", "customer", names.stripe_id(demo.rng, "cus"), profile.customer)


def build_customers(demo: Demo) -> None:
    total = demo.options.customers
    us_count = round(total * 0.6)
    _us_customers(demo, us_count)
    _de_customers(demo, total - us_count)
    for profile in demo.profiles:
        _contacts(demo, profile)
        _external_ids(demo, profile)


def build_account_changes(demo: Demo) -> None:
    """What happened to accounts after they were opened: credit holds, closures,
    renegotiated terms and moves, each a change with its reason in history."""
    rng = demo.rng
    for profile in demo.profiles:
        customer = profile.customer
        if profile.fate == "on_hold":
            customer_update(
                customer=customer,
                changes={"status": Customer.Status.ON_HOLD},
                actor=demo.actor,
                reason="Credit hold: invoices more than 60 days past due",
            )
        elif profile.fate == "closed":
            customer_update(
                customer=customer,
                changes={"status": Customer.Status.CLOSED},
                actor=demo.actor,
                reason="Account closed after the subscription was cancelled",
            )
        elif rng.random() < 0.05:
            terms = 45 if customer.payment_terms_days < 45 else 30
            customer_update(
                customer=customer,
                changes={"payment_terms_days": terms},
                actor=demo.actor,
                reason=f"Payment terms changed to net {terms} at the customer's renewal negotiation",
            )
        elif rng.random() < 0.03:
            customer_update(
                customer=customer,
                changes={
                    "address_line2": f"Suite {rng.randint(2, 30) * 100}"
                    if profile.entity_code == "US01"
                    else "3. OG"
                },
                actor=demo.actor,
                reason="The customer moved to another floor; new billing address from their AP team",
            )
