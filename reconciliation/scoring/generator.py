"""Realistic bank credits against open invoices, with the truth of which
invoices each credit pays.

What payers and banks do, in the proportions drawn below: pay one invoice
exactly and name it; deduct a bank fee; round to the cent differently; pay part
or a bit more; mistype the invoice number, reformat it or leave it out; pay
several invoices in one transfer (naming all, some or none); send money that
pays no invoice (refunds, interest); and banks shift value dates that fall on
a weekend to the Monday. The same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

CENT = Decimal("0.01")
START = dt.date(2026, 1, 5)
FIRST = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Vandelay",
    "Dunder",
    "Pied",
    "Massive",
    "Oscorp",
    "Gringotts",
    "Nakatomi",
    "Virtucon",
    "Zorg",
]
SUFFIX = ["GmbH", "Ltd", "Inc", "SARL", "BV", "AG", "LLC", "Oy"]


@dataclass
class GenInvoice:
    key: str
    number: str
    customer: str
    customer_name: str
    due_date: dt.date
    amount: Decimal
    currency: str


@dataclass
class GenEntry:
    key: str
    structured_reference: str
    remittance: str
    counterparty: str
    value_date: dt.date
    amount: Decimal
    currency: str
    scenario: str
    pays: list[str] = field(default_factory=list)  # invoice keys: the truth


@dataclass
class Dataset:
    invoices: list[GenInvoice]
    entries: list[GenEntry]
    customers: dict[str, str]  # number → name

    @property
    def truth(self) -> set[tuple[str, str]]:
        return {(entry.key, invoice) for entry in self.entries for invoice in entry.pays}


def _weekday(day: dt.date) -> dt.date:
    """A value date on a Saturday or Sunday is booked on the Monday."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _typo(rng: random.Random, number: str) -> str:
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    i = rng.choice(digits)
    if rng.random() < 0.5 and i + 1 < len(number) and number[i + 1].isdigit() and number[i] != number[i + 1]:
        return number[:i] + number[i + 1] + number[i] + number[i + 2 :]  # transposed
    return number[:i] + str((int(number[i]) + rng.randint(1, 9)) % 10) + number[i + 1 :]


def generate(*, seed: int = 7, invoices: int = 4_000, customers: int = 400) -> Dataset:
    rng = random.Random(seed)
    names = {}
    for n in range(1, customers + 1):
        names[f"C{n:05d}"] = f"{rng.choice(FIRST)} {rng.choice(FIRST)} {n} {rng.choice(SUFFIX)}"
    numbers = list(names)
    made: list[GenInvoice] = []
    for n in range(1, invoices + 1):
        customer = rng.choice(numbers)
        # Subscriptions bill the same amount again and again: amounts repeat per customer.
        amount = (
            Decimal(rng.choice([49, 99, 249, 499, 1200, 2500]))
            if rng.random() < 0.35
            else (Decimal(rng.uniform(40, 25_000)).quantize(CENT))
        )
        made.append(
            GenInvoice(
                key=f"inv{n}",
                number=f"INV-{n:06d}",
                customer=customer,
                customer_name=names[customer],
                due_date=START + dt.timedelta(days=rng.randint(0, 90)),
                amount=amount,
                currency="EUR" if rng.random() < 0.8 else "USD",
            )
        )
    entries: list[GenEntry] = []
    unpaid = [inv for inv in made if rng.random() < 0.85]
    rng.shuffle(unpaid)
    by_customer: dict[tuple[str, str], list[GenInvoice]] = {}
    for inv in unpaid:
        by_customer.setdefault((inv.customer, inv.currency), []).append(inv)
    used: set[str] = set()
    for inv in unpaid:
        if inv.key in used:
            continue
        group = [inv]
        siblings = [
            o for o in by_customer[(inv.customer, inv.currency)] if o.key not in used and o is not inv
        ]
        if siblings and rng.random() < 0.10:
            group += rng.sample(siblings, min(len(siblings), rng.randint(1, 3)))
        used.update(o.key for o in group)
        entries.append(_pay(rng, len(entries) + 1, group))
    for _ in range(len(made) // 25):  # credits that pay no invoice
        customer = rng.choice(numbers)
        entries.append(
            GenEntry(
                key=f"bank{len(entries) + 1}",
                structured_reference="",
                remittance=rng.choice(["REFUND", "INTEREST Q1", "RETURNED DIRECT DEBIT", "TRANSFER"]),
                counterparty=rng.choice([names[customer], "BANK INTEREST", "TAX OFFICE"]),
                value_date=_weekday(START + dt.timedelta(days=rng.randint(0, 100))),
                amount=Decimal(rng.uniform(5, 3_000)).quantize(CENT),
                currency="EUR",
                scenario="no invoice",
            )
        )
    rng.shuffle(entries)
    return Dataset(made, entries, names)


SCENARIOS = [
    ("exact", 0.52),
    ("bank fee", 0.08),
    ("rounding", 0.04),
    ("partial", 0.05),
    ("over", 0.03),
    ("typo", 0.08),
    ("missing reference", 0.10),
    ("reformatted", 0.10),
]


def _pay(rng: random.Random, n: int, group: list[GenInvoice]) -> GenEntry:
    first = group[0]
    total = sum((inv.amount for inv in group), Decimal(0))
    scenario = rng.choices([s for s, _ in SCENARIOS], weights=[w for _, w in SCENARIOS])[0]
    if len(group) > 1:
        scenario = rng.choice(
            ["several, all named", "several, all named", "several, some named", "several, none named"]
        )
    amount, named = total, [inv.number for inv in group]
    if scenario == "bank fee":
        amount = total - Decimal(rng.choice(["0.50", "2.50", "7.50", "15.00", "25.00"]))
    elif scenario == "rounding":
        amount = total + rng.choice([CENT, -CENT, 2 * CENT])
    elif scenario == "partial":
        amount = (total * Decimal(rng.uniform(0.3, 0.7))).quantize(CENT)
    elif scenario == "over":
        amount = (total * Decimal(rng.uniform(1.01, 1.10))).quantize(CENT)
    elif scenario == "typo":
        named = [_typo(rng, first.number)]
    elif scenario in ("missing reference", "several, none named"):
        named = []
    elif scenario == "reformatted":
        named = [
            rng.choice([first.number.replace("-", " "), first.number.lower(), first.number.replace("-", "")])
        ]
    elif scenario == "several, some named":
        named = named[: max(1, len(named) - 1)]
    structured = named[0] if len(named) == 1 and rng.random() < 0.5 else ""
    remittance = (
        ""
        if structured
        else " ".join(
            [rng.choice(["Payment", "Inv", "Rechnung", "Facture", ""])]
            + named
            + [rng.choice(["", "thanks", "ref 7781"])]
        ).strip()
    )
    name = first.customer_name
    if rng.random() < 0.15:
        name = name.upper()  # banks shout: still the same payer
    elif rng.random() < 0.05:
        name = name.rsplit(" ", 1)[0]  # the legal form left out: not recognised
    paid_on = first.due_date + dt.timedelta(days=round(rng.gauss(0, 3)))
    return GenEntry(
        key=f"bank{n}",
        structured_reference=structured,
        remittance=remittance,
        counterparty=name,
        value_date=_weekday(paid_on),
        amount=amount,
        currency=first.currency,
        scenario=scenario,
        pays=[inv.key for inv in group],
    )
